import type { WriteValues } from '../../dynamics/client.js';
import { badInput } from '../../errors.js';
import type { ToolContext } from '../define.js';
import { recordUrl } from './shape.js';
import { declinedByUser } from './state-change.js';

const NAME = '@OData.Community.Display.V1.FormattedValue';

/** The queue asked for in an update of a queue item ({"queueid": "Tier 2 Support"}), as its id. */
export function queueAsked(values: WriteValues): string | undefined {
  const v = values.queueid;
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string') return (v as { id: string }).id;
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
export async function moveQueueItem(ctx: ToolContext, id: string, values: WriteValues, queue: string, etag?: string) {
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
  const from = { id: String(move.before._queueid_value), name: move.before[`_queueid_value${NAME}`] };
  const title = typeof move.before.title === 'string' ? `"${move.before.title}"` : `queue item ${id}`;
  if (!move.moved)
    return {
      structured: { entity: 'queueitem', id, updated: false, changed: {}, url: url(id) },
      text: `${title} is already in ${from.name ?? `queue ${from.id}`}: nothing was moved.`,
    };
  // the item it has there, as Dynamics made it: its queue's name and who works it
  const after = (
    await ctx.client.get('queueitem', move.id, {
      select: ['queueid', 'workerid'].filter((c) => ctx.policy.canRead('queueitem', c)),
      signal: ctx.signal,
    })
  ).row;
  const to =
    typeof after._queueid_value === 'string'
      ? { id: after._queueid_value, name: after[`_queueid_value${NAME}`] as string | undefined }
      : undefined;
  await ctx.audit.record({
    tool: 'update_record',
    entity: 'queueitem',
    id,
    action: 'update',
    columns: { queueid: to ?? queue, queueitem: move.id },
    previous: { queueid: from },
    caller: ctx.caller,
  });
  // where Worked By may be read: who works it there (the one it had may not have come along)
  const worker = after[`_workerid_value${NAME}`];
  const working = !ctx.policy.canRead('queueitem', 'workerid')
    ? ''
    : after._workerid_value
      ? ` ${typeof worker === 'string' ? worker : 'Someone'} works it there.`
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
