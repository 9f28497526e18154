import {
  type ConditionOp,
  countsInDigits,
  type Leaf,
  MONTH_NAMES,
  monthsInWords,
  periodInWords,
  quarterInWords,
} from './condition-words.js';
import { fiscalYear, type OrgCalendar, weekStartOf } from './fiscal.js';

const DAY = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** operators that take a count of days, and those that take a day */
const COUNTED: ReadonlySet<ConditionOp> = new Set(['lastXDays', 'nextXDays', 'olderThanXDays']);
const ON_A_DAY: ReadonlySet<ConditionOp> = new Set(['on', 'eq', 'onOrAfter', 'ge', 'gt', 'onOrBefore', 'le', 'lt']);

const UNITS = '(day|week|month|year)s?';
const AGO = new RegExp(`^(\\d{1,4}) ${UNITS} ago$`);
const AHEAD = new RegExp(`^(?:in (\\d{1,4}) ${UNITS}|(\\d{1,4}) ${UNITS} from (?:now|today))$`);

/**
 * A day said relative to today, as people say it: "today", "yesterday", "tomorrow", "30 days ago", "2 weeks
 * ago", "3 months ago", "in 2 weeks", "10 days from now", the count also in words ("in two weeks", "a month
 * ago"); the UTC day (YYYY-MM-DD), as "today" is. A month
 * or a year back keeps the day of the month, or the last day of a shorter month (31 March less a month is 28
 * or 29 February). Undefined for anything else.
 */
export function dayInWords(text: string, now = new Date()): string | undefined {
  const t = countsInDigits(text.trim().toLowerCase().replace(/\s+/g, ' '));
  const fixed = { today: 0, yesterday: -1, tomorrow: 1 }[t];
  const ago = AGO.exec(t);
  const ahead = AHEAD.exec(t);
  const [count, unit] = ago
    ? [-Number(ago[1]), ago[2]!]
    : ahead
      ? [Number(ahead[1] ?? ahead[3]), (ahead[2] ?? ahead[4])!]
      : [fixed ?? NaN, 'day'];
  if (Number.isNaN(count)) return namedDay(t);
  const [y, m, d] = [now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()];
  const days = unit === 'week' ? 7 * count : unit === 'day' ? count : 0;
  const months = unit === 'month' ? count : unit === 'year' ? 12 * count : 0;
  const lastOfMonth = new Date(Date.UTC(y, m + months + 1, 0)).getUTCDate();
  const day = new Date(Date.UTC(y, m + months, Math.min(d, lastOfMonth) + days)).toISOString().slice(0, 10);
  // Dataverse keeps dates from 1753 to 9999: a count past them names no day it can hold
  return DATE.test(day) && day >= '1753-01-01' ? day : undefined;
}

/**
 * A day with its month's name, day first or month first, the year after it or not ("20th of November 2026",
 * "Nov. 20, 2026", "Dec 15"): the day, the month (0-11) and the year if written. `t` is lower case.
 */
function dayAndMonth(t: string): { day: number; month: number; year?: string } | undefined {
  const dayFirst = /^(\d{1,2})(?:st|nd|rd|th)?(?: of)? ([a-z]+)\.?(?:,? (\d{4}))?$/.exec(t);
  const monthFirst = /^([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?(?:,? (\d{4}))?$/.exec(t);
  const [day, name, year] = dayFirst
    ? [dayFirst[1]!, dayFirst[2]!, dayFirst[3]]
    : monthFirst
      ? [monthFirst[2]!, monthFirst[1]!, monthFirst[3]]
      : [];
  if (!name || name.length < 3) return undefined;
  // "sept", "nov", "november": a month's name or the start of it (three letters at least), never another word
  const month = MONTH_NAMES.findIndex((m) => m.startsWith(name));
  return month < 0 ? undefined : { day: Number(day), month, ...(year ? { year } : {}) };
}

/**
 * A day written with its month's name, which no locale reads two ways: "20 Nov 2026", "20th November 2026",
 * "November 20, 2026", "Nov. 20 2026", after a weekday or not ("Friday, 20 November 2026"). Numeric forms
 * ("11/20/2026") are not read: the order of day and month is the writer's locale. `t` is lower case.
 */
function namedDay(t: string): string | undefined {
  // a weekday before it must be that day's: "Tuesday, 20 November 2026" (a Friday) names two days
  const weekday = /^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,? /.exec(t);
  const said = dayAndMonth(weekday ? t.slice(weekday[0].length) : t);
  if (!said?.year) return undefined;
  const { day, month, year } = said;
  const iso = `${year}-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  // a day the month does not have (31 November) is no day: the caller's refusal says so
  const real = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(real.getTime()) || !real.toISOString().startsWith(iso) || iso < '1753-01-01') return undefined;
  return !weekday || WEEKDAYS[real.getUTCDay()]!.toLowerCase().startsWith(weekday[1]!) ? iso : undefined;
}

/**
 * A date condition as the UTC span it covers: [from, to), either end open. Used where Dataverse's date
 * functions cannot be sent, inside a related list's any() (query functions there are not documented): the
 * span becomes two comparisons, which are. Days are UTC days here, where the functions count the Dynamics
 * user's days. Undefined for a condition that is not about a span of days (a date-time compared as it is).
 */
export function utcSpan(
  leaf: Leaf,
  fiscal: OrgCalendar | number,
  now = new Date(),
): { from?: number; to?: number } | undefined {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const days = (a: number, b: number) => ({ from: today + a * DAY, to: today + b * DAY });
  // a day as written or in words ("90 days ago", as the builder's values take it: coerce.ts)
  const day = (v: unknown) => {
    const d = typeof v === 'string' ? (DATE.test(v.trim()) ? v.trim() : dayInWords(v, now)) : undefined;
    return d ? Date.parse(`${d}T00:00:00Z`) : NaN;
  };
  let op: ConditionOp = leaf.op;
  let value = leaf.value;
  if (op === 'eq') {
    // the operators' own words first, as the builder reads them (conditions.ts): "next month" is the calendar
    // month, not the month from today that "next 1 month" is
    const words = periodInWords(value);
    const span = words ? undefined : (quarterInWords(value, fiscal, now) ?? monthsInWords(value, now));
    if (span) return { from: day(span.from), to: day(span.to) + DAY };
    if (words) ({ op, value } = { op: words.op, value: words.value });
  }
  const weekStart = weekStartOf(today, fiscalYear(fiscal).weekStart);
  const month = (k: number) => Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + k, 1);
  const year = (k: number) => Date.UTC(now.getUTCFullYear() + k, 0, 1);
  // a count of days, or a day, that is not one leaves the condition as it is (the builder says what is wrong)
  const n = Number(value);
  const d = day(value);
  if (COUNTED.has(op) && !Number.isInteger(n)) return undefined;
  if (ON_A_DAY.has(op) && Number.isNaN(d)) return undefined;
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
      return { from: weekStart + k * DAY, to: weekStart + (k + 7) * DAY };
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
      return { from: today - n * DAY, to: now.getTime() };
    case 'nextXDays':
      return { from: now.getTime(), to: today + (n + 1) * DAY };
    case 'olderThanXDays':
      return { to: today - n * DAY };
    case 'on':
    case 'eq':
      return { from: d, to: d + DAY };
    case 'onOrAfter':
    case 'ge':
      return { from: d };
    case 'gt':
      return { from: d + DAY };
    case 'onOrBefore':
    case 'le':
      return { to: d + DAY };
    case 'lt':
      return { to: d };
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

const DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}(?:T|$)/;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The first and last day of a period named in words ("this month", "next quarter", "last 30 days"), as
 * YYYY-MM-DD; undefined for a date, a date-time or anything that names no period. Days are UTC days, as
 * "this quarter" is sent: the first and last day, which Dataverse then compares as the user's whole days.
 */
export function periodDays(
  value: unknown,
  fiscal: OrgCalendar | number,
  now = new Date(),
): { first?: string; last?: string } | undefined {
  if (typeof value !== 'string' || DATE_OR_TIME.test(value.trim())) return undefined;
  // an edge of a period is one day: its last or first
  const edge = edgeOf(value);
  if (edge) {
    const inner = periodDays(edge.period, fiscal, now);
    const day = edge.end ? inner?.last : inner?.first;
    return day ? { first: day, last: day } : undefined;
  }
  const span = utcSpan({ column: '', op: 'eq', value }, fiscal, now);
  if (!span) return undefined;
  return {
    first: span.from === undefined ? undefined : isoDay(Math.floor(span.from / DAY) * DAY),
    // "last 30 days" ends now, inside today: its last day is today
    last: span.to === undefined ? undefined : isoDay(Math.ceil(span.to / DAY) * DAY - DAY),
  };
}

const END_OF: ReadonlyMap<string, string> = new Map([
  ['eow', 'this week'],
  ['eom', 'this month'],
  ['eoq', 'this quarter'],
  ['eoy', 'this year'],
  ['eofy', 'this fiscal year'],
]);

/** "the month" and kin, as people say "the end of the month": the one they are in */
// "end of the month" and "end of month" (as people write EOM) are this one's
const THE_PERIOD = /^(?:the )?(week|month|quarter|year|fiscal year)$/;
/** A period's edge in words ("end of next month", "the start of this quarter", "last day of the year"). */
export function edgeOf(v: string): { end: boolean; period: string } | undefined {
  const t = v.trim().toLowerCase().replace(/\s+/g, ' ');
  // business shorthand for this period's end: EOM, EOQ, EOY, EOW (and the fiscal year's, EOFY)
  const short = END_OF.get(t.replace(/\./g, ''));
  if (short) return { end: true, period: short };
  const m = /^(?:the )?(end|start|beginning|first day|last day) of (.+)$/.exec(t);
  return m ? { end: m[1] === 'end' || m[1] === 'last day', period: m[2]!.replace(THE_PERIOD, 'this $1') } : undefined;
}

/** The comparison a direction word before a day or period says ("since last month" is ge it, "before" lt) */
const DIRECTIONS: ReadonlyMap<string, ConditionOp> = new Map([
  ['since', 'ge'],
  ['from', 'ge'],
  ['after', 'gt'],
  ['before', 'lt'],
  ['until', 'le'],
  ['till', 'le'],
  ['through', 'le'],
  ['by', 'le'],
]);

/**
 * A date compared with a direction and a day or period in words, as eq's value ({"createdon": "since last
 * month"}, "before 2026-11-01", "until end of next month"): that comparison with the rest (ge, lt, le…), where
 * the rest names a day or a period (`names`); "from A to B" (or "between A and B") is between them, both in. A month without its year after since, from or after is the last
 * one ("since November": this year's, in December): what has happened since a month in the future is nothing
 * anyone asks; before or until a month is refused with both, as ever.
 */
function directionSaid(c: Leaf, now: Date, names: (v: string) => boolean): Leaf {
  if (c.op !== 'eq' || typeof c.value !== 'string') return c;
  // "from 2026-11-01 to 2026-11-30", "between last month and next month": both ends, in
  const range = /^\s*(?:from|between)\s+(.+?)\s+(?:to|and|until|till|through|-|\u2013)\s+(.+?)\s*$/i.exec(c.value);
  if (range && names(range[1]!) && names(range[2]!)) return { ...c, op: 'between', value: [range[1]!, range[2]!] };
  const m = /^\s*(since|from|after|before|until|till|through|by)\s+(.+?)\s*$/i.exec(c.value);
  const op = m && DIRECTIONS.get(m[1]!.toLowerCase());
  // a range ("from 2026-01-01 to 2026-03-31") is both ends, read elsewhere, not its first alone
  if (!m || !op || /\s(?:to|and|until|till|through|-|\u2013)\s/i.test(m[2]!)) return c;
  let rest = m[2]!;
  const month = MONTH_NAMES.findIndex((n) => rest.length >= 3 && n.startsWith(rest.toLowerCase().replace(/\.$/, '')));
  if (month >= 0 && (op === 'ge' || op === 'gt')) {
    const year = now.getUTCFullYear() - (month > now.getUTCMonth() ? 1 : 0);
    rest = `${year}-${String(month + 1).padStart(2, '0')}`;
  }
  return names(rest) ? { ...c, op, value: rest } : c;
}

/**
 * A period in words compared with the operators that take a day: "before this month" (lt) is before its first
 * day, "after this month" (gt) after its last, ge and le include it, and between two periods runs from the
 * first's first day to the second's last ("between this month and next quarter"). A period given alone to
 * between (alone or as a list of one), or as a list of one to in, is that period (eq, which says it as Dataverse's own period functions);
 * in with several periods is any of them; ne is outside it (NotBetween its first and last day, which Dataverse
 * can say where it cannot say not ThisMonth). Anything else comes back as it was.
 */
export function periodsAsDays(asked: Leaf, fiscal: OrgCalendar | number, now = new Date()): Leaf | { or: Leaf[] } {
  const days = (v: unknown) => periodDays(v, fiscal, now);
  const given = directionSaid(asked, now, (v) => !!days(v) || DATE.test(v) || !!dayInWords(v, now));
  // "end of next month", "start of this quarter": that one day, whatever the operator
  const edge = <T>(v: T): T | string => (typeof v === 'string' && edgeOf(v) ? (days(v)?.first ?? v) : v);
  const c: Leaf = {
    ...given,
    ...(given.value === undefined
      ? {}
      : { value: Array.isArray(given.value) ? given.value.map(edge) : edge(given.value) }),
  };
  const values = Array.isArray(c.value) ? c.value : undefined;
  switch (c.op) {
    case 'ge':
    case 'lt': {
      const first = days(c.value)?.first;
      return first ? { ...c, value: first } : c;
    }
    case 'gt':
    case 'le': {
      const last = days(c.value)?.last;
      return last ? { ...c, value: last } : c;
    }
    case 'ne':
    case 'between':
    case 'notBetween': {
      if (!values) {
        const d = days(c.value);
        if (!d) return c;
        if (c.op === 'between') return { ...c, op: 'eq' };
        return d.first && d.last ? { ...c, op: 'notBetween', value: [d.first, d.last] } : c;
      }
      if (c.op === 'ne') return c;
      // {"between": ["this month"]}: a list of one period is that period, as the period alone is
      if (values.length === 1 && days(values[0])) return periodsAsDays({ ...c, value: values[0] }, fiscal, now);
      if (values.length !== 2) return c;
      const [from, to] = values;
      const first = days(from)?.first ?? from;
      const last = days(to)?.last ?? to;
      return first === from && last === to ? c : { ...c, value: [first!, last!] };
    }
    // "on this month", as people say "on" of any time: the period (eq reads it), where on takes a day
    case 'on':
      return !values && typeof c.value === 'string' && days(c.value) ? { ...c, op: 'eq' } : c;
    case 'in': {
      if (!values?.length || !values.every((v) => days(v))) return c;
      return values.length === 1
        ? { ...c, op: 'eq', value: values[0] }
        : { or: values.map((value) => ({ column: c.column, op: 'eq' as const, value })) };
    }
    default:
      return c;
  }
}

/**
 * Between two days on a date-and-time column means whole days, as eq and le with a day do (leaf-expr.ts): on
 * or after the first and on or before the last, where Between would stop at the last day's midnight and leave
 * out the rest of it. NotBetween likewise: before the first day or after the last.
 */
export function wholeDays(c: Leaf | { or: Leaf[] }, dateOnly: boolean): Leaf | { or: Leaf[] } | { and: Leaf[] } {
  if (dateOnly || !('column' in c) || (c.op !== 'between' && c.op !== 'notBetween')) return c;
  const v = c.value;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((d) => typeof d === 'string' && DATE.test(d.trim()))) return c;
  const [first, last] = v as [string, string];
  const { column } = c;
  return c.op === 'between'
    ? {
        and: [
          { column, op: 'ge', value: first },
          { column, op: 'le', value: last },
        ],
      }
    : {
        or: [
          { column, op: 'lt', value: first },
          { column, op: 'gt', value: last },
        ],
      };
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * "today is Wednesday 2026-12-02 (UTC)", said where a date in words is refused for the model to work out:
 * models often do not know the day of the week, and miscount from the date alone. Where the words name a
 * weekday ("next friday", "by Tue"), its dates around today too, since "next Friday" is the coming one to
 * some users and the one a week later to others: the model picks, or asks.
 */
export function todayIs(words = '', now = new Date()): string {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const dow = now.getUTCDay();
  const said = `today is ${WEEKDAYS[dow]} ${isoDay(today)} (UTC)`;
  const named = [...words.toLowerCase().matchAll(/\b(?:sun|mon|tue|wed|thu|fri|sat)[a-z]*/g)]
    .map((m) => WEEKDAYS.findIndex((d) => d.toLowerCase().startsWith(m[0])))
    .find((w) => w >= 0);
  if (named === undefined)
    return said + (yearlessDay(words, today) ?? yearlessMonth(words, today) ?? timeOfDay(words, now) ?? '');
  const ahead = (named - dow + 7) % 7 || 7;
  const day = (n: number) => isoDay(today + n * DAY);
  return (
    `${said}; ${WEEKDAYS[named]}: the last was ${day(ahead - 7 === 0 ? -7 : ahead - 7)}, ` +
    `${ahead === 7 ? 'today is one, ' : ''}the coming one is ${day(ahead)}, the one after ${day(ahead + 7)}`
  );
}

/**
 * "Dec 15", "15th of December": a day and month without the year, which is the coming one to most users and
 * a past one in a note of what happened: its date on each side of today, for the model to pick (not guessed
 * here, as "next Friday" is not). Undefined where the words name no such day.
 */
function yearlessDay(words: string, today: number): string | undefined {
  const said = dayAndMonth(words.trim().toLowerCase());
  if (!said || said.year) return undefined;
  const { day, month } = said;
  const year = new Date(today).getUTCFullYear();
  // the day in a year, where that year's month has it (29 February)
  const on = (y: number) => {
    const d = Date.UTC(y, month, day);
    return new Date(d).getUTCDate() === day ? d : undefined;
  };
  const days = [year - 4, year - 3, year - 2, year - 1, year, year + 1, year + 2, year + 3, year + 4]
    .map(on)
    .filter((d): d is number => d !== undefined);
  if (!days.length) return undefined;
  const last = days.filter((d) => d < today).at(-1);
  const coming = days.find((d) => d > today);
  const label = `${day} ${MONTH_NAMES[month]![0]!.toUpperCase()}${MONTH_NAMES[month]!.slice(1)}`;
  return `; ${label}: ${[
    ...(last !== undefined ? [`the last was ${isoDay(last)}`] : []),
    ...(days.includes(today) ? ['today is one'] : []),
    ...(coming !== undefined ? [`the coming one is ${isoDay(coming)}`] : []),
  ].join(', ')}`;
}

/**
 * "since January", "in March": a month without its year, which is the last one to a user asking what has
 * happened and the coming one to a user planning: the first days of both, for the model to pick (not guessed,
 * as calendarPeriod does not guess it). Undefined where the words name no month alone.
 */
function yearlessMonth(words: string, today: number): string | undefined {
  const m = /^(?:(?:since|in|during|from|after|before|until|till|through|by|for)\s+)?([a-z]{3,})\.?$/.exec(
    words.trim().toLowerCase(),
  );
  const month = m ? MONTH_NAMES.findIndex((n) => n.startsWith(m[1]!)) : -1;
  if (month < 0) return undefined;
  const now = new Date(today);
  const year = now.getUTCFullYear();
  const current = month === now.getUTCMonth();
  // the month's start on or before today (this month's own, where it is this month), and the next one
  const last = Date.UTC(month <= now.getUTCMonth() ? year : year - 1, month, 1);
  const coming = Date.UTC(month <= now.getUTCMonth() ? year + 1 : year, month, 1);
  const name = `${MONTH_NAMES[month]![0]!.toUpperCase()}${MONTH_NAMES[month]!.slice(1)}`;
  const end = (start: number) => isoDay(Date.UTC(new Date(start).getUTCFullYear(), month + 1, 0));
  return `; ${name}: ${current ? 'this one' : 'the last'} began ${isoDay(last)} (to ${end(last)}), the coming one begins ${isoDay(coming)}`;
}

/**
 * "tomorrow 10am", "in 2 days at 14:30": the day those words name, and the time written out, which needs its
 * zone (the user's is not known here; Dynamics stores UTC).
 */
function timeOfDay(words: string, now: Date): string | undefined {
  const m = /^(.+?)\s+(?:at\s+)?(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$/i.exec(words.trim());
  // the day as a date already ("2026-12-10 3pm"), or in words
  const given = m?.[1]?.trim() ?? '';
  const at = DATE.test(given) ? Date.parse(`${given}T00:00:00Z`) : Number.NaN;
  const realDay = !Number.isNaN(at) && isoDay(at) === given;
  const iso = realDay ? given : undefined;
  const day = iso ?? (m ? dayInWords(m[1]!, now) : undefined);
  if (!m || !day) return undefined;
  const pm = /^p/i.test(m[4] ?? '');
  const hour = (Number(m[2]) % (m[4] ? 12 : 24)) + (pm ? 12 : 0);
  const minute = Number(m[3] ?? 0);
  if (Number(m[2]) > (m[4] ? 12 : 23) || minute > 59) return undefined;
  const time = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
  const said = iso ? `${time} on ${day}` : `${m[1]!.trim()} is ${day}, and ${time}`;
  return `; ${said} is a different moment in each time zone: ${day}T${time}:00Z is ${time} UTC, or give the user's offset (${day}T${time}:00+01:00 for UTC+1)`;
}
