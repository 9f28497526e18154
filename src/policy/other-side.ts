import type { EntityModel, ModelSource } from './model.js';

/** What the policy lets be followed: a table it offers, and a relationship of a table it follows. */
export interface Followable {
  offered: (table: string) => boolean;
  follows: (table: string, navigation: string) => boolean;
}

const a = (table: string) => `a${/^[aeiou]/.test(table) ? 'n' : ''} ${table}`;

/**
 * A relationship named from its other table, as a model that has just used it there writes it:
 * "opportunity_customer_accounts" is an account's list of its opportunities, which from an opportunity is
 * its customerid_account; "customerid_account" from an account is how its opportunities and cases point at
 * it, so those lists. Said only where the policy follows the way there is from this table; undefined
 * otherwise. Each table it looks in is read from the metadata cache (once per table, on this refusal only).
 */
export async function fromOtherSide(
  models: ModelSource,
  entity: EntityModel,
  nav: string,
  policy: Followable,
): Promise<{ hint: string; navs: string[] } | undefined> {
  const key = nav.toLowerCase();
  const open = (table: string) => models.entity(table).catch(() => undefined);
  for (const n of entity.singleNavs.values()) {
    if (!policy.offered(n.target) || !policy.follows(entity.logicalName, n.navigationProperty)) continue;
    const list = (await open(n.target))?.collectionNavs.get(key);
    if (list?.referencingEntity === entity.logicalName && list.referencingAttribute === n.attribute)
      return {
        hint: `'${list.navigationProperty}' is ${n.target}'s list of its ${entity.logicalName} records; from ${a(entity.logicalName)}, that ${n.target} is '${n.navigationProperty}'.`,
        navs: [n.navigationProperty],
      };
  }
  const lists: { table: string; list: string }[] = [];
  for (const l of entity.collectionNavs.values()) {
    if (!l.referencingAttribute || !policy.offered(l.referencingEntity)) continue;
    if (!policy.follows(entity.logicalName, l.navigationProperty)) continue;
    const single = (await open(l.referencingEntity))?.singleNavs.get(key);
    if (single?.target === entity.logicalName && single.attribute === l.referencingAttribute)
      lists.push({ table: l.referencingEntity, list: l.navigationProperty });
  }
  if (!lists.length) return undefined;
  const named = lists.map((l) => `'${l.list}'${lists.length > 1 ? ` (${l.table})` : ''}`).join(', ');
  return {
    hint: `'${nav}' is how ${lists.map((l) => a(l.table)).join(' or ')} points at its ${entity.logicalName}; from ${a(entity.logicalName)}, ${lists.length === 1 ? 'that list is' : 'the lists are'} ${named}.`,
    navs: lists.map((l) => l.list),
  };
}
