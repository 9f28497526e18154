import { z } from 'zod';
import { cutFilesNote, fitFileTexts } from '../dynamics/file-columns.js';
import { partiesOf } from '../dynamics/party-lists.js';
import { resolveTable } from '../policy/check.js';
import type { EntityModel } from '../policy/model.js';
import { defineTool, type ToolContext } from './define.js';
import { listedAs } from './list-cache.js';
import { toolArgs } from './support/args.js';
import { masterColumn, mergedOf } from './support/lookup-names.js';
import { expandLookupsAsIds } from './support/lookup-values-as-ids.js';
import { choiceOrderNote } from './support/order-note.js';
import { recordAnywhere, recordIdOf } from './support/record-id.js';
import { noActivitiesNote } from './support/regarding-note.js';
import { moreRelatedNote, moreRelatedSchema, relatedModels, trimRelated } from './support/related.js';
import { ANY_TABLE, entityParam, expandParam, idParam, selectParam, withLookupTable } from './support/schemas.js';
import { compactRow, emptySelectedNote, recordUrl, unreadFilesNote } from './support/shape.js';
import { fitResult } from './support/size.js';
import { fenceUntrusted } from './support/untrusted.js';
import { expandItems } from './support/where.js';

const RELATED = "Related records to include, as query_entities' expand.";

export const getRecord = defineTool({
  name: 'get_record',
  title: 'Get one Dynamics record',
  description:
    'Read one record by id, name, email or phone (without entity, the tables are searched), with chosen columns and related records. Returns its etag, for update_record to refuse overwriting a newer change.',
  inputSchema: withLookupTable(
    toolArgs(
      'get_record',
      {
        entity: entityParam.describe(ANY_TABLE).optional(),
        id: idParam,
        select: selectParam.optional(),
        // listed in a line: query_entities, listed first, shows an item's whole form (zod checks all of it)
        expand: listedAs(expandParam.describe(RELATED), {
          type: 'array',
          maxItems: 5,
          items: { type: 'object' },
          description: RELATED,
        }).optional(),
      },
      {
        renamed: {
          recordId: 'id',
          guid: 'id',
          // a record's whole name, email address or phone number, which id takes
          name: 'id',
          fullname: 'id',
          email: 'id',
          emailaddress1: 'id',
          phone: 'id',
          telephone1: 'id',
          table: 'entity',
          columns: 'select',
          fields: 'select',
          include: 'expand',
        },
        elsewhere:
          'It reads one record by its id or its whole name, given as id; to find records by another column or part of a name, use query_entities with where, e.g. {"column":"name","op":"contains","value":"Contoso"}.',
      },
    ),
  ),
  outputSchema: z.object({
    entity: z.string(),
    id: z.string(),
    record: z.record(z.string(), z.unknown()),
    etag: z.string(),
    url: z.string(),
    moreRelated: moreRelatedSchema,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  writes: false,
  async run(args, ctx) {
    // the relationships as the client read them ("contacts" is contact_customer_accounts)
    // a case by its number ("CAS-01000-EYQG4V"), a record by its name: the one that has it
    // without a table, the one that has the record ("get Nina Castillo"): looked for through the policy
    const { entity, id } = args.entity
      ? {
          entity: args.entity,
          id: await recordIdOf(ctx, () => resolveTable(args.entity!, ctx.policy, ctx.client.metadata), args.id),
        }
      : await recordAnywhere(ctx, args.id);
    // whether the record was merged into another, read with it though not asked for: said in the answer
    const checked = await ctx.client.checker.entity(entity);
    const master = masterColumn(ctx, checked);
    const unasked = args.select && master.length && !args.select.some((c) => c.toLowerCase() === 'masterid');
    const { model, row, expand, expanded } = await ctx.client.get(entity, id, {
      select: unasked ? [...args.select!, ...master] : args.select,
      expand:
        (await expandLookupsAsIds(ctx, entity, expandItems(args.expand))) ?? (await partiesUnlessExpanded(ctx, entity)),
      signal: ctx.signal,
    });
    const models = await relatedModels(ctx.client, model, expand?.map((e) => e.relation) ?? []);
    const record = compactRow(
      model,
      row,
      (l) => models.get(l),
      (e, c) => ctx.policy.canRead(e, c),
    );
    if (unasked) delete record.masterid;
    const moreRelated = trimRelated(model, [record], expand);
    const structured = {
      entity: model.logicalName,
      id,
      record,
      etag: String(row['@odata.etag'] ?? ''),
      url: recordUrl(ctx.config.dynamics.url, model.logicalName, id),
      ...(moreRelated.length ? { moreRelated } : {}),
    };
    const cut = fitFileTexts(model.logicalName, [record], structured, ctx.policy.maxResultBytes, [
      ...model.collectionNavs.values(),
    ]);
    const json = fitResult(structured, 1, ctx.policy.maxResultBytes);
    // a related list sorted by a choice (its cases by prioritycode) is by the values' numbers, as a query is
    const sorted = (expanded ?? [])
      .map((e) => {
        // relatedModels keys the related tables by name; only a list (a collection) has an order
        const related = models.get(model.collectionNavs.get(e.property.toLowerCase())?.referencingEntity ?? '');
        const list = record[e.property];
        return related && Array.isArray(list) ? choiceOrderNote(related, e.orderBy, list.length, e.property) : '';
      })
      .join('');
    return {
      structured,
      text: fenceUntrusted(
        `${model.displayName} ${structured.id}:${emptySelectedNote(model, args.select, [record])}${unreadFilesNote(
          model,
          [record],
          (e, c) => ctx.policy.canRead(e, c),
          (e, n) => ctx.policy.canFollow(e, n),
        )}${cutFilesNote(cut, 1, model.logicalName)}${sorted}${moreRelatedNote(moreRelated)}${noActivitiesNote(model, record, expand?.map((e) => e.relation) ?? [])}${mergedRecordNote(model, row)}`,
        structured,
        json,
      ),
      json,
    };
  },
});

/**
 * A record merged into another (a duplicate): where its related records, and the details in use, are now, so that
 * a record found by an old name is not taken for the one in use.
 */
function mergedRecordNote(model: EntityModel, row: Record<string, unknown>): string {
  const merged = mergedOf(row);
  if (!merged) return '';
  const kept = merged.name ? `"${merged.name}" (${merged.id})` : merged.id;
  return ` This ${model.displayName.toLowerCase()} was merged into ${kept}, which holds its related records now: read that one for what is in use.`;
}

/**
 * Who was on a call, an email or a meeting is most of what it is, and no column of it: where nothing else is
 * asked to be included, an activity comes with its parties (its <table>_activity_parties), as the policy
 * allows.
 */
async function partiesUnlessExpanded(ctx: ToolContext, entity: string): Promise<{ relation: string }[] | undefined> {
  const model = await ctx.client.checker.entity(entity);
  const nav = partiesOf(model);
  return nav && ctx.policy.canFollow(model.logicalName, nav) && ctx.policy.entities().includes('activityparty')
    ? [{ relation: nav }]
    : undefined;
}
