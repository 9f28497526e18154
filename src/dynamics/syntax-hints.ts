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

/** The habit at `position` of `input` ("'>' is gt in OData …"), or undefined when the error is something else. */
export function sqlHabitAt(input: string, position: number): string | undefined {
  const rest = input.slice(position).trimStart();
  for (const [re, says] of HABITS) {
    const m = re.exec(rest);
    if (m) return `'${m[0]}' ${says}`;
  }
  return undefined;
}
