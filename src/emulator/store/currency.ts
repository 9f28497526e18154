import type { EntityDef } from '../schema/types.js';
import { isLookupRef, type Row, type Store } from './store.js';

/**
 * Dataverse's base-currency columns: a record's exchangerate comes from its currency, and every money column
 * has a read-only "<name>_base" = value / exchangerate, recomputed whenever the record is written (docs:
 * Transaction Currency (currency) table). Money keeps two decimals.
 */
export function applyCurrency(store: Store, entity: EntityDef, row: Row): void {
  const moneys = moneyColumns(entity);
  if (!moneys.length) return;
  const currency = isLookupRef(row.transactioncurrencyid)
    ? store.table('transactioncurrency').get(row.transactioncurrencyid.id)
    : undefined;
  const rate = typeof currency?.exchangerate === 'number' && currency.exchangerate > 0 ? currency.exchangerate : 1;
  row.exchangerate = rate;
  for (const [name, baseName] of moneys) {
    const v = row[name];
    row[baseName] = typeof v === 'number' ? Math.round((v / rate) * 100) / 100 : null;
  }
}

// seeding runs this for every row of a large organisation: work out each table's columns once
const columns = new WeakMap<EntityDef, [string, string][]>();
function moneyColumns(entity: EntityDef): [string, string][] {
  let found = columns.get(entity);
  if (!found) {
    found = entity.attributes
      .filter((a) => a.type === 'Money' && !a.logicalName.endsWith('_base'))
      .map((a) => [a.logicalName, `${a.logicalName}_base`]);
    columns.set(entity, found);
  }
  return found;
}
