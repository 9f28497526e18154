import type { OrderByItem } from '../../odata/ast.js';
import { CHOICE_TYPES, type ColumnModel, type EntityModel } from '../../policy/model.js';

/** Up to this many values are listed in their order; a longer choice is said in words. */
const LISTED = 8;

/**
 * Dataverse's Web API sorts a choice column by its values' numbers, not by their labels or what they mean
 * ("When you order using choice columns, the results are ordered using the integer value of the choice":
 * learn.microsoft.com/power-apps/developer/data-platform/webapi/query/order-rows): "prioritycode desc" puts
 * Low (3) before High (1), and "the three most urgent cases" read off that end are the least urgent. Where a
 * query sorted by a choice returned more than one row, its values are said in the order they came in. `orderBy`
 * is the order as sent (checked, a label already read as its column).
 */
export function choiceOrderNote(
  model: EntityModel,
  orderBy: OrderByItem[] | undefined,
  rows: number,
  /** the related list sorted (get_record's expand), where it is not the query's own rows */
  list?: string,
): string {
  if (!orderBy?.length || rows < 2) return '';
  const sorted = list ? ` ${list} sorted` : ' Sorted';
  const notes: string[] = [];
  for (const item of orderBy) {
    const c = item.path.length === 1 ? model.columns.get(item.path[0]!.toLowerCase()) : undefined;
    if (!c || !CHOICE_TYPES.has(c.type) || !c.options?.length) continue;
    const values = [...c.options].sort((a, b) => (item.descending ? b.value - a.value : a.value - b.value));
    notes.push(
      values.length <= LISTED
        ? `${sorted} by ${c.logicalName}'s numbers, not what its values mean: ${values.map((o) => `${o.label} (${o.value})`).join(', ')}.`
        : `${sorted} by ${c.logicalName}'s numbers, not its labels' alphabetical order.`,
    );
  }
  return notes.join('');
}

/**
 * Dataverse sorts a money column by the amounts as stored, each in its record's own currency: 291,000 euros
 * comes after 242,000 dollars, and "the largest deals" read off a page of several currencies may not be.
 * Where the rows sorted by one hold more than one currency, that is said, with the _base column (the amount
 * in the organisation's currency) that sorts them as one, where the policy lets the model read it.
 */
export function moneyOrderNote(
  model: EntityModel,
  orderBy: OrderByItem[] | undefined,
  records: Record<string, unknown>[],
  readable: (entity: string, column: string) => boolean,
): string {
  if (!orderBy?.length || records.length < 2) return '';
  // the sort's money columns first: a query sorted by anything else does not walk its rows here
  const money = orderBy
    .map((item) => (item.path.length === 1 ? model.columns.get(item.path[0]!.toLowerCase()) : undefined))
    .filter((c): c is ColumnModel => c?.type === 'Money' && !c.logicalName.endsWith('_base'));
  if (!money.length) return '';
  const currencies = new Map<string, string>();
  for (const r of records) {
    const c = r.transactioncurrencyid as { id?: unknown; name?: unknown } | null | undefined;
    if (typeof c?.id === 'string') currencies.set(c.id, typeof c.name === 'string' ? c.name : c.id);
  }
  if (currencies.size < 2) return '';
  const names = [...currencies.values()];
  const listed = `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return money
    .map((c) => {
      const base = `${c.logicalName}_base`;
      return model.columns.has(base) && readable(model.logicalName, base)
        ? ` Sorted by ${c.logicalName} in each record's own currency, and these are in ${listed}: ${base} (the amount in the base currency) sorts them as one.`
        : ` Sorted by ${c.logicalName} in each record's own currency, and these are in ${listed}, so the order is not by worth.`;
    })
    .join('');
}
