import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EmulatorHandle, type EmulatorOptions, startEmulator } from '../../src/emulator/index.js';

/** The certificate vitest.config.ts made and put in NODE_EXTRA_CA_CERTS. */
export function testTls(): { cert: string; key: string } {
  const dir = process.env.DYNAMICS_MCP_TEST_TLS_DIR;
  if (!dir) throw new Error('Run the tests through vitest (npm test): vitest.config.ts prepares the TLS trust.');
  return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

export function startTestEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  return startEmulator({ tls: testTls(), scale: 30, ...options });
}
