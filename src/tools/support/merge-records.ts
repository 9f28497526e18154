import type { Row, WriteValues } from '../../dynamics/client.js';
import { badInput } from '../../errors.js';
import { type EntityModel, isLookupType, writtenColumn } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { guidOrUndefined } from './ids.js';
import { exactlyNamed, mergedOf, recordNamed } from './lookup-names.js';
import { recordUrl } from './shape.js';
import { declinedByUser, refuseIfChanged } from './state-change.js';

// Duplicates are merged in Dynamics, not deleted: Merge moves the duplicate's related records (a company's
// contacts, deals, cases, activities and notes) to the record kept, gives that one the values chosen, and
// deactivates the duplicate with its Master ID the record kept ("Merge table rows using the Web API"). Master ID
// is set by nothing else, so update_record writing it ({"masterid": "Contoso Ltd"}) is the merge, as Dynamics'
// own record of it reads; the policy's switch for merging a table is masterid in its write list.

/**
 * The tables Dynamics' Merge action takes ("Only the following entity types can be merged": accounts, contacts,
 * leads with Dynamics 365 Sales, cases with Dynamics 365 Service), with what merging leaves the duplicate in (its
 * statecode, and the word for it), what moves from it in words, whether the record kept takes its values
 * (Dynamics applies none to a case: "This property is not applied when merging incidents"), and whether both
 * must be open: leads are merged only while neither is qualified or disqualified (GUESS: Dynamics offers merging
 * on active records, and a qualified lead is read-only; a closed lead's deal, account and contact were made from
 * it already).
 */
// a Map, not an object: a table named like an Object.prototype member must not find one
const MERGED: ReadonlyMap<string, { state: number; becomes: string; moves: string; fills: boolean; open?: true }> =
  new Map([
    [
      'account',
      { state: 1, becomes: 'deactivated', moves: 'contacts, deals, cases, activities and notes', fills: true },
    ],
    ['contact', { state: 1, becomes: 'deactivated', moves: 'deals, cases, activities and notes', fills: true }],
    ['lead', { state: 2, becomes: 'disqualified', moves: 'activities and notes', fills: true, open: true }],
    ['incident', { state: 2, becomes: 'canceled', moves: 'activities, notes and child cases', fills: false }],
  ]);
const MASTER = 'masterid';

/** What a merge moves from the duplicate to the record kept, in words, by table */
export const relatedWords = (table: string): string => MERGED.get(table)?.moves ?? 'related records';

/** What a merge makes of the duplicate, in a word ("deactivated"), by table */
export const mergedWord = (table: string): string => MERGED.get(table)?.becomes ?? 'deactivated';

/** Whether a table's records are merged only while both are open (leads) */
export const mergedWhileOpen = (table: string): boolean => MERGED.get(table)?.open === true;

/** The record a "masterid" among update_record's values names (undefined where there is none). */
export function mergeAsked(model: EntityModel, values: WriteValues): unknown {
  for (const [key, value] of Object.entries(values))
    if ((writtenColumn(model, key)?.logicalName ?? key.toLowerCase()) === MASTER) return value ?? null;
  return undefined;
}

/**
 * Where two records of a table may be the same (a duplicate rule matched them), how to merge them, if this server
 * merges that table's records; else nothing.
 */
export function mergeHint(ctx: ToolContext, table: string, ids: [string, string]): string {
  if (!MERGED.has(table) || !ctx.policy.canWrite(table, MASTER) || !ctx.policy.canRead(table, MASTER)) return '';
  return ` If they are, the two can be made one: ask which to keep, then call update_record on the other with values {"masterid": "<id of the one kept>"} (their ids: ${ids.join(' and ')}).`;
}

/** A statecode's label ("Inactive", "Qualified") in the table's metadata */
const stateLabel = (model: EntityModel, v: unknown) =>
  model.columns.get('statecode')?.options?.find((o) => o.value === v)?.label;

/** The columns a merge fills on the record kept where it has none: those the policy lets be read and written. */
function fillable(ctx: ToolContext, model: EntityModel): string[] {
  return [...model.columns.values()]
    .filter(
      (c) =>
        c.logicalName !== MASTER &&
        c.validForUpdate &&
        !['State', 'Status', 'Owner', 'PartyList', 'MultiSelectPicklist', 'Virtual'].includes(c.type) &&
        ctx.policy.canRead(model.logicalName, c.logicalName) &&
        ctx.policy.canWrite(model.logicalName, c.logicalName),
    )
    .map((c) => c.logicalName);
}

/** A column's value in a row as a write takes it back (a lookup as {entity, id}), or undefined where it is empty. */
function columnValue(model: EntityModel, row: Row, column: string): unknown {
  const col = model.columns.get(column);
  if (col && isLookupType(col.type)) {
    const id = row[`_${column}_value`];
    const entity = row[`_${column}_value@Microsoft.Dynamics.CRM.lookuplogicalname`] ?? col.targets?.[0];
    return typeof id === 'string' && typeof entity === 'string' ? { entity, id } : undefined;
  }
  const v = row[column];
  return v === null || v === undefined || v === '' ? undefined : v;
}

/**
 * The record to keep, by its name: the one of the table with it other than the duplicate (two records of one
 * name are the commonest duplicates), the open one where several are; a name none or several have is refused
 * naming "masterid".
 */
async function keptNamed(ctx: ToolContext, table: string, name: string, duplicate: string): Promise<string> {
  const answered = await exactlyNamed(ctx, [table], name);
  const others = { ...answered, found: answered.found.filter((r) => r.id.toLowerCase() !== duplicate) };
  return (await recordNamed(ctx, [table], name, 'masterid', others, true)).id.toLowerCase();
}

/**
 * update_record with "masterid" on an account or contact: the record merged into the one named (by name or id)
 * with Dynamics' Merge, asked of the user first (a merge is not undone), after both are read: the record kept
 * takes the duplicate's values where it has none, keeping its own; one merged already into that record is said
 * and nothing sent, so a call repeated after a lost answer merges nothing twice.
 */
export async function mergeInto(
  ctx: ToolContext,
  model: EntityModel,
  id: string,
  values: WriteValues,
  etag: string | undefined,
) {
  const table = model.logicalName;
  const merging = MERGED.get(table);
  if (!merging)
    throw badInput(
      `"masterid" is set by merging, which this server does for accounts, contacts, leads and cases, not ${table} records.`,
      'Leave masterid out; merge the records in Dynamics.',
    );
  const others = Object.keys(values).filter((k) => mergeAsked(model, { [k]: values[k] }) === undefined);
  if (others.length)
    throw badInput(
      `Merging a ${table} into another is a change of its own; ${others.join(', ')} cannot go with it.`,
      `Call update_record with "masterid" alone (the ${table} to keep); change the one kept in another call.`,
    );
  ctx.policy.assertWritable(table, [MASTER], `Merging ${table} records`);
  // whether the duplicate was merged already is read from it: a merge asked again must find it so
  if (!ctx.policy.canRead(table, MASTER))
    throw badInput(
      `Merging ${table} records needs their masterid readable under this server's policy, to tell a record merged already.`,
      `Ask the administrator to add masterid to the read list of ${table} beside its write list.`,
    );
  const given = values[Object.keys(values)[0]!];
  const ref = given && typeof given === 'object' && !Array.isArray(given) ? (given as Record<string, unknown>) : {};
  const named = typeof given === 'string' ? given : typeof ref.id === 'string' ? ref.id : undefined;
  if (!named || (typeof ref.entity === 'string' && ref.entity.toLowerCase() !== table))
    throw badInput(
      `"masterid" names the ${table} to merge this one into, by its name or id.`,
      `Pass {"masterid": "<the ${table} to keep>"}; the record in "id" is the duplicate, deactivated by the merge.`,
    );
  const keep = guidOrUndefined(named) ?? (await keptNamed(ctx, table, named, id));
  if (keep === id)
    throw badInput(
      `"masterid" is the ${table} being merged (${id}): a record is not merged into itself.`,
      `Name the other ${table}, the one to keep; "id" is the duplicate.`,
    );
  const name = model.primaryNameAttribute;
  const columns = merging.fills ? fillable(ctx, model) : [];
  const select = [
    ...new Set([...columns, MASTER, 'statecode', ...(name && ctx.policy.canRead(table, name) ? [name] : [])]),
  ].filter((c) => ctx.policy.canRead(table, c));
  const read = async (record: string) => (await ctx.client.get(table, record, { select, signal: ctx.signal })).row;
  const [duplicate, kept] = [await read(id), await read(keep)];
  refuseIfChanged(etag, duplicate, table, id);
  const called = (row: Row, record: string) =>
    name && typeof row[name] === 'string' ? `"${String(row[name])}" (${record})` : record;
  const [dupName, keptName] = [called(duplicate, id), called(kept, keep)];
  const url = recordUrl(ctx.config.dynamics.url, table, id);
  const masterOf = (row: Row) => (typeof row[`_${MASTER}_value`] === 'string' ? String(row[`_${MASTER}_value`]) : '');
  if (masterOf(duplicate) === keep)
    return {
      structured: { entity: table, id, updated: false, changed: {}, url },
      text: `The ${table} ${dupName} was merged into ${keptName} already: nothing was sent.`,
    };
  if (masterOf(duplicate))
    throw badInput(
      `The ${table} ${dupName} was merged already, into ${masterOf(duplicate)}: a merged record is not merged again.`,
      `Merge into ${masterOf(duplicate)} instead, or read it with get_record.`,
    );
  if (masterOf(kept))
    throw badInput(
      `The ${table} ${keptName} was itself merged into ${masterOf(kept)}: records are merged into the one kept.`,
      `Pass {"masterid": "${masterOf(kept)}"}.`,
    );
  if (merging.open) refuseClosed(model, [duplicate, dupName], [kept, keptName]);
  // the duplicate's values where the record kept has none ("any existing data in the Target record aren't
  // overwritten"); Dynamics' merge dialog offers the same choice column by column
  const filled: WriteValues = {};
  for (const c of columns) {
    const theirs = columnValue(model, duplicate, c);
    // a lookup to either of the two (the duplicate's parent the record kept) would make it point at itself
    const pointsAtPair = [id, keep].includes(String((theirs as { id?: unknown } | undefined)?.id ?? '').toLowerCase());
    if (theirs !== undefined && !pointsAtPair && columnValue(model, kept, c) === undefined)
      filled[c] = theirs as WriteValues[string];
  }
  const taken = Object.keys(filled);
  const takes = taken.length
    ? `, which takes ${taken.join(', ')} from it where it has none and keeps its own values`
    : merging.fills
      ? ', which keeps its own values'
      : ', which keeps its own values (Dynamics merges no column of a case)';
  const declined = await declinedByUser(
    ctx,
    true,
    () =>
      `Merge ${table} ${dupName} into ${keptName}? Its related records (${relatedWords(table)}) move to ${keptName}${takes}; ${dupName} is ${merging.becomes}. A merge cannot be undone.`,
    { tool: 'update_record', entity: table, id, action: 'merge', notDone: 'not merged' },
  );
  if (declined)
    return {
      structured: { entity: table, id, updated: false, changed: {}, url },
      text: `Not merged: the user chose "${declined}".`,
    };
  await ctx.client.merge(table, keep, id, filled, { signal: ctx.signal });
  await ctx.audit.record({
    tool: 'update_record',
    entity: table,
    id,
    action: 'merge',
    columns: { [MASTER]: { entity: table, id: keep }, ...filled },
    caller: ctx.caller,
  });
  const master = { id: keep, entity: table, ...(name && typeof kept[name] === 'string' ? { name: kept[name] } : {}) };
  const state = (v: unknown) => stateLabel(model, v) ?? v;
  return {
    structured: {
      entity: table,
      id,
      updated: true,
      changed: { [MASTER]: master, statecode: state(merging.state) },
      previous: { [MASTER]: null, statecode: state(duplicate.statecode ?? null) },
      url,
    },
    text: `Merged ${table} ${dupName} into ${keptName}: its related records (${relatedWords(table)}) now belong to ${keptName}${taken.length ? `, which took ${JSON.stringify(Object.fromEntries(taken.map((c) => [c, filled[c]])))} from it where it had none` : ', which kept its own values'}; ${dupName} is ${String(state(merging.state))} now, its Master ID ${keptName}.`,
  };
}

/**
 * Leads are merged while both are open (MERGED): a qualified or disqualified one of the pair is refused before
 * anything is sent, saying which and what to do instead.
 */
function refuseClosed(model: EntityModel, duplicate: [Row, string], kept: [Row, string]): void {
  const table = model.logicalName;
  const label = (v: unknown) => stateLabel(model, v) ?? String(v);
  const [dupRow, dupName] = duplicate;
  const [keptRow, keptName] = kept;
  if ((dupRow.statecode ?? 0) !== 0)
    throw badInput(
      `The ${table} ${dupName} is ${label(dupRow.statecode)}: only open ${table}s are merged.`,
      dupRow.statecode === 1
        ? `Leave it as it is (what it was qualified into stays), or reactivate it (statecode "Open") and merge it then.`
        : `Leave it as it is, or reactivate it (statecode "Open") and merge it then.`,
    );
  if ((keptRow.statecode ?? 0) !== 0)
    throw badInput(
      `The ${table} to keep, ${keptName}, is ${label(keptRow.statecode)}: ${table}s are merged only into an open one.`,
      `Reactivate ${keptName} (statecode "Open") first, or leave the two as they are.`,
    );
}

/**
 * Of records a create found as the one it means again (in the order to prefer them, newest first), the one in
 * use: the first not merged into another (a duplicate merged is newer than the record kept, and deactivated),
 * else the record the first was merged into, read with `select`, with `merged` the id of the record found.
 * Where the policy does not read the table's masterid, the first.
 */
export async function recordInUse(
  ctx: ToolContext,
  model: EntityModel,
  rows: readonly Row[],
  select: string[],
): Promise<{ row: Row; merged?: string } | undefined> {
  const row = rows.find((r) => !mergedOf(r)) ?? rows[0];
  const master = row && mergedOf(row);
  if (!row || !master) return row && { row };
  const kept = await ctx.client.get(model.logicalName, master.id, { select, signal: ctx.signal });
  return { row: kept.row, merged: String(row[model.primaryIdAttribute]) };
}
