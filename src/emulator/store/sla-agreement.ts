/**
 * The demo organisation's default service level agreement: hours from a case's creation to the warning and the
 * failure of its first response and of its resolution, by priority (1 High, 2 Normal, 3 Low). An example, not
 * one Microsoft ships; as a default SLA does, it applies to every case (the seeded ones, and each one created).
 */
export const SLA_HOURS: Record<number, { first: [number, number]; resolve: [number, number] }> = {
  1: { first: [4, 8], resolve: [3 * 24, 5 * 24] },
  2: { first: [24, 48], resolve: [14 * 24, 21 * 24] },
  3: { first: [48, 72], resolve: [21 * 24, 30 * 24] },
};

/**
 * The case status reasons the demo organisation's service configuration pauses its SLA on: On Hold and Waiting
 * for Details, the case waiting on someone else ("Select valid On Hold Case Statuses to pause SLA calculation",
 * System Settings' Service tab; which ones is each organisation's choice).
 */
export const PAUSING_REASONS: readonly number[] = [2, 3];

/** whether the case `row` waits, its SLA paused */
export const waiting = (row: Record<string, unknown>) =>
  row.statecode === 0 && PAUSING_REASONS.includes(Number(row.statuscode));

export type Clock = 'first' | 'resolve';

/** the KPI instance's name, as the SLA item names it */
export const CLOCK_NAME: Record<Clock, string> = { first: 'First Response By KPI', resolve: 'Resolve By KPI' };

/** when a clock of a case opened at `opened` (ms) with `priority` warns and fails (ms) */
export function clockTimes(priority: unknown, opened: number, clock: Clock): { warning: number; failure: number } {
  const [warn, fail] = (SLA_HOURS[Number(priority)] ?? SLA_HOURS[2]!)[clock];
  return { warning: opened + warn * 3_600_000, failure: opened + fail * 3_600_000 };
}

/**
 * a running clock's status by `now` (ms): 1 Noncompliant past its failure time, 2 Nearing Noncompliance past
 * its warning time, else 0 In Progress
 */
export const statusBy = (warning: number, failure: number, now: number): 0 | 1 | 2 =>
  now >= failure ? 1 : now >= warning ? 2 : 0;
