#!/usr/bin/env node
import { runEmulatorCommand } from './cli/emulator.js';

/** CLI entry: picks the mode from the first argument. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'emulator':
      return runEmulatorCommand(rest);
    default:
      process.stderr.write(`Usage: dynamics-mcp emulator [options]   (run with --help for details)\n`);
      return command === undefined ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dynamics-mcp: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
