import { columnLabelled, type EntityModel, type ModelSource } from './model.js';

/**
 * A column of `table` by its name or label; "name" is the table's primary name when it has no column of that
 * name (a contact's is fullname), as a person says "the customer's name" of an account or a contact alike.
 */
export async function columnOn(models: ModelSource, table: string, name: string): Promise<string | undefined> {
  const model = await models.entity(table).catch(() => undefined);
  if (!model) return undefined;
  const col = model.columns.get(name.toLowerCase()) ?? columnLabelled(model, name);
  if (col) return col.logicalName;
  return name.toLowerCase() === 'name' && model.primaryNameAttribute ? model.primaryNameAttribute : undefined;
}

/**
 * The paths a lookup path stands for when its last lookup points at several tables, one relationship each
 * (customerid/name → customerid_account/name and customerid_contact/fullname), keeping the relationships the
 * path follows before it. Undefined when the path goes through no such lookup, or through one in the middle
 * (only "<lookup>/<column>" is read this way), or when no table it points at has the column.
 */
export async function pathsAcrossTargets(
  models: ModelSource,
  entity: EntityModel,
  segments: readonly string[],
): Promise<string[][] | undefined> {
  let current = entity;
  for (let i = 0; i < segments.length - 1; i++) {
    const single = current.singleNavs.get(segments[i]!.toLowerCase());
    if (single) {
      current = await models.entity(single.target);
      continue;
    }
    const navs = [...current.singleNavs.values()].filter(
      (n) => n.attribute.toLowerCase() === segments[i]!.toLowerCase(),
    );
    if (navs.length < 2 || i !== segments.length - 2) return undefined;
    const paths: string[][] = [];
    for (const n of navs) {
      const column = await columnOn(models, n.target, segments[i + 1]!);
      if (column) paths.push([...segments.slice(0, i), n.navigationProperty, column]);
    }
    return paths.length ? paths : undefined;
  }
  return undefined;
}
