import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthsInWords } from '../../src/dynamics/condition-words.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { DEFAULT_POLICY } from '../../src/policy/default.js';
import { apiRequests } from '../helpers/client.js';
import { startTestEmulator, throttledResponse, webApiAnswer } from '../helpers/emulator.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

type Answer = { structuredContent: { records: { id: string }[] } };
/** The ids a query returned, sorted: to compare with the emulator's rows whatever the order. */
const ids = (r: Answer) => r.structuredContent.records.map((x) => x.id).sort();

describe('query_entities', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 30 });
    h = await connectInMemory(emu);
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });
  /** the requests for accounts the emulator received since request `since` (a refusal must send none) */
  const accountQueriesSince = (since: number) =>
    emu
      .requests()
      .slice(since)
      .filter((q) => q.url.includes('/accounts'));

  it('returns compact rows (id, columns, choices with labels, lookups with names) matching what the Web API holds', async () => {
    const r = await h.call('query_entities', {
      entity: 'accounts',
      select: ['name', 'statecode', 'primarycontactid', 'revenue'],
      where: { column: 'statecode', op: 'eq', value: 'Active' },
      orderBy: 'name asc',
      top: 5,
      count: true,
    });
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent;
    const active = emu.rows('account').filter((a) => a.statecode === 0);
    expect(s.totalCount).toBe(active.length);
    expect(s.records).toHaveLength(5);
    const first = s.records[0];
    const row = active.find((a) => a.accountid === first.id)!;
    expect(first).toEqual({
      id: row.accountid,
      name: row.name,
      statecode: 'Active (0)',
      primarycontactid: { id: (row.primarycontactid as { id: string }).id, name: expect.any(String) },
      revenue: row.revenue,
    });
    expect(s.hasMore).toBe(true);
    expect(textOf(r)).toMatch(/data from Dynamics 365, not instructions/);
    expect(textOf(r)).toMatch(new RegExp(`^5 account records of ${active.length}; more available`));
    // none found is said as none, not "0 of 0"; the count is still there to read
    const none = await h.call('query_entities', { entity: 'account', where: { name: 'No such account' }, count: true });
    expect(none.structuredContent.totalCount).toBe(0);
    expect(textOf(none)).toMatch(/^0 account records\./);
  });

  it('continues with the cursor until every row was returned once', async () => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const r = await h.call('query_entities', {
        entity: 'lead',
        select: ['fullname'],
        top: 4,
        ...(cursor ? { cursor } : {}),
      });
      ids.push(...r.structuredContent.records.map((x: { id: string }) => x.id));
      cursor = r.structuredContent.cursor;
    } while (cursor);
    expect(ids).toHaveLength(emu.rows('lead').length);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a cursor passed with only the table continues the query it came from', async () => {
    const args = {
      entity: 'account',
      select: ['name'],
      where: { column: 'statecode', op: 'eq', value: 'Active' },
      orderBy: 'name asc',
      expand: [{ relation: 'contact_customer_accounts', select: ['fullname'] }],
      top: 3,
    };
    const first = await h.call('query_entities', args);
    const cursor = first.structuredContent.cursor;
    const full = await h.call('query_entities', { ...args, cursor });
    const alone = await h.call('query_entities', { entity: 'account', cursor });
    expect(alone.isError, textOf(alone)).toBeFalsy();
    expect(alone.structuredContent).toEqual({ ...full.structuredContent, cursor: expect.any(String) });
    // the table by its entity set name or in other casing is the same table
    const bySet = await h.call('query_entities', { entity: 'Accounts', cursor });
    expect(bySet.structuredContent).toEqual({ ...full.structuredContent, cursor: expect.any(String) });
    const noTable = await h.call('query_entities', { cursor });
    expect(textOf(noTable)).toContain('entity is required: the table, e.g. "account"');
    const other = await h.call('query_entities', { entity: 'contact', cursor });
    expect(textOf(other)).toMatch(/This cursor continues a query on account, not contact\./);
    const changed = await h.call('query_entities', { ...args, select: ['name', 'revenue'], cursor });
    expect(textOf(changed)).toMatch(
      /This cursor belongs to a different query\.\nHow to fix: Pass the cursor with the same arguments as the call that returned it, or with the table and cursor alone\./,
    );
  });

  it('sorted and filtered, page after page: the matching rows in order, each once, though every larger value belongs to a row the filter leaves out', async () => {
    const values = emu.rows('opportunity').map((o) => Number(o.estimatedvalue));
    const cut = [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const below = emu
      .rows('opportunity')
      .filter((o) => Number(o.estimatedvalue) < cut)
      .map((o) => ({ id: String(o.opportunityid), value: Number(o.estimatedvalue) }));
    expect(below.length).toBeGreaterThan(8);
    const seen: { id: string; value: number }[] = [];
    let cursor: string | undefined;
    do {
      const r = await h.call('query_entities', {
        entity: 'opportunity',
        select: ['estimatedvalue'],
        where: { column: 'estimatedvalue', op: 'lt', value: cut },
        orderBy: 'estimatedvalue desc',
        top: 4,
        ...(cursor ? { cursor } : {}),
      });
      expect(r.isError).toBeFalsy();
      seen.push(
        ...r.structuredContent.records.map((x: { id: string; estimatedvalue: number }) => ({
          id: x.id,
          value: x.estimatedvalue,
        })),
      );
      cursor = r.structuredContent.cursor;
    } while (cursor);
    expect(seen.map((x) => x.value)).toEqual(below.map((w) => w.value).sort((a, b) => b - a));
    expect(new Set(seen.map((x) => x.id))).toEqual(new Set(below.map((w) => w.id)));
    expect(seen).toHaveLength(below.length);
  });

  it('accepts OData filter text and related records', async () => {
    const r = await h.call('query_entities', {
      entity: 'opportunity',
      select: ['name', 'estimatedvalue'],
      filter: 'estimatedvalue gt 100000 and parentaccountid/name ne null',
      expand: [{ relation: 'parentaccountid', select: ['name', 'address1_city'] }],
      top: 3,
    });
    expect(r.isError).toBeFalsy();
    for (const rec of r.structuredContent.records) {
      expect(rec.estimatedvalue).toBeGreaterThan(100000);
      expect(rec.parentaccountid).toMatchObject({ id: expect.any(String), name: expect.any(String) });
    }
  });

  it('a path through a lookup written with dots (primarycontactid.fullname) in select and orderBy is the path', async () => {
    const call = (select: unknown, orderBy: string) =>
      h.call('query_entities', { entity: 'account', select, orderBy, top: 5000 });
    const slashed = await call(['name', 'primarycontactid/emailaddress1'], 'primarycontactid/fullname desc, name');
    expect(slashed.isError, textOf(slashed)).toBeFalsy();
    const emails = slashed.structuredContent.records.map(
      (r: { primarycontactid?: { emailaddress1?: string } }) => r.primarycontactid?.emailaddress1,
    );
    expect(emails.filter(Boolean).length).toBeGreaterThan(0);
    for (const [select, orderBy] of [
      [['name', 'primarycontactid.emailaddress1'], 'primarycontactid.fullname desc, name'],
      ['name, primarycontactid.emailaddress1', 'primarycontactid.fullname DESC, name'],
    ] as const) {
      const dotted = await call(select, orderBy);
      expect(dotted.isError, textOf(dotted)).toBeFalsy();
      expect(dotted.structuredContent.records, JSON.stringify(select)).toEqual(slashed.structuredContent.records);
    }
  });

  it('an unknown column is an error naming the closest real columns; several are named in one answer', async () => {
    const one = await h.call('query_entities', { entity: 'account', select: ['name', 'revenu'] });
    expect(textOf(one)).toBe(
      "Error (unknown_column): 'revenu' is not a column of account.\nHow to fix: Did you mean: revenue, revenue_base? Call describe_entity('account') for every column you may use.",
    );
    // each one at a time took a call each to put right
    const r = await h.call('query_entities', { entity: 'account', select: ['nme', 'revenue', 'revenu', 'zzqx'] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      /^Error \(unknown_column\): 'nme', 'revenu', 'zzqx' are not columns of account\.\nHow to fix: Did you mean: nme → name[^;]*; revenu → revenue[^;]*\? Call describe_entity\('account'\) for every column you may use\.$/,
    );
    // "amount" is what no column is called: the table's sums of money are what it means
    const amount = await h.call('query_entities', { entity: 'opportunity', select: ['name', 'amount'] });
    expect(textOf(amount)).toMatch(
      /^Error \(unknown_column\): 'amount' is not a column of opportunity\.\nHow to fix: Did you mean: (estimatedvalue, actualvalue|actualvalue, estimatedvalue)\? /,
    );
    // and one the policy hides is said as that, whatever else is unknown
    const hidden = await h.call('query_entities', { entity: 'account', select: ['nme', 'creditlimit'] });
    expect(textOf(hidden)).toMatch(/^Error \(policy\): The column 'creditlimit' of account is not readable/);
  });

  it('a result over the size cap (query_entities or get_record) is refused with how to narrow it, not cut', async () => {
    const file = join(tmpdir(), `dmcp-policy-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ ...DEFAULT_POLICY, maxResultBytes: 4096 }));
    const small = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: file } });
    const r = await small.call('query_entities', { entity: 'contact', top: 50 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/over this server's 4 KB limit/);
    expect(textOf(r)).toMatch(/lower "top" to about \d+/);
    // one record over the cap: a smaller top cannot help, so the advice is about columns
    // 6 KB in UTF-8, within the column's 2,000 characters
    const { id } = await small.deps.client.create('account', { name: 'Long Notes Ltd', description: '€'.repeat(2000) });
    const one = await small.call('query_entities', {
      entity: 'account',
      where: { column: 'accountid', op: 'eq', value: id },
      select: ['name', 'description'],
    });
    expect(one.isError).toBe(true);
    // what makes it large is named, with what to do about it
    expect(textOf(one)).toBe(
      `Error (too_large): The result would be 6 KB, over this server's 4 KB limit. Most of it is description (6 KB).\nHow to fix: One record is this large: leave description out of "select".`,
    );
    const got = await small.call('get_record', { entity: 'account', id, select: ['name', 'description'] });
    expect(got.isError).toBe(true);
    expect(textOf(got)).toContain("over this server's 4 KB limit. Most of it is description (6 KB).");
    expect(textOf(got)).toContain('One record is this large: leave description out of "select".');
    // a related list expanded with long rows (a record's notes): its expand item is what to narrow
    for (const text of ['a', 'b'])
      await small.deps.client.create('annotation', {
        subject: text,
        notetext: '€'.repeat(700),
        'objectid_account@odata.bind': `/accounts(${id})`,
      });
    const notes = await small.call('get_record', {
      entity: 'account',
      id,
      select: ['name'],
      expand: ['Account_Annotation'],
    });
    expect(textOf(notes)).toContain('Most of it is Account_Annotation (');
    expect(textOf(notes)).toContain(
      'How to fix: One record is this large: give the expand item "Account_Annotation" a "select" of short columns and a "top".',
    );
    await small.close();
  });

  it('a throttled Web API is waited out; a long Retry-After is reported with its wait', async () => {
    emu.addFault({
      match: { path: '/api/data/v9.2/territories' },
      response: { status: 429, headers: { 'Retry-After': '1' } },
    });
    const ok = await h.call('query_entities', { entity: 'territory', top: 2 });
    expect(ok.isError).toBeFalsy();
    emu.addFault({
      match: { path: '/api/data/v9.2/territories' },
      response: throttledResponse(3600),
    });
    const r = await h.call('query_entities', { entity: 'territory', top: 2 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Error \(throttled\)/);
    expect(textOf(r)).toMatch(/Retry after: 3600 seconds/);
  });

  it('a wait that would outlast an MCP client’s 60 s default timeout is reported at once, not waited out', async () => {
    emu.addFault({ match: { path: '/api/data/v9.2/territories' }, response: throttledResponse(58), times: 1 });
    const r = await h.call('query_entities', { entity: 'territory', top: 2 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Retry after: 58 seconds/);
  });

  it('a wait on throttling is told to the client as it starts (progress and a log message), and the call then succeeds', async () => {
    const logged: unknown[] = [];
    h.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logged.push(n.params);
    });
    emu.addFault({ match: { path: '/api/data/v9.2/territories' }, response: throttledResponse(2), times: 1 });
    const progress: { progress: number; message?: string }[] = [];
    const started = Date.now();
    const r = await h.call(
      'query_entities',
      { entity: 'territory', top: 2 },
      { onprogress: (p) => progress.push({ progress: p.progress, message: p.message }) },
    );
    expect(r.isError).toBeFalsy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    const wait = 'Dynamics is throttling requests (service protection): waiting 2 s before trying again.';
    expect(progress.map((p) => p.message)).toEqual(['querying territory', wait, '2 rows']);
    // each value above the last (MCP progress must increase)
    expect(progress.map((p) => p.progress)).toEqual([0, 0.001, 1]);
    expect(logged).toEqual([{ level: 'warning', logger: 'dynamics', data: wait }]);
  });

  it('a table asked for by the name Dynamics shows ("cases") is that table; a typo lists the tables', async () => {
    const inOrder = (r: Answer) => r.structuredContent.records.map((x) => x.id);
    const incidents = await h.call('query_entities', { entity: 'incident', select: ['title'], top: 5 });
    for (const name of ['case', 'Cases']) {
      const r = await h.call('query_entities', { entity: name, select: ['title'], top: 5 });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(textOf(r)).toMatch(/^5 incident records/);
      expect(inOrder(r)).toEqual(inOrder(incidents));
    }
    const typo = await h.call('query_entities', { entity: 'acount', top: 1 });
    expect(textOf(typo)).toMatch(/How to fix: Tables you may use: account, contact, lead, opportunity, incident/);
    // the write tools read it the same way
    const incident = emu.rows('incident')[0]!;
    const update = await h.call('update_record', {
      entity: 'case',
      id: String(incident.incidentid),
      values: { description: 'Read as the Case table' },
    });
    expect(update.isError, textOf(update)).toBeFalsy();
    expect(emu.rows('incident').find((i) => i.incidentid === incident.incidentid)!.description).toBe(
      'Read as the Case table',
    );
    expect(update.structuredContent.url).toContain('etn=incident');
  });

  it('a column asked for by the label Dynamics shows ("Main Phone", "Annual Revenue") is that column', async () => {
    const byLabel = await h.call('query_entities', {
      entity: 'account',
      select: ['Account Name', 'main phone'],
      where: { 'Annual Revenue': { gt: 10_000_000 } },
      top: 5000,
    });
    expect(byLabel.isError, textOf(byLabel)).toBeFalsy();
    const byName = await h.call('query_entities', {
      entity: 'account',
      select: ['name', 'telephone1'],
      where: { revenue: { gt: 10_000_000 } },
      top: 5000,
    });
    // the result names the columns as Dynamics does, so the model learns them
    expect(byLabel.structuredContent.records).toEqual(byName.structuredContent.records);
    expect(byName.structuredContent.records.length).toBeGreaterThan(0);
    // in orderBy text too, where a label's spaces would otherwise be a syntax error
    const sorted = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      orderBy: 'Annual Revenue desc, Account Name',
      top: 10,
    });
    const sortedByName = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      orderBy: 'revenue desc, name',
      top: 10,
    });
    expect(sorted.isError, textOf(sorted)).toBeFalsy();
    expect(sorted.structuredContent.records).toEqual(sortedByName.structuredContent.records);
    const grouped = await h.call('aggregate_records', { entity: 'incident', groupBy: ['Priority'] });
    expect(grouped.structuredContent.groups[0]).toHaveProperty('prioritycode');
    const account = emu.rows('account')[0]!;
    const write = await h.call('update_record', {
      entity: 'account',
      id: String(account.accountid),
      values: { 'Main Phone': '555 0100' },
    });
    expect(write.isError, textOf(write)).toBeFalsy();
    expect(emu.rows('account').find((a) => a.accountid === account.accountid)!.telephone1).toBe('555 0100');
    // a name that is neither a column nor a label still gets the closest columns
    const near = await h.call('query_entities', { entity: 'account', select: ['telephon1'], top: 1 });
    expect(textOf(near)).toContain('Did you mean: telephone1?');
  });

  it("a top over the policy's maxRows returns maxRows with a cursor, and says so", async () => {
    const file = join(tmpdir(), `dmcp-policy-rows-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ ...DEFAULT_POLICY, maxRows: 10 }));
    const capped = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: file } });
    const r = await capped.call('query_entities', { entity: 'account', select: ['name'], top: 25 });
    expect(r.structuredContent.records).toHaveLength(10);
    expect(r.structuredContent.hasMore).toBe(true);
    expect(textOf(r)).toMatch(
      /^10 account records; more available: pass "cursor" to continue\. \(At most 10 rows per call here, not the 25 asked for\.\)/,
    );
    await capped.close();
  });

  it('filter text comparing a lookup with a name finds the records it names, as the where condition does', async () => {
    const withCases = emu.rows('incident').map((c) => (c.customerid as { entity: string; id: string }) ?? {});
    const account = emu
      .rows('account')
      .find((a) => withCases.some((c) => c.entity === 'account' && c.id === a.accountid))!;
    const args = { entity: 'incident', select: ['title'], orderBy: 'title', top: 50 };
    const text = await h.call('query_entities', {
      ...args,
      filter: `customerid eq '${String(account.name).replace(/'/g, "''")}'`,
    });
    const where = await h.call('query_entities', { ...args, where: { customerid: account.name } });
    expect(text.isError, textOf(text)).toBeFalsy();
    expect(text.structuredContent).toEqual(where.structuredContent);
    const want = emu
      .rows('incident')
      .filter((c) => (c.customerid as { id?: string } | null)?.id === account.accountid)
      .map((c) => c.title)
      .sort();
    expect((text.structuredContent.records as { title: string }[]).map((r) => r.title).sort()).toEqual(want);
    // as the Web API names the lookup, and a number in quotes beside it
    const opp = { entity: 'opportunity', select: ['name'], orderBy: 'name', top: 50 };
    const named = await h.call('query_entities', {
      ...opp,
      filter: `_parentaccountid_value eq '${String(account.name).replace(/'/g, "''")}' or estimatedvalue gt '300000'`,
    });
    const bare = await h.call('query_entities', {
      ...opp,
      where: { or: [{ parentaccountid: account.name }, { estimatedvalue: { gt: 300000 } }] },
    });
    expect(named.isError, textOf(named)).toBeFalsy();
    expect(named.structuredContent).toEqual(bare.structuredContent);
    // inside a related list's condition it is sent as written, and Dataverse's refusal says how to match by name
    const r = await h.call('query_entities', {
      entity: 'account',
      filter: "contact_customer_accounts/any(c: c/parentcustomerid eq 'Contoso')",
      top: 1,
    });
    expect(textOf(r)).toMatch(
      /^Error \(query_syntax\): The query compares a record id with text: A binary operator with incompatible types/,
    );
    expect(textOf(r)).toContain("match by name through the lookup, e.g. parentaccountid/name eq 'Contoso'");
  });

  it("filter text with a date or a number in quotes (in a list's condition), a time without its zone or a dotted path is answered with how OData writes it", async () => {
    // (on the queried table a date or number in quotes is read as meant: text-compared.ts; inside any() it is sent)
    const date = await h.call('query_entities', {
      entity: 'account',
      filter: "contact_customer_accounts/any(c: c/createdon ge '2026-11-20')",
    });
    expect(textOf(date)).toMatch(/^Error \(query_syntax\): The query compares a date column with text: /);
    expect(textOf(date)).toContain(
      'How to fix: Write a date or date-time without quotes (createdon ge 2026-11-20, or 2026-11-20T09:00:00Z): quotes are for text in OData.',
    );
    const number = await h.call('query_entities', {
      entity: 'account',
      filter: "opportunity_customer_accounts/any(o: o/estimatedvalue gt '300000')",
    });
    expect(textOf(number)).toContain('How to fix: Write the number without quotes (revenue gt 1000000)');
    const since = emu.requests().length;
    const zone = await h.call('query_entities', { entity: 'account', filter: 'createdon ge 2026-11-20T10:00:00' });
    expect(textOf(zone)).toContain(
      "How to fix: '2026-11-20T10:00:00' has no time zone, so it names a different moment in each one: write 2026-11-20T10:00:00Z for UTC, or with the offset meant (2026-11-20T10:00:00+01:00).",
    );
    // a related column with a dot, as JavaScript writes it
    const dotted = await h.call('query_entities', {
      entity: 'account',
      filter: "statecode eq 0 and primarycontactid.fullname eq 'Ana Garcia'",
    });
    expect(textOf(dotted)).toContain(
      "How to fix: 'primarycontactid.fullname': a related column is written with a slash in OData (primarycontactid/fullname).",
    );
    expect(accountQueriesSince(since)).toEqual([]);
  });

  it('a call the client cancels (notifications/cancelled) stops its Web API request at once', async () => {
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/accounts' }, delayMs: 3000, times: 1 });
    const ac = new AbortController();
    const call = h.call('query_entities', { entity: 'account', top: 1 }, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('the user pressed stop')), 150);
    await expect(call).rejects.toThrow(/the user pressed stop/);
    // the server's side: the request to Dynamics was aborted, not left to finish its 3 s
    for (let i = 0; i < 100 && !h.logs.some((l) => l.includes('"kind":"cancelled"')); i++)
      await new Promise((r) => setTimeout(r, 10));
    // (without the abort the request would finish after its 3 s and succeed: no cancelled failure at all)
    expect(h.logs.filter((l) => l.includes('"kind":"cancelled"'))).toHaveLength(1);
  });

  // COUNT: past 5,000 rows Dataverse answers @odata.count 5000 with totalrecordcountlimitexceeded; the
  // model is told the count is a floor and which tool counts further
  it('a count Dynamics capped at 5,000 is a lower bound, and the answer says what counts further', async () => {
    emu.addFault({
      match: { method: 'GET', path: '/api/data/v9.2/accounts' },
      response: webApiAnswer({
        '@odata.count': 5000,
        '@Microsoft.Dynamics.CRM.totalrecordcount': 5000,
        '@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded': true,
        value: [{ accountid: String(emu.rows('account')[0]!.accountid), name: 'First' }],
      }),
    });
    const r = await h.call('query_entities', { entity: 'account', select: ['name'], top: 1, count: true });
    expect(r.structuredContent).toMatchObject({ totalCount: 5000, totalCountIsLowerBound: true });
    expect(textOf(r)).toMatch(
      /^1 account record of 5000\+\. Dynamics counts rows only up to 5,000: aggregate_records counts all of them \(up to 50,000\)\./,
    );
    const all = await h.call('aggregate_records', { entity: 'account' });
    expect(all.structuredContent.groups).toEqual([{ count: emu.rows('account').length }]);
  });

  it('progress notifications are sent while it works', async () => {
    const progress: number[] = [];
    const said: (string | undefined)[] = [];
    const onprogress = (p: { progress: number; message?: string }) => {
      progress.push(p.progress);
      said.push(p.message);
    };
    await h.call('query_entities', { entity: 'account', top: 2 }, { onprogress });
    expect(progress).toEqual([0, 1]);
    expect(said).toEqual(['querying account', '2 rows']);
    await h.call('query_entities', { entity: 'account', top: 1 }, { onprogress });
    expect(said.slice(2)).toEqual(['querying account', '1 row']);
  });

  it('a list of conditions in where means all of them, as {and: [...]} does', async () => {
    const conditions = [
      { column: 'statecode', op: 'eq', value: 'Active' },
      { column: 'revenue', op: 'gt', value: 1_000_000 },
    ];
    const asList = await h.call('query_entities', { entity: 'account', select: ['revenue'], where: conditions });
    expect(asList.isError).toBeFalsy();
    const expected = emu.rows('account').filter((a) => a.statecode === 0 && Number(a.revenue) > 1_000_000);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(emu.rows('account').filter((a) => a.statecode === 0).length);
    expect(asList.structuredContent.records.map((r: { id: string }) => r.id).sort()).toEqual(
      expected.map((a) => a.accountid).sort(),
    );
  });

  it('what models write instead of the documented shape, where it means one thing, is read as meant', async () => {
    const rows = (r: { structuredContent: { records: { name: string }[] } }) =>
      r.structuredContent.records.map((x) => x.name);
    const documented = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: {
        or: [
          { column: 'address1_city', op: 'eq', value: 'Seattle' },
          { column: 'revenue', op: 'lt', value: 5e6 },
        ],
      },
      orderBy: 'revenue desc, name asc',
    });
    expect(documented.isError).toBeFalsy();
    expect(rows(documented).length).toBeGreaterThan(1);
    // SQL's and other APIs' key names ("field", "attribute", "operator"), a list of sort keys
    const aliased = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: {
        or: [
          { field: 'address1_city', operator: 'eq', value: 'Seattle' },
          { attribute: 'revenue', op: 'lt', value: 5e6 },
        ],
      },
      orderBy: ['revenue desc', 'name asc'],
    });
    expect(aliased.isError).toBeFalsy();
    expect(rows(aliased)).toEqual(rows(documented));
    // sort keys in SQL's and REST's words
    for (const orderBy of [
      'revenue DESC, name',
      '-revenue, name ASCENDING',
      'revenue descending,name',
      // the end wanted first, in words
      'revenue highest first, name',
      'revenue largest, name earliest',
      // a label of several words, as in the words above
      'Annual Revenue descending, Account Name',
      '-Annual Revenue, Account Name ascending',
      // SQL's clause written out with them
      'ORDER BY revenue DESC, name',
      'sort by revenue highest, name',
    ]) {
      const sorted = await h.call('query_entities', { entity: 'account', select: ['name'], orderBy, top: 10 });
      const expected = await h.call('query_entities', {
        entity: 'account',
        select: ['name'],
        orderBy: 'revenue desc, name asc',
        top: 10,
      });
      expect(rows(sorted), orderBy).toEqual(rows(expected));
    }
    const contradiction = await h.call('query_entities', { entity: 'account', orderBy: '-revenue asc' });
    expect(contradiction.isError).toBe(true);
    // the end wanted first in time, said alone: by when the records were made
    for (const [orderBy, meant] of [
      ['newest first', 'createdon desc'],
      ['Oldest first', 'createdon asc'],
      ['most recent', 'createdon desc'],
    ]) {
      const said = await h.call('query_entities', { entity: 'account', select: ['name'], orderBy, top: 10 });
      const documented = await h.call('query_entities', {
        entity: 'account',
        select: ['name'],
        orderBy: meant,
        top: 10,
      });
      expect(said.isError, textOf(said)).toBeFalsy();
      expect(rows(said), orderBy).toEqual(rows(documented));
    }
    // a top-level alias too, with the list-means-and reading
    const top = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: [{ field: 'address1_city', operator: 'eq', value: 'Seattle' }],
    });
    const seattle = emu.rows('account').filter((a) => a.address1_city === 'Seattle');
    expect(seattle.length).toBeGreaterThan(0);
    expect(top.structuredContent.records).toHaveLength(Math.min(50, seattle.length));
    // a condition as a list of three (Odoo's, Frappe's and query builders' [column, operator, value]), alone,
    // in a list, or in a group; a list of three values that are no condition stays a list of values
    const ids3 = async (where: unknown) =>
      ids(await h.call('query_entities', { entity: 'account', select: ['name'], where, top: 5000 }));
    const both = await ids3({ or: [{ address1_city: 'Seattle' }, { revenue: { lt: 5e6 } }] });
    expect(both.length).toBeGreaterThan(1);
    expect(
      await ids3({
        or: [
          ['address1_city', '=', 'Seattle'],
          ['revenue', '<', 5e6],
        ],
      }),
    ).toEqual(both);
    expect(await ids3(['address1_city', 'eq', 'Seattle'])).toEqual(await ids3({ address1_city: 'Seattle' }));
    expect(
      await ids3([
        ['address1_city', 'eq', 'Seattle'],
        ['revenue', 'lt', 5e6],
      ]),
    ).toEqual(await ids3({ address1_city: 'Seattle', revenue: { lt: 5e6 } }));
    expect(await ids3({ address1_city: ['Seattle', 'in', 'Tokyo'] })).toEqual(
      await ids3({ address1_city: { in: ['Seattle', 'Tokyo'] } }),
    );
  });

  it("SQL's LIKE wildcards around a contains value find what contains finds, not nothing", async () => {
    const word = String(emu.rows('account')[0]!.name).split(' ')[1]!.toLowerCase();
    const expected = emu.rows('account').filter((a) => String(a.name).toLowerCase().includes(word));
    expect(expected.length).toBeGreaterThan(0);
    const r = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { column: 'name', op: 'contains', value: `%${word}%` },
      top: 5000,
    });
    expect(r.structuredContent.records).toHaveLength(expected.length);
  });

  it("a condition on a customer lookup's column asks each table it can point at; a negation is refused with the paths", async () => {
    const nameOf = (ref: { id: string; entity: string }) => {
      const row =
        ref.entity === 'account'
          ? emu.rows('account').find((a) => a.accountid === ref.id)
          : emu.rows('contact').find((c) => c.contactid === ref.id);
      return String(ref.entity === 'account' ? row?.name : row?.fullname).toLowerCase();
    };
    const incidents = emu.rows('incident');
    const word = nameOf(incidents[0]!.customerid as { id: string; entity: string }).split(' ')[0]!;
    const expected = incidents
      .filter((i) => nameOf(i.customerid as { id: string; entity: string }).includes(word))
      .map((i) => String(i.incidentid))
      .sort();
    const r = await h.call('query_entities', {
      entity: 'incident',
      select: ['title'],
      where: { column: 'customerid/name', op: 'contains', value: word },
      top: 5000,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(ids(r)).toEqual(expected);
    // the same in OData filter text
    const text = await h.call('query_entities', {
      entity: 'incident',
      select: ['title'],
      filter: `contains(customerid/name,'${word}')`,
      top: 5000,
    });
    expect(text.isError, textOf(text)).toBeFalsy();
    expect(ids(text)).toEqual(expected);
    // "name" is each table's primary name: the contact's is fullname, as the refusal of a negation says
    const negated = await h.call('query_entities', {
      entity: 'incident',
      where: { column: 'customerid/name', op: 'ne', value: 'x' },
    });
    expect(textOf(negated)).toContain(
      "Follow one of its relationships: 'customerid_account/name' (account) or 'customerid_contact/fullname' (contact)",
    );
  });

  it('"top": 0 counts the matching records and returns none, as $top=0&$count=true would', async () => {
    const active = emu.rows('incident').filter((i) => i.statecode === 0).length;
    const r = await h.call('query_entities', {
      entity: 'incident',
      where: { statecode: 'Active' },
      count: true,
      top: 0,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toEqual({ entity: 'incident', records: [], hasMore: active > 0, totalCount: active });
    expect(textOf(r)).toMatch(new RegExp(`^${active} incident records match; none returned \\("top": 0\\)\\.`));
    // with a cursor there would be nothing to continue
    const first = await h.call('query_entities', { entity: 'incident', top: 1 });
    const cursor = await h.call('query_entities', {
      entity: 'incident',
      top: 0,
      cursor: first.structuredContent.cursor,
    });
    expect(textOf(cursor)).toContain('"top": 0 returns no rows, so there is nothing to continue.');
  });

  it("an owner given a name is a user or a team: a team's cases by its name, in every form a name is given", async () => {
    const team = emu.rows('team').find((t) => t.name === 'Customer Service')!;
    const ownerOf = (c: Record<string, unknown>) => (c.ownerid as { id: string }).id;
    const queued = emu
      .rows('incident')
      .filter((c) => ownerOf(c) === team.teamid)
      .map((c) => String(c.incidentid))
      .sort();
    expect(queued.length).toBeGreaterThan(0);
    const ids = (r: { structuredContent: { records: { id: string }[] } }) =>
      r.structuredContent.records.map((x) => x.id).sort();
    for (const args of [
      { where: { ownerid: 'Customer Service' } },
      { where: { ownerid: { startswith: 'customer serv' } } },
      { filter: "ownerid/name eq 'Customer Service'" },
    ]) {
      const r = await h.call('query_entities', {
        entity: 'incident',
        select: ['title', 'ownerid'],
        top: 5000,
        ...args,
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(ids(r), JSON.stringify(args)).toEqual(queued);
      // each says which kind of owner it is, and its name
      expect(r.structuredContent.records[0].ownerid).toEqual({
        id: team.teamid,
        name: 'Customer Service',
        entity: 'team',
      });
    }
    // what a team does not own, by its name: compared by the team's id, so a user's case is in whatever its user
    const others = await h.call('query_entities', {
      entity: 'incident',
      select: ['title'],
      where: { ownerid: { ne: 'Customer Service' } },
      top: 5000,
    });
    expect(others.structuredContent.records).toHaveLength(emu.rows('incident').length - queued.length);
    // a policy written to follow "ownerid" (the owner's own relationship, as an administrator names it) follows
    // the owner to a user's or a team's name alike
    const file = builtInPolicyWith('owner-named', (e) => ({
      ...e,
      incident: {
        ...e.incident!,
        expand: [...(e.incident!.expand ?? []).filter((n) => n !== 'owninguser' && n !== 'owningteam'), 'ownerid'],
      },
    }));
    const named = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: file } });
    try {
      const r = await named.call('query_entities', {
        entity: 'incident',
        select: ['title'],
        where: { ownerid: 'Customer Service' },
        top: 5000,
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(ids(r)).toEqual(queued);
    } finally {
      await named.close();
    }
  });

  it("a lookup given a name is matched by the related record's name: a user's full name, an account's name", async () => {
    const users = emu.rows('systemuser');
    const owner = users.find((u) =>
      emu.rows('opportunity').some((o) => (o.ownerid as { id: string }).id === u.systemuserid),
    )!;
    const owned = emu
      .rows('opportunity')
      .filter((o) => (o.ownerid as { id: string }).id === owner.systemuserid)
      .map((o) => String(o.opportunityid))
      .sort();
    for (const where of [
      { ownerid: owner.fullname },
      { ownerid: { name: owner.fullname } },
      { column: 'ownerid', op: 'in', value: [owner.fullname, 'Nobody At All'] },
    ]) {
      const r = await h.call('query_entities', { entity: 'opportunity', select: ['name'], where, top: 5000 });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(ids(r), JSON.stringify(where)).toEqual(owned);
    }
    // "name" after a lookup, in filter text too, is the related table's primary name
    const text = await h.call('query_entities', {
      entity: 'opportunity',
      select: ['name'],
      filter: `ownerid/name eq '${owner.fullname}'`,
      top: 5000,
    });
    expect(text.isError, textOf(text)).toBeFalsy();
    expect(ids(text)).toEqual(owned);
    // a negation by name is every record that none of the records with the name owns, compared by their ids
    // (through ownerid/fullname a negation would not hold of what a team owns), in each form it is written
    const others = emu
      .rows('opportunity')
      .filter((o) => (o.ownerid as { id: string }).id !== owner.systemuserid)
      .map((o) => String(o.opportunityid))
      .sort();
    for (const where of [
      { ownerid: { ne: owner.fullname } },
      { column: 'ownerid', op: 'notIn', value: [owner.fullname] },
      { not: { ownerid: owner.fullname } },
    ]) {
      const since = emu.requests().length;
      const r = await h.call('query_entities', { entity: 'opportunity', select: ['name'], where, top: 5000 });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(ids(r), JSON.stringify(where)).toEqual(others);
      const query = apiRequests(emu, since)
        .map((q) => decodeURIComponent(q.url))
        .find((u) => u.startsWith('/api/data/v9.2/opportunities?'))!;
      expect(query).toContain(String(owner.systemuserid));
      expect(query).not.toContain(String(owner.fullname));
    }
    // a name no user has would leave every record in, unsaid: refused, with where to find the name
    const typo = await h.call('query_entities', {
      entity: 'opportunity',
      where: { ownerid: { ne: `${owner.fullname}x` } },
    });
    expect(typo.isError).toBe(true);
    expect(textOf(typo)).toContain(`opportunity.ownerid '${owner.fullname}x' is neither`);
    // in an expand item's conditions alike: an account's deals that someone else owns
    // an account with a deal of the owner's and one of someone else's
    const ownerOf = (o: Record<string, unknown>) => (o.ownerid as { id: string }).id;
    const customerOf = (o: Record<string, unknown>) => (o.customerid as { id: string }).id;
    const theirs = emu
      .rows('opportunity')
      .find(
        (o) =>
          ownerOf(o) === owner.systemuserid &&
          emu.rows('opportunity').some((x) => customerOf(x) === customerOf(o) && ownerOf(x) !== owner.systemuserid),
      )!;
    const account = customerOf(theirs);
    const expanded = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { accountid: account },
      expand: [
        { relation: 'opportunity_customer_accounts', select: ['name'], where: { ownerid: { ne: owner.fullname } } },
      ],
    });
    expect(expanded.isError, textOf(expanded)).toBeFalsy();
    const notTheirs = emu
      .rows('opportunity')
      .filter((o) => customerOf(o) === account && ownerOf(o) !== owner.systemuserid)
      .map((o) => String(o.opportunityid))
      .sort();
    expect(notTheirs.length).toBeGreaterThan(0);
    const listed = (rows: { id: string }[]) => rows.map((o) => o.id).sort();
    expect(listed(expanded.structuredContent.records[0].opportunity_customer_accounts)).toEqual(notTheirs);
    const got = await h.call('get_record', {
      entity: 'account',
      id: account,
      select: ['name'],
      expand: [
        { relation: 'opportunity_customer_accounts', select: ['name'], where: { ownerid: { ne: owner.fullname } } },
      ],
    });
    expect(got.isError, textOf(got)).toBeFalsy();
    expect(listed(got.structuredContent.record.opportunity_customer_accounts)).toEqual(notTheirs);
    // a customer lookup (account or contact): the records of either table with the name
    const company = emu
      .rows('account')
      .find((a) => emu.rows('contact').some((c) => (c.parentcustomerid as { id: string } | null)?.id === a.accountid))!;
    const notThere = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname'],
      where: { parentcustomerid: { ne: company.name } },
      count: true,
      top: 0,
    });
    expect(notThere.isError, textOf(notThere)).toBeFalsy();
    expect(notThere.structuredContent.totalCount).toBe(
      emu.rows('contact').filter((c) => (c.parentcustomerid as { id: string } | null)?.id !== company.accountid).length,
    );
  });

  it('"the current user" where this server signs in as an application is refused, in every form, before any query: it would be the application, not the user asking', async () => {
    // Dataverse's EqualUserId is the user the request runs as; app-only, that is the application user, so "my
    // tasks" would come back empty and be taken for none (the signed-in user's case: test/integration/http.test.ts)
    const tasks = () => emu.requests().filter((q) => q.url.includes('/tasks') || q.url.includes('/accounts'));
    const before = tasks().length;
    for (const [args, said, fix] of [
      [
        { entity: 'task', where: { ownerid: { currentUser: true } } },
        '"currentUser" on ownerid',
        'compare with its name: {"ownerid": "<full name>"}',
      ],
      [
        { entity: 'task', where: { scheduledend: 'this week', ownerid: { eqUserId: true } } },
        '"currentUser" on ownerid',
        'compare with its name: {"ownerid": "<full name>"}',
      ],
      [
        { entity: 'account', where: { Account_Tasks: { some: { createdby: { currentUser: true } } } } },
        '"currentUser" on createdby',
        'compare with its name: {"createdby": "<full name>"}',
      ],
      [
        { entity: 'task', filter: "statecode eq 0 and Microsoft.Dynamics.CRM.EqualUserId(PropertyName='ownerid')" },
        'Microsoft.Dynamics.CRM.EqualUserId in the filter',
        "compare with its name or id: ownerid/name eq '<full name>', or ownerid eq <id>",
      ],
      [
        {
          entity: 'account',
          filter: "Account_Tasks/any(t: Microsoft.Dynamics.CRM.NotEqualUserId(PropertyName='ownerid'))",
        },
        'Microsoft.Dynamics.CRM.NotEqualUserId in the filter',
        "compare with its name or id: ownerid/name eq '<full name>', or ownerid eq <id>",
      ],
    ] as const) {
      const r = await h.call('query_entities', args);
      expect(textOf(r), JSON.stringify(args)).toBe(
        `Error (bad_input): ${said}: this server signs in to Dynamics as an application, so the current user would be that application, not you.\n` +
          `How to fix: Find your user with query_entities on systemuser (e.g. where fullname contains your name) and ${fix}.`,
      );
    }
    // "not mine" too, however written (not a user named "me", nor one whose name contains it)
    for (const where of [{ ownerid: { ne: 'me' } }, { not: { ownerid: 'me' } }, { ownerid: { notIn: ['my'] } }]) {
      const r = await h.call('query_entities', { entity: 'task', where });
      expect(textOf(r), JSON.stringify(where)).toMatch(
        /^Error \(bad_input\): task\.ownerid '(me|my)': this server signs in to Dynamics as an application, so "me" would be that application, not you\./,
      );
    }
    // "who am I": a user's own key as "me" is the application too (was refused as no GUID)
    const whoAmI = await h.call('query_entities', { entity: 'systemuser', where: { systemuserid: 'me' } });
    expect(textOf(whoAmI)).toBe(
      `Error (bad_input): systemuser.systemuserid 'me': this server signs in to Dynamics as an application, so "me" would be that application, not you.\n` +
        'How to fix: Find your user with query_entities on systemuser (e.g. where fullname contains your name) and use its id.',
    );
    // "my team's cases" (EqualUserTeams, EqualUserOrUserTeams): the application's teams, not the user's
    for (const team of ['my team', "me or my team's"]) {
      const r = await h.call('query_entities', { entity: 'incident', where: { ownerid: team } });
      expect(textOf(r)).toBe(
        `Error (bad_input): incident.ownerid '${team}': this server signs in to Dynamics as an application, so "my team" would be the application's teams, not yours.\n` +
          'How to fix: Name the team: {"ownerid": "<team name>"} (query_entities on team lists them).',
      );
    }
    // nor as an owner to give a record to
    const given = await h.call('update_record', {
      entity: 'incident',
      id: String(emu.rows('incident')[0]!.incidentid),
      values: { ownerid: 'my team' },
    });
    expect(textOf(given)).toBe(
      `Error (bad_input): incident.ownerid 'my team': this server signs in to Dynamics as an application, so "my team" would be the application's teams, not yours.\n` +
        'How to fix: Name the team: {"ownerid": "<team name>"} (query_entities on team lists them).',
    );
    // and under a negation, in any mode: Dataverse has no opposite of EqualUserTeams
    for (const where of [{ ownerid: { ne: 'my team' } }, { not: { ownerid: "my team's" } }]) {
      const r = await h.call('query_entities', { entity: 'incident', where });
      expect(textOf(r), JSON.stringify(where)).toMatch(
        /^Error \(bad_input\): incident\.ownerid 'my team('s)?' under a negation: Dataverse has no condition for what the user's teams do not own\./,
      );
    }
    const teams = await h.call('query_entities', {
      entity: 'incident',
      filter: "Microsoft.Dynamics.CRM.EqualUserTeams(PropertyName='ownerid')",
    });
    expect(textOf(teams)).toMatch(
      /^Error \(bad_input\): Microsoft\.Dynamics\.CRM\.EqualUserTeams in the filter: this server/,
    );
    // a count and an aggregation alike
    const count = await h.call('query_entities', { entity: 'task', top: 0, where: { ownerid: { currentUser: true } } });
    expect(textOf(count)).toMatch(/^Error \(bad_input\): "currentUser" on ownerid: this server signs in/);
    const sum = await h.call('aggregate_records', {
      entity: 'task',
      where: "Microsoft.Dynamics.CRM.EqualUserId(PropertyName='ownerid')",
    });
    expect(textOf(sum)).toMatch(
      /^Error \(bad_input\): Microsoft.Dynamics.CRM.EqualUserId in the filter: this server signs in/,
    );
    expect(tasks().length).toBe(before);
    // "me" is refused the same way; the user's name, as the hint says, is answered
    const me = await h.call('query_entities', { entity: 'task', where: { ownerid: 'me' } });
    expect(textOf(me)).toBe(
      `Error (bad_input): task.ownerid 'me': this server signs in to Dynamics as an application, so "me" would be that application, not you.\n` +
        'How to fix: Find your user with query_entities on systemuser (e.g. where fullname contains your name) and compare with its name or id.',
    );
    const owner = emu
      .rows('systemuser')
      .find((u) => emu.rows('task').some((t) => (t.ownerid as { id: string }).id === u.systemuserid))!;
    const named = await h.call('query_entities', { entity: 'task', where: { ownerid: owner.fullname }, top: 5000 });
    expect(ids(named)).toEqual(
      emu
        .rows('task')
        .filter((t) => (t.ownerid as { id: string }).id === owner.systemuserid)
        .map((t) => String(t.activityid))
        .sort(),
    );
  });

  it('a name with a wildcard inside finds nothing and is answered with the pieces, not a contains that would match it as written too', async () => {
    const name = String(emu.rows('account')[0]!.name);
    const [first, ...rest] = name.split(' ');
    const r = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { name: `${first}%${rest.join(' ')}` },
    });
    expect(r.structuredContent.records).toEqual([]);
    const pieces = [{ name: { contains: first } }, { name: { contains: rest.join(' ') } }];
    expect(textOf(r).split('\n')[0]).toBe(
      `0 account records. No account is named '${first}%${rest.join(' ')}' (name compares the whole name): a '%' or '*' inside a name is matched as written; for names holding each piece use {"and": [${pieces.map((p) => JSON.stringify(p).replace(/:/g, ': ').replace(/,"/g, ', "')).join(', ')}]}.`,
    );
    // which finds it
    const found = await h.call('query_entities', { entity: 'account', select: ['name'], where: { and: pieces } });
    expect((found.structuredContent.records as { name: string }[]).map((x) => x.name)).toContain(name);
  });

  it('names in one text with commas ("A, B") find nothing and are answered with the list too; a list to a one-value operator with the groups that ask it', async () => {
    const [a, b] = emu.rows('account').map((x) => String(x.name));
    const text = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { name: { in: `${a}, ${b}` } },
    });
    expect(text.structuredContent.records).toEqual([]);
    expect(textOf(text).split('\n')[0]).toBe(
      `0 account records. No account is named '${a}, ${b}' (name compares the whole name): for part of a name use {"name": {"contains": "${a}, ${b}"}}; for any of several names, list them: {"name": {"in": ${JSON.stringify([a, b])}}}.`,
    );
    // the list it gives finds both
    const listed = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { name: { in: [a, b] } },
    });
    expect(listed.structuredContent.records.map((r: { name: string }) => r.name).sort()).toEqual([a, b].sort());
    const since = emu.requests().length;
    const contains = await h.call('query_entities', {
      entity: 'incident',
      where: { title: { contains: ['printer', 'invoice'] } },
    });
    expect(textOf(contains)).toBe(
      'Error (bad_input): "contains" on title takes one value, not a list of 2.\n' +
        'How to fix: For any of them: {"or": [{"title":{"contains":"printer"}}, {"title":{"contains":"invoice"}}]}; for all of them, the same under "and".',
    );
    const range = await h.call('query_entities', { entity: 'opportunity', where: { estimatedvalue: { gt: [1, 2] } } });
    expect(textOf(range)).toBe(
      'Error (bad_input): "gt" on estimatedvalue takes one value, not a list of 2.\n' +
        'How to fix: For a range: {"estimatedvalue": {"between": [1,2]}} (both ends included), or {"estimatedvalue": {"ge": …, "lt": …}}.',
    );
    // refused before anything was asked
    const asked = emu.requests().slice(since);
    expect(asked.filter((r) => /^\/api\/data\/v9\.2\/(incidents|opportunities)\b/.test(r.url))).toEqual([]);
  });

  it('nothing found by text no record has whole says what finds it: the choice that has it as a value (a stage "Propose", stored "3-Propose"), or the records that have it within', async () => {
    const stage = (o: Record<string, unknown>) => String(o.stepname ?? '');
    const propose = emu.rows('opportunity').filter((o) => stage(o).includes('Propose'));
    expect(propose.length).toBeGreaterThan(0);
    expect(emu.rows('opportunity').some((o) => stage(o) === 'Propose')).toBe(false);
    const note =
      ' No opportunity has stepname \'Propose\' as its whole text; "Propose" is a value of salesstage: {"salesstage": "Propose"}.';
    const none = await h.call('query_entities', {
      entity: 'opportunity',
      where: { stepname: 'Propose' },
      select: ['name'],
    });
    expect(textOf(none).split('\n')[0]).toBe(`0 opportunity records.${note}`);
    // the condition it gives finds them (the demo's stages and their text agree)
    const found = await h.call('query_entities', {
      entity: 'opportunity',
      where: { salesstage: 'Propose' },
      select: ['name'],
      top: 5000,
    });
    expect(ids(found)).toEqual(propose.map((o) => String(o.opportunityid)).sort());
    // in a list, counted, and aggregated alike
    const listed = await h.call('query_entities', {
      entity: 'opportunity',
      where: { stepname: { in: ['Propose', 'Nothing like it'] } },
    });
    expect(textOf(listed).split('\n')[0]).toBe(`0 opportunity records.${note}`);
    const counted = await h.call('query_entities', { entity: 'opportunity', where: { stepname: 'Propose' }, top: 0 });
    expect(textOf(counted).split('\n')[0]).toContain(note);
    const summed = await h.call('aggregate_records', { entity: 'opportunity', where: { stepname: 'Propose' } });
    expect(textOf(summed).split('\n')[0]).toBe(`opportunity: count over all matching records.${note}`);
    // text no choice has: the records that have it within, said without their values (record text stays fenced)
    const city = String(emu.rows('account').find((a) => String(a.address1_city ?? '').length > 4)!.address1_city);
    const part = city.slice(0, -1);
    expect(emu.rows('account').some((a) => String(a.address1_city ?? '').toLowerCase() === part.toLowerCase())).toBe(
      false,
    );
    const cities = await h.call('query_entities', {
      entity: 'account',
      where: { address1_city: part },
      select: ['name'],
    });
    expect(textOf(cities).split('\n')[0]).toBe(
      `0 account records. No account has address1_city '${part}' as its whole text, and some have it within theirs: {"address1_city": {"contains": ${JSON.stringify(part)}}} finds those.`,
    );
    // nothing is said where some record has the text whole (the other conditions left none), or where none has it
    // even within
    const whole = stage(propose[0]!);
    for (const where of [{ stepname: whole, estimatedvalue: { gt: 1e12 } }, { stepname: 'Negotiate' }]) {
      const r = await h.call('query_entities', { entity: 'opportunity', where, select: ['name'] });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(textOf(r).split('\n')[0], JSON.stringify(where)).toBe('0 opportunity records.');
    }
  });

  it('nothing found by a name no related record has says so, with the condition for part of a name; a name some record has says nothing', async () => {
    const account = emu
      .rows('account')
      .find(
        (a) =>
          String(a.name).includes(' ') &&
          emu.rows('contact').some((c) => (c.parentcustomerid as { id?: string } | null)?.id === a.accountid),
      )!;
    const part = String(account.name).split(' ')[0]!;
    const r = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname'],
      where: { parentcustomerid: part },
    });
    expect(r.structuredContent.records).toEqual([]);
    expect(textOf(r).split('\n')[0]).toBe(
      `0 contact records. No account or contact is named '${part}' (parentcustomerid compares the whole name): for part of a name use {"parentcustomerid": {"contains": "${part}"}}.`,
    );
    // the condition it gives finds them
    const contains = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname'],
      where: { parentcustomerid: { contains: part } },
      top: 5000,
    });
    expect(ids(contains)).toContain(
      String(
        emu.rows('contact').find((c) => (c.parentcustomerid as { id?: string } | null)?.id === account.accountid)!
          .contactid,
      ),
    );
    // counted too; a name some record has, matching nothing else, is an empty answer and nothing more
    const counted = await h.call('query_entities', { entity: 'contact', where: { parentcustomerid: part }, top: 0 });
    expect(textOf(counted).split('\n')[0]).toContain(`No account or contact is named '${part}'`);
    const real = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname'],
      where: { parentcustomerid: account.name, fullname: 'Nobody Of That Name' },
    });
    expect(real.structuredContent.records).toEqual([]);
    // (the account's name, which the account has, is not said; the contact's own name no contact has is)
    expect(textOf(real).split('\n')[0]).toBe(
      `0 contact records. No contact is named 'Nobody Of That Name' (fullname compares the whole name): for part of a name use {"fullname": {"contains": "Nobody Of That Name"}}.`,
    );
    // the table's own name too: {"name": "Contoso"} for the account "Contoso Pharma Co."
    const own = await h.call('query_entities', { entity: 'account', where: { name: part } });
    expect(textOf(own).split('\n')[0]).toBe(
      `0 account records. No account is named '${part}' (name compares the whole name): for part of a name use {"name": {"contains": "${part}"}}.`,
    );
    // a lookup of many tables names them as a list: "No account, contact, lead, … or incident is named"
    const regarding = await h.call('query_entities', { entity: 'task', where: { regardingobjectid: part } });
    expect(textOf(regarding).split('\n')[0]).toMatch(
      new RegExp(
        `^0 task records\\. No account, contact, (\\w+, )*\\w+ or \\w+ is named '${part}' \\(regardingobjectid`,
      ),
    );
    // where asking for the name fails, the answer found goes without the note, not as an error
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/accounts' }, response: { status: 500 }, times: 20 });
    try {
      const unasked = await h.call('query_entities', {
        entity: 'contact',
        select: ['fullname'],
        where: { parentcustomerid: part },
      });
      expect(unasked.isError, textOf(unasked)).toBeFalsy();
      expect(textOf(unasked).split('\n')[0]).toBe('0 contact records.');
    } finally {
      emu.clearFaults();
    }
  });

  it('a customer lookup by name asks each table it points at; where the policy follows it to some only, refused with the question it can answer, which then is', async () => {
    const contoso = new Set(
      emu
        .rows('account')
        .filter((a) => String(a.name).startsWith('Contoso'))
        .map((a) => a.accountid),
    );
    const ofContoso = emu
      .rows('contact')
      .filter((c) => contoso.has((c.parentcustomerid as { id?: string } | null)?.id))
      .map((c) => String(c.contactid))
      .sort();
    expect(ofContoso.length).toBeGreaterThan(0);
    // the built-in policy follows a contact's parent customer to accounts and contacts: "the contacts of
    // Contoso" asks both (no contact's parent is a contact named Contoso…)
    const both = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname'],
      where: { parentcustomerid: { name: { startsWith: 'Contoso' } } },
      top: 5000,
    });
    expect(both.isError, textOf(both)).toBeFalsy();
    expect(ids(both)).toEqual(ofContoso);
    // a policy that follows it to accounts only
    const narrow = await connectInMemory(emu, {
      env: {
        DYNAMICS_MCP_POLICY: builtInPolicyWith('parent-accounts-only', (entities) => ({
          ...entities,
          contact: {
            ...entities.contact!,
            expand: entities.contact!.expand!.filter((e) => e !== 'parentcustomerid_contact'),
          },
        })),
      },
    });
    try {
      const asked = await narrow.call('query_entities', {
        entity: 'contact',
        select: ['fullname'],
        where: { parentcustomerid: { name: { startsWith: 'Contoso' } } },
      });
      expect(textOf(asked)).toBe(
        "Error (policy): 'parentcustomerid' of contact points at account and contact, and this server's policy follows it to account only: a condition on it cannot be checked for the rest.\nHow to fix: To match only records whose parentcustomerid is an account, name that relationship: 'parentcustomerid_account/name'.",
      );
      const narrower = await narrow.call('query_entities', {
        entity: 'contact',
        select: ['fullname'],
        where: { 'parentcustomerid_account/name': { startsWith: 'Contoso' } },
        top: 5000,
      });
      expect(narrower.isError, textOf(narrower)).toBeFalsy();
      expect(ids(narrower)).toEqual(ofContoso);
    } finally {
      await narrow.close();
    }
  });

  it('a lookup by name that the policy does not follow is refused with the two queries that ask it, which answer', async () => {
    // the built-in policy reads an opportunity's originating lead but does not follow it: "the deal that came
    // from Jo Park's lead"
    const made = await h.call('create_lead', {
      firstName: 'Jo',
      lastName: 'Parkinson',
      email: 'jo.parkinson@example.org',
      company: 'Parkinson Widgets',
      subject: '200 seats',
    });
    const leadId = String(made.structuredContent.id);
    const qualified = await h.call('update_record', { entity: 'lead', id: leadId, values: { statecode: 'Qualified' } });
    expect(qualified.isError, textOf(qualified)).toBeFalsy();
    const lead = emu.rows('lead').find((l) => l.leadid === leadId)!;
    const opp = emu.rows('opportunity').find((o) => JSON.stringify(o.originatingleadid ?? null).includes(leadId))!;
    expect(opp).toBeDefined();
    const since = emu.requests().length;
    const byName = await h.call('query_entities', {
      entity: 'opportunity',
      where: { originatingleadid: String(lead.fullname) },
      select: ['name'],
    });
    expect(textOf(byName)).toBe(
      `Error (policy): opportunity.originatingleadid holds a record id; matching it by name ('${lead.fullname}') follows it, which this server's policy does not allow.\nHow to fix: Find the record by name with query_entities on lead with where {"fullname": "${lead.fullname}"}, then compare with its id: {"originatingleadid": "<its id>"}.`,
    );
    expect(
      emu
        .requests()
        .slice(since)
        .filter((q) => q.url.startsWith('/api/data/v9.2/opportunities')),
    ).toEqual([]);
    const found = await h.call('query_entities', { entity: 'lead', where: { fullname: String(lead.fullname) } });
    const leadIds = found.structuredContent.records.map((r: { id: string }) => r.id);
    expect(leadIds).toContain(lead.leadid);
    const asked = await h.call('query_entities', {
      entity: 'opportunity',
      where: { originatingleadid: { in: leadIds } },
      select: ['name'],
    });
    expect(asked.isError, textOf(asked)).toBeFalsy();
    expect(ids(asked)).toContain(String(opp.opportunityid));
  });

  // Prisma's and MongoDB's filter shape, which models write often: {column: value, column: {op: value}}
  it('an object of column names is one condition per column, all of them to hold', async () => {
    const accounts = emu.rows('account');
    const city = String(accounts[0]!.address1_city);
    const other = String(accounts.find((a) => a.address1_city !== city)!.address1_city);
    const byMap = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { address1_city: [city, other], revenue: { $gt: 1_000_000 }, statecode: 'Active' },
      top: 5000,
    });
    expect(byMap.isError).toBeFalsy();
    const expected = accounts.filter(
      (a) => [city, other].includes(String(a.address1_city)) && Number(a.revenue) > 1_000_000 && a.statecode === 0,
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(ids(byMap)).toEqual(expected.map((a) => String(a.accountid)).sort());
    // one column alone, inside a group, and null as the null check
    const one = await h.call('query_entities', { entity: 'account', select: ['name'], where: { address1_city: city } });
    expect(ids(one)).toEqual(
      accounts
        .filter((a) => a.address1_city === city)
        .map((a) => String(a.accountid))
        .sort()
        .slice(0, 50),
    );
    const grouped = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { or: [{ address1_city: city }, { address1_city: other }] },
      top: 5000,
    });
    expect(ids(grouped)).toEqual(
      accounts
        .filter((a) => [city, other].includes(String(a.address1_city)))
        .map((a) => String(a.accountid))
        .sort(),
    );
    const noParent = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { parentaccountid: null },
      top: 5000,
    });
    const orphans = accounts.filter((a) => a.parentaccountid == null);
    expect(orphans.length).toBeGreaterThan(0);
    expect(orphans.length).toBeLessThan(accounts.length);
    expect(noParent.structuredContent.records).toHaveLength(orphans.length);
    // null in quotes is the same null check (no account is named "null"), and ne "null" its opposite; so is
    // empty text: Dataverse keeps "" as null, so eq "" could never find a record
    const blanked = accounts.find((a) => a.telephone1)!;
    const blank = await h.call('update_record', {
      entity: 'account',
      id: String(blanked.accountid),
      values: { telephone1: '' },
    });
    expect(blank.isError, textOf(blank)).toBeFalsy();
    const noPhone = emu.rows('account').filter((a) => a.telephone1 == null).length;
    expect(noPhone).toBeGreaterThan(0);
    try {
      for (const [where, n] of [
        [{ parentaccountid: 'null' }, orphans.length],
        [{ column: 'parentaccountid', op: 'ne', value: 'NULL' }, accounts.length - orphans.length],
        [{ parentaccountid: '' }, orphans.length],
        [{ telephone1: '' }, noPhone],
        [{ column: 'telephone1', op: 'ne', value: '' }, accounts.length - noPhone],
      ] as const) {
        const quoted = await h.call('query_entities', { entity: 'account', select: ['name'], where, top: 5000 });
        expect(quoted.structuredContent?.records, `${JSON.stringify(where)}: ${textOf(quoted)}`).toHaveLength(n);
      }
    } finally {
      await h.call('update_record', {
        entity: 'account',
        id: String(blanked.accountid),
        values: { telephone1: blanked.telephone1 },
      });
    }
    // nested, the shorthand's "and" joins the "and" around it, and a group of one is its condition, so the
    // three levels the schema holds are not used up by them
    const nested = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { and: [{ or: [{ address1_city: city, statecode: 0 }] }, { or: [{ revenue: '>1' }, { revenue: null }] }] },
      top: 5000,
    });
    expect(nested.isError, textOf(nested)).toBeFalsy();
    expect(ids(nested)).toEqual(
      accounts
        .filter((a) => a.address1_city === city && a.statecode === 0)
        .map((a) => String(a.accountid))
        .sort(),
    );
    // a lookup as a result returns it ({id, name, entity}) is that record, in either form of where
    const first = await h.call('query_entities', {
      entity: 'account',
      select: ['primarycontactid'],
      where: { primarycontactid: { notNull: true } },
      top: 1,
    });
    const contact = first.structuredContent.records[0].primarycontactid as { id: string; name: string; entity: string };
    expect(contact).toMatchObject({ id: expect.any(String), name: expect.any(String) });
    const withThatContact = accounts
      .filter((a) => (a.primarycontactid as { id?: string } | null)?.id === contact.id)
      .map((a) => String(a.accountid))
      .sort();
    for (const where of [{ primarycontactid: contact }, { column: 'primarycontactid', op: 'eq', value: contact }]) {
      const r = await h.call('query_entities', { entity: 'account', select: ['name'], where, top: 5000 });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(ids(r)).toEqual(withThatContact);
    }
    // a fourth level is refused saying so, not dropped
    const deep = await h.call('query_entities', {
      entity: 'account',
      where: {
        or: [
          { and: [{ or: [{ address1_city: city }, { statecode: 1 }] }, { revenue: '>1' }] },
          { column: 'name', op: 'eq', value: 'x' },
        ],
      },
    });
    expect(textOf(deep)).toContain('conditions nest at most three levels deep, and these would make a fourth');
    // a comparison written into the value, before a number or a date
    const inValue = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { revenue: '>1000000', statecode: 0 },
      top: 5000,
    });
    expect(ids(inValue)).toEqual(
      accounts
        .filter((a) => Number(a.revenue) > 1_000_000 && a.statecode === 0)
        .map((a) => String(a.accountid))
        .sort(),
    );
    // operator keys as Prisma, MongoDB and SQL write them, a range of two bounds, and Prisma's relation
    // filter (a column of the related record under the lookup)
    const inRange = (a: Record<string, unknown>) => Number(a.revenue) >= 1_000_000 && Number(a.revenue) < 20_000_000;
    for (const revenue of [
      { gte: 1_000_000, lt: 20_000_000 },
      { $gte: 1_000_000, $lt: 20_000_000 },
      { '>=': 1_000_000, '<': 20_000_000 },
      { 'greater than or equal': 1_000_000, less_than: 20_000_000 },
    ]) {
      const r = await h.call('query_entities', { entity: 'account', select: ['name'], where: { revenue }, top: 5000 });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(ids(r), JSON.stringify(revenue)).toEqual(
        accounts
          .filter(inRange)
          .map((a) => String(a.accountid))
          .sort(),
      );
    }
    // the condition's own shape under its column name: {op, value} (or "operator"), not a related column
    const byOp = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { revenue: { op: 'gt', value: 20_000_000 }, statecode: { operator: 'eq', value: 'Active' } },
      top: 5000,
    });
    expect(byOp.isError, textOf(byOp)).toBeFalsy();
    expect(ids(byOp)).toEqual(
      accounts
        .filter((a) => Number(a.revenue) > 20_000_000 && a.statecode === 0)
        .map((a) => String(a.accountid))
        .sort(),
    );
    const parent = String(accounts[0]!.name);
    const related = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname'],
      where: { parentcustomerid_account: { name: { startsWith: parent.slice(0, 6) } } },
      top: 5000,
    });
    const documented = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname'],
      where: { column: 'parentcustomerid_account/name', op: 'startswith', value: parent.slice(0, 6) },
      top: 5000,
    });
    expect(related.isError, textOf(related)).toBeFalsy();
    expect(documented.structuredContent.records.length).toBeGreaterThan(0);
    expect(ids(related)).toEqual(ids(documented));
    // the path written with dots, as JavaScript and SQL's alias.column write it (no Dataverse name has one)
    for (const where of [
      { 'parentcustomerid_account.name': { startsWith: parent.slice(0, 6) } },
      { column: 'parentcustomerid_account.name', op: 'startswith', value: parent.slice(0, 6) },
    ]) {
      const dotted = await h.call('query_entities', { entity: 'contact', select: ['fullname'], where, top: 5000 });
      expect(dotted.isError, textOf(dotted)).toBeFalsy();
      expect(ids(dotted), JSON.stringify(where)).toEqual(ids(documented));
    }
    // Prisma's "mode": "insensitive" is how Dataverse compares text already; any other mode is refused
    const insensitive = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname'],
      where: {
        parentcustomerid_account: { name: { startsWith: parent.slice(0, 6).toUpperCase(), mode: 'insensitive' } },
      },
      top: 5000,
    });
    expect(insensitive.isError, textOf(insensitive)).toBeFalsy();
    expect(ids(insensitive)).toEqual(ids(documented));
    const sensitive = await h.call('query_entities', {
      entity: 'contact',
      where: { fullname: { contains: 'a', mode: 'sensitive' } },
    });
    expect(textOf(sensitive)).toContain(
      '\'fullname\': "mode": "sensitive" is not taken: Dataverse compares text without regard to case, and offers no other comparison; leave "mode" out.',
    );
    // the same words in the documented shape, and ours in another casing, are read as meant too
    for (const op of ['startsWith', 'StartsWith', 'STARTSWITH'] as const) {
      const said = await h.call('query_entities', {
        entity: 'contact',
        select: ['fullname'],
        where: { and: [{ column: 'parentcustomerid_account/name', op, value: parent.slice(0, 6) }] },
        top: 5000,
      });
      expect(said.isError, textOf(said)).toBeFalsy();
      expect(ids(said)).toEqual(ids(documented));
    }
    const sql = await h.call('query_entities', {
      entity: 'account',
      select: ['revenue'],
      where: { column: 'revenue', op: '>=', value: 1_000_000 },
      top: 5000,
    });
    expect(sql.structuredContent.records.length).toBe(
      emu.rows('account').filter((a) => Number(a.revenue) >= 1_000_000).length,
    );
    // an operator that is none of these is answered with the list
    const unknown = await h.call('query_entities', { entity: 'account', where: { revenue: { closeTo: 5 } } });
    expect(textOf(unknown)).toMatch(/op 'closeTo' does not exist\. Operators: eq, ne, gt/);
    // words for one of them are that one
    const words = await h.call('query_entities', {
      entity: 'account',
      select: ['revenue'],
      where: { revenue: { greaterThan: 20_000_000 } },
      top: 5000,
    });
    expect(words.structuredContent.records.length).toBe(
      emu.rows('account').filter((a) => Number(a.revenue) > 20_000_000).length,
    );
  });

  it('an operator that takes no value given whether it holds ({"isNull": false}, {"thisMonth": false}) is it or its opposite; a related list too', async () => {
    // a deal's actual close date: set on the closed ones only
    const column = 'actualclosedate';
    const deals = emu.rows('opportunity');
    const having = deals
      .filter((o) => o[column] != null)
      .map((o) => String(o.opportunityid))
      .sort();
    const without = deals
      .filter((o) => o[column] == null)
      .map((o) => String(o.opportunityid))
      .sort();
    expect(having.length * without.length).toBeGreaterThan(0);
    const find = async (where: unknown, entity = 'opportunity') => {
      const r = await h.call('query_entities', { entity, select: ['name'], where, top: 5000 });
      expect(r.isError, `${JSON.stringify(where)}: ${textOf(r)}`).toBeFalsy();
      return ids(r);
    };
    for (const [where, expected] of [
      [{ [column]: { isNull: false } }, having],
      [{ [column]: { isNull: true } }, without],
      [{ [column]: { notNull: false } }, without],
      [{ [column]: { notNull: 'true' } }, having],
      [{ column, op: 'null', value: false }, having],
      [{ column, op: 'null', value: '' }, without],
      [{ not: { [column]: { isNull: false } } }, without],
    ] as const)
      expect(await find(where), JSON.stringify(where)).toEqual(expected);
    // through a related list: with tasks (as "some") or none
    const list = async (where: unknown) => find(where, 'account');
    expect(await list({ Account_Tasks: { isNull: false } })).toEqual(await list({ Account_Tasks: { some: {} } }));
    expect(await list({ Account_Tasks: { isNull: true } })).toEqual(await list({ Account_Tasks: { none: {} } }));
    // a value that says neither is refused, not taken as the check
    const other = await h.call('query_entities', { entity: 'opportunity', where: { [column]: { null: 'maybe' } } });
    expect(textOf(other)).toBe(
      `Error (bad_input): "null" on ${column} takes no value, or true/false for whether it holds; not "maybe".\n` +
        `How to fix: For records with no ${column}: {"${column}": null}; with one: {"${column}": {"notNull": true}}.`,
    );
    // so is a period's operator: false is the days outside it (it was the period itself)
    const thisMonth = await find({ createdon: { thisMonth: true } });
    const outside = await find({ createdon: { thisMonth: false } });
    expect(thisMonth).toEqual(await find({ createdon: 'this month' }));
    // the operator said again as its value is the operator
    expect(await find({ column: 'createdon', op: 'thisMonth', value: 'this month' })).toEqual(thisMonth);
    // (the operator said again as its value: currentUser "me" is currentUser, refused as the application below)
    expect(
      textOf(
        await h.call('query_entities', {
          entity: 'opportunity',
          where: { column: 'ownerid', op: 'currentUser', value: 'me' },
        }),
      ),
    ).toBe(
      textOf(await h.call('query_entities', { entity: 'opportunity', where: { ownerid: { currentUser: true } } })),
    );
    const someone = await h.call('query_entities', {
      entity: 'opportunity',
      where: { column: 'ownerid', op: 'currentUser', value: 'Alex Wilber' },
    });
    expect(textOf(someone)).toBe(
      'Error (bad_input): "currentUser" on ownerid takes no value, or true/false for whether it holds; not "Alex Wilber".\n' +
        'How to fix: Leave the value out: {"ownerid": {"currentUser": true}}; for another user, their name or id: {"ownerid": "<full name>"}.',
    );
    expect(outside).toEqual(await find({ not: { createdon: 'this month' } }));
    expect([...thisMonth, ...outside].sort()).toEqual(deals.map((o) => String(o.opportunityid)).sort());
    // and a comparison with null, which is no value, or a range with a null end
    const above = await h.call('query_entities', { entity: 'opportunity', where: { estimatedvalue: { gt: null } } });
    expect(textOf(above)).toBe(
      'Error (bad_input): "gt" on estimatedvalue compares with a value, and null is none.\n' +
        'How to fix: For records with a value: {"estimatedvalue": {"notNull": true}}; with none: {"estimatedvalue": null}.',
    );
    const open = await h.call('query_entities', {
      entity: 'opportunity',
      where: { estimatedvalue: { between: [null, 500000] } },
    });
    expect(textOf(open)).toMatch(
      /^Error \(bad_input\): where\.value: a list of values holds no null: for a range open at one end, ge or le alone \(e\.g\. \{"le": 500000\}\)/,
    );
    const month = await h.call('query_entities', {
      entity: 'opportunity',
      where: { createdon: { op: 'thisMonth', value: '2026-01' } },
    });
    expect(textOf(month)).toBe(
      'Error (bad_input): "thisMonth" on createdon takes no value, or true/false for whether it holds; not "2026-01".\n' +
        'How to fix: Leave the value out: {"createdon": {"thisMonth": true}}; for another period, op eq with it in words, e.g. {"createdon": "last month"} or {"createdon": "2026-01"}.',
    );
  });

  it("MongoDB's and SQL's group words ($or, AND, $not) and $exists are the groups, OData's not and the null check", async () => {
    const accounts = emu.rows('account');
    const city = String(accounts[0]!.address1_city);
    const other = String(accounts.find((a) => a.address1_city !== city)!.address1_city);
    const matching = (keep: (a: Record<string, unknown>) => boolean) =>
      accounts
        .filter(keep)
        .map((a) => String(a.accountid))
        .sort();
    const run = async (where: unknown) => {
      const r = await h.call('query_entities', { entity: 'account', select: ['name'], where, top: 5000 });
      expect(r.isError, `${JSON.stringify(where)}: ${textOf(r)}`).toBeFalsy();
      return ids(r);
    };
    const inCities = (a: Record<string, unknown>) => [city, other].includes(String(a.address1_city));
    expect(await run({ $or: [{ address1_city: city }, { address1_city: other }] })).toEqual(matching(inCities));
    // a group beside columns, and two groups side by side: all of them hold
    expect(await run({ OR: [{ address1_city: city }, { address1_city: other }], statecode: 'Active' })).toEqual(
      matching((a) => inCities(a) && a.statecode === 0),
    );
    expect(
      await run({ $and: [{ statecode: 0 }], $or: [{ address1_city: city }, { revenue: { gt: 20_000_000 } }] }),
    ).toEqual(matching((a) => a.statecode === 0 && (a.address1_city === city || Number(a.revenue) > 20_000_000)));
    // not is OData's not: a record without a value does not meet the condition, so it meets its negation
    const over = (a: Record<string, unknown>) => Number(a.revenue) > 20_000_000;
    expect(await run({ not: { address1_city: city } })).toEqual(matching((a) => a.address1_city !== city));
    expect(await run({ NOT: { or: [{ address1_city: city }, { revenue: { gt: 20_000_000 } }] } })).toEqual(
      matching((a) => a.address1_city !== city && !over(a)),
    );
    expect(await run({ revenue: { $not: { $gt: 20_000_000 } } })).toEqual(matching((a) => !over(a)));
    // Dataverse takes no not around its query functions: "not in" is its NotIn, which leaves out the records
    // without a city, as SQL's NOT IN does
    expect(await run({ $not: { address1_city: { in: [city, other] } }, statecode: 0 })).toEqual(
      matching((a) => a.address1_city != null && !inCities(a) && a.statecode === 0),
    );
    // and none around ThisMonth: "not this month" is the days before it and after it, which it can say
    const month = new Date().toISOString().slice(0, 7);
    expect(await run({ not: { createdon: 'this month' } })).toEqual(
      matching((a) => a.createdon != null && !String(a.createdon).startsWith(month)),
    );
    // so is "not in the last 30 days" said with its operator, as with its words (before, it was refused)
    // (as many days as the middle account is old, so that both sides hold some)
    const ages = accounts.map((a) => Date.parse(String(a.createdon))).sort((a, b) => a - b);
    const days = Math.ceil((Date.now() - ages[Math.floor(ages.length / 2)]!) / 86_400_000);
    const lately = await run({ createdon: { lastXDays: days } });
    const notLately = await run({ not: { createdon: { lastXDays: days } } });
    expect(notLately).toEqual(await run({ not: { createdon: `last ${days} days` } }));
    expect(notLately).toEqual(matching((a) => a.createdon != null && !lately.includes(String(a.accountid))));
    expect(lately.length).toBeGreaterThan(0);
    expect(notLately.length).toBeGreaterThan(0);
    expect(await run({ not: { column: 'createdon', op: 'thisMonth' } })).toEqual(
      matching((a) => a.createdon != null && !String(a.createdon).startsWith(month)),
    );
    // a period with no last day has no outside to say: refused, with the condition that says it
    const period = await h.call('query_entities', {
      entity: 'account',
      where: { not: { createdon: { olderThanXDays: 30 } } },
    });
    expect(textOf(period)).toContain(
      'Dataverse takes no "not" around its query functions, and this condition is sent as OlderThanXDays.',
    );
    expect(textOf(period)).toContain('{"ge": "last 30 days"} (on or after its first day)');
    expect(await run({ not: { name: { startsWith: 'A' } } })).toEqual(
      matching((a) => !String(a.name).toLowerCase().startsWith('a')),
    );
    expect(await run({ parentaccountid: { $exists: true } })).toEqual(matching((a) => a.parentaccountid != null));
    expect(await run({ parentaccountid: { $exists: false } })).toEqual(matching((a) => a.parentaccountid == null));
    // what is under a not arrives unchecked by the schema, and is checked all the same
    const odd = await h.call('query_entities', { entity: 'account', where: { not: { column: 5, op: 'eq' } } });
    expect(textOf(odd)).toContain('A condition needs both "column" and "op".');
  });

  it("NULLS LAST and NULLS FIRST: Dataverse's own order is taken as it; the opposite is refused with the condition that leaves empties out", async () => {
    const ask = (orderBy: string) =>
      h.call('query_entities', { entity: 'opportunity', select: ['actualclosedate'], orderBy, top: 5000 });
    const empty = emu.rows('opportunity').filter((o) => o.actualclosedate == null).length;
    expect(empty).toBeGreaterThan(0);
    // SQL Server, under Dataverse, sorts an empty value first ascending and last descending
    const desc = await ask('actualclosedate desc');
    expect(desc.structuredContent.records.at(-1).actualclosedate).toBeUndefined();
    for (const [orderBy, same] of [
      ['actualclosedate desc nulls last', desc],
      ['actualclosedate DESC NULLS LAST', desc],
      ['actualclosedate nulls first', await ask('actualclosedate asc')],
    ] as const) {
      const r = await ask(orderBy);
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.records, orderBy).toEqual(same.structuredContent.records);
    }
    const sent = emu.requests().length;
    const last = await ask('actualclosedate asc nulls last');
    expect(textOf(last)).toBe(
      "Error (bad_input): Dynamics sorts empty values first ascending and last descending; 'actualclosedate asc nulls last' cannot be sent.\n" +
        'How to fix: To leave out the records with no actualclosedate, add the condition {"actualclosedate": {"notNull": true}} and sort by \'actualclosedate asc\'.',
    );
    expect(emu.requests().length).toBe(sent);
  });

  // Compose HTTP requests, "Maximum URL length": a customer lookup's 500 names are compared in both its tables,
  // a filter of ~50 KB with its quotes as written, which goes inside a $batch (up to 65,536 characters; the
  // emulator counted each quote as the %27 a URL parser makes of it, and refused the query as too long)
  it("500 names in a customer lookup's in list are answered, the long query sent inside a $batch", async () => {
    const account = emu
      .rows('account')
      .find((a) =>
        emu.rows('contact').some((c) => (c.parentcustomerid as { id?: string } | null)?.id === a.accountid),
      )!;
    const names = [...Array.from({ length: 499 }, (_, i) => `Company ${i}`), String(account.name)];
    const r = await h.call('query_entities', {
      entity: 'contact',
      where: { parentcustomerid: { in: names } },
      select: ['fullname', 'parentcustomerid'],
      top: 5000,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const theirs = emu
      .rows('contact')
      .filter((c) => (c.parentcustomerid as { id?: string } | null)?.id === account.accountid);
    expect(r.structuredContent.records.map((c: { id: string }) => c.id).sort()).toEqual(
      theirs.map((c) => c.contactid).sort(),
    );
  });

  // 291,000 euros after 242,000 dollars: "the largest deals" off a page of several currencies may not be
  it('a sort by a money column over records in several currencies says so, naming the _base column', async () => {
    const deals = emu.rows('opportunity');
    const currencyOf = (o: Record<string, unknown>) => (o.transactioncurrencyid as { id?: string } | null)?.id;
    expect(new Set(deals.map(currencyOf)).size).toBeGreaterThan(1);
    const all = await h.call('query_entities', {
      entity: 'opportunity',
      select: ['name', 'estimatedvalue'],
      orderBy: 'estimatedvalue desc',
      top: 5000,
    });
    expect(textOf(all).split('\n')[0]).toMatch(
      / Sorted by estimatedvalue in each record's own currency, and these are in (US Dollar|Euro)(, [\w ]+)* and [\w ]+: estimatedvalue_base \(the amount in the base currency\) sorts them as one\.$/,
    );
    // by the base amount, or rows of one currency: nothing to say
    const base = await h.call('query_entities', {
      entity: 'opportunity',
      select: ['name', 'estimatedvalue'],
      orderBy: 'estimatedvalue_base desc',
      top: 5000,
    });
    expect(textOf(base)).not.toContain('own currency');
    const dollars = await h.call('query_entities', {
      entity: 'opportunity',
      select: ['name', 'estimatedvalue'],
      where: { transactioncurrencyid: currencyOf(deals[0]!) },
      orderBy: 'estimatedvalue desc',
      top: 5000,
    });
    expect(dollars.structuredContent.records.length).toBeGreaterThan(1);
    expect(textOf(dollars)).not.toContain('own currency');
  });

  // Web API "Order rows": a lookup column is sorted by the related table's primary name
  it("a sort by a choice says it is by the values' numbers (Dataverse's Web API), in the order they came", async () => {
    // "the most urgent cases" as prioritycode desc are the least urgent: High is 1
    const desc = await h.call('query_entities', {
      entity: 'incident',
      orderBy: 'prioritycode desc',
      select: ['prioritycode'],
      top: 5000,
    });
    expect(textOf(desc).split('\n')[0]).toMatch(
      / Sorted by prioritycode's numbers, not what its values mean: Low \(3\), Normal \(2\), High \(1\)\.$/,
    );
    const got = desc.structuredContent.records.map((r: { prioritycode?: string }) => r.prioritycode);
    expect(got[0]).toBe('Low (3)');
    expect(got.filter((p: string | undefined) => p).at(-1)).toBe('High (1)');
    // with SQL's NULLS LAST (Dataverse's own order descending), the same
    const nullsLast = await h.call('query_entities', {
      entity: 'incident',
      orderBy: 'prioritycode desc nulls last',
      select: ['title'],
      top: 2,
    });
    expect(textOf(nullsLast).split('\n')[0]).toContain(
      "Sorted by prioritycode's numbers, not what its values mean: Low (3), Normal (2), High (1).",
    );
    // by its label, ascending
    const asc = await h.call('query_entities', { entity: 'incident', orderBy: 'Priority', select: ['title'], top: 2 });
    expect(textOf(asc).split('\n')[0]).toContain(
      "Sorted by prioritycode's numbers, not what its values mean: High (1), Normal (2), Low (3).",
    );
    // a long choice is said in words; a sort by anything else, or one row, says nothing
    const industry = await h.call('query_entities', {
      entity: 'account',
      orderBy: 'industrycode',
      select: ['name'],
      top: 2,
    });
    expect(textOf(industry).split('\n')[0]).toContain(
      "Sorted by industrycode's numbers, not its labels' alphabetical order.",
    );
    for (const args of [
      { entity: 'account', orderBy: 'name', select: ['name'], top: 2 },
      { entity: 'incident', orderBy: 'prioritycode desc', select: ['title'], top: 1 },
    ])
      expect(textOf(await h.call('query_entities', args)).split('\n')[0]).not.toContain('Sorted by');
    // a related list get_record reads, sorted by a choice, alike
    const account = emu
      .rows('account')
      .find(
        (a) =>
          emu.rows('incident').filter((i) => (i.customerid as { id?: string } | null)?.id === a.accountid).length > 1,
      )!;
    const brief = await h.call('get_record', {
      entity: 'account',
      id: String(account.accountid),
      select: ['name'],
      expand: [{ relation: 'incident_customer_accounts', select: ['title'], orderBy: 'prioritycode desc' }],
    });
    expect(textOf(brief).split('\n')[0]).toContain(
      "incident_customer_accounts sorted by prioritycode's numbers, not what its values mean: Low (3), Normal (2), High (1).",
    );
  });

  it("a sort by a lookup's name is the sort by the lookup, which Dataverse orders by the related record's name", async () => {
    const ask = (orderBy: string) =>
      h.call('query_entities', { entity: 'opportunity', select: ['parentaccountid'], orderBy, top: 20 });
    const byLookup = await ask('parentaccountid desc');
    for (const orderBy of ['parentaccountid/name desc', 'parentaccountid/Name DESC']) {
      const r = await ask(orderBy);
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.records, orderBy).toEqual(byLookup.structuredContent.records);
    }
    const names = emu
      .rows('opportunity')
      .map((o) => emu.rows('account').find((a) => a.accountid === (o.parentaccountid as { id?: string })?.id)?.name)
      .filter((n): n is string => typeof n === 'string');
    const last = [...names].sort((a, b) => a.localeCompare(b)).at(-1);
    expect(byLookup.structuredContent.records[0].parentaccountid.name).toBe(last);
    // one table's navigation of a customer lookup is not the lookup: refused, saying what sorts by a name
    const one = await h.call('query_entities', { entity: 'contact', orderBy: 'parentcustomerid_account/name' });
    expect(textOf(one)).toBe(
      "Error (policy): Ordering by 'parentcustomerid_account/name' is not supported.\n" +
        'How to fix: Order by columns of the table itself; a lookup (e.g. "parentaccountid") sorts by the related record\'s name.',
    );
  });

  it("select, expand and orderBy in $select's, Prisma's and other APIs' shapes mean the documented ones", async () => {
    const documented = await h.call('query_entities', {
      entity: 'account',
      select: ['name', 'revenue'],
      orderBy: 'revenue desc, name asc',
      expand: [{ relation: 'primarycontactid', select: ['fullname', 'emailaddress1'] }],
      top: 5,
    });
    expect(documented.isError).toBeFalsy();
    expect(documented.structuredContent.records[0].primarycontactid).toHaveProperty('fullname');
    for (const variant of [
      {
        select: 'name, revenue',
        orderBy: [{ revenue: 'desc' }, { name: 'asc' }],
        expand: [{ relationship: 'primarycontactid', columns: 'fullname,emailaddress1' }],
      },
      {
        select: 'name,revenue',
        orderBy: [{ column: 'revenue', direction: 'DESC' }, { field: 'name' }],
        expand: { navigationProperty: 'primarycontactid', select: ['fullname', 'emailaddress1'] },
      },
      {
        select: ['name', 'revenue'],
        orderBy: [{ revenue: -1 }, { name: 1 }],
        expand: [{ relation: 'primarycontactid', fields: ['fullname', 'emailaddress1'] }],
      },
      // SQL's and the Web API's words before them
      {
        select: 'SELECT name, revenue',
        orderBy: 'ORDER BY revenue DESC, name',
        expand: [{ relation: 'primarycontactid', select: '$select=fullname,emailaddress1' }],
      },
    ]) {
      const r = await h.call('query_entities', { entity: 'account', top: 5, ...variant });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.records, JSON.stringify(variant)).toEqual(documented.structuredContent.records);
    }
    // "*" as in $select=*: every readable column, as with no select
    const plain = await h.call('query_entities', { entity: 'account', top: 3 });
    for (const select of [['*'], '*']) {
      const star = await h.call('query_entities', { entity: 'account', select, top: 3 });
      expect(star.isError, textOf(star)).toBeFalsy();
      expect(star.structuredContent.records).toEqual(plain.structuredContent.records);
    }
    // relationship names alone: each related record with its default columns
    const names = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      expand: 'primarycontactid',
      top: 3,
    });
    const listed = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      expand: ['primarycontactid'],
      top: 3,
    });
    const objects = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      expand: [{ relation: 'primarycontactid' }],
      top: 3,
    });
    expect(objects.isError).toBeFalsy();
    expect(names.structuredContent.records).toEqual(objects.structuredContent.records);
    expect(listed.structuredContent.records).toEqual(objects.structuredContent.records);
  });

  // OData's $expand is how the Web API documentation writes it (Query data: "Join tables"), so models do
  it('expand written as OData text (relation($select=…;$top=…;$orderby=…)) is the same expand as the objects', async () => {
    const objects = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      expand: [
        { relation: 'primarycontactid', select: ['fullname', 'emailaddress1'] },
        { relation: 'contact_customer_accounts', select: ['fullname'], top: 2, orderBy: 'fullname desc' },
      ],
      top: 5,
    });
    expect(objects.isError, textOf(objects)).toBeFalsy();
    for (const expand of [
      'primarycontactid($select=fullname,emailaddress1),contact_customer_accounts($select=fullname;$top=2;$orderby=fullname desc)',
      [
        'primarycontactid(fullname, emailaddress1)',
        'contact_customer_accounts( $select=fullname; $top=2; $orderby=fullname desc )',
      ],
    ]) {
      const r = await h.call('query_entities', { entity: 'account', select: ['name'], expand, top: 5 });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.records, JSON.stringify(expand)).toEqual(objects.structuredContent.records);
    }
    const named = objects.structuredContent.records.filter((a: { primarycontactid?: object }) => a.primarycontactid);
    expect(named.length).toBeGreaterThan(0);
    // an object keyed by relationship, as some SDKs write expand: one item per key, its value the options,
    // the columns, or true for the related table's defaults
    for (const expand of [
      {
        primarycontactid: ['fullname', 'emailaddress1'],
        contact_customer_accounts: { select: 'fullname', top: 2, orderBy: 'fullname desc' },
      },
      {
        primarycontactid: { columns: ['fullname', 'emailaddress1'] },
        contact_customer_accounts: { select: ['fullname'], top: 2, orderBy: 'fullname desc' },
      },
    ]) {
      const r = await h.call('query_entities', { entity: 'account', select: ['name'], expand, top: 5 });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.records, JSON.stringify(expand)).toEqual(objects.structuredContent.records);
    }
    const defaults = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      expand: { primarycontactid: true },
      top: 5,
    });
    expect(defaults.isError, textOf(defaults)).toBeFalsy();
    const listed = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      expand: ['primarycontactid'],
      top: 5,
    });
    expect(defaults.structuredContent.records).toEqual(listed.structuredContent.records);
    // a key's value that is no item's options is still refused, as is an unknown relationship
    expect(
      textOf(await h.call('query_entities', { entity: 'account', expand: { primarycontactid: 3 }, top: 1 })),
    ).toContain("expand[0]: an expand item takes relation, select, where, orderBy and top, not 'primarycontactid'");
    expect(
      textOf(await h.call('query_entities', { entity: 'account', expand: { primarycontact: true }, top: 1 })),
    ).toContain("'primarycontact' is not a relationship of account");
    // conditions on the related rows are the item's where: $filter is named as what goes there instead
    const since = emu.requests().length;
    const filtered = await h.call('query_entities', {
      entity: 'account',
      expand: ['contact_customer_accounts($filter=statecode eq 0)'],
    });
    expect(textOf(filtered)).toContain(
      "expand[0]: an expand item takes relation, select, where, orderBy and top, not '$filter': conditions on the related records go in the item's where",
    );
    expect(emu.requests().length).toBe(since);
  });

  // a person's "created on 2026-11-20" is the whole day; Dataverse compares a date and time with a bare
  // date as its midnight (eq would find only records stamped 00:00:00), so the tool says it with the day
  // functions On / OnOrAfter / OnOrBefore (Web API query functions reference)
  it.each([
    ['eq', (d: string, day: string) => d === day],
    ['ne', (d: string, day: string) => d !== day],
    ['ge', (d: string, day: string) => d >= day],
    ['le', (d: string, day: string) => d <= day],
    ['gt', (d: string, day: string) => d > day],
    ['lt', (d: string, day: string) => d < day],
  ] as const)('a day compared with a date-and-time column (%s) means the whole day', async (op, test) => {
    const leads = emu.rows('lead');
    const days = [...new Set(leads.map((l) => String(l.createdon).slice(0, 10)))].sort();
    const day = days[Math.floor(days.length / 2)]!;
    const r = await h.call('query_entities', {
      entity: 'lead',
      select: ['createdon'],
      where: { column: 'createdon', op, value: day },
      top: 5000,
    });
    expect(r.isError).toBeFalsy();
    const expected = leads.filter((l) => test(String(l.createdon).slice(0, 10), day)).map((l) => l.leadid);
    expect(expected.length).toBeGreaterThan(0);
    expect(r.structuredContent.records.map((x: { id: string }) => x.id).sort()).toEqual(expected.sort());
  });

  it('a date-only column is compared as it is; a date and time as given', async () => {
    const since = emu.requests().length;
    await h.call('query_entities', {
      entity: 'opportunity',
      where: { column: 'estimatedclosedate', op: 'le', value: '2026-12-31' },
    });
    await h.call('query_entities', {
      entity: 'lead',
      where: { column: 'createdon', op: 'ge', value: '2026-11-20T12:00:00Z' },
    });
    const sent = emu
      .requests()
      .slice(since)
      .map((q) => decodeURIComponent(q.url));
    expect(sent.some((u) => u.includes('$filter=estimatedclosedate le 2026-12-31'))).toBe(true);
    expect(sent.some((u) => u.includes('$filter=createdon ge 2026-11-20T12:00:00Z'))).toBe(true);
  });

  it('a time without a time zone is refused, saying how to name the zone; with Z it is that moment', async () => {
    const noZone = await h.call('query_entities', {
      entity: 'lead',
      where: { column: 'createdon', op: 'ge', value: '2026-11-20T10:00:00' },
    });
    expect(textOf(noZone)).toBe(
      "Error (bad_input): lead.createdon is a date and time; '2026-11-20T10:00:00' has no time zone, so it names a different moment in each one.\n" +
        'How to fix: Add Z for UTC (2026-11-20T10:00:00Z) or the offset of the time zone meant (e.g. 2026-11-20T10:00:00+01:00); Dynamics stores times in UTC.',
    );
    const utc = await h.call('query_entities', {
      entity: 'lead',
      select: ['createdon'],
      where: { column: 'createdon', op: 'ge', value: '2026-11-20T10:00:00Z' },
      top: 5000,
    });
    const expected = emu
      .rows('lead')
      .filter((l) => Date.parse(String(l.createdon)) >= Date.parse('2026-11-20T10:00:00Z'));
    expect(utc.structuredContent.records).toHaveLength(expected.length);
    // as SQL and people write it (RFC 3339 5.6 allows the space): a space for the T, UTC or GMT for Z
    for (const value of ['2026-11-20 10:00:00 UTC', '2026-11-20 10:00Z', '2026-11-20  11:00:00+01:00']) {
      const spaced = await h.call('query_entities', {
        entity: 'lead',
        select: ['createdon'],
        where: { column: 'createdon', op: 'ge', value },
        top: 5000,
      });
      expect(spaced.isError, textOf(spaced)).toBeFalsy();
      expect(spaced.structuredContent.records, value).toEqual(utc.structuredContent.records);
    }
    const spacedNoZone = await h.call('query_entities', {
      entity: 'lead',
      where: { column: 'createdon', op: 'ge', value: '2026-11-20 10:00' },
    });
    expect(textOf(spacedNoZone)).toMatch(
      /^Error \(bad_input\): lead\.createdon is a date and time; '2026-11-20T10:00' has no time zone/,
    );
  });

  it('"today", "yesterday" and "tomorrow" compare as the UTC day the error would have named', async () => {
    const day = (shift: number) => new Date(Date.now() + shift * 86_400_000).toISOString().slice(0, 10);
    for (const [word, shift, op] of [
      ['today', 0, 'lt'],
      ['Yesterday', -1, 'ge'],
      [' tomorrow ', 1, 'le'],
    ] as const) {
      const ask = (value: string) =>
        h.call('query_entities', {
          entity: 'opportunity',
          select: ['estimatedclosedate'],
          where: { column: 'estimatedclosedate', op, value },
          top: 5000,
        });
      const byWord = await ask(word);
      expect(byWord.isError, textOf(byWord)).toBeFalsy();
      const byDate = await ask(day(shift));
      expect(byWord.structuredContent.records).toEqual(byDate.structuredContent.records);
    }
    // the overdue open deals, as a model writes the question
    const overdue = await h.call('query_entities', {
      entity: 'opportunity',
      select: ['estimatedclosedate'],
      where: { statecode: 'Open', estimatedclosedate: { lt: 'today' } },
      top: 5000,
    });
    const expected = emu
      .rows('opportunity')
      .filter((o) => o.statecode === 0 && typeof o.estimatedclosedate === 'string' && o.estimatedclosedate < day(0));
    expect(expected.length).toBeGreaterThan(0);
    expect(overdue.structuredContent.records).toHaveLength(expected.length);
  });

  it('"30 days ago" is that day; before/after/since are lt/gt/ge; a count of days is taken with its unit', async () => {
    const day = (shift: number) => new Date(Date.now() + shift * 86_400_000).toISOString().slice(0, 10);
    const ask = (where: object) =>
      h.call('query_entities', { entity: 'incident', select: ['title'], where, top: 5000, count: true });
    const ids = (r: Awaited<ReturnType<typeof ask>>) => {
      expect(r.isError, textOf(r)).toBeFalsy();
      return r.structuredContent.records.map((x: { id: string }) => x.id).sort();
    };
    // the cases opened before the day 30 days back, three ways a model writes it, and by the day itself
    const byDay = ids(await ask({ createdon: { lt: day(-30) } }));
    expect(byDay.length).toBeGreaterThan(0);
    expect(byDay.length).toBeLessThan(emu.rows('incident').length);
    expect(ids(await ask({ createdon: { lt: '30 days ago' } }))).toEqual(byDay);
    expect(ids(await ask({ createdon: { before: '30 days ago' } }))).toEqual(byDay);
    expect(ids(await ask({ createdon: { lt: '4 weeks ago' } }))).toEqual(
      ids(await ask({ createdon: { lt: day(-28) } })),
    );
    expect(ids(await ask({ createdon: { since: day(-30) } }))).toEqual(ids(await ask({ createdon: { ge: day(-30) } })));
    // lastXDays and olderThanXDays with the unit written: days, or weeks of seven
    expect(ids(await ask({ createdon: { olderThanXDays: '4 weeks' } }))).toEqual(
      ids(await ask({ createdon: { olderThanXDays: 28 } })),
    );
    expect(ids(await ask({ createdon: { olderThan: '30 days' } }))).toEqual(
      ids(await ask({ createdon: { olderThanXDays: 30 } })),
    );
    expect(ids(await ask({ createdon: { lastXDays: '60 days' } }))).toEqual(
      ids(await ask({ createdon: { lastXDays: 60 } })),
    );
    // months are no count of days: refused with what says them
    const months = await ask({ createdon: { lastXDays: '3 months' } });
    expect(textOf(months)).toBe(
      `Error (bad_input): "lastXDays" needs a whole number of days as "value"; '3 months' is not one.\n` +
        'How to fix: e.g. "value": 30; for months, op eq with "last 6 months".',
    );
    const older = await ask({ createdon: { olderThanXDays: '6 months' } });
    expect(textOf(older)).toMatch(/for months or years, \{"lt": "6 months ago"\}/);
    // a count that is no number (true was read as 1 day, false as 0) or none at all
    for (const [value, said] of [
      [true, 'true is not one'],
      [false, 'false is not one'],
      ['', "'' is not one"],
      [undefined, 'none was given'],
    ] as const) {
      const r = await ask({ column: 'createdon', op: 'lastXDays', ...(value === undefined ? {} : { value }) });
      expect(textOf(r), String(value)).toMatch(
        new RegExp(`^Error \\(bad_input\\): "lastXDays" needs a whole number of days as "value"; ${said}\\.\n`),
      );
    }
  });

  it('a date in words ("last week") is answered with the relative operators that say it exactly', async () => {
    const leadQueries = () => emu.requests().filter((q) => q.url.startsWith('/api/data/v9.2/leads')).length;
    const sent = leadQueries();
    const r = await h.call('query_entities', {
      entity: 'lead',
      where: { column: 'createdon', op: 'gt', value: 'last wednesday' },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/lead\.createdon is a date; 'last wednesday' is not an ISO date/);
    expect(textOf(r)).toMatch(/op lastXDays or nextXDays \(value: a number of days\)/);
    expect(textOf(r)).toContain(
      'or this, last or next week, month or year (thisWeek, lastMonth, nextYear…); or op eq with the period in those words: "last 30 days", "last 2 weeks", "next month", "this quarter", "last fiscal year", "last 6 months", or a month or year by name, "2026-11", "November 2026", "2026"; compared, a period is its first or last day: {"lt": "this month"} is before it, {"between": ["this month", "next quarter"]} both; "end of next month" (or start of) is that day.',
    );
    // the weekday too, and the Wednesdays around today: models miscount weekdays from a date
    expect(textOf(r)).toMatch(
      /\(today is [A-Z][a-z]+day \d{4}-\d{2}-\d{2} \(UTC\); Wednesday: the last was \d{4}-\d{2}-\d{2}, (today is one, )?the coming one is \d{4}-\d{2}-\d{2}, the one after \d{4}-\d{2}-\d{2}\)/,
    );
    expect(leadQueries()).toBe(sent);
    const lastWeek = await h.call('query_entities', {
      entity: 'lead',
      where: { column: 'createdon', op: 'lastXDays', value: 7 },
    });
    expect(lastWeek.isError).toBeFalsy();
    // a period in the words the operators are named for is that operator, on a date column only
    const byOp = await h.call('query_entities', {
      entity: 'lead',
      select: ['createdon'],
      where: { column: 'createdon', op: 'lastXDays', value: 30 },
      top: 5000,
    });
    expect(byOp.structuredContent.records.length).toBeGreaterThan(0);
    for (const words of ['last 30 days', 'Past 30 days']) {
      const r = await h.call('query_entities', {
        entity: 'lead',
        select: ['createdon'],
        where: { createdon: words },
        top: 5000,
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(ids(r)).toEqual(ids(byOp));
    }
    const text = await h.call('query_entities', { entity: 'account', where: { name: 'today' } });
    expect(text.isError).toBeFalsy();
    expect(text.structuredContent.records).toEqual([]);
  });

  // LastXMonths does not document where it starts: a span of months is sent as its first and last day
  it('"last 6 months" is from the same day six months back to today, sent as those days; weeks as days', async () => {
    const span = monthsInWords('last 6 months')!;
    const words = await h.call('query_entities', {
      entity: 'lead',
      select: ['createdon'],
      where: { createdon: 'last 6 months' },
      top: 5000,
    });
    expect(words.isError, textOf(words)).toBeFalsy();
    const expected = emu
      .rows('lead')
      .filter((l) => String(l.createdon).slice(0, 10) >= span.from && String(l.createdon).slice(0, 10) <= span.to)
      .map((l) => String(l.leadid))
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(ids(words)).toEqual(expected);
    const twoWeeks = await h.call('query_entities', {
      entity: 'lead',
      select: ['createdon'],
      where: { createdon: 'last 2 weeks' },
      top: 5000,
    });
    const days = await h.call('query_entities', {
      entity: 'lead',
      select: ['createdon'],
      where: { column: 'createdon', op: 'lastXDays', value: 14 },
      top: 5000,
    });
    expect(ids(twoWeeks)).toEqual(ids(days));
  });

  it('"YTD", "MTD", "QTD" (fiscal, as "this quarter" is) are the period\'s first day to today; in a condition and in pipeline_summary', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const leads = (from: string) =>
      emu
        .rows('lead')
        .filter((l) => String(l.createdon).slice(0, 10) >= from && String(l.createdon).slice(0, 10) <= today)
        .map((l) => String(l.leadid))
        .sort();
    const find = async (createdon: string) =>
      ids(await h.call('query_entities', { entity: 'lead', select: ['createdon'], where: { createdon }, top: 5000 }));
    const ytd = leads(`${today.slice(0, 4)}-01-01`);
    expect(ytd.length).toBeGreaterThan(0);
    expect(await find('YTD')).toEqual(ytd);
    expect(await find('year to date')).toEqual(ytd);
    expect(await find('MTD')).toEqual(leads(`${today.slice(0, 7)}-01`));
    // the demo organisation's fiscal year starts in January: this quarter is a calendar one
    const quarterStart = `${today.slice(0, 4)}-${String(Math.floor((Number(today.slice(5, 7)) - 1) / 3) * 3 + 1).padStart(2, '0')}-01`;
    expect(await find('QTD')).toEqual(leads(quarterStart));
    const pipeline = await h.call('pipeline_summary', { quarter: 'quarter to date' });
    expect(textOf(pipeline)).toContain(` to date (${quarterStart} to ${today}):`);
  });

  it('a month or a year by name ("2026-11", "November 2026", "2026") is its first to last day; compared, its first or last', async () => {
    const leads = emu.rows('lead');
    // the month and the year most leads were made in
    const most = (key: (d: string) => string) => {
      const n = new Map<string, number>();
      for (const l of leads) n.set(key(String(l.createdon)), (n.get(key(String(l.createdon))) ?? 0) + 1);
      return [...n].sort((a, b) => b[1] - a[1])[0]![0];
    };
    const month = most((d) => d.slice(0, 7));
    const year = most((d) => d.slice(0, 4));
    const inMonth = leads
      .filter((l) => String(l.createdon).startsWith(month))
      .map((l) => String(l.leadid))
      .sort();
    const inYear = leads
      .filter((l) => String(l.createdon).startsWith(year))
      .map((l) => String(l.leadid))
      .sort();
    const named = new Date(`${month}-01T00:00:00Z`).toLocaleString('en-US', { month: 'long', timeZone: 'UTC' });
    const ask = (where: unknown) =>
      h.call('query_entities', { entity: 'lead', select: ['createdon'], where, top: 5000 });
    for (const said of [
      month,
      `${named} ${month.slice(0, 4)}`,
      `${named.slice(0, 3).toLowerCase()} ${month.slice(0, 4)}`,
    ]) {
      const r = await ask({ createdon: said });
      expect(r.isError, `${said}: ${textOf(r)}`).toBeFalsy();
      expect(ids(r), said).toEqual(inMonth);
    }
    expect(ids(await ask({ createdon: year }))).toEqual(inYear);
    // compared: before the month is before its first day
    const before = leads
      .filter((l) => String(l.createdon).slice(0, 7) < month)
      .map((l) => String(l.leadid))
      .sort();
    expect(ids(await ask({ createdon: { lt: month } }))).toEqual(before);
    // a month without its year is a guess, and is refused as not a date
    const bare = await ask({ createdon: named });
    expect(textOf(bare)).toMatch(new RegExp(`lead\\.createdon is a date; '${named}' is not an ISO date`));
  });

  // Dataverse's query functions NextMonth, LastWeek, Yesterday… (FILTER in shared/reference): the periods
  // people ask for most ("closing next month", "created last week") as operators and in words
  /** Runs `fn` with open deals closing on `dates` (one each, whatever the generated ones do), then puts theirs back. */
  const withCloseDates = async (dates: string[], fn: (deals: Record<string, unknown>[]) => Promise<void>) => {
    // open ones: a won or lost deal is read-only
    const deals = emu
      .rows('opportunity')
      .filter((o) => o.statecode === 0)
      .slice(0, dates.length);
    const closeOn = async (deal: Record<string, unknown>, day: unknown) => {
      const set = await h.call('update_record', {
        entity: 'opportunity',
        id: String(deal.opportunityid),
        values: { estimatedclosedate: day },
      });
      expect(set.isError, textOf(set)).toBeFalsy();
    };
    for (const [i, day] of dates.entries()) await closeOn(deals[i]!, day);
    try {
      await fn(deals);
    } finally {
      for (const d of deals) await closeOn(d, d.estimatedclosedate);
    }
  };

  it('next month, last week and yesterday are the periods Dynamics means by them, as operators and in words', async () => {
    const DAY = 86_400_000;
    const now = new Date();
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    // weeks start on Sunday, the organisation's default
    const thisWeek = today - now.getUTCDay() * DAY;
    const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    const periods = [
      {
        op: 'nextMonth',
        words: 'next month',
        range: [nextMonth, Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1)],
      },
      { op: 'lastWeek', words: 'Last week', range: [thisWeek - 7 * DAY, thisWeek] },
      { op: 'yesterday', words: 'yesterday', range: [today - DAY, today] },
    ];
    // one deal closing in each period, whatever the day the generated ones fall on
    const dates = periods.map((p) => new Date(p.range[0]! + DAY / 2).toISOString().slice(0, 10));
    await withCloseDates(dates, async (deals) => {
      for (const [i, { op, words, range }] of periods.entries()) {
        const expected = emu
          .rows('opportunity')
          .filter((row) => {
            const t = Date.parse(`${row.estimatedclosedate}T00:00:00Z`);
            return t >= range[0]! && t < range[1]!;
          })
          .map((row) => String(row.opportunityid))
          .sort();
        expect(expected).toContain(String(deals[i]!.opportunityid));
        for (const where of [{ column: 'estimatedclosedate', op }, { estimatedclosedate: words }]) {
          const r = await h.call('query_entities', { entity: 'opportunity', select: ['name'], where, top: 5000 });
          expect(r.isError, textOf(r)).toBeFalsy();
          expect(ids(r), JSON.stringify(where)).toEqual(expected);
        }
      }
    });
  });

  it('a period compared with before, after, between or not is its first or last day ("closing before next month")', async () => {
    const now = new Date();
    const day = (y: number, m: number, d: number) => new Date(Date.UTC(y, m, d)).toISOString().slice(0, 10);
    const [y, m] = [now.getUTCFullYear(), now.getUTCMonth()];
    const thisMonth = [day(y, m, 1), day(y, m + 1, 0)] as const;
    const nextMonth = [day(y, m + 1, 1), day(y, m + 2, 0)] as const;
    // deals closing last month, this month (first and last day) and next month, whatever the generated ones do
    const dates = [day(y, m - 1, 15), thisMonth[0], thisMonth[1], nextMonth[0], day(y, m + 3, 1)];
    await withCloseDates(dates, async () => {
      const closing = (holds: (d: string) => boolean) =>
        emu
          .rows('opportunity')
          .filter((o) => typeof o.estimatedclosedate === 'string' && holds(o.estimatedclosedate))
          .map((o) => String(o.opportunityid))
          .sort();
      const cases: [unknown, (d: string) => boolean][] = [
        [{ lt: 'this month' }, (d) => d < thisMonth[0]],
        [{ gt: 'this month' }, (d) => d > thisMonth[1]],
        [{ ge: 'next month' }, (d) => d >= nextMonth[0]],
        [{ le: 'this month' }, (d) => d <= thisMonth[1]],
        [{ between: ['this month', 'next month'] }, (d) => d >= thisMonth[0] && d <= nextMonth[1]],
        [{ between: [thisMonth[0], 'next month'] }, (d) => d >= thisMonth[0] && d <= nextMonth[1]],
        [{ in: ['this month', 'next month'] }, (d) => d >= thisMonth[0] && d <= nextMonth[1]],
        [{ between: 'this month' }, (d) => d >= thisMonth[0] && d <= thisMonth[1]],
        // a list of one period, as a model writes between's list with the period inside it
        [{ between: ['this month'] }, (d) => d >= thisMonth[0] && d <= thisMonth[1]],
        [{ notBetween: ['this month'] }, (d) => d < thisMonth[0] || d > thisMonth[1]],
        [{ ne: 'this month' }, (d) => d < thisMonth[0] || d > thisMonth[1]],
        // the direction said in the value, as people write it (was "not an ISO date")
        ['before this month', (d) => d < thisMonth[0]],
        ['after this month', (d) => d > thisMonth[1]],
        ['since next month', (d) => d >= nextMonth[0]],
        ['until this month', (d) => d <= thisMonth[1]],
        ['from this month to next month', (d) => d >= thisMonth[0] && d <= nextMonth[1]],
        [`between ${thisMonth[0]} and ${nextMonth[1]}`, (d) => d >= thisMonth[0] && d <= nextMonth[1]],
        // a month without its year after since: the last one (this one, while it lasts)
        [`since ${now.toLocaleString('en', { month: 'long', timeZone: 'UTC' })}`, (d) => d >= thisMonth[0]],
      ];
      for (const [condition, holds] of cases) {
        const expected = closing(holds);
        expect(expected.length, JSON.stringify(condition)).toBeGreaterThan(0);
        const r = await h.call('query_entities', {
          entity: 'opportunity',
          select: ['name'],
          where: { estimatedclosedate: condition },
          top: 5000,
        });
        expect(r.isError, textOf(r)).toBeFalsy();
        expect(ids(r), JSON.stringify(condition)).toEqual(expected);
      }
      // "not closing this month": Dataverse takes no not around ThisMonth, so it is the days outside the month
      const outside = await h.call('query_entities', {
        entity: 'opportunity',
        select: ['name'],
        where: { not: { estimatedclosedate: 'this month' } },
        top: 5000,
      });
      expect(outside.isError, textOf(outside)).toBeFalsy();
      expect(ids(outside)).toEqual(closing((d) => d < thisMonth[0] || d > thisMonth[1]));
    });
  });

  it('between two days on a date-and-time column includes the whole last day, as le does', async () => {
    const due = ['2031-02-01T08:00:00Z', '2031-02-10T21:30:00Z', '2031-02-11T08:00:00Z'];
    const made: string[] = [];
    for (const [i, scheduledend] of due.entries()) {
      const r = await h.call('create_record', {
        entity: 'task',
        values: { subject: `Whole-day check ${i}`, scheduledend },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      made.push(r.structuredContent.id);
    }
    const find = async (scheduledend: unknown) => {
      const r = await h.call('query_entities', {
        entity: 'task',
        select: ['subject'],
        where: { subject: { startswith: 'Whole-day check' }, scheduledend },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      return ids(r);
    };
    expect(await find({ between: ['2031-02-01', '2031-02-10'] })).toEqual([made[0], made[1]].sort());
    expect(await find({ notBetween: ['2031-02-01', '2031-02-09'] })).toEqual([made[1], made[2]].sort());
    expect(await find({ le: '2031-02-10' })).toEqual([made[0], made[1]].sort());
    // the range written as text, as SQL and people say it
    expect(await find({ between: '2031-02-01 to 2031-02-10' })).toEqual([made[0], made[1]].sort());
    expect(await find({ between: '2031-02-01 and 2031-02-10' })).toEqual([made[0], made[1]].sort());
  });

  it('a numeric range written as text ("1000000 and 5000000") is that range; other text is not a range', async () => {
    const revenues = emu
      .rows('account')
      .map((a) => a.revenue)
      .filter((v): v is number => typeof v === 'number')
      .sort((a, b) => a - b);
    const [lo, hi] = [revenues[1]!, revenues[4]!];
    const inRange = emu
      .rows('account')
      .filter((a) => typeof a.revenue === 'number' && a.revenue >= lo && a.revenue <= hi)
      .map((a) => String(a.accountid))
      .sort();
    expect(inRange.length).toBeGreaterThan(1);
    const r = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { revenue: { between: `${lo} and ${hi}` } },
      top: 5000,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(ids(r)).toEqual(inRange);
    const text = await h.call('query_entities', { entity: 'account', where: { name: { between: 'A and C' } } });
    expect(textOf(text)).toBe(
      'Error (bad_input): "between" on name needs a list of 2 values.\nHow to fix: e.g. {"column": "name", "op": "between", "value": ["A", "C"]}.',
    );
  });

  it("a deal's emails are read (who wrote to whom, when, about what) but not their bodies, nor changed once sent", async () => {
    const mails = emu.rows('email');
    const deal = String((mails.find((m) => m.regardingobjectid)!.regardingobjectid as { id: string }).id);
    const filed = mails
      .filter((m) => (m.regardingobjectid as { id: string }).id === deal)
      .sort((a, b) => String(b.senton).localeCompare(String(a.senton)));
    const r = await h.call('query_entities', {
      entity: 'emails',
      where: { regardingobjectid: deal },
      select: ['subject', 'directioncode', 'sender', 'torecipients', 'senton', 'statuscode'],
      orderBy: 'senton desc',
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.records).toEqual(
      filed.map((m) => ({
        id: m.activityid,
        subject: m.subject,
        // Direction's values have names (Incoming / Outgoing), so they read as a choice does
        directioncode: m.directioncode ? 'Outgoing (true)' : 'Incoming (false)',
        sender: m.sender,
        torecipients: m.torecipients,
        senton: m.senton,
        statuscode: m.statuscode === 4 ? 'Received (4)' : 'Sent (3)',
      })),
    );
    // a value as read is a value to filter by
    const sameWay = await h.call('query_entities', {
      entity: 'email',
      where: { regardingobjectid: deal, directioncode: r.structuredContent.records[0].directioncode },
      select: ['subject'],
    });
    expect(sameWay.isError, textOf(sameWay)).toBeFalsy();
    expect(sameWay.structuredContent.records.map((m: { id: string }) => m.id).sort()).toEqual(
      filed
        .filter((m) => m.directioncode === filed[0]!.directioncode)
        .map((m) => m.activityid)
        .sort(),
    );
    const crossed = await h.call('query_entities', {
      entity: 'email',
      where: { directioncode: 'Incoming (true)' },
    });
    expect(textOf(crossed)).toContain("'Incoming (true)' names two values of email.directioncode: true is Outgoing.");
    // who wrote to whom, as Dynamics records it: the email's From and To (email_activity_parties), and a
    // meeting's organizer and attendees (appointment_activity_parties)
    const partiesOf = (activityId: string) =>
      emu
        .rows('activityparty')
        .filter((p) => (p.activityid as { id: string }).id === activityId)
        .map((p) => `${p.participationtypemask} ${p.partyidname}`)
        .sort();
    const first = filed[0]!;
    const who = await h.call('get_record', {
      entity: 'email',
      id: String(first.activityid),
      select: ['subject'],
      expand: ['email_activity_parties'],
    });
    expect(who.isError, textOf(who)).toBeFalsy();
    const named = (who.structuredContent.record.email_activity_parties as Record<string, any>[])
      .map((p) => `${/\((\d+)\)$/.exec(p.participationtypemask)![1]} ${p.partyid.name}`)
      .sort();
    expect(named).toEqual(partiesOf(String(first.activityid)));
    expect(named.map((n) => n.slice(0, 1))).toEqual(['1', '2']);
    // and the address each was written at (where no record has the address, that is all there is)
    expect(
      (who.structuredContent.record.email_activity_parties as Record<string, any>[]).map((p) => p.addressused).sort(),
    ).toEqual([first.sender, first.torecipients].sort());
    const meeting = emu.rows('appointment').find((a) => partiesOf(String(a.activityid)).length)!;
    const attendees = await h.call('get_record', {
      entity: 'appointment',
      id: String(meeting.activityid),
      select: ['subject'],
      expand: ['appointment_activity_parties'],
    });
    expect(
      (attendees.structuredContent.record.appointment_activity_parties as Record<string, any>[])
        .map((p) => p.participationtypemask)
        .sort(),
    ).toEqual(['Organizer (7)', 'Required attendee (5)']);
    // the deal lists them too
    const withMail = await h.call('get_record', {
      entity: 'opportunity',
      id: deal,
      select: ['name'],
      expand: [{ relation: 'Opportunity_Emails', select: ['subject'] }],
    });
    expect(withMail.structuredContent.record.Opportunity_Emails).toHaveLength(filed.length);
    // bodies are not read by the built-in policy: refused before anything is sent
    const since = emu.requests().length;
    const body = await h.call('query_entities', { entity: 'email', select: ['subject', 'description'] });
    expect(textOf(body)).toMatch(/^Error \(policy\): .*'description'/);
    expect(emu.requests().slice(since)).toEqual([]);
    // an email sent or received stays as it went ("Completed and canceled email is read-only"): Dynamics
    // refuses the change, said with what to do instead (a new draft; create_record's drafts: knowledge.test.ts)
    const edit = await h.call('update_record', {
      entity: 'email',
      id: String(filed[0]!.activityid),
      values: { subject: 'x' },
    });
    expect(edit.isError).toBe(true);
    expect(textOf(edit)).toContain(
      'This email is Completed: Dynamics keeps an email that was sent or received as it is',
    );
    expect(textOf(edit)).toContain('draft a new email with create_record on email');
    expect(emu.rows('email').find((m) => m.activityid === filed[0]!.activityid)!.subject).toBe(filed[0]!.subject);
  });

  it("SQL's LIKE with wildcards at the ends is the operator it means, elsewhere answered with those; one that means one of ours (!=, gte) is read as it; a lookup path in select with the lookup", async () => {
    const names = async (where: unknown) => {
      const r = await h.call('query_entities', { entity: 'account', select: ['name'], where, top: 5000 });
      expect(r.isError, textOf(r)).toBeFalsy();
      return r.structuredContent.records.map((x: { name: string }) => x.name).sort();
    };
    const trey = await names({ name: { contains: 'Trey' } });
    expect(trey.length).toBeGreaterThan(0);
    expect(await names({ column: 'name', op: 'like', value: '%Trey%' })).toEqual(trey);
    expect(await names({ name: { LIKE: 'Trey%' } })).toEqual(await names({ name: { startswith: 'Trey' } }));
    expect(await names({ name: { ilike: '%ltd' } })).toEqual(await names({ name: { endswith: 'Ltd' } }));
    // a wildcard inside, or LIKE's _, says no one operator: refused with the ones there are
    const like = await h.call('query_entities', {
      entity: 'account',
      where: { column: 'name', op: 'like', value: 'Trey%Research' },
    });
    expect(textOf(like)).toBe(
      `Error (bad_input): where: 'Trey%Research' (like) has a wildcard inside it: contains, startswith and endswith match their text as written, and no one of them takes a wildcard between two pieces of text. Each piece as its own condition, all of them to hold, finds those records and any with the pieces elsewhere: {"and": [{"column": "name", "op": "contains", "value": "Trey"}, {"column": "name", "op": "contains", "value": "Research"}]}.\nHow to fix: Call query_entities again with that argument corrected; its input schema (tools/list) says what each one takes.`,
    );
    // MongoDB's $regex and Postgres' ilike in the object shape: operators, not a lookup path name/regex
    const beforeOps = emu.requests().length;
    const regex = await h.call('query_entities', { entity: 'account', where: { name: { $regex: '^Con' } } });
    expect(textOf(regex)).toMatch(
      /^Error \(bad_input\): where\.op: op 'regex' does not exist\. Use contains, startswith or endswith: Dataverse has no regular expressions\./,
    );
    const ilike = await h.call('query_entities', { entity: 'account', where: { name: { ilike: 'ph_rma' } } });
    expect(textOf(ilike)).toMatch(
      /^Error \(bad_input\): where: 'ph_rma' \(ilike\) has a wildcard inside it: .* \{"and": \[\{"column": "name", "op": "contains", "value": "ph"\}, \{"column": "name", "op": "contains", "value": "rma"\}\]\}\./,
    );
    const elem = await h.call('query_entities', { entity: 'account', where: { name: { $elemMatch: 'x' } } });
    expect(textOf(elem)).toMatch(/op 'elemMatch' does not exist\. Operators: eq, ne,/);
    expect(
      emu
        .requests()
        .slice(beforeOps)
        .filter((q) => q.url.startsWith('/api/data/v9.2/accounts')),
    ).toEqual([]);
    const nested = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: {
        and: [
          { column: 'name', op: '!=', value: 'x' },
          { column: 'statecode', op: 'eq', value: 0 },
        ],
      },
      top: 5000,
    });
    const ne = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: {
        and: [
          { column: 'name', op: 'ne', value: 'x' },
          { column: 'statecode', op: 'eq', value: 0 },
        ],
      },
      top: 5000,
    });
    expect(nested.isError, textOf(nested)).toBeFalsy();
    expect(ids(nested)).toEqual(ids(ne));
    // Prisma's words, which the column shorthand reads, are read in the documented form too
    const gte = await h.call('query_entities', {
      entity: 'account',
      select: ['revenue'],
      where: { column: 'revenue', op: 'gte', value: 1 },
      top: 5000,
    });
    expect(gte.structuredContent.records.length).toBe(emu.rows('account').filter((a) => Number(a.revenue) >= 1).length);
    // FetchXML's operator names, hyphens and all ("Filter rows using FetchXml"): the ones they mean here
    const since = { column: 'createdon', op: 'onOrAfter', value: '2026-06-01' };
    const fetchXml = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { createdon: { 'on-or-after': '2026-06-01' }, name: { 'not-null': true } },
      top: 5000,
    });
    const ours = await h.call('query_entities', { entity: 'account', select: ['name'], where: since, top: 5000 });
    expect(fetchXml.isError, textOf(fetchXml)).toBeFalsy();
    expect(ids(fetchXml).length).toBeGreaterThan(0);
    expect(ids(fetchXml)).toEqual(ids(ours));
    const notLike = await h.call('query_entities', {
      entity: 'account',
      where: { column: 'name', op: 'not-like', value: '%Trey%' },
    });
    expect(textOf(notLike)).toMatch(/op 'not-like' does not exist\. Use notContains, with the text alone/);
    for (const op of ['near', 'constructor']) {
      const unknown = await h.call('query_entities', { entity: 'account', where: { column: 'name', op } });
      expect(textOf(unknown)).toMatch(new RegExp(`op '${op}' does not exist\\. Operators: eq, ne, gt`));
    }
    // a related record's name as a path is the lookup itself, which comes back with the name
    const path = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname', 'parentcustomerid/name'],
      top: 3,
    });
    expect(path.isError, textOf(path)).toBeFalsy();
    for (const r of path.structuredContent.records) {
      const row = emu.rows('contact').find((c) => c.contactid === r.id)!;
      expect(Object.keys(r).sort()).toEqual(['fullname', 'id', 'parentcustomerid']);
      expect(r.parentcustomerid).toMatchObject({ id: (row.parentcustomerid as { id: string }).id });
    }
    // another column through a lookup that points at two tables is that column of each table's record, as the
    // paths that name the table (the lookup's own navigation properties) read it; a column neither table has is
    // refused, naming the tables
    const typed = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname', 'parentcustomerid_account/telephone1', 'parentcustomerid_contact/telephone1'],
      where: { parentcustomerid: { notNull: true } },
      top: 3,
    });
    expect(typed.isError, textOf(typed)).toBeFalsy();
    const other = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname', 'parentcustomerid/telephone1'],
      where: { parentcustomerid: { notNull: true } },
      top: 3,
    });
    expect(other.isError, textOf(other)).toBeFalsy();
    expect(other.structuredContent.records).toEqual(typed.structuredContent.records);
    const neither = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname', 'parentcustomerid/telephone9'],
    });
    expect(textOf(neither)).toBe(
      "Error (unknown_column): 'parentcustomerid/telephone9': 'telephone9' is a column of none of the tables parentcustomerid may point at (account, contact).\nHow to fix: describe_entity on 'account' or 'contact' lists their columns.",
    );
    for (const r of typed.structuredContent.records) {
      const company = (emu.rows('contact').find((c) => c.contactid === r.id)!.parentcustomerid as { id: string }).id;
      const account = emu.rows('account').find((a) => a.accountid === company)!;
      expect(r.parentcustomerid_account).toMatchObject({ id: company, telephone1: account.telephone1 });
    }
  });

  it("a related record's column selected as a path comes back in an expansion of its lookup, with the record's name", async () => {
    const r = await h.call('query_entities', {
      entity: 'opportunity',
      select: ['name', 'parentaccountid/telephone1', 'parentaccountid/address1_city'],
      where: { parentaccountid: { notNull: true } },
      top: 5,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.records).toHaveLength(5);
    for (const rec of r.structuredContent.records) {
      const opp = emu.rows('opportunity').find((o) => o.opportunityid === rec.id)!;
      const account = emu.rows('account').find((a) => a.accountid === (opp.parentaccountid as { id: string }).id)!;
      expect(rec.parentaccountid).toMatchObject({
        name: account.name,
        telephone1: account.telephone1,
        address1_city: account.address1_city,
      });
    }
  });

  // FILTER: OData's comparisons are words, its keywords lower case, its text in single quotes. SQL's and C's,
  // which can mean nothing else in a filter, were each refused in turn ("name LIKE '%x%' AND statecode = 0" took
  // three calls to get right): each is the OData it means, and the filter sent is that OData
  it.each([
    ['revenue > 1000000', 'revenue gt 1000000'],
    ["name = 'Litware Retail BV'", "name eq 'Litware Retail BV'"],
    ["name == 'Litware Retail BV' || revenue >= 40000000", "name eq 'Litware Retail BV' or revenue ge 40000000"],
    ["name <> 'x' && revenue < 5000000", "name ne 'x' and revenue lt 5000000"],
    [
      "name != 'x' AND NOT (revenue <= 5000000) OR statecode = 1",
      "(name ne 'x' and not (revenue le 5000000)) or statecode eq 1",
    ],
    ["name LIKE '%energy%' AND statecode = 0", "contains(name,'energy') and statecode eq 0"],
    ['telephone1 IS NULL', 'telephone1 eq null'],
    ["telephone1 is not null and !contains(name,'a')", "telephone1 ne null and not contains(name,'a')"],
    ['address1_city IN ("Seattle", "Oslo")', "address1_city eq 'Seattle' or address1_city eq 'Oslo'"],
    ['name eq "O\'Brien"', "name eq 'O''Brien'"],
    ['WHERE revenue BETWEEN 1000000 AND 20000000', 'revenue ge 1000000 and revenue le 20000000'],
    ["$filter=address1_city NOT IN ('Seattle', 'Oslo')", "not (address1_city eq 'Seattle' or address1_city eq 'Oslo')"],
  ])('filter text in SQL or C (%s) is the OData it means', async (filter, odata) => {
    const since = emu.requests().length;
    const r = await h.call('query_entities', { entity: 'account', filter, select: ['name'], top: 5000 });
    expect(r.isError, textOf(r)).toBeFalsy();
    const [sent] = accountQueriesSince(since);
    expect(new URL(sent!.url, 'https://x').searchParams.get('$filter')).toBe(odata);
    const same = await h.call('query_entities', { entity: 'account', filter: odata, select: ['name'], top: 5000 });
    expect(r.structuredContent.records).toEqual(same.structuredContent.records);
  });

  it.each([
    // IS compares with null alone
    ["name IS 'Contoso'", "'is' compares with null alone (for a value, eq: name eq 'Contoso'): 'null' expected"],
    // SQL's like with a wildcard inside says no one text function (at the ends it is read as the one it means)
    ["name like 'Con%so'", "'like' has no place in OData: use contains(name,'text')"],
    // OData 4.01's has and arithmetic are not among the operators Dataverse lists (Filter rows using OData)
    [
      'revenue add 5 gt 10',
      'arithmetic is not taken by Dataverse: compare the column with a value worked out beforehand',
    ],
    [
      'industrycode has 2',
      "'has' is not taken by Dataverse: compare a choice with eq (industrycode eq 2, or its label)",
    ],
    // OData's other functions: Dataverse takes contains, startswith and endswith, and its own query functions
    ['modifiedon lt now()', `'now()' is not taken by Dataverse: write the moment (it is now 20`],
    // SQL's day functions: the day, and the condition that says it
    ['modifiedon lt today()', `'today()' is not taken by Dataverse: write the day (today is 20`],
    ['createdon ge GETDATE()', `'getdate()' is not taken by Dataverse: write the day (today is 20`],
    [
      'year(createdon) eq 2026',
      `'year()' is not taken by Dataverse: compare the date with a range (createdon ge 2026-01-01 and createdon lt 2027-01-01), use its query functions (Microsoft.Dynamics.CRM.InFiscalYear, …), or the where condition {"column": "createdon", "op": "eq", "value": "2026"}`,
    ],
    ["tolower(name) eq 'contoso'", "'tolower()' is not needed: Dataverse compares text without regard to case"],
    // amounts as people write them: 1M would be OData's decimal 1, every account with revenue
    ['revenue gt 1M', "for '1M' write the number in full, 1000000"],
    ['revenue gt 2.5bn', "for '2.5bn' write the number in full, 2500000000"],
    ['revenue gt 5k', "for '5k' write the number in full, 5000"],
    ['revenue gt 2 million', "for '2 million' write the number in full, 2000000"],
    ['revenue gt $3M', "for '$3M' write the number in full, 3000000"],
    ['revenue gt $1,000,000', 'a currency symbol has no place in OData: write the amount alone, 1000000'],
    ['revenue gt 1,000,000', "',' does not group digits in OData: write 1000000"],
    ['numberofemployees gt 5d', 'write the number alone, 5'],
    [
      'length(name) gt 10',
      "'length()' is not taken by Dataverse: its text functions are contains, startswith and endswith",
    ],
    // a period in words, unquoted: in quotes it is read as the where condition reads it (text-compared.ts)
    [
      'createdon last 7 days',
      `a period in words is text in quotes: createdon eq 'last 7 days', or the where condition {"createdon": "last 7 days"}`,
    ],
    [
      'statecode eq 0 and createdon ge last 30 days',
      `createdon ge 'last 30 days', or the where condition {"createdon": {"ge": "last 30 days"}}`,
    ],
    ['createdon in this quarter', "createdon eq 'this quarter'"],
  ])('filter text from SQL habits (%s) is answered with the OData for it', async (filter, habit) => {
    const since = emu.requests().length;
    const r = await h.call('query_entities', { entity: 'account', filter });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^Error \(query_syntax\): The filter is not valid: Syntax error: .* at position \d+/);
    expect(textOf(r)).toContain(habit);
    expect(accountQueriesSince(since)).toEqual([]);
  });

  it("a quote inside text (O'Brien) is answered with the literal it meant, its quote doubled", async () => {
    const since = emu.requests().length;
    const r = await h.call('query_entities', { entity: 'account', filter: "name eq 'O'Brien Ltd'" });
    expect(textOf(r)).toBe(
      "Error (query_syntax): The filter is not valid: There is an unterminated literal at position 20 in 'name eq 'O'Brien Ltd''.\nHow to fix: a quote inside text is doubled in OData: O''Brien. Fix the text at the position named, or use the structured \"where\" conditions instead.",
    );
    expect(accountQueriesSince(since)).toEqual([]);
  });

  it('a name written with wildcards ("Contoso*") is the part of a name they mean, on a column and through a lookup', async () => {
    const ids = (r: Awaited<ReturnType<typeof h.call>>) => {
      expect(r.isError, textOf(r)).toBeFalsy();
      return r.structuredContent.records.map((x: { id: string }) => x.id).sort();
    };
    // the first word of the name of an account with deals, as a user remembers it
    const withDeals = emu.rows('opportunity').find((o) => (o.parentaccountid as { id?: string })?.id)!;
    const named = emu.rows('account').find((a) => a.accountid === (withDeals.parentaccountid as { id: string }).id)!;
    const word = String(named.name).split(' ')[0]!;
    const accounts = emu.rows('account').filter((a) => String(a.name).toLowerCase().startsWith(word.toLowerCase()));
    expect(ids(await h.call('query_entities', { entity: 'account', where: { name: `${word}*` }, top: 5000 }))).toEqual(
      accounts.map((a) => String(a.accountid)).sort(),
    );
    const mine = new Set(accounts.map((a) => a.accountid));
    const deals = emu
      .rows('opportunity')
      .filter((o) => mine.has((o.parentaccountid as { id?: string })?.id))
      .map((o) => String(o.opportunityid))
      .sort();
    expect(deals.length).toBeGreaterThan(0);
    expect(
      ids(await h.call('query_entities', { entity: 'opportunity', where: { parentaccountid: `${word}*` }, top: 5000 })),
    ).toEqual(deals);
    // in filter text too: Dataverse compares a * in startswith as itself, which would find none
    expect(
      ids(await h.call('query_entities', { entity: 'account', filter: `startswith(name,'${word}*')`, top: 5000 })),
    ).toEqual(accounts.map((a) => String(a.accountid)).sort());
  });

  it("filter text's OData 4.01 in and SQL's like (Dataverse lists neither) are what they mean, on a column or through a lookup", async () => {
    const names = emu
      .rows('account')
      .slice(0, 3)
      .map((a) => String(a.name));
    const quoted = names.map((n) => `'${n.replace(/'/g, "''")}'`).join(', ');
    const ids = (r: Awaited<ReturnType<typeof h.call>>) => {
      expect(r.isError, textOf(r)).toBeFalsy();
      return r.structuredContent.records.map((x: { id: string }) => x.id).sort();
    };
    const byText = ids(await h.call('query_entities', { entity: 'account', filter: `name in (${quoted})`, top: 5000 }));
    expect(byText).toEqual(
      ids(await h.call('query_entities', { entity: 'account', where: { name: { in: names } }, top: 5000 })),
    );
    expect(byText).toHaveLength(3);
    // an opportunity of any of those accounts, through its lookup, beside another condition
    const deals = ids(
      await h.call('query_entities', {
        entity: 'opportunity',
        filter: `parentaccountid/name in (${quoted}) and statecode eq 0`,
        top: 5000,
      }),
    );
    const accountIds = new Set(
      emu
        .rows('account')
        .slice(0, 3)
        .map((a) => a.accountid),
    );
    expect(deals.length).toBeGreaterThan(0);
    expect(deals).toEqual(
      emu
        .rows('opportunity')
        .filter((o) => o.statecode === 0 && accountIds.has((o.parentaccountid as { id?: string })?.id))
        .map((o) => String(o.opportunityid))
        .sort(),
    );
    // what is sent is Dataverse's own: comparisons, no in
    const sent = emu.requests().slice(-1)[0]!;
    expect(decodeURIComponent(sent.url)).not.toMatch(/ in \(/);
    // SQL's like in filter text, its wildcards at the ends: the text function it means
    const like = ids(
      await h.call('query_entities', {
        entity: 'account',
        filter: `name LIKE '%${names[0]!.slice(2, 8)}%'`,
        top: 5000,
      }),
    );
    expect(like).toEqual(
      ids(
        await h.call('query_entities', {
          entity: 'account',
          where: { name: { contains: names[0]!.slice(2, 8) } },
          top: 5000,
        }),
      ),
    );
    expect(like.length).toBeGreaterThan(0);
  });

  it('"now" is this moment: overdue tasks are those due before it, in a condition as in the moment now() points at', async () => {
    const before = new Date().toISOString();
    const r = await h.call('query_entities', {
      entity: 'task',
      select: ['scheduledend'],
      where: { scheduledend: { lt: 'now' }, statecode: 'Open' },
      top: 5000,
    });
    const after = new Date().toISOString();
    expect(r.isError, textOf(r)).toBeFalsy();
    const due = (t: Record<string, unknown>, by: string) =>
      t.statecode === 0 && typeof t.scheduledend === 'string' && t.scheduledend < by;
    const ids = r.structuredContent.records.map((t: { id: string }) => t.id).sort();
    // the moment lies between the two read around the call
    expect(ids.length).toBeGreaterThanOrEqual(emu.rows('task').filter((t) => due(t, before)).length);
    expect(ids.length).toBeLessThanOrEqual(emu.rows('task').filter((t) => due(t, after)).length);
    expect(ids.length).toBeGreaterThan(0);
    const sent = decodeURIComponent(
      apiRequests(emu)
        .filter((q) => q.url.includes('/tasks?'))
        .at(-1)!.url,
    );
    expect(sent).toMatch(/scheduledend lt 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    const hint = await h.call('query_entities', { entity: 'task', filter: 'scheduledend lt now() and statecode eq 0' });
    expect(textOf(hint)).toMatch(
      /'now\(\)' is not taken by Dataverse: write the moment \(it is now (\S+)\), scheduledend lt \1, or the where condition \{"column": "scheduledend", "op": "lt", "value": "now"\}/,
    );
  });

  it('"overdue" as a due date\'s value is before now (before today for a column that holds a day)', async () => {
    const now = new Date().toISOString();
    const tasks = await h.call('query_entities', {
      entity: 'task',
      where: { scheduledend: 'overdue', statecode: 'Open' },
      select: ['scheduledend'],
      top: 5000,
    });
    expect(tasks.isError, textOf(tasks)).toBeFalsy();
    const due = emu.rows('task').filter((t) => t.statecode === 0 && t.scheduledend && String(t.scheduledend) < now);
    expect(ids(tasks).sort()).toEqual(due.map((t) => String(t.activityid)).sort());
    expect(due.length).toBeGreaterThan(0);
    const today = now.slice(0, 10);
    const deals = await h.call('query_entities', {
      entity: 'opportunity',
      where: { estimatedclosedate: 'past due', statecode: 'Open' },
      select: ['estimatedclosedate'],
      top: 5000,
    });
    const late = emu
      .rows('opportunity')
      .filter((o) => o.statecode === 0 && o.estimatedclosedate && String(o.estimatedclosedate) < today);
    expect(ids(deals).sort()).toEqual(late.map((o) => String(o.opportunityid)).sort());
  });

  // Dataverse refuses a text compared with a choice ("A binary operator with incompatible types"): the label
  // in quotes is sent as the choice's number, as where does with labels
  it('a choice compared by order with one of its labels ("above Normal") is refused with its values in number order; a number is compared', async () => {
    const since = emu.requests().length;
    const said =
      '"gt" on prioritycode compares the numbers of its values, not what they mean: High (1), Normal (2), Low (3).\n' +
      'How to fix: List the values meant: {"prioritycode": {"in": ["<label>", …]}}; or compare the number: {"prioritycode": {"gt": 2}}.';
    for (const args of [{ where: { prioritycode: { gt: 'Normal' } } }, { filter: "prioritycode gt 'normal'" }]) {
      const r = await h.call('query_entities', { entity: 'incident', select: ['title'], ...args });
      expect(textOf(r), JSON.stringify(args)).toBe(`Error (bad_input): ${said}`);
    }
    expect(
      emu
        .requests()
        .slice(since)
        .filter((q) => q.url.includes('/incidents')),
    ).toEqual([]);
    // compared by number, or by a label with eq, it is answered
    const low = emu
      .rows('incident')
      .filter((i) => Number(i.prioritycode) > 2)
      .map((i) => String(i.incidentid))
      .sort();
    expect(low.length).toBeGreaterThan(0);
    for (const args of [
      { where: { prioritycode: { gt: 2 } } },
      { where: { prioritycode: 'Low' } },
      { filter: 'prioritycode gt 2' },
    ]) {
      const r = await h.call('query_entities', { entity: 'incident', select: ['title'], top: 5000, ...args });
      expect(ids(r), JSON.stringify(args)).toEqual(low);
    }
  });

  it("a choice compared with its label in filter text (statecode eq 'Active') is sent as its number", async () => {
    const since = emu.requests().length;
    const byLabel = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname'],
      filter: "statecode eq 'active' and parentcustomerid_account/statecode ne 'Inactive'",
      top: 5000,
    });
    expect(byLabel.isError, textOf(byLabel)).toBeFalsy();
    const sent = emu
      .requests()
      .slice(since)
      .map((q) => decodeURIComponent(q.url))
      .find((u) => u.includes('/contacts?'))!;
    expect(sent).toContain('statecode eq 0 and parentcustomerid_account/statecode ne 1');
    const byNumber = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname'],
      filter: 'statecode eq 0 and parentcustomerid_account/statecode ne 1',
      top: 5000,
    });
    expect(ids(byLabel)).toEqual(ids(byNumber));
    expect(byNumber.structuredContent.records.length).toBeGreaterThan(0);
    const unknown = await h.call('query_entities', { entity: 'account', filter: "statecode eq 'Dormant'" });
    expect(textOf(unknown)).toMatch(
      /'Dormant' is not a value of account\.statecode\.\nHow to fix: Use one of: 0 \(Active\), 1 \(Inactive\)\./,
    );
    // a label spelt nearly right is named first; one merely like another value's is not ("Resolved" is no
    // Problem Solved: a case's Resolved is its state, with two reasons)
    const near = await h.call('query_entities', { entity: 'lead', where: { leadsourcecode: 'Website' } });
    expect(textOf(near)).toMatch(
      /^Error \(bad_input\): 'Website' is not a value of lead\.leadsourcecode\.\nHow to fix: Did you mean 8 \(Web\)\? Use one of: 1 \(Advertisement\)/,
    );
    const like = await h.call('query_entities', { entity: 'incident', where: { statuscode: 'Resolved' } });
    expect(textOf(like)).toMatch(/'Resolved' is not a value of incident\.statuscode\.\nHow to fix: Use one of: /);
  });

  // Dynamics names the first state Active on cases and accounts, Open on deals and activities: an "open case"
  // is an Active one, an "active deal" an Open one, a "done" task a Completed one. "Closed" is several states
  // in most tables, so it is answered with them rather than guessed.
  it('a state in the words people use ("open" cases, "done" tasks) is that state; "closed" is answered with the states it covers', async () => {
    const open = await h.call('query_entities', {
      entity: 'incident',
      select: ['title'],
      where: { column: 'statecode', op: 'eq', value: 'open' },
      top: 5000,
    });
    expect(open.isError, textOf(open)).toBeFalsy();
    expect(ids(open).sort()).toEqual(
      emu
        .rows('incident')
        .filter((i) => i.statecode === 0)
        .map((i) => String(i.incidentid))
        .sort(),
    );
    const active = await h.call('query_entities', {
      entity: 'opportunity',
      filter: "statecode eq 'active'",
      top: 5000,
    });
    expect(ids(active).length).toBe(emu.rows('opportunity').filter((o) => o.statecode === 0).length);
    const done = await h.call('query_entities', { entity: 'task', where: { statecode: 'done' }, top: 5000 });
    expect(ids(done).sort()).toEqual(
      emu
        .rows('task')
        .filter((t) => t.statecode === 1)
        .map((t) => String(t.activityid))
        .sort(),
    );
    expect(ids(done).length).toBeGreaterThan(0);
    const sent = emu.requests().length;
    const closedCases = await h.call('query_entities', { entity: 'incident', where: { statecode: 'closed' } });
    expect(textOf(closedCases)).toBe(
      `Error (bad_input): 'closed' is not a value of incident.statecode: a closed incident is Resolved (1) or Canceled (2).\nHow to fix: Name the one meant (to find all of them: {"column": "statecode", "op": "in", "value": ["Resolved","Canceled"]}).`,
    );
    const closedDeals = await h.call('query_entities', { entity: 'opportunity', filter: "statecode eq 'Closed'" });
    expect(textOf(closedDeals)).toContain('a closed opportunity is Won (1) or Lost (2).');
    // a state said with a negation is every other state: answered with the condition, never pointed at the very
    // state it excludes ("unresolved" is near Resolved by spelling)
    const unresolved = await h.call('query_entities', { entity: 'incident', where: { statecode: 'unresolved' } });
    expect(textOf(unresolved)).toBe(
      `Error (bad_input): 'unresolved' is not a value of incident.statecode: it is every state but Resolved, which is Active (0) or Canceled (2).\nHow to fix: Use {"column": "statecode", "op": "ne", "value": "Resolved"}.`,
    );
    const notClosed = await h.call('query_entities', { entity: 'incident', where: { statecode: 'not closed' } });
    expect(textOf(notClosed)).toMatch(/which is Active \(0\)\.\nHow to fix: Pass "Active"\.$/);
    const notDone = await h.call('query_entities', { entity: 'task', filter: "statecode eq 'not done'" });
    expect(textOf(notDone)).toContain('How to fix: Use {"column": "statecode", "op": "ne", "value": "Completed"}.');
    const closedAccounts = await h.call('query_entities', { entity: 'account', where: { statecode: 'closed' } });
    expect(textOf(closedAccounts)).toContain(
      `'closed' is not a value of account.statecode: a closed account is Inactive (1).\nHow to fix: Pass "Inactive".`,
    );
    // refused before any query of the rows (a table's metadata, read in a $batch, may be loaded)
    const queried = emu
      .requests()
      .slice(sent)
      .filter((q) => !q.url.endsWith('/$batch') && !q.url.includes('EntityDefinitions'));
    expect(queried).toEqual([]);
  });

  it.each([
    ['address1_city eq Seattle', "Text goes in single quotes: address1_city eq 'Seattle'."],
    ['address1_city in (Seattle, Paris)', "Text goes in single quotes: address1_city eq 'Seattle'."],
    [
      'statecode eq Enabled',
      'statecode is a choice: compare it with its number or its label in quotes, e.g. statecode eq 0. Its values: 0 (Active), 1 (Inactive).',
    ],
  ])('a value without quotes in filter text (%s) is answered with how to write it', async (filter, fix) => {
    const since = emu.requests().length;
    const r = await h.call('query_entities', { entity: 'account', filter });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      /^Error \(bad_input\): '\w+' is not a column of account; if it is the value for \w+, it needs writing as one\./,
    );
    expect(textOf(r)).toContain(`How to fix: ${fix}`);
    expect(accountQueriesSince(since)).toEqual([]);
  });

  it('a choice label written as a bare word (prioritycode eq High, in (High, Normal)) is that label', async () => {
    const args = { entity: 'incident', select: ['title'], orderBy: 'title', top: 50 };
    const quoted = await h.call('query_entities', {
      ...args,
      filter: "prioritycode in ('High','Normal') and statecode eq 'Active'",
    });
    const bare = await h.call('query_entities', {
      ...args,
      filter: 'prioritycode in (High, normal) and statecode eq Active',
    });
    expect(bare.isError, textOf(bare)).toBeFalsy();
    expect(bare.structuredContent).toEqual(quoted.structuredContent);
    const want = emu
      .rows('incident')
      .filter((c) => [1, 2].includes(c.prioritycode as number) && c.statecode === 0)
      .map((c) => c.title)
      .sort();
    expect(want.length).toBeGreaterThan(0);
    expect((bare.structuredContent.records as { title: string }[]).map((r) => r.title).sort()).toEqual(want);
    // a word naming several states is refused as in quotes: which is meant is not guessed
    const closed = await h.call('query_entities', { entity: 'incident', filter: 'statecode eq Closed' });
    expect(textOf(closed)).toContain('a closed incident is Resolved (1) or Canceled (2)');
  });

  it("a date column compared with text in filter text ('2026-01-01', 'this quarter', 'today') is read as the where condition", async () => {
    // Dataverse refuses a date compared with text ("incompatible types"), so each reading only answers what failed
    const opp = { entity: 'opportunity', select: ['name'], orderBy: 'name', top: 50 };
    const quarter = await h.call('query_entities', {
      ...opp,
      filter: "estimatedclosedate eq 'this quarter' and statecode ne 2",
    });
    const quarterWhere = await h.call('query_entities', {
      ...opp,
      where: { estimatedclosedate: 'this quarter', statecode: { ne: 2 } },
    });
    expect(quarter.isError, textOf(quarter)).toBeFalsy();
    expect(quarter.structuredContent).toEqual(quarterWhere.structuredContent);
    expect((quarter.structuredContent.records as unknown[]).length).toBeGreaterThan(0);
    // an ISO day in quotes, either side of the operator: the day, as written without quotes
    const acc = { entity: 'account', select: ['name'], orderBy: 'name', top: 100 };
    const bare = await h.call('query_entities', { ...acc, filter: 'createdon ge 2026-01-01' });
    for (const filter of ["createdon ge '2026-01-01'", "'2026-01-01' le createdon"]) {
      const quoted = await h.call('query_entities', { ...acc, filter });
      expect(quoted.isError, textOf(quoted)).toBeFalsy();
      expect(quoted.structuredContent).toEqual(bare.structuredContent);
    }
    const since = emu.rows('account').filter((a) => String(a.createdon) >= '2026-01-01').length;
    expect((bare.structuredContent.records as unknown[]).length).toBe(Math.min(since, 100));
    // "overdue" tasks as the model writes them: before today, open (the word without quotes too, where the
    // table has no column of that name)
    const unquoted = await h.call('query_entities', {
      entity: 'task',
      filter: 'scheduledend lt today and statecode eq 0',
      select: ['subject', 'scheduledend'],
      top: 50,
    });
    const overdue = await h.call('query_entities', {
      entity: 'task',
      filter: "scheduledend lt 'today' and statecode eq 0",
      select: ['subject', 'scheduledend'],
      top: 50,
    });
    const today = new Date().toISOString().slice(0, 10);
    const due = (overdue.structuredContent.records as { scheduledend: string }[]).map((t) => t.scheduledend);
    expect(due.length).toBeGreaterThan(0);
    expect(unquoted.structuredContent).toEqual(overdue.structuredContent);
    expect(due.length).toBe(
      emu.rows('task').filter((t) => t.statecode === 0 && t.scheduledend && String(t.scheduledend) < today).length,
    );
    // text that is no date is answered with the forms a date takes, not Dataverse's type error
    const bad = await h.call('query_entities', { entity: 'account', filter: "createdon eq 'soon'" });
    expect(textOf(bad)).toMatch(/^Error \(bad_input\): account\.createdon is a date; 'soon' is not an ISO date\./);
  });

  it("OData 2's filter text from the CRM 2011 endpoint's samples (substringof, datetime'…', guid'…', eq true) finds what OData 4's does", async () => {
    const args = { entity: 'account', select: ['name'], orderBy: 'name', top: 100 };
    const id = String(emu.rows('account').find((a) => String(a.name).includes('Ltd'))!.accountid);
    const v2 = await h.call('query_entities', {
      ...args,
      filter: `substringof('Ltd', name) eq true and createdon ge datetime'2020-01-01T00:00:00Z' and accountid ne guid'${id}'`,
    });
    const v4 = await h.call('query_entities', {
      ...args,
      filter: `contains(name,'Ltd') and createdon ge 2020-01-01T00:00:00Z and accountid ne ${id}`,
    });
    expect(v2.isError, textOf(v2)).toBeFalsy();
    expect(v2.structuredContent).toEqual(v4.structuredContent);
    const want = emu
      .rows('account')
      .filter((a) => String(a.name).includes('Ltd') && String(a.createdon) >= '2020' && a.accountid !== id);
    expect(want.length).toBeGreaterThan(0);
    expect(v2.structuredContent.records).toHaveLength(want.length);
  });

  it('a filter error that is no SQL habit keeps the plain advice', async () => {
    const r = await h.call('query_entities', { entity: 'account', filter: 'revenue gt' });
    expect(textOf(r)).toMatch(
      /\nHow to fix: Fix the text at the position named, or use the structured "where" conditions instead\.$/,
    );
  });

  it('OData text written in where is taken as the filter, checked as any filter is', async () => {
    const acc = emu.rows('account').find((a) => a.statecode === 0)!;
    const args = { entity: 'account', select: ['name'], top: 5 };
    const text = `name eq '${String(acc.name).replace(/'/g, "''")}' and statecode eq 0`;
    const asFilter = await h.call('query_entities', { ...args, filter: text });
    const asWhere = await h.call('query_entities', { ...args, where: text });
    expect(asWhere.isError, textOf(asWhere)).toBeFalsy();
    expect(asWhere.structuredContent).toEqual(asFilter.structuredContent);
    expect(asWhere.structuredContent.records).toEqual([{ id: acc.accountid, name: acc.name }]);
    // the policy's checks are the filter's: a column it keeps from the model is refused, nothing sent
    const since = emu.requests().length;
    const hidden = await h.call('query_entities', { ...args, where: 'creditlimit gt 0' });
    expect(hidden.isError).toBe(true);
    expect(textOf(hidden)).toMatch(/creditlimit/);
    expect(apiRequests(emu, since).filter((q) => q.url.includes('creditlimit'))).toEqual([]);
  });

  it('conditions given as an object in filter are read as where; beside a where, refused saying how to join them', async () => {
    const acc = emu.rows('account').find((a) => a.statecode === 0 && a.address1_city)!;
    const args = { entity: 'account', select: ['name'], top: 50, count: true };
    const conditions = { address1_city: acc.address1_city, statecode: 'Active' };
    const asWhere = await h.call('query_entities', { ...args, where: conditions });
    const asFilter = await h.call('query_entities', { ...args, filter: conditions });
    expect(asFilter.isError, textOf(asFilter)).toBeFalsy();
    expect(asFilter.structuredContent).toEqual(asWhere.structuredContent);
    expect(asFilter.structuredContent.records).toContainEqual({ id: acc.accountid, name: acc.name });
    // a list of conditions too
    const listed = await h.call('query_entities', {
      ...args,
      filter: [{ column: 'address1_city', value: acc.address1_city }, { statecode: 'Active' }],
    });
    expect(listed.structuredContent).toEqual(asWhere.structuredContent);
    // OData texts in a list, in filter or in where: each holds (an "or" inside one stays inside it)
    const text = `statecode eq 0 and (address1_city eq '${String(acc.address1_city).replace(/'/g, "''")}' or revenue gt 1000000000)`;
    const joined = await h.call('query_entities', { ...args, filter: text });
    expect(joined.structuredContent.records).toContainEqual({ id: acc.accountid, name: acc.name });
    for (const key of ['filter', 'where'])
      expect(
        (
          await h.call('query_entities', {
            ...args,
            [key]: [
              'statecode eq 0',
              `address1_city eq '${String(acc.address1_city).replace(/'/g, "''")}' or revenue gt 1000000000`,
            ],
          })
        ).structuredContent,
        key,
      ).toEqual(joined.structuredContent);
    // {column, value} with no op is what {column: value} is: eq, or the null check for null
    const noParent = await h.call('query_entities', { ...args, where: { column: 'parentaccountid', value: null } });
    expect(noParent.structuredContent.totalCount).toBe(
      emu.rows('account').filter((a) => a.parentaccountid == null).length,
    );
    const both = await h.call('query_entities', {
      ...args,
      where: { statecode: 'Active' },
      filter: { address1_city: acc.address1_city },
    });
    expect(both.isError).toBe(true);
    expect(textOf(both)).toMatch(
      /^Error \(bad_input\): filter takes OData text, not conditions as an object: those go in where, here with the where given, e\.g\. \{"and": \[/,
    );
  });

  it('invalid arguments are a tool error, not a crash', async () => {
    const r = await h.call('query_entities', { entity: 'account', top: -1 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('top is at least 0 (0: count only, with count).');
    // "all of them": what to do instead
    const all = await h.call('query_entities', { entity: 'account', top: 100_000 });
    expect(textOf(all)).toContain(
      'top is at most 5000 rows a call (Dynamics pages at 5,000): pass 5000 and continue with the cursor, or count and total with aggregate_records.',
    );
    const w = await h.call('query_entities', { entity: 'account', where: { column: 'name', and: [] } });
    expect(w.isError).toBe(true);
    expect(textOf(w)).toContain('not a mix');
  });

  // the shapes models most often get wrong: the error must show the right one, not only zod's type names
  it.each([
    [{ where: 42 }, /where takes a condition object.*\{"and":\[/],
    // a list past its limit says the limit, not that a list is not a value
    [
      { where: { accountnumber: { in: Array.from({ length: 600 }, (_, i) => `ACC-${10000 + i}`) } } },
      /^Error \(bad_input\): where\.value: a list of values holds at most 500, not 600: split it over calls of up to 500 each\./,
    ],
    // text in where beside a filter (alone, it is taken as the filter)
    [
      { where: "name eq 'x'", filter: 'statecode eq 0' },
      /^Error \(bad_input\): where takes conditions as an object, not text: \{"column": "statecode", "op": "eq", "value": "Active"\}, or columns and values, \{"statecode": "Active", "revenue": \{"gt": 1000000\}\}\.$/,
    ],
    [
      { orderBy: { column: 'name', direction: 'sideways' } },
      /orderBy is text: a column and asc or desc, e\.g\. "name asc/,
    ],
    [{ select: 'name revenue accountnumber' }, /select is a list of column names, e\.g\. \["name","revenue"\]/],
    [{ expand: 42 }, /expand is a list of \{relation, select\} objects, e\.g\. \[\{"relation"/],
    [{ expand: [['primarycontactid']] }, /each expand item is an object: e\.g\. \[\{"relation":"primarycontactid"/],
    [{ expand: [{ select: ['fullname'] }] }, /each expand item names its relationship in "relation"/],
    // not dropped: a filter on related rows would otherwise come back unfiltered
    [
      { expand: [{ relation: 'contact_customer_accounts', filter: 'statecode eq 0' }] },
      /an expand item takes relation, select, where, orderBy and top, not 'filter': conditions on the related records go in the item's where/,
    ],
  ])('a wrong shape says what the right one is, and only that: %j', async (args, message) => {
    const r = await h.call('query_entities', { entity: 'account', ...args });
    expect(r.isError).toBe(true);
    const [said, fix, ...more] = textOf(r).split('\n');
    expect(said).toMatch(message);
    // one cause: not followed by zod's length check run on the text sent instead of a list
    expect(said).not.toMatch(/Too big|expected string/);
    expect(fix).toMatch(/^How to fix: Call query_entities again with that argument corrected/);
    expect(more).toEqual([]);
  });

  // "Language collations": English (1033), the demo organisation's language, is _CI_AI: "cafe" and "café" are
  // the same word, in filters, sorting and finding a record by its name
  it("text compares as an English organisation's does, without case or accents", async () => {
    const made = await h.call('create_record', {
      entity: 'contact',
      values: { firstname: 'Siobhán', lastname: 'Ní Bhriain', emailaddress1: 'siobhan@accents.example' },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    const id = made.structuredContent.id;
    for (const where of [
      { fullname: { contains: 'siobhan' } },
      { lastname: 'NI BHRIAIN' },
      { firstname: { startswith: 'sio' } },
      { fullname: { endswith: 'bhriain' } },
      { firstname: { in: ['Siobhan', 'x'] } },
    ]) {
      const r = await h.call('query_entities', { entity: 'contact', where, select: ['fullname'] });
      expect(ids(r), JSON.stringify(where)).toEqual([id]);
    }
    const named = await h.call('get_record', { entity: 'contact', id: 'Siobhan Ni Bhriain', select: ['fullname'] });
    expect(named.structuredContent).toMatchObject({ id, record: { fullname: 'Siobhán Ní Bhriain' } });
    // sorted with the unaccented letters: between "Ni…" and "Nj…", not after "Z"
    const sorted = await h.call('query_entities', {
      entity: 'contact',
      where: { lastname: { startswith: 'N' } },
      select: ['lastname'],
      orderBy: 'lastname',
      top: 5000,
    });
    const names = sorted.structuredContent.records.map((c: { lastname: string }) => c.lastname);
    const plain = (t: string) => t.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    expect(names).toEqual(
      [...names].sort((a: string, b: string) => (plain(a) < plain(b) ? -1 : plain(a) > plain(b) ? 1 : 0)),
    );
    expect(names).toContain('Ní Bhriain');
    // grouped and counted as one value too, shown as the first row's
    const twin = await h.call('create_record', {
      entity: 'contact',
      values: { firstname: 'SIOBHAN', lastname: 'Ni Bhriain', emailaddress1: 'siobhan.2@accents.example' },
    });
    expect(twin.structuredContent.duplicate, textOf(twin)).toBe(false);
    const grouped = await h.call('aggregate_records', {
      entity: 'contact',
      where: { lastname: 'ní bhriain' },
      groupBy: ['firstname'],
      measures: ['count', { op: 'countDistinct', column: 'lastname' }],
    });
    expect(grouped.structuredContent.groups).toEqual([{ firstname: 'Siobhán', count: 2, countDistinct_lastname: 1 }]);
  });

  // an owner by name is found among the users and teams: a policy that offers neither, or users alone, cannot
  // look there, and says so instead of naming the table it was refused at the Web API's door
  it('an owner matched by name under a policy without the user or team tables is refused with what it can do', async () => {
    const without = (name: string, tables: string[]) =>
      builtInPolicyWith(name, (entities) =>
        Object.fromEntries(Object.entries(entities).filter(([t]) => !tables.includes(t))),
      );
    const owner = String(emu.rows('systemuser').find((u) => u.title === 'Account Executive')!.fullname);
    const ask = { entity: 'account', where: { ownerid: owner }, select: ['name'], top: 2 };
    const noPeople = await connectInMemory(emu, {
      env: { DYNAMICS_MCP_POLICY: without('no-people', ['systemuser', 'team']), LOG_LEVEL: 'warn' },
    });
    const noTeams = await connectInMemory(emu, {
      env: { DYNAMICS_MCP_POLICY: without('no-teams', ['team']), LOG_LEVEL: 'warn' },
    });
    try {
      const since = emu.requests().length;
      expect(textOf(await noPeople.call('query_entities', ask))).toBe(
        `Error (policy): account.ownerid holds a record id; matching it by name ('${owner}') reads systemuser and team records, which this server's policy does not offer.\nHow to fix: Compare it with the record's id instead: {"ownerid": "<its id>"}; a record's ownerid value ({"id", "name"}) holds it.`,
      );
      // with users but no teams, an account a team owns could not be told apart: refused, with the users' path
      expect(textOf(await noTeams.call('query_entities', ask))).toBe(
        "Error (policy): 'ownerid' of account points at systemuser and team, and this server's policy follows it to systemuser only: a condition on it cannot be checked for the rest.\nHow to fix: To match only records whose ownerid is a systemuser, name that relationship: 'owninguser/fullname'.",
      );
      // the relationships offered when one named is none of them lead to tables the policy offers
      const asked = await noPeople.call('query_entities', { entity: 'account', select: ['name'], expand: ['owner'] });
      const offered = /Relationships you may follow from account: (.*)\./.exec(textOf(asked))![1]!.split(', ');
      expect(offered).toEqual(expect.arrayContaining(['primarycontactid', 'contact_customer_accounts']));
      expect(offered).not.toContain('owninguser');
      expect(offered).not.toContain('owningteam');
      const followed = await noTeams.call('query_entities', { ...ask, where: { 'owninguser/fullname': owner } });
      expect(followed.isError, textOf(followed)).toBeFalsy();
      expect(apiRequests(emu, since).filter((r) => r.url.includes('/accounts?'))).toHaveLength(1);
    } finally {
      await noPeople.close();
      await noTeams.close();
    }
  });
});
