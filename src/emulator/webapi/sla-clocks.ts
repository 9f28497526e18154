import { CLOCK_NAME, type Clock, clockTimes } from '../store/sla-agreement.js';
import { isLookupRef, type Row } from '../store/store.js';
import type { QueryEnv } from './env.js';
import { isoNow } from './values.js';

/**
 * A case's SLA clocks (slakpiinstance: status 0 In Progress, 1 Noncompliant, 2 Nearing Noncompliance, 3 Paused,
 * 4 Succeeded, 5 Canceled) as the case's own changes move them. The SLA engine that does this is not emulated;
 * these are its effects as the usual SLA has them (GUESS: it may make them a moment later). `patch` writes a
 * clock (writes.ts' patchRow, by the action).
 */
type PatchClock = (id: string, change: Record<string, unknown>) => void;

/**
 * A new case's clocks, as its default SLA starts them when the case is created (msdyn_ManageSLAInstances
 * "manages create and update of SLA instances on create/update of target entity record"): a first response and
 * a resolve-by KPI instance, In Progress from now, timed by the case's priority (sla-agreement.ts), the case
 * naming them with their statuses (1 In Progress) and its resolve-by time. `make` creates a KPI instance and
 * returns its id. GUESS: a priority changed later does not move them (an SLA item's conditions are not
 * emulated), and the clocks do not move with time.
 */
export function startClocks(env: QueryEnv, row: Row, make: (values: Record<string, unknown>) => string): void {
  const opened = env.now.getTime();
  const start = (clock: Clock) => {
    const { warning, failure } = clockTimes(row.prioritycode, opened, clock);
    const id = make({ name: CLOCK_NAME[clock], status: 0, warningtime: iso(warning), failuretime: iso(failure) });
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
  });
}

const iso = (ms: number) => isoNow(new Date(ms));

/** a clock still running: In Progress, Nearing Noncompliance, Paused */
const RUNNING: readonly number[] = [0, 2, 3];

/**
 * Stops the clock `ref` names if its status is one of `from`: Succeeded (with when) up to its failure time,
 * Noncompliant after. Returns whether it was met, or undefined where there was no such clock.
 */
export function stopClock(
  env: QueryEnv,
  ref: unknown,
  patch: PatchClock,
  from: readonly number[] = RUNNING,
): boolean | undefined {
  const kpi = isLookupRef(ref) ? env.store.table('slakpiinstance').get(ref.id) : undefined;
  if (!kpi || !from.includes(Number(kpi.status))) return undefined;
  const met = env.now.getTime() <= Date.parse(String(kpi.failuretime));
  patch(String(kpi.slakpiinstanceid), met ? { status: 4, succeededon: isoNow(env.now) } : { status: 1 });
  return met;
}

/**
 * A case canceled: its running clocks are Canceled, as when an SLA's "applicable when" no longer holds ("The SLA
 * KPI instance status shows as Canceled"; GUESS: an SLA that applies to active cases). A clock that succeeded or
 * failed stays so.
 */
export function cancelClocks(env: QueryEnv, row: Row, patch: PatchClock): void {
  for (const ref of [row.firstresponsebykpiid, row.resolvebykpiid]) {
    const kpi = isLookupRef(ref) ? env.store.table('slakpiinstance').get(ref.id) : undefined;
    if (kpi && RUNNING.includes(Number(kpi.status))) patch(String(kpi.slakpiinstanceid), { status: 5 });
  }
}

/** the case's status of a clock stopped (firstresponseslastatus, resolvebyslastatus: 3 Succeeded, 4 Noncompliant) */
export const caseSlaStatus = (met: boolean) => (met ? 3 : 4);
