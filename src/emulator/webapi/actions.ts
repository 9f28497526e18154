import type { Row } from '../store/store.js';
import { badRequest, notFound, payloadError, validationError } from './errors.js';
import { assertNoOpenActivities } from './open-activities.js';
import { assertPrivilege, type SecurityRole } from './security.js';
import { caseSlaStatus, stopClock } from './sla-clocks.js';
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
  /** what else closing the record changes, in the same change */
  after?: (ctx: WriteContext, id: string, existing: Row) => void;
  /** what keeps the record from being closed, beyond its state (refused by throwing) */
  before?: (ctx: WriteContext, id: string) => void;
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
    c.before?.(ctx, ref.id);
    const changes = { statecode: c.state, statuscode: params.Status, ...c.changes?.(written) };
    patchRow(ctx, targetDef, ref.id, changes, {}, true);
    c.after?.(ctx, ref.id, existing);
    // the close is a record of what was done, not a to-do: it is written Completed, as the activities shown
    // under a closed case or deal are (GUESS: no page says which state the action leaves it in)
    patchRow(ctx, activityDef, String(written[activityDef.primaryIdAttribute]), { statecode: 1 }, {}, true);
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
    before: (c, id) => assertNoOpenActivities(c.env.store, id, 'resolve'),
    after: resolveByMet,
  });
}

/**
 * A case resolved stops its resolve-by SLA clock if it was In Progress or Nearing Noncompliance (sla-clocks.ts),
 * and its resolvebyslastatus says how; a clock already Noncompliant, Succeeded or Canceled is left. (A case
 * resolved from hold had its clock resumed by the change of state, before this.)
 */
function resolveByMet(ctx: WriteContext, id: string, existing: Row): void {
  const { schema } = ctx.env;
  const met = stopClock(
    ctx.env,
    existing.resolvebykpiid,
    (clock, change) => patchRow(ctx, schema.entity('slakpiinstance')!, clock, change, {}, true),
    [0, 2],
  );
  if (met !== undefined)
    patchRow(ctx, schema.entity('incident')!, id, { resolvebyslastatus: caseSlaStatus(met) }, {}, true);
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
export function actionParams(raw: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw || '{}');
  } catch (err) {
    throw badRequest(`The request body is not valid JSON: ${(err as Error).message}`, '0x80048d19');
  }
  return (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
}

/**
 * QualifyLead ("QualifyLead Action", Web API reference): POST [org]/api/data/v9.2/leads(<id>)/
 * Microsoft.Dynamics.CRM.QualifyLead, bound to the lead, with CreateAccount, CreateContact, CreateOpportunity
 * (Edm.Boolean, required), Status (the lead's new status reason, one of Qualified's; required) and optionally
 * OpportunityCustomerId and OpportunityCurrencyId. It "qualifies a lead and creates account, contact, and
 * opportunity records that are linked to the originating lead record", and returns them:
 * Collection(crmbaseentity). As the platform does by default (its lead mappings), the account is made from the
 * company name and address, the contact from the person and belongs to the account, the opportunity from the
 * topic and estimate; the lead then names its new account and contact (parentaccountid, parentcontactid) and
 * the opportunity (qualifyingopportunityid). All of it is one change.
 */
export function qualifyLead(
  ctx: WriteContext,
  role: SecurityRole,
  userId: string,
  leadId: string,
  raw: string,
): { value: { entity: string; id: string }[] } {
  const { schema, store } = ctx.env;
  const params = actionParams(raw);
  for (const flag of ['CreateAccount', 'CreateContact', 'CreateOpportunity'])
    if (typeof params[flag] !== 'boolean')
      throw payloadError('lead', `The ${flag} parameter is required and must be an Edm.Boolean.`);
  if (!Number.isInteger(params.Status))
    throw payloadError('lead', 'The Status parameter is required and must be an Edm.Int32.');
  const leadDef = schema.entity('lead')!;
  assertPrivilege(role, leadDef, 'write', userId);
  const made: { entity: string; id: string }[] = [];
  store.atomically(() => {
    const lead = store.table('lead').get(leadId);
    if (!lead) throw notFound('lead', leadId);
    if (lead.statecode !== 0) throw badRequest(`The lead ${leadId} is not open: it cannot be qualified.`);
    const bind = (set: string, id: string) => `/${set}(${id})`;
    const originating = { 'originatingleadid@odata.bind': bind('leads', leadId) };
    const currency = (params.OpportunityCurrencyId as { transactioncurrencyid?: string } | undefined)
      ?.transactioncurrencyid;
    const leadCurrency = (lead.transactioncurrencyid as { id: string } | null)?.id;
    const make = (entity: string, body: Record<string, unknown>) => {
      const def = schema.entity(entity)!;
      assertPrivilege(role, def, 'create', userId);
      const row = createRow(ctx, def, { ...originating, ...body });
      const id = String(row[def.primaryIdAttribute]);
      made.push({ entity, id });
      return id;
    };
    const copy = (names: string[]) =>
      Object.fromEntries(names.filter((n) => lead[n] !== null && lead[n] !== undefined).map((n) => [n, lead[n]]));
    // the lead's address columns, which accounts and contacts have by the same names
    const address = leadDef.attributes.map((a) => a.logicalName).filter((n) => n.startsWith('address1_'));
    const account = params.CreateAccount
      ? make('account', {
          name: lead.companyname ?? lead.fullname,
          ...copy(['telephone1', 'websiteurl', 'emailaddress1', ...address]),
        })
      : undefined;
    const existingAccount = (lead.parentaccountid as { id: string } | null)?.id;
    const contact = params.CreateContact
      ? make('contact', {
          ...copy(['firstname', 'lastname', 'emailaddress1', 'telephone1', 'mobilephone', 'jobtitle', ...address]),
          ...((account ?? existingAccount)
            ? { 'parentcustomerid_account@odata.bind': bind('accounts', (account ?? existingAccount)!) }
            : {}),
        })
      : undefined;
    const customer = params.OpportunityCustomerId as Record<string, unknown> | undefined;
    const customerBind =
      typeof customer?.accountid === 'string'
        ? { 'customerid_account@odata.bind': bind('accounts', customer.accountid) }
        : typeof customer?.contactid === 'string'
          ? { 'customerid_contact@odata.bind': bind('contacts', customer.contactid) }
          : (account ?? existingAccount)
            ? { 'customerid_account@odata.bind': bind('accounts', (account ?? existingAccount)!) }
            : contact
              ? { 'customerid_contact@odata.bind': bind('contacts', contact) }
              : {};
    const opportunity = params.CreateOpportunity
      ? make('opportunity', {
          name: lead.subject,
          ...copy(['estimatedvalue', 'description']),
          ...customerBind,
          ...((account ?? existingAccount)
            ? { 'parentaccountid@odata.bind': bind('accounts', (account ?? existingAccount)!) }
            : {}),
          ...(contact ? { 'parentcontactid@odata.bind': bind('contacts', contact) } : {}),
          ...((currency ?? leadCurrency)
            ? { 'transactioncurrencyid@odata.bind': bind('transactioncurrencies', (currency ?? leadCurrency)!) }
            : {}),
        })
      : undefined;
    const links: Record<string, unknown> = { statecode: 1, statuscode: params.Status };
    if (account) links['parentaccountid@odata.bind'] = bind('accounts', account);
    if (contact) links['parentcontactid@odata.bind'] = bind('contacts', contact);
    if (opportunity) links['qualifyingopportunityid@odata.bind'] = bind('opportunities', opportunity);
    patchRow(ctx, leadDef, leadId, links, {}, true);
  });
  return { value: made };
}
