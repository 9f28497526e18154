import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DynamicsClient } from '../../src/dynamics/client.js';
import { ConditionBuilder } from '../../src/dynamics/conditions.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { compareGuids } from '../../src/emulator/store/store.js';
import { filterToOData } from '../../src/odata/serialize.js';
import { DEFAULT_POLICY } from '../../src/policy/default.js';
import { apiRequests, clientFor } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';

describe('client reads against the emulator', () => {
  let emu: EmulatorHandle;
  let client: DynamicsClient;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 40 });
    ({ client } = clientFor(emu));
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  /** every account id, as the emulator holds them, and as a parallel read of the table hands them over */
  const accountIds = () =>
    emu
      .rows('account')
      .map((a) => String(a.accountid))
      .sort();
  const readIds = async (pageSize: number, parallel: number) => {
    const seen: string[] = [];
    for await (const rows of client.pages({ entity: 'account', select: ['name'], pageSize, parallel }))
      seen.push(...rows.map((r) => String(r.accountid)));
    return seen.sort();
  };

  // StateOptionMetadata.DefaultStatus and DateTimeBehavior, read with the rest: what a state written alone is
  // sent with (write-body.ts) and how a bare day is written (coerce.ts)
  it("reads each state's default status reason and each date column's behaviour from the metadata", async () => {
    const task = await client.metadata.entity('task');
    expect(task.columns.get('statecode')?.options).toEqual([
      { value: 0, label: 'Open', defaultStatus: 2 },
      { value: 1, label: 'Completed', defaultStatus: 5 },
      { value: 2, label: 'Canceled', defaultStatus: 6 },
    ]);
    expect(task.columns.get('statuscode')?.options?.find((o) => o.value === 5)).toEqual({
      value: 5,
      label: 'Completed',
      state: 1,
    });
    expect(task.columns.get('scheduledend')).toMatchObject({ type: 'DateTime' });
    expect(task.columns.get('scheduledend')?.timeZoneIndependent).toBeUndefined();
    expect((await client.metadata.entity('opportunity')).columns.get('estimatedclosedate')?.dateOnly).toBe(true);
  });

  it('structured conditions compile to OData with typed literals (quotes doubled, GUIDs, dates, labels, In/Between)', async () => {
    const model = await client.metadata.entity('opportunity');
    const b = new ConditionBuilder(client.metadata);
    const text = filterToOData(
      await b.build(
        {
          and: [
            { column: 'name', op: 'eq', value: "O'Brien's deal" },
            { column: 'parentaccountid', op: 'eq', value: '{5B6BD9C4-7D33-EA11-A813-000D3A1B1F2C}' },
            { column: 'estimatedclosedate', op: 'ge', value: '2026-01-01' },
            { column: 'estimatedvalue', op: 'gt', value: '50000' },
            { column: 'salesstage', op: 'in', value: ['Develop', 2] },
            { column: 'closeprobability', op: 'between', value: [10, 90] },
            {
              or: [
                { column: 'description', op: 'null' },
                { column: 'name', op: 'contains', value: '50%_off' },
              ],
            },
            { not: { column: 'statecode', op: 'eq', value: 'Lost' } },
            { column: 'parentaccountid/name', op: 'startswith', value: 'Contoso' },
            { column: 'createdon', op: 'lastXDays', value: 30 },
          ],
        },
        model,
      ),
    );
    expect(text).toBe(
      "name eq 'O''Brien''s deal' and _parentaccountid_value eq 5b6bd9c4-7d33-ea11-a813-000d3a1b1f2c and estimatedclosedate ge 2026-01-01 and estimatedvalue gt 50000 and " +
        'Microsoft.Dynamics.CRM.In(PropertyName=\'salesstage\',PropertyValues=["1","2"]) and Microsoft.Dynamics.CRM.Between(PropertyName=\'closeprobability\',PropertyValues=["10","90"]) and ' +
        "(description eq null or contains(name,'50[%][_]off')) and not (statecode eq 2) and startswith(parentaccountid/name,'Contoso') and " +
        "Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=30)",
    );
  });

  it('builds running at once (sessions sharing a client, expand items) each count their own conditions', async () => {
    const model = await client.metadata.entity('account');
    const b = new ConditionBuilder(client.metadata);
    // 150 conditions each: under the limit of 200 alone, over it if the two counts were one
    const many = (city: string) => ({
      or: Array.from({ length: 150 }, (_, i) => ({
        column: 'address1_city',
        op: 'eq' as const,
        value: `${city} ${i}`,
      })),
    });
    const [a, c] = await Promise.all([b.build(many('A'), model), b.build(many('B'), model)]);
    expect(filterToOData(a)).toContain("address1_city eq 'A 149'");
    expect(filterToOData(c)).toContain("address1_city eq 'B 149'");
    await expect(
      b.build({ or: [many('C'), many('D')] }, model),
      'one build of 302 conditions is still refused',
    ).rejects.toThrow('More than 200 conditions.');
  });

  it("what a condition can mean only one way is read so: eq with a list, in with one value, LIKE's wildcards", async () => {
    const model = await client.metadata.entity('account');
    const b = new ConditionBuilder(client.metadata);
    const compiled = async (c: Parameters<ConditionBuilder['build']>[0]) => filterToOData(await b.build(c, model));
    expect(await compiled({ column: 'address1_city', op: 'eq', value: ['Seattle', 'Berlin'] })).toBe(
      'Microsoft.Dynamics.CRM.In(PropertyName=\'address1_city\',PropertyValues=["Seattle","Berlin"])',
    );
    expect(await compiled({ column: 'address1_city', op: 'ne', value: ['Seattle'] })).toBe(
      'Microsoft.Dynamics.CRM.NotIn(PropertyName=\'address1_city\',PropertyValues=["Seattle"])',
    );
    expect(await compiled({ column: 'address1_city', op: 'in', value: 'Seattle' })).toBe(
      'Microsoft.Dynamics.CRM.In(PropertyName=\'address1_city\',PropertyValues=["Seattle"])',
    );
    expect(await compiled({ column: 'name', op: 'contains', value: '%energy%' })).toBe("contains(name,'energy')");
    expect(await compiled({ column: 'name', op: 'notContains', value: '*energy' })).toBe("not contains(name,'energy')");
    expect(await compiled({ column: 'name', op: 'startswith', value: 'Contoso%' })).toBe("startswith(name,'Contoso')");
    expect(await compiled({ column: 'name', op: 'endswith', value: '%Ltd' })).toBe("endswith(name,'Ltd')");
    // a % that can be text stays text, matched literally
    expect(await compiled({ column: 'name', op: 'contains', value: '50%' })).toBe("contains(name,'50[%]')");
    expect(await compiled({ column: 'name', op: 'endswith', value: '50%' })).toBe("endswith(name,'50[%]')");
    // a glob's * at a text operator's other end is the operator it means: a value is matched as written
    expect(await compiled({ column: 'name', op: 'startswith', value: '*Logistics' })).toBe(
      "contains(name,'Logistics')",
    );
    expect(await compiled({ column: 'name', op: 'endswith', value: 'Ltd*' })).toBe("contains(name,'Ltd')");
    expect(await compiled({ column: 'name', op: 'notContains', value: 'Ltd*' })).toBe("not contains(name,'Ltd')");
    // inside, no one operator says it: refused with the conditions that do
    await expect(b.build({ column: 'name', op: 'contains', value: 'Con*Co' }, model)).rejects.toMatchObject({
      kind: 'bad_input',
      hint: 'Give each piece its own condition, all of them to hold: {"and": [{"column": "name", "op": "contains", "value": "Con"}, {"column": "name", "op": "contains", "value": "Co"}]}.',
    });
    // a negation keeps its sense: the pieces under "not"
    await expect(b.build({ column: 'name', op: 'notContains', value: 'Con*Co' }, model)).rejects.toMatchObject({
      hint: 'For records without all of its pieces, put a condition for each under "not": {"not": {"and": [{"column": "name", "op": "contains", "value": "Con"}, {"column": "name", "op": "contains", "value": "Co"}]}}.',
    });
    await expect(b.build({ column: 'name', op: 'contains', value: '**' }, model)).rejects.toMatchObject({
      hint: 'For records where name has any value: {"column": "name", "op": "notNull"}.',
    });
    // eq with a glob's or LIKE's wildcards at its ends is the text operator they mean; inside, or a trailing %
    // alone, is text; a choice or number column is never read so
    expect(await compiled({ column: 'name', op: 'eq', value: 'Contoso*' })).toBe("startswith(name,'Contoso')");
    expect(await compiled({ column: 'name', op: 'eq', value: '*Ltd' })).toBe("endswith(name,'Ltd')");
    expect(await compiled({ column: 'name', op: 'eq', value: '%energy%' })).toBe("contains(name,'energy')");
    expect(await compiled({ column: 'name', op: 'eq', value: '**energy*' })).toBe("contains(name,'energy')");
    expect(await compiled({ column: 'name', op: 'eq', value: '50%' })).toBe("name eq '50%'");
    expect(await compiled({ column: 'name', op: 'eq', value: 'Con*so' })).toBe("name eq 'Con*so'");
    expect(await compiled({ column: 'name', op: 'ne', value: 'Contoso*' })).toBe("name ne 'Contoso*'");
  });

  it('bad values are refused with what the column takes', async () => {
    const model = await client.metadata.entity('opportunity');
    const b = new ConditionBuilder(client.metadata);
    await expect(b.build({ column: 'salesstage', op: 'eq', value: 'Negotiate' }, model)).rejects.toMatchObject({
      kind: 'bad_input',
      hint: expect.stringContaining('1 (Develop)'),
    });
    await expect(b.build({ column: 'estimatedvalue', op: 'gt', value: 'lots' }, model)).rejects.toMatchObject({
      kind: 'bad_input',
    });
    // a lookup holds an id: a name given for it, with an operator that finds a value, is the related record's
    // name (a user's is fullname); through a customer lookup, each table's
    const odata = async (c: Parameters<ConditionBuilder['build']>[0]) => filterToOData(await b.build(c, model));
    expect(await odata({ column: 'parentaccountid', op: 'eq', value: 'Contoso' })).toBe(
      "parentaccountid/name eq 'Contoso'",
    );
    // an owner is a user or a team: its name is read through owninguser or owningteam, as Dataverse's ownerid
    // leads to the principal type, which has no name (principal EntityType, Web API reference)
    expect(await odata({ column: 'ownerid', op: 'startswith', value: 'Megan' })).toBe(
      "startswith(owninguser/fullname,'Megan') or startswith(owningteam/name,'Megan')",
    );
    // (a list through a lookup is one comparison per value: the query functions' PropertyName is a column of
    // the table, and a path there is not documented)
    expect(await odata({ column: 'customerid', op: 'in', value: ['Contoso', 'Ana Ito'] })).toBe(
      "customerid_account/name eq 'Contoso' or customerid_account/name eq 'Ana Ito' or customerid_contact/fullname eq 'Contoso' or customerid_contact/fullname eq 'Ana Ito'",
    );
    expect(await odata({ column: 'parentaccountid/name', op: 'notIn', value: ['A', 'B'] })).toBe(
      "parentaccountid/name ne 'A' and parentaccountid/name ne 'B'",
    );
    // a negation through the lookup is not guessed: refused with the condition to write
    await expect(b.build({ column: 'parentaccountid', op: 'ne', value: 'Contoso' }, model)).rejects.toMatchObject({
      kind: 'bad_input',
      message: "opportunity.parentaccountid holds a record id, not a name; got 'Contoso'.",
      hint: 'To match by name, follow the lookup: {"column":"parentaccountid/name","op":"ne","value":"Contoso"}; or find the id with query_entities.',
    });
  });

  it('a customer lookup (account or contact) is asked of each table; a negation names the relationships', async () => {
    const model = await client.metadata.entity('opportunity');
    const b = new ConditionBuilder(client.metadata);
    // "name" is each table's primary name: a contact's is fullname
    expect(filterToOData(await b.build({ column: 'customerid/name', op: 'contains', value: 'Contoso' }, model))).toBe(
      "contains(customerid_account/name,'Contoso') or contains(customerid_contact/fullname,'Contoso')",
    );
    // beside other conditions, the "or" keeps its parentheses
    expect(
      filterToOData(
        await b.build(
          {
            and: [
              { column: 'customerid/name', op: 'contains', value: 'Contoso' },
              { column: 'statecode', op: 'eq', value: 0 },
            ],
          },
          model,
        ),
      ),
    ).toBe(
      "(contains(customerid_account/name,'Contoso') or contains(customerid_contact/fullname,'Contoso')) and statecode eq 0",
    );
    await expect(
      b.build({ not: { column: 'customerid/name', op: 'contains', value: 'Contoso' } }, model),
    ).rejects.toMatchObject({ kind: 'bad_input' });
    await expect(b.build({ column: 'customerid/name', op: 'ne', value: 'Contoso' }, model)).rejects.toMatchObject({
      kind: 'bad_input',
      message: "'customerid' of opportunity can point at 2 tables, so it cannot be followed by itself.",
      hint: `Follow one of its relationships: 'customerid_account/name' (account) or 'customerid_contact/fullname' (contact); for either, group them with "or".`,
    });
    const followed = await b.build({ column: 'customerid_account/name', op: 'contains', value: 'Contoso' }, model);
    expect(filterToOData(followed)).toBe("contains(customerid_account/name,'Contoso')");
    // only the relationships the policy follows are offered: another would be refused next
    const accountsOnly = new ConditionBuilder(client.metadata, undefined, (_e, n) => n !== 'customerid_contact');
    await expect(
      accountsOnly.build({ column: 'customerid/name', op: 'ne', value: 'Contoso' }, model),
    ).rejects.toMatchObject({
      hint: "Follow its relationship 'customerid_account/name' (account), the one this server's policy follows.",
    });
    const neither = new ConditionBuilder(client.metadata, undefined, (_e, n) => !n.startsWith('customerid_'));
    const refused = neither.build({ column: 'customerid/name', op: 'ne', value: 'Contoso' }, model);
    await expect(refused).rejects.toMatchObject({
      message: "'customerid' of opportunity can point at 2 tables, so it cannot be followed by itself.",
    });
    await expect(refused).rejects.toMatchObject({
      hint: expect.stringMatching(
        /^This server's policy follows none of its relationships \(customerid_account, customerid_contact\); conditions on opportunity can use its own columns and .*parentaccountid/,
      ),
    });
  });

  // Compose HTTP requests, "Maximum URL length": 32,768 characters, 65,536 inside a $batch
  it('a query whose URL is over 32,768 characters goes inside a $batch, with the same answer; over 65,536 nothing is sent', async () => {
    const names = emu.rows('account').map((a) => String(a.name));
    const padding = Array.from({ length: 600 }, (_, i) => `Nobody Incorporated number ${i} of the padding list`);
    await client.metadata.entity('account'); // read in a $batch of its own
    const before = emu.stats().batchRequests;
    const long = await client.query({
      entity: 'account',
      select: ['name'],
      where: { column: 'name', op: 'in', value: [...padding, ...names.slice(0, 3)] },
      top: 10,
    });
    expect(emu.stats().batchRequests).toBe(before + 1);
    const firstThree = new Set(names.slice(0, 3));
    expect(long.rows.map((r) => r.name).sort()).toEqual(names.filter((n) => firstThree.has(n)).sort());
    // its next pages are as long: each goes the same way, and every row comes back once
    const paged: unknown[] = [];
    for await (const rows of client.pages({
      entity: 'account',
      select: ['name'],
      where: { column: 'name', op: 'in', value: [...padding, ...names.slice(0, 5)] },
      pageSize: 2,
    }))
      paged.push(...rows.map((r) => r.name));
    const wanted = new Set(names.slice(0, 5));
    expect(paged.sort()).toEqual(names.filter((n) => wanted.has(n)).sort()); // seeded names can repeat
    expect(emu.stats().batchRequests).toBe(before + 1 + Math.ceil(paged.length / 2));
    const sent = emu.requests().length;
    const tooLong = [...padding, ...padding].map((n) => `${n} and some`);
    await expect(
      client.query({
        entity: 'account',
        select: ['name'],
        where: { column: 'name', op: 'in', value: tooLong },
        top: 10,
      }),
    ).rejects.toMatchObject({ kind: 'too_large', message: expect.stringMatching(/over the 65,536 it accepts/) });
    expect(emu.requests().length).toBe(sent);
  });

  it('a where query returns exactly the rows the data holds', async () => {
    const page = await client.query({
      entity: 'opportunity',
      select: ['name', 'estimatedvalue', 'salesstage'],
      where: {
        and: [
          { column: 'statecode', op: 'eq', value: 'Open' },
          { column: 'estimatedvalue', op: 'ge', value: 100000 },
        ],
      },
      top: 200,
      count: true,
    });
    const expected = emu.rows('opportunity').filter((o) => o.statecode === 0 && (o.estimatedvalue as number) >= 100000);
    expect(page.rows.map((r) => r.opportunityid).sort()).toEqual(expected.map((o) => o.opportunityid).sort());
    expect(page.totalCount).toBe(expected.length);
    const row = page.rows[0]!;
    expect(row['salesstage@OData.Community.Display.V1.FormattedValue']).toMatch(/Qualify|Develop|Propose|Close/);
  });

  it('a policy name that matches nothing is logged once per table, with the names; the default policy has none', async () => {
    const { client: typo, logs } = clientFor(emu, {
      policy: {
        entities: {
          account: { read: ['name', 'revnue'], expand: ['primarycontact'] },
          contact: { read: ['fullname'] },
        },
      },
    });
    try {
      await typo.query({ entity: 'account', select: ['name'], top: 1 });
      await typo.query({ entity: 'account', select: ['name'], top: 1 });
      await typo.query({ entity: 'contact', select: ['fullname'], top: 1 });
      const warned = logs.filter((l) => l.includes('the policy names columns or relationships'));
      expect(warned).toHaveLength(1);
      expect(JSON.parse(warned[0]!)).toMatchObject({
        entity: 'account',
        columns: ['revnue'],
        relationships: ['primarycontact'],
      });
    } finally {
      await typo.close();
    }
    // the built-in policy against the demo organisation: every table it names, nothing unmatched
    const { client: plain, logs: plainLogs } = clientFor(emu);
    try {
      for (const entity of Object.keys(DEFAULT_POLICY.entities)) await plain.metadata.entity(entity);
      expect(plainLogs.filter((l) => l.includes('the policy names columns'))).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  it('a policy entry keyed by an entity set or display name matches no table: logged once, naming the table meant', async () => {
    const { client: keyed, logs } = clientFor(emu, {
      policy: {
        entities: { account: { read: ['name'] }, contacts: { read: ['fullname'] }, Case: { read: ['title'] } },
      },
    });
    try {
      // the model's name for a table is resolved as always; the policy's key is not, so contact is refused
      await expect(keyed.query({ entity: 'contacts', select: ['fullname'], top: 1 })).rejects.toMatchObject({
        kind: 'policy',
      });
      await keyed.query({ entity: 'account', select: ['name'], top: 1 });
      await keyed.metadata.entities();
      const warned = logs.filter((l) => l.includes('the policy names tables'));
      expect(warned).toHaveLength(1);
      expect(JSON.parse(warned[0]!).tables).toEqual([
        "'contacts' is the entity set name of contact: policy entries are keyed by logical name, so it matches nothing",
        "'case' is the display name of incident: policy entries are keyed by logical name, so it matches nothing",
      ]);
    } finally {
      await keyed.close();
    }
    // the built-in policy names every table by its logical name
    const { client: plain, logs: plainLogs } = clientFor(emu);
    try {
      await plain.metadata.entities();
      expect(plainLogs.filter((l) => l.includes('the policy names tables'))).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  it('pages with a cursor: every row once, in order, then hasMore false', async () => {
    const all = emu.rows('contact').length;
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const p = await client.query(
        { entity: 'contacts', select: ['fullname'], orderBy: 'fullname asc', top: 15 },
        { cursor },
      );
      seen.push(...p.rows.map((r) => String(r.contactid)));
      cursor = p.cursor;
      expect(p.hasMore).toBe(!!cursor);
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil(all / 15));
    expect(new Set(seen).size).toBe(all);
  });

  it("a tool's own lookups hand out no cursor and leave the queries remembered for the model's cursors alone", async () => {
    const first = await client.query({ entity: 'contact', select: ['fullname'], orderBy: 'fullname asc', top: 5 });
    expect(first.cursor).toBeTruthy();
    // more distinct queries than the 1,000 remembered, each with more rows than it reads
    for (let i = 0; i < 1001; i++) {
      const p = await client.query(
        { entity: 'account', select: ['name'], where: { column: 'name', op: 'ne', value: `x${i}` }, top: 1 },
        { internal: true },
      );
      expect(p.hasMore).toBe(true);
      expect(p.cursor).toBeUndefined();
    }
    // the cursor passed with the table alone still continues the model's query
    const next = await client.query({ entity: 'contact' }, { cursor: first.cursor });
    expect(next.rows).toHaveLength(5);
    expect(next.rows.map((r) => r.contactid)).not.toContain(first.rows[0]!.contactid);
  });

  it('pages() follows every @odata.nextLink', async () => {
    const mark = emu.requests().length;
    let n = 0;
    for await (const rows of client.pages({ entity: 'account', select: ['name'], pageSize: 7 })) n += rows.length;
    expect(n).toBe(emu.rows('account').length);
    expect(apiRequests(emu, mark)).toHaveLength(Math.ceil(n / 7));
  });

  it('pages() stops with a clear error when an answer is replayed (the same next link again), not reading for ever', async () => {
    // a real next link from the emulator, then every request answered with the same page (a caching proxy)
    const pages = client.pages({ entity: 'account', select: ['name'], pageSize: 2 });
    await pages.next();
    await pages.return(undefined);
    const link = apiRequests(emu, 0).at(-1)!.url; // the request for page 2, made ahead
    const replayed = {
      status: 200,
      body: {
        value: [{ accountid: '00000000-0000-0000-0000-00000000000a', name: 'Same' }],
        '@odata.nextLink': `${emu.dynamicsUrl}${link}`,
      },
    };
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/accounts' }, response: replayed, times: 20 });
    const mark = emu.requests().length;
    let rows = 0;
    try {
      await expect(
        (async () => {
          for await (const page of client.pages({ entity: 'account', select: ['name'], pageSize: 2 }))
            rows += page.length;
        })(),
      ).rejects.toThrow(/gave the same next-page link twice while reading accounts/);
    } finally {
      emu.clearFaults();
    }
    expect(rows).toBe(2); // the first answer and its one replay, then it stops
    expect(apiRequests(emu, mark).length).toBeLessThanOrEqual(2);
  });

  it('pages() asks for the next page while this one is in use, one page ahead, and stopping early ends it', async () => {
    const mark = emu.requests().length;
    const pages = client.pages({ entity: 'account', select: ['name'], pageSize: 7 });
    const first = await pages.next();
    expect(first.value).toHaveLength(7);
    // page 2 was asked for before the caller wanted it...
    await vi.waitFor(() => expect(apiRequests(emu, mark)).toHaveLength(2));
    expect(apiRequests(emu, mark)[1]!.url).toContain('$skiptoken=');
    // ...and nothing further while page 1 is still in use
    await new Promise((r) => setTimeout(r, 100));
    expect(apiRequests(emu, mark)).toHaveLength(2);
    await pages.return(undefined);
    expect(apiRequests(emu, mark)).toHaveLength(2);
  });

  it('pages({ parallel }) reads key ranges side by side: every row exactly once, filters kept', async () => {
    const all = emu.rows('account');
    const mark = emu.requests().length;
    expect(await readIds(5, 3)).toEqual(accountIds()); // every row exactly once
    // the table's first and last key, then three ranges cut between them, each paged on its own
    const urls = apiRequests(emu, mark)
      .map((r) => decodeURIComponent(r.url))
      .filter((u) => u.startsWith('/api/data/v9.2/accounts?'));
    const ends = urls.filter((u) => u.includes('$top=1')).slice(0, 2);
    expect(ends.map((u) => /\$orderby=accountid (asc|desc)/.exec(u)?.[1]).sort()).toEqual(['asc', 'desc']);
    const ranges = urls.filter((u) => !u.includes('$top=1'));
    expect(ranges.every((u) => /accountid (ge|gt|lt) [0-9a-f-]{36}/.test(u))).toBe(true);
    // (a range may be split later, when one ends early: its halves are first pages too)
    const initial = ranges.filter((u) => !u.includes('$skiptoken')).slice(0, 3);
    const cuts = [...new Set(initial.flatMap((u) => u.match(/[0-9a-f]{8}-[0-9a-f-]{27}/g) ?? []))].sort(compareGuids);
    expect(cuts).toHaveLength(2);
    // the ids the platform assigns are sequential and share their most significant groups: ranges cut
    // across the whole GUID space put them all in one range, so the read went one page at a time. Cut
    // between the ends, each range holds a share
    const ids = all.map((a) => String(a.accountid));
    const shares = [
      ids.filter((id) => compareGuids(id, cuts[0]!) < 0).length,
      ids.filter((id) => compareGuids(id, cuts[0]!) >= 0 && compareGuids(id, cuts[1]!) < 0).length,
      ids.filter((id) => compareGuids(id, cuts[1]!) >= 0).length,
    ];
    for (const share of shares) expect(share).toBeGreaterThanOrEqual(all.length / 5);
    // the caller's own condition applies in every range
    const city = String(all[0]!.address1_city);
    let n = 0;
    for await (const rows of client.pages({
      entity: 'account',
      select: ['address1_city'],
      where: { column: 'address1_city', op: 'eq', value: city },
      parallel: 2,
    }))
      for (const r of rows) {
        expect(r.address1_city).toBe(city);
        n++;
      }
    expect(n).toBe(all.filter((a) => a.address1_city === city).length);
  });

  it('pages({ parallel }): the one-row reads of the ends are retried like any read (503s on both)', async () => {
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/accounts' }, response: { status: 503 }, times: 2 });
    const mark = emu.requests().length;
    expect(await readIds(5, 3)).toEqual(accountIds());
    const sent = apiRequests(emu, mark);
    // the reads of the table's two ends (a range split later also reads its own last key with $top=1, when
    // one range ends early: whether that happens depends on timing, so those are told apart by their range)
    const probes = sent.filter((r) => {
      const u = decodeURIComponent(r.url);
      return u.includes('$top=1') && !/accountid (ge|gt|lt) /.test(u);
    });
    expect(
      probes.map((r) => r.status).sort(),
      JSON.stringify(sent.map((r) => [r.status, decodeURIComponent(r.url)])),
    ).toEqual([200, 200, 503, 503]);
  });

  it('pages({ parallel }): ends that are not GUIDs (a foreign answer) read the table as one range', async () => {
    emu.addFault({
      match: { method: 'GET', path: '/api/data/v9.2/accounts' },
      response: { status: 200, body: { value: [{ accountid: 'not-a-guid' }] } },
      times: 2,
    });
    const mark = emu.requests().length;
    expect(await readIds(5, 3)).toEqual(accountIds());
    const urls = apiRequests(emu, mark).map((r) => decodeURIComponent(r.url));
    expect(urls.some((u) => u.includes('accountid ge') || u.includes('accountid lt'))).toBe(false);
  });

  it('pages({ parallel }): stopping early ends every range, and ordered reads stay in one stream', async () => {
    let mark = emu.requests().length;
    for await (const rows of client.pages({ entity: 'account', select: ['name'], pageSize: 3, parallel: 2 })) {
      expect(rows.length).toBeGreaterThan(0);
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
    const afterStop = apiRequests(emu, mark).length;
    // two first pages and at most one page ahead per range; nothing more once the reader stopped
    expect(afterStop).toBeLessThanOrEqual(4);
    await new Promise((r) => setTimeout(r, 200));
    expect(apiRequests(emu, mark)).toHaveLength(afterStop);
    mark = emu.requests().length;
    const names: string[] = [];
    for await (const rows of client.pages({ entity: 'account', select: ['name'], orderBy: 'name asc', parallel: 4 }))
      names.push(...rows.map((r) => String(r.name)));
    expect(names).toHaveLength(emu.rows('account').length);
    expect(apiRequests(emu, mark).every((r) => !decodeURIComponent(r.url).includes('accountid ge'))).toBe(true);
  });

  it('pages({ parallel }): a failure in one range fails the whole read with the service message', async () => {
    const reader = client.pages({ entity: 'account', select: ['name'], pageSize: 3, parallel: 2 });
    expect((await reader.next()).done).toBe(false);
    emu.addFault({
      match: { method: 'GET', path: '/api/data/v9.2/accounts' },
      response: { status: 400, body: { error: { code: '0x80040203', message: 'Range went wrong.' } } },
      times: 50,
    });
    try {
      const rest = async () => {
        for (let r = await reader.next(); !r.done; r = await reader.next());
      };
      await expect(rest()).rejects.toMatchObject({ message: expect.stringContaining('Range went wrong') });
    } finally {
      emu.clearFaults();
    }
    // the reader is finished: asking again gives nothing more
    expect((await reader.next()).done).toBe(true);
  });

  it('get with expand; $apply aggregation; default columns are only the readable ones', async () => {
    const acc = emu.rows('account')[0]!;
    const { row } = await client.get('account', String(acc.accountid), {
      select: ['name'],
      expand: [{ relation: 'primarycontactid', select: ['fullname'] }],
    });
    expect(row.name).toBe(acc.name);
    expect((row.primarycontactid as { fullname: string }).fullname).toBeTruthy();
    const full = await client.get('account', String(acc.accountid));
    expect(full.row).not.toHaveProperty('creditlimit');
    expect(full.row).toHaveProperty('revenue');
    const sums = await client.aggregate(
      'opportunity',
      'groupby((statecode),aggregate(estimatedvalue with sum as total,$count as n))',
    );
    expect(sums.reduce((s, r) => s + (r.n as number), 0)).toBe(emu.rows('opportunity').length);
  });

  it('metadata is fetched once per table (one $batch) and then cached', async () => {
    const fresh = clientFor(emu).client;
    const mark = emu.requests().length;
    await fresh.query({ entity: 'lead', top: 1 });
    await fresh.query({ entity: 'lead', top: 1 });
    const urls = apiRequests(emu, mark).map((r) => r.url.split('?')[0]);
    expect(urls).toEqual([
      '/api/data/v9.2/EntityDefinitions',
      '/api/data/v9.2/$batch',
      '/api/data/v9.2/leads',
      '/api/data/v9.2/leads',
    ]);
    await fresh.close();
  });

  it('pages({ parallel }): ids that cluster (the platform ids beside two a client chose) are shared out by splits', async () => {
    // two records with ids of their own at both ends of the key order: cut between the ends, every
    // platform-assigned id lands in one range
    const low = await client.create('account', { name: 'Low key' }, { id: '00000000-0000-0000-0000-000000000001' });
    const high = await client.create('account', { name: 'High key' }, { id: 'ffffffff-ffff-ffff-ffff-fffffffffff0' });
    try {
      const mark = emu.requests().length;
      const seen = await readIds(4, 3);
      const done = emu.requests().length;
      expect(seen).toEqual(accountIds());
      expect(seen).toContain(low.id);
      expect(seen).toContain(high.id);
      // a range split while its next page was out asks for nothing more: that page is cancelled, not
      // followed by yet another request after the read has ended
      await new Promise((r) => setTimeout(r, 150));
      expect(emu.requests().slice(done)).toEqual([]);
      const urls = apiRequests(emu, mark)
        .map((r) => decodeURIComponent(r.url))
        .filter((u) => u.startsWith('/api/data/v9.2/accounts?'));
      // the last key of what a range has left, then its halves: more ranges than readers were read
      expect(urls.filter((u) => u.includes('$top=1') && u.includes('accountid gt')).length).toBeGreaterThanOrEqual(1);
      const firstPages = urls.filter((u) => !u.includes('$top=1') && !u.includes('$skiptoken'));
      expect(firstPages.length).toBeGreaterThan(3);
    } finally {
      await emu.reset();
    }
  });
});
