/** A fiscal quarter: its first and last day (YYYY-MM-DD) and its name (FY2026 Q4). */
export interface FiscalQuarter {
  from: string;
  to: string;
  label: string;
}

/**
 * An organisation's calendar: where its fiscal year starts (month 1–12; 1 makes quarters calendar quarters),
 * which year names it (Dynamics' fiscal year settings say "based on start date" or "based on end date",
 * fiscalyeardisplaycode 1 or 2, so a year from July 2026 to June 2027 is FY2026 or FY2027), and the day its
 * weeks start on (weekstartdaycode: 0 Sunday … 6 Saturday; Dataverse's ThisWeek and LastWeek count from it).
 */
export interface OrgCalendar {
  startMonth: number;
  namedByEnd: boolean;
  /** 0 (Sunday, where unknown) to 6 (Saturday) */
  weekStart?: number;
}

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

/** The first day (UTC midnight, ms) of the week holding `day` (UTC midnight, ms), for weeks from `weekStart`. */
export function weekStartOf(day: number, weekStart = 0): number {
  const back = (new Date(day).getUTCDay() - weekStart + 7) % 7;
  return day - back * 86_400_000;
}

/**
 * A fiscal year from its start month alone (configuration, tests): named by the year it ends in unless it is
 * the calendar year, as most companies with a fiscal year of their own name theirs.
 */
export function fiscalYear(f: OrgCalendar | number): OrgCalendar {
  return typeof f === 'number' ? { startMonth: f, namedByEnd: f !== 1 } : f;
}

/** The name of the fiscal year that starts in `yearOfStart`. */
export function fiscalYearName(yearOfStart: number, f: OrgCalendar | number): number {
  const fy = fiscalYear(f);
  return fy.startMonth !== 1 && fy.namedByEnd ? yearOfStart + 1 : yearOfStart;
}

/**
 * The fiscal quarter holding `day`, or the one `offset` quarters before or after it. pipeline_summary's
 * default period and a condition's "this quarter" are the same quarter, so the two tools agree on what a
 * quarter is.
 */
export function fiscalQuarter(day: Date, f: OrgCalendar | number, offset = 0): FiscalQuarter {
  const { startMonth } = fiscalYear(f);
  const shifted = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 3 * offset, 1));
  const m0 = (shifted.getUTCMonth() - (startMonth - 1) + 12) % 12;
  const q = Math.floor(m0 / 3);
  const startMonthIndex = startMonth - 1 + q * 3;
  const yearOfStart = shifted.getUTCFullYear() - (shifted.getUTCMonth() < startMonth - 1 ? 1 : 0);
  const from = new Date(Date.UTC(yearOfStart, startMonthIndex, 1));
  const to = new Date(Date.UTC(yearOfStart, startMonthIndex + 3, 0));
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  return { from: iso(from), to: iso(to), label: `FY${fiscalYearName(yearOfStart, f)} Q${q + 1}` };
}

/**
 * A quarter by its name, as the answers print it and people say it: "FY2027 Q1", "Q3 2026", "2026-Q3",
 * "FY27 Q1" (the fiscal year by the organisation's own naming, by start or end year), and "Q4" alone: that
 * quarter of the fiscal year holding `today` (whoever asks for "the Q4 pipeline" means this year's, and which
 * year name that is depends on the organisation's naming, which a model cannot see). Undefined for anything else.
 */
export function namedQuarter(text: string, f: OrgCalendar | number, today = new Date()): FiscalQuarter | undefined {
  const t = text
    .trim()
    .toUpperCase()
    .replace(/[\s_-]+/g, ' ');
  const m =
    /^(?:FY ?)?(\d{4}|\d{2}) ?Q([1-4])$/.exec(t) ??
    /^Q([1-4]) ?(?:FY ?)?(\d{4}|\d{2})$/.exec(t) ??
    /^Q([1-4])$/.exec(t);
  if (!m) return undefined;
  const fy = fiscalYear(f);
  const [q, year] = /^Q/.test(t) ? [m[1]!, m[2]] : [m[2]!, m[1]!];
  // none named: the fiscal year holding today
  const yearOfStart =
    year === undefined ? Number(fiscalYearSpan(today, fy).from.slice(0, 4)) : startOfYearNamed(year, fy).yearOfStart;
  const name = fiscalYearName(yearOfStart, fy);
  const first = fy.startMonth - 1 + 3 * (Number(q) - 1);
  const iso = (d: number) => new Date(d).toISOString().slice(0, 10);
  return {
    from: iso(Date.UTC(yearOfStart, first, 1)),
    to: iso(Date.UTC(yearOfStart, first + 3, 0)),
    label: `FY${name} Q${q}`,
  };
}

/**
 * A fiscal year's name as written ("2027", "27") → the name in full and the calendar year it starts in: that
 * year or the one before, as the organisation names years (by their start or their end).
 */
function startOfYearNamed(year: string, fy: OrgCalendar): { named: number; yearOfStart: number } {
  const named = year.length === 2 ? 2000 + Number(year) : Number(year);
  return { named, yearOfStart: fiscalYearName(named, fy) === named ? named : named - 1 };
}

/** A quarter named by its number alone ("Q1"), in the fiscal year after the one holding `today`: the coming one. */
export function comingQuarter(text: string, f: OrgCalendar | number, today = new Date()): FiscalQuarter | undefined {
  return namedQuarter(text, f, new Date(Date.UTC(today.getUTCFullYear() + 1, today.getUTCMonth(), 1)));
}

/**
 * A fiscal year by its name ("FY2027", "FY 27", "fiscal year 2027", as pipeline_summary's answers name years):
 * its first and last day. The name is the year it starts or ends in, as the organisation names years
 * (namedQuarter reads a quarter's year the same way).
 */
export function namedFiscalYear(text: string, f: OrgCalendar | number): FiscalQuarter | undefined {
  const m = /^(?:FY ?|FISCAL (?:YEAR )?)(\d{4}|\d{2})$/.exec(
    text
      .trim()
      .toUpperCase()
      .replace(/[\s_-]+/g, ' '),
  );
  if (!m) return undefined;
  const fy = fiscalYear(f);
  const { named, yearOfStart } = startOfYearNamed(m[1]!, fy);
  const iso = (d: number) => new Date(d).toISOString().slice(0, 10);
  return {
    from: iso(Date.UTC(yearOfStart, fy.startMonth - 1, 1)),
    to: iso(Date.UTC(yearOfStart + 1, fy.startMonth - 1, 0)),
    label: `FY${named}`,
  };
}

/** The fiscal year holding `day`, or the one `offset` years before or after it: its first and last day and name. */
export function fiscalYearSpan(day: Date, f: OrgCalendar | number, offset = 0): FiscalQuarter {
  const { startMonth } = fiscalYear(f);
  const y = day.getUTCFullYear() + offset;
  const first = day.getUTCMonth() < startMonth - 1 ? y - 1 : y;
  const iso = (d: number) => new Date(d).toISOString().slice(0, 10);
  return {
    from: iso(Date.UTC(first, startMonth - 1, 1)),
    to: iso(Date.UTC(first + 1, startMonth - 1, 0)),
    label: startMonth === 1 ? String(first) : `FY${fiscalYearName(first, f)}`,
  };
}

/**
 * "quarter to date" (QTD) and "fiscal year to date" (FYTD): from the first day of this fiscal quarter or year
 * to today, as finance says them. A quarter here is always the fiscal one ("this quarter" is too); a year to
 * date said without "fiscal" is the calendar year's (condition-words.ts, as "this year" is).
 */
export function fiscalToDate(text: unknown, f: OrgCalendar | number, today: Date): FiscalQuarter | undefined {
  if (typeof text !== 'string') return undefined;
  const t = text.trim().toLowerCase().replace(/\s+/g, ' ');
  const quarter = /^(?:(?:this|current) )?(?:fiscal )?quarter to date$|^qtd$/.test(t);
  if (!quarter && !/^(?:(?:this|current) )?fiscal year to date$|^fytd$/.test(t)) return undefined;
  const span = quarter ? fiscalQuarter(today, f, 0) : fiscalYearSpan(today, f, 0);
  return { from: span.from, to: today.toISOString().slice(0, 10), label: `${span.label} to date` };
}

const FISCAL_YEAR_WORDS = /^(this|current|last|previous|next) fiscal year$/;

/** How many fiscal years from the current one "this fiscal year" / "last fiscal year" / "next fiscal year" name. */
export function fiscalYearOffset(text: unknown): -1 | 0 | 1 | undefined {
  if (typeof text !== 'string') return undefined;
  const m = FISCAL_YEAR_WORDS.exec(text.trim().toLowerCase().replace(/\s+/g, ' '));
  if (!m) return undefined;
  return m[1] === 'next' ? 1 : m[1] === 'last' || m[1] === 'previous' ? -1 : 0;
}

const COUNTS: ReadonlyMap<string, number> = new Map([
  ['two', 2],
  ['three', 3],
  ['four', 4],
]);
/** "next 2 quarters", "the last three fiscal quarters", "past 4 quarters" */
const SEVERAL_QUARTERS = /^(?:the )?(last|past|previous|next) (\d|two|three|four) (?:fiscal )?quarters$/;

/**
 * Several whole fiscal quarters before or after the current one ("next 2 quarters": the two after this one, as
 * "next quarter" is the one after it; "last 4 quarters": the four before it), first day to last, named by
 * their first and last quarters. At most eight; undefined for other words.
 */
export function quartersAround(text: unknown, f: OrgCalendar | number, today = new Date()): FiscalQuarter | undefined {
  if (typeof text !== 'string') return undefined;
  const m = SEVERAL_QUARTERS.exec(text.trim().toLowerCase().replace(/\s+/g, ' '));
  const n = m ? (COUNTS.get(m[2]!) ?? Number(m[2])) : 0;
  if (!m || n < 1 || n > 8) return undefined;
  const ahead = m[1] === 'next';
  const first = fiscalQuarter(today, f, ahead ? 1 : -n);
  const last = fiscalQuarter(today, f, ahead ? n : -1);
  return { from: first.from, to: last.to, label: n === 1 ? first.label : `${first.label} to ${last.label}` };
}

/**
 * A half of a fiscal year by name ("H1", "FY2027 H2", "H1 2027", "first half", "the second half of the year"):
 * its two quarters, first day to last. Without a year, the half of the fiscal year holding `today`, as "Q1"
 * alone is that quarter of it.
 */
export function namedHalf(text: unknown, f: OrgCalendar | number, today = new Date()): FiscalQuarter | undefined {
  if (typeof text !== 'string') return undefined;
  const t = text
    .trim()
    .toUpperCase()
    .replace(/[\s_-]+/g, ' ');
  const yearFirst = /^(?:FY ?(\d{4}|\d{2}) ?)?H([12])$/.exec(t);
  const halfFirst = /^H([12]) ?(?:FY ?)?(\d{4}|\d{2})$/.exec(t);
  const words = /^(?:THE )?(FIRST|SECOND) HALF(?: OF (?:THE |THIS )?(?:FISCAL )?YEAR)?$/.exec(t);
  const [half, year] = yearFirst
    ? [yearFirst[2]!, yearFirst[1]]
    : halfFirst
      ? [halfFirst[1]!, halfFirst[2]]
      : words
        ? [words[1] === 'FIRST' ? '1' : '2', undefined]
        : [];
  if (!half) return undefined;
  const quarter = (q: number) => namedQuarter(year === undefined ? `Q${q}` : `FY${year} Q${q}`, f, today)!;
  const first = quarter(half === '1' ? 1 : 3);
  const last = quarter(half === '1' ? 2 : 4);
  return { from: first.from, to: last.to, label: first.label.replace(/Q[13]$/, `H${half}`) };
}

const QUARTER_WORDS = /^(this|current|last|previous|next)(?: (?:fiscal )?quarter)?$/;

/**
 * How many quarters from the current one a phrase names: "this quarter" / "current" 0, "last fiscal quarter" /
 * "previous" -1, "next quarter" 1. With `quarterSaid`, the word "quarter" must be there ("next" alone is not
 * a period in a date condition, while pipeline_summary's quarter argument says it already).
 */
export function quarterOffset(text: unknown, quarterSaid: boolean): -1 | 0 | 1 | undefined {
  if (typeof text !== 'string') return undefined;
  const t = text.trim().toLowerCase().replace(/\s+/g, ' ');
  const m = QUARTER_WORDS.exec(t);
  if (!m || (quarterSaid && !t.endsWith('quarter'))) return undefined;
  return m[1] === 'next' ? 1 : m[1] === 'last' || m[1] === 'previous' ? -1 : 0;
}
