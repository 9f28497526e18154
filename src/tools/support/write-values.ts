import { z } from 'zod';
import { listedAs } from '../list-cache.js';
import { withNames } from './aliases.js';
import { wrongType } from './schemas.js';

/**
 * A lookup as the SDKs write it: {logicalName, id} (Xrm.WebApi, the .NET EntityReference) or {entityType, id}
 * means {entity, id}. Without an entity, the column's only target is meant (the client refuses otherwise).
 */
const lookupAsMeant = (v: unknown) => {
  // JSON's null written in quotes ("mobilephone": "null") clears the column, as null does: written as text, a
  // phone number would read "null" in Dynamics
  if (typeof v === 'string' && /^\s*null\s*$/i.test(v)) return null;
  const o = withNames(
    v,
    ['logicalName', 'entityType', 'entityName', 'table'].map((alias) => [alias, 'entity'] as const),
  );
  if (typeof o !== 'object' || o === null || Array.isArray(o) || !('name' in o)) return o;
  // a lookup copied from a result carries the related record's name: it names, it does not set
  const { name, ...rest } = o as Record<string, unknown>;
  if ('id' in o) return rest;
  // {name} alone is the record with that name (lookupsByName): its text; with its table, the name in the id's
  // place, which lookupsByName reads as a name looked for in that table only (a user, not a team)
  if (typeof name !== 'string' || !Object.keys(rest).every((k) => k === 'entity')) return o;
  return 'entity' in rest ? { ...rest, id: name } : name;
};

// an id of up to 160 characters: a name given in its place (up to a primary name's length) is looked up
const lookupValue = z.strictObject({ entity: z.string().max(100).optional(), id: z.string().max(160) });
const scalars = [z.string().max(4000), z.number(), z.boolean(), z.null(), lookupValue] as const;
const valueError = (people: boolean) => (issue: { code?: string }) =>
  issue.code === 'invalid_union'
    ? `each value is text, a number, true/false, null (clears the column)${people ? ', a lookup {"entity":"contact","id":"<GUID>"}, or a list of people (names or lookups) for a call\'s from or to, or of options for a choices column' : ', a lookup {"entity":"contact","id":"<GUID>"}, or a list of options for a choices column'}; a many-to-many relationship takes the records to link, or {"add": ["<name or id>"], "remove": ["<name or id>"]}.`
    : undefined;

/**
 * The columns an update sets, and their values: update_record's "values". A list of labels or numbers is a
 * choices column's options (several at once); where a single value goes, the client refuses it with what the
 * column takes. Listed as the scalars alone: the few choices columns an organisation has are told by
 * describe_entity and by the answer to a value they cannot take, not by every tools/list (P10).
 */
const { $schema: _dialect, ...scalarsListed } = z.toJSONSchema(z.union(scalars), { target: 'draft-7', io: 'input' });
/** records to link and unlink through a many-to-many relationship (support/links.ts): names or ids */
const names = z.union([z.string().max(4000), z.array(z.string().max(4000)).max(150)]);
// each form names one of its keys as required: an object with neither is then no near match, and a value of
// another shape is refused with what values take (valueError), not with this form's unknown keys
const linkValue = z.union([
  z.strictObject({ add: names, remove: names.optional() }),
  z.strictObject({ add: names.optional(), remove: names }),
]);
const updateValue = listedAs(
  // 150: the most options Dataverse lets one record choose ("Choices columns")
  z.union([...scalars, z.array(z.union([z.string().max(4000), z.number()])).max(150), linkValue], {
    error: valueError(false),
  }),
  scalarsListed,
);
export const valuesParam = valuesOf(z.preprocess(lookupAsMeant, updateValue));

/**
 * create_record's "values": as an update's, and people for a party list (a call's from and to, set when the
 * call is logged), each a name or a lookup; or a choices column's options, by label or number (up to 150).
 */
export const createValuesParam = valuesOf(
  z.preprocess(
    lookupAsMeant,
    z.union(
      [
        ...scalars,
        z.array(z.preprocess(lookupAsMeant, z.union([z.string().max(4000), z.number(), lookupValue]))).max(150),
        linkValue,
      ],
      { error: valueError(true) },
    ),
  ),
);

const PAIR_NAMES = new Set(['column', 'name', 'field', 'attribute', 'key', 'logicalname']);

/**
 * Values as a list of pairs, as function-calling habits and other CRMs' APIs write them ([{"column":
 * "telephone1", "value": "…"}], or "field", "name", "attribute", "key"): the object they spell, where each
 * item is one such pair and no column is named twice (which value holds would be a guess: refused as any list).
 */
function pairsAsObject(v: unknown): unknown {
  if (!Array.isArray(v) || !v.length) return v;
  const entries: [string, unknown][] = [];
  for (const item of v) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return v;
    const keys = Object.keys(item);
    const name = keys.find((k) => PAIR_NAMES.has(k.toLowerCase()));
    const column = name === undefined ? undefined : (item as Record<string, unknown>)[name];
    if (keys.length !== 2 || !('value' in item) || typeof column !== 'string') return v;
    entries.push([column, (item as Record<string, unknown>).value]);
  }
  if (new Set(entries.map(([k]) => k.toLowerCase())).size !== entries.length) return v;
  return Object.fromEntries(entries);
}

function valuesOf(value: z.ZodType) {
  return z.preprocess(
    pairsAsObject,
    z.record(
      z.string(),
      value,
      wrongType('values is an object of column → new value, e.g. {"telephone1":"+1 555 0100"}.'),
    ),
  );
}
