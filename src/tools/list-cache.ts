import type { ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import { type ZodType, z } from 'zod';
import type { ToolDefinition } from './define.js';

/**
 * Schemas listed by a short stand-in: a second copy of a long schema (the conditions of an expand item are
 * the top-level `where` again, ~2.2 KB) tells the model nothing the first did not, and every byte of
 * tools/list is read before the first call. The argument is still checked against the whole schema.
 */
const STAND_INS = new WeakMap<object, Record<string, unknown>>();

export function listedAs<T extends ZodType>(schema: T, standIn: Record<string, unknown>): T {
  STAND_INS.set(schema, standIn);
  return schema;
}

/**
 * Text listed without its length bound: an opaque cursor the model copies back, a sort (a few column names)
 * and a condition's column path, bounded against abuse, not at anything a model could meet, as names are
 * (nameBound below). Still checked, with the server's own message; 16 bytes of tools/list each (P10).
 */
const BOUNDS_UNLISTED = new WeakSet<object>();

export function boundUnlisted<T extends ZodType>(schema: T): T {
  BOUNDS_UNLISTED.add(schema);
  return schema;
}

/**
 * As the SDK converts a tool's zod schema (zod 4's toJSONSchema, draft-07, the input or output side of
 * transforms), with the stand-ins above in place of the schemas they stand for.
 */
export function jsonSchemaOf(schema: ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    target: 'draft-7',
    io,
    override: ({ zodSchema, jsonSchema }) => {
      if (BOUNDS_UNLISTED.has(zodSchema)) delete (jsonSchema as Record<string, unknown>).maxLength;
      const standIn = STAND_INS.get(zodSchema);
      if (!standIn) return;
      for (const key of Object.keys(jsonSchema)) delete (jsonSchema as Record<string, unknown>)[key];
      Object.assign(jsonSchema, standIn);
    },
  }) as Record<string, unknown>;
}

/**
 * The tools/list answer, built once per process and mode. The SDK converts every zod schema to JSON Schema
 * on every tools/list; with a server per session (or per request, stateless), hundreds of clients
 * connecting at once would each pay for that conversion. The shape matches the SDK's own answer but for
 * `$schema` and `execution` (below; the schema snapshots in test/tools/__toolsnaps__ show any difference).
 */
/**
 * The schema without its `$schema`: MCP reads a schema that names no dialect as JSON Schema 2020-12 (SEP-1613,
 * in the 2025-11-25 specification), and ours use only keywords that mean the same in draft-07, which the SDK's
 * converter names (test/tools/registry.test.ts compiles each with a strict 2020-12 validator). The URL was
 * 16 x 55 bytes of every tools/list, which every model reads before its first call. For the same reason the
 * SDK's `execution: {taskSupport: "forbidden"}` is left out: absent means forbidden (2025-11-25, tasks), and
 * this server does not offer tasks at all.
 */
function dialectFree(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _named, ...rest } = schema;
  return rest;
}

/**
 * zod writes its own regular expression beside `format` for dates, ids and email addresses (~300 bytes for
 * a date, with the leap years). The format says the same to a model and to any client that validates, and
 * every argument is checked here anyway, with a message that says what to send; so the pattern goes, and
 * with it ~750 bytes of the tools/list every model reads before its first call (P10).
 */
const FORMATS_ZOD_SPELLS_OUT = new Set(['date', 'uuid', 'email']);
const formatPattern = (key: string, _value: unknown, at: Record<string, unknown>) =>
  key === 'pattern' && typeof at.format === 'string' && FORMATS_ZOD_SPELLS_OUT.has(at.format);

/**
 * An output schema describes what a result holds; zod writes `additionalProperties: false` on each of its
 * objects, which only tells a validating client to refuse keys this server never sends (a test holds every
 * result to its schema as written, strict). Listed without them: 28 bytes each, ~20 in tools/list (P10).
 */
const closedObject = (key: string, value: unknown) => key === 'additionalProperties' && value === false;

/**
 * For the same reason an output schema is listed without `required` (~1 KB over the tools): which keys a result
 * always holds tells a validating client to refuse a result that lacks one, which this server never sends (the
 * same test holds every result to the schema as zod writes it, required keys and all), and a model reads the
 * result itself, not its schema, to learn what came back. Input schemas keep theirs: there it says what the
 * model must send. A property named "required" (describe_entity's columns) is an object, and stays.
 */
const requiredKeys = (key: string, value: unknown) => key === 'required' && Array.isArray(value);

/**
 * Keywords that allow what their absence allows: `propertyNames: {type: "string"}` (every JSON object's names
 * are strings) and `additionalProperties: {}` (the empty schema takes any value), which zod writes for every
 * record and loose object: ~500 bytes of tools/list (P10) that say nothing; and the safe-integer bounds.
 */
const saysNothing = (key: string, value: unknown) =>
  (key === 'propertyNames' && isExactly(value, { type: 'string' })) ||
  (key === 'additionalProperties' && isExactly(value, {})) ||
  safeBound(key, value);
/**
 * zod bounds every integer by JavaScript's safe range (±9007199254740991, 54 bytes a time): no count, top or
 * choice value comes near it, and the server refuses one that does with its own message.
 */
const safeBound = (key: string, value: unknown) =>
  (key === 'minimum' && value === Number.MIN_SAFE_INTEGER) || (key === 'maximum' && value === Number.MAX_SAFE_INTEGER);
const isExactly = (value: unknown, expected: Record<string, unknown>) =>
  value !== null &&
  typeof value === 'object' &&
  !Array.isArray(value) &&
  JSON.stringify(Object.entries(value)) === JSON.stringify(Object.entries(expected));

/**
 * A text argument is listed without `minLength: 1` (14 bytes each, ~380 of tools/list, P10), a list of ids
 * without `minItems: 1`: no model means to send empty text or an empty list, and the server refuses either
 * with its own message ("empty text: give a value, or leave an optional argument out", "id is an empty list:
 * give the records to change"), where a validating client's would only say the length.
 */
const notEmpty = (key: string, value: unknown) => (key === 'minLength' || key === 'minItems') && value === 1;

/**
 * Nor is the bound on a name or an id (160 characters or fewer: a table's, a column's, a person's, a record
 * id; ~500 bytes of tools/list): no model writes one that long, and the server refuses one with its own
 * message. The bounds on text a model composes (a case's title at 200, a note's at 500) stay: those it can meet.
 */
const nameBound = (key: string, value: unknown) => key === 'maxLength' && typeof value === 'number' && value <= 160;

/** A copy of a JSON Schema without the keywords `drop` names (given each keyword, its value and its object). */
function withoutKeywords(
  node: unknown,
  drop: (key: string, value: unknown, at: Record<string, unknown>) => boolean,
): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutKeywords(n, drop));
  if (node === null || typeof node !== 'object') return node;
  const at = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(at)) if (!drop(k, v, at)) out[k] = withoutKeywords(v, drop);
  return out;
}

export function buildToolList(tools: ToolDefinition[]): ListToolsResult {
  return {
    tools: tools.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: withoutKeywords(
        dialectFree(jsonSchemaOf(t.inputSchema, 'input')),
        (k, v, at) => formatPattern(k, v, at) || saysNothing(k, v) || notEmpty(k, v) || nameBound(k, v),
      ) as ListToolsResult['tools'][number]['inputSchema'],
      annotations: t.annotations,
      outputSchema: withoutKeywords(
        dialectFree(jsonSchemaOf(t.outputSchema, 'output')),
        (k, v, at) => formatPattern(k, v, at) || closedObject(k, v) || requiredKeys(k, v) || saysNothing(k, v),
      ) as ListToolsResult['tools'][number]['outputSchema'],
    })),
  };
}
