// The command-line entry as one CommonJS bundle, dist/dynamics-mcp.cjs, started by dist/index.js (scripts/entry.mjs)
// through V8's code cache: loading one file instead of hundreds of modules halved the stdio cold start, and the
// code cache takes a tenth more off it (CommonJS, as V8 caches a script's code, not an ES module's, on Node 20).
// Parts only some commands need (the emulator, doctor) are bundled too; they run only when used (esbuild
// evaluates a lazily imported module at its import). tsc's per-module output stays beside it for importers.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

/**
 * zod's 40-odd locales, of which it uses English alone (its schemas register it), are a sixth of what the
 * server loads at start: `z` is a namespace object holding `z.locales`, so esbuild cannot drop them. The
 * locales module is given English only; `z.locales.en` stays, the translations we never configure go.
 */
const englishOnly = {
  name: 'zod-english-only',
  setup(b) {
    const en = createRequire(import.meta.url).resolve('zod/v4/locales/en.js');
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: 'zod-locales', namespace: 'english-only' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'english-only' }, () => ({
      contents: `export { default as en } from ${JSON.stringify(en)};`,
      resolveDir: '.',
    }));
  },
};

await build({
  entryPoints: ['src/index.ts'],
  outfile: 'dist/dynamics-mcp.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // loaded lazily at run time from node_modules, as Node loads them; pino-pretty is required on a terminal only
  external: ['pino-pretty', 'undici', '@azure/msal-node'],
  // their import() as require(): a script run from V8's code cache has no way to import an ES module, and
  // both packages ship CommonJS
  supported: { 'dynamic-import': false },
  // ES modules are strict, and the code was written (and tested) as such; import.meta.url is the bundle's URL
  banner: { js: '"use strict";const __importMetaUrl=require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__importMetaUrl' },
  logLevel: 'warning',
  plugins: [englishOnly],
  // less text for Node to read and parse at every start (~6% of the stdio cold start); names are kept, so a
  // logged error's type is still its class, and the source map beside the bundle maps positions back
  minifyWhitespace: true,
  minifySyntax: true,
});

// the entry, naming the code cache after this bundle, so that no cache made for another build is ever read
const hash = createHash('sha256').update(readFileSync('dist/dynamics-mcp.cjs')).digest('hex').slice(0, 16);
const entry = readFileSync(new URL('./entry.mjs', import.meta.url), 'utf8').replace('__BUNDLE_HASH__', hash);
writeFileSync('dist/index.js', entry, { mode: 0o755 });
// (tsc's map of the index.js this replaces)
rmSync('dist/index.js.map', { force: true });

// the first start, made here, leaves the code cache for every start after it: the server answers initialize
// (with settings that reach nothing: a loopback port where nothing listens) and exits when its input ends
await new Promise((resolve, reject) => {
  const server = spawn(process.execPath, ['dist/index.js'], {
    stdio: ['pipe', 'pipe', 'ignore'],
    env: {
      PATH: process.env.PATH,
      AZURE_TENANT_ID: '00000000-0000-4000-8000-000000000001',
      AZURE_CLIENT_ID: '00000000-0000-4000-8000-000000000002',
      AZURE_CLIENT_SECRET: 'warm-up-not-a-secret',
      DYNAMICS_URL: 'https://127.0.0.1:9',
      AZURE_AUTHORITY_HOST: 'https://127.0.0.1:9',
      LOG_LEVEL: 'silent',
    },
  });
  const timer = setTimeout(() => server.kill(), 20_000);
  server.once('error', reject);
  server.once('exit', () => {
    clearTimeout(timer);
    resolve();
  });
  server.stdout.once('data', () => server.stdin.end());
  server.stdout.resume();
  server.stdin.write(
    `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'build', version: '1' } } })}\n`,
  );
});
