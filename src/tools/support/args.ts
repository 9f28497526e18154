import { z } from 'zod';
import { closest } from '../../policy/suggest.js';
import { jsonSchemaOf } from '../list-cache.js';

/**
 * A tool's arguments object, refusing names it does not have. zod's default drops unknown keys without a
 * word, so a model that wrote `limit`, `filters` or `emailaddress1` got all rows, an unfiltered list or a
 * lead without its email, and was told nothing. The refusal names the argument meant (from `meant`, the
 * words models use instead, then by spelling) and lists the tool's own; `elsewhere` says where anything
 * else belongs (e.g. a lead's other columns in "extra"). `textAs` names arguments whose value given as text
 * (not JSON of the declared type) is meant as another argument: query_entities' "where": "statecode eq 0" is
 * OData filter text, which "filter" takes (and checks as it checks any), as is a list of such texts (all of them
 * holding; "filter" itself takes one so too). `objectAs` is the other way round: its
 * "filter": {"statecode": "Open"} is conditions as "where" takes them, not OData text.
 */
export function toolArgs<S extends z.ZodRawShape>(
  tool: string,
  shape: S,
  opts: {
    /**
     * Names models give an argument that can mean nothing else ("limit" for top, "emailaddress1" for email):
     * read as that argument, where it is not given too (then both are refused, as any argument named twice).
     * [argument, key] puts the value under that key of an object argument (create_case's top-level
     * "accountName" is customer.accountName).
     */
    renamed?: Record<string, (keyof S & string) | readonly [keyof S & string, string]>;
    /**
     * Of renamed, those not said as the argument they are read as where that argument is given too, but as any
     * other unknown one (elsewhere): update_record's "name" beside an id is a new name, for values.
     */
    renamedAlone?: readonly string[];
    /** names of another argument that cannot be read as it (another shape, or a guess): said in the refusal */
    meant?: Record<string, (keyof S & string) | (keyof S & string)[]>;
    elsewhere?: string | Elsewhere<keyof S & string>;
    textAs?: Partial<Record<keyof S & string, keyof S & string>>;
    objectAs?: Partial<Record<keyof S & string, keyof S & string>>;
    /** what to say of an argument the tool has no equivalent for (query_entities' "skip"), by its name */
    notes?: Record<string, string>;
    /**
     * The arguments in another language of the same query, read as the tool's own before anything else
     * (query_entities' FetchXML); an Error's message is the refusal.
     */
    before?: (args: Record<string, unknown>) => Record<string, unknown>;
  } = {},
) {
  const names = Object.keys(shape);
  const known = new Set(names);
  const renamed = new Map(Object.entries(opts.renamed ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const alone = new Set((opts.renamedAlone ?? []).map((k) => k.toLowerCase()));
  const meant = new Map<string, string | string[]>([
    ...[...renamed].filter(([k]) => !alone.has(k)).map(([k, v]) => [k, typeof v === 'string' ? v : v[0]] as const),
    ...Object.entries(opts.meant ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const),
  ]);
  const notes = new Map(Object.entries(opts.notes ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const strict = z.strictObject(shape);
  const byLowerCase = new Map(names.map((n) => [n.toLowerCase(), n]));
  // the declared types, read off the schema on the first call (not at start-up: stdio cold start)
  let types: Map<string, string> | undefined;
  // checked before the arguments themselves: a value sent under the wrong name is then reported once, as
  // that, not also as a required argument missing (zod stops at the first failing step of a pipe)
  const namesKnown = (v: unknown, ctx: z.core.$RefinementCtx) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    if (opts.before)
      try {
        v = opts.before(v as Record<string, unknown>);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
        return v;
      }
    types ??= declaredTypes(strict);
    v = untext(asRenamed(casingsAsDeclared(v as Record<string, unknown>, byLowerCase), renamed, known), types);
    for (const [from, to] of Object.entries(opts.textAs ?? {}) as [string, string][]) {
      const args = v as Record<string, unknown>;
      const text = textOf(args[from]);
      // (an argument named as its own: a list of its texts is that text)
      if (text === undefined || (from !== to && args[to] !== undefined)) continue;
      const { [from]: _given, ...rest } = args;
      v = { ...rest, [to]: text };
    }
    for (const [from, to] of Object.entries(opts.objectAs ?? {}) as [string, string][]) {
      const args = v as Record<string, unknown>;
      const given = args[from];
      if (typeof given !== 'object' || given === null || textOf(given) !== undefined || args[to] !== undefined)
        continue;
      const { [from]: _moved, ...rest } = args;
      v = { ...rest, [to]: given };
    }
    const unknown = Object.keys(v as object).filter((k) => !known.has(k));
    if (unknown.length === 0) return v;
    const unmatched: string[] = [];
    const each = unknown.map((k) => {
      const use = [meant.get(k.toLowerCase()) ?? closest(k, names, 1)[0] ?? []].flat();
      if (!use.length) unmatched.push(k);
      return use.length ? `'${k}' (use ${use.map((u) => `'${u}'`).join(' and ')})` : `'${k}'`;
    });
    const { elsewhere } = opts;
    // (a renamedAlone name beside its argument, update_record's "name" beside an id, may as well name the
    // record as rename it: shown, not moved)
    const moved =
      typeof elsewhere === 'object' && !unknown.some((k) => alone.has(k.toLowerCase()))
        ? intoColumns(elsewhere.into, unknown, unmatched, v)
        : undefined;
    if (moved) return moved;
    const noted = [...new Set(unknown.flatMap((k) => notes.get(k.toLowerCase()) ?? []))];
    ctx.addIssue({
      code: 'custom',
      message:
        `${tool} has no argument ${each.join(', ')}. Its arguments: ${names.join(', ')}.` +
        noted.map((n) => ` ${n}`).join('') +
        (typeof elsewhere === 'string'
          ? ` ${elsewhere}`
          : elsewhere
            ? ` ${moveInto(elsewhere, unmatched, v as Record<string, unknown>)}`
            : ''),
    });
    return v;
  };
  // strict as well, so that tools/list says so (additionalProperties: false) to clients that check
  return z.preprocess(namesKnown, strict);
}

/**
 * An argument named in another casing ("firstname", "orderby", "Entity") is that argument: JSON's names are
 * case-sensitive, models' are not, and no tool has two arguments differing only in case. One given under both
 * spellings is left for the refusal, which names the one to keep.
 */
function casingsAsDeclared(args: Record<string, unknown>, byLowerCase: Map<string, string>): Record<string, unknown> {
  let out = args;
  for (const k of Object.keys(args)) {
    const declared = byLowerCase.get(k.toLowerCase());
    if (!declared || declared === k || declared in args) continue;
    if (out === args) out = { ...args };
    out[declared] = out[k];
    delete out[k];
  }
  return out;
}

/**
 * The arguments given under another name that means only one of the tool's (toolArgs' renamed), in any casing,
 * moved to it. Not when the argument is given too, or two such names are given for it: which value holds is
 * not guessed, and the refusal names them.
 */
function asRenamed(
  args: Record<string, unknown>,
  renamed: ReadonlyMap<string, string | readonly [string, string]>,
  known: ReadonlySet<string>,
): Record<string, unknown> {
  if (!renamed.size) return args;
  const moves = Object.keys(args).flatMap((k) => {
    const to = known.has(k) ? undefined : renamed.get(k.toLowerCase());
    return to === undefined ? [] : [{ from: k, to: typeof to === 'string' ? ([to] as const) : to }];
  });
  if (!moves.length) return args;
  const out = { ...args };
  const target = (m: (typeof moves)[number]) => m.to.join('.');
  for (const m of moves) {
    if (moves.filter((o) => target(o) === target(m)).length > 1) continue;
    const [arg, key] = m.to;
    const held = out[arg];
    if (key === undefined) {
      if (held !== undefined) continue;
      out[arg] = out[m.from];
    } else {
      const isObject = typeof held === 'object' && held !== null && !Array.isArray(held);
      if (held !== undefined && (!isObject || key in held)) continue;
      out[arg] = { ...(held as object | undefined), [key]: out[m.from] };
    }
    delete out[m.from];
  }
  return out;
}

/**
 * Text, or a list of texts ("filter": ["statecode eq 0", "revenue gt 5000000"], each a condition, all of them to
 * hold): that text, the list's joined with "and", each in parentheses so that an "or" in one stays inside it.
 * Each is a whole condition, with a space or a function's parenthesis: ["name", "eq", "Contoso"] is one
 * condition as a list of three (where reads those), not three.
 */
export function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v) || !v.length || !v.every((x) => typeof x === 'string' && /[\s(]/.test(x.trim())))
    return undefined;
  return v.length === 1 ? (v[0] as string) : v.map((x) => `(${(x as string).trim()})`).join(' and ');
}

/** An argument that holds a record's other columns (create_lead's "extra", update_record's "values"). */
export interface Elsewhere<K extends string> {
  into: K;
  /** what goes there, e.g. 'Other lead columns' */
  what: string;
  /** an example of its JSON, said when no argument given looks like a column */
  example: string;
}

/**
 * Arguments that are no argument of the tool, each named as Dataverse names a column (lower case, digits and
 * underscores: "jobtitle", "closeprobability", "new_region") and near no argument's name: the record's columns,
 * moved into the argument that holds them (create_lead's extra, update_record's values), where each is checked
 * against the table's metadata and the policy as any column there is. Undefined, for the refusal, where any
 * unknown name is not such a column's, is near an argument, or is in that argument already.
 */
function intoColumns(
  into: string,
  unknown: string[],
  unmatched: string[],
  args: unknown,
): Record<string, unknown> | undefined {
  const given = args as Record<string, unknown>;
  const held = given[into] ?? {};
  if (typeof held !== 'object' || held === null || Array.isArray(held)) return undefined;
  const columns = unknown.every((k) => unmatched.includes(k) && /^[a-z][a-z0-9_]*$/.test(k) && !(k in held));
  if (!columns) return undefined;
  const rest = Object.fromEntries(Object.entries(given).filter(([k]) => !unknown.includes(k)));
  return { ...rest, [into]: { ...held, ...Object.fromEntries(unknown.map((k) => [k, given[k]])) } };
}

/**
 * Where the arguments that are no argument of the tool belong, said as the JSON to send: a model that wrote
 * update_record's {"prioritycode": "Low"} beside "values" is shown {"values": {"prioritycode": "Low"}} and can
 * send that (the column is checked there, against the table's metadata and the policy, as any other). A long
 * value is shown as …, not echoed whole.
 */
function moveInto(e: Elsewhere<string>, unmatched: string[], args: Record<string, unknown>): string {
  if (!unmatched.length) return `${e.what} go in "${e.into}", e.g. ${e.example}.`;
  const shown = unmatched.map((k) => {
    const json = JSON.stringify(args[k]) ?? 'null';
    return `${JSON.stringify(k)}: ${json.length > 60 ? '…' : json}`;
  });
  const held = args[e.into];
  const beside = typeof held === 'object' && held !== null && Object.keys(held).length ? ', beside what it holds' : '';
  return `${e.what} go in "${e.into}"${beside}: {"${e.into}": {${shown.join(', ')}}}.`;
}

/**
 * Each argument's JSON type as tools/list shows it (number, boolean, array, object, string). One that is a text
 * or a list (update_record's id: one record, or several) counts as a list: its text is read as one only when it
 * is a JSON list written out, which no record's id or name is. One that is an object or a list of them
 * (create_record's values) is read from either written out.
 */
function declaredTypes(schema: z.ZodType): Map<string, string> {
  type Listed = { type?: unknown; anyOf?: { type?: unknown }[] };
  // as listed (stand-ins included): what a client that sends text read the type from
  const js = jsonSchemaOf(schema, 'input') as { properties?: Record<string, Listed> };
  return new Map(
    Object.entries(js.properties ?? {}).flatMap(([k, p]) =>
      typeof p.type === 'string'
        ? [[k, p.type]]
        : p.anyOf?.some((b) => b.type === 'array') && p.anyOf.some((b) => b.type === 'string')
          ? [[k, 'list or text']]
          : // an object or a list of them (create_record's values): either, written out as JSON
            p.anyOf?.length && p.anyOf.every((b) => b.type === 'object' || b.type === 'array')
            ? [[k, 'object']]
            : [],
    ),
  );
}

/**
 * Some clients send every argument as text: Claude Code and Claude Desktop have sent numbers, booleans, lists
 * and objects as strings (anthropics/claude-code#24597, github/github-mcp-server#2044), and the call failed
 * with "expected number, received string" before the tool ran. A text that is exactly the declared type
 * written out ("5", "true", JSON of a list or object) is read as that value; any other text is left for the
 * schema to refuse with its own message.
 */
function untext(args: Record<string, unknown>, types: Map<string, string>): Record<string, unknown> {
  let out = args;
  for (const [k, v] of Object.entries(args)) {
    // the other way round: a whole number where text is declared (an alert id 4711) is that text; one past
    // 2^53 is left to be refused, as JSON has already lost its last digits
    const value =
      typeof v === 'number' && Number.isSafeInteger(v) && types.get(k) === 'string'
        ? String(v)
        : typeof v === 'string'
          ? fromText(v.trim(), types.get(k))
          : undefined;
    if (value === undefined) continue;
    if (out === args) out = { ...args };
    out[k] = value;
  }
  return out;
}

function fromText(t: string, type: string | undefined): unknown {
  switch (type) {
    case 'integer':
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : undefined;
    case 'boolean':
      return t === 'true' ? true : t === 'false' ? false : undefined;
    case 'list or text': {
      if (!/^\[[\s\S]*\]$/.test(t)) return undefined;
      try {
        const parsed: unknown = JSON.parse(t);
        return Array.isArray(parsed) ? parsed : undefined;
      } catch {
        return undefined;
      }
    }
    case 'array':
    case 'object': {
      if (!/^[[{][\s\S]*[\]}]$/.test(t)) return undefined;
      try {
        const parsed: unknown = JSON.parse(t);
        return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}
