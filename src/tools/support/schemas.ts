import { z } from 'zod';
import { EXPANDED_ROWS } from '../../dynamics/client.js';
import { CONDITION_OPS, unknownOpHint } from '../../dynamics/conditions.js';
import { boundUnlisted, listedAs } from '../list-cache.js';
import { withNames } from './aliases.js';
import { orderByParam } from './sort.js';
import { asMeant, lookupId, pathMeant } from './where-as-meant.js';

/**
 * Parameter schemas shared by the tools, with model-facing descriptions that say where each value comes
 * from. No top-level unions (some clients reject them) and no recursion (conditions nest three levels).
 */
/** For text that must not be empty (zod's own says "expected string to have >=1 characters"). */
export const EMPTY = 'empty text: give a value (or leave an optional argument out).';

export const entityParam = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? 'entity is required: the table, e.g. "account" (describe_entity without arguments lists them).'
        : 'entity is the table name as text, e.g. "account".',
  })
  .trim()
  .min(1, EMPTY)
  .max(100)
  .describe('Table, e.g. account; describe_entity lists them.');
/** A table the record's id or name finds where it is left out (get_record, update_record, add_note). */
export const ANY_TABLE = 'Table, e.g. account; omit it to find the record in any table.';

// ids copied from Dynamics often come in braces ({5B6B...}), as the classic UI and the SDKs print them, or as
// the record's address: the app's (main.aspx?...&id=...) or the Web API's (/accounts(<id>)). Only the id
// parameter or the key in parentheses is taken: an app URL carries other GUIDs (appid) too. A lookup copied
// from a result ({id, name, entity}) is its id, as it is in where and values
const withoutBraces = (v: unknown) => {
  if (typeof v !== 'string') return lookupId(v) ?? v;
  const t = v.trim();
  if (/^https?:\/\//i.test(t)) {
    const id = URL.canParse(t) ? new URL(t).searchParams.get('id') : null;
    const key = /\(\{?([0-9a-fA-F-]{36})\}?\)\s*$/.exec(t)?.[1];
    return (id ?? key ?? t).replace(/^\{(.*)\}$/, '$1');
  }
  return t.replace(/^\{(.*)\}$/, '$1');
};
const ID_ERROR = "id must be a record id (GUID), as returned by query_entities or get_record, or the record's name.";
/**
 * A record id; or what people call the record, which the tool looks up (recordIdOf): a case's number
 * ("CAS-01000-EYQG4V"), any record's name ("Contoso Pharma Co."). Listed as an id, which is what the model has
 * after any query; the initialize instructions say the rest.
 */
export const idParam = listedAs(
  z.preprocess(
    withoutBraces,
    z
      .string({ error: ID_ERROR })
      .min(1, EMPTY)
      .max(450, "id is a record id (GUID) or a record's name (at most 450 characters)."),
  ),
  { type: 'string', format: 'uuid' },
);

/**
 * Dataverse's etags are W/"<version number>"; a model often passes the number alone, or drops the W/. Sent as
 * written, If-Match would never match and the write would be refused as "changed since" when it was not.
 */
function etagAsMeant(v: unknown): unknown {
  const t = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : typeof v === 'string' ? v.trim() : v;
  if (typeof t !== 'string') return t;
  const digits = /^"?(\d+)"?$/.exec(t)?.[1];
  return digits ? `W/"${digits}"` : t;
}

/**
 * The version get_record returned, for a write to be refused where the record changed since (If-Match): checked,
 * not listed as a pattern, and not described: the tools' descriptions say to pass get_record's etag, and a wrong
 * one is refused with its form (tools/list stays under 20 KB).
 */
export const etagParam = z.preprocess(
  etagAsMeant,
  z
    .string()
    .max(100)
    .refine((t) => /^(W\/)?"[^"\s]*"$/.test(t), 'etag is the @odata.etag get_record returns, e.g. W/"1000123".'),
);

/**
 * A lookup copied from a result as the id ({id, name, entity}: a case's customer, a task's Regarding) names its
 * table too: without entity, that is the table (get_record would otherwise look for it among all of them;
 * update_record and add_note would refuse the call for want of one).
 */
export function withLookupTable<S extends z.ZodType>(args: S) {
  return z.preprocess((v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const { entity, id } = v as { entity?: unknown; id?: unknown };
    const table = lookupId(id) && (id as { entity?: unknown }).entity;
    return entity === undefined && typeof table === 'string' ? { ...v, entity: table } : v;
  }, args);
}

/** A choice of words read in any casing ("High", "Owner": Dynamics shows labels capitalised). */
export const anyCase = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : v);

/**
 * The message for a value of the wrong type (zod's own names the types, not the shape to send), for the
 * mistakes models make most: a list of conditions for one object, one text for a list, a list for a text.
 */
export const wrongType = (message: string) => ({
  error: (issue: { code?: string }) => (issue.code === 'invalid_type' ? message : undefined),
});

/**
 * The messages for an object of the wrong type (or missing) and for keys it does not take (a strict object's),
 * the latter given the keys as they would be quoted: a key dropped without a word is a condition or column lost.
 */
export const objectErrors = (wrong: string, stray: (keys: string) => string, missing = wrong) => ({
  error: (issue: { code?: string; keys?: string[]; input?: unknown }) =>
    issue.code === 'invalid_type'
      ? issue.input === undefined
        ? missing
        : wrong
      : issue.code === 'unrecognized_keys'
        ? stray((issue.keys ?? []).map((k) => `'${k}'`).join(', '))
        : undefined,
});

/**
 * For a list's length limit: zod also applies .max() to the length of a string sent instead of the list,
 * adding "Too big: expected string to have <=100 characters" under the message that says to send a list.
 * `when` is the check option zod runs a check under (documented for refinements; .max's parameter type
 * leaves it out, hence the cast); test/tools/query-entities.test.ts fails if zod stops honouring it.
 */
export const onlyLists = { when: (payload: { value: unknown }) => Array.isArray(payload.value) } as Record<
  never,
  never
>;

// Column and relationship names as one text ("name,revenue", $select's habit) mean that list: read as such,
// after SQL's SELECT or $select= where it is written too; a path written with dots is the path (pathMeant)
const NAMES = /^\s*(?:\*|[A-Za-z_][\w/.]*(?:\s*,\s*[A-Za-z_][\w/.]*)*)\s*$/;
const SELECT_PREFIX = /^\s*(?:select\s+|\$select\s*=\s*)/i;
export const namesIn = (v: unknown) => {
  const t = typeof v === 'string' ? v.replace(SELECT_PREFIX, '') : undefined;
  const list = t !== undefined && NAMES.test(t) ? t.split(',').map((n) => n.trim()) : v;
  return Array.isArray(list) ? list.map((n) => (typeof n === 'string' ? pathMeant(n) : n)) : list;
};

/** A list of up to `max` column (or relationship) names, also taken as one text of names. */
export const namesList = (max: number, wrong: string) =>
  z.preprocess(namesIn, z.array(z.string().trim().min(1, EMPTY).max(100), wrongType(wrong)).max(max, onlyLists));

export const selectParam = namesList(
  100,
  'select is a list of column names, e.g. ["name","revenue"], not one text.',
).describe('Columns (a lookup by its name, e.g. primarycontactid). Default: every readable one.');

// one list of alternatives, not a scalar union inside a union: the same values, 14 bytes less in tools/list
const text = z.string().max(4000);
// a lookup copied from a result ({id, name, entity}) compares by its id
const value = z
  .preprocess(
    (v) => lookupId(v) ?? v,
    z.union(
      [text, z.number(), z.boolean(), z.null(), z.array(z.union([text, z.number(), z.boolean()])).max(500, onlyLists)],
      {
        error: (issue) =>
          issue.code !== 'invalid_union'
            ? undefined
            : Array.isArray(issue.input) && issue.input.includes(null)
              ? 'a list of values holds no null: for a range open at one end, ge or le alone (e.g. {"le": 500000}); for records with no value, null alone.'
              : Array.isArray(issue.input) && issue.input.length > 500
                ? `a list of values holds at most 500, not ${issue.input.length}: split it over calls of up to 500 each.`
                : 'value is text, a number, true/false, null, a list of text, numbers or true/false (in, between), or a record as {id}.',
      },
    ),
  )
  .optional();
// an operator from SQL or code (like, =, !=) is answered with the one meant, not the list of them all
// (an operator that is no text, {"gt": 5}, is said so with the list: zod's own lists them as "eq"|"ne"|…)
const op = z.enum(CONDITION_OPS, {
  error: (issue: { code?: string; input?: unknown }) =>
    issue.code !== 'invalid_value'
      ? undefined
      : typeof issue.input === 'string'
        ? `op '${issue.input}' does not exist. ${unknownOpHint(issue.input)}`
        : `op is an operator's name as text, e.g. "eq". ${unknownOpHint('')}`,
});

// Descriptions sit on the outer level only: the nested levels repeat the shape, and every byte of the
// schema is read by the model before its first call.
// nested values are checked by the condition builder against the column's type; optional, as at the outer
// level: a group ({and: [...]}) and a null check have none (a bare z.unknown() is listed as required)
const nestedValue = z.unknown().optional();
// nested operators are checked by the condition builder too (the outer level lists them for the model)
const nestedOp = z.string().max(30);
const NESTED = { type: 'array', maxItems: 50, items: { type: 'object' } };
// a negated condition, checked by toCondition (where.ts) and the condition builder like any other
const negation = z.unknown().optional();
const level2 = z.object({
  column: z.string().max(200).optional(),
  op: nestedOp.optional(),
  value: nestedValue,
  not: negation,
});
const level1 = z.object({
  column: z.string().max(200).optional(),
  op: nestedOp.optional(),
  value: nestedValue,
  not: negation,
  and: z.array(level2).max(50, onlyLists).optional(),
  or: z.array(level2).max(50, onlyLists).optional(),
});
export const WHERE_SHAPE =
  'where takes a condition object {column, op, value}; for several, group them: {"and":[{...},{...}]} (or "or").';
/** where given as text: a sentence or OData, in a tool that has no "filter" to take it (query_entities moves it there) */
const WHERE_TEXT =
  'where takes conditions as an object, not text: {"column": "statecode", "op": "eq", "value": "Active"}, or columns and values, {"statecode": "Active", "revenue": {"gt": 1000000}}.';
/** where of the wrong type: text is told the object form by example, anything else the shape */
export const whereTypeError = {
  error: (issue: { code?: string; input?: unknown }) =>
    issue.code !== 'invalid_type' ? undefined : typeof issue.input === 'string' ? WHERE_TEXT : WHERE_SHAPE,
};
export const whereParam = z
  .preprocess(
    (v, ctx) => asMeant(v, 0, ctx),
    z.object(
      {
        column: boundUnlisted(z.string().trim().min(1, EMPTY).max(200))
          .optional()
          .describe(
            'Column logical name, or a path: parentaccountid/name (lookup), incident_customer_accounts/title (any related row).',
          ),
        op: op.optional(),
        value: value.describe(
          'A choice by label or number; a list for in/notIn, [low, high] for between, a day count for lastXDays.',
        ),
        // listed as lists of objects: the description gives the nesting, and the two nested levels listed
        // in full cost 1.2 KB of tools/list (zod still checks them all)
        and: listedAs(z.array(level1).max(50, onlyLists), NESTED).optional(),
        or: listedAs(z.array(level1).max(50, onlyLists), NESTED).optional(),
        not: negation.describe('A condition that must not hold; through a related list: no related row meets it.'),
      },
      whereTypeError,
    ),
  )
  .describe(
    'Conditions: {column, op, value}, or {and: [...]} / {or: [...]} of them, nested up to three levels. E.g. {"and":[{"column":"statecode","op":"eq","value":"Open"},{"column":"revenue","op":"gt","value":1000000}]}.',
  );

export type WhereInput = z.infer<typeof whereParam>;

/** An expand item's conditions: the top-level where's, listed in a line (tools/list has the whole form once). */
const RELATED_WHERE = "Conditions on the related rows, as query_entities' where (related lists only).";
const relatedWhere = listedAs(whereParam.describe(RELATED_WHERE), { type: 'object', description: RELATED_WHERE });

const EXPAND_SHAPE = 'e.g. [{"relation":"primarycontactid","select":["fullname"]}]';
const EXPAND_ALIASES = [
  ['relationship', 'relation'],
  ['navigationProperty', 'relation'],
  ['property', 'relation'],
  ['columns', 'select'],
  ['fields', 'select'],
] as const;
/** `text` split at each `sep` outside parentheses and quotes ("a($select=x,y),b" at ',' is two parts). */
function splitOutside(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')') depth--;
    else if (!quoted && depth === 0 && ch === sep) {
      parts.push(text.slice(from, i));
      from = i + 1;
    }
  }
  return [...parts, text.slice(from)];
}

const EXPAND_TEXT = /^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$/s;
/**
 * An expand item written as OData's $expand ("primarycontactid($select=fullname,emailaddress1)", or the
 * columns alone in the parentheses): the relation with its options as the item's keys ($select, $top and
 * $orderby). Any other option ($filter, $expand) is kept under its own name, for the item's refusal to say
 * where conditions on related rows go.
 */
function expandText(text: string): unknown {
  const m = EXPAND_TEXT.exec(text);
  if (!m) return { relation: text.trim() };
  const inner = m[2]!.trim();
  if (!inner.startsWith('$')) return { relation: m[1], select: inner };
  const item: Record<string, unknown> = { relation: m[1] };
  for (const part of splitOutside(inner, ';')) {
    const option = /^\$(\w+)\s*=\s*(.*)$/s.exec(part.trim());
    if (!option) return { relation: text.trim() };
    const [, name, value] = option as unknown as [string, string, string];
    const key = name.toLowerCase();
    if (key === 'select') item.select = value.trim();
    else if (key === 'top') item.top = /^\s*\d+\s*$/.test(value) ? Number(value) : value;
    else if (key === 'orderby') item.orderBy = value.trim();
    else item[`$${name}`] = value.trim();
  }
  return item;
}

/** The keys an expand item takes, and the other names read as them: an object with none of them is not one item */
const EXPAND_ITEM_KEYS = new Set(
  ['relation', 'select', 'where', 'orderby', 'top', ...EXPAND_ALIASES.flat()].map((k) => k.toLowerCase()),
);

/**
 * An expand written as an object keyed by relationship ({"contact_customer_accounts": {"select": [...]}},
 * as some SDKs take it): one item per key, its value the item's options, its columns, or true for the
 * defaults. Anything else, or an object that has an item's own keys, is left for the schema to answer.
 */
function keyedByRelation(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const entries = Object.entries(v);
  if (!entries.length || entries.some(([k]) => EXPAND_ITEM_KEYS.has(k.toLowerCase()) || !/^[A-Za-z_]\w*$/.test(k)))
    return v;
  const items = entries.map(([relation, options]) => {
    if (options === true || options === null) return { relation };
    if (typeof options === 'string' || Array.isArray(options)) return { relation, select: options };
    if (typeof options === 'object' && !Object.keys(options).some((k) => k.toLowerCase() === 'relation'))
      return { relation, ...options };
    return undefined;
  });
  return items.every((i) => i !== undefined) ? items : v;
}

/**
 * What models write for expand where it means one thing: relationship names (one text, or a list of names)
 * with the related table's default columns, OData's $expand text, one item without its list, an object
 * keyed by relationship, and other APIs' key names.
 */
function expandAsMeant(v: unknown): unknown {
  const named = keyedByRelation(namesIn(v));
  // "primarycontactid($select=fullname),contact_customer_accounts": OData's $expand, item by item
  const list =
    typeof named === 'string' && EXPAND_TEXT.test(splitOutside(named, ',')[0]!) ? splitOutside(named, ',') : named;
  const items = Array.isArray(list) ? list : typeof list === 'object' && list !== null ? [list] : list;
  if (!Array.isArray(items)) return items;
  return items.map((given) => {
    const item = typeof given === 'string' ? expandText(given) : given;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
    const out = withNames(item, EXPAND_ALIASES) as Record<string, unknown>;
    out.select = namesIn(out.select);
    if (out.select === undefined) delete out.select;
    return out;
  });
}

export const expandParam = z
  .preprocess(
    expandAsMeant,
    z
      .array(
        z.strictObject(
          {
            relation: z
              .string(wrongType(`each expand item names its relationship in "relation", ${EXPAND_SHAPE}.`))
              .trim()
              .min(1, EMPTY)
              .max(100)
              .describe('A relationship from describe_entity, e.g. primarycontactid or contact_customer_accounts.'),
            select: z
              .array(z.string().trim().min(1, EMPTY).max(100), wrongType('expand select is a list of column names.'))
              .max(50, onlyLists)
              .optional()
              .describe('Columns of the related table.'),
            // a related list's order and length (Dataverse takes $orderby and $top in a collection's $expand):
            // "each account with its 3 latest cases" in one call. Described by the names alone: every byte
            // of tools/list is read before the first call, and the top-level orderBy shows the form
            // conditions on the related rows ("each account with its open cases"): Dataverse takes $filter in a
            // collection's $expand. Checked against the whole where schema, listed by a stand-in (list-cache.ts)
            where: relatedWhere.optional(),
            orderBy: orderByParam.optional(),
            top: z
              .number()
              .int()
              .min(1, "an expand item's top is at least 1.")
              .max(
                EXPANDED_ROWS,
                `an expand item's top is at most ${EXPANDED_ROWS}; for more, query the related table with where on the lookup.`,
              )
              .optional(),
          },
          objectErrors(
            `each expand item is an object: ${EXPAND_SHAPE}.`,
            (keys) =>
              `an expand item takes relation, select, where, orderBy and top, not ${keys}: conditions on the related records go in the item's where, in the form of the top-level where.`,
          ),
        ),
        wrongType(`expand is a list of {relation, select} objects, ${EXPAND_SHAPE}.`),
      )
      .max(5, onlyLists),
  )
  .describe('Related records to include.');
