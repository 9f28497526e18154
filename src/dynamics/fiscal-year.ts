import { DynamicsMcpError, type ErrorKind } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Policy } from '../policy/policy.js';
import { type FiscalYear, fiscalYear } from './fiscal.js';

/** Where the fiscal year in use comes from (doctor says it). */
export type FiscalYearOrigin = 'configuration' | 'organization' | 'calendar';

/** The organisation's fiscal year settings: Dataverse keeps them on its one organization row. */
export const FISCAL_COLUMNS = ['fiscalcalendarstart', 'fiscalyeardisplaycode'] as const;

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
export function fiscalYearOf(row: Record<string, unknown> | undefined): FiscalYear | undefined {
  const startMonth = startMonthOf(row?.fiscalcalendarstart);
  if (!startMonth) return undefined;
  // 1 "based on start date", 2 "based on end date" (Dynamics' fiscal year settings)
  const code = Number(row?.fiscalyeardisplaycode);
  return { startMonth, namedByEnd: code === 2 ? true : code === 1 ? false : fiscalYear(startMonth).namedByEnd };
}

/**
 * The fiscal year "this quarter", pipeline_summary's quarters and aggregate_records' per-quarter and per-year
 * totals count by: pipeline.fiscalYearStartMonth when the configuration sets it, otherwise the organisation's
 * own fiscal year settings, so the quarters are the ones its Dynamics reports show. Read on first use (a call
 * that names no quarter costs no request), kept as long as metadata is, one read shared by concurrent calls.
 * Calendar quarters where the policy does not let the server read the settings, or Dynamics will not give them
 * (said once in the log); a failure that may pass (throttling, a timeout) fails the call rather than count
 * the wrong quarters, and the next call asks again.
 */
export class FiscalYearSource {
  private cached?: { until: number; answer: Promise<{ year: FiscalYear; origin: FiscalYearOrigin }> };

  constructor(
    private readonly opts: {
      configured?: number;
      ttlMs: number;
      policy: Policy;
      log: Logger;
      /** the organization row's FISCAL_COLUMNS (internal read, through the policy like any other) */
      read: () => Promise<Record<string, unknown> | undefined>;
    },
  ) {}

  async get(): Promise<FiscalYear> {
    return (await this.describe()).year;
  }

  /** The fiscal year and where it came from. */
  describe(): Promise<{ year: FiscalYear; origin: FiscalYearOrigin }> {
    const { configured } = this.opts;
    if (configured !== undefined) return Promise.resolve({ year: fiscalYear(configured), origin: 'configuration' });
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

  private async fromOrganization(): Promise<{ year: FiscalYear; origin: FiscalYearOrigin }> {
    const calendar = { year: fiscalYear(1), origin: 'calendar' as const };
    const { policy, log } = this.opts;
    if (!FISCAL_COLUMNS.every((c) => policy.canRead('organization', c))) return calendar;
    let row: Record<string, unknown> | undefined;
    try {
      row = await this.opts.read();
    } catch (err) {
      if (!(err instanceof DynamicsMcpError) || !SETTLED.has(err.kind)) throw err;
      log.warn(
        { err: err.message },
        "could not read the organisation's fiscal year settings: quarters are calendar quarters (set pipeline.fiscalYearStartMonth to choose)",
      );
      return calendar;
    }
    const year = fiscalYearOf(row);
    return year ? { year, origin: 'organization' } : calendar;
  }
}
