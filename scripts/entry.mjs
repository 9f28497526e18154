#!/usr/bin/env node
// dist/index.js, written by scripts/bundle.mjs from scripts/entry.mjs: runs the server, dist/dynamics-mcp.cjs, through
// V8's code cache. An MCP client starts the server for every session, and most of a start was Node reading,
// parsing and compiling the bundle; with the code the last run compiled kept beside it (dynamics-mcp-<hash>.cache),
// it is read back instead. The cache is V8's own: one made by another Node version (or other V8 flags) is
// refused by V8 and made anew, and its name carries the bundle's hash, so it never meets another build's code.
// Where dist cannot be written (installed by root for everyone, a read-only image), the cache is kept in the
// user's own cache directory instead; never in a directory others can write (the temporary one), as code read
// from there would run as this user.
import { isAscii } from 'node:buffer';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const file = fileURLToPath(new URL('./dynamics-mcp.cjs', import.meta.url));
const cacheName = 'dynamics-mcp-__BUNDLE_HASH__.cache';
const besideFile = fileURLToPath(new URL(`./${cacheName}`, import.meta.url));
const bytes = readFileSync(file);
// the bundle is ASCII (esbuild escapes strings; the sources write their regexes' few other characters as escapes),
// which reads faster as Latin-1 than through a UTF-8 decoder;
// its first line, the #! line, stays a line (a comment), so positions in it match its source map
const text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
const source = text.startsWith('#!') ? `//${text.slice(2)}` : text;
/**
 * The user's cache directory for this server (XDG's on Linux, as npm and others keep theirs): the directory that
 * must exist already (the home, LOCALAPPDATA), then those made in it as needed; undefined where there is none.
 */
function userCacheDirs() {
  try {
    const env = process.env;
    if (process.platform === 'win32') return env.LOCALAPPDATA ? [env.LOCALAPPDATA, 'dynamics-mcp', 'Cache'] : undefined;
    if (process.platform === 'darwin') return [join(homedir(), 'Library', 'Caches'), 'dynamics-mcp'];
    return env.XDG_CACHE_HOME?.startsWith('/')
      ? [env.XDG_CACHE_HOME, 'dynamics-mcp']
      : [homedir(), '.cache', 'dynamics-mcp'];
  } catch {
    return undefined;
  }
}
const userCacheDir = () => {
  const dirs = userCacheDirs();
  return dirs && join(...dirs);
};
/**
 * Makes the user's cache directory one level at a time, none above the one that must exist: Node's recursive
 * mkdir spun forever (all of a core, the server never exiting) under a home in /proc, as a service's can be.
 */
function madeUserCacheDir() {
  const [dir, ...levels] = userCacheDirs() ?? [];
  if (!dir) return undefined;
  let path = dir;
  for (const level of levels) {
    path = join(path, level);
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (err) {
      if (err?.code !== 'EEXIST') return undefined;
    }
  }
  return path;
}
const read = (f) => {
  try {
    return readFileSync(f);
  } catch {
    return undefined;
  }
};
// beside the bundle first: the user's directory is looked in only where dist holds none
let cachedData = read(besideFile);
const userDir = cachedData ? undefined : userCacheDir();
if (userDir) cachedData = read(join(userDir, cacheName));
// as Node wraps a CommonJS module
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: file,
  cachedData,
});
if (!cachedData || script.cachedDataRejected)
  // at exit, so that it holds what this run compiled (the server's start and its first requests), not only the
  // top level; written whole or not at all (a rename), as several servers may start at once. Beside the bundle,
  // else in the user's cache directory (which then keeps this build's alone); where neither can be written,
  // the server runs as it did, only without the cache
  process.once('exit', () => {
    const data = script.createCachedData();
    if (writeWhole(besideFile, data)) return;
    const dir = madeUserCacheDir();
    if (!dir) return;
    if (!writeWhole(join(dir, cacheName), data)) return;
    try {
      for (const f of readdirSync(dir))
        if (/^dynamics-mcp-[0-9a-f]{16}\.cache$/.test(f) && f !== cacheName) rmSync(join(dir, f), { force: true });
    } catch {}
  });

/** Writes data to f through a part file renamed over it; false (and no part left behind) where it cannot. */
function writeWhole(f, data) {
  const part = `${f}.${process.pid}`;
  try {
    writeFileSync(part, data);
    renameSync(part, f);
    return true;
  } catch {
    try {
      rmSync(part, { force: true });
    } catch {}
    return false;
  }
}
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
