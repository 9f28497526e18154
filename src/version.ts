import { readFileSync } from 'node:fs';

/** The package version, for the User-Agent and the MCP server info. */
export const VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // try the next location (src/ when run from source, dist/ when built)
    }
  }
  return '0.0.0';
})();
