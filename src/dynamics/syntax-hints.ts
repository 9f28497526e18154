/**
 * What models carry over from SQL and C-like languages into OData $filter text, found at the position the
 * parser stopped, and what OData writes instead: its comparisons are words (FILTER in
 * shared/reference/dataverse-webapi.md), its keywords lower case and its text in single quotes.
 */
const HABITS: [RegExp, string][] = [
  [/^(==|=)/, "is eq in OData (name eq 'Contoso')"],
  [/^(!=|<>)/, 'is ne in OData'],
  [/^>=/, 'is ge in OData'],
  [/^<=/, 'is le in OData'],
  [/^>/, 'is gt in OData (revenue gt 1000000)'],
  [/^</, 'is lt in OData'],
  [/^&&/, 'is and in OData'],
  [/^\|\|/, 'is or in OData'],
  [/^(AND|And)\b/, 'is and in OData (lower case)'],
  [/^(OR|Or)\b/, 'is or in OData (lower case)'],
  [/^(NOT|Not)\b/, 'is not in OData (lower case)'],
  [/^(like|LIKE)\b/, "has no place in OData: use contains(name,'text'), startswith or endswith, without % or *"],
  [/^"/, "does not quote text in OData: single quotes do ('Contoso'; a quote inside is doubled: 'O''Brien')"],
];

/**
 * OData 4.01's `in` and arithmetic, which Dataverse's filter does not list (Filter rows using OData: comparison,
 * logical and grouping operators, query functions, lambdas): what it takes instead, with the column written.
 */
function listOrArithmetic(before: string, rest: string): string | undefined {
  const column = /([\w/]+)\s*$/.exec(before)?.[1] ?? 'name';
  if (/^in\b/.test(rest))
    return (
      `'in' is not an operator Dataverse's OData takes: a list is Microsoft.Dynamics.CRM.In(PropertyName='${column}',PropertyValues=['A','B']) ` +
      `(a column of the table itself; through a lookup, ${column} eq 'A' or ${column} eq 'B'), or the where condition {"column": "${column}", "op": "in", "value": ["A", "B"]}`
    );
  if (/^has\b/.test(rest))
    return `'has' is not taken by Dataverse: compare a choice with eq (${column} eq 2, or its label)`;
  if (/^(add|sub|mul|div|mod)\b/.test(rest))
    return 'arithmetic is not taken by Dataverse: compare the column with a value worked out beforehand';
  return undefined;
}

/** The habit at `position` of `input` ("'>' is gt in OData …"), or undefined when the error is something else. */
export function sqlHabitAt(input: string, position: number): string | undefined {
  const rest = input.slice(position).trimStart();
  const operator = listOrArithmetic(input.slice(0, position), rest);
  if (operator) return operator;
  for (const [re, says] of HABITS) {
    const m = re.exec(rest);
    if (m) return `'${m[0]}' ${says}`;
  }
  return undefined;
}
