import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, record } from './lib.js';
import { ensurePeer, PEER_SERVER } from './peers.js';

interface Start {
  initMs: number;
  toolsListBytes: number;
}

/** Spawns a stdio server and times spawn → initialize response; then reads its tools/list payload. */
function coldStart(args: string[], env: Record<string, string>): Promise<Start> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH!, ...env },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let buffer = '';
    let initMs = 0;
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`no answer from ${args.join(' ')}`));
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        const msg = JSON.parse(line) as { id?: number };
        if (msg.id === 1) {
          initMs = performance.now() - t0;
          child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
          child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })}\n`);
        } else if (msg.id === 2) {
          clearTimeout(timer);
          child.stdin.end();
          child.kill();
          resolve({ initMs, toolsListBytes: Buffer.byteLength(JSON.stringify((msg as { result: unknown }).result)) });
        }
      }
    });
    child.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } })}\n`,
    );
  });
}

/** P7: stdio cold start vs mcp-dataverse 0.7.8, spawned the same way; P10: tools/list bytes vs the same peer. */
export async function benchStartup(): Promise<void> {
  process.stdout.write('stdio cold start and tools/list size, against mcp-dataverse 0.7.8\n');
  await ensurePeer();
  const creds = {
    AZURE_TENANT_ID: '11111111-1111-1111-1111-111111111111',
    AZURE_CLIENT_ID: '22222222-2222-2222-2222-222222222222',
    AZURE_CLIENT_SECRET: 'abc8Q~bench-secret-value',
  };
  // once initialised our server signs in by itself (transports/stdio.ts, warmUp): to loopback ports where
  // nothing listens, so the bench reaches no other address (the sign-in fails, after the answer timed here)
  const ours = {
    ...creds,
    DYNAMICS_URL: 'https://127.0.0.1:9',
    AZURE_AUTHORITY_HOST: 'https://127.0.0.1:9',
    LOG_LEVEL: 'warn',
  };
  const peer = {
    ...creds,
    AUTH_METHOD: 'client-credentials',
    DATAVERSE_ENV_URL: 'https://contoso.crm.dynamics.com',
    HOME: mkdtempSync(join(tmpdir(), 'peer-home-')),
  };
  const ourRuns: Start[] = [];
  const peerRuns: Start[] = [];
  for (let i = 0; i < 9; i++) {
    ourRuns.push(await coldStart([join(import.meta.dirname, '..', 'dist', 'index.js')], ours));
    peerRuns.push(await coldStart([PEER_SERVER], peer));
  }
  const o = median(ourRuns.map((r) => r.initMs));
  const p = median(peerRuns.map((r) => r.initMs));
  record({
    id: 'P7',
    name: 'stdio cold start (spawn → initialize response), median of 9, vs mcp-dataverse 0.7.8',
    value: o,
    unit: 'ms',
    baseline: p,
    goal: '<= 250 ms and <= 0.5x',
    met: o <= 250 && o <= p / 2,
  });
  const ob = ourRuns[0]!.toolsListBytes;
  const pb = peerRuns[0]!.toolsListBytes;
  // kilobytes of 1,000 bytes, as issue 7 counts them: its "about 109 KB" for the peer is the peer's ~109,500
  // bytes, so its 20 KB goal is 20,000 bytes (until 2026-12-01 this bench divided by 1,024: 480 bytes of slack)
  record({
    id: 'P10',
    name: 'tools/list payload a model reads first, vs mcp-dataverse 0.7.8',
    value: ob / 1000,
    unit: 'KB',
    baseline: pb / 1000,
    goal: '<= 20 KB (20,000 bytes)',
    met: ob <= 20_000,
  });
}
