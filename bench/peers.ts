import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const PEER_DIR = join(import.meta.dirname, '..', 'node_modules', '.cache', 'bench-peers');
export const PEER_SERVER = join(PEER_DIR, 'node_modules', 'mcp-dataverse', 'dist', 'server.js');

/** The closest peer, mcp-dataverse 0.7.8 (with the ext-apps package it needs), installed beside the project on first use. */
export async function ensurePeer(): Promise<void> {
  if (existsSync(PEER_SERVER)) return;
  mkdirSync(PEER_DIR, { recursive: true });
  writeFileSync(join(PEER_DIR, 'package.json'), JSON.stringify({ name: 'bench-peers', private: true }));
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefix',
      PEER_DIR,
      'mcp-dataverse@0.7.8',
      '@modelcontextprotocol/ext-apps',
    ],
    { timeout: 300_000 },
  );
}
