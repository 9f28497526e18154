import type { Row } from '../../dynamics/client.js';
import type { Condition } from '../../dynamics/conditions.js';
import type { ColumnModel } from '../../policy/model.js';

/** Options aggregated at once: a few, so that one call does not take every slot of the shared client. */
const AT_ONCE = 4;

export interface OptionRows {
  /** the option as results read it, "Hiking (2)"; null for the records with none chosen */
  label: string | null;
  rows: Row[];
}

/**
 * The same aggregation once per option of a choices column (several options at once), and once for the records
 * with none: "contacts per outdoor activity" counts a contact who likes hiking and camping under both, which
 * is what the question asks. Grouping by the column's value would make a group of each combination ("Hiking;
 * Camping"), and Dataverse's grouping of a choices column is not documented. Each aggregation is under the
 * call's conditions and ContainValues of its option (the condition builder's eq on a choices column).
 */
export async function aggregatePerOption(
  column: ColumnModel,
  where: Condition | undefined,
  run: (where: Condition) => Promise<Row[]>,
  progress: (done: number, total: number) => Promise<void>,
): Promise<OptionRows[]> {
  const name = column.logicalName;
  const within = (c: Condition): Condition => (where ? { and: [where, c] } : c);
  const asked: { label: string | null; condition: Condition }[] = [
    ...(column.options ?? []).map((o) => ({
      label: `${o.label} (${o.value})`,
      condition: { column: name, op: 'eq' as const, value: o.value },
    })),
    { label: null, condition: { column: name, op: 'null' as const } },
  ];
  const out: OptionRows[] = new Array(asked.length);
  let done = 0;
  for (let i = 0; i < asked.length; i += AT_ONCE)
    await Promise.all(
      asked.slice(i, i + AT_ONCE).map(async (a, k) => {
        out[i + k] = { label: a.label, rows: await run(within(a.condition)) };
        await progress(++done, asked.length);
      }),
    );
  return out;
}
