import type { WriteValues } from '../../dynamics/client.js';
import type { OrgCalendar } from '../../dynamics/fiscal.js';
import { edgeOf, periodDays } from '../../dynamics/utc-days.js';
import { type EntityModel, writtenColumn } from '../../policy/model.js';
import type { ToolContext } from '../define.js';

/**
 * A date-only column written as a period's edge ("estimatedclosedate": "end of next quarter"): that day, by the
 * organisation's calendar, as a where condition reads it. A model cannot work out the last day of a fiscal
 * quarter; the tools can. A date and time column is left to be refused with today's date: which time of that
 * day is meant, in which zone, is not said.
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
    if (column?.type !== 'DateTime' || !column.dateOnly || typeof value !== 'string' || !edgeOf(value)) continue;
    calendar ??= await ctx.client.calendar.get();
    const day = periodDays(value, calendar)?.first;
    if (!day) continue;
    out = { ...out, [key]: day };
    worked.push(`${column.label}: ${day} (${value.trim()})`);
  }
  return { values: out, worked };
}
