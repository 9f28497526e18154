import { aTable, DynamicsMcpError } from '../../errors.js';
import type { ToolContext } from '../define.js';

/**
 * Dynamics' refusals to close a case whose activities are not all closed (ERRCODES): 0x8004440a
 * unManagedidsincidentcannotclose on resolving, 0x8004440e IncidentCannotCancel on cancelling.
 */
const CODES = { resolve: '0x8004440a', cancel: '0x8004440e' } as const;
/** ActivityPointer's states still to be done: Open, and an appointment's Scheduled */
const OPEN = [0, 3];
/** How many of them are listed; past that, the query that lists them all */
const LISTED = 25;

/**
 * A case Dynamics would not resolve or cancel because activities regarding it are still open: the refusal with
 * those activities named (what, which kind, due when, id), and the way on, which is the user's to choose: each one
 * done (completed) or not to be done (canceled), as Dynamics' Resolve Case dialog asks before it cancels them.
 * Nothing is closed here unasked. Undefined for any other error. Read only after the refusal: a case without open
 * activities costs no request more.
 */
export async function openActivitiesRefusal(
  ctx: ToolContext,
  err: unknown,
  caseId: string,
  named: string,
  closing: 'resolve' | 'cancel',
): Promise<DynamicsMcpError | undefined> {
  if (!(err instanceof DynamicsMcpError) || err.details.code?.toLowerCase() !== CODES[closing]) return undefined;
  const retry = closing === 'resolve' ? 'call resolve_case again' : 'cancel the case again';
  const readable = ['activityid', 'activitytypecode', 'regardingobjectid', 'statecode'].every((c) =>
    ctx.policy.canRead('activitypointer', c),
  );
  const where = {
    and: [
      { column: 'regardingobjectid', op: 'eq' as const, value: caseId },
      { column: 'statecode', op: 'in' as const, value: OPEN },
    ],
  };
  const rows = readable
    ? await ctx.client
        .query(
          {
            entity: 'activitypointer',
            select: ['activitytypecode', 'subject', 'scheduledend'].filter((c) =>
              ctx.policy.canRead('activitypointer', c),
            ),
            where,
            orderBy: ctx.policy.canRead('activitypointer', 'createdon') ? 'createdon asc' : undefined,
            top: LISTED + 1,
          },
          { signal: ctx.signal, internal: true },
        )
        .then((page) => page.rows)
        .catch(() => undefined)
    : undefined;
  // the query that lists them all, as the model would send it
  const listsThem = `query_entities on activitypointer with where ${JSON.stringify({ regardingobjectid: caseId, statecode: { in: ['Open', 'Scheduled'] } })}`;
  const why = `a case is ${closing === 'resolve' ? 'resolved' : 'cancelled'} only once every activity regarding it is completed or canceled`;
  if (!rows?.length)
    return new DynamicsMcpError(
      'validation',
      `Dynamics did not ${closing} ${named}: it has open activities (tasks, calls, emails or meetings regarding it), and ${why}. Nothing was changed.`,
      `Ask the user whether each was done, then complete it (update_record with {"statecode": "Completed"}) or cancel it ({"statecode": "Canceled"}) and ${retry}; ${
        readable
          ? `${listsThem} lists them`
          : "the case's Timeline in Dynamics lists them (this server's policy does not let it read a case's activities)"
      }.`,
      { ...err.details, retryable: false },
    );
  const shown = rows.slice(0, LISTED);
  const byTable = new Map<string, string[]>();
  for (const r of shown) {
    const table = String(r.activitytypecode);
    byTable.set(table, [...(byTable.get(table) ?? []), String(r.activityid)]);
  }
  const listed = shown
    .map(
      (r) =>
        `${r.activitytypecode}${typeof r.subject === 'string' ? ` "${r.subject}"` : ''}${typeof r.scheduledend === 'string' ? ` (due ${r.scheduledend.slice(0, 10)})` : ''} ${r.activityid}`,
    )
    .join('; ');
  const more = rows.length > LISTED ? `, and more (${listsThem} lists them all)` : '';
  // each table's activities in one update, where this server may change their state; else in Dynamics
  const ways = [...byTable]
    .sort(([a], [b]) => Number(ctx.policy.canWrite(b, 'statecode')) - Number(ctx.policy.canWrite(a, 'statecode')))
    .map(([table, ids]) =>
      ctx.policy.canWrite(table, 'statecode')
        ? `update_record {"entity": "${table}", "id": ${JSON.stringify(ids.length === 1 ? ids[0] : ids)}, "values": {"statecode": "Completed"}} (or "Canceled")`
        : `in Dynamics for the ${table} (this server's policy does not change ${aTable(table)}'s state)`,
    )
    .join('; ');
  return new DynamicsMcpError(
    'validation',
    `Dynamics did not ${closing} ${named}: ${why}, and ${rows.length > LISTED ? `over ${LISTED} are` : rows.length === 1 ? 'one is' : `${rows.length} are`} still open: ${listed}${more}. Nothing was changed.`,
    `Ask the user whether each was done (completed) or is no longer to be done (canceled), as Dynamics' Resolve Case dialog does; close them as they say: ${ways}; then ${retry}.`,
    { ...err.details, retryable: false },
  );
}
