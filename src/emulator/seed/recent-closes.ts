import type { EntityDef } from '../schema/types.js';
import { applyCurrency } from '../store/currency.js';
import type { Row, Store } from '../store/store.js';
import { idNumber } from './id-number.js';
import { firstRivals } from './rivals.js';
import type { Add } from './seed.js';
import { LOSS_REASONS } from './words.js';

const DAY = 86_400_000;

/**
 * Deals whose close date fell in the last month, closed on it as the older ones are (after everything else, and
 * chosen by their ids' numbers rather than drawn, so that nothing seeded before moves): the seed closed only deals
 * due over a month ago, so "what did we win this month" found nothing in any demo. Of those open deals, two in five
 * are won, one in four lost (Canceled, or Out-Sold: to the first competitor it was up against, else one by its
 * number), and the rest slipped and are still open, past their date. Each closed one has its Opportunity Close,
 * written on its close day as WinOpportunity and LoseOpportunity write it, and that is the deal's last change.
 * Returns how many records were made.
 */
export function closeRecentDeals(store: Store, add: Add, anchor: number, opportunity: EntityDef): number {
  const deals = store.table('opportunity');
  const closes = store.table('opportunityclose');
  const competitors = [...store.table('competitor').rows.keys()];
  const against = firstRivals(store);
  let count = 0;
  for (const [id, deal] of deals.rows) {
    const closeDay = Date.parse(String(deal.estimatedclosedate));
    if (deal.statecode !== 0 || !(closeDay >= anchor - 30 * DAY && closeDay < anchor)) continue;
    const n = idNumber(id);
    const share = n % 20;
    if (share >= 13) continue;
    const won = share < 8;
    const status = won ? 3 : (n >>> 5) % 2 === 0 ? 4 : 5;
    const rival = competitors.length ? (against.get(id) ?? competitors[(n >>> 12) % competitors.length]) : undefined;
    const closeId = add(
      'opportunityclose',
      {
        subject: `${won ? 'Won' : 'Lost'}: ${deal.name}`,
        description: won ? null : LOSS_REASONS[(n >>> 8) % LOSS_REASONS.length]!,
        opportunityid: { id, entity: 'opportunity' },
        actualrevenue: won ? (deal.estimatedvalue ?? null) : null,
        actualend: deal.estimatedclosedate ?? null,
        competitorid: status === 5 && rival ? { id: rival, entity: 'competitor' } : null,
        statecode: 1,
        statuscode: 2,
      },
      {
        owner: (deal.ownerid as { id: string } | undefined)?.id,
        createdDaysAgo: Math.max(0, Math.round((anchor - closeDay) / DAY)),
      },
    );
    count++;
    const closed: Row = {
      ...deal,
      actualvalue: won ? (deal.estimatedvalue ?? null) : null,
      actualclosedate: deal.estimatedclosedate ?? null,
      closeprobability: won ? 100 : 0,
      stepname: won ? '5-Won' : '5-Lost',
      salesstage: 3,
      statecode: won ? 1 : 2,
      statuscode: status,
      modifiedon: closes.get(closeId)?.createdon ?? deal.modifiedon ?? null,
      versionnumber: store.nextVersion(),
    };
    applyCurrency(store, opportunity, closed);
    deals.put(id, closed);
  }
  return count;
}
