import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ENV_VARS } from '../src/config/reference.js';
import { ALL_TOOLS } from '../src/tools/index.js';

/**
 * The README's tool and configuration tables come from the code (the tool registry and the list of variables),
 * so they cannot drift: `npm run readme` rewrites them, and a test fails when they are stale.
 */
export function renderTables(): { tools: string; env: string } {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const tools = [
    '| tool | what it does | read-only | destructive | idempotent |',
    '| --- | --- | --- | --- | --- |',
    ...ALL_TOOLS.map((t) => {
      const args = Object.keys(z.toJSONSchema(t.inputSchema, { io: 'input' }).properties ?? {})
        .map((a) => `\`${a}\``)
        .join(', ');
      return `| \`${t.name}\` | ${t.description.replace(/\|/g, '\\|')}<br>Arguments: ${args} | ${yes(t.annotations.readOnlyHint)} | ${yes(t.annotations.destructiveHint)} | ${yes(t.annotations.idempotentHint)} |`;
    }),
  ].join('\n');
  const env = [
    '| variable | meaning | default |',
    '| --- | --- | --- |',
    ...ENV_VARS.map((v) => `| \`${v.name}\` | ${v.meaning} | ${v.default ?? ''} |`),
  ].join('\n');
  return { tools, env };
}

export function renderReadme(current: string): string {
  const { tools, env } = renderTables();
  const put = (text: string, name: string, body: string) => {
    const re = new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(\\n<!-- ${name}:end -->)`);
    if (!re.test(text)) throw new Error(`README.md has no <!-- ${name}:start --> … <!-- ${name}:end --> markers`);
    return text.replace(re, `$1${body}$2`);
  };
  return put(put(current, 'tools', tools), 'env', env);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const file = join(import.meta.dirname, '..', 'README.md');
  writeFileSync(file, renderReadme(readFileSync(file, 'utf8')));
  process.stdout.write('README.md tables regenerated\n');
}
