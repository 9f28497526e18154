import { isLookup } from '../schema/index.js';
import type { EntityDef } from '../schema/types.js';
import { isLookupRef, type Row } from '../store/store.js';
import { actionParams } from './actions.js';
import { badRequest, notFound, payloadError } from './errors.js';
import { assertPrivilege, type SecurityRole } from './security.js';
import { patchRow, stamp, type WriteContext } from './writes.js';

/**
 * The tables the emulator merges (those "Merge table rows using the Web API" lists: accounts, contacts, leads
 * with Dynamics 365 Sales, cases with Dynamics 365 Service), and what merging leaves the Subordinate in: an
 * account or contact Inactive, a case Canceled with the status reason Merged (the Case table's own status reason
 * for it, 2000), a lead Disqualified as Canceled (GUESS: the Lead table has no Merged reason; Canceled is the
 * one of its Disqualified reasons that says nobody judged the lead). The column a parenting check compares
 * ("whether to check if the parent information is different for the two entity records"): an account's parent
 * account, a contact's company, a case's customer, a lead's parent account (GUESS: which column is each one's
 * parent).
 */
const MERGED: ReadonlyMap<string, { state: number; status: number; parent: string }> = new Map([
  ['account', { state: 1, status: 2, parent: 'parentaccountid' }],
  ['contact', { state: 1, status: 2, parent: 'parentcustomerid' }],
  ['lead', { state: 2, status: 7, parent: 'parentaccountid' }],
  ['incident', { state: 2, status: 2000, parent: 'customerid' }],
]);

/** Records of a Subordinate that stay with it: a case's SLA clocks and queue items (GUESS) */
const STAYS = new Set(['slakpiinstance', 'queueitem']);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Merge ("Merge Action"; "Merge table rows using the Web API"): an unbound POST of Target and Subordinate, two
 * records of one table each typed with its @odata.type ("Because the parameters don't explicitly define the
 * Target, Subordinate, and UpdateContent property types, you must include the @odata.type annotation"),
 * UpdateContent (optional) the columns set on the Target, and PerformParentingChecks (required). "Merging moves
 * any useful data from the Subordinate record to the Target record. Any existing data in the Target record aren't
 * overwritten. Then the Subordinate record is deactivated." Here the useful data is the records related to the
 * Subordinate, which are moved to the Target (the relationships' Merge cascade); its columns reach the Target
 * only through UpdateContent, as the merge dialog sends the values chosen (GUESS), a case's not at all. The
 * Subordinate is made Inactive (a case Canceled, as Merged) with its Master ID the Target. All of it is one change;
 * 204, no value.
 */
export function merge(ctx: WriteContext, role: SecurityRole, userId: string, raw: string): void {
  const { schema, store } = ctx.env;
  const params = actionParams(raw);
  const typed = (name: string): { def: EntityDef; body: Record<string, unknown> } => {
    const body = params[name];
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw payloadError('crmbaseentity', `The ${name} parameter is required.`);
    const type = (body as Record<string, unknown>)['@odata.type'];
    const logical = typeof type === 'string' ? type.replace(/^#?Microsoft\.Dynamics\.CRM\./, '') : undefined;
    const def = logical ? schema.entity(logical) : undefined;
    // GUESS: the platform's words for an untyped or unknown parameter
    if (!def)
      throw payloadError(
        'crmbaseentity',
        `The ${name} parameter needs its type: "@odata.type": "Microsoft.Dynamics.CRM.<table>".`,
      );
    return { def, body: body as Record<string, unknown> };
  };
  const target = typed('Target');
  const subordinate = typed('Subordinate');
  if (typeof params.PerformParentingChecks !== 'boolean')
    throw payloadError('crmbaseentity', 'The PerformParentingChecks parameter is required and must be an Edm.Boolean.');
  const def = target.def;
  if (subordinate.def !== def)
    throw badRequest(
      `The Target (${def.logicalName}) and the Subordinate (${subordinate.def.logicalName}) must be of one table.`,
    );
  const merging = MERGED.get(def.logicalName);
  if (!merging) throw badRequest(`Merge is not supported for ${def.logicalName} records.`);
  const idOf = (p: { body: Record<string, unknown> }, name: string) => {
    const id = p.body[def.primaryIdAttribute];
    if (typeof id !== 'string' || !GUID.test(id))
      throw payloadError(def.logicalName, `The ${name} parameter needs its ${def.primaryIdAttribute}.`);
    return id.toLowerCase();
  };
  const targetId = idOf(target, 'Target');
  const subId = idOf(subordinate, 'Subordinate');
  assertPrivilege(role, def, 'read', userId);
  assertPrivilege(role, def, 'write', userId);
  const table = store.table(def.logicalName);
  const master = table.get(targetId);
  if (!master) throw notFound(def.logicalName, targetId);
  const merged = table.get(subId);
  if (!merged) throw notFound(def.logicalName, subId);
  // GUESS: the platform's refusals of a record merged with itself, and of one merged already
  if (targetId === subId)
    throw badRequest('The Target and the Subordinate are the same record: a record is not merged with itself.');
  if (isLookupRef(merged.masterid))
    throw badRequest(`The Subordinate ${subId} was merged already, into ${merged.masterid.id}.`);
  const parent = merging.parent;
  const parentOf = (row: Row) => (isLookupRef(row[parent]) ? row[parent].id : null);
  if (params.PerformParentingChecks && parentOf(master) && parentOf(merged) && parentOf(master) !== parentOf(merged))
    throw badRequest(
      `The Target and the Subordinate have different parents (${parent}): merge them without parenting checks, or give them one parent first.`,
    );
  store.atomically(() => {
    // "This property is not applied when merging incidents" (MergeRequest.UpdateContent)
    const { '@odata.type': _type, ...content } = (params.UpdateContent ?? {}) as Record<string, unknown>;
    if (Object.keys(content).length && def.logicalName !== 'incident') patchRow(ctx, def, targetId, content, {}, false);
    reparent(ctx, def, subId, targetId);
    patchRow(ctx, def, subId, { statecode: merging.state, statuscode: merging.status }, {}, true);
    const now = table.get(subId)!;
    store.replace(table, subId, { ...now, masterid: { id: targetId, entity: def.logicalName } });
  });
}

/**
 * Every record related to the Subordinate through a lookup (a contact's company, a deal's customer, an
 * activity's Regarding, a note's record, a party on an activity …) made the Target's, as each relationship's
 * Merge cascade does; the Subordinate's own columns, and a Target that pointed at the Subordinate (its parent
 * account), which would point at itself, are left as they were (GUESS).
 */
function reparent(ctx: WriteContext, def: EntityDef, subId: string, targetId: string): void {
  const { schema, store } = ctx.env;
  const to = { id: targetId, entity: def.logicalName };
  for (const e of schema.entities) {
    // a merged case's SLA clocks and its place in a queue stay its own (GUESS): canceled, it leaves its queue
    if (STAYS.has(e.logicalName)) continue;
    const columns = e.attributes.filter(
      (a) => isLookup(a) && a.type !== 'Owner' && a.targets?.includes(def.logicalName),
    );
    if (!columns.length) continue;
    const rows = store.table(e.logicalName);
    for (const [id, row] of [...rows.rows]) {
      if (e === def && (id === subId || id === targetId)) continue;
      const moved = columns.filter((a) => {
        const v = row[a.logicalName];
        return isLookupRef(v) && v.id === subId && v.entity === def.logicalName;
      });
      if (!moved.length) continue;
      const next: Row = { ...row };
      for (const a of moved) next[a.logicalName] = to;
      stamp(ctx, next, false);
      store.replace(rows, id, next);
    }
  }
}
