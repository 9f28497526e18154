import type { Row } from '../store/store.js';
import { badRequest, notFound, payloadError, validationError } from './errors.js';
import { assertPrivilege, type SecurityRole } from './security.js';
import { createRow, patchRow, type WriteContext } from './writes.js';

/**
 * CloseIncident (reference §6.2; "CloseIncident Action", Web API reference): POST [org]/api/data/v9.2/
 * CloseIncident, unbound, with `IncidentResolution` (the Case Resolution written with it: subject,
 * description, `incidentid@odata.bind` …) and `Status` (the case's new status reason, one of the Resolved
 * state's); no return value, so 204. The resolution and the case's new state are one change: both or neither.
 */
export function closeIncident(ctx: WriteContext, role: SecurityRole, userId: string, raw: string): void {
  const { schema, store } = ctx.env;
  const params = actionParams(raw);
  const resolution = params.IncidentResolution;
  if (!resolution || typeof resolution !== 'object' || Array.isArray(resolution))
    throw payloadError('incidentresolution', 'The IncidentResolution parameter is required.');
  if (!Number.isInteger(params.Status))
    throw payloadError('incident', 'The Status parameter is required and must be an Edm.Int32.');
  const caseDef = schema.entity('incident')!;
  const resolutionDef = schema.entity('incidentresolution')!;
  assertPrivilege(role, resolutionDef, 'create', userId);
  assertPrivilege(role, caseDef, 'write', userId);
  store.atomically(() => {
    const written: Row = createRow(ctx, resolutionDef, resolution as Record<string, unknown>);
    const ref = written.incidentid as { id: string } | null;
    if (!ref) throw validationError("The 'incidentid' attribute of the 'incidentresolution' entity is required.");
    const existing = store.table('incident').get(ref.id);
    if (!existing) throw notFound('incident', ref.id);
    // a resolved or cancelled case is read-only until it is reactivated (reference §6.2)
    if (existing.statecode !== 0)
      throw badRequest(`The case ${ref.id} is not active (statecode ${existing.statecode}): reactivate it first.`);
    patchRow(ctx, caseDef, ref.id, { statecode: 1, statuscode: params.Status }, {});
  });
}

/**
 * WinOpportunity and LoseOpportunity ("WinOpportunity Action", "LoseOpportunity Action", Web API reference):
 * POST [org]/api/data/v9.2/WinOpportunity (or LoseOpportunity), unbound, with `OpportunityClose` (the
 * Opportunity Close activity written with it: subject, description, actualrevenue, actualend,
 * `opportunityid@odata.bind`) and `Status` (the opportunity's new status reason, one of the Won state's or the
 * Lost state's); no return value, so 204. The close and the opportunity's new state are one change. Its
 * actual revenue and close date become the opportunity's (actualvalue, actualclosedate: the table "contains
 * information such as the description of the closing and actual revenue"); without a date, today's.
 */
export function closeOpportunity(
  ctx: WriteContext,
  role: SecurityRole,
  userId: string,
  raw: string,
  state: 'won' | 'lost',
): void {
  const { schema, store } = ctx.env;
  const params = actionParams(raw);
  const close = params.OpportunityClose;
  if (!close || typeof close !== 'object' || Array.isArray(close))
    throw payloadError('opportunityclose', 'The OpportunityClose parameter is required.');
  if (!Number.isInteger(params.Status))
    throw payloadError('opportunity', 'The Status parameter is required and must be an Edm.Int32.');
  const opportunityDef = schema.entity('opportunity')!;
  const closeDef = schema.entity('opportunityclose')!;
  assertPrivilege(role, closeDef, 'create', userId);
  assertPrivilege(role, opportunityDef, 'write', userId);
  store.atomically(() => {
    const written: Row = createRow(ctx, closeDef, close as Record<string, unknown>);
    const ref = written.opportunityid as { id: string } | null;
    if (!ref) throw validationError("The 'opportunityid' attribute of the 'opportunityclose' entity is required.");
    const existing = store.table('opportunity').get(ref.id);
    if (!existing) throw notFound('opportunity', ref.id);
    // a won or lost opportunity is read-only until it is reopened (reference §6.2)
    if (existing.statecode !== 0) throw badRequest('The opportunity is already closed.');
    const changes: Record<string, unknown> = {
      statecode: state === 'won' ? 1 : 2,
      statuscode: params.Status,
      actualclosedate: written.actualend ?? new Date().toISOString().slice(0, 10),
    };
    if (written.actualrevenue !== null && written.actualrevenue !== undefined)
      changes.actualvalue = written.actualrevenue;
    patchRow(ctx, opportunityDef, ref.id, changes, {});
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
