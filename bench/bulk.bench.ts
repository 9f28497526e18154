import { Agent, request } from 'undici';
import { startEmulator } from '../src/emulator/index.js';
import { record } from './lib.js';
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
  } finally {
    await agent.close();
    await emu.close();
  }
}
