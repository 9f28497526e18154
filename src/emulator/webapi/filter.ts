import type { Compare, Expr, FunctionCall, Literal } from '../../odata/ast.js';
import { parseLiteral } from '../../odata/parser.js';
import { isLookup, type Schema } from '../schema/index.js';
import { type AttributeDef, type EntityDef, PRINCIPAL } from '../schema/types.js';
import { columnReader } from '../store/column-reader.js';
import { isLookupRef, type Row, type Value } from '../store/store.js';
import { badRequest, DataverseError, unknownProperty } from './errors.js';
import {
  type Family,
  FLIPPED,
  familyOf,
  foldText,
  type Getter,
  GUID_TESTS,
  ISO_DATE,
  likeToRegExp,
  literalEdm,
  NUMBER_COLUMN_TESTS,
  NUMBER_TESTS,
  normalise,
  type Predicate,
  TEXT_TESTS,
} from './filter-values.js';
import { queryFunctionGetter } from './query-functions.js';
import { edmType } from './values.js';

export { FLIPPED };

/** A resolved operand: how to read it from a row, and what kind of value it is. */
export interface Operand {
  get: Getter;
  family: Family;
  edm: string;
  attr?: AttributeDef;
  isLiteral: boolean;
  /** set when the operand is a plain (non-lookup) column of the row being filtered */
  column?: string;
}

interface Scope {
  variable: string;
  entity: EntityDef;
}

/** Shared by every top-level evaluation: lambdas copy before they add a variable (see lambda()). */
const NO_VARS: never[] = [];

export class FilterCompiler {
  constructor(
    private readonly schema: Schema,
    private readonly aliases: ReadonlyMap<string, string>,
  ) {}

  compile(expr: Expr, entity: EntityDef): Predicate {
    const p = this.bool(expr, entity, [], false);
    return (row, env, vars = NO_VARS) => p(row, env, vars) === true;
  }

  private bool(e: Expr, entity: EntityDef, scopes: Scope[], underNot: boolean): Getter {
    switch (e.kind) {
      case 'and': {
        const parts = e.operands.map((o) => this.bool(o, entity, scopes, underNot));
        if (parts.length === 2) {
          const [a, b] = parts as [Getter, Getter];
          return (row, env, vars) => a(row, env, vars) === true && b(row, env, vars) === true;
        }
        if (parts.length === 3) {
          const [a, b, c] = parts as [Getter, Getter, Getter];
          return (row, env, vars) =>
            a(row, env, vars) === true && b(row, env, vars) === true && c(row, env, vars) === true;
        }
        return (row, env, vars) => {
          for (let i = 0; i < parts.length; i++) if (parts[i]!(row, env, vars) !== true) return false;
          return true;
        };
      }
      case 'or': {
        const parts = e.operands.map((o) => this.bool(o, entity, scopes, underNot));
        return (row, env, vars) => {
          for (let i = 0; i < parts.length; i++) if (parts[i]!(row, env, vars) === true) return true;
          return false;
        };
      }
      case 'not': {
        const inner = this.bool(e.operand, entity, scopes, true);
        return (row, env, vars) => inner(row, env, vars) !== true;
      }
      case 'compare':
        return this.compare(e, entity, scopes);
      case 'call':
        return this.stringCall(e, entity, scopes);
      case 'function':
        if (underNot) throw badRequest('Not operator along with the Custom Named Condition operators is not allowed');
        return this.queryFunction(e, entity, scopes);
      case 'lambda':
        return this.lambda(e, entity, scopes, underNot);
      case 'literal':
        if (e.type === 'boolean') return () => e.value as boolean;
        throw badRequest(`A boolean expression was expected at position ${e.pos}.`);
      case 'path': {
        const op = this.operand(e, entity, scopes);
        if (op.family !== 'boolean') throw badRequest(`A boolean expression was expected at position ${e.pos}.`);
        return op.get;
      }
      default:
        throw badRequest(`A boolean expression was expected at position ${e.pos}.`);
    }
  }

  /** Resolves a property path (with lookup navigation) to a getter and its type. */
  private path(segments: string[], entity: EntityDef, scopes: Scope[]): Operand {
    let current = entity;
    let start = 0;
    let base: Getter = (row) => row as unknown as Value;
    const scope = [...scopes].reverse().find((s) => s.variable === segments[0]);
    if (scope) {
      const index = scopes.lastIndexOf(scope);
      current = scope.entity;
      start = 1;
      base = (_row, _env, vars) => vars[index] as unknown as Value;
      if (segments.length === 1) throw badRequest(`The lambda variable '${scope.variable}' needs a property.`);
    }
    const hops: { attribute: string; target: string }[] = [];
    for (let i = start; i < segments.length - 1; i++) {
      const seg = segments[i]!;
      const nav = current.manyToOne.find((m) => m.navigationProperty === seg);
      if (!nav) {
        if (current.oneToMany.some((m) => m.navigationProperty === seg))
          throw badRequest(
            `The parent value for a property access of a property '${segments[i + 1]}' is not a single value. Property access can only be applied to a single value.`,
          );
        throw unknownProperty(seg, current.logicalName);
      }
      // through the owner (type principal) only its id can be read: its name is the owning user's or team's
      if (nav.target === PRINCIPAL) throw unknownProperty(segments[i + 1]!, 'principal');
      hops.push({ attribute: nav.attribute, target: nav.target });
      current = this.schema.entity(nav.target)!;
    }
    const last = segments[segments.length - 1]!;
    const lookup = this.schema.lookupFromValueName(current, last);
    const attr = lookup ?? this.schema.attribute(current, last);
    if (!attr || (isLookup(attr) && !lookup)) {
      if (
        current.manyToOne.some((m) => m.navigationProperty === last) ||
        current.oneToMany.some((m) => m.navigationProperty === last)
      )
        throw badRequest(
          `The navigation property '${last}' cannot be compared; compare one of its properties, such as '${last}/name'.`,
        );
      throw unknownProperty(last, current.logicalName);
    }
    const edm = lookup ? 'Edm.Guid' : edmType(attr);
    const name = attr.logicalName;
    // the common case, a column of the row itself, without the hops and lambda scopes
    const read = columnReader(name);
    const direct: Getter = (row) => {
      const v = read(row);
      return isLookupRef(v) ? v.id : v;
    };
    const get: Getter = (row, env, vars) => {
      let r: Row | undefined = base(row, env, vars) as unknown as Row;
      for (const h of hops) {
        if (!r) return undefined;
        r = env.related(r[h.attribute], h.target);
      }
      if (!r) return undefined;
      const v = r[name];
      return isLookupRef(v) ? v.id : v;
    };
    const plain = !hops.length && !scope;
    return {
      get: plain ? direct : get,
      family: familyOf(edm),
      edm,
      attr,
      isLiteral: false,
      ...(plain && !lookup ? { column: name } : {}),
    };
  }

  private literal(l: Literal): Operand {
    const edm = literalEdm(l);
    const value = l.value;
    return { get: () => value, family: edm === 'null' ? 'null' : familyOf(edm), edm, isLiteral: true };
  }

  private operand(e: Expr, entity: EntityDef, scopes: Scope[]): Operand {
    if (e.kind === 'literal') return this.literal(e);
    if (e.kind === 'alias') return this.literal(this.aliasLiteral(e.name, e.pos));
    if (e.kind === 'path') return this.path(e.segments, entity, scopes);
    throw badRequest(`A property or a literal was expected at position ${e.pos}.`);
  }

  private aliasLiteral(name: string, _pos: number): Literal {
    const text = this.aliases.get(`@${name}`);
    // COMPOSE: "An alias with no value is treated as null"
    if (text === undefined) return { kind: 'literal', type: 'null', value: null, pos: _pos };
    const parsed = parseLiteral(text);
    if (parsed.kind !== 'literal') throw badRequest(`The value of parameter alias '@${name}' must be a literal.`);
    return parsed;
  }

  private compare(e: Compare, entity: EntityDef, scopes: Scope[]): Getter {
    const left = this.operand(e.left, entity, scopes);
    const right = this.operand(e.right, entity, scopes);
    // GUID-valued columns accept GUID literals only: a quoted id is the classic mistake, and Dataverse refuses it.
    const compatible = left.family === 'null' || right.family === 'null' || left.family === right.family;
    if (!compatible) {
      const kind = {
        eq: 'Equal',
        ne: 'NotEqual',
        gt: 'GreaterThan',
        ge: 'GreaterThanOrEqual',
        lt: 'LessThan',
        le: 'LessThanOrEqual',
      }[e.op];
      throw badRequest(
        `A binary operator with incompatible types was detected. Found operand types '${left.edm}' and '${right.edm}' for operator kind '${kind}'.`,
      );
    }
    const family = left.family === 'null' ? right.family : left.family;
    const lg = left.get;
    const rg = right.get;
    const op = e.op;
    // a literal side is the same for every row: normalise it once, and compare `value op literal`
    if (right.isLiteral || left.isLiteral) {
      const literalLeft = left.isLiteral;
      const o = literalLeft ? FLIPPED[op] : op;
      const literal = (literalLeft ? lg : rg)(undefined as never, undefined as never, []);
      const k = normalise(literal, family);
      const col = literalLeft ? rg : lg;
      const column = (literalLeft ? right : left).column;
      // the hot case of a large filter, a number column against a number: read and compare in one step
      if (column !== undefined && family === 'number' && (typeof k === 'number' || k === null))
        return NUMBER_COLUMN_TESTS[o](columnReader(column), k);
      if (family === 'date' && typeof literal === 'string' && ISO_DATE.test(literal)) {
        // a date-only value and a date literal order as text ('2026-01-31' < '2026-02-01'), so most rows
        // compare without parsing; anything else (a time of day, an offset) goes through the epoch
        const asText = TEXT_TESTS[o](literal);
        const asEpoch = NUMBER_TESTS[o](k);
        return (row, env, vars) => {
          const raw = col(row, env, vars);
          return typeof raw === 'string' && raw.length === 10 ? asText(raw) : asEpoch(normalise(raw, family));
        };
      }
      if (family === 'guid' && typeof literal === 'string') {
        // GUIDs order the SQL Server way; compare them where they are instead of building keys per row
        const test = GUID_TESTS[o](literal);
        return (row, env, vars) => test(col(row, env, vars));
      }
      const test = (typeof k === 'string' ? TEXT_TESTS : NUMBER_TESTS)[o](k);
      return (row, env, vars) => test(normalise(col(row, env, vars), family));
    }
    return (row, env, vars) => {
      const a = normalise(lg(row, env, vars), family);
      const b = normalise(rg(row, env, vars), family);
      if (op === 'eq') return a === b;
      if (op === 'ne') return a !== b;
      if (a === null || b === null) return false;
      if (op === 'gt') return a > b;
      if (op === 'ge') return a >= b;
      if (op === 'lt') return a < b;
      return a <= b;
    };
  }

  private stringCall(e: Extract<Expr, { kind: 'call' }>, entity: EntityDef, scopes: Scope[]): Getter {
    const [target, pattern] = e.args as [Expr, Expr];
    const op = this.operand(target, entity, scopes);
    if (op.family !== 'string')
      throw badRequest(`The function '${e.name}' needs a text column as its first argument; '${op.edm}' was given.`);
    const lit = pattern.kind === 'alias' ? this.aliasLiteral(pattern.name, pattern.pos) : pattern;
    if (lit.kind !== 'literal' || lit.type !== 'string')
      throw badRequest(`The function '${e.name}' needs a text literal as its second argument.`);
    // both sides as the collation compares them (foldText: accents too)
    const value = foldText(String(lit.value));
    const like = e.name === 'contains' ? `%${value}%` : e.name === 'startswith' ? `${value}%` : `%${value}`;
    const re = likeToRegExp(like);
    const get = op.get;
    return (row, env, vars) => {
      const v = get(row, env, vars);
      return typeof v === 'string' && re.test(foldText(v));
    };
  }

  private lambda(e: Extract<Expr, { kind: 'lambda' }>, entity: EntityDef, scopes: Scope[], underNot: boolean): Getter {
    let owner = entity;
    let baseIndex = -1;
    let segments = e.path;
    const scope = [...scopes].reverse().find((s) => s.variable === segments[0]);
    if (scope) {
      baseIndex = scopes.lastIndexOf(scope);
      owner = scope.entity;
      segments = segments.slice(1);
    }
    if (segments.length !== 1)
      // FILTER: lambdas are not supported on a collection nested under a lookup
      throw badRequest(
        `Lambda operators are only supported on collection-valued navigation properties of the table itself, not on '${e.path.join('/')}'.`,
      );
    const nav = owner.oneToMany.find((m) => m.navigationProperty === segments[0]);
    if (!nav) {
      if (owner.manyToOne.some((m) => m.navigationProperty === segments[0]))
        throw badRequest(`'${segments[0]}' is a single-valued navigation property; any() and all() need a collection.`);
      throw unknownProperty(segments[0]!, owner.logicalName);
    }
    const child = this.schema.entity(nav.referencingEntity)!;
    const idAttr = owner.primaryIdAttribute;
    const body =
      e.variable && e.body
        ? this.bool(e.body, entity, [...scopes, { variable: e.variable, entity: child }], underNot)
        : null;
    const depth = scopes.length;
    const isAll = e.op === 'all';
    return (row, env, vars) => {
      const parent = baseIndex >= 0 ? vars[baseIndex]! : row;
      const kids = env.listOf(nav, child, String(parent[idAttr]));
      if (!body) return kids.length > 0;
      const test = (k: Row) => {
        const v = vars.slice(0, depth);
        v[depth] = k;
        return body(row, env, v) === true;
      };
      return isAll ? kids.every(test) : kids.some(test);
    };
  }

  private queryFunction(e: FunctionCall, entity: EntityDef, scopes: Scope[]): Getter {
    const param = (name: string): Expr | undefined => {
      const v = e.params[name];
      return v?.kind === 'alias' ? this.aliasLiteral(v.name, v.pos) : v;
    };
    const nameParam = param('PropertyName');
    if (nameParam?.kind !== 'literal' || typeof nameParam.value !== 'string')
      throw badRequest(`Microsoft.Dynamics.CRM.${e.name} needs PropertyName='<column>'.`);
    // PropertyName is a column's logical name: a lookup is named as itself (ownerid), not as its
    // _ownerid_value property, as FetchXML's condition attribute is
    const segments = nameParam.value.split('/');
    const last = segments.length - 1;
    const owner = last === 0 ? entity : undefined;
    const lookup = owner?.attributes.find((a) => a.logicalName === segments[last] && isLookup(a));
    if (lookup) segments[last] = `_${lookup.logicalName}_value`;
    const op = this.path(segments, entity, scopes);
    return queryFunctionGetter(e, op, param);
  }
}

export function compileFilter(
  schema: Schema,
  aliases: ReadonlyMap<string, string>,
  expr: Expr,
  entity: EntityDef,
): Predicate {
  try {
    return new FilterCompiler(schema, aliases).compile(expr, entity);
  } catch (err) {
    if (err instanceof DataverseError) throw err;
    throw badRequest((err as Error).message);
  }
}
