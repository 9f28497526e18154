import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { builtInPolicyWith, callAsWritten, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

const FORBIDDEN = {
  error: {
    code: '0x80040220',
    message: 'Principal user (Id=00000000-0000-0000-0000-000000000001) is missing prvReadEntity privilege.',
  },
};

const today = () => new Date().toISOString().slice(0, 10);

/**
 * The query_entities call a prompt writes for `table` ("query_entities on <table> with where …, select …,
 * orderBy "…", top N."), run as the prompt writes it: the ids it found, and its top.
 */
async function runPromptQuery(harness: McpHarness, text: string, table: string) {
  const pattern = new RegExp(
    `query_entities on ${table} with where (\\{.*?\\}), select (\\[.*?\\]), orderBy "(.*?)", top (\\d+)\\.`,
  );
  const r = await callAsWritten(harness, table, text, pattern);
  expect(r.isError, textOf(r)).toBeFalsy();
  return {
    got: r.structuredContent.records.map((x: { id: string }) => x.id) as string[],
    top: Number(pattern.exec(text)![4]),
  };
}

describe('describe_entity, get_record, resources and prompts', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    h = await connectInMemory(emu);
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  it('describe_entity without arguments lists the tables the policy allows', async () => {
    const r = await h.call('describe_entity', {});
    // each table the model may only read is said so, beside those it may write
    expect(textOf(r)).toMatch(
      /^Tables: account, contact, lead, opportunity, incident, annotation, .*, email, appointment \(read-only\), /,
    );
    const names = r.structuredContent.entities.map((e: { name: string }) => e.name).sort();
    expect(names).toEqual([
      'account',
      'activitymimeattachment',
      'activityparty',
      'activitypointer',
      'annotation',
      'appointment',
      'competitor',
      'contact',
      'duplicaterule',
      'duplicaterulecondition',
      'email',
      'incident',
      'incidentresolution',
      'knowledgearticle',
      'knowledgearticleincident',
      'lead',
      'leadtoopportunitysalesprocess',
      'opportunity',
      'opportunityclose',
      'opportunityproduct',
      'opportunitysalesprocess',
      'organization',
      'phonecall',
      'pricelevel',
      'processstage',
      'product',
      'queue',
      'queueitem',
      'slakpiinstance',
      'systemuser',
      'task',
      'team',
      'territory',
      'transactioncurrency',
      'uom',
    ]);
    expect(r.structuredContent.entities.find((e: { name: string }) => e.name === 'systemuser').write).toBe(false);
    // the tables create_record makes records in, marked and said
    expect(
      r.structuredContent.entities.filter((e: { create?: boolean }) => e.create).map((e: { name: string }) => e.name),
    ).toEqual([
      'account',
      'contact',
      'opportunity',
      'task',
      'phonecall',
      'email',
      'opportunityproduct',
      'queueitem',
      'knowledgearticleincident',
    ]);
    expect(textOf(r)).toContain(
      'create_record makes account, contact, opportunity, task, phonecall, email, opportunityproduct, queueitem, knowledgearticleincident records.',
    );
  });

  it('describe_entity shows readable and writable columns with types, labels, targets and required levels — and hides the rest', async () => {
    const r = await h.call('describe_entity', { entity: 'Incidents' });
    const e = r.structuredContent.entity;
    expect(e).toMatchObject({
      name: 'incident',
      entitySet: 'incidents',
      primaryId: 'incidentid',
      primaryName: 'title',
    });
    const col = (n: string) => e.columns.find((c: { name: string }) => c.name === n);
    expect(col('prioritycode')).toMatchObject({
      type: 'Picklist',
      read: true,
      write: true,
      options: [
        { value: 1, label: 'High' },
        { value: 2, label: 'Normal' },
        { value: 3, label: 'Low' },
      ],
    });
    expect(col('customerid')).toMatchObject({
      type: 'Customer',
      targets: ['account', 'contact'],
      required: 'SystemRequired',
    });
    expect(col('ticketnumber')).toMatchObject({ read: true, write: false });
    expect(col('versionnumber')).toBeUndefined();
    expect(e.relationships).toEqual(
      expect.arrayContaining([{ name: 'customerid_account', target: 'account', many: false }]),
    );
    // a date-only column says so (Dataverse's DateTimeBehavior), so a close date is written as a day, not a
    // moment; an ordinary date-time column says nothing more
    const opp = (await h.call('describe_entity', { entity: 'opportunity' })).structuredContent.entity;
    const oppCol = (n: string) => opp.columns.find((c: { name: string }) => c.name === n);
    expect(oppCol('estimatedclosedate')).toMatchObject({ type: 'DateTime', behavior: 'DateOnly' });
    expect(oppCol('createdon').behavior).toBeUndefined();
    const acc = (await h.call('describe_entity', { entity: 'account' })).structuredContent.entity;
    expect(acc.columns.map((c: { name: string }) => c.name)).not.toContain('creditlimit');
    // a call's To: a list of people, of the tables it may hold, and the relationship its people are read through
    const call = (await h.call('describe_entity', { entity: 'phonecall' })).structuredContent.entity;
    expect(call.columns.find((c: { name: string }) => c.name === 'to')).toEqual({
      name: 'to',
      label: 'Call To',
      type: 'PartyList',
      read: true,
      write: true,
      targets: ['account', 'contact', 'lead', 'systemuser'],
    });
    expect(call.relationships).toEqual(
      expect.arrayContaining([{ name: 'phonecall_activity_parties', target: 'activityparty', many: true }]),
    );
  });

  it('a table is found by its display name or by the word people use for it; "customers" names both tables', async () => {
    for (const [word, table] of [
      ['Cases', 'incident'],
      ['Phone Calls', 'phonecall'],
      ['deals', 'opportunity'],
      ['Tickets', 'incident'],
      ['meetings', 'appointment'],
      ['calls', 'phonecall'],
      ['companies', 'account'],
      ['people', 'contact'],
    ]) {
      const r = await h.call('query_entities', { entity: word, top: 1 });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.entity, word).toBe(table);
    }
    // a word that is a property of every JavaScript object is no table word (found by the fuzz suite, seed 2026)
    for (const word of ['constructor', '__proto__', 'toString']) {
      const r = await h.call('query_entities', { entity: word, top: 1 });
      expect(textOf(r)).toMatch(new RegExp(`^Error \\(policy\\): There is no table '${word}' available\\.`));
    }
    const since = emu.requests().length;
    const customers = await h.call('query_entities', { entity: 'customers', top: 1 });
    expect(textOf(customers)).toBe(
      "Error (policy): There is no table 'customers' available.\n" +
        "How to fix: Customers are kept in more than one table, 'account' and 'contact' (a Customer lookup points at either): use the one meant, or query each.",
    );
    expect(
      emu
        .requests()
        .slice(since)
        .filter((q) => q.url.includes('/accounts') || q.url.includes('/contacts')),
    ).toEqual([]);
  });

  it('get_record returns the record, its etag and web link; a missing id is a clear error', async () => {
    const acc = emu.rows('account')[0]!;
    const r = await h.call('get_record', {
      entity: 'account',
      id: String(acc.accountid).toUpperCase(),
      select: ['name', 'industrycode'],
    });
    expect(r.structuredContent).toMatchObject({
      entity: 'account',
      id: acc.accountid,
      record: { id: acc.accountid, name: acc.name },
      etag: `W/"${acc.versionnumber}"`,
      url: `${emu.dynamicsUrl}/main.aspx?pagetype=entityrecord&etn=account&id=${acc.accountid}`,
    });
    const missing = await h.call('get_record', { entity: 'account', id: '00000000-0000-0000-0000-0000000000cc' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toBe(
      'Error (not_found): No account with the id 00000000-0000-0000-0000-0000000000cc exists.\n' +
        'How to fix: Check the id; find records with query_entities, then use the id it returns.',
    );
    const bad = await h.call('get_record', { entity: 'account', id: 'Contoso' });
    expect(bad.isError).toBe(true);
    // an id in braces, as the classic UI and the SDKs print it, is the same id
    const braced = await h.call('get_record', {
      entity: 'account',
      id: ` {${String(acc.accountid)}} `,
      select: ['name'],
    });
    expect(braced.isError).toBeFalsy();
    expect(braced.structuredContent.record).toMatchObject({ id: acc.accountid, name: acc.name });
    // the record's address as a user pastes it: the app's link (its id parameter, not the app's id) or the
    // Web API's; the link this server returns is one of them
    const id = String(acc.accountid);
    for (const link of [
      `https://contoso.crm.dynamics.com/main.aspx?appid=11111111-2222-3333-4444-555555555555&pagetype=entityrecord&etn=account&id=%7B${id.toUpperCase()}%7D`,
      `https://contoso.crm.dynamics.com/api/data/v9.2/accounts(${id})`,
      braced.structuredContent.url,
    ]) {
      const r = await h.call('get_record', { entity: 'account', id: link, select: ['name'] });
      expect(r.isError, `${link}: ${textOf(r)}`).toBeFalsy();
      expect(r.structuredContent.record).toMatchObject({ id, name: acc.name });
    }
    const elsewhere = await h.call('get_record', { entity: 'account', id: 'https://example.com/accounts' });
    expect(textOf(elsewhere)).toBe(
      "Error (bad_input): id 'https://example.com/accounts' is not a record id: an id is a GUID of 32 hex digits (5b6b1d3c-8f9e-4a2b-9c0d-1e2f3a4b5c6d), in a link its id= part.\nHow to fix: Pass the id as query_entities or get_record returned it, or the record's name.",
    );
  });

  it('a selected column with no value is said to be empty (rows leave it out), in get_record and query_entities', async () => {
    const contact = emu.rows('contact').find((c) => c.jobtitle && c.parentcustomerid && c.emailaddress1)!;
    const cleared = await h.call('update_record', {
      entity: 'contact',
      id: contact.contactid,
      values: { jobtitle: null, parentcustomerid: null },
    });
    expect(cleared.isError, textOf(cleared)).toBeFalsy();
    // the label, the lookup and a related record's column (whose record is not there) as a model asks for them
    const one = await h.call('get_record', {
      entity: 'contact',
      id: contact.contactid,
      select: ['fullname', 'Job Title', 'parentcustomerid', 'emailaddress1'],
    });
    expect(one.structuredContent.record).toEqual({
      id: contact.contactid,
      fullname: contact.fullname,
      emailaddress1: contact.emailaddress1,
    });
    expect(textOf(one).split('\n')[0]).toBe(`Contact ${contact.contactid}: Empty: jobtitle, parentcustomerid.`);
    // a column some rows have is not empty in the page; one that no row has is
    const other = emu.rows('contact').find((c) => c.jobtitle && c.contactid !== contact.contactid)!;
    for (const id of [contact.contactid, other.contactid])
      expect(
        (await h.call('update_record', { entity: 'contact', id, values: { mobilephone: null } })).isError,
      ).toBeFalsy();
    const many = await h.call('query_entities', {
      entity: 'contact',
      where: { contactid: { in: [contact.contactid, other.contactid] } },
      select: ['fullname', 'jobtitle', 'mobilephone'],
    });
    expect(many.structuredContent.records).toHaveLength(2);
    expect(textOf(many).split('\n')[0]).toBe('2 contact records. Empty in every row: mobilephone.');
    const all = await h.call('query_entities', { entity: 'contact', select: ['fullname', 'jobtitle'], top: 3 });
    expect(textOf(all).split('\n')[0]).not.toContain('Empty');
  });

  it('a missing privilege names it', async () => {
    emu.configure({ role: { privileges: { account: { read: true }, contact: { read: false } } } });
    try {
      const r = await h.call('query_entities', { entity: 'contact', top: 1 });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/prvReadContact/);
      expect(textOf(r)).toMatch(/security role/);
    } finally {
      await emu.reset();
    }
  });

  it('resources: dynamics://entities, the per-table template, and completion of table names', async () => {
    const list = await h.client.listResources();
    expect(list.resources.map((r) => r.uri)).toEqual(
      expect.arrayContaining(['dynamics://entities', 'dynamics://entities/account']),
    );
    const one = await h.client.readResource({ uri: 'dynamics://entities/lead' });
    expect(JSON.parse((one.contents[0] as { text: string }).text).entity.name).toBe('lead');
    const done = await h.client.complete({
      ref: { type: 'ref/resource', uri: 'dynamics://entities/{entity}' },
      argument: { name: 'entity', value: 'co' },
    });
    expect(done.completion.values).toEqual(['contact', 'competitor']);
    expect(done.completion).toMatchObject({ total: 2, hasMore: false });
    // a resource with nothing to fill in offers nothing; a template there is not is Invalid Params
    const fixed = await h.client.complete({
      ref: { type: 'ref/resource', uri: 'dynamics://entities' },
      argument: { name: 'entity', value: 'co' },
    });
    expect(fixed.completion.values).toEqual([]);
    const other = await h.client
      .complete({
        ref: { type: 'ref/resource', uri: 'dynamics://tables/{entity}' },
        argument: { name: 'entity', value: '' },
      })
      .catch((e: McpError) => e);
    expect((other as McpError).code).toBe(ErrorCode.InvalidParams);
  });

  it('resources: a table that does not exist or the policy does not offer is Invalid Params with the tables to use; when Dynamics refuses, listing still works and reading says how to recover', async () => {
    // SEP-2164: a resource not found is -32602 (Invalid Params), as the SDK answers for URIs no template matches
    const missing = await h.client.readResource({ uri: 'dynamics://entities/acount' }).catch((e: McpError) => e);
    expect(missing).toBeInstanceOf(McpError);
    expect((missing as McpError).code).toBe(ErrorCode.InvalidParams);
    expect((missing as McpError).message).toMatch(/^MCP error -32602: Error \(policy\): There is no table 'acount'/);
    expect((missing as McpError).message).toMatch(/How to fix: .*describe_entity|Closest names: account/);
    const hidden = await h.client.readResource({ uri: 'dynamics://entities/systemuserroles' }).catch((e) => e);
    expect((hidden as McpError).code).toBe(ErrorCode.InvalidParams);
    // a fresh server (nothing cached) while Dynamics refuses every metadata request
    const fresh = await connectInMemory(emu);
    emu.addFault({ match: { path: '/api/data/v9.2/' }, response: { status: 403, body: FORBIDDEN }, times: 50 });
    try {
      // the list and completion still answer (without table names); the read says what is wrong
      const list = await fresh.client.listResources();
      expect(list.resources.map((r) => r.uri)).toEqual(['dynamics://entities']);
      const done = await fresh.client.complete({
        ref: { type: 'ref/resource', uri: 'dynamics://entities/{entity}' },
        argument: { name: 'entity', value: 'co' },
      });
      expect(done.completion.values).toEqual([]);
      const down = await fresh.client.readResource({ uri: 'dynamics://entities/incident' }).catch((e) => e);
      expect((down as McpError).code).toBe(ErrorCode.InternalError);
      expect((down as McpError).message).toMatch(/Error \(permission\): .*How to fix: /s);
      expect((down as McpError).message).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      emu.clearFaults();
      await fresh.close();
    }
  });

  it('the instructions at initialize name only tools that are listed, in read-only mode too', async () => {
    const all = (await h.client.listTools()).tools.map((t) => t.name);
    const named = (text: string) => all.filter((name) => new RegExp(`\\b${name}\\b`).test(text));
    const rw = h.client.getInstructions()!;
    expect(named(rw)).toEqual(all);
    expect(rw).toContain("A record's history is in its activities");
    expect(rw).toContain('who was on a call, an email or a meeting is in its <table>_activity_parties');
    expect(rw).toContain(
      "A deal's products are its product_opportunities (opportunityproduct: product, quantity, price, amount); create_record adds one, delete_record removes one.",
    );
    // rows leave empty columns out: a missing column is no value, not one kept back
    expect(rw).toContain('A column without a value is left out of a row.');
    const ro = await connectInMemory(emu, { env: { DYNAMICS_MCP_READ_ONLY: 'true' } });
    try {
      const text = ro.client.getInstructions()!;
      const listed = (await ro.client.listTools()).tools.map((t) => t.name);
      expect(
        named(text).every((name) => listed.includes(name)),
        text,
      ).toBe(true);
      expect(text).toContain('This server is read-only');
      expect(text).toContain('(opportunityproduct: product, quantity, price, amount). ');
    } finally {
      await ro.close();
    }
  });

  it('prompts for the seed use cases, the briefs and the reviews', async () => {
    const { prompts } = await h.client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual([
      'account_brief',
      'answer_case',
      'case_from_alert',
      'daily_agenda',
      'deal_review',
      'log_call',
      'merge_duplicates',
      'qualify_lead',
      'review_pipeline',
      'review_support',
      'review_wins_and_losses',
    ]);
    const p = await h.client.getPrompt({
      name: 'case_from_alert',
      arguments: { alert: 'Disk full on web-01', alertId: 'PD-42' },
    });
    expect((p.messages[0]!.content as { text: string }).text).toContain('externalRef "PD-42"');
    // a repeated alert is recorded on the case already open for it
    expect((p.messages[0]!.content as { text: string }).text).toContain(
      'add this occurrence to that case with add_note',
    );
  });

  it("a prompt's account, user or period is offered as it is typed, from Dynamics through the policy", async () => {
    const complete = (c: McpHarness, name: string, argument: string, value: string) =>
      c.client.complete({ ref: { type: 'ref/prompt', name }, argument: { name: argument, value } });
    // the accounts whose name begins with what is typed, any casing, alphabetically, up to ten
    const prefix = String(emu.rows('account')[0]!.name).slice(0, 3);
    const starting = (rows: Record<string, unknown>[], column: string, typed: string) =>
      [...new Set(rows.map((r) => String(r[column])).filter((n) => n.toLowerCase().startsWith(typed.toLowerCase())))]
        .sort((a, b) => a.localeCompare(b))
        .slice(0, 10);
    const accounts = await complete(h, 'account_brief', 'account', prefix.toLowerCase());
    expect(accounts.completion.values).toEqual(starting(emu.rows('account'), 'name', prefix));
    expect(accounts.completion.values.length).toBeGreaterThan(0);
    // the same accounts for what a call logged with log_call was about
    const about = await complete(h, 'log_call', 'about', prefix.toLowerCase());
    expect(about.completion.values).toEqual(accounts.completion.values);
    // and a deal for deal_review, by the start of its name
    const dealPrefix = String(emu.rows('opportunity')[0]!.name).slice(0, 5);
    const deals = await complete(h, 'deal_review', 'deal', dealPrefix);
    expect(deals.completion.values).toEqual(starting(emu.rows('opportunity'), 'name', dealPrefix));
    expect(deals.completion.values.length).toBeGreaterThan(0);
    // the ten offered of more say there are more (the SDK's completable said hasMore: false, total: 10 for the
    // first ten of any number); the whole list says it is whole
    const everyone = [...new Set(emu.rows('systemuser').map((u) => String(u.fullname)))];
    expect(everyone.length).toBeGreaterThan(10);
    const first = await complete(h, 'daily_agenda', 'owner', '');
    expect(first.completion).toEqual({
      values: everyone.sort((a, b) => a.localeCompare(b)).slice(0, 10),
      hasMore: true,
    });
    expect(accounts.completion).toMatchObject({ total: accounts.completion.values.length, hasMore: false });
    const unknown = await h.client
      .complete({ ref: { type: 'ref/prompt', name: 'acount_brief' }, argument: { name: 'account', value: '' } })
      .catch((e: McpError) => e);
    expect((unknown as McpError).code).toBe(ErrorCode.InvalidParams);
    const user = String(emu.rows('systemuser').find((u) => u.fullname !== 'System Administrator')!.fullname);
    const users = await complete(h, 'daily_agenda', 'owner', user.slice(0, 4));
    expect(users.completion.values).toContain(user);
    expect(users.completion.values).toEqual(starting(emu.rows('systemuser'), 'fullname', user.slice(0, 4)));
    const periods = await complete(h, 'review_wins_and_losses', 'period', 'this');
    expect(periods.completion.values).toEqual(['this quarter', 'this year', 'this month']);
    // each period offered is one the review's queries read
    for (const when of periods.completion.values) {
      const r = await h.call('query_entities', { entity: 'opportunity', where: { actualclosedate: when }, top: 0 });
      expect(r.isError, `${when}: ${textOf(r)}`).toBeFalsy();
    }
    // a policy that keeps accounts' names from the model offers none
    const nameless = builtInPolicyWith('nameless', (e) => ({
      ...e,
      account: { ...e.account!, read: (e.account!.read ?? []).filter((c) => c !== 'name') },
    }));
    const hidden = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: nameless, LOG_LEVEL: 'warn' } });
    try {
      const none = await complete(hidden, 'account_brief', 'account', prefix);
      expect(none.completion.values).toEqual([]);
    } finally {
      await hidden.close();
    }
  });

  it('a Dynamics that does not answer offers no names within seconds, warned once, and names again once it answers', async () => {
    const fresh = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
    try {
      const complete = (value: string) =>
        fresh.client.complete({
          ref: { type: 'ref/prompt', name: 'account_brief' },
          argument: { name: 'account', value },
        });
      await fresh.call('describe_entity', { entity: 'account' });
      // each try told to come back in 20 s: waited out through every retry, a keystroke would be answered in
      // over a minute (past this test's 30 s)
      emu.addFault({
        match: { method: 'GET', path: '/api/data/v9.2/accounts' },
        response: { status: 503, headers: { 'Retry-After': '20' }, body: { error: { code: '0x0', message: 'Busy' } } },
        times: 20,
      });
      const typed = await Promise.all([complete('C'), complete('Co')]);
      expect(typed.map((t) => t.completion.values)).toEqual([[], []]);
      const warned = () => fresh.logs.filter((l) => l.includes('names unavailable for prompt argument completion'));
      expect(warned()).toHaveLength(1);
      emu.clearFaults();
      const back = await complete('Co');
      expect(back.completion.values.length).toBeGreaterThan(0);
      expect(warned()).toHaveLength(1);
    } finally {
      emu.clearFaults();
      await fresh.close();
    }
  });

  it('qualify_lead offers to qualify a ready lead, with the update that does it', async () => {
    const p = await h.client.getPrompt({
      name: 'qualify_lead',
      arguments: { submission: 'Ada Byte, ada@example.com' },
    });
    const text = (p.messages[0]!.content as { text: string }).text;
    const statecode = /update_record on the lead with statecode "(\w+)"/.exec(text)![1];
    expect(text).toContain('do it only if I agree');
    // what the message says of the sale goes in the lead's own columns, which the prompt names
    const columns = /\(numberofemployees, [a-z, ]+;/.exec(text)![0].slice(1, -1).split(', ');
    expect(columns).toEqual([
      'numberofemployees',
      'revenue',
      'budgetamount',
      'need',
      'purchasetimeframe',
      'purchaseprocess',
    ]);
    const said = {
      numberofemployees: 40,
      revenue: 3_000_000,
      budgetamount: 25_000,
      need: 'Must have',
      purchasetimeframe: 'This Quarter',
      purchaseprocess: 'Committee',
    };
    const filed = await h.call('create_lead', {
      lastName: 'Byte',
      firstName: 'Ada',
      company: 'Byte Works',
      email: 'ada@example.com',
      extra: Object.fromEntries(columns.map((c) => [c, said[c as keyof typeof said]])),
    });
    expect(filed.isError, textOf(filed)).toBeFalsy();
    expect(emu.rows('lead').find((l) => l.leadid === filed.structuredContent.id)).toMatchObject({
      numberofemployees: 40,
      revenue: 3_000_000,
      budgetamount: 25_000,
      need: 0,
      purchasetimeframe: 1,
      purchaseprocess: 1,
    });
    const r = await h.call('update_record', {
      entity: 'lead',
      id: filed.structuredContent.id,
      values: { statecode },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.changed).toMatchObject({ statecode: 'Qualified (1)' });
  });

  it('case_from_alert: a cleared alert resolves the case its alert id opened, found with the where it gives', async () => {
    const account = emu.rows('account')[0]!;
    const opened = await h.call('create_case', {
      title: 'Disk full on web-02',
      customer: { accountId: String(account.accountid) },
      externalRef: 'PD-77',
    });
    expect(opened.isError, textOf(opened)).toBeFalsy();
    const p = await h.client.getPrompt({
      name: 'case_from_alert',
      arguments: { alert: 'RESOLVED: disk on web-02', alertId: 'PD-77' },
    });
    const text = (p.messages[0]!.content as { text: string }).text;
    const where = /query_entities on incident with where (\{.*?\})\)/.exec(text)!;
    expect(text).toContain('call resolve_case on it');
    const found = await h.call('query_entities', {
      entity: 'incident',
      where: JSON.parse(where[1]!),
      select: ['title'],
    });
    expect(found.structuredContent.records.map((r: { id: string }) => r.id)).toEqual([opened.structuredContent.id]);
    const resolved = await h.call('resolve_case', { id: opened.structuredContent.id, resolution: 'Disk space freed' });
    expect(resolved.structuredContent).toMatchObject({ resolved: true, existing: false });
  });

  it("a prompt without its required argument says which, and what it takes, not zod's 'expected string, received undefined'", async () => {
    for (const [name, args, message] of [
      [
        'account_brief',
        { name: 'Litware' },
        'account is required: the account, by its name (or part of it) or its id.',
      ],
      [
        'daily_agenda',
        {},
        'owner is required: the user whose day it is, by full name (e.g. the owner of the records).',
      ],
      ['case_from_alert', { alertId: 'A-7' }, 'alert is required: the alert text, as the monitoring system sent it.'],
    ] as const) {
      const err = await h.client.getPrompt({ name, arguments: args as never }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message, name).toContain(`Invalid arguments for prompt ${name}: ${message}`);
    }
  });

  it('review_pipeline asks for the trend of wins per month, with arguments aggregate_records takes', async () => {
    const p = await h.client.getPrompt({ name: 'review_pipeline', arguments: {} });
    const text = (p.messages[0]!.content as { text: string }).text;
    const args =
      /call aggregate_records on opportunity with where (\{.*?\}), groupBy "(.*?)" and measures "(.*?)"/.exec(text)!;
    const r = await h.call('aggregate_records', {
      entity: 'opportunity',
      where: JSON.parse(args[1]!),
      groupBy: args[2],
      measures: args[3],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    // (a small organisation may have no wins in the span: the call is what the prompt must get right)
    expect(textOf(r)).toMatch(/^opportunity by actualclosedate_month: /);
  });

  it('review_wins_and_losses: its two calls run as written and find every deal closed in the period', async () => {
    const p = await h.client.getPrompt({ name: 'review_wins_and_losses', arguments: { period: 'last 12 months' } });
    const text = (p.messages[0]!.content as { text: string }).text;
    const agg =
      /Call aggregate_records on opportunity with where (\{[^\n]*?\}), groupBy "(.*?)" and measures "(.*?)"/.exec(
        text,
      )!;
    const byMonth = await h.call('aggregate_records', {
      entity: 'opportunity',
      where: JSON.parse(agg[1]!),
      groupBy: agg[2],
      measures: agg[3],
    });
    expect(byMonth.isError, textOf(byMonth)).toBeFalsy();
    const q = /call query_entities on opportunityclose with where (\{[^\n]*?\}), select (\[.*?\]) and top (\d+)/.exec(
      text,
    )!;
    const lost = await h.call('query_entities', {
      entity: 'opportunityclose',
      where: JSON.parse(q[1]!),
      select: JSON.parse(q[2]!),
      top: Number(q[3]),
    });
    expect(lost.isError, textOf(lost)).toBeFalsy();
    // what the seeded organisation holds for the same year: every deal closed in it, counted; every loss listed
    // "last 12 months": from the same day a year back to today
    const yearAgo = new Date();
    yearAgo.setUTCFullYear(yearAgo.getUTCFullYear() - 1);
    const since = yearAgo.toISOString().slice(0, 10);
    const closed = emu
      .rows('opportunity')
      .filter((o) => o.statecode !== 0 && String(o.actualclosedate) >= since && String(o.actualclosedate) <= today());
    expect(closed.length).toBeGreaterThan(0);
    const counted = byMonth.structuredContent.groups.reduce((n: number, g: { count: number }) => n + g.count, 0);
    expect(counted).toBe(closed.length);
    const losses = closed.filter((o) => o.statecode === 2);
    expect(lost.structuredContent.records.map((r: { subject: string }) => r.subject).sort()).toEqual(
      losses.map((o) => `Lost: ${o.name}`).sort(),
    );
    expect(lost.structuredContent.records.every((r: { description?: string }) => !!r.description)).toBe(true);
    // and whom each deal lost as Out-Sold went to, by name
    const outSold = losses.filter((o) => o.statuscode === 5).map((o) => `Lost: ${o.name}`);
    expect(outSold.length).toBeGreaterThan(0);
    for (const r of lost.structuredContent.records as { subject: string; competitorid?: { name: string } }[])
      if (outSold.includes(r.subject))
        expect(emu.rows('competitor').map((c) => c.name)).toContain(r.competitorid?.name);
    // the products on the deals won, and on those lost: every line of a deal closed in the period, counted (a
    // small organisation's closed deals may have none: one of each, where there is one, is given a write-in
    // line first)
    for (const code of [1, 2]) {
      const deal = closed.find((o) => o.statecode === code);
      if (deal)
        await h.deps.client.create('opportunityproduct', {
          'opportunityid@odata.bind': `/opportunities(${deal.opportunityid})`,
          isproductoverridden: true,
          ispriceoverridden: true,
          productdescription: `Closed deal line ${code}`,
          quantity: 2,
          priceperunit: 100,
        });
    }
    const perProduct =
      /aggregate_records on opportunityproduct twice, with where (\{[^\n]*?\}) and then with "Lost" in place of "Won", each with groupBy "(.*?)" and measures "(.*?)"/.exec(
        text,
      )!;
    for (const state of ['Won', 'Lost'] as const) {
      const where = JSON.parse(perProduct[1]!.replace('"Won"', `"${state}"`));
      const r = await h.call('aggregate_records', {
        entity: 'opportunityproduct',
        where,
        groupBy: perProduct[2],
        measures: perProduct[3],
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      const deals = new Set(
        closed.filter((o) => o.statecode === (state === 'Won' ? 1 : 2)).map((o) => String(o.opportunityid)),
      );
      const lines = emu.rows('opportunityproduct').filter((l) => deals.has((l.opportunityid as { id: string }).id));
      if (state === 'Lost') expect(lines.length).toBeGreaterThan(0);
      expect(r.structuredContent.groups.reduce((n: number, g: { count: number }) => n + g.count, 0)).toBe(lines.length);
    }
  });

  it('review_pipeline finds the open deals past their close date with a where query_entities takes', async () => {
    // one deal overdue for certain, beside whatever the seed has
    await h.deps.client.create('opportunity', {
      name: 'Overdue deal',
      estimatedvalue: 1000,
      estimatedclosedate: '2026-01-15',
    });
    const p = await h.client.getPrompt({ name: 'review_pipeline', arguments: {} });
    const text = (p.messages[0]!.content as { text: string }).text;
    const args = /query_entities on opportunity with where (\{.*?\}\}), orderBy "(.*?)", select (\[.*?\])/.exec(text)!;
    const r = await h.call('query_entities', {
      entity: 'opportunity',
      where: JSON.parse(args[1]!),
      orderBy: args[2],
      select: JSON.parse(args[3]!),
      top: 500,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const today = new Date().toISOString().slice(0, 10);
    const overdue = emu
      .rows('opportunity')
      .filter((o) => o.statecode === 0 && typeof o.estimatedclosedate === 'string' && o.estimatedclosedate < today);
    expect(overdue.map((o) => o.name)).toContain('Overdue deal');
    expect(new Set(r.structuredContent.records.map((x: { id: string }) => x.id))).toEqual(
      new Set(overdue.map((o) => o.opportunityid)),
    );
    expect(text).toContain('update_record with statecode "Won" or "Lost"');
  });

  /** review_pipeline's query on opportunity written after `lead`, run as the prompt writes it */
  const pipelineQuery = async (lead: string) => {
    const p = await h.client.getPrompt({ name: 'review_pipeline', arguments: {} });
    const text = (p.messages[0]!.content as { text: string }).text;
    const at = text.indexOf(lead);
    expect(at, lead).toBeGreaterThan(-1);
    const args =
      /^ ?query_entities on opportunity with where (\{.*?\}\}\}), orderBy "(.*?)", top (\d+), select (\[.*?\])/.exec(
        text.slice(at + lead.length),
      )!;
    const r = await h.call('query_entities', {
      entity: 'opportunity',
      where: JSON.parse(args[1]!),
      orderBy: args[2],
      select: JSON.parse(args[4]!),
      top: Number(args[3]),
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    // the columns a review names, not every column of every deal (a money column comes with its currency)
    const named = new Set(['id', 'transactioncurrencyid', ...JSON.parse(args[4]!)]);
    expect(Object.keys(r.structuredContent.records[0] ?? {}).filter((k) => !named.has(k))).toEqual([]);
    return { text, r, top: Number(args[3]) };
  };

  it('account_brief: the calls it asks for run as written and find the account, its deals and their activities', async () => {
    // an organisation large enough that some account's deals have a call, an email, a meeting and an open task
    const org = await startTestEmulator({ scale: 120 });
    const hb = await connectInMemory(org);
    try {
      const seeded = org.rows('phonecall');
      const deals = org.rows('opportunity');
      const dealsOf = (accountId: string) =>
        deals.filter((d) => (d.parentaccountid as { id: string } | null)?.id === accountId).map((d) => d.opportunityid);
      const tasks = org.rows('task');
      const onDeals = (rows: Record<string, unknown>[], accountId: string) =>
        rows.some((r) => dealsOf(accountId).includes((r.regardingobjectid as { id: string } | null)?.id));
      // an account whose deals have a call logged, an email filed, a meeting and a task open
      const account = org.rows('account').find(
        (a) =>
          onDeals(seeded, String(a.accountid)) &&
          onDeals(org.rows('email'), String(a.accountid)) &&
          onDeals(org.rows('appointment'), String(a.accountid)) &&
          org.rows('contact').some((c) => (c.parentcustomerid as { id: string } | null)?.id === a.accountid) &&
          onDeals(
            tasks.filter((t) => t.statecode === 0),
            String(a.accountid),
          ),
      )!;
      const id = String(account.accountid);
      // and a call with one of its people
      const person = org.rows('contact').find((c) => (c.parentcustomerid as { id: string } | null)?.id === id)!;
      const logged = await hb.call('create_record', {
        entity: 'phonecall',
        values: { subject: 'Renewal timing', regardingobjectid: { entity: 'contact', id: person.contactid } },
      });
      expect(logged.isError, textOf(logged)).toBeFalsy();
      // and a case of theirs waiting on them for details
      const waiting = await hb.call('create_case', { title: 'Serial numbers for the return', customer: id });
      expect(waiting.isError, textOf(waiting)).toBeFalsy();
      const held = await hb.call('update_record', {
        entity: 'incident',
        id: waiting.structuredContent.id,
        values: { statuscode: 'Waiting for Details' },
      });
      expect(held.isError, textOf(held)).toBeFalsy();
      const calls = org.rows('phonecall');
      const p = await hb.client.getPrompt({ name: 'account_brief', arguments: { account: String(account.name) } });
      const text = (p.messages[0]!.content as { text: string }).text;
      expect(text).toContain('Change nothing.');
      // found by name first
      const find = /query_entities on account with where (\{.*?\}\}), select (\[.*?\]), top (\d+);/.exec(text)!;
      const found = await hb.call('query_entities', {
        entity: 'account',
        where: JSON.parse(find[1]!),
        select: JSON.parse(find[2]!),
        top: Number(find[3]),
      });
      expect(found.structuredContent.records.map((r: { id: string }) => r.id)).toContain(id);
      const withId = text.replaceAll('<account id>', id);
      const get = /get_record on account with id "(.*?)", select (\[.*?\]) and expand (\[.*\])\.\n/.exec(withId)!;
      const record = await hb.call('get_record', {
        entity: 'account',
        id: get[1],
        select: JSON.parse(get[2]!),
        expand: JSON.parse(get[3]!),
      });
      expect(record.isError, textOf(record)).toBeFalsy();
      // the open cases say which were escalated and where each stands against its SLA; the latest notes name
      // their files
      const items = JSON.parse(get[3]!) as { relation: string; select: string[] }[];
      expect(items.find((i) => i.relation === 'incident_customer_accounts')!.select).toEqual(
        expect.arrayContaining(['isescalated', 'resolvebyslastatus', 'statuscode']),
      );
      expect(text).toContain('what any case waiting on them needs from them');
      expect(items.find((i) => i.relation === 'Account_Annotation')!.select).toContain('filename');
      // and the emails say which came with files
      expect(text).toMatch(/query_entities on email with .*, select \[[^\]]*"attachmentcount"\]/);
      const openCases = org
        .rows('incident')
        .filter((c) => (c.customerid as { id: string } | null)?.id === id && c.statecode === 0);
      expect(record.structuredContent.record.incident_customer_accounts ?? []).toHaveLength(
        Math.min(5, openCases.length),
      );
      // the case waiting on them says so: what to ask them for
      expect(
        record.structuredContent.record.incident_customer_accounts.find(
          (c: { id: string }) => c.id === waiting.structuredContent.id,
        ),
      ).toMatchObject({ title: 'Serial numbers for the return', statuscode: 'Waiting for Details (3)' });
      for (const c of record.structuredContent.record.incident_customer_accounts ?? []) {
        expect(typeof c.isescalated).toBe('boolean');
        expect(c.statuscode).toMatch(/^(In Progress \(1\)|On Hold \(2\)|Waiting for Details \(3\)|Researching \(4\))$/);
        expect(c.resolvebyslastatus).toMatch(/^(In Progress \(1\)|Nearing Noncompliance \(2\)|Noncompliant \(4\))$/);
      }
      expect(record.structuredContent.record.opportunity_customer_accounts.length).toBe(
        Math.min(
          5,
          deals.filter((d) => (d.customerid as { id: string } | null)?.id === id && d.statecode === 0).length,
        ),
      );
      // calls, emails, meetings and tasks on the account, its deals or its people
      const about = (r: Record<string, unknown>) => {
        const on = (r.regardingobjectid as { id: string } | null)?.id;
        const people = org
          .rows('contact')
          .filter((c) => (c.parentcustomerid as { id: string } | null)?.id === id)
          .map((c) => c.contactid);
        return on === id || dealsOf(id).includes(on) || people.includes(on);
      };
      const since = Date.now() - 91 * 86_400_000;
      for (const [table, expected] of [
        ['phonecall', calls.filter((c) => about(c) && Date.parse(String(c.createdon)) >= since)],
        ['email', org.rows('email').filter((m) => about(m) && Date.parse(String(m.senton)) >= since)],
        [
          'appointment',
          org.rows('appointment').filter((a) => {
            const start = Date.parse(String(a.scheduledstart));
            return about(a) && start >= since && start < Date.now() + 31 * 86_400_000;
          }),
        ],
        ['task', tasks.filter((t) => about(t) && t.statecode === 0)],
      ] as const) {
        const { got, top } = await runPromptQuery(hb, withId, table);
        expect(expected.length, table).toBeGreaterThan(0);
        if (table === 'phonecall') expect(got).toContain(logged.structuredContent.id);
        expect(got).toHaveLength(Math.min(expected.length, top));
        expect(expected.map((x) => x.activityid)).toEqual(expect.arrayContaining(got));
      }
      // what they buy: the products on the account's won and open deals, newest first
      const bought = new Set(
        deals.filter((d) => dealsOf(id).includes(d.opportunityid) && d.statecode !== 2).map((d) => d.opportunityid),
      );
      const lines = org.rows('opportunityproduct').filter((l) => bought.has((l.opportunityid as { id: string }).id));
      expect(lines.length).toBeGreaterThan(0);
      const products = await runPromptQuery(hb, withId, 'opportunityproduct');
      expect(products.got).toHaveLength(Math.min(lines.length, products.top));
      expect(lines.map((l) => l.opportunityproductid)).toEqual(expect.arrayContaining(products.got));
      expect(text).toContain('what they have bought and what is proposed to them');
      // given its id, the brief starts there
      const byId = await hb.client.getPrompt({ name: 'account_brief', arguments: { account: id.toUpperCase() } });
      const idText = (byId.messages[0]!.content as { text: string }).text;
      expect(idText).toContain(`Its id is ${id}.`);
      expect(idText).toContain(`get_record on account with id "${id}"`);
      expect(idText).not.toContain('<account id>');
    } finally {
      await hb.close();
      await org.close();
    }
  });

  it('deal_review: the calls it asks for run as written and find the deal, its products, activities and what is due', async () => {
    const org = await startTestEmulator({ scale: 120 });
    const hb = await connectInMemory(org);
    try {
      const about = (r: Record<string, unknown>) => (r.regardingobjectid as { id: string } | null)?.id;
      const linesOf = (id: unknown) =>
        org.rows('opportunityproduct').filter((l) => (l.opportunityid as { id: string }).id === id);
      // an open deal with products, activities and an open task, whose name no other deal shares
      const deal = org.rows('opportunity').find(
        (d) =>
          d.statecode === 0 &&
          linesOf(d.opportunityid).length > 1 &&
          org.rows('task').some((t) => about(t) === d.opportunityid && t.statecode === 0) &&
          org.rows('opportunity').filter((o) => o.name === d.name).length === 1 &&
          // one of its own making, which runs the Opportunity Sales Process (one from a lead: below)
          d.originatingleadid == null,
      )!;
      const id = String(deal.opportunityid);
      const p = await hb.client.getPrompt({ name: 'deal_review', arguments: { deal: String(deal.name) } });
      const text = (p.messages[0]!.content as { text: string }).text;
      expect(text).toContain('Change nothing unless I ask.');
      const find = /query_entities on opportunity with where (\{.*?\}\}), select (\[.*?\]), top (\d+);/.exec(text)!;
      const found = await hb.call('query_entities', {
        entity: 'opportunity',
        where: JSON.parse(find[1]!),
        select: JSON.parse(find[2]!),
        top: Number(find[3]),
      });
      expect(found.structuredContent.records.map((r: { id: string }) => r.id)).toContain(id);
      const withId = text.replaceAll('<deal id>', id);
      const get = /get_record on opportunity with id "(.*?)", select (\[.*?\]) and expand (\[.*\])\.\n/.exec(withId)!;
      const record = await hb.call('get_record', {
        entity: 'opportunity',
        id: get[1],
        select: JSON.parse(get[2]!),
        expand: JSON.parse(get[3]!),
      });
      expect(record.isError, textOf(record)).toBeFalsy();
      // each product on it, in the order Dynamics keeps them
      expect(record.structuredContent.record.product_opportunities.map((l: { id: string }) => l.id)).toEqual(
        linesOf(id)
          .sort((a, b) => Number(a.sequencenumber) - Number(b.sequencenumber))
          .map((l) => l.opportunityproductid),
      );
      expect(record.structuredContent.record).toHaveProperty('isrevenuesystemcalculated');
      // what happened on it, and what is due
      const activities = await runPromptQuery(hb, withId, 'activitypointer');
      const onIt = org.rows('activitypointer').filter((a) => about(a) === id);
      expect(activities.got.length).toBe(Math.min(onIt.length, activities.top));
      const due = await runPromptQuery(hb, withId, 'task');
      const open = org.rows('task').filter((t) => about(t) === id && t.statecode === 0);
      expect(due.got.sort()).toEqual(open.map((t) => String(t.activityid)).sort());
      // since when it is at its stage: its run of the Sales Process, the one bar its form shows
      const bar = await runPromptQuery(hb, withId, 'opportunitysalesprocess');
      const runs = org
        .rows('opportunitysalesprocess')
        .filter((r) => (r.opportunityid as { id: string }).id === id && r.statecode === 0);
      expect(runs).toHaveLength(1);
      expect(bar.got).toEqual([String(runs[0]!.businessprocessflowinstanceid)]);
      expect(text).toContain('the same stage for over 30 days');
      // a deal made from a lead runs the lead's process: the same query there finds its run
      expect(text).toContain('If it has none (a deal made from a lead), the same on leadtoopportunitysalesprocess.');
      const leadDeal = org.rows('opportunity').find((o) => o.originatingleadid && o.statecode === 0)!;
      const fromLead = await hb.call('query_entities', {
        entity: 'leadtoopportunitysalesprocess',
        where: { opportunityid: String(leadDeal.opportunityid), statecode: 'Active' },
        select: ['activestageid', 'activestagestartedon'],
        top: 1,
      });
      expect(fromLead.isError, textOf(fromLead)).toBeFalsy();
      expect(fromLead.structuredContent.records).toHaveLength(1);
      // the fixes it may offer are the writes this server makes, products removed among them
      expect(text).toContain('a product the customer dropped removed (delete_record)');
      expect(text).toContain('do only what I pick');
      // given its id, the review starts there
      const byId = await hb.client.getPrompt({ name: 'deal_review', arguments: { deal: id.toUpperCase() } });
      const idText = (byId.messages[0]!.content as { text: string }).text;
      expect(idText).toContain(`Its id is ${id}.`);
      expect(idText).not.toContain('<deal id>');
      // read-only, it offers no change at all; where no line may be deleted, no removal
      const ro = await connectInMemory(org, { env: { DYNAMICS_MCP_READ_ONLY: 'true' } });
      const keep = builtInPolicyWith('review-no-delete', (e) => ({
        ...e,
        opportunityproduct: { ...e.opportunityproduct!, delete: false },
      }));
      const kept = await connectInMemory(org, { env: { DYNAMICS_MCP_POLICY: keep } });
      try {
        const roText = await ro.client.getPrompt({ name: 'deal_review', arguments: { deal: id } });
        expect((roText.messages[0]!.content as { text: string }).text).not.toMatch(
          /update_record|create_record|delete_record/,
        );
        const keptText = await kept.client.getPrompt({ name: 'deal_review', arguments: { deal: id } });
        const t = (keptText.messages[0]!.content as { text: string }).text;
        expect(t).toContain('a product added (create_record on opportunityproduct)');
        expect(t).not.toContain('delete_record');
      } finally {
        await ro.close();
        await kept.close();
      }
    } finally {
      await hb.close();
      await org.close();
    }
  });

  it('the demo organisation gives every seller a day to plan: daily_agenda finds a meeting today and a task due for each', async () => {
    // the demo's own size (app.ts: DEMO_SCALE, 60)
    const demo = await startTestEmulator({ scale: 60 });
    const hd = await connectInMemory(demo);
    try {
      const sellers = new Set(
        demo
          .rows('opportunity')
          .filter((o) => o.statecode === 0)
          .map((o) => (o.ownerid as { id: string }).id),
      );
      expect(sellers.size).toBeGreaterThan(3);
      const today = new Date().toISOString().slice(0, 10);
      for (const id of sellers) {
        const owner = demo.rows('systemuser').find((u) => u.systemuserid === id)!;
        const p = await hd.client.getPrompt({ name: 'daily_agenda', arguments: { owner: String(owner.fullname) } });
        const text = (p.messages[0]!.content as { text: string }).text;
        const meetings = (await runPromptQuery(hd, text, 'appointment')).got;
        const tasks = (await runPromptQuery(hd, text, 'task')).got;
        const held = (table: string, ids: string[], column: string) =>
          demo.rows(table).filter((r) => ids.includes(String(r.activityid)) && String(r[column]).startsWith(today));
        expect(held('appointment', meetings, 'scheduledstart').length, String(owner.fullname)).toBeGreaterThan(0);
        expect(held('task', tasks, 'scheduledend').length, String(owner.fullname)).toBeGreaterThan(0);
      }
    } finally {
      await hd.close();
      await demo.close();
    }
  });

  it("daily_agenda: each query it asks for runs as written and finds that owner's tasks, meetings, deals and cases", async () => {
    // the owner of an open deal, which will close today
    const deal = emu.rows('opportunity').find((o) => o.statecode === 0)!;
    const ownerId = (deal.ownerid as { id: string }).id;
    const owner = emu.rows('systemuser').find((u) => u.systemuserid === ownerId)!;
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    // one task certainly overdue for them
    const made = await h.call('create_record', {
      entity: 'task',
      values: {
        subject: 'Chase the signed order',
        scheduledend: `${day(-2)}T09:00:00Z`,
        ownerid: { entity: 'systemuser', id: ownerId },
      },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    const closing = await h.call('update_record', {
      entity: 'opportunity',
      id: String(deal.opportunityid),
      values: { estimatedclosedate: day(0) },
    });
    expect(closing.isError, textOf(closing)).toBeFalsy();
    // a meeting today someone else set up, which they attend (meetings are read only in the built-in policy; an
    // administrator who lets the model make them lets it name the attendees, a party list like a call's To)
    const other = emu.rows('systemuser').find((u) => u.systemuserid !== ownerId && u.isdisabled === false)!;
    const meetings = builtInPolicyWith('meetings', (e) => ({
      ...e,
      appointment: {
        ...e.appointment!,
        create: true,
        write: ['subject', 'scheduledstart', 'scheduledend', 'requiredattendees', 'ownerid'],
      },
    }));
    const hm = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: meetings } });
    const invited = await hm.call('create_record', {
      entity: 'appointment',
      values: {
        subject: 'Quarterly review (invited)',
        scheduledstart: `${day(0)}T15:00:00Z`,
        scheduledend: `${day(0)}T16:00:00Z`,
        ownerid: { entity: 'systemuser', id: String(other.systemuserid) },
        requiredattendees: String(owner.fullname),
      },
    });
    await hm.close();
    expect(invited.isError, textOf(invited)).toBeFalsy();
    const p = await h.client.getPrompt({ name: 'daily_agenda', arguments: { owner: String(owner.fullname) } });
    const text = (p.messages[0]!.content as { text: string }).text;
    const mine = (r: Record<string, unknown>) => (r.ownerid as { id: string } | null)?.id === ownerId;
    const attends = (r: Record<string, unknown>) =>
      emu
        .rows('activityparty')
        .some(
          (x) => (x.activityid as { id: string }).id === r.activityid && (x.partyid as { id: string }).id === ownerId,
        );
    const now = new Date();
    const sunday = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - now.getUTCDay() * 86_400_000;
    const week = [sunday, sunday + 7 * 86_400_000];
    const expected: Record<string, Record<string, unknown>[]> = {
      task: emu
        .rows('task')
        .filter((t) => mine(t) && t.statecode === 0 && String(t.scheduledend).slice(0, 10) <= day(0)),
      appointment: emu
        .rows('appointment')
        .filter((a) => (mine(a) || attends(a)) && String(a.scheduledstart).startsWith(day(0))),
      opportunity: emu.rows('opportunity').filter((o) => {
        const close = Date.parse(`${o.estimatedclosedate}T00:00:00Z`);
        return mine(o) && o.statecode === 0 && close >= week[0]! && close < week[1]!;
      }),
      incident: emu.rows('incident').filter((c) => mine(c) && c.statecode === 0 && c.prioritycode === 1),
    };
    const key: Record<string, string> = {
      task: 'activityid',
      appointment: 'activityid',
      opportunity: 'opportunityid',
      incident: 'incidentid',
    };
    for (const [table, rows] of Object.entries(expected)) {
      const { got } = await runPromptQuery(h, text, table);
      expect(new Set(got), table).toEqual(new Set(rows.map((x) => x[key[table]!])));
    }
    expect(expected.task!.map((t) => t.activityid)).toContain(made.structuredContent.id);
    expect(expected.appointment!.map((a) => a.activityid)).toContain(invited.structuredContent.id);
    expect(expected.opportunity!.map((o) => o.opportunityid)).toContain(deal.opportunityid);
    await h.call('update_record', {
      entity: 'opportunity',
      id: String(deal.opportunityid),
      values: { estimatedclosedate: deal.estimatedclosedate },
    });
    expect(text).toContain('update_record with statecode "Completed"');
    const ro = await connectInMemory(emu, { env: { DYNAMICS_MCP_READ_ONLY: 'true' } });
    try {
      const rp = await ro.client.getPrompt({ name: 'daily_agenda', arguments: { owner: String(owner.fullname) } });
      expect((rp.messages[0]!.content as { text: string }).text).not.toContain('update_record');
    } finally {
      await ro.close();
    }
  });

  it('review_pipeline finds the large open deals nobody has called in 30 days, with a where query_entities takes', async () => {
    const { r, top } = await pipelineQuery('largest open deals with no call logged in the last 30 days:');
    const now = new Date();
    const since = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 30 * 86_400_000;
    const called = new Set(
      emu
        .rows('phonecall')
        .filter((c) => Date.parse(String(c.createdon)) >= since)
        .map((c) => (c.regardingobjectid as { id: string } | null)?.id),
    );
    const quiet = emu
      .rows('opportunity')
      .filter((o) => o.statecode === 0 && !called.has(String(o.opportunityid)))
      .sort((a, b) => Number(b.estimatedvalue ?? 0) - Number(a.estimatedvalue ?? 0));
    // some open deals had a call, and are left out
    expect(emu.rows('opportunity').filter((o) => o.statecode === 0).length).toBeGreaterThan(quiet.length);
    expect(r.structuredContent.records.map((x: { id: string }) => x.id)).toEqual(
      quiet.slice(0, top).map((o) => o.opportunityid),
    );
    // a read: asked in read-only mode too
    const ro = await connectInMemory(emu, { env: { DYNAMICS_MCP_READ_ONLY: 'true' } });
    try {
      const rp = await ro.client.getPrompt({ name: 'review_pipeline', arguments: {} });
      expect((rp.messages[0]!.content as { text: string }).text).toContain('no call logged in the last 30 days');
    } finally {
      await ro.close();
    }
  });

  it('review_pipeline finds the open deals with no open task, with a where query_entities takes', async () => {
    const { text, r, top } = await pipelineQuery('largest open deals with no open task (');
    const busy = new Set(
      emu
        .rows('task')
        .filter((t) => t.statecode === 0)
        .map((t) => (t.regardingobjectid as { id: string } | null)?.id),
    );
    const idle = emu
      .rows('opportunity')
      .filter((o) => o.statecode === 0 && !busy.has(String(o.opportunityid)))
      .sort((a, b) => Number(b.estimatedvalue ?? 0) - Number(a.estimatedvalue ?? 0));
    // some open deals have an open task, and are left out
    expect(emu.rows('opportunity').filter((o) => o.statecode === 0).length).toBeGreaterThan(idle.length);
    expect(idle.length).toBeGreaterThan(0);
    expect(r.structuredContent.records.map((x: { id: string }) => x.id)).toEqual(
      idle.slice(0, top).map((o) => o.opportunityid),
    );
    expect(text).toContain('create_record on task');
    // read-only, nothing is offered that could not be made
    const ro = await connectInMemory(emu, { env: { DYNAMICS_MCP_READ_ONLY: 'true' } });
    try {
      const rp = await ro.client.getPrompt({ name: 'review_pipeline', arguments: {} });
      expect((rp.messages[0]!.content as { text: string }).text).not.toContain('create_record');
    } finally {
      await ro.close();
    }
  });
});
