import type { Row } from '../store/store.js';
import { badRequest, notFound, payloadError, validationError } from './errors.js';
import { assertPrivilege, type SecurityRole } from './security.js';
import { createRow, patchRow, type WriteContext } from './writes.js';

/**
 * A closing action: an unbound POST whose activity parameter (the record written with the close) points at
 * the record it closes, and whose `Status` is the record's new status reason; no return value, so 204. The
 * activity and the record's new state are one change: both or neither. A record already closed is refused:
 * it is read-only until it is reopened (reference §6.2).
 */
interface Closing {
  /** the action's parameter holding the activity, and the activity's table */
  param: string;
  activity: string;
  /** the table closed, and the activity's lookup to it */
  target: string;
  lookup: string;
  /** the record's new state, and what else the activity sets on it */
  state: number;
  changes?: (written: Row) => Record<string, unknown>;
  closed: (id: string, existing: Row) => string;
}

function close(ctx: WriteContext, role: SecurityRole, userId: string, raw: string, c: Closing): void {
  const { schema, store } = ctx.env;
  const params = actionParams(raw);
  const activity = params[c.param];
  if (!activity || typeof activity !== 'object' || Array.isArray(activity))
    throw payloadError(c.activity, `The ${c.param} parameter is required.`);
  if (!Number.isInteger(params.Status))
    throw payloadError(c.target, 'The Status parameter is required and must be an Edm.Int32.');
  const targetDef = schema.entity(c.target)!;
  const activityDef = schema.entity(c.activity)!;
  assertPrivilege(role, activityDef, 'create', userId);
  assertPrivilege(role, targetDef, 'write', userId);
  store.atomically(() => {
    const written: Row = createRow(ctx, activityDef, activity as Record<string, unknown>);
    const ref = written[c.lookup] as { id: string } | null;
    if (!ref) throw validationError(`The '${c.lookup}' attribute of the '${c.activity}' entity is required.`);
    const existing = store.table(c.target).get(ref.id);
    if (!existing) throw notFound(c.target, ref.id);
    if (existing.statecode !== 0) throw badRequest(c.closed(ref.id, existing));
    const changes = { statecode: c.state, statuscode: params.Status, ...c.changes?.(written) };
    patchRow(ctx, targetDef, ref.id, changes, {});
  });
}

/**
 * CloseIncident (reference §6.2; "CloseIncident Action", Web API reference): POST [org]/api/data/v9.2/
 * CloseIncident with `IncidentResolution` (the Case Resolution: subject, description, `incidentid@odata.bind`
 * …) and `Status` (one of the Resolved state's reasons).
 */
export function closeIncident(ctx: WriteContext, role: SecurityRole, userId: string, raw: string): void {
  close(ctx, role, userId, raw, {
    param: 'IncidentResolution',
    activity: 'incidentresolution',
    target: 'incident',
    lookup: 'incidentid',
    state: 1,
    closed: (id, existing) => `The case ${id} is not active (statecode ${existing.statecode}): reactivate it first.`,
  });
}

/**
 * WinOpportunity and LoseOpportunity ("WinOpportunity Action", "LoseOpportunity Action", Web API reference):
 * POST [org]/api/data/v9.2/WinOpportunity (or LoseOpportunity) with `OpportunityClose` (the Opportunity Close:
 * subject, description, actualrevenue, actualend, `opportunityid@odata.bind`) and `Status` (one of the Won or
 * the Lost state's reasons). The close's actual revenue and date become the opportunity's (actualvalue,
 * actualclosedate: the table "contains information such as the description of the closing and actual
 * revenue"); without a date, today's.
 */
export function closeOpportunity(
  ctx: WriteContext,
  role: SecurityRole,
  userId: string,
  raw: string,
  state: 'won' | 'lost',
): void {
  close(ctx, role, userId, raw, {
    param: 'OpportunityClose',
    activity: 'opportunityclose',
    target: 'opportunity',
    lookup: 'opportunityid',
    state: state === 'won' ? 1 : 2,
    changes: (written) => ({
      actualclosedate: written.actualend ?? new Date().toISOString().slice(0, 10),
      ...(written.actualrevenue !== null && written.actualrevenue !== undefined
        ? { actualvalue: written.actualrevenue }
        : {}),
    }),
    closed: () => 'The opportunity is already closed.',
  });
}

/** An action's parameters: its JSON body's object. */
function actionParams(raw: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw || '{}');
  } catch (err) {
    throw badRequest(`The request body is not valid JSON: ${(err as Error).message}`, '0x80048d19');
  }
  return (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
}
