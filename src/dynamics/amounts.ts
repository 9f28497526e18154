const SCALE: ReadonlyMap<string, number> = new Map([
  ['k', 1e3],
  ['m', 1e6],
  ['mm', 1e6],
  ['mn', 1e6],
  ['b', 1e9],
  ['bn', 1e9],
  ['thousand', 1e3],
  ['million', 1e6],
  ['billion', 1e9],
]);

/**
 * An amount with its scale in letters at the start of `text` ("5k", "2.5bn", "$1M", "1.5 million", as people
 * write revenue and deal sizes): what was written and the number in full. The digits take a decimal point
 * only, never a comma, so no locale is guessed ("1,5M" is not read); a currency symbol before them is read
 * past, as it says nothing of the number.
 */
export function scaledAmount(text: string): { written: string; full: number } | undefined {
  // $, €, £, ¥ (escaped: the bundle stays ASCII, which dist/index.js reads fastest)
  const m = /^[$\u20ac\u00a3\u00a5]?\s*(\d+(?:\.\d+)?)\s*(thousand|million|billion|k|mm|mn|m|bn|b)\b/i.exec(text);
  if (!m) return undefined;
  return { written: m[0], full: Math.round(Number(m[1]) * SCALE.get(m[2]!.toLowerCase())!) };
}

/** A number with a word after it that names what it counts ("500 employees", "30 days"): the number. */
export function countWithUnit(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s+[a-z]+$/i.exec(text);
  return m && !scaledAmount(text) ? Number(m[1]) : undefined;
}
