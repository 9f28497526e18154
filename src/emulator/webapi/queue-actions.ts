import { QUEUE_ENABLED } from '../schema/queues.js';
import { isLookupRef } from '../store/store.js';
import { actionParams } from './actions.js';
import { badRequest, notFound } from './errors.js';
import { itemsOf } from './queue-items.js';
import { assertPrivilege, type SecurityRole } from './security.js';
import { createRow, type WriteContext } from './writes.js';

/**
 * AddToQueue ("AddToQueue Action", Web API reference): POST queues(<id>)/Microsoft.Dynamics.CRM.AddToQueue,
 * bound to the destination queue, with Target (the record, its @odata.type and key) and optionally
 * SourceQueue and QueueItemProperties; it "moves an entity record from a source queue to a destination queue"
 * and returns AddToQueueResponse's QueueItemId, "the queue item that is created in the destination queue".
 * A record is in one queue at a time ("A row cannot be added in multiple queues", Queue tables): the record's
 * active item elsewhere is removed and one made in the destination, which it entered now and nobody works on
 * yet (GUESS: the reference does not say whether Worked By goes along; QueueItemProperties could set it). A
 * record already in the destination keeps its item, so the action sent twice moves it once.
 */
export function addToQueue(
  ctx: WriteContext,
  role: SecurityRole,
  userId: string,
  queueId: string,
  raw: string,
): string {
  const { schema, store } = ctx.env;
  const params = actionParams(raw);
  if (!store.table('queue').get(queueId)) throw notFound('queue', queueId);
  const target = params.Target as Record<string, unknown> | undefined;
  const type = /^#?Microsoft\.Dynamics\.CRM\.(\w+)$/.exec(String(target?.['@odata.type'] ?? ''))?.[1];
  if (!target || !type) throw badRequest("AddToQueue needs a Target with its '@odata.type' and key.");
  const def = schema.entity(type);
  if (!def || !QUEUE_ENABLED.includes(def.logicalName))
    throw badRequest(`The ${type} entity is not enabled for queues.`);
  const id = String(target[def.primaryIdAttribute] ?? '').toLowerCase();
  if (!store.table(def.logicalName).get(id)) throw notFound(def.logicalName, id);
  const itemDef = schema.entity('queueitem')!;
  assertPrivilege(role, itemDef, 'create', userId);
  const active = itemsOf(ctx, id).filter(([, item]) => item.statecode === 0);
  const here = active.find(([, item]) => isLookupRef(item.queueid) && item.queueid.id === queueId);
  if (here) return here[0];
  // made before the old one goes: a create the role refuses leaves the record where it was
  const made = createRow(ctx, itemDef, {
    [`objectid_${def.logicalName}@odata.bind`]: `/${def.entitySetName}(${id})`,
    'queueid@odata.bind': `/queues(${queueId})`,
  });
  const items = store.table('queueitem');
  for (const [itemId] of active) store.delete(items, itemId);
  return String(made.queueitemid);
}
