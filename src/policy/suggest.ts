/**
 * Edit distance counting two neighbouring letters swapped as one edit ("Retial" for Retail, "jobtilte"), the
 * commonest slip of typing, which plain Levenshtein counts as two (optimal string alignment).
 */
function distance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let before: number[] = [];
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        cur[j] = Math.min(cur[j]!, before[j - 2]! + 1);
    }
    before = prev;
    prev = cur;
  }
  return prev[n]!;
}

/**
 * The closest names to `wanted`: by edit distance, with substring matches first. `within`: the share of the longer
 * name's letters that may differ (half for column names; less where a wrong guess misleads, as for labels).
 */
export function closest(wanted: string, candidates: Iterable<string>, max = 5, within = 0.5): string[] {
  const w = wanted.toLowerCase();
  return [...candidates]
    .map((c) => {
      const l = c.toLowerCase();
      const score = l.includes(w) || w.includes(l) ? 0 : distance(w, l) / Math.max(w.length, l.length);
      return { c, score };
    })
    .filter((x) => x.score <= within)
    .sort((a, b) => a.score - b.score || a.c.localeCompare(b.c))
    .slice(0, max)
    .map((x) => x.c);
}

const MONEY_WORDS = /^(amount|value|price|total|worth|deal ?(size|value|amount)|money)$/;

/**
 * The columns a name most likely meant: first those whose display label it is ("Main Phone" is
 * telephone1, "Topic" an opportunity's name: labels are what people and models see in Dynamics), then the
 * closest logical names.
 */
export function closestColumns(
  wanted: string,
  columns: { logicalName: string; label: string; type?: string }[],
  max = 5,
): string[] {
  const w = wanted.trim().toLowerCase();
  const byLabel = columns.filter((c) => c.label.toLowerCase() === w).map((c) => c.logicalName);
  // "amount", "price", "deal size": a sum of money, which no column is called; the table's money columns are
  // (an opportunity's estimatedvalue and actualvalue), not in the base currency (their _base twins)
  const money = MONEY_WORDS.test(w)
    ? columns.filter((c) => c.type === 'Money' && !c.logicalName.endsWith('_base')).map((c) => c.logicalName)
    : [];
  return [
    ...new Set([
      ...byLabel,
      ...money,
      ...closest(
        wanted,
        columns.map((c) => c.logicalName),
        max,
      ),
    ]),
  ].slice(0, max);
}
