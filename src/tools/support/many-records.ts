import { z } from 'zod';
import type { DynamicsMcpError } from '../../errors.js';
import type { ToolContext, ToolDefinition } from '../define.js';
import { listedAs } from '../list-cache.js';
import { eachOf, notDoneLines, type Outcome, outcomeError } from './each-of.js';

/**
 * update_record's list of records: the same change to each ("move these five deals' close date to the end of
 * next month", "give Bob's open leads to Alice"), one call instead of one per record. Each record goes through
 * the whole of update_record (found by id or name, its state changes by Dynamics' actions, its duplicate rules,
 * closed records refused), a few at a time; one Dynamics refuses is said with why, and the others still change.
 */
export const MOST_RECORDS = 50;

/** Each record's outcome: checked in full, listed short (a model reads the result, not its schema; P10). */
export const EACH_RECORD = listedAs(
  z.array(z.strictObject({ id: z.string(), updated: z.boolean().optional(), error: z.string().optional() })),
  { type: 'array', items: { type: 'object' } },
);

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

type Answer = { structured: { id?: string; updated?: boolean; entity?: string }; text: string };

/**
 * Updates each record (`one`), a few at a time, in the order given (eachOf). Where the policy asks the user to
 * confirm, the user is asked once for the list (the first record's question, said to stand for all), and that
 * answer is each record's.
 */
export async function updateEach<A extends Answer>(
  ctx: ToolContext,
  ids: readonly string[],
  args: (id: string) => Record<string, unknown>,
  write: Pick<ToolDefinition, 'name' | 'audited'>,
  one: (id: string, ctx: ToolContext) => Promise<A>,
) {
  let asked: ReturnType<ToolContext['confirm']> | undefined;
  const confirm: ToolContext['confirm'] = (message) =>
    (asked ??= ctx.confirm(
      `The same change to ${ids.length} records; the first: ${message} (Your answer is for all ${ids.length}.)`,
    ));
  const { outcomes, stopped } = await eachOf(ctx, ids, {
    what: 'records',
    done: 'updated',
    write,
    args,
    one: (id, own) => one(id, { ...own, confirm }),
  });
  const records = outcomes.map((o, i) =>
    o.answer
      ? { id: o.answer.structured.id ?? ids[i]!, updated: o.answer.structured.updated ?? false }
      : { id: ids[i]!, error: outcomeError(o, stopped) },
  );
  const choice = asked ? await asked : undefined;
  if ((choice === 'decline' || choice === 'cancel') && !records.some((r) => r.updated))
    return {
      structured: { records },
      text: `Not updated: the user chose "${choice}" for all ${ids.length} records; none was changed.`,
    };
  return { structured: { records }, text: answerText(ids, outcomes, stopped) };
}

function answerText(
  ids: readonly string[],
  outcomes: readonly Outcome<Answer>[],
  stopped: DynamicsMcpError | undefined,
) {
  const updated = outcomes.flatMap((o, i) => (o.answer?.structured.updated ? [i] : []));
  const unchanged = outcomes.flatMap((o, i) => (o.answer && !o.answer.structured.updated ? [i] : []));
  const refused = outcomes.filter((o) => o.err).length;
  const skipped = outcomes.filter((o) => 'skipped' in o).length;
  const counts = [
    `Updated ${updated.length} of ${ids.length} records`,
    unchanged.length ? `${unchanged.length} left as they were` : '',
    refused ? `${refused} refused` : '',
    skipped ? `${skipped} not attempted` : '',
  ].filter(Boolean);
  return [
    `${counts.join('; ')} (numbered in the order given).`,
    ...notDoneLines(
      outcomes,
      stopped,
      (i) => `${i + 1}. ${ids[i]}`,
      'Not updated:',
      'Call update_record again with the records not updated, once that is fixed.',
    ),
    ...(updated.length ? ['Updated:', ...updated.map((i) => `${i + 1}. ${outcomes[i]!.answer!.text}`)] : []),
    ...(unchanged.length
      ? ['Left as they were:', ...unchanged.map((i) => `${i + 1}. ${outcomes[i]!.answer!.text}`)]
      : []),
  ].join('\n');
}
