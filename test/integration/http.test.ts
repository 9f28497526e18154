import { ConfidentialClientApplication, PublicClientApplication } from '@azure/msal-node';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { DEFAULT_TEAM_ID, SERVICE_TEAM_ID } from '../../src/emulator/seed/seed.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { type HttpHarness, startHttpServer } from '../helpers/http.js';

const KEY = 'test-key-0123456789abcdef';
const READ_KEY = 'read-key-0123456789abcdef';
const READ_TOOLS = ['aggregate_records', 'describe_entity', 'get_record', 'pipeline_summary', 'query_entities'];

describe('Streamable HTTP: API keys, sessions, limits', () => {
  let emu: EmulatorHandle;
  let h: HttpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    h = await startHttpServer(
      emu,
      { DYNAMICS_MCP_API_KEYS: `${KEY},another-key-0123456789`, DYNAMICS_MCP_READ_API_KEYS: READ_KEY },
      { http: { bodyLimitBytes: 20_000, rateLimitPerMinute: 1000 } },
    );
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    request(h.http.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const init = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
  };

  it('an SDK client with a valid key lists and calls tools over a session', async () => {
    const c = await h.connect(KEY);
    const tools = await c.listTools();
    expect(tools.tools).toHaveLength(12);
    const r = (await c.callTool({ name: 'query_entities', arguments: { entity: 'account', top: 2 } })) as any;
    expect(r.structuredContent.records).toHaveLength(2);
    expect(h.http.sessions()).toBeGreaterThanOrEqual(1);
    expect(h.logs.join('')).toMatch(/"rpc":"tools\/call query_entities".*"caller":"key:[0-9a-f]{12}"/);
    expect(h.logs.join('')).not.toContain(KEY);
  });

  it('no key, or a wrong key, is a 401 with a Bearer challenge; nothing reaches Dynamics', async () => {
    const mark = emu.requests().length;
    const none = await post(init);
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    await none.body.dump();
    const wrong = await post(init, { authorization: 'Bearer not-a-valid-key-at-all' });
    expect(wrong.statusCode).toBe(401);
    await wrong.body.dump();
    await expect(h.connect('wrong-key-0123456789abc')).rejects.toThrow();
    expect(
      emu
        .requests()
        .slice(mark)
        .filter((r) => r.service === 'webapi'),
    ).toEqual([]);
  });

  // least privilege per client: an agent that only answers questions gets a key that cannot write
  it('a read-only key opens sessions that list no write tool, refuse writes as read-only and show nothing writable', async () => {
    const c = await h.connect(READ_KEY);
    expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
    expect(c.getInstructions()).toContain('This server is read-only: nothing can be written.');
    const mark = emu.requests().length;
    const read = (await c.callTool({ name: 'query_entities', arguments: { entity: 'account', top: 2 } })) as any;
    expect(read.structuredContent.records).toHaveLength(2);
    const write = (await c.callTool({ name: 'create_lead', arguments: { lastName: 'Silva' } })) as any;
    expect(write.isError).toBe(true);
    expect(write.content[0].text).toMatch(
      /^Error \(read_only\): create_lead writes, and this session's credentials grant reading only: nothing can be written here\./,
    );
    const described = (await c.callTool({ name: 'describe_entity', arguments: { entity: 'account' } })) as any;
    expect(described.structuredContent.entity.columns.filter((col: { write: boolean }) => col.write)).toEqual([]);
    const tables = (await c.callTool({ name: 'describe_entity', arguments: {} })) as any;
    expect(tables.structuredContent.entities.filter((e: { write: boolean }) => e.write)).toEqual([]);
    expect(
      emu
        .requests()
        .slice(mark)
        .filter((r) => r.service === 'webapi' && r.method !== 'GET'),
    ).toEqual([]);
    expect(h.logs.join('')).not.toContain(READ_KEY);
    // the full key's sessions still write, and each keeps to its own sessions
    const full = await h.connect(KEY);
    expect((await full.listTools()).tools).toHaveLength(12);
  });

  it('DNS-rebinding protection: a foreign Host or Origin gets 403', async () => {
    const host = await post(init, { authorization: `Bearer ${KEY}`, host: 'evil.example:3000' });
    expect(host.statusCode).toBe(403);
    await host.body.dump();
    const origin = await post(init, { authorization: `Bearer ${KEY}`, origin: 'https://evil.example' });
    expect(origin.statusCode).toBe(403);
    await origin.body.dump();
    const local = await post(init, { authorization: `Bearer ${KEY}`, origin: 'http://localhost:6274' });
    expect(local.statusCode).toBe(200);
    await local.body.dump();
  });

  it('a body over the limit is 413; a session belongs to its caller', async () => {
    const big = await post(
      { ...init, params: { ...init.params, padding: 'x'.repeat(30_000) } },
      { authorization: `Bearer ${KEY}` },
    );
    expect(big.statusCode).toBe(413);
    await big.body.dump();
    const opened = await post(init, { authorization: `Bearer ${KEY}` });
    const sid = opened.headers['mcp-session-id'] as string;
    await opened.body.dump();
    const stolen = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { authorization: 'Bearer another-key-0123456789', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
    );
    expect(stolen.statusCode).toBe(404);
    await stolen.body.dump();
  });

  it('health and readiness answer without credentials and reveal nothing', async () => {
    const health = await request(h.http.url.replace('/mcp', '/healthz'));
    expect(await health.body.json()).toEqual({ status: 'ok' });
    const ready = await request(h.http.url.replace('/mcp', '/readyz'));
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.json()).toEqual({ status: 'ready' });
  });

  it('keeps an idle connection for 65 s and says so, longer than a load balancer keeps its own', async () => {
    // Node's default (5 s) closes a kept-alive connection while a busy client or a proxy (60 s idle on AWS's
    // ALB) may be sending on it: the call fails with ECONNRESET / "other side closed" (P8 under load did)
    const health = await request(h.http.url.replace('/mcp', '/healthz'));
    await health.body.dump();
    expect(health.headers['keep-alive']).toBe('timeout=65');
  });
});

describe('Streamable HTTP: rate limit, stateless mode, shutdown', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
  });
  afterAll(async () => emu.close());

  it('a caller over its rate gets 429 with Retry-After', async () => {
    const h = await startHttpServer(emu, { DYNAMICS_MCP_API_KEYS: KEY }, { http: { rateLimitPerMinute: 5 } });
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 8; i++) {
      const r = await request(h.http.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEY}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
        }),
      });
      statuses.push(r.statusCode);
      if (r.statusCode === 429) retryAfter = r.headers['retry-after'] as string;
      await r.body.dump();
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    await h.close();
  });

  it('signs in to Dynamics as it starts, before any caller (not with on-behalf-of, where each call is its user)', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const mark = emu.requests().length;
    const h = await startHttpServer(emu, { DYNAMICS_MCP_API_KEYS: KEY });
    for (let i = 0; i < 400 && !h.logs.some((l) => l.includes('signed in to Dynamics')); i++) await sleep(25);
    expect(h.logs.find((l) => l.includes('signed in to Dynamics'))).toMatch(/"level":30,[^\n]*"ms":\d+/);
    const seen = emu.requests().slice(mark);
    expect(seen.filter((r) => r.service === 'webapi').map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/data/v9.2/WhoAmI()',
    ]);
    expect(seen.filter((r) => r.service === 'authority' && r.url.includes('/token'))).toHaveLength(1);
    await h.close();
    // on-behalf-of: the server's own identity is not used, so nothing is asked until a call comes
    emu.registerApp({ clientId: emu.api.clientId, secret: emu.api.clientSecret, applicationUser: true });
    const before = emu.requests().length;
    const obo = await startHttpServer(emu, {
      AZURE_CLIENT_ID: emu.api.clientId,
      AZURE_CLIENT_SECRET: emu.api.clientSecret,
      DYNAMICS_MCP_ENTRA_AUDIENCE: emu.api.audience,
      DYNAMICS_MCP_ON_BEHALF_OF: 'true',
    });
    await sleep(500);
    expect(
      emu
        .requests()
        .slice(before)
        .filter((r) => r.service === 'webapi'),
    ).toEqual([]);
    await obo.close();
  });

  it('stateless mode serves each request with a fresh server', async () => {
    const h = await startHttpServer(
      emu,
      { DYNAMICS_MCP_API_KEYS: KEY, DYNAMICS_MCP_READ_API_KEYS: READ_KEY },
      { http: { stateless: true } },
    );
    const c = await h.connect(KEY);
    const r = (await c.callTool({ name: 'describe_entity', arguments: {} })) as any;
    expect(r.structuredContent.entities.length).toBeGreaterThan(3);
    expect((await c.listTools()).tools).toHaveLength(12);
    expect(h.http.sessions()).toBe(0);
    // each request's server has the reach of that request's key
    const ro = await h.connect(READ_KEY);
    expect((await ro.listTools()).tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
    await h.close();
  });

  it('shutdown lets a call in flight finish', async () => {
    const h = await startHttpServer(emu, { DYNAMICS_MCP_API_KEYS: KEY });
    const c = await h.connect(KEY);
    await c.callTool({ name: 'describe_entity', arguments: { entity: 'lead' } });
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/leads' }, delayMs: 600 });
    const call = c.callTool({ name: 'query_entities', arguments: { entity: 'lead', top: 3 } });
    await new Promise((r) => setTimeout(r, 150));
    const closing = h.http.close();
    const r = (await call) as any;
    expect(r.structuredContent.records).toHaveLength(3);
    await closing;
    // new calls are refused once it is shutting down
    await expect(c.callTool({ name: 'describe_entity', arguments: {} })).rejects.toThrow();
    await h.close().catch(() => {});
  });

  it('DYNAMICS_MCP_AUTH=none is refused off loopback, and no authentication at all is refused', async () => {
    await expect(
      startHttpServer(emu, { DYNAMICS_MCP_AUTH: 'none' }, { http: { host: '0.0.0.0', allowedHosts: ['mcp.example'] } }),
    ).rejects.toThrow(/loopback/);
    await expect(startHttpServer(emu, {})).rejects.toThrow(/needs inbound authentication/);
  });

  it('a port in use is a configuration error naming it and the way out, not "listen EADDRINUSE"', async () => {
    const first = await startHttpServer(emu, { DYNAMICS_MCP_API_KEYS: KEY });
    const port = Number(new URL(first.http.url).port);
    const second = startHttpServer(emu, { DYNAMICS_MCP_API_KEYS: KEY }, { http: { port } });
    await expect(second).rejects.toMatchObject({
      kind: 'config',
      message: `Port ${port} is already in use on 127.0.0.1 (another dynamics-mcp, or another server).`,
      hint: `Stop it, or use another port: --port ${port + 1} (PORT=${port + 1} with npm start).`,
    });
    await first.close();
  });
});

describe('Streamable HTTP: Entra ID tokens, protected-resource metadata, on-behalf-of', () => {
  let emu: EmulatorHandle;
  let h: HttpHarness;
  let userToken: string;
  /** a POST to /mcp with this bearer token (and session), as a client sends it */
  const postAs = (token: string, body: unknown = {}, sid?: string) =>
    request(h.http.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
        ...(sid ? { 'mcp-session-id': sid } : {}),
      },
      body: JSON.stringify(body),
    });
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    // the MCP server runs as its own app registration, which is the audience of the callers' tokens
    emu.registerApp({ clientId: emu.api.clientId, secret: emu.api.clientSecret, applicationUser: true });
    h = await startHttpServer(emu, {
      AZURE_CLIENT_ID: emu.api.clientId,
      AZURE_CLIENT_SECRET: emu.api.clientSecret,
      DYNAMICS_MCP_ENTRA_AUDIENCE: emu.api.audience,
      DYNAMICS_MCP_ON_BEHALF_OF: 'true',
    });
    const alex = emu.users[0]!;
    const pca = new PublicClientApplication({
      auth: {
        clientId: emu.clientId,
        authority: `${emu.authorityHost}/${emu.tenantId}`,
        knownAuthorities: [new URL(emu.authorityHost).host],
      },
    });
    userToken = (await pca.acquireTokenByUsernamePassword({
      username: alex.username,
      password: alex.password,
      scopes: [`${emu.api.audience}/mcp.tools`],
    }))!.accessToken;
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  it('publishes RFC 9728 protected-resource metadata, and a 401 points at it', async () => {
    const base = h.http.url.replace('/mcp', '');
    const prm = (await (await request(`${base}/.well-known/oauth-protected-resource/mcp`)).body.json()) as any;
    expect(prm).toMatchObject({
      resource: h.http.url,
      authorization_servers: [`${emu.authorityHost}/${emu.tenantId}/v2.0`],
      bearer_methods_supported: ['header'],
    });
    const r = await request(h.http.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toContain(
      `resource_metadata="${base}/.well-known/oauth-protected-resource/mcp"`,
    );
    await r.body.dump();
  });

  it('a user token is accepted, and with on-behalf-of the call reaches Dataverse as that user', async () => {
    const c = await h.connect(userToken);
    const mark = emu.requests().length;
    const r = (await c.callTool({ name: 'query_entities', arguments: { entity: 'account', top: 1 } })) as any;
    expect(r.isError).toBeFalsy();
    const sent = emu
      .requests()
      .slice(mark)
      .filter((x) => x.service === 'webapi' && x.url.startsWith('/api/data/v9.2/accounts'));
    expect(sent.length).toBe(1);
    expect(sent[0]!.userId).toBe(emu.users[0]!.systemuserid);
    // "my pipeline": as the signed-in user, "me" is that user
    const alex = String(emu.users[0]!.systemuserid);
    const mine = (await c.callTool({
      name: 'pipeline_summary',
      arguments: { ownerId: 'me', from: '2020-01-01', to: '2035-12-31' },
    })) as any;
    expect(mine.isError, JSON.stringify(mine.content)).toBeFalsy();
    const open = emu.rows('opportunity').filter((o) => o.statecode === 0 && (o.ownerid as { id: string }).id === alex);
    expect(open.length).toBeGreaterThan(0);
    expect(mine.structuredContent.totals.count).toBe(open.length);
    // and in a condition: {"ownerid": "me"} is the user the call runs as (Dataverse's EqualUserId)
    const deals = (await c.callTool({
      name: 'query_entities',
      arguments: { entity: 'opportunity', select: ['name'], where: { ownerid: 'me', statecode: 'Open' }, top: 5000 },
    })) as any;
    expect(deals.isError, JSON.stringify(deals.content)).toBeFalsy();
    expect(deals.structuredContent.records.map((x: { id: string }) => x.id).sort()).toEqual(
      open.map((o) => String(o.opportunityid)).sort(),
    );
    // Dataverse's own operator, in where and in filter text, is that user too (refused app-only: query-entities.test.ts)
    for (const args of [
      { where: { ownerid: { currentUser: true }, statecode: 'Open' } },
      { filter: "Microsoft.Dynamics.CRM.EqualUserId(PropertyName='ownerid') and statecode eq 0" },
    ]) {
      const r = (await c.callTool({
        name: 'query_entities',
        arguments: { entity: 'opportunity', select: ['name'], top: 5000, ...args },
      })) as any;
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      expect(r.structuredContent.records.map((x: { id: string }) => x.id).sort()).toEqual(
        open.map((o) => String(o.opportunityid)).sort(),
      );
    }
    // "who am I": the user's own record by its key given as "me"
    const me = (await c.callTool({
      name: 'query_entities',
      arguments: { entity: 'systemuser', select: ['fullname'], where: { systemuserid: 'me' } },
    })) as any;
    expect(me.isError, JSON.stringify(me.content)).toBeFalsy();
    expect(me.structuredContent.records).toEqual([
      { id: alex, fullname: String(emu.rows('systemuser').find((u) => u.systemuserid === alex)!.fullname) },
    ]);
    // and "not mine" is every open deal someone else owns
    const others = emu
      .rows('opportunity')
      .filter((o) => o.statecode === 0 && (o.ownerid as { id: string }).id !== alex)
      .map((o) => String(o.opportunityid))
      .sort();
    for (const where of [{ ownerid: { ne: 'me' } }, { not: { ownerid: 'me' } }]) {
      const r = (await c.callTool({
        name: 'query_entities',
        arguments: { entity: 'opportunity', select: ['name'], top: 5000, where: { ...where, statecode: 'Open' } },
      })) as any;
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      expect(r.structuredContent.records.map((x: { id: string }) => x.id).sort()).toEqual(others);
    }
    // a task made as the signed-in user is theirs: nothing said of the application owning it (app-only:
    // create-record.test.ts)
    const made = (await c.callTool({
      name: 'create_record',
      arguments: { entity: 'task', values: { subject: 'Send the signed contract' } },
    })) as any;
    expect(made.isError, JSON.stringify(made.content)).toBeFalsy();
    const task = emu.rows('task').find((t) => t.activityid === made.structuredContent.id)!;
    expect((task.ownerid as { id: string }).id).toBe(alex);
    expect(made.content[0].text).not.toContain('Its owner is');
  });

  it('"my team\'s cases" as the signed-in user: the teams they are on (EqualUserTeams), or they and those teams', async () => {
    const c = await h.connect(userToken);
    const alex = String(emu.users[0]!.systemuserid);
    // Alex is on the Customer Service team (teammemberships), which owns the low-priority open cases, and on the
    // default team, which owns none
    const teams = emu
      .rows('teammembership')
      .filter((m) => m.systemuserid === alex)
      .map((m) => String(m.teamid));
    expect(teams.sort()).toEqual([DEFAULT_TEAM_ID, SERVICE_TEAM_ID].sort());
    const owner = (x: Record<string, unknown>) => (x.ownerid as { id: string }).id;
    const ids = (rows: Record<string, unknown>[]) => rows.map((x) => String(x.incidentid)).sort();
    const ask = async (ownerid: string | Record<string, unknown>) => {
      const r = (await c.callTool({
        name: 'query_entities',
        arguments: { entity: 'incident', select: ['title'], where: { ownerid, statecode: 'Active' }, top: 5000 },
      })) as any;
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      return r.structuredContent.records.map((x: { id: string }) => x.id).sort();
    };
    // a case Alex opens is Alex's, so that "mine" has one
    const account = emu.rows('account')[0]!;
    const opened = (await c.callTool({
      name: 'create_case',
      arguments: { title: 'Badge reader offline', customer: { accountId: account.accountid } },
    })) as any;
    expect(opened.isError, JSON.stringify(opened.content)).toBeFalsy();
    const now = emu.rows('incident').filter((x) => x.statecode === 0);
    const teamCases = now.filter((x) => teams.includes(owner(x)));
    expect(teamCases.length).toBeGreaterThan(0);
    expect(await ask("my team's")).toEqual(ids(teamCases));
    // a list of one is the same; a text operator is no way to say it
    expect(await ask({ in: ['my team'] })).toEqual(ids(teamCases));
    const contains = (await c.callTool({
      name: 'query_entities',
      arguments: { entity: 'incident', where: { ownerid: { contains: 'my team' } } },
    })) as any;
    expect(contains.content[0].text).toContain("incident.ownerid 'my team': only eq means the signed-in user's teams.");
    // a record is given to one team: "my team" as its owner is refused, with how to find the user's teams
    const give = (await c.callTool({
      name: 'update_record',
      arguments: { entity: 'incident', id: teamCases[0]!.incidentid, values: { ownerid: 'my team' } },
    })) as any;
    expect(give.isError).toBe(true);
    expect(give.content[0].text).toContain(
      `incident.ownerid 'my team': a record has one owner, and "my team" is every team you are on.`,
    );
    const listed = (await c.callTool({
      name: 'query_entities',
      arguments: { entity: 'team', select: ['name'], where: { 'teammembership_association/fullname': 'Alex Wilber' } },
    })) as any;
    expect(listed.structuredContent.records.map((x: { id: string }) => x.id).sort()).toEqual(teams.sort());
    const mineToo = now.filter((x) => owner(x) === alex || teams.includes(owner(x)));
    expect(mineToo.length).toBeGreaterThan(teamCases.length);
    expect(await ask('me or my team')).toEqual(ids(mineToo));
    // Dataverse's own functions in filter text, and a team's pipeline by the same words
    const byText = (await c.callTool({
      name: 'query_entities',
      arguments: {
        entity: 'incident',
        select: ['title'],
        filter: "statecode eq 0 and Microsoft.Dynamics.CRM.EqualUserTeams(PropertyName='ownerid')",
        top: 5000,
      },
    })) as any;
    expect(byText.structuredContent.records.map((x: { id: string }) => x.id).sort()).toEqual(ids(teamCases));
    const pipeline = (await c.callTool({
      name: 'pipeline_summary',
      arguments: { ownerId: 'me or my team', from: '2020-01-01', to: '2035-12-31' },
    })) as any;
    expect(pipeline.isError, JSON.stringify(pipeline.content)).toBeFalsy();
    const deals = emu
      .rows('opportunity')
      .filter((o) => o.statecode === 0 && (owner(o) === alex || teams.includes(owner(o))));
    expect(pipeline.structuredContent.totals.count).toBe(deals.length);
  });

  it('an app token with the required role is accepted; without it, 403', async () => {
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: emu.clientId,
        clientSecret: emu.clientSecret,
        authority: `${emu.authorityHost}/${emu.tenantId}`,
        knownAuthorities: [new URL(emu.authorityHost).host],
      },
    });
    const appToken = (await cca.acquireTokenByClientCredential({ scopes: [`${emu.api.audience}/.default`] }))!
      .accessToken;
    const c = await h.connect(appToken);
    expect((await c.listTools()).tools.length).toBe(12);
    // a token with neither the required scope nor the read one
    const weak = await emu.mintToken({
      aud: emu.api.audience,
      oid: emu.users[1]!.objectId,
      scp: 'user.read',
      idtyp: 'user',
    });
    const r = await postAs(weak);
    expect(r.statusCode).toBe(403);
    expect(r.headers['www-authenticate']).toContain('insufficient_scope');
    expect(r.headers['www-authenticate']).toContain('The token needs the scope mcp.tools (or mcp.read to read only)');
    await r.body.dump();
  });

  it('a user consented to the read scope only gets a read-only session; it is not the session of a full token', async () => {
    const megan = emu.users[1]!; // consented to mcp.read only
    const pca = new PublicClientApplication({
      auth: {
        clientId: emu.clientId,
        authority: `${emu.authorityHost}/${emu.tenantId}`,
        knownAuthorities: [new URL(emu.authorityHost).host],
      },
    });
    const readToken = (await pca.acquireTokenByUsernamePassword({
      username: megan.username,
      password: megan.password,
      scopes: [`${emu.api.audience}/mcp.read`],
    }))!.accessToken;
    const c = await h.connect(readToken);
    expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
    const r = (await c.callTool({
      name: 'get_record',
      arguments: { entity: 'account', id: String(emu.rows('account')[0]!.accountid) },
    })) as any;
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    // the protected-resource metadata offers both scopes
    const base = h.http.url.replace('/mcp', '');
    const prm = (await (await request(`${base}/.well-known/oauth-protected-resource/mcp`)).body.json()) as any;
    expect(prm.scopes_supported).toEqual([`${emu.api.audience}/mcp.tools`, `${emu.api.audience}/mcp.read`]);
    // the same user with a full token opens a session; the read token cannot use it, nor the other way round
    const fullToken = await emu.mintToken({
      aud: emu.api.audience,
      oid: megan.objectId,
      scp: 'mcp.tools',
      idtyp: 'user',
    });
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
    };
    const opened = await postAs(fullToken, init);
    expect(opened.statusCode).toBe(200);
    const sid = opened.headers['mcp-session-id'] as string;
    await opened.body.dump();
    const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
    const crossed = await postAs(readToken, list, sid);
    expect(crossed.statusCode).toBe(404);
    await crossed.body.dump();
    const own = await postAs(fullToken, list, sid);
    expect(own.statusCode).toBe(200);
    await own.body.dump();
  });

  it.each([
    [
      'expired',
      async (e: EmulatorHandle) =>
        e.mintToken({ aud: e.api.audience, oid: e.users[0]!.objectId, scp: 'mcp.tools', idtyp: 'user' }, -120),
    ],
    [
      'for another audience',
      async (e: EmulatorHandle) =>
        e.mintToken({ aud: e.dynamicsUrl, oid: e.users[0]!.objectId, scp: 'mcp.tools', idtyp: 'user' }),
    ],
    [
      'from another issuer',
      async (e: EmulatorHandle) =>
        e.mintToken({
          aud: e.api.audience,
          iss: 'https://evil.example/tenant/v2.0',
          oid: e.users[0]!.objectId,
          scp: 'mcp.tools',
          idtyp: 'user',
        }),
    ],
  ])('a token %s is refused with 401', async (_label, mint) => {
    const r = await postAs(await mint(emu));
    expect(r.statusCode).toBe(401);
    await r.body.dump();
  });
});

describe('Streamable HTTP: resumable streams', () => {
  it('a client that lost the stream replays what it missed with Last-Event-ID', async () => {
    const emu = await startTestEmulator({ scale: 5 });
    const h = await startHttpServer(emu, { DYNAMICS_MCP_API_KEYS: KEY });
    try {
      const headers = {
        authorization: `Bearer ${KEY}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      };
      const init = await request(h.http.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
        }),
      });
      const sid = init.headers['mcp-session-id'] as string;
      await init.body.text();
      const call = await request(h.http.url, {
        method: 'POST',
        headers: { ...headers, 'mcp-session-id': sid },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'describe_entity', arguments: {} },
        }),
      });
      const sse = await call.body.text();
      const ids = [...sse.matchAll(/^id: (.+)$/gm)].map((m) => m[1]!);
      expect(ids.length).toBeGreaterThanOrEqual(2); // a priming event, then the result
      const replay = await request(h.http.url, {
        method: 'GET',
        headers: { ...headers, 'mcp-session-id': sid, 'last-event-id': ids[0]! },
        signal: AbortSignal.timeout(2000),
      });
      let text = '';
      for await (const chunk of replay.body) {
        text += chunk.toString();
        if (text.includes('"id":2')) break;
      }
      expect(text).toContain('"id":2');
      expect(text).toContain('structuredContent');
    } finally {
      await h.close();
      await emu.close();
    }
  });
});
