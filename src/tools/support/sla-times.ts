import type { Policy } from '../../policy/policy.js';
import type { ToolContext } from '../define.js';
import { FORMATTED } from './shape.js';

/** a time as the SLA notes say it, to the minute: "2026-12-05 14:00 UTC" */
export function utcMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

const timeOf = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : Number.NaN);

/** the failure time of a case's first response clock, read through it (slaReadBack's expand), or NaN */
function firstResponseDue(row: Record<string, unknown>): number {
  const kpi = row.firstresponsebykpiid;
  return timeOf(kpi && typeof kpi === 'object' ? (kpi as Record<string, unknown>).failuretime : undefined);
}

/**
 * What a new case is read back with to say what its SLA asks (an organisation's default SLA starts its clocks
 * when the case is opened): its resolve-by time, and its first response clock's failure time, each only where
 * the policy lets the model read it.
 */
export function slaReadBack(policy: Policy): { select: string[]; expand?: { relation: string; select: string[] }[] } {
  const select = policy.canRead('incident', 'resolveby') ? ['resolveby'] : [];
  const first =
    policy.canRead('incident', 'firstresponsebykpiid') &&
    policy.canFollow('incident', 'firstresponsebykpiid') &&
    policy.canRead('slakpiinstance', 'failuretime');
  return first ? { select, expand: [{ relation: 'firstresponsebykpiid', select: ['failuretime'] }] } : { select };
}

/**
 * A new case's SLA as a sentence (or ''): when its first response and its resolution are due, so the user
 * who opened it knows at once what was promised.
 */
export function slaDueNote(row: Record<string, unknown>): string {
  const first = firstResponseDue(row);
  const resolve = timeOf(row.resolveby);
  const due = [
    Number.isNaN(first) ? '' : `a first response by ${utcMinute(first)}`,
    Number.isNaN(resolve) ? '' : `resolution by ${utcMinute(resolve)}`,
  ].filter(Boolean);
  return due.length ? ` Its SLA asks for ${due.join(' and ')}.` : '';
}

/**
 * the columns slaStanding says where an open case stands from, those the policy shows: its status reason, and
 * its SLA (none of the SLA without resolveby)
 */
export function slaStandingColumns(policy: Policy): string[] {
  const reason = policy.canRead('incident', 'statuscode') ? ['statuscode'] : [];
  if (!policy.canRead('incident', 'resolveby')) return reason;
  return [...reason, 'resolveby', ...(policy.canRead('incident', 'resolvebyslastatus') ? ['resolvebyslastatus'] : [])];
}

/**
 * Where an open case stands, as sentences (or ''): its status reason where it is not the usual In Progress (1)
 * (" It is Waiting for Details."), and its SLA (" Its SLA: resolve by … (Nearing Noncompliance)."). An alert
 * firing again on a case about to breach is the one to escalate; on a case on hold, it is one to take up again.
 */
export function slaStanding(row: Record<string, unknown>): string {
  const reason = row[`statuscode${FORMATTED}`];
  const waits = row.statuscode !== 1 && typeof reason === 'string' && reason ? ` It is ${reason}.` : '';
  const by = timeOf(row.resolveby);
  if (Number.isNaN(by)) return waits;
  const status = row[`resolvebyslastatus${FORMATTED}`];
  return `${waits} Its SLA: resolve by ${utcMinute(by)}${typeof status === 'string' && status ? ` (${status})` : ''}.`;
}

/**
 * Whether a case resolved `now` met its SLA's resolve-by time (incident's resolveby, where an SLA set one), as
 * a sentence: said from the time itself, as the SLA's own status may be moved a moment later by Dynamics.
 */
export function resolvedAgainstSla(resolveBy: unknown, now: number): string {
  return againstSla(timeOf(resolveBy), now, 'resolve by', 'resolve-by time');
}

/**
 * Whether a first response marked sent `now` (First Response Sent, which stops the usual first response
 * clock) met its SLA's time, as a sentence (or ''), from the clock's failure time read after the update; only
 * where the policy shows it. A failure to read it leaves the answer without the sentence, not the update unsaid.
 */
export async function respondedAgainstSla(ctx: ToolContext, caseId: string, now: number): Promise<string> {
  const { expand } = slaReadBack(ctx.policy);
  if (!expand) return '';
  const row = await ctx.client
    .get('incident', caseId, { select: ['incidentid'], expand, signal: ctx.signal })
    .then((r) => r.row)
    .catch(() => ({}) as Record<string, unknown>);
  return againstSla(firstResponseDue(row), now, 'first response by', 'first response time');
}

/** " Within its SLA (<what> <when>)." or " 3 days after its SLA's <time> (<when>).", or '' without a time */
function againstSla(due: number, now: number, within: string, after: string): string {
  if (Number.isNaN(due)) return '';
  const when = utcMinute(due);
  if (now <= due) return ` Within its SLA (${within} ${when}).`;
  const late = span(now - due);
  return ` ${late[0]!.toUpperCase()}${late.slice(1)} after its SLA's ${after} (${when}).`;
}

/** a time apart as a person says it: "less than an hour", "5 hours", "3 days" */
function span(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 1) return 'less than an hour';
  return hours < 48 ? `${hours} hour${hours === 1 ? '' : 's'}` : `${Math.floor(hours / 24)} days`;
}

/** the case columns whose change moves its SLA: its state and status (on hold or off it), and its priority */
export const SLA_MOVERS = ['statecode', 'statuscode', 'prioritycode'];

/**
 * The columns a case's change of status or priority is read with, before and after, to say what it did to
 * its SLA (those the policy shows): Dynamics stamps lastonholdtime as it pauses the SLA of a case put on hold,
 * counts the wait in onholdtime as it resumes it, and moves resolveby on by the wait, or to the new priority's.
 */
export function slaColumns(policy: Policy): string[] {
  return ['resolveby', 'resolvebyslastatus', 'lastonholdtime', 'onholdtime'].filter((c) =>
    policy.canRead('incident', c),
  );
}

/**
 * What a case's change of status or priority did to its SLA, as a sentence (or ''), from slaColumns read
 * before and after it: paused while the case waits (put on hold), running again with its resolve-by time moved
 * on (taken off hold), or a new resolve-by time (a priority whose agreement asks for another). A waiting case's
 * clock is one a support lead would otherwise think is running out; a case taken off hold or escalated has a
 * new deadline the user needs at once. Where Dynamics moved none of them, nothing is said.
 */
export function slaMovedNote(before: Record<string, unknown> | undefined, after: Record<string, unknown>): string {
  // a case cancelled (from hold, say) has no SLA running to speak of: Dynamics cancels its clocks
  if (!before || (after.statecode !== undefined && after.statecode !== 0)) return '';
  const by = timeOf(after.resolveby);
  const deadline = Number.isNaN(by) ? '' : `resolve by ${utcMinute(by)}`;
  // a resolve-by clock that has failed (4 Noncompliant) or succeeded (3) is not paused by a wait
  const status = Number(after.resolvebyslastatus);
  const past = status === 4 ? ', already past' : '';
  const was = timeOf(before.resolveby);
  // moved as the user reads it, to the minute (a hold of seconds moves it by seconds: nothing to say)
  const changed = !!deadline && !Number.isNaN(was) && utcMinute(was) !== utcMinute(by);
  const from = changed ? ` (was ${utcMinute(was)})` : '';
  const paused = timeOf(after.lastonholdtime);
  if (!Number.isNaN(paused) && paused !== timeOf(before.lastonholdtime)) {
    if (status === 3) return '';
    if (status === 4) return deadline ? ` Its SLA is not paused: its resolve-by time had passed (${deadline}).` : '';
    return ` Its SLA is paused while it waits${deadline ? ` (${deadline}, moved on by the time it waits once it resumes)` : ''}.`;
  }
  const waited = Number(after.onholdtime ?? 0) - Number(before.onholdtime ?? 0);
  if (waited > 0)
    return ` Its SLA runs again after ${span(waited * 60_000)} on hold${deadline ? `: ${deadline}${past}${from}` : ''}.`;
  return changed ? ` Its SLA now asks for resolution by ${utcMinute(by)}${past}${from}.` : '';
}
