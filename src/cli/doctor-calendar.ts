import type { Config } from '../config/schema.js';
import { fiscalQuarter, fiscalYear, WEEKDAYS } from '../dynamics/fiscal.js';
import { CALENDAR_COLUMNS, FISCAL_COLUMNS, fiscalYearOf, weekStartOfRow } from '../dynamics/org-calendar.js';
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
 * Which quarters "this quarter", pipeline_summary and per-quarter totals count, and which day weeks start on
 * (dynamics/org-calendar.ts), said with the quarter it is now, so an administrator sees at once whether they are
 * the organisation's. Doctor reads the settings with its own token whatever the policy says, to tell whether
 * the server's differ from them.
 */
export async function calendarCheck(get: WebApiGet, config: Config, policy: Policy): Promise<Check> {
  let row: Record<string, unknown> | undefined;
  let unreadable: string | undefined;
  try {
    const page = await jsonReader(get)<{ value?: Record<string, unknown>[] }>(
      `/organizations?$select=${CALENDAR_COLUMNS.join(',')}`,
    );
    row = page.value?.[0];
  } catch (err) {
    if (!(err instanceof Unchecked)) throw err;
    unreadable = err.message;
  }
  const canRead = (c: string) => policy.canRead('organization', c);
  const buts: { why: string; fix: string }[] = [];
  if (unreadable && CALENDAR_COLUMNS.some(canRead))
    buts.push({
      why: `the organisation's calendar settings could not be read (${unreadable})`,
      fix: 'Give the application user read access to the Organization table (prvReadOrganization), or set pipeline.fiscalYearStartMonth.',
    });
  // the fiscal year
  const configured = config.pipeline.fiscalYearStartMonth;
  const orgYear = fiscalYearOf(row);
  const blocked = FISCAL_COLUMNS.filter((c) => !canRead(c));
  let year = fiscalYear(configured ?? 1);
  let years: string;
  if (configured !== undefined)
    years = `Quarters count from ${MONTHS[configured - 1]} (pipeline.fiscalYearStartMonth in the configuration)`;
  else if (orgYear && !blocked.length && !unreadable) {
    year = orgYear;
    const naming =
      orgYear.startMonth === 1 ? '' : `, each named by the year it ${orgYear.namedByEnd ? 'ends' : 'starts'} in`;
    years = `Quarters follow the organisation's fiscal year, from ${MONTHS[orgYear.startMonth - 1]}${naming}`;
  } else {
    years = 'Quarters are calendar quarters';
    if (orgYear && orgYear.startMonth !== 1 && blocked.length)
      buts.push({
        why: `the organisation's fiscal year starts in ${MONTHS[orgYear.startMonth - 1]}, and the policy does not let the server read it (organization: ${blocked.join(', ')})`,
        fix: `Add them to the policy's organization read list, or set pipeline.fiscalYearStartMonth to ${orgYear.startMonth}.`,
      });
  }
  // the week
  const orgWeek = weekStartOfRow(row) ?? 0;
  const week = canRead('weekstartdaycode') && !unreadable ? orgWeek : 0;
  if (week !== orgWeek)
    buts.push({
      why: `the organisation's weeks start on ${WEEKDAYS[orgWeek]}, and the policy does not let the server read it (organization: weekstartdaycode)`,
      fix: "Add weekstartdaycode to the policy's organization read list.",
    });
  const q = fiscalQuarter(new Date(), { ...year, weekStart: week });
  const detail = `${years}; this quarter is ${q.label} (${q.from} to ${q.to}); weeks start on ${WEEKDAYS[week]}.`;
  return buts.length
    ? {
        name: 'Calendar',
        ok: true,
        warning: true,
        detail: `${detail} But ${buts.map((b) => b.why).join('; ')}.`,
        fix: buts.map((b) => b.fix).join(' '),
      }
    : { name: 'Calendar', ok: true, detail };
}
