import { isLookupRef, type Store } from '../store/store.js';

/**
 * Every closed deal's last change is its closing (WinOpportunity and LoseOpportunity write the deal): its Modified
 * On is its Opportunity Close's Created On, not a day drawn within three weeks of its creation, which put most
 * closed deals' last change months before the day they were won or lost. After everything else, drawing nothing.
 */
export function closingIsLastChange(store: Store): void {
  const deals = store.table('opportunity');
  for (const close of store.table('opportunityclose').rows.values()) {
    const id = isLookupRef(close.opportunityid) ? close.opportunityid.id : undefined;
    const deal = id ? deals.get(id) : undefined;
    if (!id || !deal || deal.statecode === 0 || String(deal.modifiedon) >= String(close.createdon)) continue;
    deals.put(id, {
      ...deal,
      modifiedon: close.createdon ?? deal.modifiedon ?? null,
      versionnumber: store.nextVersion(),
    });
  }
}

/** The activity tables whose closed records carry when they were closed (Actual End) */
const ACTIVITIES = ['task', 'phonecall', 'email', 'appointment'];

/**
 * A completed or canceled activity was last changed when it was closed, or after: its Modified On is at least its
 * Actual End (a task or meeting seeded closed had its Actual End after its last change). After everything else,
 * drawing nothing.
 */
export function closedActivitiesChangedLast(store: Store): void {
  for (const logical of ACTIVITIES) {
    const table = store.table(logical);
    // (a key set again while its map is walked is not walked twice: no copy of a large table's entries)
    for (const [id, row] of table.rows) {
      if (row.statecode === 0 || typeof row.actualend !== 'string') continue;
      const end = row.actualend.replace(/\.\d{3}Z$/, 'Z');
      if (String(row.modifiedon) >= end) continue;
      table.put(id, { ...row, modifiedon: end, versionnumber: store.nextVersion() });
    }
  }
}
