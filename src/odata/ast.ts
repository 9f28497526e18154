/** The parsed form of OData expressions and query options (Dataverse dialect). */

export type LiteralType = 'string' | 'number' | 'guid' | 'date' | 'datetime' | 'boolean' | 'null';

export interface Literal {
  kind: 'literal';
  type: LiteralType;
  /** decoded value: strings unescaped, numbers parsed, GUIDs lower-cased, dates as written */
  value: string | number | boolean | null;
  pos: number;
}

export interface ListLiteral {
  kind: 'list';
  items: Literal[];
  pos: number;
}

export interface PathExpr {
  kind: 'path';
  /** `primarycontactid/fullname` → ['primarycontactid', 'fullname']; inside a lambda the first segment may be its variable */
  segments: string[];
  pos: number;
}

export interface AliasExpr {
  kind: 'alias';
  name: string;
  pos: number;
}

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type StringFunction = 'contains' | 'startswith' | 'endswith';

export type Expr =
  | Literal
  | ListLiteral
  | PathExpr
  | AliasExpr
  | { kind: 'and' | 'or'; operands: Expr[]; pos: number }
  | { kind: 'not'; operand: Expr; pos: number }
  | { kind: 'compare'; op: CompareOp; left: Expr; right: Expr; pos: number }
  | { kind: 'call'; name: StringFunction; args: Expr[]; pos: number }
  /** Microsoft.Dynamics.CRM.<name>(Param=value, …): name is stored without the namespace */
  | { kind: 'function'; name: string; params: Record<string, Expr>; pos: number }
  | { kind: 'lambda'; op: 'any' | 'all'; path: string[]; variable?: string; body?: Expr; pos: number };

export type AndOr = Extract<Expr, { kind: 'and' | 'or' }>;
export type Compare = Extract<Expr, { kind: 'compare' }>;
export type FunctionCall = Extract<Expr, { kind: 'function' }>;
export type Lambda = Extract<Expr, { kind: 'lambda' }>;

export interface OrderByItem {
  path: string[];
  descending: boolean;
  pos: number;
}

export interface ExpandItem {
  /** navigation property name */
  property: string;
  ref: boolean;
  select?: string[];
  filter?: Expr;
  orderBy?: OrderByItem[];
  top?: number;
  expand?: ExpandItem[];
  pos: number;
}

export type AggregateMethod = 'sum' | 'average' | 'min' | 'max' | 'countdistinct';

export interface AggregateItem {
  /** null for `$count as alias` */
  path: string[] | null;
  method: AggregateMethod | 'count';
  alias: string;
  pos: number;
}

export type ApplyStep =
  | { kind: 'filter'; expr: Expr; pos: number }
  | { kind: 'groupby'; paths: string[][]; aggregate?: AggregateItem[]; pos: number }
  | { kind: 'aggregate'; items: AggregateItem[]; pos: number };

export const NAMESPACE = 'Microsoft.Dynamics.CRM.';
