import type { DynamicsClient, Row } from '../../dynamics/client.js';
import type { Condition } from '../../dynamics/conditions.js';
import type { OrgCalendar } from '../../dynamics/fiscal.js';
import { badInput } from '../../errors.js';
import type { ColumnModel } from '../../policy/model.js';
import { atMost } from './at-once.js';
import { addDays, type Period, type PeriodUnit, periodsBefore, periodsBetween } from './periods.js';

/** Aggregations one call may make: five years of months, a year of weeks, two months of days. */
export const MAX_PERIODS = 60;
/** Periods aggregated at once: a few, so that one call does not take every slot of the shared client. */
const AT_ONCE = 4;

export interface PeriodRows {
  period: Period;
  rows: Row[];
  /**
   * Only there because the span was widened by a day at each end (below): the caller drops it when it is empty.
   */
  edge: boolean;
}

/**
 * The same aggregation once per period of `column`, from the period of the first matching record to that of
 * the last (two one-row reads find them), or over the days `span` names where it reaches further (the period
 * the conditions asked for: "cases per month last year" is twelve months, though the first case is from
 * March), each under the call's conditions and the period's first and last day. The days are bare dates, so
 * the condition builder sends them as it sends any day a model names: with
 * Dataverse's day functions (On or after, On or before), which count days in the Dynamics user's time zone,
 * as "last month" does; a date-only column compares plainly. Records are stamped in UTC, so for a date and
 * time the span is widened by a day at each end to hold a record that is on another day where the user is.
 */
export async function aggregatePerPeriod(
  client: DynamicsClient,
  entity: string,
  column: ColumnModel,
  unit: PeriodUnit,
  opts: {
    where?: Condition;
    /** OData filter text, checked as a query's (aggregate_records' where given as text) */
    filter?: string;
    fiscal: OrgCalendar;
    /** the days the series covers at least, where the records do not reach them (none: the records' own) */
    span?: { first: string; last: string };
    signal: AbortSignal;
    run: (where: Condition) => Promise<Row[]>;
    progress: (done: number, total: number) => Promise<void>;
  },
): Promise<PeriodRows[]> {
  const name = column.logicalName;
  const within = (...c: Condition[]): Condition => ({ and: opts.where ? [opts.where, ...c] : c });
  const end = async (direction: 'asc' | 'desc') => {
    const page = await client.query(
      {
        entity,
        select: [name],
        where: within({ column: name, op: 'notNull' }),
        filter: opts.filter,
        orderBy: `${name} ${direction}`,
        top: 1,
      },
      { signal: opts.signal, internal: true },
    );
    const v = page.rows[0]?.[name];
    return typeof v === 'string' ? v.slice(0, 10) : undefined;
  };
  const [earliest, latest] = await Promise.all([end('asc'), end('desc')]);
  const slack = column.dateOnly ? 0 : 1;
  const between = (a: string, b: string) =>
    periodsBetween(addDays(a, -slack), addDays(b, slack), unit, opts.fiscal, MAX_PERIODS);
  if (!earliest || !latest) {
    // nothing matches: a span asked for is still its periods, each with none ("cases per month this year" on
    // 1 January is January's 0, as a month without cases is in any other series); the periods the slack adds
    // at its ends are edges, left out where empty
    if (!opts.span) return [];
    const { first, last } = opts.span;
    return (between(first, last) ?? []).map((period) => ({
      period,
      rows: [],
      edge: period.to < first || period.from > last,
    }));
  }
  // the span asked for where it fits in one call; else the records' own (a century asked, ten years held)
  const wide = opts.span && {
    // ISO days, which sort as text
    first: [opts.span.first, earliest].sort()[0]!,
    last: [opts.span.last, latest].sort()[1]!,
  };
  const widened = wide && between(wide.first, wide.last);
  const { first, last } = widened ? wide : { first: earliest, last: latest };
  const periods = widened || between(first, last);
  if (!periods)
    throw badInput(
      `Grouping ${entity} by ${unit} of ${name} needs more than ${MAX_PERIODS} ${unit}s (${first} to ${last}), one aggregation each; one call makes at most ${MAX_PERIODS}.`,
      `Narrow where to a shorter span (e.g. {"column":"${name}","op":"ge","value":"${periodsBefore(last, unit, opts.fiscal, MAX_PERIODS - 1)}"} for the last ${MAX_PERIODS}), or group by a longer period${unit === 'year' ? '' : ` (${unit === 'quarter' ? 'year' : 'month, quarter or year'})`}.`,
    );
  const out: PeriodRows[] = periods.map((period) => ({
    period,
    rows: [],
    edge: period.to < first || period.from > last,
  }));
  let done = 0;
  // the call fails with the first period that fails: the others start no more requests
  await atMost(AT_ONCE, out, async (item) => {
    item.rows = await opts.run(
      within({ column: name, op: 'ge', value: item.period.from }, { column: name, op: 'le', value: item.period.to }),
    );
    await opts.progress(++done, out.length);
  });
  return out;
}
