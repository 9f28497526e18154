import { badInput, policyError } from '../errors.js';
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
  /** the item as it was: its title (where readable), record (`_objectid_value`) and queue (`_queueid_value`) */
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
  assertReadsItems(deps, doing);
  const id = guidValue(itemId, 'queueitem id');
  const dest = guidValue(queueId, 'queue id');
  const title = deps.policy.canRead('queueitem', 'title') ? 'title,' : '';
  const read = await deps.transport.send({
    method: 'GET',
    path: `${API}/queueitems(${id})?$select=${title}_objectid_value,_queueid_value,statecode`,
    headers: { prefer: ANNOTATIONS },
    idempotent: true,
    signal: opts.signal,
    context: { entity: 'queueitem', id },
  });
  const before = rowOf(read, `the read of queueitem ${id}`);
  const named = typeof before.title === 'string' ? `"${before.title}"` : id;
  if (before.statecode !== 0)
    throw badInput(
      `The queue item ${named} is Inactive: its record was closed and left its queue then, so it is not moved.`,
      'Move an active queue item (statecode "Active"); a closed case is reactivated first, and then is in no queue.',
    );
  if (before._queueid_value === dest) return { id, before, moved: false };
  const entity = String(before[`_objectid_value${LOGICAL}`] ?? '');
  const record = String(before._objectid_value ?? '');
  if (!entity || !record) throw foreignAnswer(read, `the read of queueitem ${id}`, 'without the record it holds');
  const again = `Where it is now shows on its ${entity}'s queue item: moving it again to the same queue moves nothing.`;
  const source = String(before._queueid_value);
  const made = await addToQueue(deps, { entity, id: record }, dest, source, again, opts);
  return { id: made, before, moved: true };
}

/**
 * Puts a case or an activity in a queue (create_record on queueitem) with AddToQueue, as a move is: a record
 * is in one queue at a time, so one already in another is moved from it (`from`: that item, read first, with
 * its queue's name), and one already in this queue keeps its item (`added` false), nothing sent.
 */
export async function putInQueue(
  deps: WriterDeps,
  record: { entity: string; id: string },
  queueId: string,
  opts: CallOptions,
): Promise<{ id: string; added: boolean; from?: Row }> {
  const doing = 'Putting a record in a queue';
  deps.policy.assertWritable('queueitem', ['objectid', 'queueid'], doing);
  assertReadsItems(deps, doing);
  const id = guidValue(record.id, `${record.entity} id`);
  const dest = guidValue(queueId, 'queue id');
  const filter = encodeURIComponent(`_objectid_value eq ${id} and statecode eq 0`);
  const read = await deps.transport.send({
    method: 'GET',
    path: `${API}/queueitems?$select=_queueid_value&$filter=${filter}`,
    headers: { prefer: ANNOTATIONS },
    idempotent: true,
    signal: opts.signal,
    context: { entity: 'queueitem' },
  });
  const items = (jsonOf(read, `the queue items of ${record.entity} ${id}`) as { value?: Row[] }).value ?? [];
  const here = items.find((i) => i._queueid_value === dest);
  if (here) return { id: String(here.queueitemid), added: false };
  const from = items[0];
  const again = 'Which queue it is in shows on its queue item: putting it in the same queue again adds nothing.';
  const source = typeof from?._queueid_value === 'string' ? from._queueid_value : undefined;
  const made = await addToQueue(deps, { entity: record.entity, id }, dest, source, again, opts);
  return { id: made, added: true, ...(from ? { from } : {}) };
}

/** POST queues(<dest>)/Microsoft.Dynamics.CRM.AddToQueue for `record`, from `source` where it is in one. */
async function addToQueue(
  deps: WriterDeps,
  record: { entity: string; id: string },
  dest: string,
  source: string | undefined,
  again: string,
  opts: CallOptions,
): Promise<string> {
  const key = (await deps.metadata.entity(record.entity, opts.signal)).primaryIdAttribute;
  const r = await deps.transport.send({
    method: 'POST',
    path: `${API}/queues(${dest})/Microsoft.Dynamics.CRM.AddToQueue`,
    body: JSON.stringify({
      Target: { '@odata.type': `Microsoft.Dynamics.CRM.${record.entity}`, [key]: record.id },
      ...(source ? { SourceQueue: { '@odata.type': 'Microsoft.Dynamics.CRM.queue', queueid: source } } : {}),
    }),
    idempotent: false,
    signal: opts.signal,
    // no one table: a 404 is the queue's or the record's, which Dataverse's own message names
    context: { suggest: deps.suggest },
  });
  const what = `the move of ${record.entity} ${record.id} to queue ${dest}`;
  const made = r.status === 200 ? (jsonOf(r, what) as Row).QueueItemId : undefined;
  if (typeof made !== 'string') throw foreignAnswer(r, what, 'not with the queue item it made (QueueItemId)', again);
  return made.toLowerCase();
}

/** A move reads where the record is (its item's queue, record and state): refused where the policy hides those. */
function assertReadsItems(deps: WriterDeps, doing: string): void {
  const hidden = ['queueid', 'objectid', 'statecode'].filter((c) => !deps.policy.canRead('queueitem', c));
  if (hidden.length)
    throw policyError(
      `${doing} reads where the record is first (a queue item's ${hidden.join(', ')}), which this server's policy does not let it read.`,
      `Add ${hidden.join(', ')} to queueitem's read list in the policy, or make the change in Dynamics.`,
    );
}
