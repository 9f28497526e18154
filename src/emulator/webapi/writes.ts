import { isLookup } from '../schema/index.js';
import { type AttributeDef, type EntityDef, PRINCIPAL } from '../schema/types.js';
import { USD_ID } from '../seed/seed.js';
import { applyCurrency } from '../store/currency.js';
import { priceLine, productsTotal } from '../store/line-amounts.js';
import { isLookupRef, type LookupRef, type Row, type Value } from '../store/store.js';
import { checkParentAccount } from './account-hierarchy.js';
import { checkParentCase, closeChildCases } from './case-hierarchy.js';
import { assertNoDuplicate, type DuplicateRule } from './duplicate-rules.js';
import type { QueryEnv } from './env.js';
import {
  alreadyExists,
  badRequest,
  concurrencyMismatch,
  DataverseError,
  duplicateKey,
  notFound,
  notSupported,
  payloadError,
  validationError,
} from './errors.js';
import { dropArticleUses, fillNewArticle, nameArticleUse, renameArticleUses } from './knowledge.js';
import { assertNoOpenActivities } from './open-activities.js';
import { closeQueueItems, dropQueueItems, fillQueueItem } from './queue-items.js';
import { checkRunStage, firstPhase, firstRunOf, hasSalesProcess, RUN_TABLES } from './sales-process.js';
import type { Privilege } from './security.js';
import { etagOf } from './shape.js';
import { cancelClocks, caseSlaStatus, holdClocks, retimeClocks, startClocks, stopClock } from './sla-clocks.js';
import { checkStateChange } from './state-rules.js';
import { isoNow } from './values.js';

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export interface WriteContext {
  env: QueryEnv;
  /** Content-ID → the created record's URL, for `$1`-style references inside a change set */
  contentIds?: ReadonlyMap<string, string>;
  nextTicket: () => number;
  /** refuses (403, as Dataverse) when the caller's role lacks a privilege: Append/AppendTo for a lookup */
  assert?: (entity: EntityDef, privilege: Privilege) => void;
  /** the published duplicate detection rules, when the request asked for them (DUP) */
  duplicateRules?: readonly DuplicateRule[];
  /** tables without optimistic concurrency: an etag in If-Match is refused there */
  concurrencyOff?: ReadonlySet<string>;
  /** an SLA clock written (created or changed): the SLA's timer looks at it (sla-clocks.ts' SlaTimer) */
  clockWritten?: (row: Row) => void;
}

const undeclared = (entity: string, name: string) =>
  // observed (DataverseServiceClient#42): the OData library's wording for a misnamed @odata.bind
  payloadError(
    entity,
    `Microsoft.OData.ODataException: An undeclared property '${name}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.`,
  );

const noSuchProperty = (entity: string, name: string) =>
  payloadError(
    entity,
    `Microsoft.OData.ODataException: The property '${name}' does not exist on type 'Microsoft.Dynamics.CRM.${entity}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
  );

/** `/contacts(<id>)`, `contacts(<id>)`, an absolute URL, or `$n` → the related row's table and id. */
export function parseBind(ctx: WriteContext, entity: EntityDef, nav: string, raw: unknown): LookupRef {
  if (typeof raw !== 'string')
    throw payloadError(entity.logicalName, `The value of '${nav}@odata.bind' must be a URL string.`);
  let value = raw;
  if (value.startsWith('$')) {
    const url = ctx.contentIds?.get(value.slice(1));
    // BATCH: "Content-ID Reference: '$1' does not exist in the batch context."
    if (!url) throw badRequest(`Content-ID Reference: '${value}' does not exist in the batch context.`);
    value = url;
  }
  const m = /(?:^|\/)([A-Za-z_][A-Za-z0-9_]*)\(([0-9a-fA-F-]{36})\)$/.exec(value);
  const set = m && ctx.env.schema.entityBySet(m[1]!);
  if (!m || !set)
    throw payloadError(
      entity.logicalName,
      `Microsoft.OData.ODataException: The value '${value}' of '${nav}@odata.bind' is not a valid entity reference.`,
    );
  return { entity: set.logicalName, id: m[2]!.toLowerCase() };
}

function checkValue(entity: EntityDef, a: AttributeDef, v: unknown): Value {
  if (v === null) return null;
  const wrongType = (expected: string) =>
    payloadError(
      entity.logicalName,
      `Microsoft.OData.ODataException: Cannot convert the literal '${JSON.stringify(v)}' to the expected type '${expected}'.`,
    );
  switch (a.type) {
    case 'String':
    case 'Memo': {
      if (typeof v !== 'string') throw wrongType('Edm.String');
      if (a.maxLength !== undefined && v.length > a.maxLength)
        throw validationError(
          `The length of the '${a.logicalName}' attribute of the '${entity.logicalName}' entity exceeded the maximum allowed length of '${a.maxLength}'.`,
        );
      // Dataverse stores empty text as null
      return v === '' ? null : v;
    }
    case 'Integer':
    case 'BigInt':
    case 'Picklist':
    case 'State':
    case 'Status':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType('Edm.Int32');
      break;
    case 'Money':
    case 'Decimal':
    case 'Double':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType('Edm.Decimal');
      break;
    case 'Boolean':
      if (typeof v !== 'boolean') throw wrongType('Edm.Boolean');
      return v;
    case 'DateTime': {
      if (typeof v !== 'string' || !(DATE_RE.test(v) || DATETIME_RE.test(v)) || Number.isNaN(Date.parse(v)))
        throw wrongType(a.dateOnly ? 'Edm.Date' : 'Edm.DateTimeOffset');
      return a.dateOnly ? v.slice(0, 10) : new Date(v).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case 'Uniqueidentifier':
      if (typeof v !== 'string' || !GUID_RE.test(v)) throw wrongType('Edm.Guid');
      return v.toLowerCase();
    case 'MultiSelectPicklist':
      return choicesValue(entity, a, v, wrongType);
    default:
      break;
  }
  const n = v as number;
  if ((a.minValue !== undefined && n < a.minValue) || (a.maxValue !== undefined && n > a.maxValue))
    throw validationError(
      `The value ${n} of '${a.logicalName}' on record of type '${entity.logicalName}' is outside the valid range (${a.minValue} to ${a.maxValue}).`,
    );
  if ((a.type === 'Picklist' || a.type === 'State' || a.type === 'Status') && !a.options?.some((o) => o.value === n))
    throw validationError(
      `The value ${n} of '${a.logicalName}' on record of type '${entity.logicalName}' is outside the valid range.`,
    );
  return n;
}

/**
 * A choices column's value: a string of option values separated by commas, spaces allowed ("Choices columns":
 * "sample_outdooractivities": "1, 9"), stored and read back without them ("1,9"). Each must be one of the
 * column's options, as a choice's value must. An empty string clears it (GUESS: as empty text does).
 */
function choicesValue(entity: EntityDef, a: AttributeDef, v: unknown, wrongType: (t: string) => Error): Value {
  if (typeof v !== 'string') throw wrongType('Edm.String');
  if (v.trim() === '') return null;
  const values = v.split(',').map((part) => part.trim());
  for (const part of values) {
    const n = Number(part);
    if (!/^-?\d+$/.test(part) || !a.options?.some((o) => o.value === n))
      throw validationError(
        `The value ${part} of '${a.logicalName}' on record of type '${entity.logicalName}' is outside the valid range.`,
      );
  }
  return [...new Set(values.map(Number))].join(',');
}

interface Changes {
  values: Row;
  /** nested records from a deep insert, created after the parent */
  deep: { nav: string; records: Record<string, unknown>[] }[];
  /** existing records a collection-valued @odata.bind associates with the new one, linked after it is made */
  links: { attribute: string; refs: LookupRef[] }[];
}

/** Reads a create/update body into column values, enforcing the payload rules. */
function readBody(
  ctx: WriteContext,
  entity: EntityDef,
  body: Record<string, unknown>,
  mode: 'create' | 'update',
): Changes {
  const { schema } = ctx.env;
  const values: Row = {};
  const deep: Changes['deep'] = [];
  const links: Changes['links'] = [];
  for (const [key, raw] of Object.entries(body)) {
    if (key.startsWith('@odata.')) continue;
    if (key.endsWith('@odata.bind')) {
      const nav = key.slice(0, -'@odata.bind'.length);
      const o2m = entity.oneToMany.find((m) => m.navigationProperty === nav);
      if (o2m?.through) throw notSupported(`Associating through the many-to-many relationship '${nav}'`);
      if (o2m && mode === 'create') {
        // CREATE, "Associate table rows on create": "Account_Tasks@odata.bind": ["/tasks(<id>)", …] makes the
        // new record the one those rows point at
        if (!Array.isArray(raw))
          throw payloadError(entity.logicalName, `The value of '${nav}@odata.bind' must be an array of URLs.`);
        const child = schema.entity(o2m.referencingEntity)!;
        const refs = raw.map((r) => parseBind(ctx, entity, nav, r));
        for (const ref of refs) {
          if (ref.entity !== child.logicalName)
            throw payloadError(entity.logicalName, `'${nav}' holds ${child.logicalName} records, not a ${ref.entity}.`);
          if (!ctx.env.store.table(ref.entity).get(ref.id)) throw notFound(ref.entity, ref.id);
        }
        ctx.assert?.(child, 'append');
        ctx.assert?.(entity, 'appendTo');
        links.push({ attribute: o2m.referencingAttribute, refs });
        continue;
      }
      const m2o = entity.manyToOne.find((m) => m.navigationProperty === nav);
      if (!m2o) throw undeclared(entity.logicalName, nav);
      if (raw === null) {
        values[m2o.attribute] = null;
        continue;
      }
      const ref = parseBind(ctx, entity, nav, raw);
      // an owner binds to any of its column's targets (/systemusers(…) or /teams(…))
      const targets =
        m2o.target === PRINCIPAL ? (schema.attribute(entity, m2o.attribute)?.targets ?? []) : [m2o.target];
      if (!targets.includes(ref.entity))
        throw payloadError(
          entity.logicalName,
          `'${nav}' refers to a ${targets.join(' or a ')}, but '${String(raw)}' is a ${ref.entity}.`,
        );
      const target = ctx.env.store.table(ref.entity);
      if (!target.get(ref.id)) throw notFound(ref.entity, ref.id);
      // a new owner is an assignment, governed by Assign rather than Append/AppendTo (GUESS: an owner given at
      // create is not checked: Microsoft documents Assign for changing the owner only)
      if (schema.attribute(entity, m2o.attribute)?.type === 'Owner') {
        if (mode === 'update') ctx.assert?.(entity, 'assign');
      } else {
        ctx.assert?.(entity, 'append');
        ctx.assert?.(schema.entity(ref.entity)!, 'appendTo');
      }
      values[m2o.attribute] = ref;
      continue;
    }
    if (key.includes('@')) continue; // other instance annotations are ignored
    const m2o = entity.manyToOne.find((m) => m.navigationProperty === key);
    if (m2o && raw !== null && typeof raw === 'object' && !Array.isArray(raw) && mode === 'create') {
      deep.push({ nav: key, records: [raw as Record<string, unknown>] });
      continue;
    }
    const o2m = entity.oneToMany.find((m) => m.navigationProperty === key);
    if (o2m?.through) throw notSupported(`Creating records through the many-to-many relationship '${key}'`);
    if (o2m && Array.isArray(raw) && mode === 'create') {
      deep.push({ nav: key, records: raw as Record<string, unknown>[] });
      continue;
    }
    const a = schema.attribute(entity, key);
    if (!a) throw noSuchProperty(entity.logicalName, key);
    if (isLookup(a)) {
      // UPDATE: "parentaccountid": null clears a lookup; any other value must go through @odata.bind
      if (raw === null && mode === 'update') {
        values[a.logicalName] = null;
        continue;
      }
      throw payloadError(
        entity.logicalName,
        `Microsoft.OData.ODataException: A value was given for the lookup '${key}'; set lookups with '${entity.manyToOne.find((m) => m.attribute === key)?.navigationProperty ?? key}@odata.bind'.`,
      );
    }
    // ATTRMETA: columns not valid for create/update are silently ignored
    if (mode === 'create' ? !a.validForCreate : !a.validForUpdate) continue;
    values[a.logicalName] = checkValue(entity, a, raw);
  }
  return { values, deep, links };
}

function applyStatus(entity: EntityDef, row: Row, changes: Row): void {
  const state = entity.attributes.find((a) => a.logicalName === 'statecode');
  const status = entity.attributes.find((a) => a.logicalName === 'statuscode');
  if (!state || !status) return;
  const newState = (changes.statecode ?? row.statecode ?? 0) as number;
  if ('statecode' in changes && !('statuscode' in changes)) {
    // UPDATE: each state has one DefaultStatus, used when only statecode is sent
    changes.statuscode = state.options!.find((o) => o.value === newState)?.defaultStatus ?? null;
  }
  const newStatus = (changes.statuscode ?? row.statuscode) as number | null;
  if (newStatus === null || newStatus === undefined) return;
  const option = status.options!.find((o) => o.value === newStatus);
  if (option && option.state !== newState) {
    const stateLabel = state.options!.find((o) => o.value === newState)?.label ?? String(newState);
    throw validationError(
      `${newStatus} is not a valid status code for state code ${entity.schemaName}State.${stateLabel} on ${entity.logicalName}.`,
    );
  }
}

function computeFullName(row: Row): void {
  if ('fullname' in row || 'firstname' in row || 'lastname' in row)
    row.fullname = [row.firstname, row.lastname].filter((x) => typeof x === 'string' && x).join(' ') || null;
}

/** the column holding a file's Base64 in the tables that keep one ("Use file data with Attachment and Note records") */
export const FILE_BODY: Readonly<Record<string, string>> = {
  annotation: 'documentbody',
  activitymimeattachment: 'body',
};

/**
 * A note's or an attachment's filesize (read-only: "File size of the note"), what its Base64 body decodes to:
 * the FileSizeInBytes the block upload answers with counts the file's bytes, not their Base64 text. An
 * attachment's objecttypecode is its activity's table when not given (GUESS: SystemRequired, yet Microsoft's
 * samples create attachments by deep insert under their email without it).
 */
function sizeFile(entity: EntityDef, row: Row): void {
  const column = FILE_BODY[entity.logicalName];
  if (!column) return;
  const body = row[column];
  row.filesize = typeof body === 'string' && body ? Buffer.from(body, 'base64').length : null;
  if (entity.logicalName === 'activitymimeattachment' && row.objecttypecode == null && isLookupRef(row.objectid))
    row.objecttypecode = row.objectid.entity;
}

/**
 * An email's attachmentcount (read-only: "the number of attachments of the email message") after one of its
 * attachments was written or deleted: the attachments pointing at it, counted.
 */
function countAttachments(ctx: WriteContext, ref: Row[string] | undefined): void {
  if (!isLookupRef(ref) || ref.entity !== 'email') return;
  const emails = ctx.env.store.table('email');
  const email = emails.get(ref.id);
  if (!email) return;
  let n = 0;
  for (const a of ctx.env.store.table('activitymimeattachment').rows.values())
    if ((a.objectid as LookupRef | null)?.id === ref.id) n++;
  if (email.attachmentcount !== n) ctx.env.store.replace(emails, ref.id, { ...email, attachmentcount: n });
}

/** An activity party's partyidname: the name of the record that is the party, as Dataverse fills it in. */
function nameParty(ctx: WriteContext, row: Row): void {
  const party = row.partyid as LookupRef | null;
  const def = party && ctx.env.schema.entity(party.entity);
  const named = def && ctx.env.store.table(party.entity).get(party.id)?.[def.primaryNameAttribute];
  row.partyidname = typeof named === 'string' ? named : null;
}

export function stamp(ctx: WriteContext, row: Row, created: boolean): void {
  const now = isoNow(ctx.env.now);
  const me = { id: ctx.env.callerId, entity: 'systemuser' };
  if (created) {
    row.createdon = now;
    row.createdby = me;
  }
  row.modifiedon = now;
  row.modifiedby = me;
  row.versionnumber = ctx.env.store.nextVersion();
}

/**
 * POST /<set> (and the create half of an upsert): the new row. `under`: the record a deep insert makes it under
 * (its lookup to that record is set before anything is checked or worked out: an attachment's SystemRequired
 * objectid, its email's count).
 */
export function createRow(
  ctx: WriteContext,
  entity: EntityDef,
  body: Record<string, unknown>,
  forcedId?: string,
  under?: { attribute: string; ref: LookupRef },
): Row {
  const { store, schema } = ctx.env;
  const table = store.table(entity.logicalName);
  const { values, deep, links } = readBody(ctx, entity, body, 'create');
  const pk = entity.primaryIdAttribute;
  const id = (forcedId ?? (values[pk] as string | undefined) ?? store.ids.next(crypto.randomUUID())).toLowerCase();
  if (forcedId && values[pk] && values[pk] !== forcedId)
    throw badRequest(`The key in the URL (${forcedId}) and the ${pk} in the body (${values[pk]}) differ.`);
  if (table.get(id)) throw duplicateKey();
  const row: Row = {};
  for (const a of entity.attributes) row[a.logicalName] = a.defaultValue ?? null;
  Object.assign(row, values);
  if (under) row[under.attribute] = under.ref;
  row[pk] = id;
  if (entity.ownershipType === 'UserOwned' && !row.ownerid)
    row.ownerid = { id: ctx.env.callerId, entity: 'systemuser' };
  if (schema.attribute(entity, 'statecode')) {
    row.statecode = 0;
    applyStatus(entity, { statecode: 0 }, row);
    if (row.statuscode === null) row.statuscode = schema.attribute(entity, 'statecode')!.options![0]!.defaultStatus!;
  }
  if (schema.attribute(entity, 'transactioncurrencyid') && !row.transactioncurrencyid)
    row.transactioncurrencyid = { id: USD_ID, entity: 'transactioncurrency' };
  if (entity.logicalName === 'incident' && !row.ticketnumber)
    row.ticketnumber = `CAS-${String(ctx.nextTicket()).padStart(5, '0')}-${id.slice(0, 6).toUpperCase()}`;
  computeFullName(row);
  sizeFile(entity, row);
  if (entity.logicalName === 'incident') checkParentCase(ctx, id, row);
  if (entity.logicalName === 'account') checkParentAccount(ctx, id, row);
  if (entity.logicalName === 'activityparty') nameParty(ctx, row);
  if (entity.logicalName === 'opportunityproduct') priceLine(store, row);
  if (entity.logicalName === 'queueitem') fillQueueItem(ctx, row);
  if (entity.logicalName === 'knowledgearticle') fillNewArticle(ctx, row);
  if (entity.logicalName === 'knowledgearticleincident') nameArticleUse(ctx, row);
  // a new deal starts the Opportunity Sales Process at its first stage (its run is made below), which gives it
  // its Pipeline Phase; a run made on its own is checked as a stage move is
  const startsRun = entity.logicalName === 'opportunity' && hasSalesProcess(ctx);
  const fromLead = isLookupRef(row.originatingleadid) ? row.originatingleadid.id : undefined;
  if (startsRun && row.stepname == null) row.stepname = firstPhase(ctx, fromLead);
  const phase = RUN_TABLES.has(entity.logicalName) ? checkRunStage(ctx, entity.logicalName, row) : undefined;
  applyCurrency(store, entity, row);
  // ATTRMETA §6.3: only SystemRequired is enforced by the platform
  for (const a of entity.attributes) {
    if (
      a.requiredLevel === 'SystemRequired' &&
      a.validForCreate &&
      (row[a.logicalName] === null || row[a.logicalName] === undefined)
    )
      throw validationError(
        `The '${a.logicalName}' attribute of the '${entity.logicalName}' entity is required and has no value.`,
      );
  }
  if (ctx.duplicateRules) assertNoDuplicate(store, ctx.env.schema, entity, id, row, ctx.duplicateRules);
  if (entity.logicalName === 'incident') {
    escalated(ctx, row, {});
    // its default SLA's clocks (sla-clocks.ts), once nothing can refuse the case
    startClocks(ctx.env, row, (kpi) => clockOf(ctx, row, kpi));
  }
  stamp(ctx, row, true);
  store.insert(table, id, row);
  if (entity.logicalName === 'slakpiinstance') ctx.clockWritten?.(row);
  if (entity.logicalName === 'opportunityproduct') reviseDeal(ctx, row.opportunityid);
  if (entity.logicalName === 'activitymimeattachment') countAttachments(ctx, row.objectid);
  // (made under the deal: the phase given with a new deal is kept, the run's first stage writes it only when none was)
  if (startsRun) {
    const run = firstRunOf(ctx, fromLead);
    createRow(ctx, ctx.env.schema.entity(run.table)!, run.body, undefined, {
      attribute: 'opportunityid',
      ref: { id, entity: 'opportunity' },
    });
  }
  if (phase && !under) followPhase(ctx, row.opportunityid, phase);
  for (const d of deep) createDeep(ctx, entity, id, d.nav, d.records);
  for (const { attribute, refs } of links)
    for (const ref of refs) {
      const children = store.table(ref.entity);
      const child: Row = { ...children.get(ref.id)!, [attribute]: { id, entity: entity.logicalName } };
      stamp(ctx, child, false);
      store.replace(children, ref.id, child);
    }
  return row;
}

/**
 * A case escalated (Is Escalated turned Yes) is stamped with when (escalatedon), unless the write gave a time;
 * escalated again, with the new time. GUESS: the stamp is the platform's, as Escalated On is documented only
 * as "the date and time when the case was escalated".
 */
function escalated(ctx: WriteContext, row: Row, existing: Row): void {
  const given = row.escalatedon != null && row.escalatedon !== existing.escalatedon;
  if (row.isescalated === true && existing.isescalated !== true && !given) row.escalatedon = isoNow(ctx.env.now);
}

/** a KPI instance of the case `row` (its owner's, as the SLA makes it), created; its id */
function clockOf(ctx: WriteContext, row: Row, values: Record<string, unknown>): string {
  const owner = isLookupRef(row.ownerid) ? row.ownerid : undefined;
  const set = owner && ctx.env.schema.entity(owner.entity)?.entitySetName;
  const bind = set ? { 'ownerid@odata.bind': `/${set}(${owner.id})` } : {};
  return String(createRow(ctx, ctx.env.schema.entity('slakpiinstance')!, { ...values, ...bind }).slakpiinstanceid);
}

function createDeep(
  ctx: WriteContext,
  parent: EntityDef,
  parentId: string,
  nav: string,
  records: Record<string, unknown>[],
): void {
  const { schema, store } = ctx.env;
  const m2o = parent.manyToOne.find((m) => m.navigationProperty === nav);
  if (m2o?.target === PRINCIPAL) throw noSuchProperty(parent.logicalName, nav);
  if (m2o) {
    const child = createRow(ctx, schema.entity(m2o.target)!, records[0]!);
    const row = store.table(parent.logicalName).get(parentId)!;
    row[m2o.attribute] = { id: String(child[`${m2o.target}id`]), entity: m2o.target };
    return;
  }
  const o2m = parent.oneToMany.find((m) => m.navigationProperty === nav)!;
  const childDef = schema.entity(o2m.referencingEntity)!;
  for (const rec of records)
    createRow(ctx, childDef, rec, undefined, {
      attribute: o2m.referencingAttribute,
      ref: { id: parentId, entity: parent.logicalName },
    });
}

/**
 * A version checked where the table does not keep one (IsOptimisticConcurrencyEnabled false): refused with
 * OptimisticConcurrencyNotEnabled, 0x8006088D (the code and message are in the Web API's error list; its
 * status is a GUESS: 400, as for other refusals of the request itself). If-Match: * asks for no version.
 */
function concurrencyEnabled(ctx: WriteContext, entity: EntityDef, pre: Preconditions): void {
  if (pre.ifMatch && pre.ifMatch !== '*' && ctx.concurrencyOff?.has(entity.logicalName))
    throw new DataverseError(
      400,
      '0x8006088D',
      `Optimistic concurrency isn't enabled for entity type ${entity.logicalName}.`,
    );
}

export interface Preconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

/**
 * PATCH /<set>(<id>): update, or upsert when the row does not exist (UPDATE, COND). `byAction`: the change is
 * an action's (CloseIncident, WinOpportunity, QualifyLead), which may set the states an update may not.
 */
export function patchRow(
  ctx: WriteContext,
  entity: EntityDef,
  id: string,
  body: Record<string, unknown>,
  pre: Preconditions,
  byAction = false,
): { row: Row; created: boolean } {
  const { store } = ctx.env;
  const table = store.table(entity.logicalName);
  const existing = table.get(id);
  if (pre.ifNoneMatch === '*') {
    if (existing) throw alreadyExists();
    return { row: createRow(ctx, entity, body, id), created: true };
  }
  if (!existing) {
    if (pre.ifMatch) throw notFound(entity.logicalName, id);
    return { row: createRow(ctx, entity, body, id), created: true };
  }
  concurrencyEnabled(ctx, entity, pre);
  if (pre.ifMatch && pre.ifMatch !== '*' && pre.ifMatch !== etagOf(existing)) throw concurrencyMismatch();
  const { values } = readBody(ctx, entity, body, 'update');
  delete values[entity.primaryIdAttribute];
  for (const [k, v] of Object.entries(values)) {
    const a = ctx.env.schema.attribute(entity, k)!;
    // UPDATE: a SystemRequired column cannot be set to null
    if (v === null && a.requiredLevel === 'SystemRequired')
      throw validationError(
        `The '${k}' attribute of the '${entity.logicalName}' entity is required and cannot be set to null.`,
      );
  }
  if (!byAction) checkStateChange(entity, existing, values);
  if (entity.logicalName === 'incident' && values.statecode === 2 && existing.statecode !== 2)
    assertNoOpenActivities(ctx.env.store, id, 'cancel');
  applyStatus(entity, existing, values);
  // an activity completed or canceled: Actual End "by default displays the date and time when the activity was
  // completed or canceled" (PhoneCall and Task references), unless one is given or already there
  if (
    entity.primaryIdAttribute === 'activityid' &&
    existing.statecode === 0 &&
    (values.statecode === 1 || values.statecode === 2) &&
    !('actualend' in values) &&
    existing.actualend == null
  )
    values.actualend = isoNow(ctx.env.now);
  const row: Row = { ...existing, ...values };
  computeFullName(row);
  sizeFile(entity, row);
  if (entity.logicalName === 'account') checkParentAccount(ctx, id, row, existing);
  if (entity.logicalName === 'incident') {
    checkParentCase(ctx, id, row, existing);
    escalated(ctx, row, existing);
    if (existing.statecode === 0 && (row.statecode === 1 || row.statecode === 2))
      closeChildCases(ctx, id, { statecode: row.statecode, statuscode: row.statuscode }, (child, change) =>
        patchRow(ctx, entity, child, change, {}, true),
      );
    // its SLA clocks (sla-clocks.ts): timed anew by a new priority; paused while it waits on hold and resumed
    // after; canceled with it; the first response one stopped by First Response Sent
    const patchClock = (clock: string, change: Record<string, unknown>) =>
      patchRow(ctx, ctx.env.schema.entity('slakpiinstance')!, clock, change, {}, true);
    retimeClocks(ctx.env, existing, row, patchClock, (kpi) => clockOf(ctx, row, kpi));
    holdClocks(ctx.env, existing, row, patchClock);
    if (existing.statecode === 0 && row.statecode === 2) cancelClocks(ctx.env, row, patchClock);
    if (row.firstresponsesent === true && existing.firstresponsesent !== true) {
      const met = stopClock(ctx.env, row.firstresponsebykpiid, patchClock, undefined, row.lastonholdtime);
      if (met !== undefined) row.firstresponseslastatus = caseSlaStatus(met);
    }
  }
  if (entity.logicalName === 'opportunityproduct') priceLine(store, row);
  if (entity.logicalName === 'queueitem') fillQueueItem(ctx, row, existing);
  if (entity.logicalName === 'knowledgearticleincident') nameArticleUse(ctx, row);
  const phase = RUN_TABLES.has(entity.logicalName) ? checkRunStage(ctx, entity.logicalName, row, existing) : undefined;
  // a deal switched to System Calculated revenue is worth its products from then on (when Dataverse first
  // recalculates it is not documented: at the switch is a GUESS)
  if (
    entity.logicalName === 'opportunity' &&
    row.isrevenuesystemcalculated === true &&
    existing.isrevenuesystemcalculated !== true
  )
    row.estimatedvalue = productsTotal(store, id);
  applyCurrency(store, entity, row);
  if (ctx.duplicateRules) assertNoDuplicate(store, ctx.env.schema, entity, id, row, ctx.duplicateRules);
  stamp(ctx, row, false);
  store.replace(table, id, row);
  if (entity.logicalName === 'slakpiinstance') ctx.clockWritten?.(row);
  if (entity.logicalName === 'opportunityproduct')
    for (const deal of new Set([existing.opportunityid, row.opportunityid])) reviseDeal(ctx, deal);
  if (phase) followPhase(ctx, row.opportunityid, phase);
  if (entity.logicalName === 'activitymimeattachment')
    for (const email of [existing.objectid, row.objectid]) countAttachments(ctx, email);
  renameArticleUses(ctx, entity, id, existing, row);
  closeQueueItems(ctx, entity, id, existing, row, (item) =>
    patchRow(ctx, ctx.env.schema.entity('queueitem')!, item, { statecode: 1, statuscode: 2 }, {}, true),
  );
  return { row, created: false };
}

export function deleteRow(ctx: WriteContext, entity: EntityDef, id: string, pre: Preconditions): void {
  const table = ctx.env.store.table(entity.logicalName);
  const existing = table.get(id);
  if (!existing) throw notFound(entity.logicalName, id);
  concurrencyEnabled(ctx, entity, pre);
  if (pre.ifMatch && pre.ifMatch !== '*' && pre.ifMatch !== etagOf(existing)) throw concurrencyMismatch();
  ctx.env.store.delete(table, id);
  if (entity.logicalName === 'opportunityproduct') reviseDeal(ctx, existing.opportunityid);
  if (entity.logicalName === 'activitymimeattachment') countAttachments(ctx, existing.objectid);
  dropQueueItems(ctx, entity, id);
  dropArticleUses(ctx, entity, id);
  // a deal's runs of its processes go with it (GUESS: the process tables' lookup to the deal cascades on delete)
  if (entity.logicalName === 'opportunity')
    for (const table of RUN_TABLES) {
      const runs = ctx.env.store.table(table);
      const gone = [...runs.rows].filter(([, r]) => (r.opportunityid as LookupRef | null)?.id === id).map(([k]) => k);
      for (const k of gone) ctx.env.store.delete(runs, k);
    }
  // an activity's parties go with it (its <table>_activity_parties relationship cascades on delete)
  if (
    entity.oneToMany.some((m) => m.referencingEntity === 'activityparty' && m.referencingAttribute === 'activityid')
  ) {
    const parties = ctx.env.store.table('activityparty');
    const gone = [...parties.rows].filter(([, p]) => (p.activityid as LookupRef | null)?.id === id).map(([k]) => k);
    for (const k of gone) ctx.env.store.delete(parties, k);
  }
  // a parent case's child cases go with it (Incident reference: incident_parent_incident, Delete: Cascade)
  if (entity.logicalName === 'incident')
    for (const [childId, child] of [...ctx.env.store.table('incident').rows])
      if ((child.parentcaseid as LookupRef | null)?.id === id) deleteRow(ctx, entity, childId, {});
  // and its attached files (GUESS: email_activity_mime_attachment cascades on delete, as the parties do)
  if (entity.oneToMany.some((m) => m.referencingEntity === 'activitymimeattachment')) {
    const files = ctx.env.store.table('activitymimeattachment');
    const gone = [...files.rows].filter(([, f]) => (f.objectid as LookupRef | null)?.id === id).map(([k]) => k);
    for (const k of gone) ctx.env.store.delete(files, k);
  }
}

/** A deal whose revenue is its products' total, after one of its lines was written or deleted: its new total. */
function reviseDeal(ctx: WriteContext, ref: Row[string] | undefined): void {
  if (!isLookupRef(ref)) return;
  const deals = ctx.env.store.table('opportunity');
  const deal = deals.get(ref.id);
  if (deal?.isrevenuesystemcalculated !== true) return;
  const total = productsTotal(ctx.env.store, ref.id);
  if (deal.estimatedvalue === total) return;
  const row: Row = { ...deal, estimatedvalue: total };
  applyCurrency(ctx.env.store, ctx.env.schema.entity('opportunity')!, row);
  stamp(ctx, row, false);
  ctx.env.store.replace(deals, ref.id, row);
}

/**
 * A deal whose run of the Opportunity Sales Process moved to another stage: its Pipeline Phase follows (the
 * platform writes it, as it writes a deal's value from its products), whatever the deal's state.
 */
function followPhase(ctx: WriteContext, ref: Row[string] | undefined, phase: string): void {
  if (!isLookupRef(ref)) return;
  const deals = ctx.env.store.table('opportunity');
  const deal = deals.get(ref.id);
  if (!deal || deal.stepname === phase) return;
  const row: Row = { ...deal, stepname: phase };
  stamp(ctx, row, false);
  ctx.env.store.replace(deals, ref.id, row);
}

/** PUT /<set>(<id>)/<column> with {"value": …}, or DELETE of the column (UPDATE: clears it). */
export function setColumn(ctx: WriteContext, entity: EntityDef, id: string, column: string, value: unknown): void {
  const table = ctx.env.store.table(entity.logicalName);
  const existing = table.get(id);
  if (!existing) throw notFound(entity.logicalName, id);
  const a = ctx.env.schema.attribute(entity, column);
  if (!a || isLookup(a)) throw new DataverseError(400, '0x0', `'${column}' cannot be set on its own; use PATCH.`);
  patchRow(ctx, entity, id, { [column]: value }, { ifMatch: '*' });
}
