import { setFlagsFromString } from 'node:v8';

/**
 * Hosted mode: let V8's heap grow to 2x what survived the last full collection before the next one (V8's own
 * factor goes up to 4x when collections are cheap). Under load, the calls in flight outlive young-generation
 * collections and are promoted; with V8's factor the old generation grew to ~4x its ~50 MB of live objects
 * before a full collection: a peak RSS of ~285 MB for P8's 200 sessions. At 2x it is ~205 MB with the same CPU
 * time and latencies; 1.5x gave ~180 MB for ~10% more CPU (npm run bench: P8, and P8vm without the cap). The flag is read at each
 * full collection, so setting it at start-up takes effect. An operator's own choice
 * (node --heap-growing-percent=N) is left alone.
 */
export function limitHeapGrowth(percent = 100): void {
  if (process.execArgv.some((a) => /^--heap[-_]growing[-_]percent/.test(a))) return;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
