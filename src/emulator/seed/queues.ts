import type { Row, Store } from '../store/store.js';
import { idNumber } from './id-number.js';
import type { Add } from './seed.js';

/** The organisation's queues: the first line of support, the second (high priority) and billing questions. */
export const TIER_1_QUEUE_ID = 'a1b2c3d4-0000-4000-8000-0000000f0001';
export const TIER_2_QUEUE_ID = 'a1b2c3d4-0000-4000-8000-0000000f0002';
export const BILLING_QUEUE_ID = 'a1b2c3d4-0000-4000-8000-0000000f0003';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Queues and their items (after everything else, and made from the cases' own values rather than drawn, so that
 * nothing seeded before moves): every open case is in a queue from when it was opened, invoice questions in
 * Billing, other High ones in Tier 2, the rest in Tier 1; its owner works on it, taken within a few hours, except about
 * one in four (by its id's number) and those a team holds, which nobody has taken yet. A case closed in the last month keeps its item,
 * made Inactive when it closed (the platform does that; inactive items stay until someone clears them).
 * Returns how many records were made.
 */
export function seedQueues(store: Store, add: Add, now: number): number {
  const queues: [string, string, string, string][] = [
    [TIER_1_QUEUE_ID, 'Tier 1 Support', 'support@contoso.example', 'New cases are triaged here.'],
    [TIER_2_QUEUE_ID, 'Tier 2 Support', 'escalations@contoso.example', 'High-priority cases and escalations.'],
    [BILLING_QUEUE_ID, 'Billing', 'billing@contoso.example', 'Questions about invoices and payments.'],
  ];
  for (const [id, name, emailaddress, description] of queues)
    add(
      'queue',
      { name, emailaddress, description, queueviewtype: 0, statecode: 0, statuscode: 1 },
      { id, createdDaysAgo: 900 },
    );
  let count = queues.length;
  for (const [id, c] of store.table('incident').rows) {
    const n = idNumber(id);
    const opened = Date.parse(String(c.createdon));
    const changed = Date.parse(String(c.modifiedon));
    if (c.statecode !== 0 && changed < now - 30 * DAY) continue;
    const queue =
      c.title === 'Invoice amount is wrong'
        ? BILLING_QUEUE_ID
        : c.prioritycode === 1
          ? TIER_2_QUEUE_ID
          : TIER_1_QUEUE_ID;
    const owner = c.ownerid as { id: string; entity: string } | null;
    const taken = owner?.entity === 'systemuser' && n % 4 !== 0;
    const takenAt = taken ? Math.min(opened + ((n % 6) + 1) * HOUR, Math.max(opened, changed)) : null;
    const item: Row = {
      title: c.title ?? null,
      queueid: { id: queue, entity: 'queue' },
      objectid: { id, entity: 'incident' },
      objecttypecode: 112,
      workerid: taken ? { id: owner!.id, entity: 'systemuser' } : null,
      workeridmodifiedon: takenAt === null ? null : iso(takenAt),
      enteredon: c.createdon ?? null,
      createdon: c.createdon ?? null,
      modifiedon: c.statecode === 0 ? iso(takenAt ?? opened) : (c.modifiedon ?? null),
      statecode: c.statecode === 0 ? 0 : 1,
      statuscode: c.statecode === 0 ? 1 : 2,
    };
    add('queueitem', item, { createdDaysAgo: 0 });
    count++;
  }
  return count;
}
