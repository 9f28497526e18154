import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBody } from '../../src/dynamics/answers.js';
import type { EmulatorHandle, FaultSpec } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// Answers that are not Dataverse's: a proxy, gateway or captive portal between the server and Dynamics
// answering 200 with its own page, or JSON cut short. The model must learn what came back and whether
// trying again is safe, never get "failed unexpectedly", raw markup, or an empty result that reads as
// "no records"; and a create must never be reported done when nothing was created.

const GATEWAY_PAGE: NonNullable<FaultSpec['response']> = {
  status: 200,
  headers: { 'Content-Type': 'text/html; charset=utf-8' },
  body: '<!DOCTYPE html><html><head><title>Access gateway</title><style>p{}</style></head><body><p>Sign in</p></body></html>',
};

describe("answers that are not Dataverse's", () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 20 });
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
    await h.call('describe_entity', { entity: 'lead' });
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  const call = async (path: string, response: FaultSpec['response'], tool: string, args: object, times = 1) => {
    emu.addFault({ match: { path: `/api/data/v9.2/${path}` }, response, times });
    try {
      return await h.call(tool, args as Record<string, unknown>);
    } finally {
      emu.clearFaults();
    }
  };

  it('a gateway page answering a query with 200 is named as such, without its markup', async () => {
    const r = await call('accounts', GATEWAY_PAGE, 'query_entities', { entity: 'account', top: 3 });
    expect(r.isError).toBe(true);
    const text = textOf(r);
    expect(text).toContain(
      'Dynamics answered the query on accounts with HTTP 200 but not with JSON: an HTML page ("Access gateway")',
    );
    expect(text).toContain('a proxy, gateway or firewall');
    expect(text).not.toMatch(/<html|<title|failed unexpectedly/i);
  });

  it('JSON behind a byte order mark (as .NET writers and some proxies send it) is read as JSON', async () => {
    const r = await call(
      'accounts',
      {
        status: 200,
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        body: '\uFEFF{"value":[{"accountid":"00000000-0000-0000-0000-0000000000a1","name":"Marked Ltd"}]}',
      },
      'query_entities',
      { entity: 'account', select: ['name'] },
    );
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.records).toEqual([{ id: '00000000-0000-0000-0000-0000000000a1', name: 'Marked Ltd' }]);
  });

  it('JSON cut short, or without its list of records, is an error, not "0 records"', async () => {
    const cut = await call('accounts', { status: 200, body: '{"value":[{"name":"Contoso' }, 'query_entities', {
      entity: 'account',
    });
    expect(textOf(cut)).toMatch(
      /^Error \(server\): .*not with JSON: application\/json: "\{"value":\[\{"name":"Contoso"/,
    );
    const empty = await call('accounts', { status: 200, body: { '@odata.context': 'x' } }, 'query_entities', {
      entity: 'account',
    });
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toContain('not with a list of records ("value")');
  });

  it('a 502 page reads "HTTP 502: an HTML page (title)" once, not the raw page', async () => {
    const r = await call(
      'accounts',
      { status: 502, headers: { 'Content-Type': 'text/html' }, body: '<html><title>502 Bad Gateway</title></html>' },
      'query_entities',
      { entity: 'account' },
      5, // every retry of the read meets it
    );
    expect(textOf(r)).toContain('Dynamics answered HTTP 502: an HTML page ("502 Bad Gateway")');
    expect(textOf(r)).not.toContain('HTTP 502: HTTP 502');
  });

  it('an unexpected 4xx is a refusal of the request, not "a problem on the Dynamics side; try again"', async () => {
    const r = await call(
      'accounts',
      { status: 415, headers: { 'Content-Type': 'text/plain' }, body: 'Unsupported Media Type' },
      'query_entities',
      { entity: 'account' },
    );
    expect(textOf(r)).toMatch(/^Error \(validation\): Dynamics refused the request: HTTP 415: /);
    expect(textOf(r)).toContain('Sending the same request again will not help');
    expect(textOf(r)).not.toContain('try again in a minute');
  });

  it('a redirect (a proxy sending to its sign-in page) says where to, without the query string, and what to fix', async () => {
    const r = await call(
      'accounts',
      { status: 302, headers: { Location: 'https://login.proxy.example/signin?state=abc123&req=xyz' } },
      'query_entities',
      { entity: 'account' },
    );
    expect(textOf(r)).toMatch(
      /^Error \(config\): Dynamics answered with a redirect to https:\/\/login\.proxy\.example\/signin,/,
    );
    expect(textOf(r)).toContain('Set DYNAMICS_URL to the Environment URL');
    expect(textOf(r)).not.toContain('abc123');
  });

  it('a create answered by a gateway page is looked up: not created, so the error says a retry is safe, and the retry makes one lead', async () => {
    const args = { lastName: 'Gateway', email: 'gateway.page@example.com', company: 'Proxy Ltd' };
    const leads = () => emu.rows('lead').filter((l) => l.emailaddress1 === args.email).length;
    emu.addFault({ match: { method: 'PATCH', path: '/api/data/v9.2/leads' }, response: GATEWAY_PAGE });
    const r = await h.call('create_lead', args);
    emu.clearFaults();
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('did not create it');
    expect(textOf(r)).toContain('Nothing was created, so trying again is safe.');
    expect(leads()).toBe(0);
    const again = await h.call('create_lead', args);
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(leads()).toBe(1);
  });

  it('when even the look-up is answered by the gateway, the error says the outcome is unknown and how to check', async () => {
    const args = { lastName: 'Unknown', email: 'unknown.outcome@example.com', company: 'Proxy Ltd' };
    emu.addFault({ match: { method: 'PATCH', path: '/api/data/v9.2/leads' }, response: GATEWAY_PAGE });
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/leads(' }, response: GATEWAY_PAGE, times: 5 });
    const r = await h.call('create_lead', args);
    emu.clearFaults();
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      /Whether [0-9a-f-]{36} was created is unknown: look for it \(get_record\) before trying again\./,
    );
  });

  it.each([
    [
      'an HTML page',
      GATEWAY_PAGE,
      'Could not get a token: The sign-in endpoint answered HTTP 200 with an HTML page ("Access gateway"), not a token or an error of its own.',
    ],
    [
      'JSON without an access token',
      { status: 200, body: { token_type: 'Bearer', expires_in: 3599 } },
      // not "no application user in this environment", which is what Dataverse's 401 would have suggested
      'The sign-in endpoint answered without an access token.',
    ],
  ])(
    'a token endpoint answering with %s is an auth error that points at the proxy',
    async (_name, response, message) => {
      const cold = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
      try {
        emu.addFault({ match: { method: 'POST', path: `/${emu.tenantId}/oauth2/v2.0/token` }, response, times: 5 });
        const r = await cold.call('query_entities', { entity: 'account', top: 1 });
        expect(textOf(r)).toContain(`Error (auth): ${message}`);
        expect(textOf(r)).toContain('(a proxy');
        expect(textOf(r)).not.toMatch(/Not Available|application user|<html/i);
      } finally {
        emu.clearFaults();
        await cold.close();
      }
    },
  );

  it('metadata read through $batch and answered by a gateway page fails describe_entity clearly', async () => {
    const cold = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
    try {
      emu.addFault({ match: { method: 'POST', path: '/api/data/v9.2/$batch' }, response: GATEWAY_PAGE });
      const r = await cold.call('describe_entity', { entity: 'contact' });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('Dynamics answered a $batch request with HTTP 200 but not with the multipart answer');
      expect(textOf(r)).toContain('an HTML page ("Access gateway")');
    } finally {
      emu.clearFaults();
      await cold.close();
    }
  });
});

describe('describeBody: what a body that is not the expected JSON looks like', () => {
  it.each([
    [
      { 'content-type': 'text/html' },
      '<html><head><title> Down  for\nmaintenance </title></head></html>',
      'an HTML page ("Down for maintenance")',
    ],
    [{}, '<div><script>var x = 1;</script>Please <b>sign in</b></div>', 'an HTML page ("Please sign in")'],
    [{ 'content-type': 'text/plain' }, '   ', 'an empty body'],
    [{ 'content-type': 'text/plain; charset=utf-8' }, `${'x'.repeat(200)}`, `text/plain: "${'x'.repeat(160)}…"`],
  ])('%j %j → %s', (headers, text, expected) => {
    expect(describeBody(headers as Record<string, string>, text)).toBe(expected);
  });
});
