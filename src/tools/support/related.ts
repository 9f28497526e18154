import type { DynamicsClient } from '../../dynamics/client.js';
import type { EntityModel } from '../../policy/model.js';

/** Metadata of the tables an expand reaches, so nested rows get the same compact shape as the root. */
export async function relatedModels(
  client: DynamicsClient,
  model: EntityModel,
  relations: string[],
): Promise<Map<string, EntityModel>> {
  const out = new Map<string, EntityModel>();
  for (const r of relations) {
    const target =
      model.singleNavs.get(r.toLowerCase())?.target ?? model.collectionNavs.get(r.toLowerCase())?.referencingEntity;
    if (target && !out.has(target)) out.set(target, await client.metadata.entity(target));
  }
  return out;
}
