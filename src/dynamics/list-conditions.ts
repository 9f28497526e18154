import { badInput } from '../errors.js';
import type { Expr } from '../odata/ast.js';
import { todayIs } from './utc-days.js';

/**
 * Conditions through a related list ("accounts with an active case": incident_customer_accounts/statecode eq
 * Active) become OData's any() over that relationship (reference §3.2, lambda operators): the record holds
 * when at least one related row meets them. These are the pieces that do not need metadata.
 */

/**
 * Negations through a list have two meanings (no related row matches, or some related row does not): refused
 * rather than guessed. The null checks are positive here: a related row whose column is (or is not) empty.
 */
export const LIST_NEGATIONS: ReadonlySet<string> = new Set(['ne', 'notContains', 'notIn', 'notBetween']);

/**
 * A condition built against the related table, written inside the lambda: each path starts at its variable.
 * Dataverse documents comparisons, string functions and nested lambdas inside any(), not its query functions
 * (LastXDays, On, In …), so those are refused with the comparison to use instead; the builder writes "in" and
 * "between" inside a list as comparisons before it gets here.
 */
export function insideLambda(e: Expr, variable: string, relation: string): Expr {
  const inner = (x: Expr) => insideLambda(x, variable, relation);
  switch (e.kind) {
    case 'path':
      return { ...e, segments: [variable, ...e.segments] };
    case 'and':
    case 'or':
      return { ...e, operands: e.operands.map(inner) };
    case 'not':
      return { ...e, operand: inner(e.operand) };
    case 'compare':
      return { ...e, left: inner(e.left), right: inner(e.right) };
    case 'call':
      return { ...e, args: e.args.map(inner) };
    // a list under this one: its own variable starts its body's paths, only its relationship is under ours
    case 'lambda':
      return { ...e, path: [variable, ...e.path] };
    case 'function':
      throw badInput(
        `Through the related list '${relation}', conditions compare values (eq, gt, contains, in …); Dataverse's ${e.name} function is not sent inside a related list's condition.`,
        `Compare dates as date-times instead (${todayIs()}), e.g. {"column": "${relation}/createdon", "op": "ge", "value": "${daysAgo(30)}T00:00:00Z"} for the last 30 days.`,
      );
    default:
      return e;
  }
}

/** The UTC day `n` days before today, as YYYY-MM-DD. */
function daysAgo(n: number): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}
