import { badInput } from '../errors.js';
import { foreignAnswer, jsonOf, rowOf } from './answers.js';
import type { CallOptions, Row } from './client.js';
import { guidValue } from './coerce.js';
import { API } from './metadata.js';
import { ANNOTATIONS } from './query-text.js';
import type { WriterDeps } from './writes.js';

const LOGICAL = '@Microsoft.Dynamics.CRM.lookuplogicalname';

export interface QueueMove {
  /** the queue item the record has in the destination (a new one where it moved) */
  id: string;
  /** the item as it was: its title, record (`_objectid_value`) and queue (`_queueid_value`), with their names */
  before: Row;
  moved: boolean;
}

/**
 * Moves a queue item's record to another queue the way Dynamics does: with the AddToQueue action bound to the
 * destination (a queue item's queueid is not valid for update), Target its record and SourceQueue the queue it
 * is in. The item is read first: an inactive one (its record closed) left its queue then, and is refused; one
 * already in the destination is left as it is. The action is a POST, never sent twice once it may have been
 * processed; sent again by the caller, it finds the record where it was moved and moves nothing.
 */
export async function moveToQueue(
  deps: WriterDeps,
  itemId: string,
  queueId: string,
  opts: CallOptions,
): Promise<QueueMove> {
  const doing = 'Moving a queue item to another queue';
  deps.policy.assertWritable('queueitem', ['queueid'], doing);
  const id = guidValue(itemId, 'queueitem id');
  const dest = guidValue(queueId, 'queue id');
  const read = await deps.transport.send({
    method: 'GET',
    path: `${API}/queueitems(${id})?$select=title,_objectid_value,_queueid_value,statecode`,
    headers: { prefer: ANNOTATIONS },
    idempotent: true,
    signal: opts.signal,
    context: { entity: 'queueitem', id },
  });
  const before = rowOf(read, `the read of queueitem ${id}`);
  const title = typeof before.title === 'string' ? `"${before.title}"` : id;
  if (before.statecode !== 0)
    throw badInput(
      `The queue item ${title} is Inactive: its record was closed and left its queue then, so it is not moved.`,
      'Move an active queue item (statecode "Active"); a closed case is reactivated first, and then is in no queue.',
    );
  if (before._queueid_value === dest) return { id, before, moved: false };
  const entity = String(before[`_objectid_value${LOGICAL}`] ?? '');
  const record = String(before._objectid_value ?? '');
  if (!entity || !record) throw foreignAnswer(read, `the read of queueitem ${id}`, 'without the record it holds');
  const key = (await deps.metadata.entity(entity, opts.signal)).primaryIdAttribute;
  const r = await deps.transport.send({
    method: 'POST',
    path: `${API}/queues(${dest})/Microsoft.Dynamics.CRM.AddToQueue`,
    body: JSON.stringify({
      Target: { '@odata.type': `Microsoft.Dynamics.CRM.${entity}`, [key]: record },
      SourceQueue: { '@odata.type': 'Microsoft.Dynamics.CRM.queue', queueid: before._queueid_value },
    }),
    idempotent: false,
    signal: opts.signal,
    context: { entity: 'queue', id: dest, suggest: deps.suggest },
  });
  const again = `Where it is now shows on its ${entity}'s queue item: moving it again to the same queue moves nothing.`;
  const made = r.status === 200 ? (jsonOf(r, `the move of queueitem ${id}`) as Row).QueueItemId : undefined;
  if (typeof made !== 'string')
    throw foreignAnswer(r, `the move of queueitem ${id}`, 'not with the queue item it made (QueueItemId)', again);
  return { id: made.toLowerCase(), before, moved: true };
}
