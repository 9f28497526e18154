#!/usr/bin/env node
// dist/index.js, written by scripts/bundle.mjs from scripts/entry.mjs: runs the server, dist/dynamics-mcp.cjs, through
// V8's code cache. An MCP client starts the server for every session, and most of a start was Node reading,
// parsing and compiling the bundle; with the code the last run compiled kept beside it (dynamics-mcp-<hash>.cache),
// it is read back instead. The cache is V8's own: one made by another Node version (or other V8 flags) is
// refused by V8 and made anew, and its name carries the bundle's hash, so it never meets another build's code.
import { isAscii } from 'node:buffer';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const file = fileURLToPath(new URL('./dynamics-mcp.cjs', import.meta.url));
const cacheFile = fileURLToPath(new URL('./dynamics-mcp-__BUNDLE_HASH__.cache', import.meta.url));
const bytes = readFileSync(file);
// the bundle is ASCII (esbuild escapes strings; the sources write their regexes' few other characters as escapes),
// which reads faster as Latin-1 than through a UTF-8 decoder;
// its first line, the #! line, stays a line (a comment), so positions in it match its source map
const text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
const source = text.startsWith('#!') ? `//${text.slice(2)}` : text;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // none yet: this run makes it
}
// as Node wraps a CommonJS module
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: file,
  cachedData,
});
if (!cachedData || script.cachedDataRejected)
  // at exit, so that it holds what this run compiled (the server's start and its first requests), not only the
  // top level; written whole or not at all (a rename), as several servers may start at once; where dist cannot
  // be written (a read-only install), the server runs as it did, only without the cache
  process.once('exit', () => {
    const part = `${cacheFile}.${process.pid}`;
    try {
      writeFileSync(part, script.createCachedData());
      renameSync(part, cacheFile);
    } catch {
      // no cache this time, and no part of one left behind
      try {
        rmSync(part, { force: true });
      } catch {}
    }
  });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
