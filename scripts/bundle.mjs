// The command-line entry as one bundle (plus lazily loaded chunks): loading one file instead of hundreds of
// modules halves the stdio cold start. tsc's per-module output stays beside it for anyone importing modules.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/index.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  // loaded lazily at run time from node_modules, as Node loads them (a bundled dynamic import of a
  // CommonJS package would lose its named exports); pino-pretty is required on a terminal only
  external: ['pino-pretty', 'undici', '@azure/msal-node'],
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
