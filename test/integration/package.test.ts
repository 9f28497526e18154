import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/**
 * Starts the server at dir/index.js, says initialize and ends it: its one line of answer, and whether it exited
 * by itself (a server still running 10 s after its input ended is killed).
 */
const startIn = (dir: string, env: Record<string, string> = {}) =>
  new Promise<string>((resolve, reject) => {
    const server = spawn(process.execPath, [join(dir, 'index.js')], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME ?? '/nonexistent',
        AZURE_TENANT_ID: '00000000-0000-4000-8000-000000000001',
        AZURE_CLIENT_ID: '00000000-0000-4000-8000-000000000002',
        AZURE_CLIENT_SECRET: 'not-a-secret',
        DYNAMICS_URL: 'https://127.0.0.1:9',
        AZURE_AUTHORITY_HOST: 'https://127.0.0.1:9',
        LOG_LEVEL: 'silent',
        ...env,
      },
    });
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) server.stdin.end();
    });
    const hung = setTimeout(() => server.kill('SIGKILL'), 10_000);
    server.once('error', reject);
    server.once('exit', (_code, signal) => {
      clearTimeout(hung);
      resolve(signal === 'SIGKILL' ? `${out}(killed: it did not exit)` : out);
    });
    server.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n`,
    );
  });

/** A copy of dist's entry and bundle in a directory of its own (the build's own cache left alone), and its cache's name. */
function entryCopy(): { dir: string; cacheName: string } {
  const dir = join(root, 'node_modules', '.cache', `dmcp-entry-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  for (const f of ['index.js', 'dynamics-mcp.cjs']) copyFileSync(join(root, 'dist', f), join(dir, f));
  const cacheName = readFileSync(join(dir, 'index.js'), 'utf8').match(/dynamics-mcp-[0-9a-f]{16}\.cache/)![0];
  return { dir, cacheName };
}

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
      (p) =>
        !/^dist\/.+\.c?js(\.map)?$/.test(p) && !['README.md', 'mcp.config.example.json', 'package.json'].includes(p),
    );
    expect(other).toEqual([]);
    // tsc's output is the server's own modules only, not the tests or benchmarks
    expect(paths.filter((p) => /^dist\/(test|bench|scripts|src)\//.test(p))).toEqual([]);
    expect(pack!.unpackedSize).toBeLessThan(20e6);
  });

  // dist/index.js runs the bundle through V8's code cache (scripts/entry.mjs): the cache it reads must be this
  // build's, as V8 would take another build's code for a bundle of the same length
  it("dist's entry starts this build's bundle, and reads only a code cache named for it", () => {
    const dist = join(root, 'dist');
    const entry = readFileSync(join(dist, 'index.js'), 'utf8');
    const bundle = readFileSync(join(dist, 'dynamics-mcp.cjs'));
    const hash = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
    expect(entry).toContain(`'dynamics-mcp-${hash}.cache'`);
    expect(entry.startsWith('#!/usr/bin/env node')).toBe(true);
    // nothing of an earlier build's layout left to load (its chunks, tsc's map of the entry it replaced)
    expect(
      readdirSync(dist).filter((f) => /^(chunks|index\.js\.map)$/.test(f) || (/\.cache$/.test(f) && !f.includes(hash))),
    ).toEqual([]);
  });

  it('the code cache is never published: it is made by the Node that runs the server', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      maxBuffer: 16 << 20,
    });
    const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
    expect(
      existsSync(join(root, 'dist', readdirSync(join(root, 'dist')).find((f) => f.endsWith('.cache')) ?? 'none')),
    ).toBe(true);
    expect(pack!.files.map((f) => f.path).filter((p) => p.endsWith('.cache'))).toEqual([]);
  });

  it('a code cache V8 refuses (damaged, or made by another Node) is replaced, and the server starts regardless', async () => {
    // a copy of the entry and the bundle, so that the servers other tests start keep the build's own cache
    const { dir, cacheName } = entryCopy();
    try {
      const cache = join(dir, cacheName);
      writeFileSync(cache, Buffer.alloc(4096, 7));
      const start = () => startIn(dir);
      expect(JSON.parse(await start()).result.serverInfo.name).toBe('dynamics-mcp');
      const made = readFileSync(cache);
      expect(made.length).toBeGreaterThan(100_000);
      expect(made.equals(Buffer.alloc(4096, 7))).toBe(false);
      // taken as it is by the next start, which leaves it alone
      const modified = statSync(cache).mtimeMs;
      expect(JSON.parse(await start()).result.serverInfo.name).toBe('dynamics-mcp');
      expect(statSync(cache).mtimeMs).toBe(modified);
      expect(readdirSync(dir).filter((f) => f.includes('.cache.'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // an install dist cannot be written to (by root for every user, a read-only image) started compiling every
  // time (~264 ms of a start): the cache goes to the user's own cache directory (XDG's here), never /tmp
  it.skipIf(process.platform !== 'linux')(
    "where dist cannot hold the code cache, it is kept in the user's cache directory, with this build's alone",
    async () => {
      const { dir, cacheName } = entryCopy();
      try {
        // the cache's place in dist taken by a directory: neither read nor written there (root writes anywhere)
        mkdirSync(join(dir, cacheName, 'taken'), { recursive: true });
        const xdg = join(dir, 'xdg');
        const userDir = join(xdg, 'dynamics-mcp');
        mkdirSync(userDir, { recursive: true });
        // an earlier build's cache goes; anything else there stays
        writeFileSync(join(userDir, 'dynamics-mcp-0123456789abcdef.cache'), 'old');
        writeFileSync(join(userDir, 'notes.txt'), 'mine');
        const start = () => startIn(dir, { XDG_CACHE_HOME: xdg });
        expect(JSON.parse(await start()).result.serverInfo.name).toBe('dynamics-mcp');
        expect(readdirSync(userDir).sort()).toEqual([cacheName, 'notes.txt']);
        const cache = join(userDir, cacheName);
        expect(statSync(cache).size).toBeGreaterThan(100_000);
        // read from there by the next start, which leaves it alone
        const modified = statSync(cache).mtimeMs;
        expect(JSON.parse(await start()).result.serverInfo.name).toBe('dynamics-mcp');
        expect(statSync(cache).mtimeMs).toBe(modified);
        expect(readdirSync(join(dir, cacheName))).toEqual(['taken']);
        // with no home to keep it in, no cache: the server starts and exits as before (under /proc, Node's
        // recursive mkdir spun forever, the server never exiting)
        for (const HOME of ['/proc/dmcp-no-home', join(dir, 'no-home')]) {
          expect(await startIn(dir, { HOME })).toMatch(/"serverInfo":\{"name":"dynamics-mcp".*\n$/);
          expect(existsSync(HOME)).toBe(false);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
