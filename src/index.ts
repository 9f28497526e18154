#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { buildDeps, startDemo } from './app.js';
import { runEmulatorCommand } from './cli/emulator.js';
import { ConfigError, loadConfig } from './config/load.js';
import { DynamicsMcpError } from './errors.js';
import { serveStdio } from './transports/stdio.js';
import { VERSION } from './version.js';

const USAGE = `dynamics-mcp ${VERSION} — MCP server for Dynamics 365 / Dataverse

Usage:
  dynamics-mcp [options]            serve MCP over stdio (credentials from the environment)
  dynamics-mcp --demo [options]     serve the built-in demo organisation over stdio
  dynamics-mcp emulator [...]       run the local Dataverse emulator (see: dynamics-mcp emulator --help)

Options:
  --read-only           only read tools; every write is refused
  --policy <file>       policy JSON (which tables and columns may be used)
  --config <file>       configuration JSON (lowest precedence after defaults)
  --log-level <level>   fatal, error, warn, info, debug, trace or silent
  -h, --help            this text
  -v, --version         the version
`;

/** CLI entry: picks the mode from the arguments. */
async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'emulator') return runEmulatorCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      demo: { type: 'boolean' },
      'read-only': { type: 'boolean' },
      policy: { type: 'string' },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stderr.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (positionals.length) {
    process.stderr.write(`Unknown command '${positionals[0]}'.\n\n${USAGE}`);
    return 2;
  }
  const flags = {
    readOnly: values['read-only'],
    policy: values.policy,
    config: values.config,
    logLevel: values['log-level'],
  };
  if (values.demo) {
    const demo = await startDemo(process.env, flags);
    const deps = buildDeps(demo.config, { ca: demo.ca });
    deps.log.info(
      { dynamicsUrl: demo.config.dynamics.url },
      'demo organisation started (generated data, not a real Dynamics 365)',
    );
    await serveStdio(deps, () => demo.emulator.close());
    return 0;
  }
  const config = loadConfig({ env: process.env, flags });
  await serveStdio(buildDeps(config));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`dynamics-mcp: ${err.message}\n`);
    else if (err instanceof DynamicsMcpError) process.stderr.write(`dynamics-mcp: ${err.message}\n  ${err.hint}\n`);
    else process.stderr.write(`dynamics-mcp: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
