import { z } from 'zod';
import type { Row } from '../dynamics/client.js';
import type { Leaf } from '../dynamics/condition-words.js';
import type { Condition } from '../dynamics/conditions.js';
import { type OrgCalendar, WEEKDAYS } from '../dynamics/fiscal.js';
import { utcSpan } from '../dynamics/utc-days.js';
import { badInput } from '../errors.js';
import type { AggregateItem, AggregateMethod, ApplyStep } from '../odata/ast.js';
import type { ReadChecker } from '../policy/check.js';
import { type ColumnModel, type EntityModel, isChoices, NUMERIC_TYPES } from '../policy/model.js';
import { defineTool } from './define.js';
import { listedAs } from './list-cache.js';
import { textOf, toolArgs } from './support/args.js';
import { aggregatePerOption } from './support/by-option.js';
import { aggregatePerPeriod } from './support/by-period.js';
import { fetchXmlAggregateArgs } from './support/fetch-xml.js';
import { groupOrderSaid, groupSortKeys, sortGroups } from './support/group-order.js';
import { withGroupTables } from './support/group-tables.js';
import { lookupValuesAsIds } from './support/lookup-values-as-ids.js';
import {
  groupsAsMeant,
  MEASURE_SHAPE,
  measuresAsMeant,
  OP_NAMES,
  OPS,
  type Op,
  opAsMeant,
  withMeasuresAtTop,
} from './support/measures.js';
import { namesNoRecordHas } from './support/names-unmatched.js';
import { type PeriodUnit, periodGroup, periodOf, periodSaid } from './support/periods.js';
import { throughActivitiesNote } from './support/regarding-note.js';
import { issueText } from './support/result.js';
import {
  EMPTY,
  entityParam,
  namesList,
  objectErrors,
  onlyLists,
  WHERE_SHAPE,
  whereParam,
  wrongType,
} from './support/schemas.js';
import { compactRow } from './support/shape.js';
import { fitResult } from './support/size.js';
import { orderByParam } from './support/sort.js';
import { fenceUntrusted } from './support/untrusted.js';
import { toCondition } from './support/where.js';

/** The alias of the count a time series of sums asks beside them (not shown): see aggregate_records' run. */
const RECORDS = 'dmcp_records';
const METHOD: Record<Exclude<Op, 'count'>, AggregateMethod> = {
  sum: 'sum',
  avg: 'average',
  min: 'min',
  max: 'max',
  countDistinct: 'countdistinct',
};
/**
 * Refused before anything is sent, our choice: every description or note is its own group, which answers nothing.
 * (Dates are grouped by period, one aggregation each: Dataverse's groupby does not take datetime values, AGG.)
 */
const FORMATTED = 'OData.Community.Display.V1.FormattedValue';

const UNGROUPABLE: ReadonlyMap<string, string> = new Map([
  ['Memo', 'Long text makes a group of almost every record: group by a choice, lookup or short text column.'],
]);

export const aggregateRecords = defineTool({
  name: 'aggregate_records',
  title: 'Count and total Dynamics records',
  description:
    "Count, sum, average, min or max of a table's records, optionally per group (e.g. open cases per priority, revenue per industry), computed in Dynamics: " +
    'use it instead of reading rows to count or total them. Up to 50,000 records.',
  inputSchema: withMeasuresAtTop(
    toolArgs(
      'aggregate_records',
      {
        entity: entityParam,
        // checked with query_entities' own schema in run(): its 2 KB JSON Schema is not repeated in tools/list;
        // listed as an object (some clients want a type on every property), a list read as all of them, and
        // text as OData filter text ("statecode eq 0"), which models write here too (parsed and checked as
        // query_entities' filter is)
        where: listedAs(
          z.preprocess(
            // OData texts in a list are all of them, as query_entities reads them; other lists, their "and"
            (v) => textOf(v) ?? (Array.isArray(v) ? { and: v } : v),
            z.union([z.string().trim().min(1, EMPTY).max(8000), z.looseObject({})], {
              error: (issue) =>
                issue.code === 'invalid_union' ? `${WHERE_SHAPE} OData filter text works too.` : undefined,
            }),
          ),
          { type: 'object', properties: {} },
        )
          .optional()
          .describe("Conditions, as query_entities' where."),
        groupBy: z
          .preprocess(groupsAsMeant, namesList(5, 'groupBy is a list of column names, e.g. ["industrycode"].'))
          .optional()
          .describe(
            'Columns to group by: choices, lookups, text, numbers; a date by period ("createdon by month"). None: one total.',
          ),
        measures: z
          .preprocess(
            measuresAsMeant,
            z
              .array(
                z.strictObject(
                  {
                    op: z.preprocess(
                      opAsMeant,
                      z.enum(OPS, {
                        error: (issue) =>
                          issue.code === 'invalid_value'
                            ? `a measure's op is one of ${OPS.join(', ')}${typeof issue.input === 'string' ? `, not '${issue.input}'` : ''}.`
                            : undefined,
                      }),
                    ),
                    column: z.string().trim().min(1, EMPTY).max(100).optional(),
                  },
                  objectErrors(
                    MEASURE_SHAPE,
                    (keys) => `a measure takes op and column, not ${keys}; results are named op_column (sum_revenue).`,
                  ),
                ),
                wrongType(`measures is a list: ${MEASURE_SHAPE}`),
              )
              .max(10, onlyLists)
              .default([{ op: 'count' }]),
          )
          .describe(
            'Per group (default: count). All but count take a number (min/max: or a date); countDistinct any column.',
          ),
        top: z
          .number()
          .int()
          .min(1, 'top is at least 1.')
          .max(500, 'top is at most 500 groups; narrow them with where, or group by a coarser column.')
          .default(50)
          .describe('Groups to return.'),
        orderBy: orderByParam.optional().describe('e.g. "count asc"; default: largest first.'),
      },
      {
        renamed: {
          filter: 'where',
          conditions: 'where',
          group: 'groupBy',
          aggregates: 'measures',
          metrics: 'measures',
          aggregate: 'measures',
          limit: 'top',
          table: 'entity',
          sort: 'orderBy',
          sortBy: 'orderBy',
          order: 'orderBy',
          $orderby: 'orderBy',
        },
        meant: {
          // a measure given as an argument of its own that withMeasuresAtTop could not read
          ...Object.fromEntries([...OP_NAMES.keys()].map((name) => [name, 'measures' as const])),
        },
        // SQL's HAVING (groups over or under a bound): every group comes back in order, so the bound is read off
        notes: Object.fromEntries(
          ['having', 'havingFilter', 'groupFilter'].map((k) => [
            k,
            'Groups are not filtered on their measures: they come largest first (or in orderBy\'s order, e.g. "count asc"), so those past a bound are the first ones; pass a top large enough to reach it (up to 500), and totalGroups says how many there are.',
          ]),
        ),
        // an aggregate FetchXML, as Dynamics people write one, read as these arguments
        before: fetchXmlAggregateArgs,
      },
    ),
  ),
  outputSchema: z.object({
    entity: z.string(),
    groups: z.array(z.record(z.string(), z.unknown())),
    totalGroups: z.number(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  writes: false,
  async run(args, ctx) {
    const filter = typeof args.where === 'string' ? args.where : undefined;
    const where = args.where === undefined || filter ? undefined : whereParam.safeParse(args.where);
    if (where && !where.success)
      throw badInput(
        where.error.issues.map((i) => issueText(i.message, ['where', ...i.path].join('.'))).join(' '),
        'Pass conditions as in query_entities: {"column":"statecode","op":"eq","value":"Active"}, or {"and":[...]}.',
      );
    const checker = ctx.client.checker;
    const model = await checker.entity(args.entity);
    const groups = await Promise.all((args.groupBy ?? []).map((name) => groupColumn(checker, model, name)));
    const twice = groups.find((g, i) => groups.findIndex((o) => o.label === g.label) !== i);
    if (twice) throw badInput(`groupBy lists '${twice.label}' twice.`, 'List each column once.');
    const asked = args.measures.length ? args.measures : [{ op: 'count' as const }];
    const items = asked.map((m, i) => measure(checker, model, m, i));
    const aliases = items.map((i) => i.alias);
    if (new Set(aliases).size !== aliases.length)
      throw badInput('The same measure is asked for twice.', 'List each op and column once.');
    // read before anything is sent: a name the groups will not carry is refused first
    const sortKeys = args.orderBy
      ? groupSortKeys(
          args.orderBy,
          items.map((i, n) => ({ alias: i.alias, column: asked[n]!.column })),
          groups.map((g) => ({ label: g.label, column: g.period?.column.logicalName })),
        )
      : undefined;
    const dated = groups.filter((g) => g.period);
    if (dated.length > 1)
      throw badInput(
        `groupBy names ${dated.length} date periods (${dated.map((g) => g.label).join(', ')}).`,
        'Group by one date period per call.',
      );
    const plain = groups.filter((g) => !g.period);
    // a choices column is grouped by each of its options (by-option.ts): one such column, without a period
    const optioned = plain.filter((g) => g.choices);
    if (optioned.length && (optioned.length > 1 || dated.length))
      throw badInput(
        `groupBy names ${optioned[0]!.label}, a choices column (several options at once), with ${optioned.length > 1 ? `another (${optioned[1]!.label})` : `a date period (${dated[0]!.label})`}.`,
        'A choices column is grouped by each of its options, one aggregation per option: group by it beside choices, lookups or text, without a second choices column or a date period.',
      );
    const byOption = optioned[0];
    // a lookup compared with an email address: the records that have it
    const conditions = where?.data
      ? await lookupValuesAsIds(ctx, model.logicalName, toCondition(where.data))
      : undefined;
    // a new step each time: the client puts the conditions in front of the steps it is given
    const steps = (list = items, by = plain): ApplyStep[] => [
      by.length
        ? { kind: 'groupby', paths: by.map((g) => g.related?.path ?? [g.name]), aggregate: list, pos: 0 }
        : { kind: 'aggregate', items: list, pos: 0 },
    ];
    const first = aliases[0]!;
    const readable = (e: string, c: string) => ctx.policy.canRead(e, c);
    // a date measured (the latest modifiedon) orders by its time: the latest first
    const size = (v: unknown) => (typeof v === 'string' ? Date.parse(v) || 0 : Number(v ?? 0));
    const largestFirst = (a: Record<string, unknown>, b: Record<string, unknown>) => size(b[first]) - size(a[first]);
    let shaped: Record<string, unknown>[];
    let order: string;
    // the order asked for, said in place of the one the groups otherwise come in
    const said = sortKeys && groupOrderSaid(sortKeys);
    const period = dated[0]?.period;
    if (period) {
      // each period's records counted, asked or not, where a sum is asked (one more measure in the same
      // request): Dynamics' sum over none is empty, as over records that all lack the value, and only the
      // count tells a month without wins (0) from wins without amounts (empty)
      const counter = items.find((i) => i.method === 'count');
      const counted =
        !plain.length && !counter && items.some((i) => i.method === 'sum')
          ? [...items, { path: null, method: 'count' as const, alias: RECORDS, pos: items.length }]
          : items;
      const countedAs = counter?.alias ?? RECORDS;
      const calendar = await ctx.client.calendar.get();
      const per = await aggregatePerPeriod(ctx.client, model.logicalName, period.column, period.unit, {
        where: conditions,
        filter,
        fiscal: calendar,
        span: askedSpan(conditions, period.column.logicalName, calendar, !!filter),
        signal: ctx.signal,
        run: (w) => ctx.client.aggregate(model.logicalName, steps(counted), { signal: ctx.signal, where: w, filter }),
        progress: (done, total) => ctx.progress(done, total, `${done} of ${total} ${period.unit}s`),
      });
      const key = dated[0]!.label;
      const spans = per.map(({ period: p, rows, edge }) => {
        // one total per period: a period without records has none from Dynamics, and is still a period
        const got = rows.length || plain.length ? rows : [{}];
        const out = got.map((r) => ({ [key]: p.label, ...shape(model, r, plain, aliases, readable) }));
        // a period without records counts none and adds up to nothing: 0, as a chart of revenue per month
        // shows a month without wins (an average, a least or a greatest of nothing stays empty); a period
        // whose records all lack the value keeps Dynamics' empty sum
        const none = !plain.length && !Number(rows[0]?.[countedAs] ?? 0);
        if (!plain.length)
          for (const o of out)
            for (const i of items) if (i.method.startsWith('count') || (none && i.method === 'sum')) o[i.alias] ??= 0;
        const empty = out.every((o) => aliases.every((a) => !o[a]));
        return { period: p, rows: edge && empty ? [] : out.sort(largestFirst) };
      });
      const kept = spans.filter((p) => p.rows.length);
      shaped = kept.flatMap((p) => p.rows);
      const unit = `${kept.length} ${period.unit}${kept.length === 1 ? '' : 's'}`;
      const range =
        kept.length > 1 ? `${kept[0]!.period.label} to ${kept.at(-1)!.period.label}` : kept[0]?.period.label;
      const weeks = period.unit === 'week' ? ` (weeks start on ${WEEKDAYS[calendar.weekStart ?? 0]})` : '';
      // "last 30 days" by week: the first week is labelled by its Sunday but holds the days from 30 days ago
      // only, and a trend read off it looks like a fall; said where the conditions limit the grouped column
      const partial =
        kept.length &&
        (cuts(conditions, period.column.logicalName, period.unit, calendar) ||
          mentions(filter, period.column.logicalName))
          ? `; where limits ${period.column.logicalName}, so the first and last ${period.unit}s may hold only some of their days`
          : '';
      // the period that holds today has not ended: its count so far beside whole periods reads as a fall
      const today = new Date().toISOString().slice(0, 10);
      const now = kept.find((p) => p.period.from <= today && today <= p.period.to)?.period;
      const running = !now
        ? ''
        : period.unit === 'day'
          ? `; ${now.label} is today, not over yet`
          : `; the ${period.unit} ${now.label} is under way (today is ${today} UTC)`;
      order = !kept.length
        ? 'no records match'
        : plain.length
          ? `over ${unit}${weeks} (${range}), ${said ?? `earliest first, largest ${first} first within each ${period.unit}`}${partial}${running}`
          : `${unit}${weeks}: ${range}, ${said ?? 'earliest first'}${partial}${running}`;
    } else if (byOption) {
      const rest = plain.filter((g) => g !== byOption);
      // each option's records counted, asked or not: an option no record has is left out, as a group is
      const counted = [...items, { path: null, method: 'count' as const, alias: RECORDS, pos: items.length }];
      const per = await aggregatePerOption(
        byOption.choices!,
        conditions,
        (w) => ctx.client.aggregate(model.logicalName, steps(counted, rest), { signal: ctx.signal, where: w, filter }),
        (done, total) => ctx.progress(done, total, `${done} of ${total} options`),
      );
      shaped = per
        .flatMap(({ label, rows }) =>
          rows
            .filter((r) => Number(r[RECORDS] ?? 0) > 0)
            .map((r) => ({ [byOption.label]: label, ...shape(model, r, rest, aliases, readable) })),
        )
        .sort(largestFirst);
      order = `${said ?? `largest ${first} first`}; a record with several ${byOption.label} options is counted under each`;
    } else {
      await ctx.progress(0, 1, `aggregating ${model.logicalName}`);
      const rows = await ctx.client.aggregate(model.logicalName, steps(), {
        signal: ctx.signal,
        where: conditions,
        filter,
      });
      // largest first: "which industry has the most revenue" is the question groups answer most often. Sorted
      // here: Dataverse refuses $orderby on aggregated values ("Aggregate data using OData", Microsoft Learn)
      shaped = rows.map((r) => shape(model, r, groups, aliases, readable)).sort(largestFirst);
      order = said ?? `largest ${first} first`;
      await ctx.progress(1, 1, `${shaped.length} groups`);
    }
    // an order asked for: the groups in it, the first ones kept; otherwise a time series cut short keeps its
    // latest periods, the ones a question about trends is most about
    if (sortKeys) {
      // a choice's group reads "High (1)": ordered by its value, as Dynamics orders choices
      const optioned = groups.filter(
        (g) => !g.period && (g.related?.column ?? model.columns.get(g.label))?.options?.length,
      );
      shaped = sortGroups(shaped, sortKeys, new Set(optioned.map((g) => g.label)));
    }
    const shown = period && !sortKeys ? shaped.slice(Math.max(0, shaped.length - args.top)) : shaped.slice(0, args.top);
    await withGroupTables(
      ctx,
      model,
      groups.map((g) => g.label),
      shown,
    );
    const structured = { entity: model.logicalName, groups: shown, totalGroups: shaped.length };
    const by = groups.length ? ` by ${groups.map((g) => g.label).join(', ')}` : '';
    const cut =
      shown.length < shaped.length
        ? ` Showing the ${sortKeys ? `first ${shown.length}` : `${shown.length} ${period ? 'latest' : 'largest'}`} of ${shaped.length} groups; pass a larger top for more.`
        : '';
    const money = moneyNote(model, items, readable);
    // nothing counted by a lookup's name that no record has: said, so that "none" is not taken for an answer
    const none = shaped.every((r) => aliases.every((a) => r[a] === 0 || r[a] === null || r[a] === undefined));
    const unnamed = none && conditions ? await namesNoRecordHas(ctx, model.logicalName, conditions) : '';
    // records counted by their activities: only those regarding them, not their timeline's
    const timeline = conditions ? await throughActivitiesNote(ctx, model, conditions) : '';
    const groupCount = `${shaped.length} group${shaped.length === 1 ? '' : 's'}`;
    const summary = period
      ? `${model.logicalName}${by}: ${plain.length && shaped.length ? `${groupCount} ` : ''}${order}.${cut}${money}${unnamed}${timeline}`
      : groups.length
        ? // no record matched: no groups, and no order to say
          `${model.logicalName}${by}: ${shaped.length ? `${groupCount}, ${order}` : 'no records matched, so no groups'}.${cut}${money}${unnamed}${timeline}`
        : `${model.logicalName}: ${aliases.join(', ')} over all matching records.${money}${unnamed}${timeline}`;
    const json = fitResult(structured, shown.length, ctx.policy.maxResultBytes);
    return { structured, text: fenceUntrusted(summary, structured, json), json };
  },
});

/** the policy's check of one column (readable, exists; a lookup's Web API name is `_x_value`) */
type Checker = Pick<ReadChecker, 'column'>;
interface Group {
  /** the Web API's name: `_x_value` for a lookup */
  name: string;
  /** the name the model gave and sees in the result (createdon_month for a date by period) */
  label: string;
  /** a date column grouped by period: one aggregation per period (by-period.ts) */
  period?: { column: ColumnModel; unit: PeriodUnit };
  /** a choices column, grouped by each of its options: one aggregation per option (by-option.ts) */
  choices?: ColumnModel;
  /**
   * a column of the record a lookup points at ("incidentid/prioritycode"): grouped through the lookup, as
   * Dataverse's $apply groups by a related column, answering it as <related table>_<column>
   */
  related?: { path: [string, string]; column: ColumnModel; key: string };
}

async function groupColumn(
  checker: Checker & Pick<ReadChecker, 'entity'>,
  model: EntityModel,
  text: string,
): Promise<Group> {
  const related = await relatedGroup(checker, model, text);
  if (related) return related;
  return ownGroup(checker, model, text);
}

/**
 * A group by a column of the record a lookup points at ("the cases' priorities" of Case Resolutions, "the
 * accounts' industries" of contacts): Dataverse's $apply takes `groupby((nav/column))` and answers the value as
 * `<related table>_<column>` ("Aggregate data using OData"). The lookup must point at one table (a customer's
 * is written through its own relationship, customerid_account/industrycode) and the policy must follow it and
 * let the column be read (the read checker checks the path again before anything is sent). A date (grouped by
 * period only on the table's own columns), several options or long text are refused as on the table itself.
 */
async function relatedGroup(
  checker: Checker & Pick<ReadChecker, 'entity'>,
  model: EntityModel,
  text: string,
): Promise<Group | undefined> {
  const [head, rest, ...more] = text.split('/').map((p) => p.trim());
  if (!head || !rest || more.length || rest.toLowerCase() === 'name' || periodGroup(text) || periodSaid(text))
    return undefined;
  const key = head.toLowerCase();
  const navs = [...model.singleNavs.values()].filter(
    (n) => n.navigationProperty.toLowerCase() === key || n.attribute === key,
  );
  if (!navs.length) return undefined;
  let nav = navs[0]!;
  if (navs.length > 1) {
    // a lookup of several tables (a deal's customer, a record's owner): the related record's name is the
    // lookup's own group; a column one of its tables has is that table's ("customerid/industrycode": the
    // accounts', contacts having none); one several have, the path names which
    const targets = await Promise.all(navs.map((n) => checker.entity(n.target).catch(() => undefined)));
    if (targets.some((t) => t?.primaryNameAttribute === rest.toLowerCase()))
      return ownGroup(checker, model, nav.attribute);
    const having = navs.filter((_, i) => targets[i]?.columns.has(rest.toLowerCase()));
    if (having.length !== 1)
      throw badInput(
        `'${text}': ${nav.attribute} may point at ${navs.map((n) => n.target).join(' or ')}, so the path names which.`,
        `Write ${(having.length ? having : navs).map((n) => `'${n.navigationProperty}/${rest}'`).join(' or ')}.`,
      );
    nav = having[0]!;
  }
  const target = await checker.entity(nav.target);
  const column = checker.column(target, rest).column;
  // the related record's name ("primarycontactid/fullname"): the lookup's own group, which carries it, and
  // does not merge two records of one name
  if (column.logicalName === target.primaryNameAttribute) return ownGroup(checker, model, nav.attribute);
  const path = `${nav.navigationProperty}/${column.logicalName}`;
  if (column.type === 'DateTime')
    throw badInput(
      `${path} is a date of ${target.logicalName}: Dynamics groups dates by period, and here only ${model.logicalName}'s own.`,
      `Group by a date of ${model.logicalName} by period, or by the ${target.logicalName} itself ('${nav.attribute}').`,
    );
  if (isChoices(column) || column.type === 'Lookup' || column.type === 'Customer' || column.type === 'Owner')
    throw badInput(
      `${path} cannot be grouped by through ${nav.attribute}.`,
      `Group ${target.logicalName} itself by ${column.logicalName}, or ${model.logicalName} by '${nav.attribute}'.`,
    );
  const why = UNGROUPABLE.get(column.type);
  if (why) throw badInput(`${path} cannot be grouped by.`, why);
  return {
    name: path,
    label: path,
    related: {
      path: [nav.navigationProperty, column.logicalName],
      column,
      key: `${target.logicalName}_${column.logicalName}`,
    },
  };
}

function ownGroup(checker: Checker, model: EntityModel, text: string): Group {
  const asked = periodGroup(text) ?? periodAnswered(checker, model, text);
  const said = asked ? undefined : periodSaid(text);
  // "createdon by fortnight": a date column with a word that is not a period, said as such
  const dated = said && readableColumn(checker, model, said.column);
  if (said && dated?.type === 'DateTime')
    throw badInput(
      `'${said.word}' is not a period to group ${model.logicalName}.${dated.logicalName} by.`,
      `Use day, week, month, quarter or year, e.g. "${dated.logicalName} by month".`,
    );
  let name = asked?.column ?? text;
  // "parentaccountid/name": the related record's name is the lookup's own group, which carries it
  const [head, rest, ...more] = name.split('/').map((p) => p.trim());
  const via = rest?.toLowerCase() === 'name' && !more.length ? lookupNamed(model, head!) : undefined;
  if (via) name = via;
  if (name.includes('/'))
    throw badInput(
      `groupBy takes columns of ${model.logicalName}, not the path '${name}'.`,
      `Group by the lookup itself ('${name.split('/')[0]}'): each group carries the related record's name.`,
    );
  const { name: apiName, column } = checker.column(model, name);
  if (column.type === 'DateTime') {
    if (!asked)
      throw badInput(
        `${model.logicalName}.${column.logicalName} is a date: Dynamics groups dates by period, not by value.`,
        `Name the period: "${column.logicalName} by month" (or day, week, quarter, year).`,
      );
    return { name: apiName, label: `${column.logicalName}_${asked.unit}`, period: { column, unit: asked.unit } };
  }
  if (asked)
    throw badInput(
      `"${text}" groups by ${asked.unit}, but ${model.logicalName}.${column.logicalName} is not a date (${column.type}).`,
      'Group a date column by period (describe_entity lists the columns), or name this column alone.',
    );
  const why = UNGROUPABLE.get(column.type);
  if (why) throw badInput(`${model.logicalName}.${column.logicalName} cannot be grouped by.`, why);
  return { name: apiName, label: column.logicalName, ...(isChoices(column) ? { choices: column } : {}) };
}

/**
 * The name an answer gives a date's period (createdon_month), said back as groupBy: that date by that period,
 * where the name is no column of its own.
 */
function periodAnswered(checker: Checker, model: EntityModel, text: string) {
  const named = /^\s*(\w+)_(day|week|month|quarter|year)\s*$/i.exec(text);
  if (!named || readableColumn(checker, model, text)) return undefined;
  const column = readableColumn(checker, model, named[1]!);
  return column?.type === 'DateTime' ? { column: named[1]!, unit: named[2]!.toLowerCase() as PeriodUnit } : undefined;
}

/** The lookup column a name means: the column itself or one of its relationships (customerid_account). */
function lookupNamed(model: EntityModel, name: string): string | undefined {
  const nav = [...model.singleNavs.values()].find(
    (n) => n.attribute === name.toLowerCase() || n.navigationProperty.toLowerCase() === name.toLowerCase(),
  );
  return nav?.attribute;
}

/** The column a name or label means, when the policy lets it be read; otherwise undefined. */
function readableColumn(checker: Checker, model: EntityModel, name: string): ColumnModel | undefined {
  try {
    return checker.column(model, name).column;
  } catch {
    return undefined;
  }
}

function measure(checker: Checker, model: EntityModel, m: { op: Op; column?: string }, i: number): AggregateItem {
  if (m.op === 'count') {
    // SQL's COUNT(*), and a count of the table's key (never empty), are the records counted
    const column = m.column?.trim().toLowerCase();
    if (column && column !== '*' && column !== model.primaryIdAttribute)
      throw badInput(
        `count counts records and takes no column ("${m.column}" given).`,
        `For the records with a ${m.column} (SQL's COUNT(${m.column})): count with "where": {"${m.column}": {"notNull": true}}; for its distinct values: countDistinct.`,
      );
    return { path: null, method: 'count', alias: 'count', pos: i };
  }
  if (!m.column)
    throw badInput(`${m.op} needs a column (measures[${i}]).`, `e.g. {"op":"${m.op}","column":"revenue"}.`);
  const { name, column } = checker.column(model, m.column);
  // the earliest and latest of a date are Dataverse's min and max too ("aggregate(modifiedon with max as …)"):
  // when each owner last changed a record, the oldest case still open
  const dated = column.type === 'DateTime' && (m.op === 'min' || m.op === 'max');
  if (m.op !== 'countDistinct' && !NUMERIC_TYPES.has(column.type) && !dated)
    throw badInput(
      `${m.op} needs a numeric column; ${model.logicalName}.${column.logicalName} is ${column.type}.`,
      column.type === 'DateTime'
        ? 'Use min or max for the earliest or latest date, count or countDistinct for other measures.'
        : 'Use count or countDistinct for other columns.',
    );
  return { path: [name], method: METHOD[m.op], alias: `${m.op}_${column.logicalName}`, pos: i };
}

/** A group's row: its values shaped as query_entities shapes them (choices "Label (value)", lookups {id, name}). */
function shape(
  model: EntityModel,
  row: Row,
  groups: Group[],
  aliases: string[],
  readable: (entity: string, column: string) => boolean,
): Record<string, unknown> {
  const keys: Row = {};
  for (const [k, v] of Object.entries(row)) if (!aliases.includes(k.split('@')[0]!)) keys[k] = v;
  const values = compactRow(model, keys, undefined, readable);
  const out: Record<string, unknown> = {};
  // Dataverse leaves a group's empty value out of the row: say it, or the group reads as a total
  for (const g of groups) out[g.label] = g.related ? relatedValue(row, g.related) : (values[g.label] ?? null);
  for (const a of aliases)
    out[a] = typeof row[a] === 'number' ? Math.round((row[a] as number) * 100) / 100 : (row[a] ?? null);
  return out;
}

/** A related column's group value, shaped as the table's own are: a choice as "Label (value)". */
function relatedValue(row: Row, related: NonNullable<Group['related']>): unknown {
  const v = row[related.key];
  if (v === undefined || v === null) return null;
  const label = row[`${related.key}@${FORMATTED}`];
  return related.column.options?.length && typeof label === 'string' ? `${label} (${v})` : v;
}

/**
 * A sum, average, min or max of money mixes the records' currencies; the _base column is in the organisation's
 * one. Where the policy keeps the _base column from the model, the mix is still said: an account's revenue in
 * euros and in dollars added up is no total a user should be shown as one.
 */
function moneyNote(model: EntityModel, items: AggregateItem[], readable: (e: string, c: string) => boolean): string {
  const mixed = [
    ...new Set(
      items
        .filter((i) => i.path && i.method !== 'countdistinct')
        .map((i) => model.columns.get(i.path![0]!))
        .filter((c): c is ColumnModel => c?.type === 'Money' && !c.logicalName.endsWith('_base'))
        .filter((c) => model.columns.has(`${c.logicalName}_base`)),
    ),
  ];
  if (!mixed.length) return '';
  const names = (cs: ColumnModel[], suffix = '') => cs.map((c) => `${c.logicalName}${suffix}`).join(', ');
  const base = mixed.filter((c) => readable(model.logicalName, `${c.logicalName}_base`));
  const hidden = mixed.filter((c) => !base.includes(c));
  return `${base.length ? ` ${names(base)}: each record's own currency, taken as plain numbers; ${names(base, '_base')} is in the base currency.` : ''}${hidden.length ? ` ${names(hidden)}: each record's own currency, taken as plain numbers (so different currencies are added as if one); this server's policy does not let the model read ${names(hidden, '_base')}, the amount in the base currency.` : ''}`;
}

const DAY = 86_400_000;

/** Whether a condition limits `column` anywhere in its tree. */
function limits(c: Condition, column: string): boolean {
  if ('and' in c) return c.and.some((x) => limits(x, column));
  if ('or' in c) return c.or.some((x) => limits(x, column));
  if ('not' in c) return limits(c.not, column);
  return typeof c.column === 'string' && c.column.trim().toLowerCase() === column;
}

/**
 * The span of days the conditions hold `column` to, [from, to) in UTC milliseconds, either end open: only
 * conditions that all hold (and) and each say a span of days are read. `false` where the conditions limit
 * the column otherwise (or, not, a range of words); undefined where they do not limit it.
 */
function columnSpan(
  c: Condition | undefined,
  column: string,
  calendar: OrgCalendar,
): { from?: number; to?: number } | false | undefined {
  if (!c || !limits(c, column)) return undefined;
  const onColumn: Condition[] = [];
  const collect = (x: Condition): boolean => {
    if ('and' in x) return x.and.every(collect);
    if (!limits(x, column)) return true;
    if ('or' in x || 'not' in x) return false;
    onColumn.push(x);
    return true;
  };
  if (!collect(c)) return false;
  let from: number | undefined;
  let to: number | undefined;
  for (const leaf of onColumn as Leaf[]) {
    const span = utcSpan(leaf, calendar);
    if (!span) return false;
    if (span.from !== undefined) from = Math.max(from ?? span.from, span.from);
    if (span.to !== undefined) to = Math.min(to ?? span.to, span.to);
  }
  return { from, to };
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Whether the conditions may cut the first or last period of `unit` short: where they limit the grouped
 * column other than to whole periods. "next 2 quarters" by quarter, or "this year" by month, begins and ends
 * on the periods' own bounds, so nothing is cut; "last 30 days" by week is. Any limit that is not a span of
 * days is taken to cut.
 */
function cuts(c: Condition | undefined, column: string, unit: PeriodUnit, calendar: OrgCalendar): boolean {
  const span = columnSpan(c, column, calendar);
  if (span === undefined) return false;
  if (span === false) return true;
  const { from, to } = span;
  const whole = (ms: number) => ms % DAY === 0;
  if (from !== undefined && (!whole(from) || periodOf(isoDay(from), unit, calendar).from !== isoDay(from))) return true;
  const last = to === undefined ? undefined : to - DAY;
  return last !== undefined && (!whole(to!) || periodOf(isoDay(last), unit, calendar).to !== isoDay(last));
}

/**
 * The days a time series should cover whatever records there are: where the conditions hold the grouped
 * column to a period with both ends ("last year", "last 30 days"), that period, up to today at the latest
 * (months still to come of "this year" hold no cases yet, and zeros there would read as a fall). Undefined
 * otherwise: the series then runs from the first record's period to the last's.
 */
function askedSpan(
  c: Condition | undefined,
  column: string,
  calendar: OrgCalendar,
  filtered: boolean,
): { first: string; last: string } | undefined {
  // filter text may limit the column too, unread here: the records' own span is the one known to hold
  const span = filtered ? undefined : columnSpan(c, column, calendar);
  if (!span || span.from === undefined || span.to === undefined || span.to <= span.from) return undefined;
  const today = isoDay(Date.now());
  const last = isoDay(span.to - 1);
  const first = isoDay(span.from);
  return { first, last: last > today ? (first > today ? last : today) : last };
}

/** Whether OData filter text names `column`. */
const mentions = (filter: string | undefined, column: string) =>
  !!filter && new RegExp(`(^|[^\\w/])${column}([^\\w/]|$)`, 'i').test(filter);
