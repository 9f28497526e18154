import { DynamicsMcpError, type ErrorKind } from '../../errors.js';
import type { ToolContext, ToolDefinition } from '../define.js';
import { atMost } from './at-once.js';
import { auditedItemByItem, auditRefusal } from './audit-refusal.js';

/** Items of one call in flight at once: each is a few requests (Dataverse allows 52 at once per user). */
const AT_ONCE = 4;

/** A failure that is about the call, not one item: every item after it would fail the same way. */
const ABOUT_THE_CALL: ReadonlySet<ErrorKind> = new Set([
  'auth',
  'config',
  'permission',
  'read_only',
  'throttled',
  'server',
  'network',
  'timeout',
  'cancelled',
]);

/** What became of one item of a call that writes several: its answer, why Dynamics refused it, or not tried. */
export type Outcome<A> =
  | { answer: A; err?: undefined }
  | { err: DynamicsMcpError; answer?: undefined }
  | { skipped: true; answer?: undefined; err?: undefined };

/**
 * Runs `one` for each item, a few at a time, the items of a group one after another in the order given (the
 * same person listed twice: the second finds what the first made). An item Dynamics refuses is kept with its
 * error and audited as the single call's refusal is (`write` says how), and the others still go; a failure
 * about the call itself (the sign-in, a privilege, the connection) stops the items not yet started. Every item
 * has its outcome, in the order given. Nothing answered, for one reason: that reason, as the error of the call.
 */
export async function eachOf<T, A>(
  ctx: ToolContext,
  items: readonly T[],
  opts: {
    groups?: number[][];
    /** what the items are, in the progress messages and in "None of the 3 <what> was <done>" */
    what: string;
    done: string;
    write: Pick<ToolDefinition, 'name' | 'audited'>;
    /** the item's arguments, as the single call's (the audit of a refusal names the record from them) */
    args: (item: T) => Record<string, unknown>;
    one: (item: T, ctx: ToolContext) => Promise<A>;
  },
): Promise<{ outcomes: Outcome<A>[]; stopped?: DynamicsMcpError }> {
  const outcomes: Outcome<A>[] = items.map(() => ({ skipped: true }));
  let done = 0;
  let stopped: DynamicsMcpError | undefined;
  await atMost(AT_ONCE, opts.groups ?? items.map((_, i) => [i]), async (group) => {
    for (const i of group) {
      if (stopped) return;
      const item = items[i]!;
      // each its own context: what a call found its record to be (recordIdOf) is that item's alone
      const own: ToolContext = { ...ctx, recordId: undefined, recordName: undefined, recordTable: undefined };
      try {
        outcomes[i] = { answer: await opts.one(item, own) };
      } catch (err) {
        if (!(err instanceof DynamicsMcpError) || err.kind === 'cancelled') throw err;
        await auditRefusal(ctx.audit, opts.write, opts.args(item), own, err);
        outcomes[i] = { err };
        if (ABOUT_THE_CALL.has(err.kind)) stopped ??= err;
      }
      await ctx.progress(++done, items.length, `${done} of ${items.length} ${opts.what}`);
    }
  });
  const failed = outcomes.flatMap((o) => (o.err ? [o.err] : []));
  const first = failed[0];
  if (
    first &&
    !outcomes.some((o) => o.answer) &&
    failed.every((e) => e.message === first.message && e.kind === first.kind)
  )
    // each refusal is in the audit log already, by its record
    throw auditedItemByItem(
      new DynamicsMcpError(
        first.kind,
        `None of the ${items.length} ${opts.what} was ${opts.done}: ${first.message}`,
        first.hint,
        first.details,
      ),
    );
  return { outcomes, stopped };
}

/** An item's outcome in a call's structured result: its answer's part, or why it has none. */
export function outcomeError(o: Outcome<unknown>, stopped: DynamicsMcpError | undefined): string {
  return o.err ? `${o.err.message} ${o.err.hint}` : `not attempted: ${stopped?.message ?? 'the call stopped'}`;
}

/** The lines of an answer that say what was not done: each refusal with its fix, then those not tried. */
export function notDoneLines(
  outcomes: readonly Outcome<unknown>[],
  stopped: DynamicsMcpError | undefined,
  who: (i: number) => string,
  /** 'Not created:' */
  header: string,
  again: string,
): string[] {
  const refused = outcomes.flatMap((o, i) => (o.err ? [i] : []));
  const skipped = outcomes.flatMap((o, i) => ('skipped' in o ? [i] : []));
  if (!refused.length && !skipped.length) return [];
  const lines = [header];
  for (const i of refused) {
    const err = outcomes[i]!.err!;
    lines.push(`${who(i)}: Error (${err.kind}): ${err.message} How to fix: ${err.hint}`);
  }
  if (skipped.length)
    lines.push(
      `${skipped.map(who).join('; ')}: not attempted, as the call stopped at ${stopped ? `the failure above (${stopped.kind})` : 'a failure'}.`,
      again,
    );
  return lines;
}
