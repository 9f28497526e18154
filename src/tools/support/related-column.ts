import { DynamicsMcpError } from '../../errors.js';
import type { EntityModel, ModelSource } from '../../policy/model.js';
import { withArticle as a } from '../../policy/other-side.js';
import type { Policy } from '../../policy/policy.js';

const MOST = 3;

/**
 * A name that is no column of the table but is one of a table it is related to ("telephone1" of a deal, which
 * its account has; "timespent" of a case, which its Case Resolutions have): a model that asked the wrong table
 * is told the way to the right one, through a lookup (a path) or a related list (an expansion, or a query of
 * that table), instead of only being sent to describe_entity. Only relationships the policy follows, to
 * columns it lets be read; a value written is sent to the record a lookup points at, where the column may be
 * written there. Any other error, or a name no related table has, is returned as it came.
 */
export async function withRelatedColumn(
  err: unknown,
  models: ModelSource,
  policy: Policy,
  tool = '',
): Promise<unknown> {
  if (!(err instanceof DynamicsMcpError)) return err;
  const unknown = err.details.unknownColumn;
  if (!unknown || !/^[A-Za-z_]\w*$/.test(unknown.column)) return err;
  const column = unknown.column.toLowerCase();
  let entity: EntityModel;
  try {
    entity = await models.entity(unknown.entity);
  } catch {
    return err;
  }
  if (unknown.write) return writtenElsewhere(err, entity, column, models, policy);
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
      ? `of the records ${a(entity.logicalName)} points at: ${paths.map((w) => through(w, true)).join(', ')}, as a path in ${tool === 'aggregate_records' ? 'groupBy or where' : 'select or where'}`
      : '',
    lists.length
      ? `of ${paths.length ? 'its' : `${a(entity.logicalName)}'s`} related ${lists.length > 1 ? 'lists' : 'list'} ${lists.map((w) => through(w, false)).join(', ')}: expand ${lists.length > 1 ? 'one' : 'it'} with select ["${column}"], or query that table itself`
      : '',
  ].filter(Boolean);
  return new DynamicsMcpError(err.kind, err.message, `'${column}' is a column ${said.join('; and ')}. ${err.hint}`, {
    ...err.details,
    suggestions: [...paths.map((w) => `${w.nav}/${column}`), ...(err.details.suggestions ?? [])],
  });
}

/**
 * A value written to a column the record lacks but a record it points at has (a contact's "industrycode",
 * which is its account's): that record is the one to change, through a lookup the policy lets be written on
 * this table (what the record belongs to, not its history: a contact's originating lead is not offered), where
 * the column may be written there. Related lists are not named: which of many rows would be meant is not said.
 */
async function writtenElsewhere(
  err: DynamicsMcpError,
  entity: EntityModel,
  column: string,
  models: ModelSource,
  policy: Policy,
): Promise<DynamicsMcpError> {
  // the lookups the record's own writers keep (its account, its customer), not history (originatingleadid)
  const navs = [...entity.singleNavs.values()].filter(
    (n) => n.target !== entity.logicalName && policy.canWrite(entity.logicalName, n.attribute),
  );
  const tables = await Promise.all(navs.map((n) => models.entity(n.target).catch(() => undefined)));
  const found = navs.filter((n, i) => tables[i]?.columns.has(column) && policy.canWrite(n.target, column));
  // a lookup that may point at several tables is one lookup: named once, with the tables that have the column
  const lookups = new Map<string, string[]>();
  for (const n of found) lookups.set(n.attribute, [...(lookups.get(n.attribute) ?? []), n.target]);
  if (!lookups.size) return err;
  const said = [...lookups]
    .slice(0, MOST)
    .map(([lookup, targets]) => `${a(targets.join(' or '))}, which its ${lookup} points at`);
  return new DynamicsMcpError(
    err.kind,
    err.message,
    `'${column}' is a column of ${said.join('; or of ')}: write it there, with update_record on that record. ${err.hint}`,
    err.details,
  );
}
