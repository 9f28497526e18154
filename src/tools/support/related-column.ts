import { DynamicsMcpError } from '../../errors.js';
import type { EntityModel, ModelSource } from '../../policy/model.js';
import type { Policy } from '../../policy/policy.js';

const MOST = 3;

/**
 * A name that is no column of the table but is one of a table it is related to ("telephone1" of a deal, which
 * its account has; "timespent" of a case, which its Case Resolutions have): a model that asked the wrong table
 * is told the way to the right one, through a lookup (a path) or a related list (an expansion, or a query of
 * that table), instead of only being sent to describe_entity. Only relationships the policy follows, to
 * columns it lets be read. Any other error, or a name no related table has, is returned as it came.
 */
export async function withRelatedColumn(err: unknown, models: ModelSource, policy: Policy): Promise<unknown> {
  const unknown = err instanceof DynamicsMcpError ? err.details.unknownColumn : undefined;
  if (!unknown || !/^[A-Za-z_]\w*$/.test(unknown.column)) return err;
  const column = unknown.column.toLowerCase();
  let entity: EntityModel;
  try {
    entity = await models.entity(unknown.entity);
  } catch {
    return err;
  }
  const offered = new Set(policy.entities());
  const ways = [
    ...[...entity.singleNavs.values()].map((n) => ({ nav: n.navigationProperty, table: n.target, list: false })),
    ...[...entity.collectionNavs.values()].map((l) => ({
      nav: l.navigationProperty,
      table: l.referencingEntity,
      list: true,
    })),
  ].filter((w) => offered.has(w.table) && policy.canFollow(entity.logicalName, w.nav));
  const tables = await Promise.all(ways.map((w) => models.entity(w.table).catch(() => undefined)));
  const found = ways.filter(
    (w, i) => tables[i]?.columns.has(column) && w.table !== entity.logicalName && policy.canRead(w.table, column),
  );
  if (!found.length) return err;
  const paths = found.filter((w) => !w.list).slice(0, MOST);
  const lists = found.filter((w) => w.list).slice(0, MOST);
  const through = (w: { nav: string; table: string }, path: boolean) =>
    `${path ? `'${w.nav}/${column}'` : w.nav} (${w.table})`;
  const said = [
    paths.length
      ? `of the records ${a(entity.logicalName)} points at: ${paths.map((w) => through(w, true)).join(', ')}, as a path in select or where`
      : '',
    lists.length
      ? `of ${paths.length ? 'its' : `${a(entity.logicalName)}'s`} related ${lists.length > 1 ? 'lists' : 'list'} ${lists.map((w) => through(w, false)).join(', ')}: expand ${lists.length > 1 ? 'one' : 'it'} with select ["${column}"], or query that table itself`
      : '',
  ].filter(Boolean);
  const e = err as DynamicsMcpError;
  return new DynamicsMcpError(e.kind, e.message, `'${column}' is a column ${said.join('; and ')}. ${e.hint}`, {
    ...e.details,
    suggestions: [...paths.map((w) => `${w.nav}/${column}`), ...(e.details.suggestions ?? [])],
  });
}

const a = (table: string) => `a${/^[aeiou]/.test(table) ? 'n' : ''} ${table}`;
