import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultSpec } from '../../src/emulator/faults.js';
import { type EmulatorHandle, type EmulatorOptions, startEmulator } from '../../src/emulator/index.js';
import { watchSecret } from './secrets-watch.js';

/** The certificate vitest.config.ts made and put in NODE_EXTRA_CA_CERTS. */
export function testTls(): { cert: string; key: string } {
  const dir = process.env.DMCP_TEST_TLS_DIR;
  if (!dir) throw new Error('Run the tests through vitest (npm test): vitest.config.ts prepares the TLS trust.');
  return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

/**
 * An emulator for a test. Its SLA clocks stand still unless the test asks for the timer (`slaTimer: true`, as
 * sla.test.ts does): a seeded clock whose warning time came during a test would change a case (its status, its
 * version) between what a tool read and what the test compares it with.
 */
export async function startTestEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const emu = await startEmulator({ tls: testTls(), scale: 30, slaTimer: false, ...options });
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

/** A service-protection 429 as Dataverse sends it (the "number of requests" limit), for fault injection. */
export function throttledResponse(retryAfterSeconds: number): NonNullable<FaultSpec['response']> {
  return {
    status: 429,
    headers: { 'Retry-After': String(retryAfterSeconds) },
    body: {
      error: {
        code: '0x80072322',
        message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.',
      },
    },
  };
}

/** A 200 with a Web API JSON body of our choosing, as Dataverse labels it: an answer the emulator would not give. */
export function webApiAnswer(body: Record<string, unknown>): NonNullable<FaultSpec['response']> {
  return { status: 200, headers: { 'content-type': 'application/json; odata.metadata=minimal' }, body };
}

/**
 * Whether activities regarding a record are still to be done (Open, or an appointment's Scheduled): Dynamics
 * resolves or cancels a case only once none are (ERRCODES 0x8004440a, 0x8004440e), so a test that closes a
 * seeded case picks one without.
 */
export function hasOpenActivities(emu: EmulatorHandle, id: unknown): boolean {
  return emu
    .rows('activitypointer')
    .some(
      (a) => (a.regardingobjectid as { id?: string } | null)?.id === id && (a.statecode === 0 || a.statecode === 3),
    );
}
