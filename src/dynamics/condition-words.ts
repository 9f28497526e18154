import { badInput } from '../errors.js';
import { likePattern, textFunctionMeant } from '../odata/like.js';
import type { Scalar } from './coerce.js';
import {
  type FiscalQuarter,
  fiscalQuarter,
  fiscalToDate,
  fiscalYearOffset,
  fiscalYearSpan,
  namedFiscalYear,
  namedHalf,
  namedQuarter,
  type OrgCalendar,
  quarterOffset,
  quartersAround,
} from './fiscal.js';

/**
 * The words of a condition: its operators (and the slips for them models make, from SQL and code), and what a
 * value can mean only one way (a list for eq, SQL's wildcards, a period in words). Used by ConditionBuilder
 * (conditions.ts) and by the tools' argument checks.
 */

/** The operators that are a period in themselves (no value): their own names read as the period's words. */
const PERIOD_OP_NAMES = [
  'today',
  'yesterday',
  'tomorrow',
  'thisWeek',
  'lastWeek',
  'nextWeek',
  'thisMonth',
  'lastMonth',
  'nextMonth',
  'thisYear',
  'lastYear',
  'nextYear',
] as const;

export const CONDITION_OPS = [
  'eq',
  'ne',
  'gt',
  'ge',
  'lt',
  'le',
  'contains',
  'notContains',
  'startswith',
  'endswith',
  'in',
  'notIn',
  'between',
  'notBetween',
  'null',
  'notNull',
  'on',
  'onOrAfter',
  'onOrBefore',
  'lastXDays',
  'nextXDays',
  'olderThanXDays',
  ...PERIOD_OP_NAMES,
  'currentUser',
] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];

/** What models write for an operator from SQL or code, and the operator that says it here. */
const OP_ALIASES = new Map<string, string>(
  Object.entries({
    like: 'contains, startswith or endswith, with the text alone (no % or *)',
    // text is compared without case anyway (the organisation's collation); and there are no regular expressions
    ilike: 'contains, startswith or endswith, with the text alone (no % or *): text is compared in any casing',
    regex: 'contains, startswith or endswith: Dataverse has no regular expressions',
    '=': 'eq',
    '==': 'eq',
    equals: 'eq',
    '!=': 'ne',
    '<>': 'ne',
    '>': 'gt',
    '>=': 'ge',
    '<': 'lt',
    '<=': 'le',
    // Prisma's and MongoDB's words (MongoDB's after its $)
    gte: 'ge',
    lte: 'le',
    not: 'ne',
    isnull: 'null',
    'is null': 'null',
    notnull: 'notNull',
    isnotnull: 'notNull',
    'is not null': 'notNull',
    // MongoDB's $exists, and "empty" as spreadsheets and query builders say it
    exists: 'notNull',
    notexists: 'null',
    isempty: 'null',
    empty: 'null',
    isnotempty: 'notNull',
    notempty: 'notNull',
    'not in': 'notIn',
    nin: 'notIn',
    contain: 'contains',
    startsWith: 'startswith',
    endsWith: 'endswith',
    // FetchXML's condition operators (its reference's "condition operator values": begins-with, eq-userid…), which
    // reach here spelt with their hyphens squeezed out (on-or-after is onOrAfter already), and words
    greaterthan: 'gt',
    greaterthanorequal: 'ge',
    greaterthanorequalto: 'ge',
    lessthan: 'lt',
    lessthanorequal: 'le',
    lessthanorequalto: 'le',
    neq: 'ne',
    notequal: 'ne',
    beginswith: 'startswith',
    equserid: 'currentUser',
    equaluserid: 'currentUser',
    notlike: 'notContains, with the text alone (no % or *)',
    // a day's words: "before" a day is lt it, "after" gt, "since" it ge, "until" it le
    before: 'lt',
    after: 'gt',
    since: 'ge',
    until: 'le',
    olderthan: 'olderThanXDays',
  }),
);

const OPS_BY_CASE = new Map(CONDITION_OPS.map((op) => [op.toLowerCase(), op]));

/**
 * A word as written ("startsWith", ">="), then lower case, then without its spaces, hyphens and underscores
 * ("on-or-after", "not_null", "Last X Days"): the keys it is looked up by, in that order.
 */
const spellings = (word: string): string[] => {
  const t = word.trim();
  return [t, t.toLowerCase(), t.toLowerCase().replace(/[\s_-]+/g, '')];
};

/**
 * The operator a word from SQL or code means, when it means exactly one of ours (not "like"); one of ours in
 * another casing or spelt with hyphens ("EQ", "NotNull", "startsWith", "on-or-after") is that one.
 */
export function operatorMeant(word: string): ConditionOp | undefined {
  for (const key of spellings(word)) {
    const meant = OP_ALIASES.get(key) ?? OPS_BY_CASE.get(key);
    if (meant) return (CONDITION_OPS as readonly string[]).includes(meant) ? (meant as ConditionOp) : undefined;
  }
  return undefined;
}

/** Whether a word is an operator, or a slip for one (like, =, startsWith…), rather than a column's name. */
export const isOperatorWord = (word: string): boolean =>
  (CONDITION_OPS as readonly string[]).includes(word) || spellings(word).some((key) => OP_ALIASES.has(key));

/** The hint for an operator that does not exist: the one meant, when it is a known slip, else the list. */
export function unknownOpHint(op: string): string {
  const meant = spellings(op)
    .map((key) => OP_ALIASES.get(key))
    .find(Boolean);
  return meant ? `Use ${meant}.` : `Operators: ${CONDITION_OPS.join(', ')}.`;
}

export type Leaf = { column: string; op: ConditionOp; value?: Scalar | Scalar[] };
/** Operators that hold when a value is absent or different: not asked of each table a lookup can point at. */
export const NEGATIONS: ReadonlySet<string> = new Set(['ne', 'notContains', 'notIn', 'notBetween', 'null', 'notNull']);
/**
 * What a condition can mean only one way: eq / ne with a list is in / notIn, in / notIn with one value is a
 * list of one, and SQL's LIKE wildcards where the operator already implies them ('%energy%' for contains,
 * 'Contoso%' for startswith, '%Ltd' for endswith) are left out: the value is matched literally, so they
 * would otherwise find nothing. A trailing % alone with contains stays text ('50%').
 */
export function conditionAsMeant(c: Leaf): Leaf {
  const { op, value } = c;
  if (Array.isArray(value) && (op === 'eq' || op === 'ne')) return { ...c, op: op === 'eq' ? 'in' : 'notIn' };
  if ((op === 'in' || op === 'notIn') && value !== undefined && value !== null && !Array.isArray(value))
    return { ...c, value: [value] };
  // a range written as text, as SQL and people say it: "1000000 and 5000000", "2026-01-01 to 2026-03-31" (two
  // numbers or two ISO dates only: text with " and " in it is no range); \u2013 is an en dash, "1000–5000"
  const range =
    (op === 'between' || op === 'notBetween') && typeof value === 'string'
      ? /^\s*(-?\d[\d.]*|\d{4}-\d{2}-\d{2}[\w:.+-]*)\s+(?:and|to|-|\u2013)\s+(-?\d[\d.]*|\d{4}-\d{2}-\d{2}[\w:.+-]*)\s*$/i.exec(
          value,
        )
      : null;
  if (range) {
    const bound = (b: string) => (/^-?\d[\d.]*$/.test(b) && !/^\d{4}-/.test(b) ? Number(b) : b);
    return { ...c, value: [bound(range[1]!), bound(range[2]!)] };
  }
  if (typeof value !== 'string') return c;
  // a count of days said with its unit, as the operator's name reads: lastXDays "30 days", olderThanXDays
  // "2 weeks" (seven days each, exactly); months are not a count of days, and are refused with what says them
  const counted = /^\s*(\d+)\s*(days?|weeks?)\s*$/i.exec(value);
  if (counted && (op === 'lastXDays' || op === 'nextXDays' || op === 'olderThanXDays'))
    return { ...c, value: Number(counted[1]) * (/^w/i.test(counted[2]!) ? 7 : 1) };
  const lead = /^[%*]+/;
  const trail = /[%*]+$/;
  let v = value;
  if ((op === 'contains' || op === 'notContains') && lead.test(v)) v = v.replace(lead, '').replace(trail, '');
  else if (op === 'startswith') v = v.replace(trail, '');
  else if (op === 'endswith') v = v.replace(lead, '');
  const meant = v && v !== value ? { ...c, value: v } : c;
  return globAsMeant(meant);
}

/**
 * An operator that takes no value (a null check, a period such as thisMonth, currentUser) given whether it
 * holds, as SQL-minded APIs write it ({"isNull": false}, {"thisMonth": true}): true is the condition, false
 * its opposite (for a null check the other check, else under "not", which says it as Dataverse can). The
 * value was left unread, so {"isNull": false} found the records without a value and {"thisMonth": false}
 * those of this month, the opposite of what was asked; any other value is refused, as the operator cannot
 * take it ({"op": "thisMonth", "value": "2026-01"} was this month, whatever the value said).
 */
export function flagAsMeant(c: Leaf): Leaf | { not: Leaf } {
  const { op, value } = c;
  const nullCheck = op === 'null' || op === 'notNull';
  if (!nullCheck && !PERIOD_OPS.has(op) && op !== 'currentUser') return c;
  // no value, or an empty one (a client that sends "value": "" with every operator), is the condition itself
  const given = value === undefined || value === null ? '' : String(value).trim().toLowerCase();
  // the operator said again as its value ({"op": "thisMonth", "value": "this month"}, currentUser "me")
  const restated =
    given.replace(/[\s_-]+/g, '') === op.toLowerCase() || (op === 'currentUser' && /^@?(me|myself)$/.test(given));
  const holds = given === '' || restated ? true : FLAG.get(given);
  if (holds === undefined)
    throw badInput(
      `"${op}" on ${c.column} takes no value, or true/false for whether it holds; not ${JSON.stringify(value)}.`,
      nullCheck
        ? `For records with no ${c.column}: {"${c.column}": null}; with one: {"${c.column}": {"notNull": true}}.`
        : op === 'currentUser'
          ? `Leave the value out: {"${c.column}": {"currentUser": true}}; for another user, their name or id: {"${c.column}": "<full name>"}.`
          : `Leave the value out: {"${c.column}": {"${op}": true}}; for another period, op eq with it in words, e.g. {"${c.column}": "last month"} or {"${c.column}": "2026-01"}.`,
    );
  const bare = { column: c.column, op };
  if (holds) return bare;
  return nullCheck ? { ...bare, op: op === 'null' ? 'notNull' : 'null' } : { not: bare };
}

/** The values an operator that takes no value can be given for whether it holds (flagAsMeant). */
const FLAG: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['1', true],
  ['yes', true],
  ['false', false],
  ['0', false],
  ['no', false],
]);

/** the text operators and the function each is sent as (notContains: not contains) */
const TEXT_FUNCTION: ReadonlyMap<ConditionOp, 'contains' | 'startswith' | 'endswith'> = new Map([
  ['contains', 'contains'],
  ['notContains', 'contains'],
  ['startswith', 'startswith'],
  ['endswith', 'endswith'],
]);
/**
 * A glob's * left in a text operator's value ("*Logistics" with startswith, "Con*Co" with contains): a value is
 * matched as written, so it would find nothing. At the value's other end it says the operator meant
 * (startswith "*Logistics" is contains "Logistics"); inside, no one operator says it, and it is refused with
 * the conditions that do.
 */
function globAsMeant(c: Leaf): Leaf {
  const { op, value } = c;
  const fn = TEXT_FUNCTION.get(op);
  if (!fn || typeof value !== 'string' || !value.includes('*')) return c;
  // a % left here is text (the wildcards the operator implies were taken off above): only * is read
  const meant = textFunctionMeant(fn, value, '*');
  if (meant) return { ...c, op: op === 'notContains' ? op : meant.op, value: meant.text };
  const pieces = value.split('*').filter(Boolean);
  if (!pieces.length)
    throw badInput(
      `'${value}' is a wildcard alone: it says no text to look for.`,
      `For records where ${c.column} has any value: {"column": "${c.column}", "op": "notNull"}.`,
    );
  const each = eachPieceContained(c.column, pieces);
  throw badInput(
    `'${value}' has a * inside it: a value is matched as written, and no one text operator takes a wildcard between two pieces of text.`,
    op === 'notContains'
      ? `For records without all of its pieces, put a condition for each under "not": {"not": ${each}}.`
      : `Give each piece its own condition, all of them to hold: ${each}.`,
  );
}

/**
 * The condition a text with wildcards between its pieces comes nearest to: each piece contained, all of them
 * ({"and": [{"column", "op": "contains", "value"} …]}), which also finds the pieces elsewhere or in another order.
 */
export const eachPieceContained = (column: string, pieces: string[]): string =>
  `{"and": [${pieces.map((p) => `{"column": "${column}", "op": "contains", "value": "${p}"}`).join(', ')}]}`;

/**
 * SQL's LIKE (and ilike: text is compared in any casing anyway) with its wildcards only at the ends
 * ('%energy%', 'Contoso%', '%Ltd', or none): the operator that says it exactly. A wildcard inside the text, or
 * LIKE's single-character _, is left for the refusal that names contains, startswith and endswith.
 */
export function likeAsMeant(op: string, value: unknown): { op: ConditionOp; value: string } | undefined {
  if (!/^i?like$/i.test(op.trim()) || typeof value !== 'string') return undefined;
  const meant = likePattern(value);
  return meant && { op: meant.op, value: meant.text };
}

/**
 * Text compared with eq holding the wildcards of SQL's LIKE or a glob ("Contoso*", "*Ltd", "%energy%"): the
 * operator they mean (startswith, endswith, contains), as eq matches them literally and would find nothing. A
 * trailing % alone stays text ("50%"); a wildcard inside the text ("Con*so") is left as written.
 */
export function wildcardsAsOperator(c: Leaf): Leaf {
  if (c.op !== 'eq' || typeof c.value !== 'string') return c;
  const meant = likePattern(c.value, false);
  if (!meant || meant.op === 'eq' || (meant.op === 'startswith' && /[^*%]%$/.test(c.value.trim()))) return c;
  return { ...c, op: meant.op, value: meant.text };
}

/** a count written as a word before its unit ("last two weeks", "in a month"), as people say it: 1 to 12 */
const COUNT_WORDS = [
  'a',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];
const COUNT_WORD = new RegExp(`\\b(an|${COUNT_WORDS.join('|')})(?= (?:day|week|month|year)s?\\b)`);

/** Lower-case words with a count written as a word before its unit put in digits: "last two weeks" is "last 2 weeks". */
export function countsInDigits(t: string): string {
  return t.replace(COUNT_WORD, (w) => String(w === 'an' ? 1 : Math.max(1, COUNT_WORDS.indexOf(w))));
}

/**
 * A period written in the words the date operators are named for ("last 30 days", "this month", "today"):
 * that operator. Other words are refused with today's date and the operators (coerce.ts).
 */
export function periodInWords(v: unknown): { op: ConditionOp; value?: number } | undefined {
  if (typeof v !== 'string') return undefined;
  // an operator's own name as the value ("thisMonth", "LAST_WEEK") is the same words
  const t = countsInDigits(
    v
      .trim()
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .replace(/[\s_]+/g, ' ')
      .toLowerCase(),
  );
  const days = /^(last|past|previous|next) (\d+) days?$/.exec(t);
  if (days) return { op: days[1] === 'next' ? 'nextXDays' : 'lastXDays', value: Number(days[2]) };
  // weeks are days said seven at a time: exactly what LastXDays/NextXDays count
  const weeks = /^(last|past|previous|next) (\d+) weeks?$/.exec(t);
  if (weeks) return { op: weeks[1] === 'next' ? 'nextXDays' : 'lastXDays', value: 7 * Number(weeks[2]) };
  const older = /^older than (\d+) days?$/.exec(t);
  if (older) return { op: 'olderThanXDays', value: Number(older[1]) };
  const words: Record<string, ConditionOp> = {
    today: 'today',
    yesterday: 'yesterday',
    tomorrow: 'tomorrow',
    'this week': 'thisWeek',
    'last week': 'lastWeek',
    'next week': 'nextWeek',
    'this month': 'thisMonth',
    'last month': 'lastMonth',
    'next month': 'nextMonth',
    'this year': 'thisYear',
    'last year': 'lastYear',
    'next year': 'nextYear',
  };
  return words[t] ? { op: words[t], value: undefined } : undefined;
}

const PERIOD_OPS: ReadonlySet<ConditionOp> = new Set(PERIOD_OP_NAMES);

/**
 * A period operator's condition as the words periodInWords reads back ({op: "lastXDays", value: 30} is
 * "last 30 days", {op: "thisMonth"} is "thisMonth"), so that it can be compared as words are: "not in the
 * last 30 days" is ne those days. Undefined for any other operator, and for a count of days that is none;
 * olderThanXDays too, as a period with no last day has no outside that ne can say.
 */
export function periodAsWords(op: ConditionOp, value: unknown): string | undefined {
  if (PERIOD_OPS.has(op)) return op;
  const n = typeof value === 'string' && value.trim() ? Number(value) : value;
  if ((op === 'lastXDays' || op === 'nextXDays') && Number.isInteger(n) && (n as number) >= 0)
    return `${op === 'lastXDays' ? 'last' : 'next'} ${n} days`;
  return undefined;
}

/**
 * Whether a condition's value names a fiscal period (a quarter, a half, a fiscal year…): it then needs the
 * organisation's fiscal year. Whatever quarterInWords reads, so the two never disagree on a name.
 */
export const namesFiscalPeriod = (v: unknown): boolean => quarterInWords(v, 1) !== undefined;

/**
 * "this quarter", "last quarter", "next quarter" (or "current", "previous", with or without "fiscal"): the
 * fiscal quarter pipeline_summary counts by (the organisation's fiscal year, org-calendar.ts). It is sent as
 * its first and last day, so the same days are counted whichever tool names the quarter, and the answer can
 * say which days they were.
 */
export function quarterInWords(
  v: unknown,
  fiscal: OrgCalendar | number,
  today = new Date(),
): FiscalQuarter | undefined {
  const offset = quarterOffset(v, true);
  if (offset !== undefined) return fiscalQuarter(today, fiscal, offset);
  // a quarter by its name ("FY2027 Q1", as pipeline_summary's answers print it)
  const named = typeof v === 'string' ? namedQuarter(v, fiscal, today) : undefined;
  if (named) return named;
  // a fiscal year by its name ("FY2027")
  const year = typeof v === 'string' ? namedFiscalYear(v, fiscal) : undefined;
  if (year) return year;
  // "next 2 quarters", "last four quarters": whole fiscal quarters after or before this one
  const several = quartersAround(v, fiscal, today) ?? namedHalf(v, fiscal, today);
  if (several) return several;
  // "quarter to date", "FYTD": from the period's first day to today
  const toDate = fiscalToDate(v, fiscal, today);
  if (toDate) return toDate;
  // "this fiscal year", "last fiscal year", "next fiscal year": the same fiscal year, first day to last
  const years = fiscalYearOffset(v);
  return years === undefined ? undefined : fiscalYearSpan(today, fiscal, years);
}

/**
 * "last 6 months", "past 2 years", "next 3 months" (also "the last 12 months", "past year"): from the same day
 * that many months back to today, or from today to the same day ahead (the last day of a shorter month where
 * that day is missing). Dataverse's LastXMonths and NextXMonths do not document where they start, so the span
 * is sent as its first and last day, as "this quarter" is, and the answer can say which days it covered.
 */
export function monthsInWords(v: unknown, today = new Date()): { from: string; to: string } | undefined {
  if (typeof v !== 'string') return undefined;
  const t = countsInDigits(
    v
      .trim()
      .toLowerCase()
      .replace(/\s+/g, ' ')
      .replace(/^(?:in |within |over )?the /, ''),
  );
  const named = calendarPeriod(t);
  if (named) return named;
  const day = (d: Date) => d.toISOString().slice(0, 10);
  // "year to date" (YTD), "month to date" (MTD): this calendar year's or month's first day to today, as "this
  // year" is the calendar year (a fiscal year to date is quarterInWords')
  const toDate = /^(?:(?:this|current) )?(year|month) to date$|^(ytd|mtd)$/.exec(t);
  if (toDate) {
    const month = toDate[1] === 'month' || toDate[2] === 'mtd';
    const first = new Date(Date.UTC(today.getUTCFullYear(), month ? today.getUTCMonth() : 0, 1));
    return { from: day(first), to: day(today) };
  }
  const m = /^(last|past|previous|next) (?:(\d+) )?(month|year)s?$/.exec(t);
  if (!m) return undefined;
  const n = Number(m[2] ?? 1) * (m[3] === 'year' ? 12 : 1);
  if (!Number.isInteger(n) || n < 1 || n > 1200) return undefined;
  const shifted = (months: number) => {
    const y = today.getUTCFullYear();
    const mo = today.getUTCMonth() + months;
    const last = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
    return day(new Date(Date.UTC(y, mo, Math.min(today.getUTCDate(), last))));
  };
  return m[1] === 'next' ? { from: day(today), to: shifted(n) } : { from: shifted(-n), to: day(today) };
}

export const MONTH_NAMES = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/**
 * A calendar month or year by its name, as people and ISO 8601 write them: "2026-11", "November 2026", "Nov
 * 2026", "2026 november"; "2026" (the calendar year: a fiscal one is "FY2026"). Its first and last day. A month
 * without its year is not read: whether "November" is the last one or the next is a guess.
 */
function calendarPeriod(t: string): { from: string; to: string } | undefined {
  const day = (y: number, m: number, d: number) => new Date(Date.UTC(y, m, d)).toISOString().slice(0, 10);
  // Dataverse's dates run from 1753 (SQL Server's datetime) to 9999
  const known = (y: number) => y >= 1753 && y <= 9999;
  const monthOf = (y: number, m: number) =>
    m >= 0 && m < 12 && known(y) ? { from: day(y, m, 1), to: day(y, m + 1, 0) } : undefined;
  const iso = /^(\d{4})-(\d{2})$/.exec(t);
  if (iso) return monthOf(Number(iso[1]), Number(iso[2]) - 1);
  const named = /^([a-z]+)\.?,? (\d{4})$/.exec(t);
  const reversed = /^(\d{4}) ([a-z]+)$/.exec(t);
  const [word, year] = named ? [named[1]!, named[2]!] : reversed ? [reversed[2]!, reversed[1]!] : [];
  if (word && year) {
    // its name, or three or more of its first letters ("nov", "sept")
    const m = word.length >= 3 ? MONTH_NAMES.findIndex((n) => n.startsWith(word)) : -1;
    return m >= 0 ? monthOf(Number(year), m) : undefined;
  }
  const whole = /^(\d{4})$/.exec(t);
  return whole && known(Number(whole[1])) ? { from: `${whole[1]}-01-01`, to: `${whole[1]}-12-31` } : undefined;
}

/** `%`, `_` and `[` are LIKE wildcards in Dataverse string functions (FILTER); a structured value means them literally. */
export const escapeLike = (s: string) => s.replace(/[[%_]/g, (c) => `[${c}]`);
