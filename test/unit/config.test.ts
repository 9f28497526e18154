import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { Policy } from '../../src/policy/policy.js';

const env = {
  DYNAMICS_URL: 'https://contoso.crm.dynamics.com/',
  AZURE_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  AZURE_CLIENT_ID: '22222222-2222-2222-2222-222222222222',
  AZURE_CLIENT_SECRET: 'abc8Q~not-a-guid-secret',
};

const problems = (e: Record<string, string | undefined>, flags = {}) => {
  try {
    loadConfig({ env: e, flags });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('configuration', () => {
  it('reads the documented variables, trims the URL and freezes the result', () => {
    const c = loadConfig({ env });
    expect(c.dynamics.url).toBe('https://contoso.crm.dynamics.com');
    expect(c.auth).toMatchObject({ mode: 'secret', authorityHost: 'https://login.microsoftonline.com' });
    expect(Object.isFrozen(c.dynamics)).toBe(true);
  });

  it('says when a GUID is malformed, naming the variable and where to find the value', () => {
    expect(problems({ ...env, AZURE_TENANT_ID: 'contoso' })).toEqual([
      expect.stringContaining('AZURE_TENANT_ID must be a GUID'),
    ]);
    expect(problems({ ...env, AZURE_CLIENT_ID: '123' })[0]).toContain('Application (client) ID');
  });

  it("a tenant's domain (which Entra signs in by, but a hosted server's issuer check cannot) is answered with where its ID is", () => {
    expect(problems({ ...env, AZURE_TENANT_ID: 'contoso.onmicrosoft.com' })).toEqual([
      "AZURE_TENANT_ID is a domain ('contoso.onmicrosoft.com'); the tenant's ID, a GUID, is needed: the Microsoft Entra admin center shows it as Tenant ID on its Overview page, and https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration gives it inside \"issuer\".",
    ]);
  });

  it('recognises a Secret ID pasted instead of the secret Value', () => {
    const p = problems({ ...env, AZURE_CLIENT_SECRET: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' });
    expect(p[0]).toContain('Secret ID');
    expect(p[0]).toContain('Value');
  });

  it('takes the environment URL from what people paste: a page address, the Web API endpoint, a bare host', () => {
    const url = (u: string) => loadConfig({ env: { ...env, DYNAMICS_URL: u } }).dynamics.url;
    expect(url('https://contoso.crm.dynamics.com/main.aspx?appid=5c4e&pagetype=entitylist&etn=account')).toBe(
      'https://contoso.crm.dynamics.com',
    );
    expect(url('https://contoso.api.crm4.dynamics.com/api/data/v9.2/')).toBe('https://contoso.api.crm4.dynamics.com');
    expect(url('contoso.crm.dynamics.com')).toBe('https://contoso.crm.dynamics.com');
    expect(url('https://contoso.crm.dynamics.com/#/home')).toBe('https://contoso.crm.dynamics.com');
  });

  it('wants https, or an explicitly allowed loopback http URL', () => {
    expect(problems({ ...env, DYNAMICS_URL: 'http://contoso.crm.dynamics.com' })[0]).toContain('https://');
    expect(problems({ ...env, DYNAMICS_URL: 'http://127.0.0.1:8080' })[0]).toContain('DYNAMICS_MCP_ALLOW_HTTP');
    expect(problems({ ...env, DYNAMICS_URL: 'http://127.0.0.1:8080', DYNAMICS_MCP_ALLOW_HTTP: 'true' })).toEqual([]);
    expect(problems({ ...env, DYNAMICS_URL: 'not a url' })[0]).toContain('DYNAMICS_URL');
  });

  it('explains missing credentials and offers the demo', () => {
    expect(problems({ DYNAMICS_URL: env.DYNAMICS_URL })[0]).toContain('--demo');
  });

  it('a first run with nothing set hears of every missing setting at once, not one per start', () => {
    expect(problems({})).toEqual([
      expect.stringMatching(/^No credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET .*--demo/),
      expect.stringMatching(/^DYNAMICS_URL is missing/),
    ]);
    // half set: each missing or malformed piece by name
    expect(problems({ AZURE_TENANT_ID: 'contoso' })).toEqual([
      expect.stringMatching(/^DYNAMICS_URL is missing/),
      expect.stringMatching(/^AZURE_TENANT_ID must be a GUID/),
      expect.stringMatching(/^AZURE_CLIENT_ID is missing/),
      expect.stringMatching(/^AZURE_CLIENT_SECRET is missing/),
    ]);
  });

  it('picks certificate and managed-identity auth from their variables', () => {
    expect(
      loadConfig({ env: { ...env, AZURE_CLIENT_SECRET: undefined, AZURE_CLIENT_CERTIFICATE_PATH: '/x.pem' } }).auth
        .mode,
    ).toBe('certificate');
    const mi = loadConfig({ env: { DYNAMICS_URL: env.DYNAMICS_URL, AZURE_USE_MANAGED_IDENTITY: 'true' } }).auth;
    expect(mi).toEqual({ mode: 'managed-identity' });
    expect(problems({ ...env, AZURE_USE_MANAGED_IDENTITY: 'maybe' })[0]).toContain('true or false');
  });

  it('layers defaults < file < environment < flags', () => {
    const file = join(tmpdir(), `dmcp-config-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ logLevel: 'warn', policy: { readOnly: false }, dynamics: { pageSize: 50 } }));
    const fromFile = loadConfig({ env: { ...env, DYNAMICS_MCP_CONFIG: file } });
    expect(fromFile.logLevel).toBe('warn');
    expect(fromFile.dynamics.pageSize).toBe(50);
    const fromEnv = loadConfig({
      env: { ...env, DYNAMICS_MCP_CONFIG: file, LOG_LEVEL: 'DEBUG', DYNAMICS_MCP_READ_ONLY: 'true' },
    });
    expect(fromEnv.logLevel).toBe('debug');
    expect(fromEnv.policy.readOnly).toBe(true);
    const fromFlags = loadConfig({
      env: { ...env, DYNAMICS_MCP_CONFIG: file, LOG_LEVEL: 'debug' },
      flags: { logLevel: 'error' },
    });
    expect(fromFlags.logLevel).toBe('error');
    expect(problems({ ...env, DYNAMICS_MCP_CONFIG: '/no/such/file.json' })[0]).toContain('Cannot read the config file');
  });

  it('a value out of range in the config file names its setting, not only the range', () => {
    const file = join(tmpdir(), `dmcp-config-range-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ http: { rateLimitPerMinute: 1_000_000 }, dynamics: { pageSize: 0 } }));
    expect(problems({ ...env, DYNAMICS_MCP_CONFIG: file })).toEqual([
      expect.stringMatching(/^dynamics\.pageSize in the configuration: Too small: expected number to be >=1/),
      'http.rateLimitPerMinute in the configuration: Too big: expected number to be <=100000',
    ]);
    // messages that already name their variable are left as they are
    expect(problems({ ...env, AZURE_TENANT_ID: 'contoso' })).toEqual([
      expect.stringMatching(/^AZURE_TENANT_ID must be a GUID/),
    ]);
  });
});

describe('policy file', () => {
  const file = (doc: unknown) => {
    const path = join(tmpdir(), `dmcp-policy-keys-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(doc));
    return path;
  };
  // a switch silently dropped would leave the server less safe than its file says: "readonly" is not readOnly
  it('a key it does not have is refused at start, naming the keys it takes', () => {
    expect(() => Policy.load(file({ readonly: true, entities: {} }))).toThrow(
      /the policy has no "readonly"; it takes "readOnly", "entities", "maxRows", "maxResultBytes" \(names are case-sensitive\)/,
    );
    expect(() =>
      Policy.load(file({ entities: { account: { read: ['name'], write: ['name'], confirmwrites: true } } })),
    ).toThrow(
      /entities\.account: an entity entry has no "confirmwrites"; it takes "read", "write", "expand", "create", "delete", "confirmWrites", "sensitive"/,
    );
    const ok = Policy.load(file({ entities: { account: { read: ['name'], write: ['name'], confirmWrites: true } } }));
    expect(ok.confirmWrites('account')).toBe(true);
  });
});

describe('config file', () => {
  it('a setting it does not know stops the start, naming the one meant; known ones load', () => {
    const path = join(tmpdir(), `dmcp-config-keys-${process.pid}.json`);
    writeFileSync(path, JSON.stringify({ dynamics: { timeoutMS: 5000 }, policy: { readonly: true }, colour: 'blue' }));
    expect(() => loadConfig({ env, flags: { config: path } })).toThrow(
      /has settings this server does not know: dynamics\.timeoutMS \(did you mean dynamics\.timeoutMs\?\), policy\.readonly \(did you mean policy\.readOnly\?\), colour\./,
    );
    writeFileSync(path, JSON.stringify({ dynamics: { timeoutMs: 5000 }, leads: { assignment: [] } }));
    expect(loadConfig({ env, flags: { config: path } }).dynamics.timeoutMs).toBe(5000);
  });

  it("a lead owner given by name is refused with where to find the user's id", () => {
    const path = join(tmpdir(), `dmcp-config-owner-${process.pid}.json`);
    writeFileSync(
      path,
      JSON.stringify({ leads: { assignment: [{ postalCodePrefix: '981', ownerId: 'Karin Olsen' }] } }),
    );
    expect(() => loadConfig({ env, flags: { config: path } })).toThrow(
      `leads.assignment[].ownerId must be a user's or a team's id (a GUID), not "Karin Olsen": it is the id= in the address of the user's (or team's) record in Dynamics, or \`dynamics-mcp call query_entities '{"entity":"systemuser","where":{"fullname":{"contains":"<name>"}}}'\` lists it.`,
    );
  });
});

describe('environment', () => {
  it('a variable named like ours that the server does not read stops the start, naming the one meant', () => {
    expect(problems({ ...env, DYNAMICS_MCP_READONLY: 'true', DYNAMICS_MCP_COLOUR: 'blue' })).toEqual([
      "DYNAMICS_MCP_READONLY is not a setting of this server: did you mean DYNAMICS_MCP_READ_ONLY? (the README's configuration table lists them).",
      "DYNAMICS_MCP_COLOUR is not a setting of this server (the README's configuration table lists them).",
    ]);
    expect(problems({ ...env, DYNAMICS_MCP_READ_ONLY: 'true' })).toEqual([]);
  });
});
