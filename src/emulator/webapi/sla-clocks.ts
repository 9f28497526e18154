import { CLOCK_NAME, type Clock, clockTimes, statusBy, waiting } from '../store/sla-agreement.js';
import { isLookupRef, type Row } from '../store/store.js';
import type { QueryEnv } from './env.js';
import { isoNow } from './values.js';

/**
 * A case's SLA clocks (slakpiinstance: status 0 In Progress, 1 Noncompliant, 2 Nearing Noncompliance, 3 Paused,
 * 4 Succeeded, 5 Canceled) as the case's own changes and time move them. The SLA engine that does this is
 * not emulated; these are its effects as the usual SLA has them (GUESS: it may make them a moment later).
 * A case reactivated gets no new clocks: its SLA does not restart by itself (reported of enhanced SLAs whose
 * Applicable From is Created On: "the SLA KPI instance has not changed … there will be no new KPI instance").
 * `patch` writes a clock (writes.ts' patchRow, by the action).
 */
type PatchClock = (id: string, change: Record<string, unknown>) => void;

/**
 * A new case's clocks, as its default SLA starts them when the case is created (msdyn_ManageSLAInstances
 * "manages create and update of SLA instances on create/update of target entity record"): a first response and
 * a resolve-by KPI instance, In Progress from now, timed by the case's priority (sla-agreement.ts), the case
 * naming them with their statuses (1 In Progress) and its resolve-by time. `make` creates a KPI instance and
 * returns its id. (SlaTimer moves them as their times come.)
 */
export function startClocks(env: QueryEnv, row: Row, make: (values: Record<string, unknown>) => string): void {
  const opened = env.now.getTime();
  // a case opened on hold is paused from the start
  const held = waiting(row);
  const start = (clock: Clock) => {
    const { warning, failure } = clockTimes(row.prioritycode, opened, clock);
    const status = held ? 3 : 0;
    const id = make({ name: CLOCK_NAME[clock], status, warningtime: iso(warning), failuretime: iso(failure) });
    return { ref: { id, entity: 'slakpiinstance' }, failure };
  };
  const first = start('first');
  const resolve = start('resolve');
  Object.assign(row, {
    firstresponsebykpiid: first.ref,
    firstresponseslastatus: 1,
    firstresponsesent: row.firstresponsesent ?? false,
    resolvebykpiid: resolve.ref,
    resolvebyslastatus: 1,
    resolveby: iso(resolve.failure),
    ...(held ? { lastonholdtime: isoNow(env.now) } : {}),
  });
}

const iso = (ms: number) => isoNow(new Date(ms));

/** a clock still running: In Progress, Nearing Noncompliance, Paused */
const RUNNING: readonly number[] = [0, 2, 3];

/** a case's two clocks: the lookup naming each, and the case's column showing its status */
const CASE_CLOCKS = [
  { clock: 'first', ref: 'firstresponsebykpiid', status: 'firstresponseslastatus' },
  { clock: 'resolve', ref: 'resolvebykpiid', status: 'resolvebyslastatus' },
] as const;

/** the KPI instance a case's lookup names, where there is one */
const kpiOf = (env: QueryEnv, ref: unknown) =>
  isLookupRef(ref) ? env.store.table('slakpiinstance').get(ref.id) : undefined;

/**
 * A clock paused since `since` (ms) resumed at `now`: its warning and failure times moved on by the time it
 * was paused ("Hold time will be considered, and the Warning and Failure time will be extended based on hold
 * time", SLA timer troubleshooting; the demo organisation works round the clock, so all of it counts), and
 * elapsedtime ("Paused duration of a KPI", minutes) grown by it. Its status is where the moved times put it.
 */
function resumed(kpi: Row, since: number, now: number): { status: 0 | 1 | 2; [column: string]: number | string } {
  const held = heldFor(since, now);
  const warning = Date.parse(String(kpi.warningtime)) + held;
  const failure = Date.parse(String(kpi.failuretime)) + held;
  return {
    status: statusBy(warning, failure, now),
    warningtime: iso(warning),
    failuretime: iso(failure),
    elapsedtime: (Number(kpi.elapsedtime) || 0) + Math.floor(held / 60_000),
  };
}

/** how long a case on hold since `since` (ms; NaN where it never said) has waited by `now` */
const heldFor = (since: number, now: number) => (Number.isNaN(since) ? 0 : Math.max(0, now - since));

/** the case's status of a running clock (firstresponseslastatus, resolvebyslastatus) by the clock's */
const CASE_STATUS = { 0: 1, 1: 4, 2: 2 } as const;

/**
 * A case put on hold, or taken off it (sla-agreement.ts' PAUSING_REASONS): its running clocks are Paused,
 * and the case keeps when (lastonholdtime, "the date and time stamp of the last on hold time"); taken off hold,
 * each paused clock resumes (resumed) and the case counts the wait in onholdtime ("how long, in minutes, that
 * the record was on hold"), its resolve-by time the resolve clock's new failure time and its statuses the
 * clocks'. A case closed from hold resumes first: resolving then judges its clock by the moved time, as
 * cancelling cancels it. The clocks as the case shows them stay In Progress while paused (GUESS: its status
 * columns have no Paused).
 */
export function holdClocks(env: QueryEnv, existing: Row, row: Row, patch: PatchClock): void {
  const was = waiting(existing);
  if (was === waiting(row)) return;
  const now = env.now.getTime();
  if (!was) row.lastonholdtime = isoNow(env.now);
  const since = Date.parse(String(existing.lastonholdtime));
  if (was) row.onholdtime = (Number(existing.onholdtime) || 0) + Math.floor(heldFor(since, now) / 60_000);
  for (const { clock, ref, status } of CASE_CLOCKS) {
    const kpi = kpiOf(env, row[ref]);
    if (!kpi) continue;
    if (!was && (kpi.status === 0 || kpi.status === 2)) patch(String(kpi.slakpiinstanceid), { status: 3 });
    if (!was || kpi.status !== 3) continue;
    const change = resumed(kpi, since, now);
    patch(String(kpi.slakpiinstanceid), change);
    row[status] = CASE_STATUS[change.status];
    if (clock === 'resolve') row.resolveby = change.failuretime!;
  }
}

/**
 * A case's priority changed while it is open: the agreement's item for the old priority no longer applies, so
 * its running clocks are Canceled ("When you update the target record, so that the Applicable when/from changes
 * condition is no more applicable, the SLA KPI status moves … to the Canceled state"), and the item for the new
 * priority starts its own, timed from when the case was opened (the SLA's Applicable From, Created On) and
 * moved on by the time the old one was paused; paused still where it was. The case names the new clocks, and
 * its resolve-by time is the new one's. `make` creates a KPI instance and returns its id. GUESS: a clock that
 * already succeeded or failed is left as it was.
 */
export function retimeClocks(
  env: QueryEnv,
  existing: Row,
  row: Row,
  patch: PatchClock,
  make: (values: Record<string, unknown>) => string,
): void {
  if (row.statecode !== 0 || Number(row.prioritycode) === Number(existing.prioritycode)) return;
  const opened = Date.parse(String(row.createdon));
  const now = env.now.getTime();
  for (const { clock, ref, status } of CASE_CLOCKS) {
    const kpi = kpiOf(env, row[ref]);
    if (!kpi || !RUNNING.includes(Number(kpi.status))) continue;
    patch(String(kpi.slakpiinstanceid), { status: 5 });
    const paused = (Number(kpi.elapsedtime) || 0) * 60_000;
    const { warning, failure } = clockTimes(row.prioritycode, opened, clock);
    const next = kpi.status === 3 ? 3 : statusBy(warning + paused, failure + paused, now);
    const id = make({
      name: CLOCK_NAME[clock],
      status: next,
      warningtime: iso(warning + paused),
      failuretime: iso(failure + paused),
      elapsedtime: kpi.elapsedtime ?? null,
    });
    row[ref] = { id, entity: 'slakpiinstance' };
    if (next !== 3) row[status] = CASE_STATUS[next];
    if (clock === 'resolve') row.resolveby = iso(failure + paused);
  }
}

/**
 * Stops the clock `ref` names if its status is one of `from`: Succeeded (with when) up to its failure time,
 * Noncompliant after. A paused clock (the case on hold since `heldSince`) is resumed first, its times moved on
 * by the wait, as taking the case off hold would. Returns whether it was met, or undefined where there was no
 * such clock.
 */
export function stopClock(
  env: QueryEnv,
  ref: unknown,
  patch: PatchClock,
  from: readonly number[] = RUNNING,
  heldSince?: unknown,
): boolean | undefined {
  const kpi = kpiOf(env, ref);
  if (!kpi || !from.includes(Number(kpi.status))) return undefined;
  const now = env.now.getTime();
  const moved = kpi.status === 3 ? resumed(kpi, Date.parse(String(heldSince)), now) : undefined;
  const met = now <= Date.parse(String(moved?.failuretime ?? kpi.failuretime));
  patch(String(kpi.slakpiinstanceid), {
    ...moved,
    ...(met ? { status: 4, succeededon: isoNow(env.now) } : { status: 1 }),
  });
  return met;
}

/**
 * A case canceled: its running clocks are Canceled, as when an SLA's "applicable when" no longer holds ("The SLA
 * KPI instance status shows as Canceled"; GUESS: an SLA that applies to active cases). A clock that succeeded or
 * failed stays so.
 */
export function cancelClocks(env: QueryEnv, row: Row, patch: PatchClock): void {
  for (const { ref } of CASE_CLOCKS) {
    const kpi = kpiOf(env, row[ref]);
    if (kpi && RUNNING.includes(Number(kpi.status))) patch(String(kpi.slakpiinstanceid), { status: 5 });
  }
}

/** the case's status of a clock stopped (firstresponseslastatus, resolvebyslastatus: 3 Succeeded, 4 Noncompliant) */
export const caseSlaStatus = (met: boolean) => (met ? 3 : 4);

/** when a clock next moves by itself: a running one at its warning time, then at its failure time */
function nextMove(kpi: Row): number {
  const at = kpi.status === 0 ? kpi.warningtime : kpi.status === 2 ? kpi.failuretime : undefined;
  const ms = at === undefined ? Number.NaN : Date.parse(String(at));
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/**
 * The SLA's timer: a clock's warning and failure actions move it when its time comes ("When a KPI instance
 * reaches its warning threshold, agents and supervisors can be notified … When it reaches the failure threshold
 * without the success condition being met, the status moves to Non-compliant"): a running clock past its
 * warning time is Nearing Noncompliance, past its failure time Noncompliant, and its case shows it (2, 4) as
 * the SLA updates it. A paused clock does not move. Looked at before each request: the earliest time a clock
 * moves is kept, so a request before it costs nothing, and every clock written (`written`) may bring it nearer.
 * GUESS: Dynamics moves them a moment after their time, by its own background job; here, at the next request.
 */
export class SlaTimer {
  private next = 0;

  /** a clock started, resumed, timed anew or written by a client: it may move before the next time known */
  written(kpi: Row): void {
    this.next = Math.min(this.next, nextMove(kpi));
  }

  /** the organisation seeded again: every clock is looked at */
  reset(): void {
    this.next = 0;
  }

  /** whether some clock's time may have come by `now` (ms): before it, a request costs this comparison alone */
  due(now: number): boolean {
    return now >= this.next;
  }

  /** moves the clocks whose time has come (`patch` writes a clock, `patchCase` a case, as the SLA does) */
  advance(env: QueryEnv, patch: PatchClock, patchCase: (id: string, change: Record<string, unknown>) => void): void {
    const now = env.now.getTime();
    if (!this.due(now)) return;
    const moved = new Map<string, 1 | 2>();
    let next = Number.POSITIVE_INFINITY;
    for (const kpi of env.store.table('slakpiinstance').rows.values()) {
      if (kpi.status !== 0 && kpi.status !== 2) continue;
      const to = statusBy(Date.parse(String(kpi.warningtime)), Date.parse(String(kpi.failuretime)), now);
      if (to !== 0 && to !== kpi.status) moved.set(String(kpi.slakpiinstanceid), to);
      next = Math.min(next, nextMove({ ...kpi, status: to }));
    }
    this.next = next;
    if (!moved.size) return;
    for (const [id, status] of moved) patch(id, { status });
    // the cases naming the clocks moved, found first and written after (no table written while it is read)
    const cases: [string, Record<string, unknown>][] = [];
    for (const c of env.store.table('incident').rows.values()) {
      const change: Record<string, unknown> = {};
      for (const { ref, status } of CASE_CLOCKS) {
        const named = c[ref];
        const to = isLookupRef(named) ? moved.get(named.id) : undefined;
        if (to !== undefined) change[status] = CASE_STATUS[to];
      }
      if (Object.keys(change).length) cases.push([String(c.incidentid), change]);
    }
    for (const [id, change] of cases) patchCase(id, change);
  }
}
