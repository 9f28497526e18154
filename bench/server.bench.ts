import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Agent, request } from 'undici';
import { buildDeps } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { type EmulatorHandle, startEmulator } from '../src/emulator/index.js';
import { createServer } from '../src/server.js';
import { connectServer } from '../src/transports/malformed.js';
import { median, record, times, timesPaired } from './lib.js';
import { directToken, emulatorEnv } from './setup.js';
import { StdioRpc } from './stdio-rpc.js';

/** The server and an SDK client in this process, linked in memory (no stdio between them). */
export async function inMemory(emu: EmulatorHandle) {
  const deps = buildDeps(loadConfig({ env: emulatorEnv(emu) }), {
    ca: emu.ca,
    logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  const server = createServer(deps);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'bench', version: '1' });
  await connectServer(server, a);
  await client.connect(b);
  return {
    client,
    close: async () => {
      await client.close();
      await deps.client.close();
    },
  };
}

/** P1, P3, P6, P10 on a small organisation; P5 on 50,000 opportunities. */
export async function benchServer(): Promise<void> {
  process.stdout.write('server: stdio overhead, token requests, result size, tools/list size\n');
  const emu = await startEmulator({ scale: 2000 });
  const agent = new Agent({ connect: { ca: emu.ca } });
  const caFile = join(tmpdir(), `dmcp-bench-ca-${process.pid}.pem`);
  writeFileSync(caFile, emu.ca);
  try {
    // P1: query_entities (50 rows) over stdio vs the same Web API request with undici. Both sides are timed
    // in alternation after the same warm-up (the server's code, like the emulator's, runs 2-3x slower for
    // its first few hundred calls while V8 optimises it); the client reads and parses the answer, as
    // body.json() does for the direct request. P1c is the same call through the SDK's Client.
    const env = { PATH: process.env.PATH!, NODE_EXTRA_CA_CERTS: caFile, ...emulatorEnv(emu) };
    const serverArgs = [join(import.meta.dirname, '..', 'dist', 'index.js')];
    const rpc = new StdioRpc(process.execPath, serverArgs, env);
    await rpc.initialize();
    const args = {
      entity: 'account',
      select: ['name', 'accountnumber', 'revenue', 'address1_city', 'statecode'],
      top: 50,
    };
    const first = await rpc.callTool('query_entities', args);
    if ((first.result as { structuredContent: { records: unknown[] } }).structuredContent.records.length !== 50)
      throw new Error('query_entities did not return 50 rows');
    const sent = emu
      .requests()
      .filter((r) => r.service === 'webapi' && r.url.startsWith('/api/data/v9.2/accounts?'))
      .at(-1)!;
    const token = await directToken(emu, agent);
    const headers = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      prefer:
        'odata.maxpagesize=50,odata.include-annotations="OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname"',
    };
    const directRequest = async () =>
      (await request(`${emu.dynamicsUrl}${sent.url}`, { dispatcher: agent, headers })).body.json();
    const p1 = await timesPaired(200, directRequest, () => rpc.callTool('query_entities', args), 200);
    // what P1 is made of: the stdio round trip alone (a ping, no tool and no Web API call), and the same
    // comparison at a Web API latency like P4's (a real organisation answers in tens of milliseconds)
    const hop = await timesPaired(200, directRequest, () => rpc.request('ping'), 50);
    // and the floor under P1's goal: the least a server can do for this call over stdio (P1m), the same
    // request made and its rows handed back, with none of our server's checks (passthrough-server.mjs)
    const bare = new StdioRpc(process.execPath, [join(import.meta.dirname, 'passthrough-server.mjs')], {
      ...env,
      PASSTHROUGH_URL: `${emu.dynamicsUrl}${sent.url}`,
      PASSTHROUGH_HEADERS: JSON.stringify(headers),
      PASSTHROUGH_COLUMNS: args.select.join(','),
      PASSTHROUGH_ID: 'accountid',
    });
    await bare.initialize();
    const floor = await timesPaired(200, directRequest, () => bare.callTool('query_entities', args), 200);
    await bare.close();
    emu.configure({ latencyMs: 20 });
    const p1r = await timesPaired(30, directRequest, () => rpc.callTool('query_entities', args), 5);
    emu.configure({ latencyMs: 0 });
    await rpc.close();
    record({
      id: 'P1',
      name: 'query_entities (50 rows) over stdio vs the same Web API request with undici (median)',
      value: median(p1.b),
      unit: 'ms',
      baseline: median(p1.a),
      goal: '<= 1.3x',
      met: median(p1.b) / median(p1.a) <= 1.3,
    });
    record({
      id: 'P1f',
      name: '… the stdio round trip alone (ping: no tool, no Web API call) vs the same direct request',
      value: median(hop.b),
      unit: 'ms',
      baseline: median(hop.a),
      goal: null,
      met: null,
    });
    record({
      id: 'P1m',
      name: '… the least a server can do for the call over stdio (same request, rows handed back, no checks) vs the same direct request',
      value: median(floor.b),
      unit: 'ms',
      baseline: median(floor.a),
      goal: null,
      met: null,
    });
    record({
      id: 'P1r',
      name: '… P1 with the Web API answering in 20 ms (as in P4)',
      value: median(p1r.b),
      unit: 'ms',
      baseline: median(p1r.a),
      goal: null,
      met: null,
    });
    const transport = new StdioClientTransport({ command: process.execPath, args: serverArgs, env, stderr: 'ignore' });
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(transport);
    await client.listTools(); // the Client validates structuredContent against the output schemas it lists
    const p1c = await timesPaired(
      100,
      directRequest,
      () => client.callTool({ name: 'query_entities', arguments: args }),
      100,
    );
    record({
      id: 'P1c',
      name: '… the same call through the MCP SDK Client (adds its result validation, on the client side)',
      value: median(p1c.b),
      unit: 'ms',
      baseline: median(p1c.a),
      goal: null,
      met: null,
    });

    // P10 (tools/list size) is measured beside the peer in startup.bench.ts
    await client.close();

    // P6: bytes per record handed to the model for "100 accounts" vs the raw annotated Web API JSON a
    // pass-through server would hand over for the same request (GET accounts?$top=100, every column);
    // P6s compares the same columns, to show what the compaction alone does
    const mem = await inMemory(emu);
    const result = (await mem.client.callTool({
      name: 'query_entities',
      arguments: { entity: 'account', top: 100 },
    })) as unknown as { structuredContent: { records: unknown[] } };
    const ours = Buffer.byteLength(JSON.stringify(result.structuredContent)) / result.structuredContent.records.length;
    const perRow = async (path: string) => {
      const text = await (
        await request(`${emu.dynamicsUrl}${path}`, {
          dispatcher: agent,
          headers: { ...headers, prefer: 'odata.maxpagesize=100,odata.include-annotations="*"' },
        })
      ).body.text();
      return Buffer.byteLength(text) / (JSON.parse(text) as { value: unknown[] }).value.length;
    };
    const ourQuery = emu
      .requests()
      .filter((r) => r.service === 'webapi' && r.url.startsWith('/api/data/v9.2/accounts?'))
      .at(-1)!.url;
    const passThrough = await perRow('/api/data/v9.2/accounts?$top=100');
    const sameColumns = await perRow(ourQuery);
    record({
      id: 'P6',
      name: 'bytes per record handed to the model (100 accounts) vs the raw annotated Web API JSON of GET accounts?$top=100',
      value: ours,
      unit: 'bytes/record',
      baseline: passThrough,
      goal: '<= 0.35x',
      met: ours / passThrough <= 0.35,
    });
    record({
      id: 'P6s',
      name: '… vs the raw annotated JSON of the same columns (compaction alone)',
      value: ours,
      unit: 'bytes/record',
      baseline: sameColumns,
      goal: null,
      met: null,
    });
    await mem.close();

    // P3: token requests for 100 concurrent cold calls
    await emu.reset();
    const cold = await inMemory(emu);
    await Promise.all(
      Array.from({ length: 100 }, () => cold.client.callTool({ name: 'describe_entity', arguments: {} })),
    );
    const tokens = emu.stats().tokenRequests;
    record({
      id: 'P3',
      name: 'token requests for 100 concurrent cold tool calls',
      value: tokens,
      unit: 'requests',
      baseline: null,
      goal: '1',
      met: tokens === 1,
    });
    await cold.close();
  } finally {
    await agent.close();
    await emu.close();
  }
}

/** P5: pipeline_summary on 50,000 opportunities vs downloading the open ones and adding up. */
export async function benchPipeline(): Promise<void> {
  process.stdout.write('pipeline_summary on 50,000 opportunities\n');
  const emu = await startEmulator({ scale: 50_000 });
  const agent = new Agent({ connect: { ca: emu.ca } });
  try {
    const mem = await inMemory(emu);
    // both sides compute the same answer: the open opportunities' count, total and weighted value per sales
    // stage, in the base currency (checked below); the tool's default call also looks up the five largest
    // deals, which the download does not, so that call is timed on its own (P5d)
    const args = { from: '2000-01-01', to: '2100-12-31', topDeals: 0 };
    const ours = (await mem.client.callTool({ name: 'pipeline_summary', arguments: args })) as unknown as {
      structuredContent: { groups: { key: string; count: number; totalValue: number; weightedValue: number }[] };
    };
    const before = emu.stats().bytesOut;
    // both sides are timed at steady state, after the same warm-up: the emulator's filter and grouping code
    // takes about ten calls to be optimised by V8 (the first calls run at 2-3x), as a running server would see
    const RUNS = 10;
    const WARMUP = 10;
    const ourTimes = await times(
      RUNS,
      () => mem.client.callTool({ name: 'pipeline_summary', arguments: args }),
      WARMUP,
    );
    const ourBytes = (emu.stats().bytesOut - before) / (RUNS + WARMUP);
    const token = await directToken(emu, agent);
    const download = async () => {
      // "downloading them all and aggregating": every opportunity, filtered and added up here
      let url: string | undefined =
        `${emu.dynamicsUrl}/api/data/v9.2/opportunities?$select=salesstage,estimatedvalue_base,closeprobability,statecode,estimatedclosedate`;
      const sums = new Map<number, { n: number; total: number; weighted: number }>();
      let bytes = 0;
      while (url) {
        const r = await request(url, {
          dispatcher: agent,
          headers: { authorization: `Bearer ${token}`, prefer: 'odata.maxpagesize=5000' },
        });
        const text = await r.body.text();
        bytes += Buffer.byteLength(text);
        const page = JSON.parse(text) as {
          value: {
            salesstage: number;
            estimatedvalue_base: number;
            closeprobability: number;
            statecode: number;
            estimatedclosedate: string;
          }[];
          '@odata.nextLink'?: string;
        };
        for (const o of page.value) {
          if (o.statecode !== 0 || o.estimatedclosedate < '2000-01-01' || o.estimatedclosedate > '2100-12-31') continue;
          const s = sums.get(o.salesstage) ?? { n: 0, total: 0, weighted: 0 };
          s.n++;
          s.total += o.estimatedvalue_base;
          s.weighted += (o.estimatedvalue_base * o.closeprobability) / 100;
          sums.set(o.salesstage, s);
        }
        url = page['@odata.nextLink'];
      }
      return { bytes, sums };
    };
    const { bytes: baseBytes, sums } = await download();
    // the same answer, or the comparison means nothing
    for (const g of ours.structuredContent.groups) {
      const b = sums.get(Number(g.key));
      if (
        !b ||
        b.n !== g.count ||
        Math.abs(b.total - g.totalValue) > 0.05 ||
        Math.abs(b.weighted - g.weightedValue) > 0.05
      )
        throw new Error(`pipeline_summary and the download disagree on stage ${g.key}: ${JSON.stringify({ g, b })}`);
    }
    if (sums.size !== ours.structuredContent.groups.length)
      throw new Error('pipeline_summary and the download disagree on the stages');
    const baseTimes = await times(RUNS, download, WARMUP);
    record({
      id: 'P5',
      name: 'pipeline_summary bytes from the Web API vs downloading every open opportunity',
      value: ourBytes,
      unit: 'bytes',
      baseline: baseBytes,
      goal: '>= 50x fewer bytes and >= 10x faster (P5t)',
      met: ourBytes * 50 <= baseBytes && median(ourTimes) * 10 <= median(baseTimes),
    });
    record({
      id: 'P5t',
      name: 'pipeline_summary time vs downloading and adding up (median)',
      value: median(ourTimes),
      unit: 'ms',
      baseline: median(baseTimes),
      goal: '<= 1/10',
      met: median(ourTimes) * 10 <= median(baseTimes),
    });
    const defaultArgs = { from: args.from, to: args.to }; // the five largest deals too, with their accounts
    const defaultTimes = await times(
      RUNS,
      () => mem.client.callTool({ name: 'pipeline_summary', arguments: defaultArgs }),
      WARMUP,
    );
    record({
      id: 'P5d',
      name: '… the default call (also the five largest deals, which the download does not find) vs the same download',
      value: median(defaultTimes),
      unit: 'ms',
      baseline: median(baseTimes),
      goal: null,
      met: null,
    });
    await mem.close();
  } finally {
    await agent.close();
    await emu.close();
  }
}
