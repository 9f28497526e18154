/**
 * A duration as people and models write it, in the minutes Dataverse stores: a whole-number column whose
 * format is Duration (IntegerAttributeMetadata.Format; an activity's actualdurationminutes, a Case
 * Resolution's timespent) holds minutes, and Dynamics' own duration fields take "90 minutes", "1.5 hours" or
 * "2 days". ISO 8601's form ("PT1H30M") is read too. A bare number is left to the column's number check.
 */

const UNIT_MINUTES: ReadonlyMap<string, number> = new Map([
  ...['m', 'min', 'mins', 'minute', 'minutes'].map((u) => [u, 1] as const),
  ...['h', 'hr', 'hrs', 'hour', 'hours'].map((u) => [u, 60] as const),
  ...['d', 'day', 'days'].map((u) => [u, 1440] as const),
]);

const PART = /(\d+(?:\.\d+)?)\s*([a-z]+)/gi;
const ISO = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?)?$/i;

/**
 * The minutes a duration says ("1 h 30 min", "1 hour and 30 minutes", "2 days", "PT45M"), or undefined when
 * the text is no duration (a bare number, a unit that is not one of minutes, hours or days). May be a
 * fraction ("2.5 minutes"): the caller says that a column of whole minutes does not take it.
 */
export function minutesIn(text: string): number | undefined {
  // "half an hour", "an hour", "a day": the article is one
  const t = text
    .trim()
    .replace(/\bhalf an hour\b/gi, '30 minutes')
    .replace(/\ban? (minute|hour|day)\b/gi, '1 $1');
  const iso = ISO.exec(t);
  if (iso && t.length > 1 && t.toUpperCase() !== 'PT')
    return Number(iso[1] ?? 0) * 1440 + Number(iso[2] ?? 0) * 60 + Number(iso[3] ?? 0);
  // every part a number with its unit, joined by nothing but spaces, commas or "and"
  const rest = t.replace(PART, ' ').replace(/\s*(?:,|\band\b)\s*/gi, ' ');
  if (rest.trim() !== '') return undefined;
  let minutes = 0;
  let parts = 0;
  for (const [, n, unit] of t.matchAll(PART)) {
    const per = UNIT_MINUTES.get(unit!.toLowerCase());
    if (per === undefined) return undefined;
    minutes += Number(n) * per;
    parts++;
  }
  return parts ? minutes : undefined;
}

/** A value given for a duration, as minutes where it is text that says one; anything else as it is. */
export const minutesAsMeant = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  const minutes = minutesIn(v);
  if (minutes !== undefined) return minutes;
  return /^\s*\d+(?:\.\d+)?\s*$/.test(v) ? Number(v) : v;
};
