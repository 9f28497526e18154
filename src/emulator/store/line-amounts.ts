import { isLookupRef, type Row, type Store, type Value } from './store.js';

const cents = (n: number) => Math.round(n * 100) / 100;
const amount = (v: Value | undefined) => (typeof v === 'number' ? v : 0);

/**
 * What Dataverse works out on an opportunity's product line ("OpportunityProduct table/entity reference"):
 * Amount (baseamount) "based on the price per unit, volume discount, and quantity", and Extended Amount "the
 * Amount value minus the Manual Discount amount" (and plus its Tax, as a quote's lines add it). Neither is valid
 * for create or update: they are recomputed whenever the line is written. No volume discounts are modelled (0).
 */
export function lineAmounts(row: Row): Record<string, Value> {
  const price = typeof row.priceperunit === 'number' ? row.priceperunit : null;
  const quantity = typeof row.quantity === 'number' ? row.quantity : null;
  const baseamount = price === null || quantity === null ? null : cents(price * quantity);
  return {
    baseamount,
    volumediscountamount: 0,
    extendedamount: baseamount === null ? null : cents(baseamount - amount(row.manualdiscountamount) + amount(row.tax)),
  };
}

/**
 * A product line written through the Web API: priced from the product unless its price is overridden (the price
 * list item for the opportunity's price list and the line's unit is what Dataverse uses; the emulator has no
 * price list items, so the product's List Price in the line's currency stands for it: a GUESS), named after its
 * product or write-in (a GUESS: Dataverse's own naming of opportunityproductname is not documented), then
 * summed as above. Its currency is its opportunity's.
 */
export function priceLine(store: Store, row: Row): void {
  // a line is in its opportunity's currency, as its amounts add up to the opportunity's
  const deal = isLookupRef(row.opportunityid) ? store.table('opportunity').get(row.opportunityid.id) : undefined;
  if (isLookupRef(deal?.transactioncurrencyid)) row.transactioncurrencyid = deal.transactioncurrencyid;
  const product = isLookupRef(row.productid) ? store.table('product').get(row.productid.id) : undefined;
  if (product && row.ispriceoverridden !== true && typeof product.price === 'number') {
    const currency = isLookupRef(row.transactioncurrencyid)
      ? store.table('transactioncurrency').get(row.transactioncurrencyid.id)
      : undefined;
    const rate = typeof currency?.exchangerate === 'number' ? currency.exchangerate : 1;
    row.priceperunit = cents(product.price * rate);
  }
  if (row.opportunityproductname == null)
    row.opportunityproductname = (product?.name as string | undefined) ?? (row.productdescription as string) ?? null;
  Object.assign(row, lineAmounts(row));
}

/**
 * An opportunity whose Revenue is System Calculated has as its Est. Revenue the total of its products ("Revenue:
 * System Calculated", Opportunity table reference); one typed in (User Provided) keeps its own. The lines'
 * Extended Amounts, added up; the opportunity's own discounts, freight and tax are not modelled.
 */
export function productsTotal(store: Store, dealId: string): number {
  let total = 0;
  for (const line of store.table('opportunityproduct').rows.values())
    if (isLookupRef(line.opportunityid) && line.opportunityid.id === dealId) total += amount(line.extendedamount);
  return cents(total);
}
