import { DynamicsMcpError, type ErrorKind } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Policy } from '../policy/policy.js';
import { fiscalYear, type OrgCalendar } from './fiscal.js';

/** Where the fiscal year in use comes from (doctor says it). */
export type CalendarOrigin = 'configuration' | 'organization' | 'calendar';

/** The organisation's fiscal year settings: Dataverse keeps them on its one organization row. */
export const FISCAL_COLUMNS = ['fiscalcalendarstart', 'fiscalyeardisplaycode'] as const;
/** …and the day its weeks start on */
export const CALENDAR_COLUMNS = [...FISCAL_COLUMNS, 'weekstartdaycode'] as const;

/** Answers that will not change by asking again: the quarters are then calendar quarters, said in the log. */
const SETTLED: ReadonlySet<ErrorKind> = new Set(['permission', 'not_found', 'unknown_column', 'policy', 'bad_input']);

const HALF_DAY = 43_200_000;

/**
 * The month a fiscal year starts in, from organization.fiscalcalendarstart. Dynamics keeps that date as the
 * midnight it was entered at in the administrator's time zone, in UTC: 1 April entered in UTC+10 reads
 * 2026-03-31T14:00:00Z, and in UTC-7 2026-04-01T07:00:00Z. The nearest midnight is the day meant.
 */
export function startMonthOf(fiscalCalendarStart: unknown): number | undefined {
  if (typeof fiscalCalendarStart !== 'string') return undefined;
  const at = Date.parse(fiscalCalendarStart);
  if (Number.isNaN(at)) return undefined;
  return new Date(at + HALF_DAY).getUTCMonth() + 1;
}

/** The fiscal year the organization row's settings describe; undefined where it has no start date. */
export function fiscalYearOf(row: Record<string, unknown> | undefined): OrgCalendar | undefined {
  const startMonth = startMonthOf(row?.fiscalcalendarstart);
  if (!startMonth) return undefined;
  // 1 "based on start date", 2 "based on end date" (Dynamics' fiscal year settings)
  const code = Number(row?.fiscalyeardisplaycode);
  return { startMonth, namedByEnd: code === 2 ? true : code === 1 ? false : fiscalYear(startMonth).namedByEnd };
}

/** The day a week starts on, from organization.weekstartdaycode (0 Sunday … 6 Saturday). */
export function weekStartOfRow(row: Record<string, unknown> | undefined): number | undefined {
  const code = row?.weekstartdaycode;
  return Number.isInteger(code) && (code as number) >= 0 && (code as number) <= 6 ? (code as number) : undefined;
}

/**
 * The calendar "this quarter", pipeline_summary's quarters and aggregate_records' per-week, per-quarter and
 * per-year totals count by: the organisation's own settings, so the periods are the ones its Dynamics reports
 * and its ThisWeek/LastWeek show; pipeline.fiscalYearStartMonth in the configuration overrides the fiscal year.
 * Read on first use (a call that names no such period costs no request), kept as long as metadata is, one read
 * shared by concurrent calls; only the columns the policy lets the server read are asked for. Calendar quarters
 * and Sunday weeks where it reads none, or Dynamics will not give them (said once in the log); a failure that
 * may pass (throttling, a timeout) fails the call rather than count the wrong periods, and the next call asks
 * again.
 */
export class CalendarSource {
  private cached?: { until: number; answer: Promise<{ year: OrgCalendar; origin: CalendarOrigin }> };

  constructor(
    private readonly opts: {
      configured?: number;
      ttlMs: number;
      policy: Policy;
      log: Logger;
      /** the organization row's columns asked for (internal read, through the policy like any other) */
      read: (columns: string[]) => Promise<Record<string, unknown> | undefined>;
    },
  ) {}

  async get(): Promise<OrgCalendar> {
    return (await this.describe()).year;
  }

  /** The calendar and where its fiscal year came from. */
  describe(): Promise<{ year: OrgCalendar; origin: CalendarOrigin }> {
    const now = Date.now();
    if (this.cached && now < this.cached.until) return this.cached.answer;
    const answer = this.fromOrganization();
    const entry = { until: now + this.opts.ttlMs, answer };
    this.cached = entry;
    // a failure that may pass is not kept: the next call asks again
    answer.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return answer;
  }

  private async fromOrganization(): Promise<{ year: OrgCalendar; origin: CalendarOrigin }> {
    const { policy, log, configured } = this.opts;
    const own = configured === undefined ? undefined : fiscalYear(configured);
    const settled = (year: OrgCalendar | undefined, weekStart?: number) => ({
      year: { ...(own ?? year ?? fiscalYear(1)), ...(weekStart === undefined ? {} : { weekStart }) },
      origin: own ? ('configuration' as const) : year ? ('organization' as const) : ('calendar' as const),
    });
    // the configured fiscal year leaves only the week start to read
    const columns = CALENDAR_COLUMNS.filter(
      (c) => policy.canRead('organization', c) && (!own || c === 'weekstartdaycode'),
    );
    if (!columns.length) return settled(undefined);
    let row: Record<string, unknown> | undefined;
    try {
      row = await this.opts.read(columns);
    } catch (err) {
      if (!(err instanceof DynamicsMcpError) || !SETTLED.has(err.kind)) throw err;
      log.warn(
        { err: err.message },
        "could not read the organisation's calendar settings: quarters are calendar quarters and weeks start on Sunday (set pipeline.fiscalYearStartMonth to choose the fiscal year)",
      );
      return settled(undefined);
    }
    return settled(fiscalYearOf(row), weekStartOfRow(row));
  }
}
