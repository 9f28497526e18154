// The command-line entry as one bundle (plus lazily loaded chunks): loading one file instead of hundreds of
// modules halves the stdio cold start. tsc's per-module output stays beside it for anyone importing modules.
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
  plugins: [englishOnly],
  // less text for Node to read and parse at every start (~6% of the stdio cold start); names are kept, so a
  // logged error's type is still its class, and the source maps beside the chunks map positions back
  minifyWhitespace: true,
  minifySyntax: true,
});
