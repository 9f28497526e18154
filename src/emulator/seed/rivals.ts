import type { Store } from '../store/store.js';

/**
 * The first competitor each deal was up against (opportunitycompetitors, in the order seeded): whom a deal lost as
 * Out-Sold went to, as its Opportunity Close keeps it.
 */
export function firstRivals(store: Store): Map<string, string> {
  const against = new Map<string, string>();
  for (const pair of store.table('opportunitycompetitors').rows.values())
    if (!against.has(String(pair.opportunityid))) against.set(String(pair.opportunityid), String(pair.competitorid));
  return against;
}
