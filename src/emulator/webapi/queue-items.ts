import { QUEUE_ENABLED } from '../schema/queues.js';
import type { EntityDef } from '../schema/types.js';
import { isLookupRef, type Row } from '../store/store.js';
import { isoNow } from './values.js';
import type { WriteContext } from './writes.js';

// What Dataverse does to queue items on its own ("Queue tables", Dataverse developer guide, and the QueueItem
// table reference): a queue item's title "is copied from the record that was assigned to the queue", its type
// follows the record, Entered Queue and Worked On are stamped; "a queue item is automatically deactivated if the
// state of the record in the queue item changed from Active to Inactive"; "when you delete a row, all queue items
// that reference this row are deleted".

/** A queue item being written: what the platform fills in (`existing` is the row before an update). */
export function fillQueueItem(ctx: WriteContext, row: Row, existing?: Row): void {
  const now = isoNow(ctx.env.now);
  if (!existing) {
    row.enteredon = now;
    const object = isLookupRef(row.objectid) ? row.objectid : undefined;
    const def = object && ctx.env.schema.entity(object.entity);
    const record = def && ctx.env.store.table(def.logicalName).get(object.id);
    row.title = record ? ((record[def.primaryNameAttribute] as string | null) ?? null) : null;
    row.objecttypecode = def?.objectTypeCode ?? null;
  }
  const worker = (r: Row | undefined) => (isLookupRef(r?.workerid) ? r.workerid.id : null);
  if (worker(row) !== worker(existing) && worker(row)) row.workeridmodifiedon = now;
}

/**
 * A case or an activity closed (its statecode left Active): its active queue items made Inactive through
 * `deactivate` (an update, so that each is stamped as the platform's write).
 */
export function closeQueueItems(
  ctx: WriteContext,
  entity: EntityDef,
  id: string,
  before: Row,
  after: Row,
  deactivate: (queueItemId: string) => void,
): void {
  if (!QUEUE_ENABLED.includes(entity.logicalName) || before.statecode !== 0 || after.statecode === 0) return;
  for (const [itemId, item] of itemsOf(ctx, id)) if (item.statecode === 0) deactivate(itemId);
}

/** A case or an activity deleted: its queue items go with it. */
export function dropQueueItems(ctx: WriteContext, entity: EntityDef, id: string): void {
  if (!QUEUE_ENABLED.includes(entity.logicalName)) return;
  const items = ctx.env.store.table('queueitem');
  for (const [itemId] of itemsOf(ctx, id)) ctx.env.store.delete(items, itemId);
}

/** the queue items of the record `id` (its objectid), active or not */
export function itemsOf(ctx: WriteContext, id: string): [string, Row][] {
  return [...ctx.env.store.table('queueitem').rows].filter(
    ([, item]) => isLookupRef(item.objectid) && item.objectid.id === id,
  );
}
