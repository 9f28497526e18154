import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPANDED_ROWS } from '../../src/dynamics/client.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// Dataverse returns up to 5,000 related records per expanded list, unpaged (reference §3.6): one big
// customer's contacts would fill a model's context. Lists are cut at EXPANDED_ROWS, never silently: the
// result says which were cut and gives the query that reads the rest.
describe('expanded related lists', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  let big: string;
  let small: string;
  const contacts = { relation: 'contact_customer_accounts', select: ['fullname'] };
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
    const ids = emu.rows('account').map((a) => String(a.accountid));
    big = ids[0]!;
    small = ids[1]!;
    const made = await h.deps.client.createMany(
      'contact',
      Array.from({ length: 40 }, (_, i) => ({
        lastname: `Related ${i}`,
        parentcustomerid: { entity: 'account', id: big! },
      })),
    );
    expect(made.filter((m) => m.error)).toEqual([]);
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  const related = () => emu.rows('contact').filter((c) => (c.parentcustomerid as { id?: string })?.id === big).length;

  it('query_entities cuts a long list, says so, and asks Dynamics for one more than it shows, not 5,000', async () => {
    const r = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { column: 'accountid', op: 'in', value: [big, small] },
      expand: [contacts],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const list = (id: string) =>
      (r.structuredContent.records as { id: string; contact_customer_accounts: unknown[] }[]).find((x) => x.id === id)!
        .contact_customer_accounts;
    expect(list(big)).toHaveLength(EXPANDED_ROWS);
    expect(list(small).length).toBeLessThan(EXPANDED_ROWS);
    expect(r.structuredContent.moreRelated).toEqual([
      {
        id: big,
        relation: 'contact_customer_accounts',
        shown: EXPANDED_ROWS,
        query: { entity: 'contact', where: { column: 'parentcustomerid', op: 'eq', value: big } },
      },
    ]);
    expect(textOf(r)).toContain(`1 related list was cut at ${EXPANDED_ROWS} rows: "moreRelated"`);
    const sent = emu
      .requests()
      .filter((x) => x.url.startsWith('/api/data/v9.2/accounts?'))
      .at(-1)!;
    expect(decodeURIComponent(sent.url)).toContain(
      `contact_customer_accounts($select=fullname;$top=${EXPANDED_ROWS + 1})`,
    );
  });

  it('the query in moreRelated, passed to query_entities as it is, reads the whole list', async () => {
    const r = await h.call('query_entities', {
      entity: 'account',
      where: { column: 'accountid', op: 'eq', value: big },
      expand: [contacts],
    });
    const all = await h.call('query_entities', { ...r.structuredContent.moreRelated[0].query, count: true, top: 100 });
    expect(all.isError, textOf(all)).toBeFalsy();
    expect(all.structuredContent.totalCount).toBe(related());
    expect(all.structuredContent.records).toHaveLength(related());
  });

  it('get_record cuts its lists the same way; short lists and single related records are left alone', async () => {
    const r = await h.call('get_record', { entity: 'account', id: big, select: ['name'], expand: [contacts] });
    expect(r.structuredContent.record.contact_customer_accounts).toHaveLength(EXPANDED_ROWS);
    expect(r.structuredContent.moreRelated).toHaveLength(1);
    expect(textOf(r)).toContain('"moreRelated" gives the query_entities arguments');
    const s = await h.call('get_record', {
      entity: 'account',
      id: small,
      select: ['name'],
      expand: [contacts, { relation: 'primarycontactid', select: ['fullname'] }],
    });
    expect(s.isError, textOf(s)).toBeFalsy();
    expect(s.structuredContent).not.toHaveProperty('moreRelated');
    expect(s.structuredContent.record.primarycontactid).toHaveProperty('fullname');
    expect(textOf(s)).not.toContain('cut at');
  });

  it('an expand item naming the related table ("contacts", "cases", "notes", "deals") is the one relationship to it; several are named', async () => {
    const named = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { column: 'accountid', op: 'eq', value: big },
      expand: ['contacts', 'cases', 'notes'],
    });
    expect(named.isError, textOf(named)).toBeFalsy();
    const record = named.structuredContent.records[0];
    expect(Object.keys(record)).toEqual(
      expect.arrayContaining(['contact_customer_accounts', 'incident_customer_accounts', 'Account_Annotation']),
    );
    expect(record.contact_customer_accounts).toHaveLength(EXPANDED_ROWS);
    // cut as the relationship's own list is, with the query that reads the rest
    expect(named.structuredContent.moreRelated.map((m: { relation: string }) => m.relation)).toEqual([
      'contact_customer_accounts',
    ]);
    // a singular name is a lookup; get_record reads the same way
    const one = await h.call('get_record', { entity: 'account', id: big, expand: [{ relation: 'contacts', top: 2 }] });
    expect(one.structuredContent.record.contact_customer_accounts).toHaveLength(2);
    const contact = emu.rows('contact').find((c) => (c.parentcustomerid as { id?: string })?.id === big)!;
    const up = await h.call('get_record', { entity: 'contact', id: String(contact.contactid), expand: ['account'] });
    expect(up.isError, textOf(up)).toBeFalsy();
    expect(up.structuredContent.record.parentcustomerid_account).toMatchObject({ id: big });
    // and by the words people use for a table, as query_entities' entity takes them: an account's deals and calls
    const said = await h.call('get_record', { entity: 'account', id: big, expand: ['deals', 'calls'] });
    expect(said.isError, textOf(said)).toBeFalsy();
    expect(Object.keys(said.structuredContent.record)).toEqual(
      expect.arrayContaining(['opportunity_customer_accounts', 'Account_Phonecalls']),
    );
    const deal = emu.rows('opportunity')[0]!;
    const lines = await h.call('get_record', {
      entity: 'opportunity',
      id: String(deal.opportunityid),
      expand: ['lines'],
    });
    expect(Object.keys(lines.structuredContent.record)).toContain('product_opportunities');
    const resolved = emu.rows('incident').find((c) => c.statecode === 1)!;
    const resolutions = await h.call('get_record', {
      entity: 'incident',
      id: String(resolved.incidentid),
      expand: ['resolutions'],
    });
    expect(resolutions.isError, textOf(resolutions)).toBeFalsy();
    expect(Object.keys(resolutions.structuredContent.record)).toContain('Incident_IncidentResolutions');
    const two = await h.call('query_entities', { entity: 'opportunity', expand: ['account'], top: 1 });
    expect(textOf(two)).toContain(
      "'account' is the table account, and opportunity reaches it through customerid_account and parentaccountid.",
    );
  });

  it('an expand item naming a lookup column ("customerid", "ownerid") expands each relationship it has, as the record shows it', async () => {
    const sent = () =>
      decodeURIComponent(
        emu
          .requests()
          .filter((x) => x.url.startsWith('/api/data/v9.2/incidents?'))
          .at(-1)!.url,
      );
    // the seed's cases are all an account's: one a contact opened
    const person = emu.rows('contact').find((c) => (c.parentcustomerid as { id?: string })?.id === big)!;
    const opened = await h.deps.client.createMany('incident', [
      { title: 'Opened by a person', customerid: { entity: 'contact', id: String(person.contactid) } },
    ]);
    expect(opened.filter((m) => m.error)).toEqual([]);
    const byContact = emu.rows('incident').find((c) => c.title === 'Opened by a person')!;
    const byAccount = emu
      .rows('incident')
      .find((c) => (c.customerid as { entity?: string } | null)?.entity === 'account')!;
    const both = { column: 'incidentid', op: 'in', value: [byContact.incidentid, byAccount.incidentid] };
    // Dataverse has no relationship "customerid" (incident's ManyToOne: customerid_account, customerid_contact)
    const plain = await h.call('query_entities', {
      entity: 'incident',
      select: ['title'],
      where: both,
      expand: ['customerid'],
    });
    expect(plain.isError, textOf(plain)).toBeFalsy();
    expect(sent()).toContain('$expand=customerid_account($select=');
    expect(sent()).toContain('customerid_contact($select=');
    const rows = plain.structuredContent.records as Record<string, Record<string, unknown> | undefined>[];
    const contact = emu.rows('contact').find((c) => c.contactid === (byContact.customerid as { id: string }).id)!;
    expect(rows.find((r) => r.id === byContact.incidentid)!.customerid_contact).toMatchObject({
      fullname: contact.fullname,
    });
    expect(rows.find((r) => r.id === byAccount.incidentid)!.customerid_account).toMatchObject({
      id: (byAccount.customerid as { id: string }).id,
    });
    // its columns on each table that has them: "name" is a contact's fullname
    const picked = await h.call('query_entities', {
      entity: 'incident',
      select: ['title'],
      where: both,
      expand: [{ relation: 'customerid', select: ['name', 'telephone1'] }],
    });
    expect(picked.isError, textOf(picked)).toBeFalsy();
    expect(sent()).toContain('customerid_account($select=name,telephone1)');
    expect(sent()).toContain('customerid_contact($select=fullname,telephone1)');
    // a column neither has is refused, as for any expansion
    const none = await h.call('query_entities', {
      entity: 'incident',
      expand: [{ relation: 'customerid', select: ['nosuch'] }],
    });
    expect(textOf(none)).toContain("'nosuch' is not a column of account.");
    // a column through the lookup in select, as SQL joins write it: the same expansions, each with the column
    const joined = await h.call('query_entities', {
      entity: 'incident',
      select: ['title', 'customerid/telephone1'],
      where: both,
    });
    expect(joined.isError, textOf(joined)).toBeFalsy();
    expect(sent()).toContain('customerid_account($select=telephone1,name)');
    expect(sent()).toContain('customerid_contact($select=telephone1,fullname)');
    expect(
      (joined.structuredContent.records as Record<string, Record<string, unknown>>[]).find(
        (r) => r.id === byContact.incidentid,
      )!.customerid_contact,
    ).toMatchObject({ telephone1: person.telephone1 ?? null, fullname: person.fullname });
    // an owner: the user or the team that owns it
    const owned = await h.call('query_entities', {
      entity: 'incident',
      select: ['title'],
      where: both,
      expand: ['ownerid'],
    });
    expect(owned.isError, textOf(owned)).toBeFalsy();
    expect(sent()).toMatch(/\$expand=owninguser\(\$select=[^)]*\),owningteam\(/);
  });

  it('two expand items of one relationship read the columns of both; with different conditions they are refused, and nothing is sent', async () => {
    const twice = await h.call('get_record', {
      entity: 'account',
      id: big,
      expand: [
        { relation: 'primarycontactid', select: ['fullname'] },
        { relation: 'primarycontactid', select: ['emailaddress1'] },
      ],
    });
    expect(twice.isError, textOf(twice)).toBeFalsy();
    expect(Object.keys(twice.structuredContent.record.primarycontactid)).toEqual(
      expect.arrayContaining(['fullname', 'emailaddress1']),
    );
    const before = emu.requests().length;
    const differ = await h.call('query_entities', {
      entity: 'account',
      expand: [
        { relation: 'contacts', top: 2 },
        { relation: 'contact_customer_accounts', top: 3 },
      ],
    });
    expect(textOf(differ)).toBe(
      `Error (bad_input): 'contact_customer_accounts' is expanded twice, with different conditions, order or top.\nHow to fix: Expand it once: both conditions in one where (with "or"), one orderBy and one top.`,
    );
    expect(emu.requests().length).toBe(before);
  });

  it('a related list in select ("contacts", "contact_customer_accounts/fullname") is read in an expansion of it, and cut the same way', async () => {
    const expanded = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { column: 'accountid', op: 'eq', value: big },
      expand: [contacts],
    });
    for (const select of [
      ['name', 'contact_customer_accounts/fullname'],
      ['name', 'contacts/fullname'],
    ]) {
      const r = await h.call('query_entities', {
        entity: 'account',
        select,
        where: { column: 'accountid', op: 'eq', value: big },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.records, select.join()).toEqual(expanded.structuredContent.records);
      expect(r.structuredContent.moreRelated).toEqual(expanded.structuredContent.moreRelated);
    }
    // the list named alone: its rows' default columns
    const alone = await h.call('get_record', { entity: 'account', id: small, select: ['name', 'contacts'] });
    expect(alone.isError, textOf(alone)).toBeFalsy();
    const mine = emu.rows('contact').filter((c) => (c.parentcustomerid as { id?: string })?.id === small);
    expect(alone.structuredContent.record.contact_customer_accounts.map((c: { id: string }) => c.id).sort()).toEqual(
      mine.map((c) => String(c.contactid)).sort(),
    );
    // and as a condition's first step, the table's name is the relationship to it
    const byName = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { 'contacts/lastname': 'Related 7' },
    });
    expect(byName.structuredContent.records.map((r: { id: string }) => r.id)).toEqual([big]);
    const counted = await h.call('aggregate_records', {
      entity: 'account',
      where: { 'contacts/lastname': 'Related 7' },
    });
    expect(counted.structuredContent?.groups, textOf(counted)).toEqual([{ count: 1 }]);
  });

  // JOIN (reference §3.6): $orderby and $top apply inside the $expand of a collection-valued relationship
  it('an expand item sorts and shortens a related list: "each account with its 3 latest contacts" in one call', async () => {
    const mine = emu
      .rows('contact')
      .filter((c) => (c.parentcustomerid as { id?: string })?.id === big)
      .sort((a, b) => String(b.lastname).localeCompare(String(a.lastname)));
    const item = { relation: 'contact_customer_accounts', select: ['lastname'], orderBy: '-lastname', top: 3 };
    const r = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { column: 'accountid', op: 'eq', value: big },
      expand: [item],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const list = r.structuredContent.records[0].contact_customer_accounts as { lastname: string }[];
    expect(list.map((c) => c.lastname)).toEqual(mine.slice(0, 3).map((c) => c.lastname));
    expect(r.structuredContent.moreRelated).toEqual([
      {
        id: big,
        relation: 'contact_customer_accounts',
        shown: 3,
        query: {
          entity: 'contact',
          where: { column: 'parentcustomerid', op: 'eq', value: big },
          orderBy: 'lastname desc',
        },
      },
    ]);
    expect(textOf(r)).toContain('1 related list was cut at 3 rows');
    const sent = emu
      .requests()
      .filter((x) => x.url.startsWith('/api/data/v9.2/accounts?'))
      .at(-1)!;
    expect(decodeURIComponent(sent.url)).toContain(
      'contact_customer_accounts($select=lastname;$orderby=lastname desc;$top=4)',
    );
    // the rest, in the same order, from the query moreRelated gives
    const rest = await h.call('query_entities', { ...r.structuredContent.moreRelated[0].query, top: 100 });
    expect(rest.structuredContent.records.map((c: { id: string }) => c.id)).toEqual(
      mine.map((c) => String(c.contactid)),
    );
    // get_record takes the same item
    const one = await h.call('get_record', { entity: 'account', id: big, select: ['name'], expand: [item] });
    expect(one.structuredContent.record.contact_customer_accounts).toEqual(list);
  });

  // FILTER/JOIN (reference §3.6): $filter applies inside the $expand of a collection-valued relationship
  it('an expand item\'s where keeps the related rows that hold: "each account with its contacts named Related 1…"', async () => {
    const named = (c: Record<string, unknown>) => String(c.lastname).startsWith('Related 1');
    const mine = emu
      .rows('contact')
      .filter((c) => (c.parentcustomerid as { id?: string })?.id === big && named(c))
      .sort((a, b) => String(a.lastname).localeCompare(String(b.lastname)));
    expect(mine.length).toBe(11); // Related 1, Related 10 … Related 19
    const item = {
      relation: 'contact_customer_accounts',
      select: ['lastname'],
      where: { column: 'lastname', op: 'startswith', value: 'Related 1' },
      orderBy: 'lastname',
      top: 4,
    };
    const r = await h.call('query_entities', {
      entity: 'account',
      select: ['name'],
      where: { column: 'accountid', op: 'in', value: [big, small] },
      expand: [item],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const list = (id: string) =>
      (r.structuredContent.records as { id: string; contact_customer_accounts: { lastname: string }[] }[]).find(
        (x) => x.id === id,
      )!.contact_customer_accounts;
    expect(list(big).map((c) => c.lastname)).toEqual(mine.slice(0, 4).map((c) => c.lastname));
    expect(list(small)).toEqual([]);
    const sent = emu
      .requests()
      .filter((x) => x.url.startsWith('/api/data/v9.2/accounts?'))
      .at(-1)!;
    expect(decodeURIComponent(sent.url)).toContain(
      "contact_customer_accounts($select=lastname;$filter=startswith(lastname,'Related 1');$orderby=lastname asc;$top=5)",
    );
    // the rest of the list is the related rows that hold, not every related row
    const more = r.structuredContent.moreRelated;
    expect(more).toEqual([
      {
        id: big,
        relation: 'contact_customer_accounts',
        shown: 4,
        query: {
          entity: 'contact',
          where: {
            and: [
              { column: 'parentcustomerid', op: 'eq', value: big },
              { column: 'lastname', op: 'startswith', value: 'Related 1' },
            ],
          },
          orderBy: 'lastname',
        },
      },
    ]);
    const rest = await h.call('query_entities', { ...more[0].query, top: 100 });
    expect(rest.structuredContent.records.map((c: { id: string }) => c.id)).toEqual(
      mine.map((c) => String(c.contactid)),
    );
    // get_record takes the same item, its where in any form query_entities' where takes (here Prisma's)
    const one = await h.call('get_record', {
      entity: 'account',
      id: big,
      select: ['name'],
      expand: [{ ...item, where: { lastname: { startsWith: 'Related 1' } } }],
    });
    expect(one.isError, textOf(one)).toBeFalsy();
    expect(one.structuredContent.record.contact_customer_accounts).toEqual(list(big));
  });

  it("the next page of a query keeps its expand items' conditions, with the cursor alone too", async () => {
    const item = {
      relation: 'contact_customer_accounts',
      select: ['lastname'],
      where: { column: 'lastname', op: 'startswith', value: 'Related 1' },
    };
    const args = { entity: 'account', select: ['name'], orderBy: 'accountid', top: 1, expand: [item] };
    const first = await h.call('query_entities', args);
    expect(first.isError, textOf(first)).toBeFalsy();
    for (const next of [
      { ...args, cursor: first.structuredContent.cursor },
      { entity: 'account', cursor: first.structuredContent.cursor },
    ]) {
      const r = await h.call('query_entities', next);
      expect(r.isError, textOf(r)).toBeFalsy();
      const sent = decodeURIComponent(
        emu
          .requests()
          .filter((x) => x.url.startsWith('/api/data/v9.2/accounts?'))
          .at(-1)!.url,
      );
      expect(sent).toContain('$skiptoken=');
      expect(sent).toContain("contact_customer_accounts($select=lastname;$filter=startswith(lastname,'Related 1')");
    }
  });

  it('an item whose conditions take all three levels still gets a moreRelated query that reads the rest', async () => {
    const where = {
      or: [
        {
          and: [
            { column: 'lastname', op: 'startswith', value: 'Related 2' },
            { column: 'lastname', op: 'ne', value: 'Related 2' },
          ],
        },
        { column: 'lastname', op: 'eq', value: 'Related 3' },
      ],
    };
    const r = await h.call('get_record', {
      entity: 'account',
      id: big,
      expand: [{ relation: 'contact_customer_accounts', select: ['lastname'], where, top: 2 }],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const query = r.structuredContent.moreRelated[0].query;
    expect(query).toEqual({ entity: 'contact', where, filter: `_parentcustomerid_value eq ${big}` });
    const rest = await h.call('query_entities', { ...query, select: ['lastname'], top: 100 });
    expect(rest.isError, textOf(rest)).toBeFalsy();
    expect(rest.structuredContent.records.map((c: { lastname: string }) => c.lastname).sort()).toEqual([
      'Related 20',
      'Related 21',
      'Related 22',
      'Related 23',
      'Related 24',
      'Related 25',
      'Related 26',
      'Related 27',
      'Related 28',
      'Related 29',
      'Related 3',
    ]);
  });

  it("an expand item's where names only columns the policy lets the model read, and nothing is sent otherwise", async () => {
    const before = emu.requests().length;
    const r = await h.call('query_entities', {
      entity: 'account',
      expand: [{ relation: 'contact_customer_accounts', where: { column: 'birthdate', op: 'null' } }],
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain("'birthdate'");
    expect(
      emu
        .requests()
        .slice(before)
        .filter((x) => x.service === 'webapi' && x.url.includes('accounts')),
    ).toEqual([]);
    // and its values are checked against the column's type, as at the top level
    const bad = await h.call('query_entities', {
      entity: 'account',
      expand: [{ relation: 'contact_customer_accounts', where: { column: 'donotemail', op: 'eq', value: 'perhaps' } }],
    });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain('donotemail');
  });

  it('an expand item\'s select, as at the top level: an empty list is the default columns, "*" every readable one', async () => {
    const sentExpand = () =>
      decodeURIComponent(
        emu
          .requests()
          .filter((x) => x.url.startsWith('/api/data/v9.2/accounts('))
          .at(-1)!.url,
      );
    // found by the fuzz suite: an empty list was sent as "$select=;", which Dataverse cannot parse
    const none = await h.call('get_record', {
      entity: 'account',
      id: big,
      expand: [{ relation: 'primarycontactid', select: [] }],
    });
    expect(none.isError, textOf(none)).toBeFalsy();
    expect(sentExpand()).toContain('$expand=primarycontactid($select=contactid,fullname)');
    // a related list named alone: each row's name and state (which of the account's cases are open)
    const customer = emu
      .rows('incident')
      .map((c) => (c.customerid as { id?: string } | null)?.id)
      .find((id) => emu.rows('account').some((a) => a.accountid === id))!;
    const cases = await h.call('get_record', {
      entity: 'account',
      id: customer,
      select: ['name'],
      expand: ['incident_customer_accounts'],
    });
    expect(sentExpand()).toContain('$expand=incident_customer_accounts($select=incidentid,title,statecode');
    const listed = cases.structuredContent.record.incident_customer_accounts as Record<string, unknown>[];
    expect(listed.length).toBeGreaterThan(0);
    for (const c of listed) expect(c.statecode).toMatch(/^(Active|Resolved|Cancelled|Canceled) \(\d\)$/);
    const all = await h.call('get_record', {
      entity: 'account',
      id: big,
      expand: [{ relation: 'primarycontactid', select: ['*'] }],
    });
    expect(all.isError, textOf(all)).toBeFalsy();
    const cols = /primarycontactid\(\$select=([^)]*)\)/.exec(sentExpand())![1]!.split(',');
    expect(cols).toEqual(expect.arrayContaining(['fullname', 'jobtitle', 'emailaddress1', '_parentcustomerid_value']));
    expect(cols).not.toContain('birthdate');
    expect(all.structuredContent.record.primarycontactid).toHaveProperty('jobtitle');
  });

  it('a related record (not a list) takes no order or length, and a list no more than EXPANDED_ROWS', async () => {
    const single = await h.call('query_entities', {
      entity: 'account',
      expand: [{ relation: 'primarycontactid', top: 1 }],
    });
    expect(textOf(single)).toBe(
      `Error (bad_input): 'primarycontactid' is one related record: "where", "orderBy" and "top" in an expand item are for related lists.\nHow to fix: Leave them out of the 'primarycontactid' item. To choose account records by it, put the condition in the top-level where, e.g. {"column": "primarycontactid/fullname", "op": "contains", "value": "…"}.`,
    );
    const long = await h.call('query_entities', {
      entity: 'account',
      expand: [{ relation: 'contact_customer_accounts', top: EXPANDED_ROWS + 1 }],
    });
    expect(textOf(long)).toContain(
      `an expand item's top is at most ${EXPANDED_ROWS}; for more, query the related table with where on the lookup.`,
    );
  });
});

// A many-to-many relationship (Team table reference: teammembership_association, a team's members through the
// teammembership intersect table): listed from either table, followed in conditions, and a cut list read whole
// through the other table's own list back.
describe('many-to-many related lists: a team and its members', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 20 });
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });
  const membersOf = (teamName: string) => {
    const team = emu.rows('team').find((t) => t.name === teamName)!;
    const ids = new Set(
      emu
        .rows('teammembership')
        .filter((m) => m.teamid === team.teamid)
        .map((m) => m.systemuserid),
    );
    return { team, ids: [...ids].map(String).sort() };
  };
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();

  it('describe_entity lists it as a list of users; expanded, a team has its members and a user their teams', async () => {
    const d = await h.call('describe_entity', { entity: 'team' });
    expect(d.structuredContent.entity.relationships).toContainEqual({
      name: 'teammembership_association',
      target: 'systemuser',
      many: true,
    });
    const service = membersOf('Customer Service');
    expect(service.ids.length).toBeGreaterThan(1);
    const r = await h.call('query_entities', {
      entity: 'team',
      select: ['name'],
      where: { name: 'Customer Service' },
      expand: [{ relation: 'teammembership_association', select: ['fullname'] }],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(ids(r.structuredContent.records[0].teammembership_association)).toEqual(service.ids);
    // the table's name for the relationship ("teams") is the one relationship to it
    const user = await h.call('get_record', {
      entity: 'systemuser',
      id: service.ids[0],
      select: ['fullname'],
      expand: [{ relation: 'teams', select: ['name'] }],
    });
    expect(user.isError, textOf(user)).toBeFalsy();
    expect(
      user.structuredContent.record.teammembership_association.map((t: { name: string }) => t.name).sort(),
    ).toEqual(['Contoso', 'Customer Service']);
  });

  it('a condition through it: the users on a team, by its name', async () => {
    const r = await h.call('query_entities', {
      entity: 'systemuser',
      select: ['fullname'],
      where: { 'teammembership_association/name': 'Customer Service' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(ids(r.structuredContent.records)).toEqual(membersOf('Customer Service').ids);
  });

  it("a cut list of members gives the query that reads them all, through the users' own list of teams", async () => {
    const everyone = membersOf('Contoso');
    const r = await h.call('query_entities', {
      entity: 'team',
      select: ['name'],
      where: { name: 'Contoso' },
      expand: [{ relation: 'teammembership_association', select: ['fullname'], top: 3 }],
    });
    expect(r.structuredContent.records[0].teammembership_association).toHaveLength(3);
    const [more] = r.structuredContent.moreRelated;
    expect(more.query).toEqual({
      entity: 'systemuser',
      where: { column: 'teammembership_association/teamid', op: 'eq', value: everyone.team.teamid },
    });
    const rest = await h.call('query_entities', { ...more.query, select: ['fullname'], top: 500 });
    expect(rest.isError, textOf(rest)).toBeFalsy();
    expect(ids(rest.structuredContent.records)).toEqual(everyone.ids);
  });
});

// Metadata is read in one $batch per table; a part the service refuses (an older or narrower service that does
// not know the request) costs the table only what that part was for, where it is optional.
describe('a table whose optional metadata is refused', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
  });
  afterAll(async () => emu.close());
  const refuse = (part: string) =>
    emu.addFault({
      match: { method: 'GET', path: `/api/data/v9.2/EntityDefinitions(LogicalName='team')/${part}`, inBatch: true },
      response: {
        status: 400,
        body: { error: { code: '0x80060888', message: 'Resource not found for the segment.' } },
      },
    });

  it('is read without its many-to-many lists, and the log says so', async () => {
    const h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
    try {
      refuse('ManyToManyRelationships');
      const r = await h.call('query_entities', { entity: 'team', select: ['name'] });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.records.map((t: { name: string }) => t.name).sort()).toEqual([
        'Contoso',
        'Customer Service',
      ]);
      const d = await h.call('describe_entity', { entity: 'team' });
      expect(d.structuredContent.entity.relationships).toEqual([]);
      expect(h.logs.join('')).toContain('metadata part refused; the table is read without it');
    } finally {
      await h.close();
    }
  });

  it('a refused part every table needs still fails the table, saying which', async () => {
    const h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
    try {
      refuse('OneToManyRelationships');
      const r = await h.call('query_entities', { entity: 'team', select: ['name'] });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(
        "Reading metadata for team failed (EntityDefinitions(LogicalName='team')/OneToManyRelationships: HTTP 400).",
      );
    } finally {
      await h.close();
    }
  });
});
