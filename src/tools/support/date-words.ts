import type { WriteValues } from '../../dynamics/client.js';
import { comingQuarter, namedQuarter, type OrgCalendar } from '../../dynamics/fiscal.js';
import { dayInWords, edgeOf, periodDays } from '../../dynamics/utc-days.js';
import { badInput } from '../../errors.js';
import { type EntityModel, writtenColumn } from '../../policy/model.js';
import type { ToolContext } from '../define.js';

/**
 * A day in words ("in 2 weeks", "tomorrow") for any date column, and a date-only column written as a period's
 * edge ("estimatedclosedate": "end of next quarter"): that day, by the organisation's calendar, as a where
 * condition reads it. A model cannot work out the last day of a fiscal quarter; the tools can. A date and time
 * column written as an edge is left to be refused with today's date: which time of that day is meant, in
 * which zone, is not said.
 */
export async function edgesAsDays(
  ctx: ToolContext,
  model: EntityModel,
  values: WriteValues,
): Promise<{ values: WriteValues; worked: string[] }> {
  let calendar: OrgCalendar | undefined;
  let out = values;
  // each day worked out, said where the user reads the answer ("Est. Close Date: 2027-03-31 (end of next quarter)")
  const worked: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const column = writtenColumn(model, key);
    if (column?.type !== 'DateTime' || typeof value !== 'string') continue;
    // "in 2 weeks", "tomorrow": the day is said beside what was written (a date and time column takes noon UTC
    // of it, as for any bare day)
    const relative = dayInWords(value);
    if (relative) {
      out = { ...out, [key]: relative };
      worked.push(`${column.label}: ${relative} (${value.trim()})`);
      continue;
    }
    if (!column.dateOnly || !edgeOf(value)) continue;
    calendar ??= await ctx.client.calendar.get();
    const day = periodDays(value, calendar)?.first;
    if (!day) continue;
    pastQuarterRefused(value, day, calendar);
    out = { ...out, [key]: day };
    worked.push(`${column.label}: ${day} (${value.trim()})`);
  }
  return { values: out, worked };
}

/**
 * "end of Q1" written in December: Q1 alone is the current fiscal year's (as pipeline_summary reads it), whose
 * end has passed, but a close date pushed to "end of Q1" means the coming one. Neither is guessed: the
 * refusal gives both days.
 */
function pastQuarterRefused(value: string, day: string, calendar: OrgCalendar): void {
  const edge = edgeOf(value)!;
  const today = new Date();
  if (!/^q[1-4]$/.test(edge.period) || day >= today.toISOString().slice(0, 10)) return;
  const coming = comingQuarter(edge.period, calendar, today)!;
  const comingDay = edge.end ? coming.to : coming.from;
  const past = namedQuarter(edge.period, calendar, today)!;
  throw badInput(
    `'${value.trim()}' would be ${day}, already past: ${edge.period.toUpperCase()} alone is this fiscal year's (${past.label}).`,
    `Pass ${comingDay} for the coming one (${coming.label}), or ${day} if the past one is meant.`,
  );
}
