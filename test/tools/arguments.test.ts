import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { issueText } from '../../src/tools/support/result.js';
import { apiRequests } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// zod drops keys an object does not declare: before this, `limit` returned 50 rows, `filters` an unfiltered
// list and `emailaddress1` a lead without its email (and without the duplicate check), each reported as done.
// A name that can mean only one argument is now read as it (below); the rest are refused, naming the one meant
describe('an argument a tool does not have is refused, naming the one meant', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  let account: { id: string; name: string };
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 20 });
    const a = emu.rows('account')[0]!;
    account = { id: String(a.accountid), name: String(a.name) };
    h = await connectInMemory(emu);
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  const cases: [string, RegExp, () => Record<string, unknown>][] = [
    // an argument under another name as well as its own, or under two others: which one holds is not guessed
    [
      'query_entities',
      /^query_entities has no argument 'limit' \(use 'top'\)\. Its arguments: entity, select, where, filter, orderBy, top, expand, count, cursor\.$/,
      () => ({ entity: 'account', limit: 3, top: 5 }),
    ],
    [
      'query_entities',
      /^query_entities has no argument 'filters' \(use 'where'\), 'conditions' \(use 'where'\)\. /,
      () => ({ entity: 'account', filters: { name: 'x' }, conditions: { name: 'y' } }),
    ],
    [
      'query_entities',
      /^query_entities has no argument 'orderby' \(use 'orderBy'\)\./,
      () => ({ entity: 'account', orderBy: 'name', orderby: 'revenue desc' }),
    ],
    // Dataverse takes no $skip: said, with the way the next rows come
    [
      'query_entities',
      /^query_entities has no argument 'skip' \(use 'cursor'\)\. Its arguments: entity, select, where, filter, orderBy, top, expand, count, cursor\. Dataverse takes no skip or offset: the rows after a page come with the cursor that answer gave \(hasMore true\); call again with the same arguments and that cursor\.$/,
      () => ({ entity: 'account', top: 5, skip: 5 }),
    ],
    // one column's description asked for: the table's holds it
    [
      'describe_entity',
      /^describe_entity has no argument 'columns'\. Its arguments: entity\. It describes every column of the table the policy lets you use, each with its type and a choice's values: read the one you need from it\.$/,
      () => ({ entity: 'opportunity', columns: ['statecode'] }),
    ],
    [
      'get_record',
      /^get_record has no argument 'accountid' \(use 'id'\)/,
      () => ({ entity: 'account', accountid: account.id }),
    ],
    // a part of a name, or another column, is a query
    [
      'get_record',
      /^get_record has no argument 'accountnumber'\. .* its whole name, given as id; to find records by another column or part of a name, use query_entities with where/,
      () => ({ entity: 'account', accountnumber: 'ACC-1042' }),
    ],
    // relevance search, said with the condition that finds a word in a column
    [
      'query_entities',
      /^query_entities has no argument 'search' \(use 'where'\)\. Its arguments: .*\. Relevance search is not offered here: a word in a column is a where condition, e\.g\. \{"where": \{"name": \{"contains": "<the word>"\}\}\} \(fullname for a contact or lead, title for a case, subject for an activity\)\.$/,
      () => ({ entity: 'account', search: 'x' }),
    ],
    // a condition with a column beside column/op/value would otherwise lose that column without a word
    [
      'query_entities',
      /^where: a condition has only column, op and value \(or and\/or\/not\), not 'statecode'\. For more than one condition, group them/,
      () => ({ entity: 'account', where: { column: 'name', op: 'contains', value: 'a', statecode: 0 } }),
    ],
    [
      'describe_entity',
      /^describe_entity has no argument 'table' \(use 'entity'\)/,
      () => ({ table: 'lead', entity: 'account' }),
    ],
    // the largest deals or the largest groups: not guessed
    ['pipeline_summary', /'top' \(use 'topDeals'\)/, () => ({ top: 10 })],
    // a name that is not a column's (Dataverse's are lower case) is shown where a column would go, not moved
    [
      'create_lead',
      /^create_lead has no argument 'jobTitle'\. .* Other lead columns go in "extra": \{"extra": \{"jobTitle": "CTO"\}\}\.$/,
      () => ({ firstname: 'Ana', lastname: 'Silva', emailaddress1: 'ana.silva@example.com', jobTitle: 'CTO' }),
    ],
    // and so is every other one given with it: a call is read whole or refused whole
    [
      'update_record',
      /^update_record has no argument 'dryRun', 'telephone1'\. .* Columns to change go in "values": \{"values": \{"dryRun": true, "telephone1": "1"\}\}\.$/,
      () => ({ entity: 'account', id: account.id, dryRun: true, telephone1: '1' }),
    ],
    // a whole name is not split by the server: which part is the family name depends on the person
    [
      'create_lead',
      /^create_lead has no argument 'fullName' \(use 'firstName' and 'lastName'\)\./,
      () => ({ fullName: 'Ana Silva', email: 'ana.silva@example.com' }),
    ],
    // a record held as update_record's values could as well be the record to change: not guessed
    [
      'update_record',
      /^update_record has no argument 'record' \(use 'values'\)\./,
      () => ({ entity: 'account', id: account.id, record: { telephone1: '1' } }),
    ],
    [
      'create_case',
      /^create_case has no argument 'severity' \(use 'priority'\)/,
      () => ({ title: 'Printer on fire', customer: { accountId: account.id }, severity: 'high' }),
    ],
    // a value of no type the argument takes says what it takes, not "is not of a type it takes" (zod's unions)
    [
      'create_lead',
      /^source is a label such as "Web", or its number\.$/,
      () => ({ lastName: 'Silva', email: 'ana.silva@example.com', source: { label: 'Web' } }),
    ],
    [
      'create_lead',
      /^extra\.jobtitle: each extra value is text, a number, true\/false or null\.$/,
      () => ({ lastName: 'Silva', email: 'ana.silva@example.com', extra: { jobtitle: ['CTO'] } }),
    ],
    // an operator that is no text: said so with the list, not as zod's "expected one of "eq"|"ne"|…"
    [
      'query_entities',
      /^where\.op: op is an operator's name as text, e\.g\. "eq"\. Operators: eq, ne, gt, .*, currentUser\.$/,
      () => ({ entity: 'account', where: { column: 'revenue', op: { gt: 5 }, value: 1 } }),
    ],
    // a reason can as well be the resolution's words
    [
      'resolve_case',
      /^resolve_case has no argument 'reason' \(use 'status'\)\. Its arguments: id, resolution, status, billableMinutes\.$/,
      () => ({ id: account.id, reason: 'Fixed by the customer' }),
    ],
    [
      'add_note',
      /^add_note has no argument 'regarding' \(use 'id'\)\. Its arguments: entity, id, text, title\.$/,
      () => ({ regarding: account.id, id: account.id, text: 'Called back' }),
    ],
    // a name beside the id is a new name, not the record: shown in values (it is the record only without an id)
    [
      'update_record',
      /^update_record has no argument 'name'\. .* Columns to change go in "values", beside what it holds: \{"values": \{"name": "Litware Renamed"\}\}\.$/,
      () => ({ entity: 'account', id: account.id, values: { telephone1: '555-0100' }, name: 'Litware Renamed' }),
    ],
    // a column given both beside values and in it: which value holds is not guessed
    [
      'update_record',
      /^update_record has no argument 'statecode'\. .* Columns to change go in "values", beside what it holds: \{"values": \{"statecode": 1\}\}\.$/,
      () => ({ entity: 'account', id: account.id, values: { statecode: 0 }, statecode: 1 }),
    ],
  ];

  it.each(cases)('%s: %s', async (tool, message, args) => {
    const since = emu.requests().length;
    const leads = emu.rows('lead').length;
    const cases = emu.rows('incident').length;
    const before = JSON.stringify(emu.rows('account').find((a) => a.accountid === account.id));
    const r = await h.call(tool, args());
    expect(r.isError).toBe(true);
    // said as every other refusal is, not as the SDK's "MCP error -32602: Input validation error: …"
    const [first, fix, ...more] = textOf(r).split('\n');
    expect(first).toMatch(/^Error \(bad_input\): /);
    const text = first!.replace(/^Error \(bad_input\): /, '');
    expect(text).toMatch(message);
    expect(fix).toBe(
      `How to fix: Call ${tool} again with that argument corrected; its input schema (tools/list) says what each one takes.`,
    );
    // the one cause, once: not also "expected string, received undefined" for the argument it was meant as
    expect(more).toEqual([]);
    expect(text).not.toMatch(/received undefined| at \w+$/);
    // nothing was read or written
    expect(apiRequests(emu, since)).toEqual([]);
    expect(emu.rows('lead')).toHaveLength(leads);
    expect(emu.rows('incident')).toHaveLength(cases);
    expect(JSON.stringify(emu.rows('account').find((a) => a.accountid === account.id))).toBe(before);
  });

  it("zod's own words name the argument, several causes are said together, and a tool that does not exist lists those that do", async () => {
    const r = await h.call('query_entities', { entity: 'account', top: 'lots', select: 5 });
    expect(textOf(r)).toMatch(
      /^Error \(bad_input\): select is a list of column names, .* top takes a number of rows, at most 5000, not 'lots': for every record, pass 5000 and continue with the cursor while hasMore is true; to count them, count: true or aggregate_records\.\nHow to fix: Call query_entities again with those arguments corrected; its input schema \(tools\/list\) says what each one takes\.$/,
    );
    // an argument left out is said to be required, not "expected string, received undefined"
    const left = await h.call('create_lead', { firstName: 'Ana', email: 'ana.left-out@example.com' });
    expect(textOf(left)).toBe(
      'Error (bad_input): lastName is required.\nHow to fix: Call create_lead again with that argument corrected; its input schema (tools/list) says what each one takes.',
    );
    // a name past its bound (tools/list leaves such bounds out: list-cache.ts) is refused with the bound, and a
    // text argument sent empty with what to do
    const long = await h.call('create_lead', { lastName: 'x'.repeat(51), email: 'ana.long@example.com' });
    expect(textOf(long)).toMatch(/^Error \(bad_input\): lastName takes at most 50 characters\.\n/);
    // bounds tools/list leaves out (a cursor, a sort, a column path: list-cache.ts) are checked all the same
    for (const [args, message] of [
      [{ cursor: 'c'.repeat(8001) }, 'cursor takes at most 8,000 characters.'],
      [{ orderBy: `name${', name'.repeat(100)}` }, 'orderBy takes at most 500 characters.'],
      [{ where: { column: 'n'.repeat(201), op: 'null' } }, 'where.column takes at most 200 characters.'],
    ] as const) {
      const r = await h.call('query_entities', { entity: 'account', ...args });
      expect(textOf(r)).toMatch(new RegExp(`^Error \\(bad_input\\): ${message.replace(/[.]/g, '\\.')}\n`));
    }
    const empty = await h.call('query_entities', { entity: '' });
    expect(textOf(empty)).toMatch(/^Error \(bad_input\): entity: empty text: give a value/);
    const none = await h.call('create_contact', { lastname: 'Silva' });
    expect(none.isError).toBe(true);
    expect(textOf(none)).toBe(
      "Error (bad_input): There is no tool 'create_contact'.\n" +
        "How to fix: Use one of this server's tools: describe_entity, query_entities, aggregate_records, get_record, pipeline_summary, create_lead, create_case, resolve_case, update_record, create_record, add_note, delete_record.",
    );
    expect(apiRequests(emu, 0).filter((q) => q.method !== 'GET')).toEqual([]);
    // what the client sent is echoed through the same scrubber as every answer
    const secret = String(emu.env.AZURE_CLIENT_SECRET);
    const echoed = await h.call(`x${secret}`, {});
    expect(textOf(echoed)).toMatch(/^Error \(bad_input\): There is no tool 'x\[redacted\]'\./);
  });

  it('the same calls with the documented names do what was asked', async () => {
    const three = await h.call('query_entities', { entity: 'account', top: 3 });
    expect(three.structuredContent.records).toHaveLength(3);
    const lead = await h.call('create_lead', {
      firstName: 'Ana',
      lastName: 'Silva',
      email: 'ana.silva@example.com',
      extra: { jobtitle: 'CTO' },
    });
    expect(lead.isError).toBeFalsy();
    expect(emu.rows('lead').filter((l) => l.emailaddress1 === 'ana.silva@example.com')).toMatchObject([
      { firstname: 'Ana', lastname: 'Silva', jobtitle: 'CTO' },
    ]);
  });

  it("an argument's name in another casing is that argument: lastname is lastName, orderby orderBy", async () => {
    const lead = await h.call('create_lead', {
      firstname: 'Rui',
      LastName: 'Costa',
      email: 'rui.costa@example.com',
      extra: { jobtitle: 'CFO' },
    });
    expect(lead.isError, textOf(lead)).toBeFalsy();
    expect(emu.rows('lead').filter((l) => l.emailaddress1 === 'rui.costa@example.com')).toMatchObject([
      { firstname: 'Rui', lastname: 'Costa', jobtitle: 'CFO' },
    ]);
    const sorted = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      orderBy: 'name desc',
      top: 5,
    });
    const cased = await h.call('query_entities', { Entity: 'account', select: ['name'], orderby: 'name desc', TOP: 5 });
    expect(cased.isError, textOf(cased)).toBeFalsy();
    expect(cased.structuredContent.records).toEqual(sorted.structuredContent.records);
    expect(cased.structuredContent.records).toHaveLength(5);
    // and in each of several leads
    const two = await h.call('create_lead', {
      leads: [
        { lastname: 'Moreau', email: 'l.moreau@example.com' },
        { LASTNAME: 'Weber', email: 'k.weber@example.com' },
      ],
    });
    expect(two.isError, textOf(two)).toBeFalsy();
    expect(emu.rows('lead').filter((l) => ['Moreau', 'Weber'].includes(String(l.lastname)))).toHaveLength(2);
  });

  it('columns given beside extra or values, named as Dataverse names them, are written as if in it', async () => {
    const made = await h.call('create_lead', {
      firstname: 'Ana',
      lastname: 'Silva',
      emailaddress1: 'ana.silva@beside.example',
      jobtitle: 'CTO',
      mobilephone: '+47 900 00 000',
      extra: { address1_city: 'Oslo' },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    expect(emu.rows('lead').filter((l) => l.emailaddress1 === 'ana.silva@beside.example')).toMatchObject([
      { firstname: 'Ana', lastname: 'Silva', jobtitle: 'CTO', mobilephone: '+47 900 00 000', address1_city: 'Oslo' },
    ]);
    // in a list of leads too, each its own
    const listed = await h.call('create_lead', {
      leads: [
        { lastName: 'Berg', email: 'berg@beside.example', jobtitle: 'CFO' },
        { lastName: 'Dahl', email: 'dahl@beside.example', address1_city: 'Bergen' },
      ],
    });
    expect(listed.isError, textOf(listed)).toBeFalsy();
    expect(emu.rows('lead').find((l) => l.emailaddress1 === 'berg@beside.example')).toMatchObject({ jobtitle: 'CFO' });
    expect(emu.rows('lead').find((l) => l.emailaddress1 === 'dahl@beside.example')).toMatchObject({
      address1_city: 'Bergen',
    });
    const changed = await h.call('update_record', {
      entity: 'account',
      id: account.id,
      telephone1: '555-0177',
      values: { websiteurl: 'https://beside.example' },
    });
    expect(changed.isError, textOf(changed)).toBeFalsy();
    expect(emu.rows('account').find((a) => a.accountid === account.id)).toMatchObject({
      telephone1: '555-0177',
      websiteurl: 'https://beside.example',
    });
    // a name that is no column is refused as one would be in values, and the call writes nothing
    const before = JSON.stringify(emu.rows('account').find((a) => a.accountid === account.id));
    const wrong = await h.call('update_record', {
      entity: 'account',
      id: account.id,
      reason: 'asked',
      telephone1: '1',
    });
    expect(textOf(wrong)).toMatch(/^Error \(unknown_column\): 'reason' is not a column of account\./);
    expect(JSON.stringify(emu.rows('account').find((a) => a.accountid === account.id))).toBe(before);
  });

  it("update_record's values as a list of column/value pairs are the object they spell; a column named twice is refused", async () => {
    const changed = await h.call('update_record', {
      entity: 'account',
      id: account.id,
      values: [
        { column: 'telephone1', value: '555-0191' },
        { field: 'websiteurl', value: 'https://pairs.example' },
      ],
    });
    expect(changed.isError, textOf(changed)).toBeFalsy();
    expect(emu.rows('account').find((a) => a.accountid === account.id)).toMatchObject({
      telephone1: '555-0191',
      websiteurl: 'https://pairs.example',
    });
    const before = JSON.stringify(emu.rows('account').find((a) => a.accountid === account.id));
    const twice = await h.call('update_record', {
      entity: 'account',
      id: account.id,
      values: [
        { column: 'telephone1', value: '1' },
        { column: 'Telephone1', value: '2' },
      ],
    });
    expect(textOf(twice)).toContain('values is an object of column → new value');
    expect(JSON.stringify(emu.rows('account').find((a) => a.accountid === account.id))).toBe(before);
  });

  it("a name that can mean only one argument is read as it: limit is top, topic a lead's subject, name a record's id", async () => {
    const since = emu.requests().length;
    const asked = await h.call('query_entities', {
      table: 'account',
      columns: ['name'],
      conditions: { statecode: 'Active' },
      sortBy: 'name desc',
      limit: 3,
    });
    expect(asked.isError, textOf(asked)).toBeFalsy();
    const [sent] = apiRequests(emu, since);
    expect(decodeURIComponent(sent!.url)).toMatch(
      /^\/api\/data\/v9\.2\/accounts\?\$select=name&\$filter=statecode eq 0&\$orderby=name desc$/,
    );
    expect(asked.structuredContent.records).toHaveLength(3);
    // a lead's columns under their own names, and the lead form's label for subject
    const lead = await h.call('create_lead', {
      lastName: 'Okafor',
      emailaddress1: 'c.okafor@example.com',
      companyname: 'Okafor Freight',
      topic: 'Fleet tracking',
      message: 'Wants a quote for 40 trucks',
    });
    expect(lead.isError, textOf(lead)).toBeFalsy();
    expect(emu.rows('lead').filter((l) => l.emailaddress1 === 'c.okafor@example.com')).toMatchObject([
      {
        lastname: 'Okafor',
        companyname: 'Okafor Freight',
        subject: 'Fleet tracking',
        description: 'Wants a quote for 40 trucks',
      },
    ]);
    // a record named where id is missing: name for update_record, add_note and get_record
    const renamed = await h.call('update_record', {
      entity: 'account',
      name: account.name,
      values: { telephone1: '555-0142' },
    });
    expect(renamed.isError, textOf(renamed)).toBeFalsy();
    expect(emu.rows('account').find((a) => a.accountid === account.id)!.telephone1).toBe('555-0142');
    const read = await h.call('get_record', { table: 'account', name: account.name, columns: ['telephone1'] });
    expect(read.structuredContent).toMatchObject({ id: account.id, record: { telephone1: '555-0142' } });
    const noted = await h.call('add_note', { regarding: account.id, note: 'Renewal call booked' });
    expect(noted.isError, textOf(noted)).toBeFalsy();
    expect(emu.rows('annotation').filter((n) => n.notetext === 'Renewal call booked')).toMatchObject([
      { objectid: { entity: 'account', id: account.id } },
    ]);
    // the customer named at the top level, an account beside its contact: both hold
    const contact = emu.rows('contact').find((c) => (c.parentcustomerid as { id?: string } | null)?.id === account.id)!;
    const opened = await h.call('create_case', {
      subject: 'Badge reader offline',
      accountName: account.name,
      contactId: String(contact.contactid),
      prioritycode: 'High',
    });
    expect(opened.isError, textOf(opened)).toBeFalsy();
    expect(emu.rows('incident').find((i) => i.incidentid === opened.structuredContent.id)).toMatchObject({
      title: 'Badge reader offline',
      customerid: { entity: 'account', id: account.id },
      primarycontactid: { entity: 'contact', id: contact.contactid },
      prioritycode: 1,
    });
    const resolved = await h.call('resolve_case', { caseId: opened.structuredContent.id, summary: 'Rebooted' });
    expect(resolved.isError, textOf(resolved)).toBeFalsy();
    expect(emu.rows('incident').find((i) => i.incidentid === opened.structuredContent.id)!.statecode).toBe(1);
  });

  // clients that send every argument as text: anthropics/claude-code#24597, github/github-mcp-server#2044
  it('arguments sent as text, as some clients do, are read as their declared type', async () => {
    const asText = (args: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(args).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    const query = {
      entity: 'account',
      select: ['name'],
      where: { column: 'statecode', op: 'eq', value: 0 },
      orderBy: 'name asc',
      top: 4,
      count: true,
    };
    const native = await h.call('query_entities', query);
    const text = await h.call('query_entities', asText(query));
    expect(text.isError, textOf(text)).toBeFalsy();
    expect(text.structuredContent.records).toEqual(native.structuredContent.records);
    expect(text.structuredContent.totalCount).toBe(native.structuredContent.totalCount);
    const groups = { entity: 'account', groupBy: ['statecode'], measures: [{ op: 'count' }], top: 5 };
    const aggregated = await h.call('aggregate_records', asText(groups));
    expect(aggregated.isError, textOf(aggregated)).toBeFalsy();
    expect(aggregated.structuredContent).toEqual((await h.call('aggregate_records', groups)).structuredContent);
    // writes: the object arrives whole
    const updated = await h.call(
      'update_record',
      asText({ entity: 'account', id: account.id, values: { telephone1: '555-0199' } }),
    );
    expect(updated.isError, textOf(updated)).toBeFalsy();
    expect(emu.rows('account').find((a) => a.accountid === account.id)!.telephone1).toBe('555-0199');
    // several records, their list sent as text: the list, not one record named '["…"]'
    const other = emu.rows('account').find((a) => a.accountid !== account.id)!;
    const both = await h.call(
      'update_record',
      asText({ entity: 'account', id: [account.id, other.accountid], values: { telephone1: '555-0177' } }),
    );
    expect(both.isError, textOf(both)).toBeFalsy();
    for (const id of [account.id, other.accountid])
      expect(emu.rows('account').find((a) => a.accountid === id)!.telephone1).toBe('555-0177');
    // and several records' values for create_record, as text
    const made = await h.call(
      'create_record',
      asText({ entity: 'account', values: [{ name: 'Sent As Text One' }, { name: 'Sent As Text Two' }] }),
    );
    expect(made.isError, textOf(made)).toBeFalsy();
    expect(emu.rows('account').filter((a) => String(a.name).startsWith('Sent As Text '))).toHaveLength(2);
    const opened = await h.call(
      'create_case',
      asText({ title: 'Sent as text', customer: { accountId: account.id }, priority: 'low' }),
    );
    expect(opened.isError, textOf(opened)).toBeFalsy();
    expect(emu.rows('incident').find((i) => i.incidentid === opened.structuredContent.id)).toMatchObject({
      title: 'Sent as text',
      prioritycode: 3,
    });
    // and a whole number where text is declared is that text: an alert id
    const alert = await h.call('create_case', {
      title: 'Disk full',
      customer: { accountId: account.id },
      externalRef: 4711,
    });
    expect(alert.isError, textOf(alert)).toBeFalsy();
    expect(emu.rows('incident').find((i) => i.incidentid === alert.structuredContent.id)!.dmcp_externalref).toBe(
      '4711',
    );
    // a text that is not the type written out is still refused, and nothing is sent
    const since = emu.requests().length;
    for (const [top, message] of [
      // "all" and the like: what gets every record instead
      [
        'all',
        "top takes a number of rows, at most 5000, not 'all': for every record, pass 5000 and continue with the cursor",
      ],
      ['2.5', 'top takes a whole number.'],
      // what was given is echoed in part only
      ['x'.repeat(500), `not '${'x'.repeat(40)}': for every record`],
    ] as const) {
      const r = await h.call('query_entities', { entity: 'account', top });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(message);
    }
    const unsafe = await h.call('create_case', {
      title: 'x',
      customer: { accountId: account.id },
      externalRef: 2 ** 60,
    });
    expect(textOf(unsafe)).toMatch(/externalRef takes text, not a number\./);
    // one cause an argument: an empty list for a text is "not a list", not also "empty text"
    const empty = await h.call('resolve_case', { id: account.id, resolution: [] });
    expect(textOf(empty)).toBe(
      'Error (bad_input): resolution takes text, not a list.\nHow to fix: Call resolve_case again with that argument corrected; its input schema (tools/list) says what each one takes.',
    );
    // zod's record (an object of names and values) is an object too
    const extra = await h.call('create_lead', { lastName: 'Silva', extra: 'jobtitle=CFO' });
    expect(textOf(extra)).toMatch(/^Error \(bad_input\): extra takes an object, not text\./);
    // a union of types (a label or its number) says which, not zod's bare "Invalid input"
    const listed = await h.call('create_case', { title: 'x', customer: { accountId: account.id }, caseType: ['a'] });
    expect(textOf(listed)).toMatch(/^Error \(bad_input\): caseType is one label or its number, e\.g\. "Problem"\./);
    const notJson = await h.call('query_entities', { entity: 'account', select: '["name"' });
    expect(textOf(notJson)).toContain('select is a list of column names');
    // zod's bounds said as what the argument takes: text longer than its column holds is refused, not cut
    const long = await h.call('create_lead', { lastName: 'Silva', company: 'x'.repeat(400) });
    expect(textOf(long)).toMatch(/^Error \(bad_input\): company takes at most 100 characters\.\n/);
    expect(emu.rows('lead').some((l) => String(l.companyname).startsWith('xxx'))).toBe(false);
    expect(issueText('Too big: expected array to have <=5 items', 'expand')).toBe('expand takes at most 5 items.');
    expect(issueText('Too small: expected number to be >0', 'value')).toBe('value is more than 0.');
    expect(issueText('Too big: expected number to be <=10000', 'top')).toBe('top is at most 10,000.');
    expect(apiRequests(emu, since)).toEqual([]);
  });

  it('tools/list says every tool takes only its own arguments', async () => {
    const { tools } = await h.client.listTools();
    for (const t of tools) expect(t.inputSchema, t.name).toMatchObject({ additionalProperties: false });
  });
});
