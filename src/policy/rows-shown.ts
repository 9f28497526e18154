import type { ModelSource } from './model.js';
import type { Policy } from './policy.js';

/**
 * The rows the policy shows of a table (Policy.rowsOf), its kinds of activity narrowed to the tables that are
 * activities (their key is activityid: an activity party's activityid is a lookup, not its key). Read by the
 * planner for a query of the table itself and by the policy check for a related list of it.
 */
export async function rowsShown(
  policy: Policy,
  models: ModelSource,
  entity: string,
): Promise<{ column: string; op: 'in'; value: string[] } | undefined> {
  const rows = policy.rowsOf(entity);
  if (!rows) return undefined;
  const kinds: string[] = [];
  for (const k of rows.value)
    if ((await models.entity(k).catch(() => undefined))?.primaryIdAttribute === 'activityid') kinds.push(k);
  return { ...rows, value: kinds.length ? kinds : rows.value };
}
