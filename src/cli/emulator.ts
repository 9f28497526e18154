import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulator } from '../emulator/index.js';

const USAGE = `Usage: dynamics-mcp emulator [--host 127.0.0.1] [--port 0] [--authority-port 0] [--seed N] [--scale N] [--latency-ms N]

Starts a local Dataverse (Web API + Entra-like authority) over HTTPS and prints one JSON line with
dynamicsUrl, authorityHost, tenantId, clientId, clientSecret and caFile (a PEM file to trust).
Serves until SIGINT or SIGTERM.`;

function intOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name} must be a whole number of at least ${min}, got '${value}'.`);
  return n;
}

export async function runEmulatorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      'authority-port': { type: 'string' },
      seed: { type: 'string' },
      scale: { type: 'string' },
      'latency-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  const emu = await startEmulator({
    host: values.host,
    port: intOption('port', values.port, 0),
    authorityPort: intOption('authority-port', values['authority-port'], 0),
    seed: intOption('seed', values.seed, 0),
    scale: intOption('scale', values.scale, 1),
    latencyMs: intOption('latency-ms', values['latency-ms'], 0),
  });
  const caFile = join(tmpdir(), `dynamics-mcp-emulator-${new URL(emu.dynamicsUrl).port}.pem`);
  writeFileSync(caFile, emu.ca, { mode: 0o644 });
  process.stdout.write(
    `${JSON.stringify({
      dynamicsUrl: emu.dynamicsUrl,
      authorityHost: emu.authorityHost,
      tenantId: emu.tenantId,
      clientId: emu.clientId,
      clientSecret: emu.clientSecret,
      caFile,
      identityEndpoint: emu.identityEndpoint,
      identityHeader: emu.identityHeader,
      api: emu.api,
    })}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emu.close();
  rmSync(caFile, { force: true });
  return 0;
}
