import { policyError } from '../errors.js';
import { columnLabelled, type EntityModel, type ModelSource, type SingleNav } from './model.js';

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
 *
 * With `follows` (the policy's): where it follows the lookup to some of its tables only, the condition is
 * refused rather than answered for those alone (the answer would look complete and not be), and the refusal
 * says how to ask for those alone, so the model chooses the narrower question knowingly. Where it follows
 * none, the policy check refuses each relationship as usual.
 */
export async function pathsAcrossTargets(
  models: ModelSource,
  entity: EntityModel,
  segments: readonly string[],
  /** whether the policy follows the relationship from the table, into a table it offers (target) */
  follows?: (entity: string, navigation: string, target: string) => boolean,
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
    const allowed = follows ? navs.filter((n) => follows(current.logicalName, n.navigationProperty, n.target)) : navs;
    if (allowed.length && allowed.length < navs.length)
      throw await someTargetsOnly(models, current, segments[i]!, navs, allowed, segments[i + 1]!);
    const paths: string[][] = [];
    for (const n of navs) {
      const column = await columnOn(models, n.target, segments[i + 1]!);
      if (column) paths.push([...segments.slice(0, i), n.navigationProperty, column]);
    }
    return paths.length ? paths : undefined;
  }
  return undefined;
}

async function someTargetsOnly(
  models: ModelSource,
  entity: EntityModel,
  attribute: string,
  navs: SingleNav[],
  allowed: SingleNav[],
  column: string,
) {
  const first = allowed[0]!;
  const example = `${first.navigationProperty}/${(await columnOn(models, first.target, column)) ?? column}`;
  const tables = (list: SingleNav[]) => list.map((n) => n.target).join(' and ');
  return policyError(
    `'${attribute}' of ${entity.logicalName} points at ${tables(navs)}, and this server's policy follows it to ${tables(allowed)} only: a condition on it cannot be checked for the rest.`,
    `To match only records whose ${attribute} is ${/^[aeiou]/.test(first.target) ? 'an' : 'a'} ${first.target}, name that relationship: '${example}'.`,
  );
}
