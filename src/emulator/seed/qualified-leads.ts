import { isLookupRef, type Row, type Store } from '../store/store.js';
import { idNumber } from './id-number.js';

/**
 * Each qualified lead is linked to the deal its qualifying made, as QualifyLead links them: the deal names the lead
 * (originatingleadid), the lead names the deal (qualifyingopportunityid) and the deal's account and contact, and
 * the lead was last changed when it was qualified, the deal's Created On. The seed made qualified leads that named
 * nothing, so "which deals came from leads" found none in any demo. The deal is one made after the lead, chosen by
 * the lead's id number among the next few not yet taken (an open deal past its first stage, or a closed one: a deal
 * a lead's qualifying makes goes on from Develop); a lead with none after it keeps naming nothing. The lead keeps the
 * company name it was entered with (a lead for an existing customer, linked to its account). After everything else,
 * drawing nothing: nothing seeded before moves.
 */
export function linkQualifiedLeads(store: Store): void {
  const deals = store.table('opportunity');
  const leads = store.table('lead');
  const byCreated = [...deals.rows]
    .filter(([, d]) => d.originatingleadid == null && (d.statecode !== 0 || Number(d.salesstage) >= 1))
    .map(([id, d]) => ({ id, created: String(d.createdon) }))
    .sort((a, b) => a.created.localeCompare(b.created));
  const taken = new Set<string>();
  for (const [leadId, lead] of leads.rows) {
    if (lead.statecode !== 1 || lead.statuscode !== 3) continue;
    const created = String(lead.createdon);
    // the first deal made after the lead (a binary search over the deals by Created On)
    let lo = 0;
    let hi = byCreated.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byCreated[mid]!.created < created) lo = mid + 1;
      else hi = mid;
    }
    const free = [];
    for (let i = lo; i < byCreated.length && free.length < 5; i++)
      if (!taken.has(byCreated[i]!.id)) free.push(byCreated[i]!);
    if (!free.length) continue;
    const chosen = free[idNumber(leadId) % free.length]!;
    taken.add(chosen.id);
    const deal = deals.get(chosen.id)!;
    deals.put(chosen.id, { ...deal, originatingleadid: { id: leadId, entity: 'lead' } });
    const linked: Row = {
      ...lead,
      qualifyingopportunityid: { id: chosen.id, entity: 'opportunity' },
      parentaccountid: isLookupRef(deal.parentaccountid) ? deal.parentaccountid : (lead.parentaccountid ?? null),
      parentcontactid: isLookupRef(deal.parentcontactid) ? deal.parentcontactid : (lead.parentcontactid ?? null),
      modifiedon: chosen.created,
      versionnumber: store.nextVersion(),
    };
    leads.put(leadId, linked);
  }
}
