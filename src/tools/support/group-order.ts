import { badInput } from '../../errors.js';

/** One key of an aggregation's orderBy: a result's name (a measure's alias or a group's label) and its direction. */
export interface GroupSortKey {
  name: string;
  desc: boolean;
}

/**
 * aggregate_records' orderBy (as sort.ts's orderByParam wrote it: "count asc, industrycode") read against the
 * names its groups carry. A measure's column alone ("revenue") is the one measure of it (sum_revenue); no
 * direction is ascending, as in SQL and OData. A name the result does not carry is refused with those it does.
 */
export function groupSortKeys(
  text: string,
  measures: { alias: string; column?: string }[],
  /** each group's name in the result, and for a date by period its column ("createdon_month", "createdon") */
  groups: { label: string; column?: string }[],
) {
  const names = [...measures.map((m) => m.alias), ...groups.map((g) => g.label)];
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part): GroupSortKey => {
      const m = /^(\S+)(?:\s+(asc|desc))?$/i.exec(part);
      // SQL's count(*) and sum(revenue): the measures named count and sum_revenue
      const call = /^(\w+)\(\s*(\*|\w+)\s*\)$/.exec(m?.[1] ?? '');
      const written = (call ? (call[2] === '*' ? call[1]! : `${call[1]}_${call[2]}`) : (m?.[1] ?? part)).toLowerCase();
      const byColumn = measures.filter((x) => x.column?.toLowerCase() === written);
      // and a date grouped by period by its column's name ("createdon desc": the createdon_month groups)
      const byPeriod = groups.find((g) => g.column?.toLowerCase() === written)?.label;
      const name =
        names.find((n) => n.toLowerCase() === written) ??
        (byColumn.length === 1 ? byColumn[0]!.alias : undefined) ??
        byPeriod;
      if (!m || !name)
        throw badInput(
          `orderBy sorts by what each group holds: ${names.join(', ')}; not '${part}'.`,
          `e.g. "orderBy": "${names[0]} asc" (smallest first) or "${names[0]} desc".`,
        );
      return { name, desc: m[2]?.toLowerCase() === 'desc' };
    });
}

/**
 * Groups in the order the keys ask. Values compare as the model reads them: numbers by size, a lookup by its
 * record's name, a choice ("High (1)") by its value as Dynamics orders choices, other text alphabetically.
 * Groups without the value come last either way: "the fewest" is not a group of nothing.
 */
export function sortGroups(
  rows: Record<string, unknown>[],
  keys: GroupSortKey[],
  choices: ReadonlySet<string>,
): Record<string, unknown>[] {
  return [...rows].sort((a, b) => {
    for (const k of keys) {
      const x = sortValue(a[k.name], choices.has(k.name));
      const y = sortValue(b[k.name], choices.has(k.name));
      if (x === undefined || y === undefined) {
        if (x !== y) return x === undefined ? 1 : -1;
        continue;
      }
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      if (c) return k.desc ? -c : c;
    }
    return 0;
  });
}

const CHOICE = /\((-?\d+)\)$/;

function sortValue(v: unknown, choice: boolean): number | string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'object') {
    const name = (v as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  }
  const text = String(v);
  const value = choice ? CHOICE.exec(text)?.[1] : undefined;
  return value !== undefined ? Number(value) : text;
}

/** The order said in the answer: `count` smallest first, then `industrycode` descending. */
export function groupOrderSaid(keys: GroupSortKey[]): string {
  return keys.map((k, i) => `${i ? 'then ' : ''}by ${k.name} ${k.desc ? 'descending' : 'ascending'}`).join(', ');
}
