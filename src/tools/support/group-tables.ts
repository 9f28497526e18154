import type { EntityModel } from '../../policy/model.js';
import type { ToolContext } from '../define.js';

/**
 * Groups of a lookup that can point at several tables (a case's customer, a task's regarding record) name the
 * related record but not its table, which Dynamics leaves out of an aggregation's rows, so the model could not
 * open one with get_record. Each shown group's record is looked for in the lookup's tables (one query per
 * table the policy lets the model read, for the ids shown) and its table added: {id, name, entity}.
 */
export async function withGroupTables(
  ctx: Pick<ToolContext, 'client' | 'policy' | 'signal'>,
  model: EntityModel,
  labels: readonly string[],
  groups: Record<string, unknown>[],
): Promise<void> {
  for (const label of labels) {
    const targets = model.columns.get(label)?.targets ?? [];
    if (targets.length < 2) continue;
    const refs = groups
      .map((g) => g[label])
      .filter((v): v is { id: string; entity?: string } => typeof (v as { id?: unknown } | null)?.id === 'string');
    const ids = [...new Set(refs.filter((r) => !r.entity).map((r) => r.id))];
    if (!ids.length) continue;
    const tableOf = new Map<string, string>();
    await Promise.all(
      targets.map(async (target) => {
        const related = await ctx.client.checker.entity(target).catch(() => undefined);
        if (!related || !ctx.policy.canRead(related.logicalName, related.primaryIdAttribute)) return;
        const page = await ctx.client.query(
          {
            entity: related.logicalName,
            select: [related.primaryIdAttribute],
            where: { column: related.primaryIdAttribute, op: 'in', value: ids },
            top: ids.length,
          },
          { signal: ctx.signal, internal: true },
        );
        for (const row of page.rows) tableOf.set(String(row[related.primaryIdAttribute]), related.logicalName);
      }),
    );
    for (const g of groups) {
      const ref = g[label] as { id?: string; entity?: string } | null;
      const table = ref?.id ? tableOf.get(ref.id) : undefined;
      if (ref && table && !ref.entity) g[label] = { ...ref, entity: table };
    }
  }
}
