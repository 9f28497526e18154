import { z } from 'zod';
import { type DynamicsClient, EXPANDED_ROWS } from '../../dynamics/client.js';
import type { EntityModel } from '../../policy/model.js';
import type { CompactRow } from './shape.js';

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

/** A related list that was cut, and the query that reads all of it (a type, so it fits the loose schema). */
export type MoreRelated = {
  id: string;
  relation: string;
  shown: number;
  query: { entity: string; where: { column: string; op: 'eq'; value: string } };
};

/**
 * Cuts each expanded list to EXPANDED_ROWS (the client asked Dynamics for one more, to know) and says which
 * were cut and how to read the rest: a list is never shortened without saying so.
 */
export function trimRelated(model: EntityModel, records: CompactRow[]): MoreRelated[] {
  const more: MoreRelated[] = [];
  for (const record of records) {
    for (const [key, value] of Object.entries(record)) {
      if (!Array.isArray(value) || value.length <= EXPANDED_ROWS) continue;
      const nav = model.collectionNavs.get(key.toLowerCase());
      if (!nav || typeof record.id !== 'string') continue;
      record[key] = value.slice(0, EXPANDED_ROWS);
      more.push({
        id: record.id,
        relation: key,
        shown: EXPANDED_ROWS,
        query: {
          entity: nav.referencingEntity,
          where: { column: nav.referencingAttribute, op: 'eq', value: record.id },
        },
      });
    }
  }
  return more;
}

/** The output schema of trimRelated's answer (loose: every byte of tools/list is read before the first call). */
export const moreRelatedSchema = z.array(z.record(z.string(), z.unknown())).optional();

/** One sentence for the text rendering, or nothing. */
export const moreRelatedNote = (more: MoreRelated[]): string =>
  more.length
    ? ` ${more.length} related list${more.length === 1 ? ' was' : 's were'} cut at ${EXPANDED_ROWS} rows: "moreRelated" gives the query_entities arguments that read all of ${more.length === 1 ? 'it' : 'each'}.`
    : '';
