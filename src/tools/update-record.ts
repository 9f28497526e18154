import { z } from 'zod';
import type { Row, WriteValues } from '../dynamics/client.js';
import { assertLinkable } from '../dynamics/links.js';
import { allFaults, faultsOf, isValueFault } from '../dynamics/write-body.js';
import { badInput } from '../errors.js';
import { resolveTable } from '../policy/check.js';
import { type EntityModel, isLookupType, writtenColumn } from '../policy/model.js';
import { defineTool, type ToolContext, type ToolDefinition } from './define.js';
import { toolArgs } from './support/args.js';
import { childCasesNote, childCasesOf } from './support/child-cases.js';
import { closeOpportunity, closingAsked } from './support/close-opportunity.js';
import { edgesAsDays } from './support/date-words.js';
import { dealStageAsked, refuseBareStage } from './support/deal-stage.js';
import { updateRefusedByRules } from './support/dedupe.js';
import { guidOrUndefined } from './support/ids.js';
import { type LinksNamed, linkAll, linkAskText, linksAsked, linksNamed } from './support/links.js';
import { lookupsByName, withOtherValueFaults } from './support/lookups-by-name.js';
import {
  EACH_RECORD,
  idOrIds,
  MOST_RECORDS,
  NAME_ALONE,
  oneOrEachId,
  oneVersionOneRecord,
  RECORD_ARGS_RENAMED,
} from './support/many-records.js';
import { mergeAsked, mergeInto } from './support/merge-records.js';
import { openActivitiesRefusal } from './support/open-activities.js';
import { LINE, lineText, refuseChangeOnClosedDeal, refuseTypedValueOnCalculatedDeal } from './support/product-line.js';
import { qualifyingAsked, qualifyLead } from './support/qualify-lead.js';
import { moveQueueItem, queueAsked, workedByNote } from './support/queue-move.js';
import { recordAnywhere, recordIdOf } from './support/record-id.js';
import { ANY_TABLE, entityParam, etagParam, withLookupTable } from './support/schemas.js';
import { compactRow, FORMATTED, recordUrl } from './support/shape.js';
import { respondedAgainstSla, SLA_MOVERS, slaColumns, slaMovedNote } from './support/sla-times.js';
import {
  askedState,
  closedRecordRefusal,
  completedCallReason,
  declinedByUser,
  refuseIfChanged,
  stateNamedAsReason,
} from './support/state-change.js';
import { valuesParam } from './support/write-values.js';

/**
 * The record's own id among the values: a model that copies the record from get_record and changes a column
 * sends "id" (or the table's key) along. The same id says nothing to change and is left out; another id is
 * refused, as the record to change is named by the "id" argument alone.
 */
function withoutOwnId(primaryId: string, id: string, values: WriteValues): WriteValues {
  const own = ['id', primaryId].filter((k) => k in values);
  if (!own.length) return values;
  const out = { ...values };
  for (const key of own) {
    const given = typeof out[key] === 'string' ? guidOrUndefined(out[key] as string) : undefined;
    if (given !== id)
      throw badInput(
        `values.${key} is ${JSON.stringify(out[key])}, not the id of the record being updated (${id}): a record's id cannot be changed.`,
        'Name the record to change in "id" and leave its id out of "values".',
      );
    delete out[key];
  }
  return out;
}

/**
 * A lookup given the record itself (an account made its own Parent Account): a name that found the wrong
 * record, or the record's id copied into the wrong column, and never a change a user means. Refused before
 * anything is sent, with the column's label, so that the model asks which record was meant.
 */
function notPointingAtItself(model: EntityModel, id: string, values: WriteValues): void {
  for (const [key, value] of Object.entries(values)) {
    const column = writtenColumn(model, key);
    if (!column || !isLookupType(column.type) || !column.targets?.includes(model.logicalName)) continue;
    const ref =
      value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    const given = typeof value === 'string' ? value : typeof ref?.id === 'string' ? ref.id : undefined;
    const table = typeof ref?.entity === 'string' ? ref.entity : model.logicalName;
    if (given === undefined || guidOrUndefined(given) !== id || table !== model.logicalName) continue;
    throw badInput(
      `values.${key} is the ${model.logicalName} being updated (${id}): a record cannot be its own ${column.label}.`,
      `Ask the user which ${model.logicalName} is its ${column.label}, and pass that one's id or whole name.`,
    );
  }
}

/** An update as the audit log has it; a record given without its table, under the table it was found in */
const UPDATE: Pick<ToolDefinition, 'name' | 'audited'> & { audited: NonNullable<ToolDefinition['audited']> } = {
  name: 'update_record',
  audited: (a, found) => ({ entity: String(a.entity ?? found.recordTable ?? ''), id: String(a.id), action: 'update' }),
};

export const updateRecord = defineTool({
  name: 'update_record',
  title: 'Update a Dynamics record',
  description:
    'Change columns of an existing record (never creates one). "values" takes writable columns from describe_entity; choices by label or number, lookups as {"entity","id"}. ' +
    `Pass get_record's etag to refuse it if the record changed since. statecode "Won"/"Lost" closes an opportunity (description: why), "Qualified" qualifies a lead.`,
  inputSchema: withLookupTable(
    toolArgs(
      'update_record',
      {
        entity: entityParam.describe(ANY_TABLE).optional(),
        id: idOrIds('change', 'for the same change to each').describe(
          `One record, or up to ${MOST_RECORDS} for the same change.`,
        ),
        values: valuesParam.describe(
          'Column → new value, e.g. {"telephone1": "+1 555 0100", "industrycode": "Consulting"}; null clears a column.',
        ),
        etag: etagParam.optional(),
        // not described (tools/list is near its 20 KB): the refusal of a duplicate says when to pass it
        allowDuplicate: z.boolean().optional(),
      },
      {
        renamed: {
          fields: 'values',
          data: 'values',
          changes: 'values',
          attributes: 'values',
          ...RECORD_ARGS_RENAMED,
        },
        renamedAlone: NAME_ALONE,
        meant: { record: 'values' },
        elsewhere: { into: 'values', what: 'Columns to change', example: '{"values": {"telephone1": "555-0100"}}' },
      },
    ).superRefine(oneVersionOneRecord),
  ),
  // one record: what changed; several: each one's outcome (records)
  outputSchema: z.object({
    entity: z.string().optional(),
    id: z.string().optional(),
    updated: z.boolean().optional(),
    changed: z.record(z.string(), z.unknown()).optional(),
    previous: z.record(z.string(), z.unknown()).optional(),
    etag: z.string().optional(),
    url: z.string().optional(),
    records: EACH_RECORD.optional(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  writes: true,
  audited: UPDATE.audited,
  run: oneOrEachId('update', UPDATE, updateOne),
});

type UpdateArgs = {
  entity?: string;
  id: string;
  values: WriteValues;
  etag?: string;
  allowDuplicate?: boolean;
};

/**
 * Whether the values close the record (a statecode other than 0, the open one: a task Completed, a deal Won):
 * then of several records with the name given, the one still open is meant, as a closed one cannot be
 * closed again ("mark Send the proposal done" where last month's Send the proposal is done). A value that is
 * no state of the table is left for the update's own refusal.
 */
async function closesRecord(ctx: ToolContext, table: string, values: Record<string, unknown>): Promise<boolean> {
  if (!Object.keys(values).some((k) => /^(statecode|statuscode)$/i.test(k))) return false;
  try {
    const state = askedState(await ctx.client.checker.entity(table), values, {})?.state;
    return state !== undefined && state !== 0;
  } catch {
    return false;
  }
}

/**
 * A record to change that is not there (a name no record has) said with what is wrong with the values (a
 * label no option has, a lookup's name no record has), in one answer, as a create says its values' faults;
 * any other error as it is.
 */
async function withValueFaults(ctx: ToolContext, table: string, given: WriteValues, err: unknown): Promise<unknown> {
  if (!isValueFault(err)) return err;
  const model = await ctx.client.checker.entity(table);
  // the records to link are named apart (linksNamed), after the record is found
  const { columns } = linksAsked(model, given);
  try {
    const named = await lookupsByName(ctx, model, columns, 'update');
    return await withOtherValueFaults(ctx, model, named, [err], 'update');
  } catch (more) {
    return isValueFault(more) ? allFaults(model, [err, ...faultsOf(more)]) : err;
  }
}

/** One record's update: the whole of update_record for one id. */
async function updateOne(args: UpdateArgs, ctx: ToolContext) {
  // without a table, the record's own ("change Nina Castillo's job title"), found as get_record finds it
  const table = args.entity ? await resolveTable(args.entity, ctx.policy, ctx.client.metadata) : undefined;
  // a table nothing may be written to is refused as such before its record is looked for (a bad id would
  // first send the model to find one it could never change); links asked for, by their relationships' rules
  if (table) {
    const model = await ctx.client.checker.entity(table);
    const { links } = linksAsked(model, args.values);
    if (!links.length) ctx.policy.assertWritable(table, [], `Updating a ${table}`);
    for (const l of links) assertLinkable(ctx.policy, model, l.nav);
  }
  const { entity: logical, id } = table
    ? {
        entity: table,
        id: await recordIdOf(ctx, table, args.id, await closesRecord(ctx, table, args.values)).catch(
          async (err: unknown) => {
            throw await withValueFaults(ctx, table, args.values, err);
          },
        ),
      }
    : await recordAnywhere(ctx, args.id);
  const url = recordUrl(ctx.config.dynamics.url, logical, id);
  // statecode Won or Lost: Dynamics closes an opportunity with its action, not an update (it asks the user
  // itself where the policy wants writes confirmed)
  const model = await ctx.client.checker.entity(logical);
  // the records to link or unlink through a many-to-many relationship ("add Nimbus CRM as a competitor"),
  // named and allowed before anything is written: the columns go as an update, the links after it
  const { columns: asked, links: linkAsks } = linksAsked(
    model,
    withoutOwnId(model.primaryIdAttribute, id, args.values),
  );
  for (const l of linkAsks) assertLinkable(ctx.policy, model, l.nav);
  // a Master ID given: the record merged into that one with Dynamics' Merge (merge-records.ts), a change of its own
  if (mergeAsked(model, asked) !== undefined) {
    if (linkAsks.length)
      throw badInput(
        `Merging a ${logical} and linking records to it are two changes.`,
        'Call update_record with "masterid" alone, then link records to the one kept in another call.',
      );
    return mergeInto(ctx, model, id, asked, args.etag);
  }
  const links: LinksNamed[] = [];
  for (const l of linkAsks) links.push(await linksNamed(ctx, l));
  if (links.length && !Object.keys(asked).length) return linkOnly(ctx, model, id, links, args.etag, url);
  // a lookup written as the related record's name ("ownerid": "Alex Wilber") is the one record with it
  // a date-only column given a period's edge ("end of next quarter"): that day, which the answer's changes show
  const { values: given } = await edgesAsDays(ctx, model, asked);
  // a state named as the status reason ({"statuscode": "Resolved"}) is that state
  const values = stateNamedAsReason(model, await lookupsByName(ctx, model, given, 'update'));
  notPointingAtItself(model, id, values);
  // a won or lost deal's products are the record of what was won or lost: not changed, as not added to
  if (logical === LINE.table) await refuseChangeOnClosedDeal(ctx, model, id, values);
  // a deal worth its products (System Calculated) keeps no value typed in
  await refuseTypedValueOnCalculatedDeal(ctx, model, id, values);
  const closing = closingAsked(model, values);
  if (links.length && (closing || qualifyingAsked(model, values)))
    throw badInput(
      `Closing or qualifying a ${logical} and linking records to it are two changes Dynamics makes apart.`,
      `Call update_record twice: first with ${links.map((l) => `"${l.nav.navigationProperty}"`).join(', ')} alone, then with the rest.`,
    );
  if (closing) return closeOpportunity(ctx, model, id, values, closing, args.etag);
  // statecode Qualified: Dynamics qualifies a lead with its action, which makes its account, contact, opportunity
  const qualifying = qualifyingAsked(model, values);
  if (qualifying) return qualifyLead(ctx, model, id, values, qualifying, args.etag);
  // a queue item given another queue: Dynamics moves its record there with AddToQueue, not by an update
  const queue = logical === 'queueitem' ? queueAsked(values) : undefined;
  if (queue) return moveQueueItem(ctx, model, id, values, queue, args.etag);
  // a case is resolved by CloseIncident, which needs what resolved it: resolve_case (reactivating or
  // cancelling one is an update of its state, SetState, and goes the usual way)
  if (model.logicalName === 'incident' && askedState(model, values, { 1: [5, 1000] })?.state === 1)
    throw badInput(
      'A case is resolved with resolve_case, not by setting its state: Dynamics resolves cases with its CloseIncident action, which records what resolved it.',
      'Call resolve_case with the case id and the resolution.',
    );
  // a deal's stage: written as Dynamics writes it ("3-Propose"), and the Sales Process bar on its form moved to it
  // once the deal is written (deal-stage.ts)
  refuseBareStage(model, values);
  const stage = await dealStageAsked(ctx, model, id, values);
  const toWrite = stage?.values ?? values;
  const declined = await declinedByUser(
    ctx,
    ctx.policy.confirmWrites(logical),
    () =>
      `Update ${logical} ${id}: ${Object.entries(toWrite)
        .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
        .concat(links.map(linkAskText))
        .join(', ')}${stage?.asked ?? ''}?`,
    { tool: 'update_record', entity: logical, id, action: 'update', notDone: 'not updated' },
  );
  if (declined)
    return {
      structured: { entity: logical, id, updated: false, changed: {}, url },
      text: `Not updated: the user chose "${declined}".`,
    };
  // a case canceled: its open child cases may be closed with it (the organisation's Parent and Child case settings);
  // the state is read off the model in hand, as for the resolve refusal above
  const cancels = logical === 'incident' && (askedState(model, values, {})?.state ?? 0) !== 0;
  const children = cancels ? await childCasesOf(ctx, id) : [];
  const sent = await completedCallReason(ctx, model, id, toWrite);
  // a case's status or priority changed: what it did to its SLA (put on hold or off it, timed anew) is read
  // beside the change
  const sla = logical === 'incident' && SLA_MOVERS.some((c) => c in sent) ? slaColumns(ctx.policy) : [];
  // a queue item handed to someone: the record it holds, read beside the change, for the answer to name
  const handed = logical === 'queueitem' && 'workerid' in sent;
  // a record merged into another (found by its old name, say): read beside the change, for the answer to point
  // at the record kept, which holds what was the duplicate's
  const merged = model.columns.has('masterid') && ctx.policy.canRead(logical, 'masterid') ? ['masterid'] : [];
  const r = await ctx.client
    .update(logical, id, sent, {
      etag: args.etag,
      signal: ctx.signal,
      detectDuplicates: !args.allowDuplicate,
      readBefore: true,
      alsoRead: [...(handed ? ['objectid'] : sla), ...merged],
    })
    .catch(async (err: unknown) => {
      // a case with open activities, a closed record, or one the organisation's duplicate rules match: say so,
      // and how to go on
      throw (
        (cancels
          ? await openActivitiesRefusal(
              ctx,
              err,
              id,
              ctx.recordName ? `case "${ctx.recordName}"` : `case ${args.id === id ? id : `${args.id} (${id})`}`,
              'cancel',
            )
          : undefined) ??
        (await closedRecordRefusal(ctx, model, id, err)) ??
        (await updateRefusedByRules(ctx, model, id, sent, err))
      );
    });
  // what was written: Dataverse adds a money column's currency to the row, which this update did not change
  const written = new Set(Object.keys(sent).map((k) => writtenColumn(model, k)?.logicalName ?? k));
  // a state goes with its status reason and a reason with its state (writeBody sends both): the one the model
  // did not give is a change too ("Active" reopening a case sets it In Progress), and is said
  if (written.has('statecode') || written.has('statuscode'))
    for (const c of ['statecode', 'statuscode']) written.add(c);
  const changed = writtenColumns(ctx, r.model, r.row, written);
  const previous = r.before ? writtenColumns(ctx, r.model, r.before, written) : undefined;
  await ctx.audit.record({
    tool: 'update_record',
    entity: r.model.logicalName,
    id,
    action: 'update',
    columns: toWrite,
    ...(previous ? { previous } : {}),
    caller: ctx.caller,
  });
  // the bar moved writes the deal's Pipeline Phase again: the etag handed back is the deal's version after it
  const moved = stage ? await stage.move() : { text: '', moved: false };
  const etag = moved.moved ? await etagNow(ctx, r.model, id, r.etag) : r.etag;
  const linked = await linkAll(
    ctx,
    'update_record',
    model,
    id,
    links,
    links.length ? `${r.model.logicalName} ${id} was updated: ${JSON.stringify(changed)}` : undefined,
  );
  const structured = {
    entity: r.model.logicalName,
    id,
    updated: true,
    changed: { ...changed, ...linked.changed },
    previous,
    etag,
    url,
  };
  // the record is named back, so the user sees which one was changed (given by id too, and renamed: its new name)
  const name = r.name ?? ctx.recordName;
  const which = name ? `"${name}" (${id})` : id;
  // a product on a deal: what Dynamics summed it to now, and what that did to the deal's value
  const line = r.model.logicalName === LINE.table ? await lineText(ctx, id) : '';
  const family = await childCasesNote(ctx, children, 'close them too if done');
  // a case's first response marked sent: whether it was in its SLA's time
  const responded =
    logical === 'incident' && changed.firstresponsesent === true && previous?.firstresponsesent !== true
      ? await respondedAgainstSla(ctx, id, Date.now())
      : '';
  const slaMoved = sla.length ? slaMovedNote(r.before, r.row) : '';
  const worked = handed ? workedByNote(r.model, r.row) : '';
  const master = r.row._masterid_value;
  const keptName = r.row[`_masterid_value${FORMATTED}`];
  const mergedNote =
    typeof master === 'string'
      ? ` This ${logical} was merged into ${typeof keptName === 'string' ? `"${keptName}" (${master})` : master}, which holds its related records now: if the change was meant for the ${logical} in use, make it there (id "${master}").`
      : '';
  return {
    structured,
    text: `Updated ${r.model.logicalName} ${which}: ${JSON.stringify(changed)}${beforeText(changed, previous)} (etag ${etag}).${moved.text}${responded}${slaMoved}${worked}${mergedNote}${line}${family}${linked.text}`,
  };
}

/** A record's version as it is now (after the platform wrote it again), else the one in hand. */
async function etagNow(ctx: ToolContext, model: EntityModel, id: string, known: string): Promise<string> {
  const { row } = await ctx.client
    .get(model.logicalName, id, { select: [model.primaryIdAttribute], signal: ctx.signal })
    .catch(() => ({ row: {} as Row }));
  return typeof row['@odata.etag'] === 'string' ? row['@odata.etag'] : known;
}

/**
 * An update that only links or unlinks records: nothing of the record's own changes, so no PATCH is sent. The
 * record is read for its name and version, which a given etag must still match: the user's "only if it has not
 * changed" holds for every change the call makes.
 */
async function linkOnly(
  ctx: ToolContext,
  model: EntityModel,
  id: string,
  links: LinksNamed[],
  etag: string | undefined,
  url: string,
) {
  const name = model.primaryNameAttribute;
  const named = !!name && ctx.policy.canRead(model.logicalName, name);
  const { row } = await ctx.client.get(model.logicalName, id, {
    select: [named ? name : model.primaryIdAttribute],
    signal: ctx.signal,
  });
  refuseIfChanged(etag, row, model.logicalName, id);
  const declined = await declinedByUser(
    ctx,
    ctx.policy.confirmWrites(model.logicalName),
    () => `Update ${model.logicalName} ${id}: ${links.map(linkAskText).join(', ')}?`,
    { tool: 'update_record', entity: model.logicalName, id, action: 'link', notDone: 'not linked' },
  );
  if (declined)
    return {
      structured: { entity: model.logicalName, id, updated: false, changed: {}, url },
      text: `Not updated: the user chose "${declined}".`,
    };
  const linked = await linkAll(ctx, 'update_record', model, id, links);
  const which = named && typeof row[name] === 'string' ? `"${String(row[name])}" (${id})` : id;
  return {
    structured: { entity: model.logicalName, id, updated: linked.changedAny, changed: linked.changed, url },
    // every link asked for was already so: nothing changed, and the answer does not say it was updated
    text: `${linked.changedAny ? 'Updated' : 'Nothing changed on'} ${model.logicalName} ${which}.${linked.text}`,
  };
}

/**
 * The columns written, as the model reads them (choices with labels, lookups with names), from a row read
 * before or after the change. A column without a value is null here: compactRow leaves it out as noise, but
 * "cleared" and "was empty" are what the user needs to see.
 */
function writtenColumns(
  ctx: ToolContext,
  model: EntityModel,
  row: Row,
  written: ReadonlySet<string>,
): Record<string, unknown> {
  const readable = (e: string, c: string) => ctx.policy.canRead(e, c);
  const out: Record<string, unknown> = Object.fromEntries(
    Object.entries(compactRow(model, row, undefined, readable)).filter(([k]) => written.has(k)),
  );
  for (const column of written)
    if (!(column in out) && readable(model.logicalName, column) && model.columns.has(column)) out[column] = null;
  return out;
}

/**
 * "; before: {…}" of the columns that changed, and those that already held what was written ("ownerid
 * already had that value": the owner asked for was the owner), or, where every one did, that it did: the
 * model would otherwise tell the user it changed something (Dynamics still records the save: a new
 * modifiedon and etag)
 */
function beforeText(changed: Record<string, unknown>, previous: Record<string, unknown> | undefined): string {
  if (!previous) return '';
  const keys = Object.keys(changed);
  const same = keys.filter((k) => JSON.stringify(changed[k]) === JSON.stringify(previous[k]));
  if (same.length === keys.length) return '; it already had these values';
  const before = Object.fromEntries(Object.entries(previous).filter(([k]) => !same.includes(k)));
  const kept = same.length ? `; ${same.join(', ')} already had ${same.length > 1 ? 'those values' : 'that value'}` : '';
  return `; before: ${JSON.stringify(before)}${kept}`;
}
