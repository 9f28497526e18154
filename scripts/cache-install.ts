import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Installs tools beside the project (node_modules/.cache/<name>), not as dependencies of it. */
export async function installIntoCache(dir: string, packages: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `cache-${packages.length}-tools`, private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefix', dir, ...packages], { timeout: 300_000 });
}
