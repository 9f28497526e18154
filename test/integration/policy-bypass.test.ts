import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamicsClient, QuerySpec } from '../../src/dynamics/client.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { apiRequests, clientFor } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';

// Every door into a read or write, each tried with something the default policy does not allow
// (account.creditlimit, contact.birthdate/annualincome, the createdby relationship, unlisted tables…).
// Each attempt must be refused with a clear error, and nothing may reach the Web API.
describe('policy: no way around the allowlist', () => {
  let emu: EmulatorHandle;
  let client: DynamicsClient;
  let mark = 0;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    ({ client } = clientFor(emu));
    // load metadata first: what remains is the refused request itself
    for (const e of [
      'account',
      'contact',
      'systemuser',
      'opportunity',
      'lead',
      'incident',
      'territory',
      'businessunit',
    ])
      await client.metadata.entity(e);
    await client.metadata.entities();
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  const refused = async (attempt: () => Promise<unknown>, kinds: string[] = ['policy']) => {
    mark = emu.requests().length;
    const err = await attempt().then(
      () => new Error('the attempt was allowed'),
      (e) => e,
    );
    expect(kinds).toContain(err.kind);
    expect(err.message.length).toBeGreaterThan(10);
    expect(err.hint.length).toBeGreaterThan(10);
    expect(apiRequests(emu, mark)).toEqual([]);
    return err;
  };
  const query = (spec: Partial<QuerySpec>) => () => client.query({ entity: 'account', ...spec });

  it.each([
    ['select a column outside the allowlist', { select: ['creditlimit'] }],
    ['select with other casing', { select: ['CreditLimit'] }],
    ['select the lookup value of an unlisted lookup', { select: ['_createdby_value'] }],
    ['filter on an unlisted column', { filter: 'creditlimit gt 0' }],
    [
      'filter hiding the column inside a function argument',
      { filter: "contains(name,'a') or contains(description,'x') and creditonhold eq true" },
    ],
    ['filter through a lookup path to an unlisted column', { filter: 'primarycontactid/birthdate eq 2000-01-01' }],
    [
      'filter through a relationship that may not be followed',
      { filter: "createdby/fullname eq 'System Administrator'" },
    ],
    [
      'lambda over a listed relationship reading an unlisted column',
      { filter: 'contact_customer_accounts/any(c:c/annualincome gt 0)' },
    ],
    ['lambda over a relationship that may not be followed', { filter: "account_parent_account/any(a:a/name eq 'x')" }],
    [
      'nested lambda reaching an unlisted column',
      { filter: 'contact_customer_accounts/any(c:c/parentcustomerid_account/creditlimit gt 0)' },
    ],
    [
      'query function on an unlisted column',
      { filter: "Microsoft.Dynamics.CRM.In(PropertyName='creditlimit',PropertyValues=['1'])" },
    ],
    [
      'a query function that is not allowed',
      {
        filter:
          "Microsoft.Dynamics.CRM.Under(PropertyName='accountid',PropertyValue='00000000-0000-0000-0000-000000000001')",
      },
    ],
    ['a parameter alias', { filter: 'name eq @p1' }],
    ['order by an unlisted column', { orderBy: 'creditlimit desc' }],
    ['expand a relationship that may not be followed', { expand: [{ relation: 'createdby' }] }],
    [
      'expand with an unlisted column of the target',
      { expand: [{ relation: 'primarycontactid', select: ['birthdate'] }] },
    ],
    ['structured condition on an unlisted column', { where: { column: 'creditlimit', op: 'gt', value: 0 } }],
    [
      'structured condition through a lookup path',
      { where: { column: 'primarycontactid/annualincome', op: 'gt', value: 0 } },
    ],
  ] as [string, Partial<QuerySpec>][])('refuses: %s', async (_label, spec) => {
    await refused(query(spec));
  });

  it.each([
    ['smuggled &$select= after a filter', "name eq 'x'&$select=creditlimit", 'query_syntax'],
    ['percent-encoded text', 'name%20eq%20%27x%27', 'query_syntax'],
    ['a quote that breaks out of a literal', "name eq 'x') or (creditlimit gt 0", 'query_syntax'],
  ])('refuses: %s', async (_label, filter, kind) => {
    const err = await refused(query({ filter }), [kind, 'bad_input', 'policy']);
    expect(err.message).toContain('position');
  });

  it('an unknown column is refused with the closest real ones', async () => {
    const err = await refused(query({ select: ['nmae'] }), ['unknown_column']);
    expect(err.details.suggestions).toContain('name');
  });

  it('a quote inside a string value stays inside it: it is sent encoded as data, never as options', async () => {
    mark = emu.requests().length;
    const page = await client.query({
      entity: 'account',
      select: ['name'],
      filter: "name eq 'x''&$select=creditlimit'",
    });
    expect(page.rows).toEqual([]);
    const sent = apiRequests(emu, mark);
    expect(sent).toHaveLength(1);
    const url = new URL(sent[0]!.url, 'https://x');
    expect([...url.searchParams.keys()]).toEqual(['$select', '$filter']);
    expect(url.searchParams.get('$select')).toBe('name');
  });

  it('the entity set name and any casing resolve to the same entry; tables outside the policy are refused', async () => {
    const a = await client.query({ entity: 'Accounts', select: ['NAME'], top: 1 });
    expect(a.entity.logicalName).toBe('account');
    expect(Object.keys(a.rows[0]!)).toContain('name');
    await refused(() => client.query({ entity: 'systemusers', select: ['domainname'] }));
    await refused(() => client.query({ entity: 'businessunit' }));
    await refused(() => client.query({ entity: 'BusinessUnits' }));
    await refused(() => client.query({ entity: 'nosuchtable' }));
  });

  it('aggregations are checked like any read ($apply)', async () => {
    await refused(() => client.aggregate('account', 'aggregate(creditlimit with sum as total)'));
    await refused(() => client.aggregate('account', 'groupby((createdby/fullname))'));
    await refused(() => client.aggregate('account', 'filter(creditonhold eq true)/aggregate($count as n)'));
  });

  it('forged, altered and borrowed cursors are refused', async () => {
    const page = await client.query({ entity: 'account', select: ['name'], top: 2 });
    expect(page.cursor).toBeDefined();
    await refused(
      () => client.query({ entity: 'account', select: ['name'], top: 2 }, { cursor: 'not-a-cursor' }),
      ['bad_input'],
    );
    const raw = Buffer.from(page.cursor!, 'base64url');
    raw[raw.length - 3] = raw[raw.length - 3]! ^ 1;
    await refused(
      () => client.query({ entity: 'account', select: ['name'], top: 2 }, { cursor: raw.toString('base64url') }),
      ['bad_input'],
    );
    await refused(
      () => client.query({ entity: 'account', select: ['name', 'revenue'], top: 2 }, { cursor: page.cursor }),
      ['bad_input'],
    );
    await refused(
      () => client.query({ entity: 'contact', select: ['fullname'], top: 2 }, { cursor: page.cursor }),
      ['bad_input'],
    );
    const other = clientFor(emu).client;
    await other.metadata.entities();
    await other.metadata.entity('account');
    await refused(
      () => other.query({ entity: 'account', select: ['name'], top: 2 }, { cursor: page.cursor }),
      ['bad_input'],
    );
    await other.close();
  });

  it('a condition through a customer lookup is asked of each relationship, each under the policy', async () => {
    const { DEFAULT_POLICY } = await import('../../src/policy/default.js');
    const narrow = clientFor(emu, {
      policy: {
        ...DEFAULT_POLICY,
        entities: {
          ...DEFAULT_POLICY.entities,
          incident: { ...DEFAULT_POLICY.entities.incident!, expand: ['customerid_account'] },
        },
      },
    }).client;
    for (const e of ['incident', 'account', 'contact']) await narrow.metadata.entity(e);
    await narrow.metadata.entities();
    // the contact relationship is not allowed: refused, not answered for accounts alone
    for (const spec of [
      { entity: 'incident', filter: "contains(customerid/name,'a')" },
      { entity: 'incident', where: { column: 'customerid/name', op: 'contains' as const, value: 'a' } },
    ]) {
      mark = emu.requests().length;
      await expect(narrow.query(spec)).rejects.toMatchObject({
        kind: 'policy',
        message:
          "'customerid' of incident points at account and contact, and this server's policy follows it to account only: a condition on it cannot be checked for the rest.",
        hint: "To match only records whose customerid is an account, name that relationship: 'customerid_account/name'.",
      });
      expect(apiRequests(emu, mark)).toEqual([]);
    }
    // the narrower question, asked knowingly, is answered
    const accountsOnly = await narrow.query({ entity: 'incident', filter: "contains(customerid_account/name,'a')" });
    expect(accountsOnly.rows.length).toBeGreaterThan(0);
    await narrow.close();
  });

  it('a cursor passed alone continues only the query it was issued for, re-checked, on the server that holds it', async () => {
    const spec = { entity: 'account', select: ['name'], orderBy: 'name asc', top: 3 };
    const first = await client.query(spec);
    const next = await client.query(spec, { cursor: first.cursor });
    const alone = await client.query({ entity: 'account', top: 50 }, { cursor: first.cursor });
    expect(alone.rows).toEqual(next.rows);
    expect(alone.spec).toMatchObject(spec);
    // another table's query is not continued from it
    await refused(() => client.query({ entity: 'contact' }, { cursor: first.cursor }), ['bad_input']);
    // a query too large to keep (a long in-list) is not remembered: its cursor alone asks for the arguments
    const long = {
      entity: 'account',
      select: ['name'],
      where: {
        column: 'name',
        op: 'notIn' as const,
        value: Array.from({ length: 500 }, (_, i) => `${'x'.repeat(80)}${i}`),
      },
      top: 3,
    };
    const big = await client.query(long);
    expect(big.cursor).toBeDefined();
    await expect(client.query({ entity: 'account' }, { cursor: big.cursor })).rejects.toThrow(
      /no longer holds the query this cursor continues/,
    );
    expect((await client.query(long, { cursor: big.cursor })).rows).toHaveLength(3);
    // a replica sharing the cursor key (DYNAMICS_MCP_CURSOR_KEY) but not the query: the arguments are needed
    const key = { DYNAMICS_MCP_CURSOR_KEY: 'k'.repeat(40) };
    const a = clientFor(emu, { env: key }).client;
    const b = clientFor(emu, { env: key }).client;
    const issued = await a.query(spec);
    await expect(b.query({ entity: 'account' }, { cursor: issued.cursor })).rejects.toThrow(
      /no longer holds the query this cursor continues/,
    );
    expect((await b.query(spec, { cursor: issued.cursor })).rows).toEqual(
      (await a.query(spec, { cursor: issued.cursor })).rows,
    );
    await a.close();
    await b.close();
  });

  it('a nextLink to another origin, or one that widens the query, is not followed', async () => {
    const body = (link: string) => ({
      '@odata.context': 'x',
      value: [{ accountid: '00000000-0000-0000-0000-000000000001', name: 'a' }],
      '@odata.nextLink': link,
    });
    emu.addFault({
      match: { method: 'GET', path: '/api/data/v9.2/accounts' },
      response: { status: 200, body: body('https://127.0.0.2:1/api/data/v9.2/accounts?$select=name&$skiptoken=x') },
    });
    const foreign = client.pages({ entity: 'account', select: ['name'] });
    await foreign.next();
    mark = emu.requests().length;
    await expect(foreign.next()).rejects.toMatchObject({ kind: 'policy' });
    expect(apiRequests(emu, mark)).toEqual([]);
    emu.addFault({
      match: { method: 'GET', path: '/api/data/v9.2/accounts' },
      response: {
        status: 200,
        body: body(`${emu.dynamicsUrl}/api/data/v9.2/accounts?$select=name,creditlimit&$skiptoken=x`),
      },
    });
    const widened = client.pages({ entity: 'account', select: ['name'] });
    await widened.next();
    mark = emu.requests().length;
    await expect(widened.next()).rejects.toMatchObject({ kind: 'policy' });
    expect(apiRequests(emu, mark)).toEqual([]);
  });

  it('writes: columns outside the write list, tables without writes, and lookups to other tables are refused', async () => {
    await refused(() => client.create('account', { name: 'x', creditlimit: 5 }));
    await refused(() => client.create('account', { name: 'x', CreditOnHold: true }));
    await refused(() => client.create('systemuser', { lastname: 'x' }));
    await refused(() =>
      client.update('opportunity', '00000000-0000-0000-0000-000000000001', {
        originatingleadid: { entity: 'lead', id: '00000000-0000-0000-0000-000000000001' },
      }),
    );
    await refused(
      () =>
        client.create('lead', {
          subject: 'x',
          parentaccountid: { entity: 'contact', id: '00000000-0000-0000-0000-000000000001' },
        }),
      ['bad_input'],
    );
  });

  it('links: only through a many-to-many relationship in the write list, whichever side or casing', async () => {
    const id = '00000000-0000-0000-0000-000000000001';
    await client.metadata.entity('competitor');
    await client.metadata.entity('team');
    // the team's members: followed in reads, never written here
    await refused(() => client.link('team', id, 'teammembership_association', { add: [id], remove: [] }));
    // the competitors from their own side, which the built-in policy does not write
    await refused(() => client.link('competitor', id, 'opportunitycompetitors_association', { add: [id], remove: [] }));
    // a one-to-many list is joined through the other record's lookup, which the policy checks as a column
    await refused(
      () => client.link('account', id, 'contact_customer_accounts', { add: [id], remove: [] }),
      ['bad_input'],
    );
    // a table outside the policy
    await refused(() => client.link('businessunit', id, 'teammembership_association', { add: [id], remove: [] }));
  });

  it('read-only mode refuses every write before anything is sent', async () => {
    const ro = clientFor(emu, { env: { DYNAMICS_MCP_READ_ONLY: 'true' } }).client;
    await refused(() => ro.create('lead', { lastname: 'x' }), ['read_only']);
    await refused(() => ro.update('lead', '00000000-0000-0000-0000-000000000001', { lastname: 'x' }), ['read_only']);
    await refused(() => ro.createMany('lead', [{ lastname: 'x' }]), ['read_only']);
    await refused(
      () =>
        ro.link('opportunity', '00000000-0000-0000-0000-000000000001', 'opportunitycompetitors_association', {
          add: ['00000000-0000-0000-0000-000000000002'],
          remove: [],
        }),
      ['read_only'],
    );
    await ro.close();
  });
});
