import type { EntityDef } from '../schema/types.js';
import { isLookupRef, type Row, type Store } from './store.js';

/**
 * Dataverse's base-currency columns: a record's exchangerate comes from its currency, and every money column
 * has a read-only "<name>_base" = value / exchangerate, recomputed whenever the record is written (docs:
 * Transaction Currency (currency) table). Money keeps two decimals.
 */
export function applyCurrency(store: Store, entity: EntityDef, row: Row): void {
  const moneys = entity.attributes.filter((a) => a.type === 'Money' && !a.logicalName.endsWith('_base'));
  if (!moneys.length) return;
  const currency = isLookupRef(row.transactioncurrencyid)
    ? store.table('transactioncurrency').get(row.transactioncurrencyid.id)
    : undefined;
  const rate = typeof currency?.exchangerate === 'number' && currency.exchangerate > 0 ? currency.exchangerate : 1;
  row.exchangerate = rate;
  for (const m of moneys) {
    const v = row[m.logicalName];
    row[`${m.logicalName}_base`] = typeof v === 'number' ? Math.round((v / rate) * 100) / 100 : null;
  }
}
