import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchBulk } from './bulk.bench.js';
import { benchEmulator } from './emulator.bench.js';
import { benchHttp } from './http.bench.js';
import { measures, round, writeResults } from './lib.js';
import { benchReadAll } from './read-all.bench.js';
import { benchPipeline, benchServer } from './server.bench.js';
import { benchStartup } from './startup.bench.js';
import { benchThrottle } from './throttle.bench.js';

/**
 * npm run bench: every benchmark against a baseline measured in the same run, on this machine.
 * Everything binds to 127.0.0.1; every loop is bounded.
 */
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const suites: [string, () => Promise<void>][] = [
  ['emulator', benchEmulator],
  ['read-all', benchReadAll],
  ['server', benchServer],
  ['pipeline', benchPipeline],
  ['http', benchHttp],
  ['startup', benchStartup],
  ['bulk', benchBulk],
  ['throttle', benchThrottle],
];

// Each suite runs in a process of its own: a suite that seeds a 100,000-account organisation leaves the next
// one a large, fragmented heap whose collections land inside its timings (P5 measured 0.07-0.08 alone and
// 0.09-0.10 after the others). The child writes what it measured for the parent to print and keep.
const child = process.env.DMCP_BENCH_CHILD_OUT;
if (child) {
  for (const [name, run] of suites) if (only.includes(name)) await run();
  writeFileSync(child, JSON.stringify(measures));
  process.exit(0);
}

// each suite's wall time, so that "a few minutes in all" can be checked from the output
const took: string[] = [];
const started = performance.now();
// Every file a suite writes (CA bundles, configs, the peer's HOME) goes under one directory per run, through
// TMPDIR, and is removed when the run ends, passed or failed.
const runDir = mkdtempSync(join(tmpdir(), 'dmcp-bench-'));
try {
  for (const [name] of suites) {
    if (only.length && !only.includes(name)) continue;
    const t = performance.now();
    const file = join(runDir, `${name}.json`);
    const code = await new Promise<number | null>((resolve) =>
      spawn(process.execPath, [...process.execArgv, process.argv[1]!, name], {
        stdio: 'inherit',
        env: { ...process.env, TMPDIR: runDir, DMCP_BENCH_CHILD_OUT: file },
      }).on('exit', resolve),
    );
    if (code !== 0) throw new Error(`bench suite ${name} failed (exit ${code})`);
    measures.push(...(JSON.parse(readFileSync(file, 'utf8')) as typeof measures));
    took.push(`${name} ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
} finally {
  rmSync(runDir, { recursive: true, force: true });
}
const out = join(import.meta.dirname, 'results.json');
writeResults(out);
process.stdout.write(
  `\n${'id'.padEnd(5)}${'value'.padStart(12)}${'baseline'.padStart(12)}${'ratio'.padStart(9)}  goal\n`,
);
for (const m of measures) {
  const ratio = m.baseline ? round(m.value / m.baseline) : '';
  process.stdout.write(
    `${m.id.padEnd(5)}${`${round(m.value)} ${m.unit}`.padStart(12)}${(m.baseline === null ? '' : String(round(m.baseline))).padStart(12)}${String(ratio).padStart(9)}  ${m.goal ?? ''}${m.met === null ? '' : m.met ? ' met' : ' NOT met'}\n`,
  );
}
process.stdout.write(
  `\ntook ${((performance.now() - started) / 1000).toFixed(0)} s (${took.join(', ')})\nwrote ${out}\n`,
);
