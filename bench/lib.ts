import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';

/** One line of bench/results.json. */
export interface Measure {
  id: string;
  name: string;
  value: number;
  unit: string;
  /** what the value is compared with, measured in the same run */
  baseline: number | null;
  /** e.g. "<= 1.3" on value (or on value/baseline when the unit is a ratio) */
  goal: string | null;
  met: boolean | null;
}

export const measures: Measure[] = [];

export function record(m: Measure): void {
  measures.push(m);
  const ratio = m.baseline ? ` (baseline ${round(m.baseline)} → ratio ${round(m.value / m.baseline)})` : '';
  process.stdout.write(
    `  ${m.id.padEnd(4)} ${m.name}: ${round(m.value)} ${m.unit}${ratio}${m.goal ? `  goal ${m.goal}: ${m.met ? 'met' : 'NOT met'}` : ''}\n`,
  );
}

export const round = (n: number) => (Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 100) / 100);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Runs `fn` `n` times (after `warmup` runs) and returns the wall times in ms. */
export async function times(n: number, fn: () => Promise<unknown>, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/**
 * Times two ways of doing the same thing in alternation (a, b, a, b, …) after `warmup` rounds of each, so
 * drift in the machine's speed during the run falls on both alike. Wall times in ms.
 */
export async function timesPaired(
  n: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  warmup = 2,
): Promise<{ a: number[]; b: number[] }> {
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const out = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    await a();
    out.a.push(performance.now() - t);
    t = performance.now();
    await b();
    out.b.push(performance.now() - t);
  }
  return out;
}

/** Samples this process's RSS while `fn` runs; returns the peak above the level at the start, in MB. */
export async function peakRss<T>(fn: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, peakMb: (peak - start) / 1e6 };
  } finally {
    clearInterval(timer);
  }
}

export function writeResults(path: string): void {
  writeFileSync(path, `${JSON.stringify({ measures }, null, 2)}\n`);
}

/**
 * A loopback port that was free a moment ago, for a server we spawn with --port and must then reach
 * (its log level stays at warn, so it does not print the port it chose itself).
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
