/**
 * Fault injection (control API): the next N requests matching a method and a path prefix get a canned
 * response, a delay, or a dropped connection before processing (`reset`) or after committing (`reset-after`).
 */
export interface FaultSpec {
  /**
   * `inBatch`: the fault answers a request inside a $batch (one part, as Dataverse answers each part on its own),
   * with its `response`; the batch itself and its other parts go on
   */
  match: { method?: string; path?: string; inBatch?: boolean };
  response?: { status: number; headers?: Record<string, string>; body?: unknown };
  action?: 'reset' | 'reset-after';
  delayMs?: number;
  /** how many matching requests it applies to (default 1) */
  times?: number;
}

interface ActiveFault extends FaultSpec {
  remaining: number;
}

export class FaultTable {
  private faults: ActiveFault[] = [];

  add(spec: FaultSpec): void {
    if (!spec.match || typeof spec.match !== 'object') throw new Error('A fault needs "match": { "method", "path" }.');
    if (!spec.response && !spec.action && spec.delayMs === undefined)
      throw new Error('A fault needs "response", "action" ("reset" or "reset-after") or "delayMs".');
    if (spec.action && spec.action !== 'reset' && spec.action !== 'reset-after')
      throw new Error(`Unknown fault action '${spec.action}': use "reset" or "reset-after".`);
    const times = spec.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new Error('"times" must be a whole number of at least 1.');
    if (spec.match.inBatch && (!spec.response || spec.action || spec.delayMs !== undefined))
      throw new Error('A fault inside a $batch ("inBatch") takes a "response" only.');
    this.faults.push({ ...spec, remaining: times });
  }

  /** The first fault matching this request (a $batch part's, with `inBatch`), consuming one of its uses. */
  take(method: string, path: string, inBatch = false): FaultSpec | undefined {
    const i = this.faults.findIndex(
      (f) =>
        !!f.match.inBatch === inBatch &&
        (!f.match.method || f.match.method.toUpperCase() === method.toUpperCase()) &&
        path.startsWith(f.match.path ?? '/'),
    );
    if (i === -1) return undefined;
    const f = this.faults[i]!;
    if (--f.remaining <= 0) this.faults.splice(i, 1);
    return f;
  }

  clear(): void {
    this.faults = [];
  }

  get pending(): number {
    return this.faults.length;
  }
}
