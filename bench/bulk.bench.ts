import { Agent, request } from 'undici';
import { startEmulator } from '../src/emulator/index.js';
import { record } from './lib.js';
import { inMemory } from './server.bench.js';
import { benchClient, directToken } from './setup.js';

const N = 1000;

/** P4: 1,000 lead creates at 20 ms Web API latency: our bulk path ($batch) vs the seed guide's sequential loop. */
export async function benchBulk(): Promise<void> {
  process.stdout.write(`${N} lead creates at 20 ms latency\n`);
  const emu = await startEmulator({ scale: 50, latencyMs: 20, limits: { requestsPerWindow: 100_000 } });
  const agent = new Agent({ connect: { ca: emu.ca } });
  try {
    const client = benchClient(emu);
    await client.metadata.entity('lead');
    const leads = (tag: string) =>
      Array.from({ length: N }, (_, i) => ({
        lastname: `${tag} ${i}`,
        subject: 'Bulk import',
        emailaddress1: `${tag.toLowerCase()}${i}@bulk.example`,
      }));
    let t = performance.now();
    const results = await client.createMany('lead', leads('Ours'));
    const ours = performance.now() - t;
    if (results.some((r) => r.error)) throw new Error('bulk create failed');
    const access_token = await directToken(emu, agent);
    t = performance.now();
    for (const lead of leads('Loop')) {
      // the seed guide: one POST per record, one after the other
      const r = await request(`${emu.dynamicsUrl}/api/data/v9.2/leads`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify(lead),
      });
      await r.body.dump();
      if (r.statusCode !== 204) throw new Error(`loop create failed: ${r.statusCode}`);
    }
    const loop = performance.now() - t;
    const made = emu.rows('lead').filter((l) => String(l.lastname).startsWith('Ours ')).length;
    if (made !== N) throw new Error(`expected ${N} leads, found ${made}`);
    record({
      id: 'P4',
      name: `${N} lead creates at 20 ms latency: $batch bulk path vs sequential loop`,
      value: ours,
      unit: 'ms',
      baseline: loop,
      goal: '>= 10x faster',
      met: ours * 10 <= loop,
    });
    await client.close();
    await benchLeadList(emu);
  } finally {
    await agent.close();
    await emu.close();
  }
}

const LIST = 100;

/**
 * P4t: the list path a model reaches, create_lead with "leads" (100 in one call), vs one create_lead call per
 * lead, one after another as a model makes them, at the same 20 ms latency. Both take each lead through the
 * same checks (its email looked for first, then the create); the list runs four at a time. Not counted here:
 * the model's own turn for each call, which on a real assistant costs far more than the server's work.
 */
async function benchLeadList(emu: Awaited<ReturnType<typeof startEmulator>>): Promise<void> {
  const mcp = await inMemory(emu);
  try {
    const people = (tag: string) =>
      Array.from({ length: LIST }, (_, i) => ({
        lastName: `${tag} ${i}`,
        email: `${tag.toLowerCase()}${i}@list.example`,
      }));
    // warm: metadata and the token, as a server that has answered before
    await mcp.client.callTool({ name: 'create_lead', arguments: { lastName: 'Warm', email: 'warm@list.example' } });
    let t = performance.now();
    const list = await mcp.client.callTool({ name: 'create_lead', arguments: { leads: people('List') } });
    const ours = performance.now() - t;
    if (list.isError) throw new Error('the list was refused');
    t = performance.now();
    for (const lead of people('Single')) {
      const r = await mcp.client.callTool({ name: 'create_lead', arguments: lead });
      if (r.isError) throw new Error('a single create_lead failed');
    }
    const single = performance.now() - t;
    for (const tag of ['List ', 'Single ']) {
      const made = emu.rows('lead').filter((l) => String(l.lastname).startsWith(tag)).length;
      if (made !== LIST) throw new Error(`expected ${LIST} leads named ${tag}…, found ${made}`);
    }
    record({
      id: 'P4t',
      name: `… ${LIST} leads through create_lead's list (one call) vs ${LIST} create_lead calls, at 20 ms latency`,
      value: ours,
      unit: 'ms',
      baseline: single,
      goal: null,
      met: null,
    });
  } finally {
    await mcp.close();
  }
}
