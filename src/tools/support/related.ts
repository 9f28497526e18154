import { z } from 'zod';
import { type DynamicsClient, EXPANDED_ROWS } from '../../dynamics/client.js';
import type { Condition } from '../../dynamics/conditions.js';
import type { CollectionNav, EntityModel } from '../../policy/model.js';
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
  query: { entity: string; where: Condition; filter?: string; orderBy?: string };
};

/** How an expand item asked for a related list: its conditions, length (default EXPANDED_ROWS) and order. */
type ListAsked = { relation: string; where?: Condition; orderBy?: string; top?: number };

const isGroup = (c: Condition) => 'and' in c || 'or' in c || 'not' in c;

/**
 * Where the rest of a cut list is: the record's related rows, and the item's own conditions when it had any,
 * in one "and" (the item's own "and" joins it: query_entities' where nests three levels). An item whose
 * conditions already take all three (an "or" of groups) keeps its where as it was, and the record's rows are
 * chosen by filter text beside it.
 */
function restOfList(nav: CollectionNav, parent: EntityModel, id: string, asked?: Condition) {
  // a many-to-many list (a team's members): the related rows whose own list back holds the record
  const lookup: Condition = nav.back
    ? { column: `${nav.back}/${parent.primaryIdAttribute}`, op: 'eq', value: id }
    : { column: nav.referencingAttribute, op: 'eq', value: id };
  if (!asked) return { where: lookup };
  if ('and' in asked) return { where: { and: [lookup, ...asked.and] } };
  if (!('or' in asked) || !asked.or.some(isGroup)) return { where: { and: [lookup, asked] } };
  return {
    where: asked,
    filter: nav.back
      ? `${nav.back}/any(x: x/${parent.primaryIdAttribute} eq ${id})`
      : `_${nav.referencingAttribute}_value eq ${id}`,
  };
}

/**
 * Cuts each expanded list to the length asked for (EXPANDED_ROWS unless the expand item said less; the client
 * asked Dynamics for one more, to know) and says which were cut and how to read the rest, in the same order:
 * a list is never shortened without saying so.
 */
export function trimRelated(model: EntityModel, records: CompactRow[], asked: ListAsked[] = []): MoreRelated[] {
  const more: MoreRelated[] = [];
  const byRelation = new Map(asked.map((a) => [a.relation.toLowerCase(), a]));
  for (const record of records) {
    for (const [key, value] of Object.entries(record)) {
      if (!Array.isArray(value)) continue;
      const nav = model.collectionNavs.get(key.toLowerCase());
      const { where, orderBy, top } = byRelation.get(key.toLowerCase()) ?? {};
      const shown = Math.min(top ?? EXPANDED_ROWS, EXPANDED_ROWS);
      if (!nav || typeof record.id !== 'string' || value.length <= shown) continue;
      record[key] = value.slice(0, shown);
      more.push({
        id: record.id,
        relation: key,
        shown,
        query: {
          entity: nav.referencingEntity,
          ...restOfList(nav, model, record.id, where),
          ...(orderBy?.trim() ? { orderBy } : {}),
        },
      });
    }
  }
  return more;
}

/** The output schema of trimRelated's answer (loose: every byte of tools/list is read before the first call). */
export const moreRelatedSchema = z.array(z.record(z.string(), z.unknown())).optional();

/** One sentence for the text rendering, or nothing. */
export function moreRelatedNote(more: MoreRelated[]): string {
  if (!more.length) return '';
  const sizes = [...new Set(more.map((m) => m.shown))];
  const rows = `${sizes.join(' or ')} row${sizes.length === 1 && sizes[0] === 1 ? '' : 's'}`;
  return ` ${more.length} related list${more.length === 1 ? ' was' : 's were'} cut at ${rows}: "moreRelated" gives the query_entities arguments that read all of ${more.length === 1 ? 'it' : 'each'}.`;
}
