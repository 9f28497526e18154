import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { startEmulator } from '../src/emulator/index.js';
import { median, peakRss, record, times } from './lib.js';
import { directToken } from './setup.js';

/**
 * The emulator must not be the bottleneck of the other benchmarks. At 100,000 accounts: a 5,000-row page
 * (first page and a deep page through a paging cookie) against the same bytes served by a bare HTTPS server,
 * a filtered query against an unfiltered one, and the memory the seeded organisation takes.
 */
export async function benchEmulator(): Promise<void> {
  process.stdout.write('emulator at 100,000 accounts\n');
  const { result: emu, peakMb } = await peakRss(() => startEmulator({ scale: 100_000 }));
  const agent = new Agent({ connect: { ca: emu.ca }, connections: 4 });
  try {
    const token = await directToken(emu, agent);
    const headers = { authorization: `Bearer ${token}`, prefer: 'odata.maxpagesize=5000' };
    const get = async (url: string) => {
      const r = await request(url, { dispatcher: agent, headers });
      return (await r.body.json()) as { value: unknown[]; '@odata.nextLink'?: string };
    };
    const firstUrl = `${emu.dynamicsUrl}/api/data/v9.2/accounts?$select=name,accountnumber,revenue,address1_city,_primarycontactid_value,statecode`;
    const first = await get(firstUrl);
    let deepUrl = first['@odata.nextLink']!;
    for (let i = 0; i < 9; i++) deepUrl = (await get(deepUrl))['@odata.nextLink']!;
    const bytes = Buffer.from(JSON.stringify(first));

    // baseline: the same page bytes from a bare HTTPS server
    const tls = await import('../src/emulator/tls.js');
    const material = await tls.createServerCertificate('127.0.0.1');
    const staticServer = createServer({ cert: material.cert, key: material.key }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
      res.end(bytes);
    });
    await new Promise<void>((r) => staticServer.listen(0, '127.0.0.1', r));
    const staticAgent = new Agent({ connect: { ca: material.cert }, connections: 4 });
    const staticUrl = `https://127.0.0.1:${(staticServer.address() as AddressInfo).port}/`;
    const staticTimes = await times(15, async () =>
      (await request(staticUrl, { dispatcher: staticAgent })).body.json(),
    );
    const firstTimes = await times(15, () => get(firstUrl));
    const deepTimes = await times(15, () => get(deepUrl));
    const filterUrl = `${emu.dynamicsUrl}/api/data/v9.2/accounts?$select=name&$top=50&$filter=${encodeURIComponent("address1_city eq 'Berlin' and revenue gt 10000000 and contains(name,'energy')")}`;
    const plainUrl = `${emu.dynamicsUrl}/api/data/v9.2/accounts?$select=name&$top=50`;
    const filterTimes = await times(15, () => get(filterUrl));
    const plainTimes = await times(15, () => get(plainUrl));
    staticServer.close();
    await staticAgent.close();

    record({
      id: 'E1',
      name: 'first 5,000-row page of 100,000 accounts vs the same bytes from a bare HTTPS server',
      value: median(firstTimes),
      unit: 'ms',
      baseline: median(staticTimes),
      goal: null,
      met: null,
    });
    record({
      id: 'E2',
      name: '5,000-row page 11 (paging cookie) vs the same bytes from a bare HTTPS server',
      value: median(deepTimes),
      unit: 'ms',
      baseline: median(staticTimes),
      goal: null,
      met: null,
    });
    record({
      id: 'E3',
      name: 'filtered query over 100,000 accounts ($top=50) vs unfiltered $top=50',
      value: median(filterTimes),
      unit: 'ms',
      baseline: median(plainTimes),
      goal: null,
      met: null,
    });
    record({
      id: 'E4',
      name: 'memory of the seeded 100,000-account organisation (≈500,000 rows)',
      value: peakMb,
      unit: 'MB',
      baseline: null,
      goal: null,
      met: null,
    });
  } finally {
    await agent.close();
    await emu.close();
  }
}
