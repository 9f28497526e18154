type TextOp = 'eq' | 'contains' | 'startswith' | 'endswith';

/**
 * A pattern whose wildcards (the characters in `wild`) are only at its ends: the text operator it means and the
 * text (wildcards at both ends contains, at the end startswith, at the start endswith, none eq). `single`: a
 * character that is a one-character wildcard, which no operator says (LIKE's _). Undefined for any other pattern.
 */
function atTheEnds(pattern: string, wild: string, single = ''): { op: TextOp; text: string } | undefined {
  const w = `[${wild}]*`;
  const m = new RegExp(`^(${w})([^${wild}${single}]+)(${w})$`).exec(pattern.trim());
  if (!m) return undefined;
  return { op: m[1] && m[3] ? 'contains' : m[1] ? 'endswith' : m[3] ? 'startswith' : 'eq', text: m[2]! };
}

/**
 * An SQL LIKE pattern whose wildcards (% or a glob's *) are only at its ends: the text operator it means and
 * the text ('%energy%' contains 'energy', 'Contoso%' startswith, '%Ltd' endswith, no wildcard eq). Undefined
 * for any other pattern (a wildcard inside, LIKE's single-character _), which no one operator says.
 */
export function likePattern(pattern: string, underscore = true): { op: TextOp; text: string } | undefined {
  // `underscore`: LIKE's single-character _ is a wildcard (false: a glob, where _ is text)
  return atTheEnds(pattern, '*%', underscore ? '_' : '');
}

/**
 * A text function's value holding wildcards (`wild`: a glob's *, and LIKE's % where it is one) read with the
 * wildcard the function itself implies (startswith 'Con*' is 'Con**', startswith '*Con' is '*Con*'): the
 * function that says it, or undefined where a wildcard sits inside the text.
 */
export function textFunctionMeant(
  fn: 'contains' | 'startswith' | 'endswith',
  text: string,
  wild: '*' | '*%',
): { op: 'contains' | 'startswith' | 'endswith'; text: string } | undefined {
  const glob = fn === 'startswith' ? `${text}*` : fn === 'endswith' ? `*${text}` : `*${text}*`;
  const meant = atTheEnds(glob, wild);
  // the glob has a wildcard at one end at least: never eq
  return meant && meant.op !== 'eq' ? { op: meant.op, text: meant.text } : undefined;
}
