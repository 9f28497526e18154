import type { Scalar } from '../../dynamics/coerce.js';
import { CONDITION_OPS, type Condition, type ConditionOp, unknownOpHint } from '../../dynamics/conditions.js';
import { badInput } from '../../errors.js';
import type { WhereInput } from './schemas.js';
import { lookupId } from './where-as-meant.js';

type Node = { column?: string; op?: string; value?: unknown; and?: Node[]; or?: Node[]; not?: unknown };

/**
 * The tool's `where` objects → the client's Condition tree (exactly one form per node). What is under a "not"
 * arrives unchecked by the schema: its shape, depth and names' types are checked here.
 */
export function toCondition(w: WhereInput | Node, depth = 0): Condition {
  const n = w as Node;
  if (typeof n !== 'object' || n === null || Array.isArray(n))
    throw badInput('Each condition is an object.', 'e.g. {"column":"name","op":"contains","value":"Contoso"}.');
  if (depth > 8) throw badInput('Conditions nest more than 8 levels deep.', 'Flatten the groups.');
  const forms = [
    n.column !== undefined || n.op !== undefined,
    n.and !== undefined,
    n.or !== undefined,
    n.not !== undefined,
  ].filter(Boolean).length;
  if (forms !== 1)
    throw badInput(
      'Each condition is either {column, op, value} or {and: [...]}, {or: [...]} or {not: {...}}, not a mix.',
      'Split mixed objects: e.g. {"and":[{"column":"a","op":"eq","value":1},{"column":"b","op":"eq","value":2}]}.',
    );
  if (n.not !== undefined) {
    if (typeof n.not !== 'object' || n.not === null || Array.isArray(n.not))
      throw badInput(
        '"not" takes one condition object.',
        'e.g. {"not": {"column": "address1_city", "op": "eq", "value": "Paris"}}.',
      );
    return { not: toCondition(n.not as Node, depth + 1) };
  }
  const group = n.and ?? n.or;
  if (group !== undefined && (!Array.isArray(group) || group.length > 50))
    throw badInput('"and" and "or" take a list of up to 50 conditions.', 'e.g. {"and":[{...},{...}]}.');
  if (n.and) return { and: n.and.map((c) => toCondition(c, depth + 1)) };
  if (n.or) return { or: n.or.map((c) => toCondition(c, depth + 1)) };
  if (typeof n.column !== 'string' || typeof n.op !== 'string' || !n.column || !n.op)
    throw badInput(
      'A condition needs both "column" and "op".',
      'e.g. {"column":"name","op":"contains","value":"Contoso"}.',
    );
  if (!(CONDITION_OPS as readonly string[]).includes(n.op))
    throw badInput(`Unknown operator '${n.op}' for '${n.column}'.`, unknownOpHint(n.op));
  // eq "null" in quotes is the null check, as a write's "null" clears: no record is named, or titled, "null";
  // and so is eq "": Dataverse keeps empty text as null, so no record's column holds "" for eq to find
  const value =
    (n.op === 'eq' || n.op === 'ne') && typeof n.value === 'string' && /^(\s*null\s*)?$/i.test(n.value)
      ? null
      : n.value;
  return { column: n.column, op: n.op as ConditionOp, value: checkValue(value, n.column) };
}

/** Expand items as the client takes them: each item's conditions as a Condition tree. */
export function expandItems<T extends { where?: WhereInput }>(
  items: T[] | undefined,
): (Omit<T, 'where'> & { where?: Condition })[] | undefined {
  return items?.map(({ where, ...rest }) => (where ? { ...rest, where: toCondition(where) } : rest));
}

const isScalar = (v: unknown): v is Scalar => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** Nested values arrive unchecked by the schema (to keep it small); only scalars and lists of them pass. */
function checkValue(v: unknown, column: string): Scalar | Scalar[] | undefined {
  if (v === undefined || isScalar(v)) return v;
  // a lookup copied from a result ({id, name, entity}) compares by its id
  const ref = lookupId(v);
  if (ref) return ref;
  if (Array.isArray(v) && v.length <= 500 && v.every(isScalar)) return v;
  throw badInput(
    `The value for '${column}' must be text, a number, true/false, null or a list of those.`,
    'e.g. "value": "Contoso" or "value": [1, 2].',
  );
}
