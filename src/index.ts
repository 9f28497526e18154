#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { buildDeps, startDemo } from './app.js';
import { ConfigError, loadConfig } from './config/load.js';
import { DynamicsMcpError } from './errors.js';
import { limitHeapGrowth } from './heap.js';
import { serveStdio } from './transports/stdio.js';
import { VERSION } from './version.js';

const USAGE = `dynamics-mcp ${VERSION} — MCP server for Dynamics 365 / Dataverse

Usage:
  dynamics-mcp [options]            serve MCP over stdio (credentials from the environment)
  dynamics-mcp --http [options]     serve MCP over Streamable HTTP at /mcp (hosted agents)
  dynamics-mcp --demo [options]     use the built-in demo organisation (with --http: on 127.0.0.1:3000)
  dynamics-mcp doctor [--demo]      check the setup step by step, with the fix for each failure
  dynamics-mcp call <tool> '<json>' [--demo]   run one tool and print its result
  dynamics-mcp emulator [...]       run the local Dataverse emulator (see: dynamics-mcp emulator --help)

Options:
  --http                Streamable HTTP instead of stdio
  --host <address>      HTTP bind address (default 127.0.0.1)
  --port <n>            HTTP port (default 3000, or PORT)
  --stateless           HTTP without sessions: a fresh server per request (replicas)
  --read-only           only read tools; every write is refused
  --policy <file>       policy JSON (which tables and columns may be used)
  --config <file>       configuration JSON (lowest precedence after defaults)
  --log-level <level>   fatal, error, warn, info, debug, trace or silent
  -h, --help            this text
  -v, --version         the version
`;

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** What a person needs after `npm start`: that this is demo data, where it is, and how to connect. */
function printDemoBanner(url: string, apiKeys: boolean): void {
  const lines = [
    '',
    '  dynamics-mcp demo — a generated Dynamics 365 organisation (not real data), running locally.',
    '',
    `  MCP endpoint (Streamable HTTP):  ${url}`,
    apiKeys
      ? '  Requests need "Authorization: Bearer <key>", a key from DYNAMICS_MCP_API_KEYS or DYNAMICS_MCP_READ_API_KEYS (listening on 127.0.0.1 only).'
      : '  No credentials are needed: the demo listens on 127.0.0.1 only.',
    '',
    '  Connect:',
    `    MCP Inspector    npx @modelcontextprotocol/inspector   → Transport "Streamable HTTP", URL ${url}`,
    `    VS Code          add to .vscode/mcp.json: { "servers": { "dynamics-demo": { "type": "http", "url": "${url}" } } }`,
    `    Cursor           add to ~/.cursor/mcp.json: { "mcpServers": { "dynamics-demo": { "url": "${url}" } } }`,
    '    Claude Desktop   use stdio: { "command": "npx", "args": ["-y", "dynamics-mcp", "--demo"] }  (see mcp.config.example.json)',
    '    Terminal         npx dynamics-mcp call --demo query_entities \'{"entity":"account","top":3}\'',
    '',
    '  Stop with Ctrl-C.',
    '',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}

const DOCTOR_USAGE = `Usage: dynamics-mcp doctor [--demo] [--policy <file>] [--config <file>]

Checks the setup step by step (the configuration, the authority and sign-in, the application user, the clock,
each table the policy uses and the privileges it needs, duplicate detection, the calendar) and prints each
check with the fix for a failure. Exits 0 when every check passes. With --demo, checks the built-in demo
organisation.
`;

const CALL_USAGE = `Usage: dynamics-mcp call <tool> '<json arguments>' [--demo] [--read-only] [--policy <file>] [--config <file>] [--log-level <level>]
  e.g. dynamics-mcp call --demo query_entities '{"entity":"account","top":3}'

Runs one tool and prints its result (its structured content as JSON, or its content where it has none).
Exits 1 when the tool answers with an error, whose text is printed on stderr.
`;

async function doctorCommand(argv: string[]): Promise<number> {
  const { printChecklist, runDoctor } = await import('./cli/doctor.js');
  const { values } = parseArgs({
    args: argv,
    options: {
      demo: { type: 'boolean' },
      policy: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stderr.write(DOCTOR_USAGE);
    return 0;
  }
  const flags = { policy: values.policy, config: values.config };
  if (values.demo) {
    const demo = await startDemo(process.env, flags);
    try {
      // the demo's own environment, so doctor checks the policy, configuration and read-only setting the demo
      // serves with (a policy file tried on the demo before a real organisation), not the built-in ones
      const checks = await runDoctor(demo.env, { ca: demo.ca, flags });
      printChecklist(checks, process.stdout);
      return checks.every((c) => c.ok) ? 0 : 1;
    } finally {
      await demo.emulator.close();
    }
  }
  const checks = await runDoctor(process.env, { flags });
  printChecklist(checks, process.stdout);
  return checks.every((c) => c.ok) ? 0 : 1;
}

async function callCommand(argv: string[]): Promise<number> {
  const { callTool } = await import('./cli/call.js');
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      demo: { type: 'boolean' },
      'read-only': { type: 'boolean' },
      policy: { type: 'string' },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stderr.write(CALL_USAGE);
    return 0;
  }
  const [tool, args] = positionals;
  if (!tool) {
    process.stderr.write(CALL_USAGE);
    return 2;
  }
  const flags = {
    readOnly: values['read-only'],
    policy: values.policy,
    config: values.config,
    // quiet by default (the answer is what a terminal wants), unless LOG_LEVEL or --log-level asks otherwise
    logLevel: values['log-level'] ?? (process.env.LOG_LEVEL ? undefined : 'warn'),
  };
  const demo = values.demo ? await startDemo(process.env, flags) : undefined;
  const deps = demo ? buildDeps(demo.config, { ca: demo.ca }) : buildDeps(loadConfig({ env: process.env, flags }));
  try {
    // long calls (a big pipeline, paging) report progress on a terminal
    const progress = process.stderr.isTTY ? (m: string) => process.stderr.write(`\r… ${m}   `) : undefined;
    const r = await callTool(deps, tool, args, progress);
    if (progress) process.stderr.write('\r');
    (r.ok ? process.stdout : process.stderr).write(`${r.output}\n`);
    return r.ok ? 0 : 1;
  } finally {
    await deps.client.close();
    await demo?.emulator.close();
  }
}

const FLAGS = [
  'demo',
  'http',
  'host',
  'port',
  'stateless',
  'read-only',
  'policy',
  'config',
  'log-level',
  'help',
  'version',
];

/**
 * An option the command does not have, said with the one meant where the spelling differs only in case or
 * dashes (--readonly for --read-only): Node's own message suggests quoting it as a positional argument.
 */
function unknownOptionMessage(err: unknown, argv: string[]): string | undefined {
  if ((err as { code?: string })?.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return undefined;
  const given = /Unknown option '([^']+)'/.exec((err as Error).message)?.[1] ?? '';
  const squash = (f: string) => f.replace(/^-+/, '').replace(/[-_]/g, '').toLowerCase();
  const meant = FLAGS.find((f) => squash(f) === squash(given));
  // a command's options are its own usage's (doctor, call and emulator take fewer than the server)
  const command = COMMANDS.find((c) => c === argv[0]);
  return `unknown option '${given}'${meant ? `: did you mean --${meant}?` : '.'} Run dynamics-mcp${command ? ` ${command}` : ''} --help for the options.`;
}

const COMMANDS = ['doctor', 'call', 'emulator'];

/** CLI entry: picks the mode from the arguments. */
async function main(argv: string[]): Promise<number> {
  // commands and transports are loaded when used: a stdio server starts without them
  if (argv[0] === 'emulator') return (await import('./cli/emulator.js')).runEmulatorCommand(argv.slice(1));
  if (argv[0] === 'doctor') return doctorCommand(argv.slice(1));
  if (argv[0] === 'call') return callCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      demo: { type: 'boolean' },
      http: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      stateless: { type: 'boolean' },
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
  if (values.port !== undefined && !/^\d+$/.test(values.port))
    throw new ConfigError([`--port must be a port number, got '${values.port}'.`]);
  const flags = {
    readOnly: values['read-only'],
    policy: values.policy,
    config: values.config,
    logLevel: values['log-level'],
    host: values.host,
    port: values.port === undefined ? undefined : Number(values.port),
    stateless: values.stateless,
  };
  if (values.demo) {
    const demo = await startDemo(process.env, flags, { http: !!values.http });
    const deps = buildDeps(demo.config, { ca: demo.ca });
    deps.log.info(
      { dynamicsUrl: demo.config.dynamics.url },
      'demo organisation started (generated data, not a real Dynamics 365)',
    );
    if (!values.http) {
      await serveStdio(deps, () => demo.emulator.close());
      return 0;
    }
    limitHeapGrowth();
    const { startHttp } = await import('./transports/http.js');
    const http = await startHttp(deps, { ca: demo.ca });
    printDemoBanner(http.url, demo.config.inbound.apiKeys.length + demo.config.inbound.readApiKeys.length > 0);
    await untilSignal();
    await http.close();
    await deps.client.close();
    await demo.emulator.close();
    return 0;
  }
  const config = loadConfig({ env: process.env, flags });
  const deps = buildDeps(config);
  if (!values.http) {
    await serveStdio(deps);
    return 0;
  }
  limitHeapGrowth();
  const { startHttp } = await import('./transports/http.js');
  const http = await startHttp(deps);
  await untilSignal();
  deps.log.info('shutting down: letting calls in flight finish');
  await http.close();
  await deps.client.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const unknownOption = unknownOptionMessage(err, process.argv.slice(2));
    if (unknownOption) {
      process.stderr.write(`dynamics-mcp: ${unknownOption}\n`);
      process.exit(2);
    }
    if (err instanceof ConfigError) process.stderr.write(`dynamics-mcp: ${err.message}\n`);
    else if (err instanceof DynamicsMcpError) process.stderr.write(`dynamics-mcp: ${err.message}\n  ${err.hint}\n`);
    else process.stderr.write(`dynamics-mcp: ${err instanceof Error ? err.message : String(err)}\n`);
    // exit now: a failure after the demo organisation started (a port in use, a bad setting) would otherwise
    // leave its servers holding the process open after the message
    process.exit(1);
  },
);
