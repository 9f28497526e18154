import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startEmulator } from '../src/emulator/index.js';
import { freePort, percentile, record } from './lib.js';
import { emulatorEnv } from './setup.js';

const SESSIONS = 200;
const CALLS = 20;

/** An error and what caused it (fetch's "fetch failed" says nothing without its cause). */
const why = (err: unknown): string => {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return `${String(err)}${cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : ''}`;
};

/** Peak RSS of another process (VmHWM), in MB. */
const peakRssMb = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** One P8 run; `nodeArgs` go before the script (V8 flags NODE_OPTIONS does not take); `goal`: recorded as met or not. */
async function run(stateless: boolean, id: string, nodeArgs: string[] = [], goal = true): Promise<void> {
  const emu = await startEmulator({ scale: 500, limits: { requestsPerWindow: 1_000_000 } });
  const caFile = join(tmpdir(), `dmcp-bench-http-${process.pid}.pem`);
  const configFile = join(tmpdir(), `dmcp-bench-http-${process.pid}.json`);
  writeFileSync(caFile, emu.ca);
  writeFileSync(
    configFile,
    JSON.stringify({ http: { port: 0, stateless, rateLimitPerMinute: 100_000, maxSessions: 1000 } }),
  );
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...nodeArgs, join(import.meta.dirname, '..', 'dist', 'index.js'), '--http', '--port', String(port)],
    {
      env: {
        PATH: process.env.PATH,
        NODE_EXTRA_CA_CERTS: caFile,
        ...emulatorEnv(emu),
        DYNAMICS_MCP_CONFIG: configFile,
        DYNAMICS_MCP_AUTH: 'none',
        // to measure a deployment setting, e.g. BENCH_NODE_OPTIONS=--max-semi-space-size=4 (README, hosted)
        ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  try {
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // one call first, so the measured run is the server under load, not its first token and metadata (P3, P7)
    const warm = new Client({ name: 'bench-warm', version: '1' });
    await warm.connect(new StreamableHTTPClientTransport(url));
    await warm.callTool({
      name: 'query_entities',
      arguments: { entity: 'account', select: ['name', 'revenue'], top: 5 },
    });
    await warm.close();
    const latencies: number[] = [];
    let errors = 0;
    // what went wrong, once per kind: a count alone says nothing about what to fix
    const seen = new Map<string, number>();
    const failed = (what: string) => {
      errors++;
      seen.set(what.slice(0, 300), (seen.get(what.slice(0, 300)) ?? 0) + 1);
    };
    // all sessions open first (initialize, tools/list), then every session makes its calls at once: the
    // latencies are of calls to a server holding 200 sessions, not of the 200 clients' own start-up
    // (all in this one process, where each compiles validators for the tools' output schemas)
    const clients: Client[] = [];
    await Promise.all(
      Array.from({ length: SESSIONS }, async (_, n) => {
        const client = new Client({ name: `bench-${n}`, version: '1' });
        try {
          await client.connect(new StreamableHTTPClientTransport(url));
          await client.listTools();
          clients.push(client);
        } catch (err) {
          failed(`connect: ${why(err)}`);
        }
      }),
    );
    const session = async (client: Client) => {
      try {
        for (let c = 0; c < CALLS; c++) {
          const t = performance.now();
          const r = (await client.callTool({
            name: 'query_entities',
            arguments: { entity: 'account', select: ['name', 'revenue'], top: 5 },
          })) as { isError?: boolean };
          latencies.push(performance.now() - t);
          if (r.isError) failed(`tool error: ${JSON.stringify((r as { content?: unknown }).content)}`);
        }
      } catch (err) {
        failed(`call: ${why(err)}`);
      } finally {
        await client.close().catch(() => {});
      }
    };
    await Promise.all(clients.map(session));
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const mem = peakRssMb(child.pid!);
    const mode = `${stateless ? 'stateless' : 'sessions'}${nodeArgs.length ? `, node ${nodeArgs.join(' ')}` : ''}`;
    for (const [what, n] of seen) console.error(`  ${mode}: ${n} × ${what}`);
    if (!goal) {
      // the same load without the server's own setting, to show what it does to memory in this run (its
      // latencies are not comparable: the third run has the bench process's emulator code warmer)
      if (errors) throw new Error(`${errors} errors in the ${mode} run: its numbers would mean nothing`);
      record({
        id: `${id}m`,
        name: `… peak RSS (${mode})`,
        value: mem,
        unit: 'MB',
        baseline: null,
        goal: null,
        met: null,
      });
      return;
    }
    record({
      id,
      name: `${SESSIONS} concurrent HTTP ${mode} × ${CALLS} calls: errors`,
      value: errors,
      unit: 'errors',
      baseline: null,
      goal: '0 errors, p99 <= 5x p50, memory <= 300 MB',
      met: errors === 0 && p99 <= 5 * p50 && mem <= 300,
    });
    record({
      id: `${id}l`,
      name: `… p99 latency vs p50 (${mode})`,
      value: p99,
      unit: 'ms',
      baseline: p50,
      goal: '<= 5x p50',
      met: p99 <= 5 * p50,
    });
    record({
      id: `${id}m`,
      name: `… peak RSS of the server process (${mode})`,
      value: mem,
      unit: 'MB',
      baseline: null,
      goal: '<= 300 MB',
      met: mem <= 300,
    });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await emu.close();
  }
}

/** P8: 200 concurrent sessions × 20 calls, with sessions and stateless. */
export async function benchHttp(): Promise<void> {
  process.stdout.write(`HTTP: ${SESSIONS} concurrent clients × ${CALLS} tool calls\n`);
  await run(false, 'P8');
  await run(true, 'P8s');
  // the server caps V8's heap growth in HTTP mode (src/heap.ts); 0 is V8's own growth
  await run(false, 'P8v', ['--heap-growing-percent=0'], false);
}
