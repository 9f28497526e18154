import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { installIntoCache } from '../scripts/cache-install.js';

export const PEER_DIR = join(import.meta.dirname, '..', 'node_modules', '.cache', 'bench-peers');
export const PEER_SERVER = join(PEER_DIR, 'node_modules', 'mcp-dataverse', 'dist', 'server.js');

/** The closest peer, mcp-dataverse 0.7.8 (with the ext-apps package it needs), installed beside the project on first use. */
export async function ensurePeer(): Promise<void> {
  if (!existsSync(PEER_SERVER))
    await installIntoCache(PEER_DIR, ['mcp-dataverse@0.7.8', '@modelcontextprotocol/ext-apps']);
}
