import { z } from 'zod';
import { minutesAsMeant } from '../dynamics/durations.js';
import { badInput } from '../errors.js';
import { defineTool, type ToolContext } from './define.js';
import { toolArgs } from './support/args.js';
import { childCasesNote, childCasesOf } from './support/child-cases.js';
import { EACH_RECORD, idOrIds, MOST_RECORDS, oneOrEachId, oneVersionOneRecord } from './support/many-records.js';
import { openActivitiesRefusal } from './support/open-activities.js';
import { recordIdOf } from './support/record-id.js';
import { EMPTY } from './support/schemas.js';
import { FORMATTED, recordUrl } from './support/shape.js';
import { resolvedAgainstSla } from './support/sla-times.js';
import { changeStateOnce, declinedByUser, stateReason } from './support/state-change.js';

/** A case's states (reference §11, incident): 0 Active, 1 Resolved, 2 Canceled. */
const ACTIVE = 0;
const RESOLVED = 1;
/** Resolved's status reasons in every organisation: 5 Problem Solved (its default), 1000 Information Provided */
const DOCUMENTED_RESOLVED = [5, 1000];
/** Case Resolution's subject (IncidentResolution.subject: 200 characters) */
const RESOLUTION_MAX = 200;

/** A resolution as the audit log has it */
const RESOLVE = {
  name: 'resolve_case',
  audited: (a: Record<string, unknown>) => ({ entity: 'incident', id: String(a.id), action: 'resolve' as const }),
};

export const resolveCase = defineTool({
  name: 'resolve_case',
  title: 'Resolve a Dynamics case',
  description:
    'Resolve an open case with what fixed it and the billable time (Dynamics writes a Case Resolution); one already resolved is returned as is.',
  inputSchema: toolArgs(
    'resolve_case',
    {
      // several: "resolve these three duplicate alerts", each with the same resolution
      id: idOrIds('resolve', 'to resolve each').describe(`One case, or up to ${MOST_RECORDS}.`),
      resolution: z.string().trim().min(1, EMPTY).max(RESOLUTION_MAX).describe('What resolved it.'),
      status: z
        .string()
        .trim()
        .min(1, EMPTY)
        .max(100)
        .optional()
        .describe('Resolved status reason (default: Problem Solved).'),
      // the Resolve Case form's Billable Time (the resolution's timespent): listed without a description, its
      // name says it, and "1.5 hours" is read as 90 (durations.ts)
      billableMinutes: z.preprocess(
        minutesAsMeant,
        z
          .number({ error: 'billableMinutes is a number of minutes, e.g. 30, or "1.5 hours".' })
          .int('billableMinutes is whole minutes, e.g. 90 for an hour and a half.')
          .min(0, 'billableMinutes cannot be less than 0.')
          .optional(),
      ),
    },
    {
      renamed: {
        caseId: 'id',
        incidentid: 'id',
        // the case named as the tool's name and Dynamics' form say it
        case: 'id',
        incident: 'id',
        title: 'id',
        ticketnumber: 'id',
        caseNumber: 'id',
        subject: 'resolution',
        summary: 'resolution',
        // the resolution's column, the form's label, and time as models name it
        timespent: 'billableMinutes',
        timeSpent: 'billableMinutes',
        billableTime: 'billableMinutes',
        billable_time: 'billableMinutes',
        timeSpentMinutes: 'billableMinutes',
        minutes: 'billableMinutes',
        duration: 'billableMinutes',
        durationMinutes: 'billableMinutes',
        statuscode: 'status',
        cases: 'id',
        caseIds: 'id',
        ids: 'id',
      },
      meant: {
        // a reason can as well be the resolution's words
        reason: 'status',
      },
    },
  ).superRefine(oneVersionOneRecord),
  // one case: its state after; several: each one's outcome (records)
  outputSchema: z.object({
    id: z.string().optional(),
    title: z.string().optional(),
    ticketnumber: z.string().optional(),
    resolved: z.boolean().optional(),
    status: z.string().optional(),
    existing: z.boolean().optional(),
    url: z.string().optional(),
    records: EACH_RECORD.optional(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  writes: true,
  audited: RESOLVE.audited,
  run: oneOrEachId('resolve', RESOLVE, resolveOne),
});

/** One case's resolution: the whole of resolve_case for one id. */
async function resolveOne(
  args: { id: string; resolution: string; status?: string; billableMinutes?: number },
  ctx: ToolContext,
) {
  // a policy without Case Resolutions to write: said before the case is looked for, nothing asked of Dynamics
  ctx.policy.assertWritable('incidentresolution', [], 'Resolving a case');
  const model = await ctx.client.checker.entity('incident');
  const statusColumn = model.columns.get('statuscode');
  // the case by its id or by its number ("CAS-01000-EYQG4V"), as support quotes it; by its title, of the
  // cases with it the one still open, where only one is (the others were resolved or cancelled before)
  const id = await recordIdOf(ctx, 'incident', args.id, true);
  // the case's state must be readable (it decides everything here); its title and number are named if they are
  if (!ctx.policy.canRead('incident', 'statecode'))
    throw badInput(
      "resolve_case reads a case's state (statecode) first, which this server's policy does not let it read.",
      "Add statecode and statuscode to incident's read list in the policy, or resolve the case in Dynamics.",
    );
  const select = ['title', 'ticketnumber', 'statecode', 'statuscode', 'resolveby', 'masterid'].filter((c) =>
    ctx.policy.canRead('incident', c),
  );
  const read = async () => (await ctx.client.get('incident', id, { select, signal: ctx.signal })).row;
  const before = await read();
  const label = (v: unknown) => {
    const o = statusColumn?.options?.find((x) => x.value === v);
    return o ? `${o.label} (${o.value})` : String(v);
  };
  const answer = (row: typeof before, existing: boolean, text: string) => ({
    structured: {
      id,
      title: String(row.title ?? id),
      ...(typeof row.ticketnumber === 'string' ? { ticketnumber: row.ticketnumber } : {}),
      resolved: row.statecode === RESOLVED,
      status: label(row.statuscode),
      existing,
      url: recordUrl(ctx.config.dynamics.url, 'incident', id),
    },
    text,
  });
  const named = `case ${before.ticketnumber ?? id}${typeof before.title === 'string' ? ` "${before.title}"` : ''}`;
  if (before.statecode === RESOLVED)
    return answer(
      before,
      true,
      `The ${named} was already resolved (${label(before.statuscode)}); nothing was changed.`,
    );
  // a case merged into another (the same problem reported twice) is worked on, and resolved, as that one
  const master = before._masterid_value;
  if (before.statecode !== ACTIVE && typeof master === 'string') {
    const kept = before[`_masterid_value${FORMATTED}`];
    throw badInput(
      `Case ${before.ticketnumber ?? id} was merged into the case ${typeof kept === 'string' ? `"${kept}" (${master})` : master}, where its problem is worked on: a merged case is not resolved.`,
      `If that case's problem is solved, resolve it: resolve_case with id "${master}".`,
    );
  }
  if (before.statecode !== ACTIVE)
    throw badInput(
      `Case ${before.ticketnumber ?? id} is cancelled, not open: a cancelled case cannot be resolved.`,
      // the way back where this server may take it: reopening is an update of the case's state
      ctx.policy.canWrite('incident', 'statecode')
        ? 'Only if the user wants it reopened: update_record with {"statecode": "Active"} first, then resolve it; otherwise leave it cancelled.'
        : 'Reactivate it in Dynamics first, or leave it cancelled.',
    );
  const status = stateReason(model, RESOLVED, args.status, {
    byDefault: 5,
    documented: DOCUMENTED_RESOLVED,
    what: 'a resolved case',
  });
  const resolution = {
    subject: args.resolution,
    ...(args.billableMinutes !== undefined ? { timespent: args.billableMinutes } : {}),
  };
  const billed = args.billableMinutes !== undefined ? `, ${minutesSaid(args.billableMinutes)} billable` : '';
  // an admin who has writes to cases confirmed by the user has resolutions confirmed too
  const declined = await declinedByUser(
    ctx,
    ctx.policy.confirmWrites('incident') || ctx.policy.confirmWrites('incidentresolution'),
    () => `Resolve ${named} as ${label(status)}${billed}: "${args.resolution}"?`,
    { tool: 'resolve_case', entity: 'incident', id, action: 'resolve', notDone: 'not resolved' },
  );
  if (declined) return answer(before, false, `Not resolved: the user chose "${declined}".`);
  const children = await childCasesOf(ctx, id);
  const { after } = await changeStateOnce({
    // refused while activities regarding the case are open: said with them, for the user to close first
    act: () =>
      ctx.client
        .closeRecord('CloseIncident', id, resolution, status, { signal: ctx.signal })
        .catch(async (err: unknown) => {
          throw (await openActivitiesRefusal(ctx, err, id, named, 'resolve')) ?? err;
        }),
    read,
    state: RESOLVED,
    words: { state: 'resolved', did: 'resolved', named, doing: 'resolution' },
    label,
    audit: (outcome) =>
      ctx.audit.record({
        tool: 'resolve_case',
        entity: 'incident',
        id,
        action: 'resolve',
        columns: { ...resolution, statuscode: status },
        caller: ctx.caller,
        ...(outcome ? { outcome } : {}),
      }),
  });
  // judged by the resolve-by time as the case holds it once resolved: a case resolved from hold had its SLA
  // resumed first, its time moved on by the wait
  return answer(
    after,
    false,
    `Resolved ${named} (${label(after.statuscode)}${billed}).${resolvedAgainstSla(after.resolveby, Date.now())}${await childCasesNote(ctx, children, 'resolve them too if solved')}`,
  );
}

/** Minutes as the Resolve Case form shows billable time: "90 minutes (1.5 hours)" */
function minutesSaid(n: number): string {
  const m = `${n} minute${n === 1 ? '' : 's'}`;
  return n >= 60 ? `${m} (${+(n / 60).toFixed(2)} hour${n === 60 ? '' : 's'})` : m;
}
