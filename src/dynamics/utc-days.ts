import { type ConditionOp, type Leaf, monthsInWords, periodInWords, quarterInWords } from './condition-words.js';

const DAY = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A date condition as the UTC span it covers: [from, to), either end open. Used where Dataverse's date
 * functions cannot be sent, inside a related list's any() (query functions there are not documented): the
 * span becomes two comparisons, which are. Days are UTC days here, where the functions count the Dynamics
 * user's days. Undefined for a condition that is not about a span of days (a date-time compared as it is).
 */
export function utcSpan(
  leaf: Leaf,
  fiscalYearStartMonth: number,
  now = new Date(),
): { from?: number; to?: number } | undefined {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const days = (a: number, b: number) => ({ from: today + a * DAY, to: today + b * DAY });
  const day = (v: unknown) =>
    typeof v === 'string' && DATE.test(v.trim()) ? Date.parse(`${v.trim()}T00:00:00Z`) : NaN;
  let op: ConditionOp = leaf.op;
  let value = leaf.value;
  if (op === 'eq') {
    const span = quarterInWords(value, fiscalYearStartMonth) ?? monthsInWords(value, now);
    if (span) return { from: day(span.from), to: day(span.to) + DAY };
    const words = periodInWords(value);
    if (words) ({ op, value } = { op: words.op, value: words.value });
  }
  const sunday = today - now.getUTCDay() * DAY;
  const month = (k: number) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + k, 1);
  const year = (k: number) => Date.UTC(now.getUTCFullYear() + k, 0, 1);
  const d = day(value);
  switch (op) {
    case 'today':
      return days(0, 1);
    case 'yesterday':
      return days(-1, 0);
    case 'tomorrow':
      return days(1, 2);
    case 'thisWeek':
    case 'lastWeek':
    case 'nextWeek': {
      const k = op === 'thisWeek' ? 0 : op === 'lastWeek' ? -7 : 7;
      return { from: sunday + k * DAY, to: sunday + (k + 7) * DAY };
    }
    case 'thisMonth':
      return { from: month(0), to: month(1) };
    case 'lastMonth':
      return { from: month(-1), to: month(0) };
    case 'nextMonth':
      return { from: month(1), to: month(2) };
    case 'thisYear':
      return { from: year(0), to: year(1) };
    case 'lastYear':
      return { from: year(-1), to: year(0) };
    case 'nextYear':
      return { from: year(1), to: year(2) };
    case 'lastXDays':
      return Number.isInteger(Number(value)) ? { from: today - Number(value) * DAY, to: now.getTime() } : undefined;
    case 'nextXDays':
      return Number.isInteger(Number(value))
        ? { from: now.getTime(), to: today + (Number(value) + 1) * DAY }
        : undefined;
    case 'olderThanXDays':
      return Number.isInteger(Number(value)) ? { to: today - Number(value) * DAY } : undefined;
    case 'on':
    case 'eq':
      return Number.isNaN(d) ? undefined : { from: d, to: d + DAY };
    case 'onOrAfter':
    case 'ge':
      return Number.isNaN(d) ? undefined : { from: d };
    case 'gt':
      return Number.isNaN(d) ? undefined : { from: d + DAY };
    case 'onOrBefore':
    case 'le':
      return Number.isNaN(d) ? undefined : { to: d + DAY };
    case 'lt':
      return Number.isNaN(d) ? undefined : { to: d };
    default:
      return undefined;
  }
}

/**
 * The span as conditions on `column`: date-times for a date and time; for a date-only column whole days, the
 * span's first day to the day its end falls in ("last 7 days" then includes today).
 */
export function spanConditions(column: string, span: { from?: number; to?: number }, dateOnly: boolean): Leaf[] {
  const at = (ms: number) =>
    dateOnly ? new Date(ms).toISOString().slice(0, 10) : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const to = span.to !== undefined && dateOnly ? Math.ceil(span.to / DAY) * DAY : span.to;
  return [
    ...(span.from !== undefined ? [{ column, op: 'ge' as const, value: at(span.from) }] : []),
    ...(to !== undefined ? [{ column, op: 'lt' as const, value: at(to) }] : []),
  ];
}
