import type { EntityModel, ModelSource } from './model.js';

/** What the policy lets be followed: a table it offers, and a relationship of a table it follows. */
export interface Followable {
  offered: (table: string) => boolean;
  follows: (table: string, navigation: string) => boolean;
}

/** A table's name with its article, as a sentence says it: "an account", "a contact". */
export const withArticle = (table: string) => `a${/^[aeiou]/.test(table) ? 'n' : ''} ${table}`;
const a = withArticle;

/**
 * A relationship named from its other table, as a model that has just used it there writes it:
 * "opportunity_customer_accounts" is an account's list of its opportunities, which from an opportunity is
 * its customerid_account; "customerid_account" from an account is how its opportunities and cases point at
 * it, so those lists. Said only where the policy follows the way there is from this table; undefined
 * otherwise. The tables it looks in are read side by side, from the metadata cache where they are in it
 * (on this refusal only).
 */
export async function fromOtherSide(
  models: ModelSource,
  entity: EntityModel,
  nav: string,
  policy: Followable,
): Promise<{ hint: string; navs: string[] } | undefined> {
  const key = nav.toLowerCase();
  // the tables looked in, read side by side (a table's metadata not yet read is a request each)
  const tables = new Map<string, Promise<EntityModel | undefined>>();
  const open = (table: string) => {
    if (!tables.has(table))
      tables.set(
        table,
        models.entity(table).catch(() => undefined),
      );
    return tables.get(table)!;
  };
  const singles = [...entity.singleNavs.values()].filter(
    (n) => policy.offered(n.target) && policy.follows(entity.logicalName, n.navigationProperty),
  );
  const lists = [...entity.collectionNavs.values()].filter(
    (l) =>
      l.referencingAttribute &&
      policy.offered(l.referencingEntity) &&
      policy.follows(entity.logicalName, l.navigationProperty),
  );
  const [targets, sources] = await Promise.all([
    Promise.all(singles.map((n) => open(n.target))),
    Promise.all(lists.map((l) => open(l.referencingEntity))),
  ]);
  for (const [i, n] of singles.entries()) {
    const list = targets[i]?.collectionNavs.get(key);
    if (list?.referencingEntity === entity.logicalName && list.referencingAttribute === n.attribute)
      return {
        hint: `'${list.navigationProperty}' is ${n.target}'s list of its ${entity.logicalName} records; from ${a(entity.logicalName)}, that ${n.target} is '${n.navigationProperty}'.`,
        navs: [n.navigationProperty],
      };
  }
  const back = lists
    .filter((l, i) => {
      const single = sources[i]?.singleNavs.get(key);
      return single?.target === entity.logicalName && single.attribute === l.referencingAttribute;
    })
    .map((l) => ({ table: l.referencingEntity, list: l.navigationProperty }));
  if (!back.length) return undefined;
  const named = back.map((l) => `'${l.list}'${back.length > 1 ? ` (${l.table})` : ''}`).join(', ');
  return {
    hint: `'${nav}' is how ${back.map((l) => a(l.table)).join(' or ')} points at its ${entity.logicalName}; from ${a(entity.logicalName)}, ${back.length === 1 ? 'that list is' : 'the lists are'} ${named}.`,
    navs: back.map((l) => l.list),
  };
}
