import type { Config } from '../config/schema.js';
import { type FiscalYear, fiscalQuarter } from '../dynamics/fiscal.js';
import { FISCAL_COLUMNS, fiscalYearOf } from '../dynamics/fiscal-year.js';
import type { Policy } from '../policy/policy.js';
import type { Check } from './doctor.js';
import { jsonReader, Unchecked, type WebApiGet } from './doctor-api.js';

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * Which quarters "this quarter", pipeline_summary and per-quarter totals count (dynamics/fiscal-year.ts), said
 * with the quarter it is now, so an administrator sees at once whether they are the organisation's.
 */
export async function fiscalYearCheck(get: WebApiGet, config: Config, policy: Policy): Promise<Check> {
  const name = 'Fiscal year';
  const now = (f: Parameters<typeof fiscalQuarter>[1]) => {
    const q = fiscalQuarter(new Date(), f);
    return `this quarter is ${q.label} (${q.from} to ${q.to})`;
  };
  const configured = config.pipeline.fiscalYearStartMonth;
  if (configured !== undefined)
    return {
      name,
      ok: true,
      detail: `Quarters count from ${MONTHS[configured - 1]} (pipeline.fiscalYearStartMonth in the configuration); ${now(configured)}.`,
    };
  const calendar = (why: string, fix: string): Check => ({
    name,
    ok: true,
    warning: true,
    detail: `Quarters are calendar quarters: ${why}; ${now(1)}.`,
    fix,
  });
  // doctor reads the settings with its own token whatever the policy says, to tell whether it matters
  const unread = FISCAL_COLUMNS.filter((c) => !policy.canRead('organization', c));
  const blocked = `the policy does not let the server read the organisation's fiscal year settings (organization: ${unread.join(', ')})`;
  let year: FiscalYear | undefined;
  try {
    const page = await jsonReader(get)<{ value?: Record<string, unknown>[] }>(
      `/organizations?$select=${FISCAL_COLUMNS.join(',')}`,
    );
    year = fiscalYearOf(page.value?.[0]);
  } catch (err) {
    if (!(err instanceof Unchecked)) throw err;
    if (unread.length)
      return calendar(
        blocked,
        "Add them to the policy's organization read list, or set pipeline.fiscalYearStartMonth.",
      );
    return calendar(
      `the organisation's fiscal year settings could not be read (${err.message})`,
      'Give the application user read access to the Organization table (prvReadOrganization), or set pipeline.fiscalYearStartMonth.',
    );
  }
  const month = year?.startMonth ?? 1;
  if (unread.length && month !== 1)
    return calendar(
      `the organisation's fiscal year starts in ${MONTHS[month - 1]}, but ${blocked}`,
      `Add them to the policy's organization read list, or set pipeline.fiscalYearStartMonth to ${month}.`,
    );
  if (unread.length || !year)
    return {
      name,
      ok: true,
      detail: `Quarters are calendar quarters, as the organisation's fiscal year is; ${now(1)}.`,
    };
  const naming = month === 1 ? '' : `, each named by the year it ${year.namedByEnd ? 'ends' : 'starts'} in`;
  return {
    name,
    ok: true,
    detail: `Quarters follow the organisation's fiscal year, from ${MONTHS[month - 1]}${naming}; ${now(year)}.`,
  };
}
