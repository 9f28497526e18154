import type { AttributeDef } from '../schema/index.js';
import { isLookupRef, type Value } from '../store/store.js';

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 10 });

/** A count as Dataverse formats it ("1,234"); one shared formatter, since toLocaleString builds a new one per call. */
export const formatCount = (n: number): string => integer.format(n);

/** "4/7/2023 2:59 PM" as in SELECT's formatted-value examples (shown here in UTC). */
function formatDateTime(iso: string, dateOnly: boolean): string {
  const d = new Date(dateOnly ? `${iso}T00:00:00Z` : iso);
  const date = `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`;
  if (dateOnly) return date;
  const h = d.getUTCHours();
  const minutes = String(d.getUTCMinutes()).padStart(2, '0');
  return `${date} ${h % 12 === 0 ? 12 : h % 12}:${minutes} ${h < 12 ? 'AM' : 'PM'}`;
}

/**
 * The OData.Community.Display.V1.FormattedValue for a column value, or undefined where Dataverse gives
 * none (strings and GUIDs). Lookups are formatted by the caller, which can see the related row.
 */
export function formatValue(a: AttributeDef, v: Value): string | undefined {
  if (v === null || v === undefined || isLookupRef(v)) return undefined;
  switch (a.type) {
    case 'Picklist':
    case 'State':
    case 'Status':
      return a.options?.find((o) => o.value === v)?.label;
    case 'Boolean':
      return (a.booleanLabels ?? ['No', 'Yes'])[v ? 1 : 0];
    case 'MultiSelectPicklist':
      // "Choices columns": the chosen options' labels, separated by a semicolon and a space
      return String(v)
        .split(',')
        .map((n) => a.options?.find((o) => o.value === Number(n))?.label ?? n)
        .join('; ');
    case 'Money':
      return money.format(v as number);
    case 'Integer':
    case 'BigInt':
      return integer.format(v as number);
    case 'Decimal':
    case 'Double':
      return decimal.format(v as number);
    case 'DateTime':
      return formatDateTime(v as string, !!a.dateOnly);
    default:
      return undefined;
  }
}

/** Edm type names, used in the documented "incompatible types" errors and for literal checks. */
export function edmType(a: AttributeDef): string {
  switch (a.type) {
    case 'String':
    case 'Memo':
    case 'EntityName':
    case 'MultiSelectPicklist':
      return 'Edm.String';
    case 'Integer':
    case 'Picklist':
    case 'State':
    case 'Status':
      return 'Edm.Int32';
    case 'BigInt':
      return 'Edm.Int64';
    case 'Money':
    case 'Decimal':
      return 'Edm.Decimal';
    case 'Double':
      return 'Edm.Double';
    case 'Boolean':
      return 'Edm.Boolean';
    case 'DateTime':
      return a.dateOnly ? 'Edm.Date' : 'Edm.DateTimeOffset';
    default:
      return 'Edm.Guid';
  }
}

export const isoNow = (now: Date) => now.toISOString().replace(/\.\d{3}Z$/, 'Z');
