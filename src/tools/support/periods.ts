import { fiscalQuarter, fiscalYear, fiscalYearSpan, type OrgCalendar, weekStartOf } from '../../dynamics/fiscal.js';

/**
 * Date periods for aggregate_records ("cases per month"). Dataverse's $apply cannot group by a date ("Aggregate
 * data using OData": groupby with datetime values isn't supported), so each period is its own aggregation,
 * bounded by its first and last day; this file holds the periods, the requests are in by-period.ts.
 */
export type PeriodUnit = 'day' | 'week' | 'month' | 'quarter' | 'year';
export const PERIOD_UNITS: readonly PeriodUnit[] = ['day', 'week', 'month', 'quarter', 'year'];

const UNIT_WORDS: ReadonlyMap<string, PeriodUnit> = new Map([
  ...PERIOD_UNITS.flatMap((u) => [[u, u] as const, [`${u}s`, u] as const]),
  ['daily', 'day'],
  ['weekly', 'week'],
  ['monthly', 'month'],
  ['quarterly', 'quarter'],
  ['yearly', 'year'],
  ['annually', 'year'],
  ['annual', 'year'],
]);

/** One period: its first and last day (YYYY-MM-DD, both included) and the name a result gives it. */
export interface Period {
  from: string;
  to: string;
  label: string;
}

/**
 * A groupBy entry naming a date column and a period, as models write it: "createdon by month", "createdon per
 * month", "createdon:month", "month(createdon)". Undefined when the text names no period (a column, or a label
 * with "by" in it such as "Created By"), which is then read as a column.
 */
export function periodGroup(text: string): { column: string; unit: PeriodUnit } | undefined {
  const said = periodSaid(text);
  const unit = said && UNIT_WORDS.get(said.word.toLowerCase());
  return said && unit ? { column: said.column, unit } : undefined;
}

/** The column and the word after "by" (or around the parentheses), whether or not the word is a period. */
export function periodSaid(text: string): { column: string; word: string } | undefined {
  const t = text.trim();
  const after = /^(.+?)\s*(?:\s(?:by|per)\s|:)\s*(\w+)$/i.exec(t);
  if (after && UNIT_WORDS.has(after[2]!.toLowerCase())) return { column: after[1]!.trim(), word: after[2]! };
  const call = /^(\w+)\s*\(\s*([^()]+?)\s*\)$/.exec(t);
  if (call) return { column: call[2]!, word: call[1]! };
  return after ? { column: after[1]!.trim(), word: after[2]! } : undefined;
}

const DAY_MS = 86_400_000;
const day = (iso: string) => Date.parse(`${iso.slice(0, 10)}T00:00:00Z`);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const addDays = (date: string, n: number) => iso(day(date) + n * DAY_MS);

/**
 * The period holding `date`, in the organisation's calendar (org-calendar.ts): weeks start on its week's first
 * day, as Dataverse's ThisWeek and LastWeek count them (so "per week" and "last week" count the same days);
 * quarters and years are fiscal, so "per quarter" counts the quarters "this quarter" and pipeline_summary name.
 */
export function periodOf(date: string, unit: PeriodUnit, fiscal: OrgCalendar | number): Period {
  const d = new Date(day(date));
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (unit) {
    case 'day':
      return { from: iso(d.getTime()), to: iso(d.getTime()), label: iso(d.getTime()) };
    case 'week': {
      const first = weekStartOf(d.getTime(), fiscalYear(fiscal).weekStart);
      return { from: iso(first), to: iso(first + 6 * DAY_MS), label: iso(first) };
    }
    case 'month':
      return {
        from: iso(Date.UTC(y, m, 1)),
        to: iso(Date.UTC(y, m + 1, 0)),
        label: iso(Date.UTC(y, m, 1)).slice(0, 7),
      };
    case 'quarter':
      return fiscalQuarter(d, fiscal);
    case 'year':
      return fiscalYearSpan(d, fiscal);
  }
}

/**
 * Every period from the one holding `first` to the one holding `last`, in order; undefined when there would be
 * more than `max` (the caller refuses the call).
 */
export function periodsBetween(
  first: string,
  last: string,
  unit: PeriodUnit,
  fiscal: OrgCalendar | number,
  max: number,
): Period[] | undefined {
  const out: Period[] = [];
  const next = (p: Period) => periodOf(addDays(p.to, 1), unit, fiscal);
  for (let p = periodOf(first, unit, fiscal); p.from <= last; p = next(p)) {
    if (out.length === max) return undefined;
    out.push(p);
  }
  return out;
}

/** The first day of the `n`th period before the one holding `date`: where a span of `n + 1` periods starts. */
export function periodsBefore(date: string, unit: PeriodUnit, fiscal: OrgCalendar | number, n: number): string {
  let p = periodOf(date, unit, fiscal);
  for (let i = 0; i < n; i++) p = periodOf(addDays(p.from, -1), unit, fiscal);
  return p.from;
}
