import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EmulatorHandle, type EmulatorOptions, startEmulator } from '../../src/emulator/index.js';
import { watchSecret } from './secrets-watch.js';

/** The certificate vitest.config.ts made and put in NODE_EXTRA_CA_CERTS. */
export function testTls(): { cert: string; key: string } {
  const dir = process.env.DYNAMICS_MCP_TEST_TLS_DIR;
  if (!dir) throw new Error('Run the tests through vitest (npm test): vitest.config.ts prepares the TLS trust.');
  return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

export async function startTestEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const emu = await startEmulator({ tls: testTls(), scale: 30, ...options });
  watchSecret(emu.clientSecret);
  watchSecret(emu.api.clientSecret);
  for (const u of emu.users) watchSecret(u.password);
  const makeCert = emu.createClientCertificate.bind(emu);
  emu.createClientCertificate = async (id?: string) => {
    const pem = await makeCert(id);
    watchSecret(
      pem
        .slice(0, pem.indexOf('-----BEGIN CERTIFICATE-----'))
        .replace(/-----[A-Z ]+-----/g, '')
        .replace(/\s+/g, '')
        .slice(0, 64),
    );
    return pem;
  };
  return emu;
}
