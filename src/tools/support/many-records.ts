import { z } from 'zod';
import type { DynamicsMcpError } from '../../errors.js';
import type { ToolContext, ToolDefinition } from '../define.js';
import { listedAs } from '../list-cache.js';
import { eachOf, notDoneLines, type Outcome, outcomeError } from './each-of.js';
import { idParam } from './schemas.js';

/**
 * Several records in one call: update_record's list of ids (the same change to each: "move these five deals'
 * close dates to the end of next month", "give Bob's open leads to Alice"), delete_record's ("take the travel
 * and training lines off the deal"), create_record's list of values ("add these three products to the
 * deal", "a follow-up task on each of these accounts") and resolve_case's ("resolve these three duplicate
 * alerts", with the same resolution). Each record goes through the whole of the single call, a few at a time;
 * one Dynamics refuses is said with why, and the others still go.
 */
export const MOST_RECORDS = 50;

/** Each record's outcome: checked in full, listed short (a model reads the result, not its schema; P10). */
export const EACH_RECORD = listedAs(
  z.array(
    z.strictObject({
      id: z.string().optional(),
      updated: z.boolean().optional(),
      duplicate: z.boolean().optional(),
      deleted: z.boolean().optional(),
      resolved: z.boolean().optional(),
      existing: z.boolean().optional(),
      error: z.string().optional(),
    }),
  ),
  { type: 'array', items: { type: 'object' } },
);

/**
 * An argument that is one record's (values) or a list of them: each checked by `one`, a refusal at its place
 * (values[2].name); an empty list or one past the most a call takes is refused with what to do.
 */
export function oneOrMany<T>(name: string, one: z.ZodType<T>, v: unknown, zc: z.RefinementCtx): T | T[] {
  // a list's record named by its place: "values is an object of …" said of the third is "values[2] is …"
  const forward = (r: z.ZodSafeParseResult<T>, at: (string | number)[]) => {
    if (!r.success)
      for (const issue of r.error.issues) {
        const placed =
          at.length && issue.message.startsWith(name)
            ? `${name}[${at[0]}]${issue.message.slice(name.length)}`
            : issue.message;
        zc.addIssue({ ...issue, code: 'custom', path: [...at, ...issue.path], message: placed } as never);
      }
    return r.success ? r.data : undefined;
  };
  if (!Array.isArray(v)) return forward(one.safeParse(v), []) as T;
  if (!v.length) zc.addIssue({ code: 'custom', message: `${name} is an empty list: give the records, or one record.` });
  if (v.length > MOST_RECORDS)
    zc.addIssue({
      code: 'custom',
      message: `${name} takes at most ${MOST_RECORDS} records a call: send the rest in another call.`,
    });
  return v.map((item, i) => forward(one.safeParse(item), [i])) as T[];
}

/**
 * The names models give update_record's and delete_record's entity, id and etag (toolArgs' renamed): a record's
 * whole name is its id where no id is given (beside one, update_record's name is a new name, for values).
 */
export const RECORD_ARGS_RENAMED = {
  recordId: 'id',
  // several records: the list goes in id
  ids: 'id',
  recordIds: 'id',
  name: 'id',
  fullname: 'id',
  table: 'entity',
  ifMatch: 'etag',
  '@odata.etag': 'etag',
} as const;
/** a record's name is its id only where no id is given (toolArgs' renamedAlone) */
export const NAME_ALONE = ['name', 'fullname'] as const;

/**
 * A record (its id or name), or a list of up to MOST_RECORDS: update_record's and delete_record's id. `verb`
 * says what the list is for ('change'), `each` what the list does (for the same change to each).
 */
export const idOrIds = (verb: string, each: string) =>
  z.union([idParam, z.array(idParam).min(1, `id is an empty list: give the records to ${verb}.`).max(MOST_RECORDS)], {
    error: (issue) =>
      issue.code !== 'invalid_union'
        ? undefined
        : Array.isArray(issue.input) && issue.input.length > MOST_RECORDS
          ? `id takes at most ${MOST_RECORDS} records a call: send the rest in another call.`
          : `id is a record's id (or name), or a list of up to ${MOST_RECORDS} of them ${each}.`,
  });

/**
 * A version (etag) is one record's: with several, it would be sent for each and refuse all but the one it is;
 * the same record twice in a list would be changed twice.
 */
export function oneVersionOneRecord(args: { id: string | string[]; etag?: string }, zc: z.RefinementCtx): void {
  if (!Array.isArray(args.id)) return;
  if (args.etag !== undefined)
    zc.addIssue({
      code: 'custom',
      path: ['etag'],
      message:
        "etag is one record's version: with a list of ids, leave it out (or update that record alone with its etag).",
    });
  const seen = new Set<string>();
  args.id.forEach((id, i) => {
    const key = id.toLowerCase();
    if (seen.has(key))
      zc.addIssue({
        code: 'custom',
        path: ['id', i],
        message: `id[${i}] is listed twice (${id}): give each record once.`,
      });
    seen.add(key);
  });
}

type Answer = {
  structured: {
    id?: string;
    updated?: boolean;
    duplicate?: boolean;
    deleted?: boolean;
    resolved?: boolean;
    /** resolve_case's: true where the case was resolved already (create_record's holds the record found) */
    existing?: unknown;
  };
  text: string;
};

/** What a call does to each record, in the words of its answer. */
interface Verb {
  tool: string;
  /** what the records are called in the answer: 'record', a case */
  noun: string;
  /** how the one question for the list begins */
  asking: (n: number) => string;
  /** what a decline left: 'none was changed' */
  none: string;
  /** 'Updated' */
  done: string;
  /** whether a record's answer is a change made (updated: true; created and not found) */
  made: (a: Answer) => boolean;
  /** what a record's entry in `records` says beside its id */
  outcome: (
    a: Answer,
  ) => { updated: boolean } | { duplicate: boolean } | { deleted: boolean } | { resolved: boolean; existing?: true };
  /** the items are the records' ids (or names) as given: a refused one is listed by it */
  byId: boolean;
  /** the heading of the records answered without a change, and how many */
  unchanged: { heading: string; count: (n: number) => string };
}

const UPDATE: Verb = {
  tool: 'update_record',
  noun: 'record',
  asking: (n) => `The same change to ${n} records`,
  none: 'none was changed',
  done: 'Updated',
  made: (a) => a.structured.updated === true,
  outcome: (a) => ({ updated: a.structured.updated ?? false }),
  byId: true,
  unchanged: { heading: 'Left as they were:', count: (n) => `${n} left as they were` },
};
const DELETE: Verb = {
  tool: 'delete_record',
  noun: 'record',
  asking: (n) => `${n} records to delete`,
  none: 'none was deleted',
  done: 'Deleted',
  made: (a) => a.structured.deleted === true,
  outcome: (a) => ({ deleted: a.structured.deleted ?? false }),
  byId: true,
  unchanged: { heading: 'Not there (deleted already, or not one of its records):', count: (n) => `${n} not there` },
};
const RESOLVE: Verb = {
  tool: 'resolve_case',
  noun: 'case',
  asking: (n) => `${n} cases to resolve`,
  none: 'none was resolved',
  done: 'Resolved',
  made: (a) => a.structured.resolved === true && a.structured.existing !== true,
  outcome: (a) => ({
    resolved: a.structured.resolved ?? false,
    ...(a.structured.existing === true ? { existing: true as const } : {}),
  }),
  byId: true,
  unchanged: { heading: 'Resolved already (nothing changed):', count: (n) => `${n} resolved already` },
};
const CREATE: Verb = {
  tool: 'create_record',
  noun: 'record',
  asking: (n) => `${n} records to create`,
  none: 'none was made',
  done: 'Created',
  made: (a) => a.structured.duplicate !== true && a.structured.id !== undefined,
  outcome: (a) => ({ duplicate: a.structured.duplicate ?? false }),
  byId: false,
  unchanged: {
    heading: 'There already (not created again):',
    count: (n) => `${n} ${n === 1 ? 'was' : 'were'} there already`,
  },
};

/**
 * update_record's, delete_record's or resolve_case's run: a call with one id is `one`'s; with a list, each id
 * (or name) goes through `one` with the call's other arguments, the same for each.
 */
export const oneOrEachId =
  <P extends { id: string | string[] }, A extends Answer>(
    kind: 'update' | 'delete' | 'resolve',
    write: Pick<ToolDefinition, 'name' | 'audited'>,
    one: (args: Omit<P, 'id'> & { id: string }, ctx: ToolContext) => Promise<A>,
  ) =>
  (args: P, ctx: ToolContext) => {
    const ids = args.id;
    if (!Array.isArray(ids)) return one({ ...args, id: ids }, ctx);
    return eachRecord(
      ctx,
      ids,
      { update: UPDATE, delete: DELETE, resolve: RESOLVE }[kind],
      (id) => ({ ...args, id }),
      write,
      (id, own) => one({ ...args, id }, own),
      (i) => ids[i]!,
    );
  };

/**
 * create_record's records: each set of values through `one`. Two with the same name or email are taken one
 * after the other, in the order given, so the second finds the first rather than racing it.
 */
export const createEach = <V extends Record<string, unknown>, A extends Answer>(
  ctx: ToolContext,
  list: readonly V[],
  args: (values: V) => Record<string, unknown>,
  write: Pick<ToolDefinition, 'name' | 'audited'>,
  one: (values: V, ctx: ToolContext) => Promise<A>,
) => eachRecord(ctx, list, CREATE, args, write, one, (i) => named(list[i]!), sameKeys(list));

/** A record not made, as the answer names it: by what it would have been called, else its values in part. */
function named(values: Record<string, unknown>): string {
  const said = ['name', 'fullname', 'subject', 'title', 'productdescription', 'productid']
    .map((k) => values[k])
    .find((v) => typeof v === 'string' && v.trim());
  const json = JSON.stringify(values);
  return typeof said === 'string' ? `"${said}"` : json.length > 120 ? `${json.slice(0, 119)}…` : json;
}

/** The places of records a single create could find as one (the same email or name), in the order given. */
function sameKeys(list: readonly Record<string, unknown>[]): number[][] {
  const groups = new Map<string, number[]>();
  list.forEach((v, i) => {
    const said = v.emailaddress1 ?? v.name ?? v.fullname ?? v.subject ?? v.title;
    const key = typeof said === 'string' ? `=${said.trim().toLowerCase()}` : `#${i}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  return [...groups.values()];
}

/**
 * Each record through `one`, a few at a time (eachOf). Where the policy asks the user to confirm, the user is
 * asked once for the list (the first record's question, said to stand for all), and that answer is each record's.
 */
async function eachRecord<T, A extends Answer>(
  ctx: ToolContext,
  items: readonly T[],
  verb: Verb,
  args: (item: T) => Record<string, unknown>,
  write: Pick<ToolDefinition, 'name' | 'audited'>,
  one: (item: T, ctx: ToolContext) => Promise<A>,
  who: (i: number) => string,
  groups?: number[][],
) {
  let asked: ReturnType<ToolContext['confirm']> | undefined;
  const confirm: ToolContext['confirm'] = (message) =>
    (asked ??= ctx.confirm(
      `${verb.asking(items.length)}; the first: ${message} (Your answer is for all ${items.length}.)`,
    ));
  const { outcomes, stopped } = await eachOf(ctx, items, {
    ...(groups ? { groups } : {}),
    what: `${verb.noun}s`,
    done: verb.done.toLowerCase(),
    write,
    args,
    one: (item, own) => one(item, { ...own, confirm }),
  });
  const records = outcomes.map((o, i) =>
    o.answer
      ? {
          ...(o.answer.structured.id ? { id: o.answer.structured.id } : {}),
          ...verb.outcome(o.answer),
        }
      : // a record given by id (or name): as given
        { ...(verb.byId ? { id: String(items[i]) } : {}), error: outcomeError(o, stopped) },
  );
  const choice = asked ? await asked : undefined;
  if ((choice === 'decline' || choice === 'cancel') && !outcomes.some((o) => o.answer && verb.made(o.answer)))
    return {
      structured: { records },
      text: `Not ${verb.done.toLowerCase()}: the user chose "${choice}" for all ${items.length} ${verb.noun}s; ${verb.none}.`,
    };
  return { structured: { records }, text: answerText(items.length, verb, outcomes, stopped, who) };
}

function answerText(
  n: number,
  verb: Verb,
  outcomes: readonly Outcome<Answer>[],
  stopped: DynamicsMcpError | undefined,
  who: (i: number) => string,
) {
  const made = outcomes.flatMap((o, i) => (o.answer && verb.made(o.answer) ? [i] : []));
  const unchanged = outcomes.flatMap((o, i) => (o.answer && !verb.made(o.answer) ? [i] : []));
  const refused = outcomes.filter((o) => o.err).length;
  const skipped = outcomes.filter((o) => 'skipped' in o).length;
  const counts = [
    `${verb.done} ${made.length} of ${n} ${verb.noun}${n === 1 ? '' : 's'}`,
    unchanged.length ? verb.unchanged.count(unchanged.length) : '',
    refused ? `${refused} refused` : '',
    skipped ? `${skipped} not attempted` : '',
  ].filter(Boolean);
  const line = (i: number) => `${i + 1}. ${outcomes[i]!.answer!.text}`;
  return [
    `${counts.join('; ')} (numbered in the order given).`,
    ...notDoneLines(
      outcomes,
      stopped,
      (i) => `${i + 1}. ${who(i)}`,
      `Not ${verb.done.toLowerCase()}:`,
      `Call ${verb.tool} again with the ${verb.noun}s not ${verb.done.toLowerCase()}, once that is fixed.`,
    ),
    ...(made.length ? [`${verb.done}:`, ...made.map(line)] : []),
    ...(unchanged.length ? [verb.unchanged.heading, ...unchanged.map(line)] : []),
  ].join('\n');
}
