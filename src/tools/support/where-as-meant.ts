import { eachPieceContained } from '../../dynamics/condition-words.js';
import { isOperatorWord, likeAsMeant, operatorMeant } from '../../dynamics/conditions.js';
import { withNames } from './aliases.js';

// What models send most often instead of the documented shape, where it can mean only one thing, is read
// as meant rather than refused (the schema still shows the one documented shape): a list of conditions means
// "all of them" ({and: [...]}), "field"/"attribute"/"operator" (SQL's and other APIs' words) name the column
// and op, and an object of column names ({"statecode": "Active", "revenue": {"gt": 1000000}}, the shape of
// Prisma's and MongoDB's filters) is one condition per column, all of them to hold: a value is eq (null: the
// null check, a list: in), an object of one operator is that operator. Without this, zod drops the unknown
// keys and the model is told something else is wrong.
const ALIASES: ReadonlyMap<string, 'column' | 'op'> = new Map([
  ['field', 'column'],
  ['attribute', 'column'],
  // the column's description calls a column through a lookup or related list a path
  ['path', 'column'],
  ['operator', 'op'],
]);
const CONDITION_KEYS = new Set(['column', 'op', 'value', 'and', 'or', 'not', ...ALIASES.keys()]);
type Issues = { addIssue(issue: { code: 'custom'; message: string }): void };

/**
 * A path through a lookup or related list written with dots, as JavaScript, Prisma and SQL's alias.column
 * write it ("parentaccountid.name"): OData's path, with slashes. No Dataverse name holds a dot, so it can mean
 * nothing else; without this it was "'parentaccountid.name' is not a column". Read so in where, select, expand
 * items' select and orderBy.
 */
const DOTTED = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$/;
export const pathMeant = (column: string) => (DOTTED.test(column.trim()) ? column.trim().replaceAll('.', '/') : column);

/** {"revenue": {"gt": 5}} → {column: "revenue", op: "gt", value: 5}; anything else under a column name is eq. */
function columnCondition(written: string, v: unknown, issues: Issues): Record<string, unknown> {
  const column = pathMeant(written);
  if (v === null) return { column, op: 'null' };
  // a lookup as the tools return it ({id, name, entity}): that record
  const ref = lookupId(v);
  if (ref) return { column, op: 'eq', value: ref };
  if (Array.isArray(v)) return { column, op: 'in', value: v };
  if (typeof v === 'object') {
    // Prisma's {"contains": "con", "mode": "insensitive"}: how Dataverse compares text already (without regard
    // to case); read as a related column "mode" it was "name is not a lookup"
    const { mode, ...rest } = v as Record<string, unknown>;
    if (typeof mode === 'string' && Object.keys(rest).length > 0) {
      if (!/^(insensitive|default)$/i.test(mode))
        issues.addIssue({
          code: 'custom',
          message: `'${column}': "mode": "${mode}" is not taken: Dataverse compares text without regard to case, and offers no other comparison; leave "mode" out.`,
        });
      return columnCondition(column, rest, issues);
    }
    // the condition's own shape under its column, {"createdon": {"op": "thisMonth"}} or {"revenue": {"op":
    // "gt", "value": 5}}: that condition (read as related columns, it was "createdon is not a lookup")
    const keys = Object.keys(v);
    if (keys.some((k) => k === 'op' || k === 'operator') && keys.every((k) => ['op', 'operator', 'value'].includes(k)))
      return withNames({ column, ...v }, ALIASES) as Record<string, unknown>;
    const entries = Object.entries(v);
    // a range, {"revenue": {"gt": 1, "lt": 5}}: each bound holds
    if (entries.length > 1) return { and: entries.map(([k, x]) => columnCondition(column, { [k]: x }, issues)) };
    if (entries.length === 1) {
      const [key, value] = entries[0]!;
      const op = key.replace(/^\$/, '');
      // MongoDB's {"revenue": {"$not": {"$gt": 5}}}: the opposite of the condition under it
      if (op.toLowerCase() === 'not' && typeof value === 'object' && value !== null && !Array.isArray(value))
        if (!lookupId(value)) return { not: columnCondition(column, value, issues) };
      // Prisma's list filters, {"incident_customer_accounts": {"some": {"statecode": "Active"}}} ("none":
      // no related row meets them; OData's and LINQ's "any" is "some"): the columns through the list, under
      // a "not" for none
      const quantifier = op.toLowerCase() === 'any' ? 'some' : op;
      if (
        (quantifier === 'some' || quantifier === 'none') &&
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value)
      ) {
        // with no condition under it, any related row at all ("accounts with no cases": {"none": {}}): the
        // list's own null checks (conditions.ts wholeList), where an empty group was refused as "an or group"
        if (!Object.keys(value).length) return { column, op: quantifier === 'none' ? 'null' : 'notNull' };
        // the documented shape under it ({"column": "statecode", "op": "eq", …}) is one condition
        const one = withNames(value, ALIASES) as Record<string, unknown>;
        const each =
          typeof one.column === 'string' && Object.keys(one).every((k) => CONDITION_KEYS.has(k))
            ? [{ ...one, column: `${column}/${one.column}` }]
            : Object.entries(value).map(([k, x]) => columnCondition(`${column}/${k}`, x, issues));
        const all = each.length === 1 ? each[0]! : { and: each };
        return quantifier === 'none' ? { not: all } : all;
      }
      // Prisma's "every" (OData's all()): not one of ours, refused with the form that says it, rather than
      // read as a lookup called "every"
      if (/^(every|all)$/i.test(quantifier) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
        issues.addIssue({
          code: 'custom',
          message: `'${column}': {"${op}": …} (every related row) is written as no related row failing it, {"not": {"${column}/<column>": <the opposite condition>}} (e.g. {"not": {"${column}/statecode": {"ne": "Active"}}}), which a record with no related rows meets too; {"some": …} and {"none": …} are read as written.`,
        });
        return { column, op: 'notNull' };
      }
      // MongoDB's {"$exists": true}: the column has a value
      if (op.toLowerCase() === 'exists')
        return { column, op: value === false || value === 'false' || value === 0 ? 'null' : 'notNull' };
      // Prisma's relation filter, {"parentaccountid": {"name": "Contoso"}}: a column of the related record. A
      // Dataverse name is lower case; anything else ($gt, >, like, greaterThan) is an operator, and an unknown
      // one is answered by the condition builder's hint
      // SQL's LIKE with its wildcards at the ends ({"name": {"like": "%energy%"}}): the operator it means
      const like = likeAsMeant(op, value);
      if (like) return { column, ...like };
      likeInside(column, op, value, issues);
      const meant = operatorMeant(op) ?? op;
      // a key with MongoDB's $ ($regex, $elemMatch) is an operator, never a column: no Dataverse name has one
      if (/^[a-z_][a-z0-9_]*$/.test(meant) && !isOperatorWord(meant) && !key.startsWith('$'))
        return columnCondition(`${column}/${meant}`, value, issues);
      return { column, op: meant, value };
    }
  }
  // {"revenue": ">1000000"}, {"createdon": ">=2026-11-01"}: a comparison written into the value. Only before
  // a number or a date, so text that starts with < or > ("<b>") is still compared as text
  const m =
    typeof v === 'string' ? /^\s*(>=|<=|!=|<>|>|<)\s*(-?\d[\d.]*|\d{4}-\d{2}-\d{2}[\w:.+-]*)\s*$/.exec(v) : null;
  if (m) return { column, op: operatorMeant(m[1]!), value: m[2] };
  return { column, op: 'eq', value: v };
}
/** The id of a lookup written as the tools return one ({id, name, entity}, or {id} alone), else undefined. */
export function lookupId(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  return typeof o.id === 'string' && Object.keys(o).every((k) => k === 'id' || k === 'name' || k === 'entity')
    ? o.id
    : undefined;
}

/**
 * A condition written as a list of three, column, operator and value (["statecode", "eq", "Active"], as Odoo's
 * and Frappe's filters and many query builders write it): that condition. Only where the middle is an
 * operator (or a slip for one, refused with the one meant as any other is), so a list of values stays a list.
 */
function tripleAsCondition(v: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(v) || v.length !== 3) return undefined;
  const [column, op, value] = v as [unknown, unknown, unknown];
  return typeof column === 'string' && typeof op === 'string' && isOperatorWord(op) ? { column, op, value } : undefined;
}

/**
 * SQL's LIKE (FetchXML's like) with a wildcard inside the text ('%a%b%', 'A_pine%'): no one text operator says
 * it, and eq would look for the text as written. Said with the conditions that do, rather than as an operator
 * that does not exist (like with its wildcards at the ends is read: likeAsMeant).
 */
function likeInside(column: string, op: string, value: unknown, issues: Issues): void {
  if (!/^i?like$/i.test(op.trim()) || typeof value !== 'string') return;
  const pieces = value.split(/[%_]+/).filter(Boolean);
  if (!pieces.length) return;
  issues.addIssue({
    code: 'custom',
    message: `'${value}' (${op.trim()}) has a wildcard inside it: contains, startswith and endswith match their text as written, and no one of them takes a wildcard between two pieces of text. Each piece as its own condition, all of them to hold, finds those records and any with the pieces elsewhere: ${eachPieceContained(column, pieces)}.`,
  });
}

export function asMeant(given: unknown, depth: number, issues: Issues): unknown {
  const triple = tripleAsCondition(given);
  if (triple) return asMeant(triple, depth, issues);
  if (Array.isArray(given)) return depth === 0 ? { and: given.map((c) => asMeant(c, 1, issues)) } : given;
  if (typeof given !== 'object' || given === null || depth > 3) return given;
  const v = groupWords(given as Record<string, unknown>);
  // {"not": condition} beside columns (MongoDB's top-level $not): both hold
  if ('not' in v && Object.keys(v).some((k) => k !== 'not' && !CONDITION_KEYS.has(k))) {
    const { not, ...rest } = v;
    return asMeant({ and: [rest, { not }] }, depth, issues);
  }
  if ('not' in v) return { ...v, not: asMeant(v.not, depth + 1, issues) };
  const keys = Object.keys(v);
  const others = keys.filter((k) => !CONDITION_KEYS.has(k));
  if (others.length > 0 && others.length === keys.length) {
    // a range ({"gt": 1, "lt": 5}) is an "and" of its bounds: one "and" with the other columns'
    const each = others
      .map((k) => columnCondition(k, v[k], issues))
      .flatMap((c) => (isOnly(c, 'and') ? (c.and as unknown[]) : [c]));
    return each.length === 1 ? each[0] : { and: each };
  }
  // MongoDB's {"$or": [...], "statecode": "Active"} (or {"$and": [...], "$or": [...]}): the groups and the
  // columns beside them, all to hold
  const groups = keys.filter((k) => k === 'and' || k === 'or');
  if (others.length + groups.length > 1 && groups.length > 0 && groups.length + others.length === keys.length) {
    const columns = others.length ? [Object.fromEntries(others.map((k) => [k, v[k]]))] : [];
    return asMeant({ and: [...groups.map((g) => ({ [g]: v[g] })), ...columns] }, depth, issues);
  }
  if (others.length > 0)
    issues.addIssue({
      code: 'custom',
      message: `a condition has only column, op and value (or and/or/not), not ${others.map((k) => `'${k}'`).join(', ')}. For more than one condition, group them: {"and":[{"column":"a","op":"eq","value":1},{"column":"b","op":"eq","value":2}]}.`,
    });
  const node = withNames(v, ALIASES) as Record<string, unknown>;
  // {column, value} without an op: what the column's own shorthand means, eq (in for a list, null for null)
  if (typeof node.column === 'string' && node.op === undefined && 'value' in node && Object.keys(node).length === 2)
    return asMeant(columnCondition(node.column, node.value, issues), depth, issues);
  if (typeof node.column === 'string') node.column = pathMeant(node.column);
  // a related list's quantifiers as an op with nothing to compare ({"column": "contact_customer_accounts", "op":
  // "none"}: accounts with no contacts), as under a column's name ({"none": {}}): the list's null checks
  const quantifier = typeof node.op === 'string' && !('value' in node) ? node.op.trim().toLowerCase() : undefined;
  if (quantifier === 'none' || quantifier === 'any' || quantifier === 'some')
    node.op = quantifier === 'none' ? 'null' : 'notNull';
  // an operator in another casing or from SQL ("startsWith", "EQ", "==", ">="), where it means one of ours, is
  // that one, as it is under a column's name ({"name": {"startsWith": "Con"}}); "like" and the rest are refused
  // with the one meant
  const like = typeof node.op === 'string' ? likeAsMeant(node.op, node.value) : undefined;
  if (like) Object.assign(node, like);
  else if (typeof node.op === 'string') {
    likeInside(String(node.column), node.op, node.value, issues);
    node.op = operatorMeant(node.op) ?? node.op;
  }
  for (const group of ['and', 'or']) {
    if (!Array.isArray(node[group])) continue;
    const children = (node[group] as unknown[]).map((c) => asMeant(c, depth + 1, issues));
    // an "and" inside an "and" (as a column shorthand of several columns makes) is the same "and"; so for "or"
    node[group] = children.flatMap((c) => (isOnly(c, group) ? (c as Record<string, unknown[]>)[group]! : [c]));
  }
  // a group of one condition is that condition, and takes no level (its parent checks the depth)
  for (const group of ['and', 'or'])
    if (isOnly(node, group) && (node[group] as unknown[]).length === 1) return (node[group] as unknown[])[0];
  // the schema's third level holds conditions only: a group there would be dropped by zod, unexplained
  if (depth >= 1 && [node.and, node.or].some((g) => Array.isArray(g) && g.some(isGroup)))
    issues.addIssue({
      code: 'custom',
      message:
        'conditions nest at most three levels deep, and these would make a fourth: an "and" of "or" groups inside an "or" (or the other way round) is one level too many; write it out.',
    });
  return node;
}

const isGroup = (c: unknown) =>
  typeof c === 'object' && c !== null && (Array.isArray((c as Node).and) || Array.isArray((c as Node).or));
type Node = { and?: unknown; or?: unknown };
const isOnly = (c: unknown, key: string) =>
  typeof c === 'object' &&
  c !== null &&
  !Array.isArray(c) &&
  Object.keys(c).length === 1 &&
  Array.isArray((c as Record<string, unknown>)[key]);

/** MongoDB's and SQL's words for the groups ($or, OR, $and, AND, $not, NOT) are the groups. */
function groupWords(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const group = /^\$?(and|or|not)$/i.exec(k)?.[1]?.toLowerCase();
    out[group && !(group in v && group !== k) ? group : k] = x;
  }
  return out;
}
