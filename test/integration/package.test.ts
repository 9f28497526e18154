import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

// What `npx -y dynamics-mcp` downloads is what `npm pack` packs (npm test has just built dist). Once, a
// working copy's dist held every earlier build's chunks (esbuild never removes them): 1,315 files, 172 MB.
describe('the published package', () => {
  it('holds the built server, its README and example config, and nothing else', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      maxBuffer: 16 << 20,
    });
    const [pack] = JSON.parse(stdout) as { files: { path: string }[]; unpackedSize: number }[];
    const paths = pack!.files.map((f) => f.path);
    expect(paths).toContain('dist/index.js');
    expect(paths).toEqual(expect.arrayContaining(['README.md', 'mcp.config.example.json', 'package.json']));
    const other = paths.filter(
      (p) => !/^dist\/.+\.js(\.map)?$/.test(p) && !['README.md', 'mcp.config.example.json', 'package.json'].includes(p),
    );
    expect(other).toEqual([]);
    // tsc's output is the server's own modules only, not the tests or benchmarks
    expect(paths.filter((p) => /^dist\/(test|bench|scripts|src)\//.test(p))).toEqual([]);
    expect(pack!.unpackedSize).toBeLessThan(20e6);
  });

  it("dist's chunks are this build's: each is loaded by the entry or another chunk", () => {
    const dir = join(root, 'dist', 'chunks');
    const chunks = readdirSync(dir).filter((f) => f.endsWith('.js'));
    const code = new Map(chunks.map((c) => [c, readFileSync(join(dir, c), 'utf8')]));
    const entry = readFileSync(join(root, 'dist', 'index.js'), 'utf8');
    // named by the entry or by another chunk (a chunk names itself in its sourceMappingURL)
    const unused = chunks.filter(
      (c) => !entry.includes(c) && ![...code].some(([o, text]) => o !== c && text.includes(c)),
    );
    expect(unused).toEqual([]);
  });
});
