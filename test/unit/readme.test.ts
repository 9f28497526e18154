import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReadme } from '../../scripts/readme.js';
import { ENV_VARS } from '../../src/config/reference.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('README', () => {
  it('its tool and configuration tables are the ones the code generates (npm run readme)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(renderReadme(readme)).toBe(readme);
  });

  it('documents exactly the environment variables the loader reads', () => {
    const loader = readFileSync(join(ROOT, 'src', 'config', 'load.ts'), 'utf8');
    const read = new Set([...loader.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
    expect([...read].sort()).toEqual(ENV_VARS.map((v) => v.name).sort());
  });

  it('its quick start is the two commands the project supports', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /## Quick start\s+```sh\n([\s\S]*?)```/.exec(readme)![1]!.trim().split('\n');
    expect(block).toEqual(['npm ci && npm start', 'npm test']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toContain('--demo --http');
  });
});
