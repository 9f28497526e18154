import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

// Follows the README's quick start literally, in a clean clone of this repository's HEAD:
// its first command (install, then start the demo), a client connecting and calling a tool, then Ctrl-C.
describe('README quick start from a clean clone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmcp-quickstart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('npm ci && npm start serves the demo; a client calls a tool; Ctrl-C stops it', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const first = /## Quick start\s+```sh\n([^\n]+)/.exec(readme)![1]!.trim();
    expect(first).toBe('npm ci && npm start');
    await run('git', ['clone', '--quiet', ROOT, join(dir, 'p')]);
    const cwd = join(dir, 'p');
    // the install step on its own (offline-first: CI's own npm ci has filled the cache)
    await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd, timeout: 240_000 });
    const child = spawn('sh', ['-c', 'npm start'], {
      cwd,
      // port 0: the system picks a free port, and the banner shows the one in use
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, PORT: '0' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      for (let i = 0; i < 600 && !output.includes('Stop with Ctrl-C'); i++)
        await new Promise((r) => setTimeout(r, 100));
      const url = /MCP endpoint \(Streamable HTTP\): +(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(output)?.[1];
      expect(url).toBeDefined();
      expect(output).toContain('not real data');
      // what the banner says to paste into Claude Desktop is the demo entry of mcp.config.example.json
      // ("-y" included: without it npx asks to install, and a client without a terminal cannot answer)
      const pasted = /Claude Desktop +use stdio: (\{.*?\}) /.exec(output)?.[1];
      const example = JSON.parse(readFileSync(join(ROOT, 'mcp.config.example.json'), 'utf8'));
      expect(JSON.parse(pasted ?? 'null')).toEqual(example.mcpServers['dynamics-demo']);
      const client = new Client({ name: 'quickstart', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url!)));
      const r = (await client.callTool({
        name: 'query_entities',
        arguments: { entity: 'account', top: 3, select: ['name'] },
      })) as any;
      expect(r.structuredContent.records).toHaveLength(3);
      await client.close();
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      process.kill(-child.pid!, 'SIGINT');
      await exited;
    }
  }, 300_000);
});
