import type { Expr, FunctionCall } from '../odata/ast.js';
import type { Condition, ConditionOp } from './conditions.js';

/**
 * The operators whose opposite Dataverse has as an operator of its own. In and Between are query functions,
 * and Dataverse takes no not around a query function ("Not operator along with the Custom Named Condition
 * operators is not allowed"), so their negation has to be NotIn and NotBetween.
 */
const OPPOSITE: Readonly<Partial<Record<ConditionOp, ConditionOp>>> = {
  in: 'notIn',
  notIn: 'in',
  between: 'notBetween',
  notBetween: 'between',
  null: 'notNull',
  notNull: 'null',
  contains: 'notContains',
  notContains: 'contains',
};

/**
 * not(c) carried down to the conditions: De Morgan's rule through groups, a double negation dropped, the
 * operators above swapped; any other condition keeps its not ({not: leaf}), sent as OData's not.
 */
export function negation(c: Condition): Condition {
  if ('and' in c) return { or: c.and.map(negation) };
  if ('or' in c) return { and: c.or.map(negation) };
  if ('not' in c) return c.not;
  const opposite = OPPOSITE[c.op];
  return opposite ? { ...c, op: opposite } : { not: c };
}

/** The first Dataverse query function (LastXDays, ThisMonth, EqualUserId …) in an expression, if any. */
export function queryFunctionIn(e: Expr): string | undefined {
  return functionIn(e, () => true, false)?.name;
}

/**
 * The first of Dataverse's functions of the user a request runs as (EqualUserId, NotEqualUserId, and their teams':
 * EqualUserTeams, EqualUserOrUserTeams) anywhere in an
 * expression, lists' conditions (any/all) included.
 */
export function userFunctionIn(e: Expr): FunctionCall | undefined {
  return functionIn(e, (f) => /^((Not)?EqualUserId|EqualUser(OrUser)?Teams)$/.test(f.name), true);
}

function functionIn(e: Expr, wanted: (f: FunctionCall) => boolean, lambdas: boolean): FunctionCall | undefined {
  switch (e.kind) {
    case 'function':
      return wanted(e) ? e : undefined;
    case 'and':
    case 'or':
      for (const o of e.operands) {
        const found = functionIn(o, wanted, lambdas);
        if (found) return found;
      }
      return undefined;
    case 'not':
      return functionIn(e.operand, wanted, lambdas);
    case 'lambda':
      return lambdas && e.body ? functionIn(e.body, wanted, lambdas) : undefined;
    default:
      return undefined;
  }
}
