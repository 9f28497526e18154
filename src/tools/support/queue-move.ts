import type { Row, WriteValues } from '../../dynamics/client.js';
import { badInput } from '../../errors.js';
import type { EntityModel } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { compactRow, recordUrl } from './shape.js';
import { declinedByUser } from './state-change.js';

/** A lookup of a queue item row as compactRow shows it: its id, and its name and table where Dynamics gave them. */
type Shown = { id: string; name?: string; entity?: string } | undefined;
const lookupIn = (model: EntityModel, row: Row, column: string): Shown => compactRow(model, row)[column] as Shown;

/** The queue asked for in an update of a queue item ({"queueid": "Tier 2 Support"}), as its id. */
export function queueAsked(values: WriteValues): string | undefined {
  if (values.queueid === undefined) return undefined;
  const ref = refOf(values.queueid, 'queue');
  if (ref) return ref.id;
  throw badInput(
    '"queueid" names the queue to move the item to.',
    'Pass the queue\'s name or id: {"queueid": "Tier 2 Support"}.',
  );
}

/**
 * update_record on a queue item given another queue: the record moved there with Dynamics' AddToQueue (a
 * queue item's queue is not updated in place), asked of the user first where the policy confirms writes to
 * queue items. The record has a new item in that queue, which the answer names; Worked By is as Dynamics left it
 * there, read back and said. A move is a change of its own: other values go in a second call, on the new item.
 */
export async function moveQueueItem(
  ctx: ToolContext,
  model: EntityModel,
  id: string,
  values: WriteValues,
  queue: string,
  etag?: string,
) {
  const others = Object.keys(values).filter((k) => k !== 'queueid');
  if (others.length)
    throw badInput(
      `Moving a queue item to another queue is a change of its own; ${others.join(', ')} cannot go with it.`,
      'Call update_record with "queueid" alone, then again with the rest on the queue item the move answers with.',
    );
  if (etag)
    throw badInput(
      'A move to another queue is not guarded by an etag: Dynamics moves the record with AddToQueue, not an update of the item.',
      'Call update_record again without etag.',
    );
  const declined = await declinedByUser(
    ctx,
    ctx.policy.confirmWrites('queueitem'),
    () => `Move queue item ${id} to queue ${queue}?`,
    { tool: 'update_record', entity: 'queueitem', id, action: 'update', notDone: 'not moved' },
  );
  const url = (item: string) => recordUrl(ctx.config.dynamics.url, 'queueitem', item);
  if (declined)
    return {
      structured: { entity: 'queueitem', id, updated: false, changed: {}, url: url(id) },
      text: `Not moved: the user chose "${declined}".`,
    };
  const move = await ctx.client.moveToQueue(id, queue, { signal: ctx.signal });
  const from = lookupIn(model, move.before, 'queueid') ?? { id: String(move.before._queueid_value) };
  const title = typeof move.before.title === 'string' ? `"${move.before.title}"` : `queue item ${id}`;
  if (!move.moved)
    return {
      structured: { entity: 'queueitem', id, updated: false, changed: {}, url: url(id) },
      text: `${title} is already in ${from.name ?? `queue ${from.id}`}: nothing was moved.`,
    };
  // audited once it is done, before anything else can fail
  await ctx.audit.record({
    tool: 'update_record',
    entity: 'queueitem',
    id,
    action: 'update',
    columns: { queueid: queue, queueitem: move.id },
    previous: { queueid: from },
    caller: ctx.caller,
  });
  // the item it has there, as Dynamics made it: its queue's name and who works it
  const after = await itemAsMade(ctx, move.id, ['queueid', 'workerid']);
  const to = lookupIn(model, after, 'queueid');
  // where Worked By may be read: who works it there (the one it had may not have come along)
  const worker = lookupIn(model, after, 'workerid');
  const working = !ctx.policy.canRead('queueitem', 'workerid')
    ? ''
    : worker
      ? ` ${worker.name ?? 'Someone'} works it there.`
      : ' Nobody works it there yet.';
  return {
    structured: {
      entity: 'queueitem',
      id: move.id,
      updated: true,
      changed: { queueid: to ?? { id: queue } },
      previous: { queueid: from },
      url: url(move.id),
    },
    text: `Moved ${title} from ${from.name ?? from.id} to ${to?.name ?? queue}: it is queue item ${move.id} there (${id} is gone).${working}`,
  };
}

/** A lookup value as the tools resolve names to records ({"entity", "id"}), or a bare id of `entity`. */
function refOf(v: unknown, entity?: string): { entity: string; id: string } | undefined {
  if (typeof v === 'string' && entity) return { entity, id: v };
  if (v && typeof v === 'object') {
    const r = v as { entity?: unknown; id?: unknown };
    if (typeof r.id === 'string' && typeof (r.entity ?? entity) === 'string')
      return { entity: String(r.entity ?? entity), id: r.id };
  }
  return undefined;
}

/**
 * create_record on a queue item: its record put in the queue with Dynamics' AddToQueue, moved from the queue it
 * is in where it is in one (a record is in one queue at a time), and one already in that queue left there (the
 * same call again adds nothing: duplicate true). The record and the queue, as create_record's lookups take
 * them, are all it takes: Worked By is set on the item afterwards with update_record.
 */
export async function putRecordInQueue(ctx: ToolContext, model: EntityModel, values: WriteValues) {
  const others = Object.keys(values).filter((k) => k !== 'queueid' && k !== 'objectid');
  if (others.length)
    throw badInput(
      `A queue item is made by putting its record in a queue: objectid and queueid only, not ${others.join(', ')}.`,
      'Call create_record with {"objectid": <the case or activity>, "queueid": <the queue>}, then update_record on the queue item for the rest (Worked By: workerid).',
    );
  const record = refOf(values.objectid);
  const queue = refOf(values.queueid, 'queue');
  if (!record || !queue)
    throw badInput(
      'A queue item needs its record (objectid: the case or activity) and its queue (queueid).',
      'Pass {"objectid": {"entity": "incident", "id": "<case id>"}, "queueid": "<queue name or id>"}.',
    );
  const declined = await declinedByUser(
    ctx,
    ctx.policy.confirmWrites('queueitem'),
    () => `Put ${record.entity} ${record.id} in queue ${queue.id}?`,
    { tool: 'create_record', entity: 'queueitem', id: record.id, action: 'create', notDone: 'not put in the queue' },
  );
  if (declined)
    return { structured: { entity: 'queueitem', duplicate: false }, text: `Not done: the user chose "${declined}".` };
  const put = await ctx.client.putInQueue(record, queue.id, { signal: ctx.signal });
  const left = put.from && lookupIn(model, put.from, 'queueid');
  const from = left ? (left.name ?? left.id) : undefined;
  // audited once it is done, before anything else can fail
  if (put.added)
    await ctx.audit.record({
      tool: 'create_record',
      entity: 'queueitem',
      id: put.id,
      action: 'create',
      columns: { objectid: record, queueid: queue, ...(from ? { movedFrom: from } : {}) },
      caller: ctx.caller,
    });
  const after = await itemAsMade(ctx, put.id, ['title', 'queueid']);
  const title = typeof after.title === 'string' ? `"${after.title}"` : `${record.entity} ${record.id}`;
  const where = lookupIn(model, after, 'queueid')?.name ?? queue.id;
  const url = recordUrl(ctx.config.dynamics.url, 'queueitem', put.id);
  if (!put.added)
    return {
      structured: { entity: 'queueitem', id: put.id, duplicate: true, url },
      text: `${title} is already in ${where}: its queue item is ${put.id}; nothing was added.`,
    };
  return {
    structured: { entity: 'queueitem', id: put.id, duplicate: false, url },
    text: `Put ${title} in ${where}${from ? ` (moved from ${from}: a record is in one queue at a time)` : ''}: queue item ${put.id}.`,
  };
}

/**
 * The queue item a move or put made, read for the answer to name its queue (and title, and who works it): the
 * write is done by then, so a read that fails leaves the answer with ids rather than the done write an error.
 */
async function itemAsMade(ctx: ToolContext, id: string, columns: string[]): Promise<Row> {
  const select = columns.filter((c) => ctx.policy.canRead('queueitem', c));
  try {
    return (await ctx.client.get('queueitem', id, { select, signal: ctx.signal })).row;
  } catch (err) {
    ctx.log.warn({ id, err: (err as Error).message }, 'queue item moved; reading it back for the answer failed');
    return {};
  }
}

/**
 * What handing a queue item to someone did not do: Worked By is who works it in the queue, and the record it
 * holds keeps its owner (Dynamics' Pick may assign the record too; an update of Worked By does not). Said, as a
 * user who hands out a case may expect it to be the new worker's: `row` is the item as updated, with its
 * objectid where the policy lets that be read.
 */
export function workedByNote(model: EntityModel, row: Row): string {
  const record = lookupIn(model, row, 'objectid');
  const what = record?.entity === 'incident' ? 'case' : (record?.entity ?? 'record');
  const named = record?.name ? ` "${record.name}"` : ' it holds';
  return ` Worked By is who works the item in its queue; the ${what}${named} keeps its owner: to assign it too, set its ownerid with update_record.`;
}
