import type { EntityDef } from '../schema/types.js';
import { isLookupRef, type Row, type Store, type Value } from './store.js';

/**
 * Dataverse's base-currency columns: a record's exchangerate comes from its currency, and every money column
 * has a read-only "<name>_base" = value / exchangerate, recomputed whenever the record is written (docs:
 * Transaction Currency (currency) table). Money keeps two decimals.
 */
export function currencyValues(
  entity: EntityDef,
  row: Row,
  rateOf: (currencyId: string) => number | undefined,
): Record<string, Value> | undefined {
  const moneys = moneyColumns(entity);
  if (!moneys.length) return undefined;
  const found = isLookupRef(row.transactioncurrencyid) ? rateOf(row.transactioncurrencyid.id) : undefined;
  const rate = typeof found === 'number' && found > 0 ? found : 1;
  const out: Record<string, Value> = { exchangerate: rate };
  for (const [name, baseName] of moneys) {
    const v = row[name];
    out[baseName] = typeof v === 'number' ? Math.round((v / rate) * 100) / 100 : null;
  }
  return out;
}

/** The same, written into a row a request has just created or changed (rates from the currency table). */
export function applyCurrency(store: Store, entity: EntityDef, row: Row): void {
  const values = currencyValues(entity, row, (id) => {
    const rate = store.table('transactioncurrency').get(id)?.exchangerate;
    return typeof rate === 'number' ? rate : undefined;
  });
  if (values) Object.assign(row, values);
}

// seeding asks for every row of a large organisation: work out each table's columns once
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
