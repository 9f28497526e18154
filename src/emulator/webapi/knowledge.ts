import type { EntityDef } from '../schema/types.js';
import { isLookupRef, type Row } from '../store/store.js';
import type { WriteContext } from './writes.js';

// An article used on a case (KnowledgeArticleIncident table reference): its primary name is its article's
// title (knowledgearticleidname), and its two relationships say what a delete does to it: an article deleted
// takes its uses with it (incident_knowledgearticles, Delete: Cascade); a case deleted leaves them without a
// case (knowledgearticle_incidents, Delete: RemoveLink).

/**
 * A new article: what Dynamics fills in where the create leaves it out (GUESS: the reference lists these as
 * SystemRequired yet its editor never asks for them): the first version, 1.0, the latest and its own root, and
 * the next public number in the KA-01001 form articles have.
 */
export function fillNewArticle(ctx: WriteContext, row: Row): void {
  row.majorversionnumber ??= 1;
  row.minorversionnumber ??= 0;
  row.islatestversion = true;
  row.isrootarticle = true;
  if (row.articlepublicnumber == null) {
    let last = 1000;
    for (const a of ctx.env.store.table('knowledgearticle').rows.values()) {
      const n = /^KA-(\d+)$/.exec(String(a.articlepublicnumber))?.[1];
      if (n) last = Math.max(last, Number(n));
    }
    row.articlepublicnumber = `KA-${String(last + 1).padStart(5, '0')}`;
  }
}

/** A use being written: its name is its article's title. */
export function nameArticleUse(ctx: WriteContext, row: Row): void {
  const article = isLookupRef(row.knowledgearticleid)
    ? ctx.env.store.table('knowledgearticle').get(row.knowledgearticleid.id)
    : undefined;
  row.knowledgearticleidname = (article?.title as string | undefined) ?? null;
}

/** An article's title changed: its uses are named by the new one. */
export function renameArticleUses(ctx: WriteContext, entity: EntityDef, id: string, before: Row, after: Row): void {
  if (entity.logicalName !== 'knowledgearticle' || before.title === after.title) return;
  const uses = ctx.env.store.table('knowledgearticleincident');
  for (const [useId, use] of usesOf(ctx, 'knowledgearticleid', id))
    ctx.env.store.replace(uses, useId, { ...use, knowledgearticleidname: after.title ?? null });
}

/** An article or a case deleted: the article's uses go with it; the case's lose their case. */
export function dropArticleUses(ctx: WriteContext, entity: EntityDef, id: string): void {
  const uses = ctx.env.store.table('knowledgearticleincident');
  if (entity.logicalName === 'knowledgearticle')
    for (const [useId] of usesOf(ctx, 'knowledgearticleid', id)) ctx.env.store.delete(uses, useId);
  if (entity.logicalName === 'incident')
    for (const [useId, use] of usesOf(ctx, 'incidentid', id))
      ctx.env.store.replace(uses, useId, { ...use, incidentid: null });
}

function usesOf(ctx: WriteContext, column: string, id: string): [string, Row][] {
  return [...ctx.env.store.table('knowledgearticleincident').rows].filter(
    ([, use]) => isLookupRef(use[column]) && use[column].id === id,
  );
}
