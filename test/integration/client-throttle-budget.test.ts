import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamicsClient } from '../../src/dynamics/client.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { clientFor } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';

// Service protection API limits (learn.microsoft.com/power-apps/developer/data-platform/api-limits): a 429
// says when to come back; every answer's x-ms-ratelimit-burst-remaining-xrm-requests says how many requests
// the window has left. The client spends what is left and then sends one request to learn the Retry-After.
describe('client: the requests a service-protection window has left', () => {
  let emu: EmulatorHandle;
  let client: DynamicsClient;
  let logs: string[];
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10, limits: { requestsPerWindow: 20, windowMs: 1000 } });
    ({ client, logs } = clientFor(emu));
    await client.metadata.entity('account');
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it('60 queries against 20 a window: all answered, with one 429 where each window ran out, not one per request in flight', async () => {
    await emu.reset();
    const numbers = emu.rows('account').map((a) => String(a.accountnumber));
    const pages = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        client.query({
          entity: 'account',
          select: ['accountnumber'],
          where: { column: 'accountnumber', op: 'eq', value: numbers[i % numbers.length]! },
        }),
      ),
    );
    expect(pages.map((p) => p.rows[0]?.accountnumber)).toEqual(
      Array.from({ length: 60 }, (_, i) => numbers[i % numbers.length]),
    );
    // each window that ran out is found out by one request (the last window's requests need none)
    const admitted = emu.requests().filter((r) => r.service === 'webapi' && r.status === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(60);
    expect(emu.stats().throttled).toBe(Math.ceil(admitted / 20) - 1);
    expect(logs.join('')).toContain('the service-protection window is nearly spent: fewer requests in flight');
  });
});
