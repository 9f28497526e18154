/**
 * An SQL LIKE pattern whose wildcards (% or a glob's *) are only at its ends: the text operator it means and
 * the text ('%energy%' contains 'energy', 'Contoso%' startswith, '%Ltd' endswith, no wildcard eq). Undefined
 * for any other pattern (a wildcard inside, LIKE's single-character _), which no one operator says.
 */
export function likePattern(
  pattern: string,
  underscore = true,
): { op: 'eq' | 'contains' | 'startswith' | 'endswith'; text: string } | undefined {
  // `underscore`: LIKE's single-character _ is a wildcard (false: a glob, where _ is text)
  const m = (underscore ? /^([*%]*)([^*%_]+)([*%]*)$/ : /^([*%]*)([^*%]+)([*%]*)$/).exec(pattern.trim());
  if (!m) return undefined;
  return { op: m[1] && m[3] ? 'contains' : m[1] ? 'endswith' : m[3] ? 'startswith' : 'eq', text: m[2]! };
}
