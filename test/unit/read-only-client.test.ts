import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamicsClient } from '../../src/dynamics/client.js';
import { readOnlyClient, WRITE_METHODS } from '../../src/dynamics/read-only-client.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { apiRequests, clientFor } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';

// The second layer of a hosted session opened with read-only credentials (its write tools are not listed):
// the client it gets reads, and refuses every write before anything is sent.
describe('the client of a read-only session', () => {
  let emu: EmulatorHandle;
  let client: DynamicsClient;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    ({ client } = clientFor(emu));
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it('reads as the shared client does', async () => {
    const ro = readOnlyClient(client);
    const page = await ro.query({ entity: 'account', select: ['name'], top: 2 });
    expect(page.rows).toHaveLength(2);
    expect(ro.asSignedInUser).toBe(client.asSignedInUser);
    expect((await ro.metadata.entity('lead')).logicalName).toBe('lead');
  });

  it('refuses each write method, and nothing reaches the Web API', async () => {
    const ro = readOnlyClient(client);
    const lead = String(emu.rows('lead')[0]!.leadid);
    const since = emu.requests().length;
    const calls: Record<(typeof WRITE_METHODS)[number], () => Promise<unknown>> = {
      create: () => ro.create('lead', { lastname: 'Silva' }),
      createMany: () => ro.createMany('lead', [{ lastname: 'Silva' }]),
      closeRecord: () => ro.closeRecord('CloseIncident', lead, { subject: 'x' }, 5),
      qualifyLead: () => ro.qualifyLead(lead, { account: true, contact: true, opportunity: true }, 3),
      merge: () =>
        ro.merge('account', String(emu.rows('account')[0]!.accountid), String(emu.rows('account')[1]!.accountid), {}),
      putInQueue: () =>
        ro.putInQueue(
          { entity: 'incident', id: String(emu.rows('incident')[0]!.incidentid) },
          String(emu.rows('queue')[0]!.queueid),
        ),
      moveToQueue: () =>
        ro.moveToQueue(String(emu.rows('queueitem')[0]!.queueitemid), String(emu.rows('queue')[1]!.queueid)),
      update: () => ro.update('lead', lead, { subject: 'changed' }),
      delete: () => ro.delete('opportunityproduct', String(emu.rows('opportunityproduct')[0]!.opportunityproductid)),
      link: () =>
        ro.link(
          'opportunity',
          String(emu.rows('opportunity')[0]!.opportunityid),
          'opportunitycompetitors_association',
          {
            add: [String(emu.rows('competitor')[0]!.competitorid)],
            remove: [],
          },
        ),
    };
    for (const [method, call] of Object.entries(calls))
      await expect(call(), method).rejects.toMatchObject({
        kind: 'read_only',
        message: `${method} is not allowed: this session's credentials grant reading only.`,
      });
    expect(apiRequests(emu, since)).toEqual([]);
  });

  it('WRITE_METHODS lists every method of the client that writes', () => {
    // a method added to the client's writes without being listed would write from a read-only session
    const writing = Object.getOwnPropertyNames(DynamicsClient.prototype).filter((name) => {
      const value = Object.getOwnPropertyDescriptor(DynamicsClient.prototype, name)?.value;
      return name !== 'constructor' && typeof value === 'function' && /this\.writer\./.test(String(value));
    });
    expect(writing.sort()).toEqual([...WRITE_METHODS].sort());
  });
});
