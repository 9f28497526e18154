import { z } from 'zod';
import type { Row } from '../dynamics/client.js';
import { quarterInWords } from '../dynamics/condition-words.js';
import type { Condition } from '../dynamics/conditions.js';
import { comingQuarter, fiscalQuarter, namedQuarter, type OrgCalendar, quarterOffset } from '../dynamics/fiscal.js';
import { periodDays, todayIs } from '../dynamics/utc-days.js';
import { badInput, DynamicsMcpError } from '../errors.js';
import { defineTool, type ToolContext } from './define.js';
import { listedAs } from './list-cache.js';
import { toolArgs } from './support/args.js';
import { ownerNamed } from './support/lookup-names.js';
import { anyCase } from './support/schemas.js';
import { FORMATTED } from './support/shape.js';

const round2 = (n: number) => Math.round(n * 100) / 100;
const GROUP_COLUMNS: Readonly<Record<string, 'stage' | 'owner'>> = {
  salesstage: 'stage',
  stepname: 'stage',
  ownerid: 'owner',
  owneridvalue: 'owner',
};
/** pipeline_summary's quarters, by how many quarters from the current one they are (-1, 0, 1) */
const QUARTER_NAMED = ['last', 'this', 'next'] as const;

interface Bucket {
  key: string;
  label: string;
  count: number;
  totalValue: number;
  weightedValue: number;
}

/**
 * The open deals that have no probability (closeprobability is optional and often left empty): they add
 * nothing to the weighted value, which the answer says, or a weighted pipeline would read as lower than it is.
 */
interface Unweighted {
  count: number;
  totalValue: number;
}

interface Tally {
  buckets: Map<string, Bucket>;
  unweighted: Unweighted;
  /** open deals with no estimated value (also optional): counted, but they add nothing to any total */
  valueless: number;
}

/**
 * The days of a period in words other than a quarter ("this month", "next 30 days", "this fiscal year",
 * "2026"), as a date condition reads them (utc-days.ts); undefined for words that name no period with both ends.
 */
function spanOf(words: string, calendar: OrgCalendar | number): { from: string; to: string } | undefined {
  const days = periodDays(words, calendar);
  return days?.first && days.last ? { from: days.first, to: days.last } : undefined;
}

/**
 * A period given as "period", as models name it ({"period": "next quarter"}, {"period": "this month"}): what
 * "quarter" takes. Beside "quarter", it is left to be refused as an argument of its own.
 */
function withPeriod<S extends z.ZodType>(args: S) {
  return z.preprocess((v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !('period' in v) || 'quarter' in v) return v;
    const { period, ...rest } = v as Record<string, unknown>;
    return { ...rest, quarter: period };
  }, args);
}

const ISO_DAY = z.iso.date();
/**
 * A close date (a date-only column): a date-time is read as its day, as written; a period in words ("last
 * quarter", "this month") is its first day for "from" and its last for "to", worked out with the
 * organisation's calendar in run (a model cannot work out a fiscal quarter's days). Listed as a date, which
 * is what most callers pass. Anything else is refused with today's date.
 */
const closeDay = (name: 'from' | 'to', example: string) =>
  listedAs(
    z.preprocess(
      (v) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v.trim()) ? v.trim().slice(0, 10) : v),
      z.string().refine((s) => ISO_DAY.safeParse(s).success || !!spanOf(s, 1), {
        error: (issue) =>
          `${name} must be a date like ${example} or a period in words ("last quarter", "this month": its ${name === 'from' ? 'first' : 'last'} day) (${todayIs(String(issue.input))}).`,
      }),
    ),
    { type: 'string', format: 'date' },
  );

export const pipelineSummary = defineTool({
  name: 'pipeline_summary',
  title: 'Sales pipeline summary',
  description:
    'Open opportunities closing in a period (default: this fiscal quarter), totalled by stage or owner: count, total and probability-weighted value in base currency, and the largest deals with their accounts.',
  inputSchema: withPeriod(
    toolArgs(
      'pipeline_summary',
      {
        from: closeDay('from', '2026-01-01').optional().describe('First close date (YYYY-MM-DD).'),
        to: closeDay('to', '2026-03-31').optional().describe('Last close date (YYYY-MM-DD).'),
        // the model cannot work out a fiscal quarter's dates without the fiscal year's start, which it does not
        // know: "next quarter" or "FY2027 Q1" (as the answers name quarters) is said here. "Next quarter",
        // "previous", "current" are read as meant; a named quarter is worked out with the calendar (run)
        quarter: z
          .preprocess(
            (v) => {
              const offset = quarterOffset(v, false);
              return offset === undefined ? v : QUARTER_NAMED[offset + 1];
            },
            z
              .string()
              .refine(
                (q) => (QUARTER_NAMED as readonly string[]).includes(q) || !!namedQuarter(q, 1) || !!spanOf(q, 1),
                {
                  error:
                    'quarter is "this", "last", "next", a fiscal quarter or year by name ("Q4" of this fiscal year, "FY2027 Q1", "FY2027") or a period in words ("this month", "this fiscal year", "2026"); for other days give "from" and "to".',
                },
              ),
          )
          .optional()
          .describe('A fiscal quarter: this, last, next, Q4, FY2027 Q1; or words: this month, 2026.'),
        // any casing ("Stage"); other groupings of deals (by account, rating, …) are aggregate_records' job
        groupBy: z.preprocess(
          // the columns behind them, as describe_entity names them, are the same groupings
          (v) => {
            const word = anyCase(v);
            return typeof word === 'string' ? (GROUP_COLUMNS[word.replace(/[\s_]+/g, '')] ?? word) : word;
          },
          z
            .enum(['stage', 'owner'], {
              error: (issue) =>
                issue.code === 'invalid_value'
                  ? 'groupBy is "stage" or "owner"; for other groupings use aggregate_records on opportunity (e.g. groupBy ["parentaccountid"], sum of estimatedvalue_base).'
                  : undefined,
            })
            .default('stage'),
        ),
        ownerId: z.string().max(40).optional().describe("Only this owner's opportunities: user/team id or name."),
        topDeals: z
          .number()
          .int()
          .min(0, 'topDeals is 0 or more.')
          .max(
            25,
            'topDeals lists at most 25 deals; for more, use query_entities on opportunity with orderBy "estimatedvalue desc".',
          )
          .default(5)
          .describe('How many of the largest deals to list.'),
      },
      {
        renamed: {
          start: 'from',
          startDate: 'from',
          fromDate: 'from',
          end: 'to',
          endDate: 'to',
          toDate: 'to',
          group: 'groupBy',
          // a user or team by id or name, as ownerId takes them
          owner: 'ownerId',
          ownerid: 'ownerId',
        },
        meant: {
          // the largest deals, or the largest groups: not guessed
          top: 'topDeals',
          limit: 'topDeals',
          // (read as quarter by periodAsQuarter unless quarter is given too)
          period: 'quarter',
        },
      },
    ),
  ),
  outputSchema: z.object({
    period: z.object({ from: z.string(), to: z.string(), label: z.string() }),
    groupBy: z.enum(['stage', 'owner']),
    groups: z.array(
      z.object({
        key: z.string(),
        label: z.string(),
        count: z.number(),
        totalValue: z.number(),
        weightedValue: z.number(),
      }),
    ),
    totals: z.object({
      count: z.number(),
      totalValue: z.number(),
      weightedValue: z.number(),
      unweighted: z.number().optional(),
      valueless: z.number().optional(),
    }),
    topDeals: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        account: z.string().optional(),
        value: z.number(),
        localValue: z.number().optional(),
        currency: z.string().optional(),
        probability: z.number().optional(),
        closeDate: z.string().optional(),
        stage: z.string().optional(),
      }),
    ),
    method: z.enum(['aggregate', 'paged']),
    slipped: z.number().optional(),
    undated: z.number().optional(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  writes: false,
  async run(args, ctx) {
    if (args.quarter && (args.from || args.to))
      throw badInput(
        'Give "quarter", or "from" and "to", not both.',
        `Leave out ${args.from ? '"from"' : ''}${args.from && args.to ? ' and ' : ''}${args.to ? '"to"' : ''}, or "quarter".`,
      );
    const calendar = await ctx.client.calendar.get();
    const named = QUARTER_NAMED.indexOf((args.quarter ?? 'this') as (typeof QUARTER_NAMED)[number]);
    const fq =
      named >= 0
        ? fiscalQuarter(new Date(), calendar, named - 1)
        : // a fiscal period by name ("FY2027 Q1", "H1", "next 2 quarters"), as a date condition reads it; else
          // other words for days ("this month"), labelled as given
          (quarterInWords(args.quarter!, calendar) ?? { ...spanOf(args.quarter!, calendar)!, label: args.quarter! });
    // a period in words given as from or to: its first or last day, by the organisation's calendar
    const given = (v: string | undefined, end: 'from' | 'to') =>
      v === undefined || ISO_DAY.safeParse(v).success ? v : spanOf(v, calendar)?.[end];
    const from = given(args.from, 'from') ?? (args.to ? undefined : fq.from);
    const to = given(args.to, 'to') ?? (args.from ? undefined : fq.to);
    if (!from || !to) {
      // one end given as a period in words ("from": "this month"): the period itself is "quarter"'s to name
      // (one day, "today" or "end of next quarter", is an end: the other end is what is missing)
      const alone = args.from ?? args.to;
      const span = alone ? spanOf(alone, calendar) : undefined;
      const period = span && span.from !== span.to ? alone : undefined;
      const other = args.from ? 'to' : 'from';
      throw badInput(
        'Give both "from" and "to", or neither (the current quarter, or the one "quarter" names).',
        period
          ? `For ${period} itself, pass "quarter": "${period}" alone; for a span, add "${other}" (a day, or a period in words).`
          : alone
            ? `Add "${other}": a day (YYYY-MM-DD, or "today") or a period in words.`
            : 'e.g. "from": "2026-01-01", "to": "2026-03-31".',
      );
    }
    if (from > to) throw badInput(`"from" (${from}) is after "to" (${to}).`, 'Swap them.');
    const ownerId = args.ownerId ? await ownerNamed(ctx, args.ownerId, 'ownerId') : undefined;
    const period = { from, to, label: !args.from && !args.to ? fq.label : `${from} to ${to}` };
    const where: Condition = {
      and: [
        { column: 'statecode', op: 'eq', value: 0 },
        { column: 'estimatedclosedate', op: 'ge', value: from },
        { column: 'estimatedclosedate', op: 'le', value: to },
        ...(ownerId ? [{ column: 'ownerid', op: 'eq' as const, value: ownerId }] : []),
      ],
    };
    const groupColumn = args.groupBy === 'stage' ? 'salesstage' : '_ownerid_value';
    let tally: Tally;
    let method: 'aggregate' | 'paged' = 'aggregate';
    // the totals and the largest deals are independent: ask for both at once
    const deals = args.topDeals ? biggest(ctx, where, args.topDeals) : Promise.resolve([]);
    deals.catch(() => {}); // awaited below; keeps an early failure from going unhandled
    // open deals whose close date passed before the period (and before today) are in no period from today on:
    // a pipeline read for this quarter or the next leaves them out, however large. Counted for a pipeline of
    // now: a period that has not ended and starts within the last year (one that has ended is all such deals,
    // and says so; one reaching years back is a look at history, before which nothing is left out that matters)
    const today = new Date().toISOString().slice(0, 10);
    const before = [from, today].sort()[0]!;
    const yearAgo = `${Number(today.slice(0, 4)) - 1}${today.slice(4)}`;
    const now = to >= today && from >= yearAgo;
    const slipped = now
      ? openDeals(ctx, { column: 'estimatedclosedate', op: 'lt', value: before }, ownerId)
      : Promise.resolve(undefined);
    // and those without a close date (it is optional in Dynamics, and often left empty): in no period at all
    const undated = now
      ? openDeals(ctx, { column: 'estimatedclosedate', op: 'null' }, ownerId)
      : Promise.resolve(undefined);
    slipped.catch(() => {});
    undated.catch(() => {});
    try {
      tally = await viaAggregate(ctx, where, groupColumn);
    } catch (err) {
      // AGG: aggregates stop at 50,000 records; past that, page through and add up here
      if (!(err instanceof DynamicsMcpError) || err.kind !== 'too_large') throw err;
      method = 'paged';
      tally = await viaPages(ctx, where, groupColumn);
    }
    const { unweighted, valueless } = tally;
    const groups = [...tally.buckets.values()]
      .map((b) => ({ ...b, totalValue: round2(b.totalValue), weightedValue: round2(b.weightedValue) }))
      .sort((a, b) => (args.groupBy === 'stage' ? Number(a.key) - Number(b.key) : b.totalValue - a.totalValue));
    const totals = {
      count: groups.reduce((s, g) => s + g.count, 0),
      totalValue: round2(groups.reduce((s, g) => s + g.totalValue, 0)),
      weightedValue: round2(groups.reduce((s, g) => s + g.weightedValue, 0)),
      ...(unweighted.count ? { unweighted: unweighted.count } : {}),
      ...(valueless ? { valueless } : {}),
    };
    const topDeals = await deals;
    const passed = await slipped;
    const dateless = await undated;
    const structured = {
      period,
      groupBy: args.groupBy,
      groups,
      totals,
      topDeals,
      method,
      ...(passed?.count ? { slipped: passed.count } : {}),
      ...(dateless?.count ? { undated: dateless.count } : {}),
    };
    // a period that has ended holds only deals whose close date has passed; "Q1" alone asked in December is
    // this fiscal year's Q1, and the coming one is named for the model to ask again if that was meant
    const bare = /^\s*q[1-4]\s*$/i.test(args.quarter ?? '');
    const coming = bare && to < today ? comingQuarter(args.quarter!, calendar) : undefined;
    const ended =
      to < today
        ? ` The period has ended: these are open deals whose close date has passed${coming ? `; for the coming ${args.quarter!.trim().toUpperCase()}, pass quarter "${coming.label}"` : ''}.`
        : '';
    const money = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
    const n = unweighted.count;
    // "1 of them has", "It has" (the one deal), "Both have", "All 5 have"
    const which = (k: number) =>
      k === totals.count
        ? k === 1
          ? 'It has'
          : k === 2
            ? 'Both have'
            : `All ${k} have`
        : `${k} of them ${k === 1 ? 'has' : 'have'}`;
    const noProbability = n
      ? ` ${which(n)} no probability (closeprobability${unweighted.totalValue ? `; total ${money(unweighted.totalValue)}` : ''}), so ${n === 1 ? 'it adds' : 'they add'} nothing to the weighted value.`
      : '';
    const noValue = valueless
      ? ` ${which(valueless)} no estimated value (estimatedvalue), so ${valueless === 1 ? 'it adds' : 'they add'} nothing to the totals.`
      : '';
    const behind = passed?.count
      ? ` Not in it: ${passed.count} more open ${passed.count === 1 ? 'opportunity' : 'opportunities'} (total ${money(passed.totalValue)}) whose close date passed before ${before}, so no pipeline from today on counts ${passed.count === 1 ? 'it' : 'them'}: move ${passed.count === 1 ? 'its close date or close it' : 'their close dates or close them'} (query_entities on opportunity with where ${JSON.stringify({ statecode: 'Open', estimatedclosedate: { lt: before }, ...(ownerId ? { ownerid: ownerId } : {}) })} lists ${passed.count === 1 ? 'it' : 'them'}).`
      : '';
    const noDate = dateless?.count
      ? ` Nor in any period: ${dateless.count} open ${dateless.count === 1 ? 'opportunity' : 'opportunities'} (total ${money(dateless.totalValue)}) with no close date (estimatedclosedate): give ${dateless.count === 1 ? 'it one' : 'them one each'} (query_entities on opportunity with where ${JSON.stringify({ statecode: 'Open', estimatedclosedate: null, ...(ownerId ? { ownerid: ownerId } : {}) })} lists ${dateless.count === 1 ? 'it' : 'them'}).`
      : '';
    const text = [
      `Pipeline ${period.label === `${from} to ${to}` ? period.label : `${period.label} (${from} to ${to})`}: ${totals.count} open ${totals.count === 1 ? 'opportunity' : 'opportunities'}, total ${money(totals.totalValue)}, weighted ${money(totals.weightedValue)} (base currency).${noValue}${noProbability}${ended}${behind}${noDate}`,
      ...groups.map(
        (g) => `- ${g.label}: ${g.count}, total ${money(g.totalValue)}, weighted ${money(g.weightedValue)}`,
      ),
      ...(topDeals.length
        ? [
            'Largest deals:',
            ...topDeals.map(
              (d) =>
                `- ${d.name}${d.account ? ` (${d.account})` : ''}: ${money(d.value)}${d.localValue !== undefined ? ` (${money(d.localValue)}${d.currency ? ` ${d.currency}` : ''})` : ''}`,
            ),
          ]
        : []),
    ].join('\n');
    return { structured, text };
  },
});

function add(tally: Tally, key: string, label: string, count: number, total: number, probability: unknown): void {
  let b = tally.buckets.get(key);
  if (!b) {
    b = { key, label, count: 0, totalValue: 0, weightedValue: 0 };
    tally.buckets.set(key, b);
  }
  b.count += count;
  b.totalValue += total;
  if (typeof probability === 'number') b.weightedValue += (total * probability) / 100;
  else {
    tally.unweighted.count += count;
    tally.unweighted.totalValue += total;
  }
}

const newTally = (): Tally => ({ buckets: new Map(), unweighted: { count: 0, totalValue: 0 }, valueless: 0 });

/** $apply groupby (group, closeprobability): weighted value is Σ total × probability, added up here. */
async function viaAggregate(ctx: ToolContext, where: Condition, groupColumn: string): Promise<Tally> {
  // stage labels come from the table's metadata (cached); owners' names only the service can give
  const stages =
    groupColumn === 'salesstage'
      ? (await ctx.client.metadata.entity('opportunity')).columns.get('salesstage')?.options
      : undefined;
  const rows = await ctx.client.aggregate(
    'opportunity',
    // in the base currency: estimatedvalue itself is in each deal's own currency, and sums of mixed
    // currencies mean nothing (Dataverse keeps estimatedvalue_base = estimatedvalue / exchangerate)
    `groupby((${groupColumn},closeprobability),aggregate(estimatedvalue_base with sum as total,estimatedvalue_base with average as mean,$count as n))`,
    { signal: ctx.signal, where, annotations: !stages },
  );
  const tally = newTally();
  // a sum and an average both pass over empty values, so total ÷ mean is how many deals of a group have a
  // value; only where that falls short of the group's count (or cannot be worked out: none has a value, or
  // their mean is 0) are the deals without one counted, by a second aggregation (a second scan of the deals)
  const short = rows.some((r) => {
    const n = Number(r.n ?? 0);
    const mean = Number(r.mean);
    return n > 0 && !(Number.isFinite(mean) && mean !== 0 && Math.round(Number(r.total ?? 0) / mean) === n);
  });
  if (short) {
    const [none] = await ctx.client.aggregate('opportunity', 'aggregate($count as n)', {
      signal: ctx.signal,
      where: { and: [where, { column: 'estimatedvalue_base', op: 'null' }] },
      annotations: false,
    });
    tally.valueless = Number(none?.n ?? 0);
  }
  for (const r of rows) {
    const key = String(r[groupColumn] ?? 'none');
    const label = stages
      ? stages.find((o) => String(o.value) === key)?.label
      : (r[`${groupColumn}${FORMATTED}`] as string | undefined);
    add(
      tally,
      key,
      String(label ?? (key === 'none' ? '(none)' : key)),
      Number(r.n ?? 0),
      Number(r.total ?? 0),
      r.closeprobability,
    );
  }
  return tally;
}

/**
 * The open deals (of the owner) whose close date meets `closeDate`: how many, and their total in the base
 * currency; past the aggregate limit, added up from their pages, as the period's own deals are.
 */
async function openDeals(
  ctx: ToolContext,
  closeDate: Condition,
  ownerId: string | undefined,
): Promise<{ count: number; totalValue: number }> {
  const where: Condition = {
    and: [
      { column: 'statecode', op: 'eq', value: 0 },
      closeDate,
      ...(ownerId ? [{ column: 'ownerid', op: 'eq' as const, value: ownerId }] : []),
    ],
  };
  try {
    const [r] = await ctx.client.aggregate(
      'opportunity',
      'aggregate(estimatedvalue_base with sum as total,$count as n)',
      { signal: ctx.signal, where, annotations: false },
    );
    return { count: Number(r?.n ?? 0), totalValue: Number(r?.total ?? 0) };
  } catch (err) {
    if (!(err instanceof DynamicsMcpError) || err.kind !== 'too_large') throw err;
    const sum = { count: 0, totalValue: 0 };
    for await (const rows of ctx.client.pages(
      { entity: 'opportunity', select: ['estimatedvalue_base'], where, pageSize: 5000, parallel: 3 },
      { signal: ctx.signal },
    )) {
      for (const r of rows as Row[]) sum.totalValue += Number(r.estimatedvalue_base ?? 0);
      sum.count += rows.length;
    }
    return sum;
  }
}

async function viaPages(ctx: ToolContext, where: Condition, groupColumn: string): Promise<Tally> {
  const tally = newTally();
  let seen = 0;
  for await (const rows of ctx.client.pages(
    // order does not matter for a sum: read three key ranges side by side
    {
      entity: 'opportunity',
      select: [groupColumn, 'estimatedvalue_base', 'closeprobability'],
      where,
      pageSize: 5000,
      parallel: 3,
    },
    { signal: ctx.signal },
  )) {
    for (const r of rows as Row[]) {
      const key = String(r[groupColumn] ?? 'none');
      if (r.estimatedvalue_base === null || r.estimatedvalue_base === undefined) tally.valueless++;
      add(
        tally,
        key,
        String(r[`${groupColumn}${FORMATTED}`] ?? key),
        1,
        Number(r.estimatedvalue_base ?? 0),
        r.closeprobability,
      );
    }
    seen += rows.length;
    await ctx.progress(seen, undefined, `${seen} opportunities added up`);
  }
  return tally;
}

async function biggest(ctx: ToolContext, where: Condition, n: number) {
  const page = await ctx.client.query(
    {
      entity: 'opportunity',
      select: [
        'name',
        'estimatedvalue',
        'estimatedvalue_base',
        'transactioncurrencyid',
        'closeprobability',
        'estimatedclosedate',
        'salesstage',
        'parentaccountid',
      ],
      // a deal without a value is no large deal (it would otherwise be listed at 0 where there are few)
      where: { and: [where, { column: 'estimatedvalue_base', op: 'notNull' }] },
      orderBy: 'estimatedvalue_base desc',
      top: n,
    },
    { signal: ctx.signal, internal: true },
  );
  return page.rows.map((r) => ({
    id: String(r.opportunityid),
    name: String(r.name ?? ''),
    ...(r[`_parentaccountid_value${FORMATTED}`] ? { account: String(r[`_parentaccountid_value${FORMATTED}`]) } : {}),
    value: Number(r.estimatedvalue_base ?? 0),
    // a deal in another currency also shows its own amount
    ...(typeof r.estimatedvalue === 'number' && r.estimatedvalue !== r.estimatedvalue_base
      ? {
          localValue: r.estimatedvalue,
          ...(r[`_transactioncurrencyid_value${FORMATTED}`]
            ? { currency: String(r[`_transactioncurrencyid_value${FORMATTED}`]) }
            : {}),
        }
      : {}),
    ...(typeof r.closeprobability === 'number' ? { probability: r.closeprobability } : {}),
    ...(r.estimatedclosedate ? { closeDate: String(r.estimatedclosedate).slice(0, 10) } : {}),
    ...(r[`salesstage${FORMATTED}`] ? { stage: String(r[`salesstage${FORMATTED}`]) } : {}),
  }));
}
