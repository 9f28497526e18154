import { z } from 'zod';
import { cutFilesNote, fitFileTexts } from '../dynamics/file-columns.js';
import { badInput } from '../errors.js';
import { defineTool, type ToolContext } from './define.js';
import { boundUnlisted } from './list-cache.js';
import { toolArgs } from './support/args.js';
import { fetchXmlArgs } from './support/fetch-xml.js';
import { expandLookupsAsIds, lookupValuesAsIds } from './support/lookup-values-as-ids.js';
import { namesNoRecordHas } from './support/names-unmatched.js';
import { choiceOrderNote, moneyOrderNote } from './support/order-note.js';
import { regardingOnlyNote, throughActivitiesNote } from './support/regarding-note.js';
import { moreRelatedNote, moreRelatedSchema, relatedModels, trimRelated } from './support/related.js';
import { entityParam, expandParam, selectParam, type WhereInput, whereParam } from './support/schemas.js';
import { compactRow, emptySelectedNote, unreadFilesNote } from './support/shape.js';
import { fitResult } from './support/size.js';
import { orderByParam } from './support/sort.js';
import { fenceUntrusted } from './support/untrusted.js';
import { expandItems, toCondition } from './support/where.js';

export const queryEntities = defineTool({
  name: 'query_entities',
  title: 'Query Dynamics records',
  description:
    'Find records in a Dynamics 365 table: filter (prefer "where"; "filter" takes OData text), sort, pick columns, include related records. ' +
    'Returns up to "top" rows; when hasMore is true, call again with the same arguments plus "cursor". ' +
    'Choices come back as "Label (value)", lookups as {id, name}.',
  inputSchema: toolArgs(
    'query_entities',
    {
      entity: entityParam,
      select: selectParam.optional(),
      where: whereParam.optional(),
      filter: z
        // an object here beside a where (alone, it is taken as the where): where's forms, grouped with it
        .string({
          error: (i) =>
            i.code === 'invalid_type' && typeof i.input === 'object' && i.input !== null
              ? 'filter takes OData text, not conditions as an object: those go in where, here with the where given, e.g. {"and": [<where given>, <the filter\'s conditions>]}.'
              : undefined,
        })
        .max(8000)
        .optional()
        .describe('OData $filter text, e.g. "contains(name,\'contoso\') and revenue gt 1000000".'),
      orderBy: orderByParam.optional().describe('Sort, e.g. "name asc, createdon desc".'),
      top: z
        // "all", "max": every record is 5000 a call and the cursor, or a count
        .number({
          error: (i) =>
            i.code === 'invalid_type' && typeof i.input === 'string'
              ? `top takes a number of rows, at most 5000, not '${i.input.slice(0, 40)}': for every record, pass 5000 and continue with the cursor while hasMore is true; to count them, count: true or aggregate_records.`
              : undefined,
        })
        .int()
        .min(0, 'top is at least 0 (0: count only, with count).')
        .max(
          5000,
          'top is at most 5000 rows a call (Dynamics pages at 5,000): pass 5000 and continue with the cursor, or count and total with aggregate_records.',
        )
        .default(50)
        .describe('Rows to return.'),
      expand: expandParam.optional(),
      count: z.boolean().optional().describe('Also return totalCount (Dynamics counts up to 5,000).'),
      cursor: boundUnlisted(z.string().max(8000)).optional().describe('From a previous call, for the next rows.'),
    },
    {
      renamed: {
        limit: 'top',
        maxResults: 'top',
        max: 'top',
        take: 'top',
        pageSize: 'top',
        $top: 'top',
        columns: 'select',
        fields: 'select',
        attributes: 'select',
        $select: 'select',
        filters: 'where',
        conditions: 'where',
        condition: 'where',
        $filter: 'filter',
        sort: 'orderBy',
        sortBy: 'orderBy',
        order: 'orderBy',
        $orderby: 'orderBy',
        table: 'entity',
        entityName: 'entity',
        entitySetName: 'entity',
        include: 'expand',
        related: 'expand',
        $expand: 'expand',
        $count: 'count',
        // the cursor an answer gave, passed back under another paging API's name
        nextLink: 'cursor',
        pageToken: 'cursor',
        continuationToken: 'cursor',
      },
      meant: {
        // Dataverse's search API (relevance search) is not offered: a word in a column is a where condition
        search: 'where',
        q: 'where',
        keyword: 'where',
        query: 'where',
        $search: 'where',
        // Dataverse takes no $skip: the next rows come from the cursor, which keeps the query's order
        skip: 'cursor',
        $skip: 'cursor',
        offset: 'cursor',
        page: 'cursor',
      },
      notes: Object.fromEntries([
        ...['skip', '$skip', 'offset', 'page'].map((k) => [
          k,
          'Dataverse takes no skip or offset: the rows after a page come with the cursor that answer gave (hasMore true); call again with the same arguments and that cursor.',
        ]),
        ...['search', 'q', 'keyword', 'query', '$search'].map((k) => [
          k,
          'Relevance search is not offered here: a word in a column is a where condition, e.g. {"where": {"name": {"contains": "<the word>"}}} (fullname for a contact or lead, title for a case, subject for an activity).',
        ]),
      ]),
      // FetchXML, as Dynamics people write a query (Advanced Find, a view's definition), read as these arguments
      before: fetchXmlArgs,
      // "where": "statecode eq 0 and revenue gt 1000000": models write OData text in where too
      textAs: { where: 'filter', filter: 'filter' },
      // and "filter": {"statecode": "Open"} or a list of conditions: where's forms, as where reads them
      objectAs: { filter: 'where' },
    },
  ),
  outputSchema: z.object({
    entity: z.string(),
    records: z.array(z.record(z.string(), z.unknown())),
    hasMore: z.boolean(),
    cursor: z.string().optional(),
    totalCount: z.number().optional(),
    totalCountIsLowerBound: z.boolean().optional(),
    moreRelated: moreRelatedSchema,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  writes: false,
  async run(args, ctx) {
    // top 0, as OData's $top=0&$count=true: how many match, no rows ("how many open cases?")
    if (args.top === 0) return countOnly(args, ctx);
    const top = Math.min(args.top, ctx.policy.maxRows);
    await ctx.progress(0, 1, `querying ${args.entity}`);
    // a lookup compared with an email address: the records that have it
    const where = args.where ? await lookupValuesAsIds(ctx, args.entity, toCondition(args.where)) : undefined;
    const page = await ctx.client.query(
      {
        entity: args.entity,
        select: args.select,
        where,
        filter: args.filter,
        orderBy: args.orderBy,
        top,
        expand: await expandLookupsAsIds(ctx, args.entity, expandItems(args.expand)),
        count: args.count,
      },
      { signal: ctx.signal, cursor: args.cursor },
    );
    const expand = page.spec.expand;
    const models = await relatedModels(ctx.client, page.entity, expand?.map((e) => e.relation) ?? []);
    const records = page.rows.map((r) =>
      compactRow(
        page.entity,
        r,
        (l) => models.get(l),
        (e, c) => ctx.policy.canRead(e, c),
      ),
    );
    // only expanded lists can be cut: a plain query skips the walk over every row
    const moreRelated = expand?.length ? trimRelated(page.entity, records, expand) : [];
    const structured = {
      entity: page.entity.logicalName,
      records,
      hasMore: page.hasMore,
      ...(page.cursor ? { cursor: page.cursor } : {}),
      ...(page.totalCount !== undefined ? { totalCount: page.totalCount } : {}),
      ...(page.totalCountCapped ? { totalCountIsLowerBound: true } : {}),
      ...(moreRelated.length ? { moreRelated } : {}),
    };
    const cut = fitFileTexts(page.entity.logicalName, records, structured, ctx.policy.maxResultBytes, [
      ...page.entity.collectionNavs.values(),
    ]);
    const json = fitResult(structured, records.length, ctx.policy.maxResultBytes);
    // nothing found by a lookup's name that no record has: said, so that "none" is not taken for an answer
    const unnamed =
      !records.length && !args.cursor && args.where ? await namesNoRecordHas(ctx, page.entity.logicalName, where!) : '';
    // and activities asked for by what they are about: only those about that very record
    const regarding = !records.length && !args.cursor && where && !unnamed ? regardingOnlyNote(page.entity, where) : '';
    // and records chosen by their activities: only those regarding them, not their timeline's
    const timeline = !args.cursor && where ? await throughActivitiesNote(ctx, page.entity, where) : '';
    await ctx.progress(1, 1, `${records.length} row${records.length === 1 ? '' : 's'}`);
    // "of N" where the count says more than the rows do: none found is not "0 of 0"
    const total = page.totalCount !== undefined && (records.length || page.totalCount) ? page.totalCount : undefined;
    const summary = `${records.length} ${page.entity.logicalName} record${records.length === 1 ? '' : 's'}${total !== undefined ? ` of ${total}${page.totalCountCapped ? '+' : ''}` : ''}${page.hasMore ? '; more available: pass "cursor" to continue' : ''}.${args.top > page.top && page.hasMore ? ` (At most ${page.top} row${page.top === 1 ? '' : 's'} per call here${page.top < top ? ' when files are read' : ''}, not the ${args.top} asked for.)` : ''}${page.totalCountCapped ? ' Dynamics counts rows only up to 5,000: aggregate_records counts all of them (up to 50,000).' : ''}${emptySelectedNote(page.entity, page.spec.select, records)}${unreadFilesNote(
      page.entity,
      records,
      (e, c) => ctx.policy.canRead(e, c),
      (e, n) => ctx.policy.canFollow(e, n),
    )}${cutFilesNote(cut, records.length, page.entity.logicalName)}${choiceOrderNote(page.entity, page.orderBy, records.length)}${moneyOrderNote(page.entity, page.orderBy, records, (e, c) => ctx.policy.canRead(e, c))}${moreRelatedNote(moreRelated)}${unnamed}${regarding}${timeline}`;
    return { structured, text: fenceUntrusted(summary, structured, json), json };
  },
});

/** How many records match, no rows: one row is read for Dynamics to count (up to 5,000, as $count does). */
async function countOnly(
  args: { entity: string; where?: WhereInput; filter?: string; count?: boolean; cursor?: string },
  ctx: ToolContext,
) {
  if (args.cursor)
    throw badInput(
      '"top": 0 returns no rows, so there is nothing to continue.',
      'Pass the cursor with a top of 1 or more.',
    );
  const where = args.where ? await lookupValuesAsIds(ctx, args.entity, toCondition(args.where)) : undefined;
  const page = await ctx.client.query(
    {
      entity: args.entity,
      where,
      filter: args.filter,
      top: 1,
      count: true,
    },
    { signal: ctx.signal, internal: true },
  );
  const total = page.totalCount ?? page.rows.length;
  const structured = {
    entity: page.entity.logicalName,
    records: [],
    hasMore: total > 0,
    totalCount: total,
    ...(page.totalCountCapped ? { totalCountIsLowerBound: true } : {}),
  };
  const json = JSON.stringify(structured);
  const unnamed = !total && where ? await namesNoRecordHas(ctx, page.entity.logicalName, where) : '';
  const regarding = !total && where && !unnamed ? regardingOnlyNote(page.entity, where) : '';
  const timeline = where ? await throughActivitiesNote(ctx, page.entity, where) : '';
  const summary = `${total}${page.totalCountCapped ? '+' : ''} ${page.entity.logicalName} record${total === 1 ? '' : 's'} match; none returned ("top": 0).${page.totalCountCapped ? ' Dynamics counts rows only up to 5,000: aggregate_records counts all of them (up to 50,000).' : ''}${unnamed}${regarding}${timeline}`;
  return { structured, text: fenceUntrusted(summary, structured, json), json };
}
