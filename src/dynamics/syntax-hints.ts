import { scaledAmount } from './amounts.js';

/**
 * What models carry over from SQL into OData $filter text that the parser does not read as meant (its `=`,
 * `>=`, `&&`, `AND`, `IS NULL` and double quotes it does: lexer.ts, parser.ts), found at the position the
 * parser stopped, and what OData writes instead (FILTER in shared/reference/dataverse-webapi.md).
 */
const HABITS: [RegExp, string][] = [
  [/^(like|LIKE)\b/, "has no place in OData: use contains(name,'text'), startswith or endswith, without % or *"],
];

/**
 * OData 4.01's `has` and arithmetic, which Dataverse's filter does not list (Filter rows using OData: comparison,
 * logical and grouping operators, query functions, lambdas): what it takes instead, with the column written.
 * (Its `in`, and SQL's `like`, are read as what they mean: parser.ts, habits.)
 */
function hasOrArithmetic(before: string, rest: string): string | undefined {
  const column = /([\w/]+)\s*$/.exec(before)?.[1] ?? 'name';
  if (/^has\b/.test(rest))
    return `'has' is not taken by Dataverse: compare a choice with eq (${column} eq 2, or its label)`;
  if (/^(add|sub|mul|div|mod)\b/.test(rest))
    return 'arithmetic is not taken by Dataverse: compare the column with a value worked out beforehand';
  return undefined;
}

/**
 * OData's other functions, which Dataverse's filter does not take (it takes contains, startswith and endswith, and
 * its own query functions: Filter rows using OData), and what answers the same question there.
 */
function otherFunction(before: string, rest: string, now: Date): string | undefined {
  const call = /^([A-Za-z]+)\s*\(\s*([\w/]+)?/.exec(rest);
  const name = call?.[1]?.toLowerCase();
  if (!name) return undefined;
  if (name === 'now') {
    // the comparison it is in ("scheduledend lt now()"), to write the same one
    const [, column = 'scheduledend', op = 'lt'] = /([\w/]+)\s+(eq|ne|gt|ge|lt|le)\s*$/.exec(before) ?? [];
    const moment = `${now.toISOString().slice(0, 19)}Z`;
    return `'now()' is not taken by Dataverse: write the moment (it is now ${moment}), ${column} ${op} ${moment}, or the where condition {"column": "${column}", "op": "${op}", "value": "now"}`;
  }
  if (/^(today|curdate|current_date|getdate|getutcdate|sysdate)$/.test(name)) {
    // SQL's and spreadsheets' day functions: the day, as "today" is to a where condition
    const [, column = 'scheduledend', op = 'lt'] = /([\w/]+)\s+(eq|ne|gt|ge|lt|le)\s*$/.exec(before) ?? [];
    const day = now.toISOString().slice(0, 10);
    return `'${name}()' is not taken by Dataverse: write the day (today is ${day} UTC), ${column} ${op} ${day}, or the where condition {"column": "${column}", "op": "${op}", "value": "today"}`;
  }
  if (/^(year|month|day|hour|minute|second|date|time|fractionalseconds)$/.test(name)) {
    const column = call?.[2] ?? 'createdon';
    return `'${name}()' is not taken by Dataverse: compare the date with a range (${column} ge 2026-01-01 and ${column} lt 2027-01-01), use its query functions (Microsoft.Dynamics.CRM.InFiscalYear, …), or the where condition {"column": "${column}", "op": "eq", "value": "2026"} (a month: "2026-11")`;
  }
  if (/^(tolower|toupper)$/.test(name))
    return `'${name}()' is not needed: Dataverse compares text without regard to case (subject eq 'call' finds 'Call')`;
  if (/^(trim|length|indexof|substring|concat|matchespattern|round|floor|ceiling|cast|isof)$/.test(name))
    return `'${name}()' is not taken by Dataverse: its text functions are contains, startswith and endswith`;
  return undefined;
}

/**
 * Numbers as people write amounts ("5k", "1.5M", "$1,000,000", "1,000,000"): OData takes the digits alone,
 * and '1M' would be the decimal 1 (parser.ts refuses it in a model's text). The number in full, to write.
 */
function amountInWords(before: string, rest: string): string | undefined {
  // the lexer may stop inside the number ("2.5bn" at its '.', "2 million" at the word): read it from its
  // first digit
  const start = /\d+(?:\.|\s+)?$/.exec(before)?.[0] ?? '';
  const scaled = scaledAmount(start + rest);
  if (scaled) return `for '${scaled.written}' write the number in full, ${scaled.full}`;
  const typed = /^(\d+(?:\.\d+)?)[dDfFlL]\b/.exec(rest);
  if (typed) return `write the number alone, ${typed[1]}`;
  // $, €, £, ¥ (escaped: the bundle stays ASCII, which dist/index.js reads fastest)
  const money = /^[$\u20ac\u00a3\u00a5]\s*([\d,]+(?:\.\d+)?)/.exec(rest);
  if (money) return `a currency symbol has no place in OData: write the amount alone, ${money[1]!.replace(/,/g, '')}`;
  // the parser stops at the first separator: the digits before it and after it are one number
  const digits = /(\d+)$/.exec(before)?.[1];
  const groups = /^((?:,\d{3})+)(?![\d])/.exec(rest);
  if (digits && groups) return `',' does not group digits in OData: write ${digits}${groups[1]!.replace(/,/g, '')}`;
  return undefined;
}

/**
 * A quote inside text ("O'Brien") ends the literal early, and a later quote opens one that never closes: the
 * word as it is written in OData, its quote doubled.
 */
function innerQuote(input: string, rest: string): string | undefined {
  const m = /([A-Za-z]+)'([A-Za-z]+)/.exec(input);
  if (!m || !rest.startsWith("'")) return undefined;
  return `a quote inside text is doubled in OData: ${m[1]}''${m[2]}`;
}

/** A date and time without its zone where the parser stopped ("createdon ge 2026-11-20T10:00:00"). */
function timeWithoutZone(input: string, position: number): string | undefined {
  for (const m of input.matchAll(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?![\d:.]|Z|[+-]\d{2}:\d{2})/g))
    if (position >= m.index && position <= m.index + m[0].length)
      return `'${m[0]}' has no time zone, so it names a different moment in each one: write ${m[0]}Z for UTC, or with the offset meant (${m[0]}+01:00)`;
  return undefined;
}

/**
 * A related column written with a dot, as JavaScript and SQL's alias.column write it: OData's path takes a
 * slash (a dot there qualifies a type name, as in Microsoft.Dynamics.CRM.account, which the policy does not
 * take in a path).
 */
function dottedPath(rest: string): string | undefined {
  const m = /^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)/.exec(rest);
  if (!m || m[1]!.startsWith('Microsoft.')) return undefined;
  return `'${m[1]}': a related column is written with a slash in OData (${m[1]!.replaceAll('.', '/')})`;
}

/**
 * A period in words without quotes ("createdon last 7 days", "estimatedclosedate eq this quarter", "createdon
 * in last month"): the parser stops inside it. In quotes, a date column compared with it is read as the where
 * condition reads the words (text-compared.ts).
 */
function periodUnquoted(input: string, position: number): string | undefined {
  const re =
    /([\w/]+)\s+(?:(eq|ne|gt|ge|lt|le|in|within|during)\s+)?((?:this|last|next|past|previous)\s+(?:\d+\s+)?(?:fiscal\s+)?(?:day|week|month|quarter|year)s?)\b/gi;
  for (const m of input.matchAll(re)) {
    if (position < m.index || position > m.index + m[0].length) continue;
    const [, column, given, period] = m;
    const op = given && !/^(in|within|during)$/i.test(given) ? given.toLowerCase() : 'eq';
    const condition = op === 'eq' ? `"${period}"` : `{"${op}": "${period}"}`;
    return `a period in words is text in quotes: ${column} ${op} '${period}', or the where condition {"${column}": ${condition}}`;
  }
  return undefined;
}

/** The habit at `position` of `input` ("'>' is gt in OData …"), or undefined when the error is something else. */
export function sqlHabitAt(input: string, position: number, now = new Date()): string | undefined {
  const rest = input.slice(position).trimStart();
  const before = input.slice(0, position);
  const operator =
    hasOrArithmetic(before, rest) ??
    otherFunction(before, rest, now) ??
    amountInWords(before, rest) ??
    innerQuote(input, rest) ??
    timeWithoutZone(input, position) ??
    periodUnquoted(input, position) ??
    dottedPath(rest);
  if (operator) return operator;
  for (const [re, says] of HABITS) {
    const m = re.exec(rest);
    if (m) return `'${m[0]}' ${says}`;
  }
  return undefined;
}
