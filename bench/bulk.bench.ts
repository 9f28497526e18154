import { Writable } from 'node:stream';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config/load.js';
import { DynamicsClient } from '../src/dynamics/client.js';
import { startEmulator } from '../src/emulator/index.js';
import { createLogger } from '../src/logging.js';
import { DEFAULT_POLICY } from '../src/policy/default.js';
import { Policy } from '../src/policy/policy.js';
import { SecretScrubber } from '../src/secrets.js';
import { record } from './lib.js';

const N = 1000;

/** P4: 1,000 lead creates at 20 ms Web API latency: our bulk path ($batch) vs the seed guide's sequential loop. */
export async function benchBulk(): Promise<void> {
  process.stdout.write(`${N} lead creates at 20 ms latency\n`);
  const emu = await startEmulator({ scale: 50, latencyMs: 20, limits: { requestsPerWindow: 100_000 } });
  const agent = new Agent({ connect: { ca: emu.ca } });
  try {
    const config = loadConfig({
      env: {
        DYNAMICS_URL: emu.dynamicsUrl,
        AZURE_AUTHORITY_HOST: emu.authorityHost,
        AZURE_TENANT_ID: emu.tenantId,
        AZURE_CLIENT_ID: emu.clientId,
        AZURE_CLIENT_SECRET: emu.clientSecret,
      },
    });
    const client = DynamicsClient.create(
      config,
      Policy.fromInput(DEFAULT_POLICY),
      createLogger('silent', new SecretScrubber(), { destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
      { ca: emu.ca },
    );
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
    const tokenRes = await request(`${emu.authorityHost}/${emu.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: emu.clientId,
        client_secret: emu.clientSecret,
        grant_type: 'client_credentials',
        scope: `${emu.dynamicsUrl}/.default`,
      }).toString(),
    });
    const { access_token } = (await tokenRes.body.json()) as { access_token: string };
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
