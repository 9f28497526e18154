import { badInput, DynamicsMcpError } from '../errors.js';
import type { Literal } from '../odata/ast.js';
import { CHOICE_TYPES, type ColumnModel, isChoices, isDuration } from '../policy/model.js';
import { closest } from '../policy/suggest.js';
import { countWithUnit, scaledAmount } from './amounts.js';
import { minutesAsMeant } from './durations.js';
import { negationOf, stateInWords, stateWordRefused } from './state-words.js';
import { dayInWords, todayIs } from './utc-days.js';

const GUID = /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/;
/**
 * A date and time as SQL and most people write it, with a space for the T ("2026-12-03 10:00"; RFC 3339
 * 5.6 allows it) and UTC or GMT for Z: the ISO form, checked as that. Anything else is left as it is.
 */
function isoSpaced(s: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)\s*(z|utc|gmt|[+-]\d{2}:\d{2})?$/i.exec(s);
  if (!m) return s;
  const zone = !m[3] ? '' : /^[+-]/.test(m[3]) ? m[3] : 'Z';
  return `${m[1]}T${m[2]}${zone}`;
}

export type Scalar = string | number | boolean | null;

/**
 * A day that exists, and a time that does: the patterns alone let 2026-13-45 or 25:00 through, which
 * Dataverse refuses with "Cannot convert the literal ... to the expected type 'Edm.Date'".
 */
function isRealMoment(s: string): boolean {
  const [y, m, d] = s.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return false;
  return s.length === 10 || !Number.isNaN(Date.parse(s));
}

const optionList = (c: ColumnModel) => (c.options ?? []).map((o) => `${o.value} (${o.label})`).join(', ');

/**
 * A label as compared: any casing, and British spelling of the American labels Dynamics ships ("Cancelled" is
 * a case's and an activity's "Canceled" state, as users outside the US write it)
 */
const labelKey = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/cancell/g, 'cancel');

/** A choice value from its number or its label (any casing): the model sees labels, Dataverse wants numbers. */
export function optionValue(c: ColumnModel, v: Scalar, entity: string, use: 'filter' | 'write' = 'filter'): number {
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (c.options && !c.options.some((o) => o.value === v))
      throw unknownOption(
        `${v} is not a value of ${entity}.${c.logicalName}.`,
        `Use one of: ${optionList(c)}.`,
        entity,
      );
    return v;
  }
  if (typeof v === 'string') {
    const n = Number(v);
    if (v.trim() !== '' && Number.isInteger(n)) return optionValue(c, n, entity, use);
    const hit = c.options?.find((o) => labelKey(o.label) === labelKey(v));
    if (hit) return hit.value;
    // "High (1)", as the tools return a choice: that choice, when the label and the number agree
    const both = /^(.*?)\s*\((-?\d+)\)$/.exec(v.trim());
    const byNumber = both ? c.options?.find((o) => o.value === Number(both[2])) : undefined;
    if (byNumber && labelKey(byNumber.label) === labelKey(both![1]!)) return byNumber.value;
    // "open" for a case (Active), "done" for a task (Completed): the state the word stands for
    const said = stateInWords(c, v);
    if (said) return said.value;
    // "unresolved", "closed": states the word covers, answered with the condition for them
    const refused = stateWordRefused(c, v, entity, use);
    if (refused) throw refused;
    if (both && byNumber)
      throw badInput(
        `'${v}' names two values of ${entity}.${c.logicalName}: ${byNumber.value} is ${byNumber.label}.`,
        `Pass the number or the label alone. Values: ${optionList(c)}.`,
      );
  }
  // the label meant, where one is near ("Website" for Web, "Consultng" for Consulting): said first, as a column is;
  // only a near spelling, as a label merely like another ("Resolved", "Problem Solved") is another value
  const labels = (c.options ?? []).map((o) => o.label);
  // never the label a negation names: "unqualified" is near Qualified by spelling, and means the others
  const near = typeof v === 'string' ? closest(v.trim(), labels, 2, 0.25).filter((l) => !negationOf(v, l)) : [];
  const meant = near.map((l) => c.options!.find((o) => o.label === l)!).map((o) => `${o.value} (${o.label})`);
  throw unknownOption(
    `'${String(v)}' is not a value of ${entity}.${c.logicalName}.`,
    `${meant.length ? `Did you mean ${meant.join(' or ')}? ` : ''}Use one of: ${optionList(c)}.`,
    entity,
  );
}

/**
 * A word that may be a choice's label (a bare word in filter text, where it first reads as a column): its
 * value, or undefined where no value is named by it. A word that names states the choice keeps apart
 * ("Closed") is still refused, with the condition for them.
 */
export function labelledValue(c: ColumnModel, word: string, entity: string): number | undefined {
  try {
    return optionValue(c, word, entity);
  } catch (err) {
    if (err instanceof DynamicsMcpError && err.details.unknownOption !== undefined) return undefined;
    throw err;
  }
}

/** The refusal of a value no option has, marked as one: the table's options may be newer than its metadata. */
const unknownOption = (message: string, hint: string, entity: string) =>
  new DynamicsMcpError('bad_input', message, hint, { retryable: false, unknownOption: entity });

/**
 * The options a value names for a choices column (several at once): a list of labels or numbers, or one text
 * of them, "Hiking; Camping", "Hiking, Camping", "2,9", or as results read, "Hiking (2); Camping (9)". A text
 * that is one label whole ("Bed, Breakfast") is that option. Each is checked as a choice is; repeats are one.
 */
export function choicesValues(c: ColumnModel, v: unknown, entity: string): number[] {
  const parts: Scalar[] = Array.isArray(v)
    ? v
    : typeof v === 'string' && !c.options?.some((o) => labelKey(o.label) === labelKey(v))
      ? v.split(v.includes(';') ? ';' : ',').filter((p) => p.trim() !== '')
      : [v as Scalar];
  return [
    ...new Set(
      parts.map((p) => {
        if (typeof p !== 'string' && typeof p !== 'number')
          throw badInput(
            `${entity}.${c.logicalName} takes options by label or number; ${JSON.stringify(p)} is neither.`,
            `Use some of: ${optionList(c)}.`,
          );
        return optionValue(c, typeof p === 'string' ? p.trim() : p, entity);
      }),
    ),
  ];
}

/** Whether a text is a record id (GUID, braces allowed), as guidValue would take it. */
export const isGuidText = (v: string): boolean => GUID.test(v.trim());

export function guidValue(v: Scalar, what: string): string {
  const m = typeof v === 'string' ? GUID.exec(v.trim()) : null;
  if (!m)
    throw badInput(
      `${what} needs a record id (a GUID such as 5b6bd9c4-7d33-ea11-a813-000d3a1b1f2c), got '${String(v)}'.`,
      'Find the id with query_entities or get_record.',
    );
  return m[1]!.toLowerCase();
}

/** The present moment in words ("overdue": due before now; a call logged as made now), as OData's now() says it. */
const NOW = /^(now|now\(\)|right now|(the )?current time)$/i;

/**
 * What to pass for a number column: a whole one where it takes no fraction, its range where it is a narrow one
 * (a deal's probability, 0 to 100) rather than the type's own, else an example of the kind of number it holds.
 */
function numberHint(c: ColumnModel): string {
  if (isDuration(c))
    return `Pass the minutes (${c.logicalName} is a duration), e.g. 30, or the duration in words: "1.5 hours", "2 days".`;
  const whole = c.type === 'Integer' || c.type === 'BigInt';
  const range =
    c.minValue !== undefined && c.maxValue !== undefined && c.maxValue - c.minValue <= 1_000_000
      ? ` from ${c.minValue} to ${c.maxValue}`
      : undefined;
  const example = c.type === 'Money' ? 50000 : whole ? 12 : 12.5;
  return `Pass ${whole ? 'a whole number' : 'a number'}${range ?? `, e.g. ${example}`}.`;
}

/** A value typed for a column, as a filter literal. Strings that look like the right type are accepted too. */
export function toLiteral(
  c: ColumnModel,
  v: Scalar,
  entity: string,
  pos = 0,
  use: 'filter' | 'write' = 'filter',
): Literal {
  const lit = (type: Literal['type'], value: Literal['value']): Literal => ({ kind: 'literal', type, value, pos });
  if (v === null) return lit('null', null);
  const where = `${entity}.${c.logicalName}`;
  switch (c.type) {
    case 'String':
    case 'Memo':
    case 'EntityName':
      return lit('string', String(v));
    case 'Integer':
    case 'BigInt':
    case 'Decimal':
    case 'Double':
    case 'Money': {
      // a duration's minutes as Dynamics' duration fields take them ("1.5 hours", "2 days")
      if (isDuration(c)) v = minutesAsMeant(v) as Scalar;
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
      if (!Number.isFinite(n)) {
        // "$120,000", "1.200", "30%": the number meant depends on the writer's locale, so it is not guessed
        const dressed = typeof v === 'string' && /\d/.test(v) && /[^\d\s.+\-eE]/.test(v.trim());
        // "50k", "1.5M": the scale is no locale's, so the number in full can be said (not sent: the model
        // passes it, and the user sees it in the answer)
        const scaled = typeof v === 'string' ? scaledAmount(v.trim()) : undefined;
        // "60%" for a column that counts percent (0 to 100, as an opportunity's probability): the number is 60
        const percent = typeof v === 'string' ? /^(\d+(?:\.\d+)?)\s*%$/.exec(v.trim())?.[1] : undefined;
        // "500 employees": the word says what the number counts, and the column already does
        const counted = typeof v === 'string' ? countWithUnit(v.trim()) : undefined;
        throw badInput(
          `${where} is a number; '${String(v)}' is not.`,
          // a duration's text that says none ("3 weeks" is not 3 of its minutes): what it takes
          isDuration(c)
            ? numberHint(c)
            : scaled && scaled.written === String(v).trim()
              ? `Pass the number in full, as JSON: for '${scaled.written}', ${scaled.full}.`
              : percent && c.minValue === 0 && c.maxValue === 100
                ? `Pass the number alone, as JSON: ${c.logicalName} counts percent (0 to 100), so '${String(v).trim()}' is ${Number(percent)}.`
                : counted !== undefined
                  ? `Pass the number alone, as JSON: for '${String(v).trim()}', ${counted}.`
                  : dressed
                    ? 'Pass the number alone, as JSON: no currency symbol, thousands separator or %, e.g. 120000 or 30.'
                    : numberHint(c),
        );
      }
      return lit('number', n);
    }
    case 'Boolean': {
      if (typeof v === 'boolean') return lit('boolean', v);
      const s = String(v).trim().toLowerCase();
      if (s === 'true' || s === '1') return lit('boolean', true);
      if (s === 'false' || s === '0') return lit('boolean', false);
      const opt = c.options?.find((o) => o.label.toLowerCase() === s);
      if (opt) return lit('boolean', opt.value === 1);
      // "Outgoing (true)", as the tools return a yes/no column whose values have names
      const both = /^(.*?)\s*\((true|false)\)$/.exec(s);
      const named = both ? c.options?.find((o) => o.value === (both[2] === 'true' ? 1 : 0)) : undefined;
      if (named && named.label.toLowerCase() === both![1]) return lit('boolean', named.value === 1);
      if (named)
        throw badInput(
          `'${String(v)}' names two values of ${where}: ${both![2]} is ${named.label}.`,
          'Pass true or false alone.',
        );
      // each value with its label where the labels say more than yes and no (donotemail: Allow, Do Not Allow)
      const t = c.options?.find((o) => o.value === 1)?.label;
      const f = c.options?.find((o) => o.value === 0)?.label;
      const labelled = t && f && `${t}${f}`.toLowerCase() !== 'yesno';
      throw badInput(
        `${where} is ${labelled ? `true (${t}) or false (${f})` : 'true or false'}; '${String(v)}' is neither.`,
        labelled ? 'Pass true or false, or the label of one.' : 'Pass true or false.',
      );
    }
    case 'Picklist':
    case 'State':
    case 'Status':
      return lit('number', optionValue(c, v, entity, use));
    case 'DateTime': {
      // "today", "yesterday", "30 days ago", "in 2 weeks": the UTC day the error below would have the model work
      // out and write; "now": this moment, to the second
      const s = NOW.test(String(v).trim())
        ? `${new Date().toISOString().slice(0, 19)}Z`
        : (dayInWords(String(v)) ?? isoSpaced(String(v).trim()));
      if ((DATE.test(s) || DATETIME.test(s)) && !isRealMoment(s))
        throw badInput(
          `${where} is a date; '${s}' has the right form but is not a real date or time.`,
          'Check the month (01-12), the day of that month and the time (00:00-23:59).',
        );
      if (DATE.test(s)) return lit('date', s);
      if (DATETIME.test(s)) return lit('datetime', s);
      // a time without its zone is a different instant in every zone: not guessed
      if (DATETIME.test(`${s}Z`))
        throw badInput(
          `${where} is a date and time; '${s}' has no time zone, so it names a different moment in each one.`,
          `Add Z for UTC (${s}Z) or the offset of the time zone meant (e.g. ${s}+01:00); Dynamics stores times in UTC.`,
        );
      // models write dates in words ("last week", "next friday") and often do not know today's date: say it,
      // and in a filter, the relative operators that say a period exactly
      const today = todayIs(s);
      throw badInput(
        `${where} is a date; '${s}' is not an ISO date.`,
        use === 'write'
          ? c.dateOnly
            ? `Work the date out (${today}) and pass it as YYYY-MM-DD: this column holds a day, no time.`
            : `Work the date out (${today}) and pass it as YYYY-MM-DD, or as an ISO date-time such as 2026-01-31T09:00:00Z.`
          : `Use YYYY-MM-DD or an ISO date-time such as 2026-01-31T09:00:00Z (${today}). For a period relative to ` +
              'today, use a where condition with op lastXDays or nextXDays (value: a number of days), today, yesterday, ' +
              'tomorrow, or this, last or next week, month or year (thisWeek, lastMonth, nextYear…); or op eq with the ' +
              'period in those words: "last 30 days", "last 2 weeks", "next month", "this quarter", "last fiscal year", "last 6 months", ' +
              'or a month or year by name, "2026-11", "November 2026", "2026"; ' +
              'compared, a period is its first or last day: {"lt": "this month"} is before it, {"between": ["this month", "next quarter"]} both; ' +
              '"end of next month" (or start of) is that day.',
      );
    }
    case 'Lookup':
    case 'Customer':
    case 'Owner':
    case 'Uniqueidentifier':
      return lit('guid', guidValue(v, where));
    default:
      return lit('string', String(v));
  }
}

/**
 * An address as it is pasted from a mail client or a form, where it means one address: surrounding spaces,
 * "Ana Silva <ana@example.com>", "mailto:ana@example.com".
 */
export function emailAsMeant(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  const named = /^[^<>]*<\s*([^<>\s]+@[^<>\s]+)\s*>$/.exec(t)?.[1];
  return (named ?? t).replace(/^mailto:/i, '');
}
const EMAIL = /^[^\s@<>()[\],;:"]+@(?:[^\s@<>()[\],;:".]+\.)+[^\s@<>()[\],;:".]{2,}$/;
/** Whether text is one email address (after emailAsMeant): what an Email column takes. */
export const isEmailAddress = (t: string): boolean => EMAIL.test(t);

/** A value for a write, typed and checked against metadata (length, range, options) before it is sent. */
export function toWriteValue(c: ColumnModel, given: unknown, entity: string): unknown {
  let v = given;
  if (v === null) return null;
  // Dataverse stores any text in an Email column (its format is for display, not a check: "Data type format
  // conversions"), and mail sent to "Ana <ana@x.com>, bob@" fails later, far from the write that made it
  if (c.format === 'Email' && typeof v === 'string' && v.trim()) {
    v = emailAsMeant(v);
    if (!isEmailAddress(String(v)))
      throw badInput(
        `${entity}.${c.logicalName} is an email address; '${given}' is not one.`,
        'Pass one address alone, e.g. ana@example.com.',
      );
  }
  // a choices column's options, sent as Dataverse takes them: their values separated by commas ("1,9"); none
  // chosen clears it
  if (isChoices(c)) {
    const values = choicesValues(c, v, entity);
    return values.length ? values.join(',') : null;
  }
  if (typeof v === 'object')
    throw badInput(
      `${entity}.${c.logicalName} takes a single value, not ${Array.isArray(v) ? 'a list' : 'an object'}.`,
      'Pass a string, number or boolean.',
    );
  const lit = toLiteral(c, v as Scalar, entity, 0, 'write');
  const where = `${entity}.${c.logicalName}`;
  if (lit.type === 'string' && c.maxLength !== undefined && String(lit.value).length > c.maxLength)
    throw badInput(
      `${where} takes at most ${c.maxLength} characters; the value has ${String(lit.value).length}.`,
      'Shorten the text.',
    );
  if (lit.type === 'number' && !c.options) {
    const n = lit.value as number;
    if ((c.type === 'Integer' || c.type === 'BigInt') && !Number.isInteger(n))
      throw badInput(`${where} is a whole number; ${n} is not.`, 'Round the value.');
    if ((c.minValue !== undefined && n < c.minValue) || (c.maxValue !== undefined && n > c.maxValue))
      throw badInput(
        `${where} must be between ${c.minValue} and ${c.maxValue}; ${n} is not.`,
        'Pass a value in range.',
      );
  }
  // a day without a time ("due 2026-12-10") for a column Dynamics shows in each user's time zone: noon UTC is
  // that day from UTC-11 to UTC+11 (midnight UTC would show the day before everywhere west of Greenwich); a
  // time-zone-independent column shows what is stored, so its day starts at midnight
  if (lit.type === 'date' && !c.dateOnly) return `${lit.value}T${c.timeZoneIndependent ? '00' : '12'}:00:00Z`;
  return lit.value;
}

/**
 * A choice compared with one of its labels by order ({"prioritycode": {"gt": "Normal"}}, "above normal")
 * means the values above it in meaning, which Dataverse does not know: it compares the numbers, and High is
 * 1, so gt Normal is Low. Refused with the values in their order, for the model to list the ones it means;
 * a number compared is taken as it is (the model knows it compares numbers).
 */
export function refuseChoiceOrderedByLabel(
  c: { column: string; op: string; value?: unknown },
  column: ColumnModel,
): void {
  if (!['gt', 'ge', 'lt', 'le'].includes(c.op) || !CHOICE_TYPES.has(column.type) || typeof c.value !== 'string') return;
  const given = c.value.trim().toLowerCase();
  const option = column.options?.find((o) => o.label.toLowerCase() === given);
  if (!option) return;
  const values = [...(column.options ?? [])].sort((a, b) => a.value - b.value);
  throw badInput(
    `"${c.op}" on ${c.column} compares the numbers of its values, not what they mean: ${values.map((o) => `${o.label} (${o.value})`).join(', ')}.`,
    `List the values meant: {"${c.column}": {"in": ["<label>", …]}}; or compare the number: {"${c.column}": {"${c.op}": ${option.value}}}.`,
  );
}
