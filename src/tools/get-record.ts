import { z } from 'zod';
import { partiesOf } from '../dynamics/party-lists.js';
import { resolveTable } from '../policy/check.js';
import { defineTool, type ToolContext } from './define.js';
import { listedAs } from './list-cache.js';
import { toolArgs } from './support/args.js';
import { recordIdOf } from './support/record-id.js';
import { moreRelatedNote, moreRelatedSchema, relatedModels, trimRelated } from './support/related.js';
import { entityParam, expandParam, idParam, selectParam } from './support/schemas.js';

const RELATED = "Related records to include, as query_entities' expand.";

import { compactRow, recordUrl } from './support/shape.js';
import { fitResult } from './support/size.js';
import { fenceUntrusted } from './support/untrusted.js';
import { expandItems } from './support/where.js';

export const getRecord = defineTool({
  name: 'get_record',
  title: 'Get one Dynamics record',
  description:
    "Read one record by id (from query_entities or a create tool), with chosen columns and related records. Returns its etag: pass it to update_record to avoid overwriting someone else's change.",
  inputSchema: toolArgs(
    'get_record',
    {
      entity: entityParam,
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
      meant: { recordId: 'id', guid: 'id', table: 'entity', columns: 'select', fields: 'select', include: 'expand' },
      elsewhere:
        'It reads one record by its id; to find records by name or another column, use query_entities with where, e.g. {"column":"name","op":"contains","value":"Contoso"}.',
    },
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
    const id = await recordIdOf(ctx, () => resolveTable(args.entity, ctx.policy, ctx.client.metadata), args.id);
    const { model, row, expand } = await ctx.client.get(args.entity, id, {
      select: args.select,
      expand: expandItems(args.expand) ?? (await partiesUnlessExpanded(ctx, args.entity)),
      signal: ctx.signal,
    });
    const models = await relatedModels(ctx.client, model, expand?.map((e) => e.relation) ?? []);
    const record = compactRow(
      model,
      row,
      (l) => models.get(l),
      (e, c) => ctx.policy.canRead(e, c),
    );
    const moreRelated = trimRelated(model, [record], expand);
    const structured = {
      entity: model.logicalName,
      id,
      record,
      etag: String(row['@odata.etag'] ?? ''),
      url: recordUrl(ctx.config.dynamics.url, model.logicalName, id),
      ...(moreRelated.length ? { moreRelated } : {}),
    };
    const json = fitResult(structured, 1, ctx.policy.maxResultBytes);
    return {
      structured,
      text: fenceUntrusted(`${model.displayName} ${structured.id}:${moreRelatedNote(moreRelated)}`, structured, json),
      json,
    };
  },
});

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
