import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { apiRequests } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

/**
 * FetchXML given to query_entities (Filter rows using FetchXml; Join tables using FetchXml, Microsoft Learn): read
 * as its own arguments, so the answer is the one the same query in those arguments gives, checked the same way.
 */
describe('query_entities with FetchXML', () => {
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

  const same = async (fetch: Record<string, unknown>, native: Record<string, unknown>) => {
    const a = await h.call('query_entities', fetch);
    const b = await h.call('query_entities', native);
    expect(a.isError, textOf(a)).toBeFalsy();
    expect(b.isError, textOf(b)).toBeFalsy();
    // (a cursor is sealed afresh for each answer: the rows, and whether more follow, are what must agree)
    const { cursor: _a, ...got } = a.structuredContent;
    const { cursor: _b, ...want } = b.structuredContent;
    expect(got).toEqual(want);
    return a.structuredContent as { records: Record<string, unknown>[]; totalCount?: number };
  };
  /** a FetchXML refused with `message`, and nothing sent to the Web API for it */
  const refusedUnsent = async (fetchXml: string, message: string) => {
    const since = emu.requests().length;
    const r = await h.call('query_entities', { fetchXml });
    expect(r.isError, textOf(r)).toBe(true);
    expect(textOf(r)).toContain(message);
    expect(apiRequests(emu, since)).toEqual([]);
  };
  /** the ids of a table's rows in the emulator that meet `want`, sorted */
  const idsOf = (table: string, want: (row: Record<string, unknown>) => boolean) =>
    emu
      .rows(table)
      .filter(want)
      .map((row) => row[`${table}id`])
      .sort();
  /** the ids a FetchXML on the table answers, its <entity> holding `inner` (up to 500 rows), sorted */
  const readIds = async (table: string, inner: string) => {
    const r = await h.call('query_entities', {
      fetchXml: `<fetch top="500"><entity name="${table}">${inner}</entity></fetch>`,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    return (r.structuredContent.records as { id: string }[]).map((x) => x.id).sort();
  };

  it('a fetch with columns, sort, nested filters, like, in and a count answers as the same arguments do', async () => {
    const fetchXml = `<fetch top="10" returntotalrecordcount="true">
      <entity name="account">
        <attribute name="name" /><attribute name="revenue" />
        <order attribute="revenue" descending="true" />
        <filter type="and">
          <condition attribute="statecode" operator="eq" value="0" />
          <filter type="or">
            <condition attribute="name" operator="like" value="%Ltd%" />
            <condition attribute="industrycode" operator="in"><value>1</value><value>17</value></condition>
          </filter>
        </filter>
      </entity>
    </fetch>`;
    const got = await same(
      { fetchXml },
      {
        entity: 'account',
        select: ['name', 'revenue'],
        orderBy: 'revenue desc',
        top: 10,
        count: true,
        where: {
          and: [
            { column: 'statecode', op: 'eq', value: 0 },
            {
              or: [
                { column: 'name', op: 'contains', value: 'Ltd' },
                { column: 'industrycode', op: 'in', value: [1, 17] },
              ],
            },
          ],
        },
      },
    );
    const want = emu
      .rows('account')
      .filter(
        (a) => a.statecode === 0 && (String(a.name).includes('Ltd') || [1, 17].includes(a.industrycode as number)),
      );
    expect(want.length).toBeGreaterThan(0);
    expect(got.totalCount).toBe(want.length);
    const revenues = got.records.map((r) => Number(r.revenue ?? 0));
    expect(revenues).toEqual([...revenues].sort((x, y) => y - x));
  });

  it("a link-entity to the record a lookup points at is that lookup's path; from a record's key, its related list", async () => {
    const contact = emu
      .rows('contact')
      .find((c) => (c.parentcustomerid as { entity?: string } | null)?.entity === 'account')!;
    const account = emu.rows('account').find((a) => a.accountid === (contact.parentcustomerid as { id: string }).id)!;
    const city = String(account.address1_city);
    await same(
      {
        fetchXml: `<fetch><entity name="contact"><attribute name="fullname" /><order attribute="fullname" />
          <link-entity name="account" from="accountid" to="parentcustomerid" link-type="inner">
            <filter><condition attribute="address1_city" operator="eq" value="${city}" /></filter>
          </link-entity></entity></fetch>`,
      },
      {
        entity: 'contact',
        select: ['fullname'],
        orderBy: 'fullname asc',
        where: { column: 'parentcustomerid/address1_city', op: 'eq', value: city },
      },
    );
    // accounts with a contact of that job title: one related row meeting the condition
    const title = String(contact.jobtitle);
    const got = await same(
      {
        fetchXml: `<fetch><entity name="account"><attribute name="name" /><order attribute="name" />
          <link-entity name="contact" from="parentcustomerid" to="accountid">
            <filter><condition attribute="jobtitle" operator="eq" value="${title}" /></filter>
          </link-entity></entity></fetch>`,
        top: 100,
      },
      {
        entity: 'account',
        select: ['name'],
        orderBy: 'name asc',
        top: 100,
        where: { column: 'contact_customer_accounts/jobtitle', op: 'eq', value: title },
      },
    );
    const holders = new Set(
      emu
        .rows('contact')
        .filter((c) => c.jobtitle === title)
        .map((c) => (c.parentcustomerid as { id?: string } | null)?.id),
    );
    expect(got.records.map((r) => r.id).sort()).toEqual(
      emu
        .rows('account')
        .filter((a) => holders.has(String(a.accountid)))
        .map((a) => a.accountid)
        .sort(),
    );
  });

  it('a condition on a link by its alias (entityname): "accounts without a case", and a lookup\'s record\'s column', async () => {
    const got = await same(
      {
        fetchXml: `<fetch top="100"><entity name="account"><attribute name="name" /><order attribute="name" />
          <link-entity name="incident" from="customerid" to="accountid" link-type="outer" alias="i" />
          <filter><condition entityname="i" attribute="incidentid" operator="null" /></filter></entity></fetch>`,
      },
      {
        entity: 'account',
        select: ['name'],
        orderBy: 'name asc',
        top: 100,
        where: { not: { column: 'incident_customer_accounts/customerid', op: 'notNull' } },
      },
    );
    const withCases = new Set(emu.rows('incident').map((c) => (c.customerid as { id?: string } | null)?.id));
    const without = emu.rows('account').filter((a) => !withCases.has(String(a.accountid)));
    expect(without.length).toBeGreaterThan(0);
    expect(got.records.map((r) => r.id).sort()).toEqual(without.map((a) => a.accountid).sort());
    const contact = emu
      .rows('contact')
      .find((c) => (c.parentcustomerid as { entity?: string } | null)?.entity === 'account')!;
    const city = String(
      emu.rows('account').find((a) => a.accountid === (contact.parentcustomerid as { id: string }).id)!.address1_city,
    );
    await same(
      {
        fetchXml: `<fetch><entity name="contact"><attribute name="fullname" /><order attribute="fullname" />
          <link-entity name="account" from="accountid" to="parentcustomerid" alias="a" />
          <filter><condition entityname="a" attribute="address1_city" operator="eq" value="${city}" /></filter></entity></fetch>`,
      },
      {
        entity: 'contact',
        select: ['fullname'],
        orderBy: 'fullname asc',
        where: { column: 'parentcustomerid/address1_city', op: 'eq', value: city },
      },
    );
    await refusedUnsent(
      '<fetch><entity name="account"><filter><condition entityname="x" attribute="name" operator="null" /></filter></entity></fetch>',
      '<condition entityname="x">: no <link-entity alias="x"> is read here',
    );
  });

  // link-entity's link types (Join tables using FetchXml, "link-type"): any, not any, all and not all are
  // conditions, written within a filter or under the entity; "not all" is any despite its name, and all is
  // the records with linked rows none of which meet the link's filter. Each is checked against the rows.
  it('link types any, not any, all and not all are the records they name, under the entity or within a filter', async () => {
    const cases = emu.rows('incident');
    const of = (a: Record<string, unknown>) =>
      cases.filter((c) => (c.customerid as { id?: string } | null)?.id === a.accountid);
    const ids = (want: (a: Record<string, unknown>) => boolean) => idsOf('account', want);
    const read = (inner: string) => readIds('account', inner);
    const link = (
      type: string,
      filter = '<filter><condition attribute="statecode" operator="eq" value="0" /></filter>',
    ) => `<link-entity name="incident" from="customerid" to="accountid" link-type="${type}">${filter}</link-entity>`;
    const open = (a: Record<string, unknown>) => of(a).some((c) => c.statecode === 0);
    const withOpen = ids(open);
    const withoutOpen = ids((a) => !open(a));
    expect(withOpen.length).toBeGreaterThan(0);
    expect(withoutOpen.length).toBeGreaterThan(0);
    expect(await read(link('any'))).toEqual(withOpen);
    expect(await read(`<filter>${link('any')}</filter>`)).toEqual(withOpen);
    expect(await read(`<filter>${link('not all')}</filter>`)).toEqual(withOpen);
    // (was read as an inner link: the accounts with an open case, the opposite of what was asked)
    expect(await read(link('not any'))).toEqual(withoutOpen);
    expect(await read(`<filter>${link('not any')}</filter>`)).toEqual(withoutOpen);
    // all: cases, none of them meeting the filter (here: every case of the account is open)
    expect(
      await read(
        `<filter>${link('all', '<filter><condition attribute="statecode" operator="ne" value="0" /></filter>')}</filter>`,
      ),
    ).toEqual(ids((a) => of(a).length > 0 && of(a).every((c) => c.statecode === 0)));
    // within an "or" filter, beside the table's own condition (was dropped, with every account answered)
    const country = String(emu.rows('account').find((a) => a.address1_country)!.address1_country);
    expect(
      await read(
        `<filter type="or"><condition attribute="address1_country" operator="eq" value="${country}" />${link('any')}</filter>`,
      ),
    ).toEqual(ids((a) => a.address1_country === country || open(a)));
    // an outer link filtered on the case's state, and its key null: the accounts without an open case
    expect(
      await read(
        `${link('outer').replace('link-type="outer"', 'link-type="outer" alias="c"')}<filter><condition entityname="c" attribute="incidentid" operator="null" /></filter>`,
      ),
    ).toEqual(withoutOpen);
    // exists and in are inner's variants
    expect(await read(link('exists'))).toEqual(withOpen);
    // a type FetchXML does not have is refused, not read as inner; so is a condition link with columns
    const since = emu.requests().length;
    for (const [inner, message] of [
      [
        link('sideways'),
        'link-type="sideways" on <link-entity name="incident">: FetchXML\'s link types are inner, outer, any',
      ],
      [
        '<link-entity name="incident" from="customerid" to="accountid" link-type="any"><attribute name="title" /></link-entity>',
        'is a condition on the account and returns no columns',
      ],
      [
        `<filter>${link('inner')}</filter>`,
        'inside a <filter>: a link there is a condition, link-type any, not any, all or not all',
      ],
      [link('all', ''), 'without a <filter>: all is the records with incident rows, none of them meeting its filter'],
    ] as const) {
      const r = await h.call('query_entities', {
        fetchXml: `<fetch><entity name="account"><attribute name="name" />${inner}</entity></fetch>`,
      });
      expect(textOf(r)).toContain(message);
    }
    expect(apiRequests(emu, since)).toEqual([]);
  });

  it("a link to a customer lookup's record joins the table it names: a case's account, not a contact in the same city", async () => {
    // a case for a contact who lives where an account with cases is
    const account = emu
      .rows('account')
      .find(
        (a) => a.address1_city && emu.rows('incident').some((c) => (c.customerid as { id: string }).id === a.accountid),
      )!;
    const city = String(account.address1_city);
    const person = emu.rows('contact').find((c) => c.address1_city === city) ?? emu.rows('contact')[0]!;
    expect(person.address1_city).toBe(city);
    const opened = await h.call('create_case', {
      title: 'Printer offline at home',
      customer: { contactId: String(person.contactid) },
    });
    expect(opened.isError, textOf(opened)).toBeFalsy();
    const customerOf = (c: Record<string, unknown>) => c.customerid as { id: string; entity: string };
    const ids = (want: (c: Record<string, unknown>) => boolean) => idsOf('incident', want);
    const read = (link: string) => readIds('incident', link);
    const cityOf = (id: string) => emu.rows('account').find((a) => a.accountid === id)?.address1_city;
    // (was read through both of the lookup's tables: the contact's case came too)
    const inCity = await read(
      `<link-entity name="account" from="accountid" to="customerid"><filter><condition attribute="address1_city" operator="eq" value="${city}" /></filter></link-entity>`,
    );
    expect(inCity).toEqual(ids((c) => customerOf(c).entity === 'account' && cityOf(customerOf(c).id) === city));
    expect(inCity).not.toContain(opened.structuredContent.id);
    // an inner link alone keeps the records whose lookup points at that table (was: every case)
    expect(
      await read(
        '<link-entity name="contact" from="contactid" to="customerid"><attribute name="fullname" /></link-entity>',
      ),
    ).toEqual(ids((c) => customerOf(c).entity === 'contact'));
    // where takes a lookup and its table as one name, as the link reads it; for a one-table lookup too
    const typed = await h.call('query_entities', {
      entity: 'incident',
      where: { 'customerid_account/address1_city': city },
      top: 500,
    });
    expect((typed.structuredContent.records as { id: string }[]).map((x) => x.id).sort()).toEqual(inCity);
    await same(
      { entity: 'account', select: ['name'], where: { 'primarycontactid_contact/fullname': { startswith: 'A' } } },
      { entity: 'account', select: ['name'], where: { 'primarycontactid/fullname': { startswith: 'A' } } },
    );
    // and by its alias, from the entity's filter
    expect(
      await read(
        `<link-entity name="account" from="accountid" to="customerid" link-type="outer" alias="a" /><filter><condition entityname="a" attribute="address1_city" operator="eq" value="${city}" /></filter>`,
      ),
    ).toEqual(inCity);
  });

  it("a one-to-many link's columns are the related rows each record brings, those meeting its conditions", async () => {
    const title = String(emu.rows('contact').find((c) => c.jobtitle)!.jobtitle);
    const got = await same(
      {
        fetchXml: `<fetch top="50"><entity name="account"><attribute name="name" /><order attribute="name" />
          <link-entity name="contact" from="parentcustomerid" to="accountid">
            <attribute name="fullname" />
            <filter><condition attribute="jobtitle" operator="eq" value="${title}" /></filter>
          </link-entity></entity></fetch>`,
      },
      {
        entity: 'account',
        select: ['name'],
        orderBy: 'name asc',
        top: 50,
        where: { column: 'contact_customer_accounts/jobtitle', op: 'eq', value: title },
        expand: [
          {
            relation: 'contact_customer_accounts',
            select: ['fullname'],
            where: { column: 'jobtitle', op: 'eq', value: title },
          },
        ],
      },
    );
    expect(got.records.length).toBeGreaterThan(0);
    for (const r of got.records) {
      const brought = (r.contact_customer_accounts as { fullname: string }[]).map((c) => c.fullname).sort();
      const want = emu
        .rows('contact')
        .filter((c) => (c.parentcustomerid as { id?: string } | null)?.id === r.id && c.jobtitle === title)
        .map((c) => String(c.fullname))
        .sort();
      expect(brought).toEqual(want);
    }
    // an outer link keeps every record, each with all its related rows
    await same(
      {
        fetchXml:
          '<fetch top="5"><entity name="account"><attribute name="name" /><order attribute="name" /><link-entity name="contact" from="parentcustomerid" to="accountid" link-type="outer"><attribute name="fullname" /></link-entity></entity></fetch>',
      },
      {
        entity: 'account',
        select: ['name'],
        orderBy: 'name asc',
        top: 5,
        expand: [{ relation: 'contact_customer_accounts', select: ['fullname'] }],
      },
    );
  });

  it("a <filter> alone in where is the where of the entity given; periods and x-operators are where's words", async () => {
    await same(
      {
        entity: 'opportunity',
        select: ['name'],
        where: `<filter><condition attribute="estimatedclosedate" operator="this-fiscal-year" />
          <condition attribute="createdon" operator="last-x-months" value="12" />
          <condition attribute="name" operator="not-like" value="%renewal%" /></filter>`,
        top: 50,
      },
      {
        entity: 'opportunity',
        select: ['name'],
        where: {
          and: [
            { column: 'estimatedclosedate', op: 'eq', value: 'this fiscal year' },
            { column: 'createdon', op: 'eq', value: 'last 12 months' },
            { not: { column: 'name', op: 'contains', value: 'renewal' } },
          ],
        },
        top: 50,
      },
    );
  });

  it('an empty <filter>, as saved views hold one, is no condition; like without a value is refused, not a null check', async () => {
    await same(
      {
        fetchXml:
          '<fetch count="7"><entity name="account"><attribute name="name" /><order attribute="name" /><filter type="and" /><filter><filter type="or" /></filter></entity></fetch>',
      },
      { entity: 'account', select: ['name'], orderBy: 'name asc', top: 7 },
    );
    await refusedUnsent(
      '<fetch><entity name="account"><filter><condition attribute="name" operator="like" /></filter></entity></fetch>',
      '<condition attribute="name" operator="like"> needs its value.',
    );
  });

  it("what would be read as another query is refused (a wildcard inside like, valueof, an order on a link); booleans are XML's", async () => {
    const since = emu.requests().length;
    for (const [inner, message] of [
      // (was eq '%a%b%': the name as written, and none found)
      [
        '<filter><condition attribute="name" operator="like" value="%Alp%Health%" /></filter>',
        `'%Alp%Health%' (like) has a wildcard inside it: contains, startswith and endswith match their text as written`,
      ],
      [
        '<filter><condition attribute="name" operator="not-like" value="A_pine%" /></filter>',
        `'A_pine%' (like) has a wildcard inside it`,
      ],
      // (was "eq on revenue needs a single value": the other column is no value)
      [
        '<filter><condition attribute="revenue" operator="gt" valueof="creditlimit" /></filter>',
        '<condition attribute="revenue" valueof="creditlimit">: a column compared with another column has no equal here',
      ],
      // (was no column of the account at all, unsaid)
      [
        '<link-entity name="contact" from="contactid" to="primarycontactid" link-type="outer"><all-attributes /></link-entity>',
        '<all-attributes /> in <link-entity name="contact">: name its columns with <attribute name="…" />',
      ],
      // an element FetchXML has not, or one out of its place (was left out, with what it asked)
      ['<atribute name="revenue" />', '<atribute> inside <entity> is not FetchXML: <entity> holds <attribute>,'],
      [
        '<condition attribute="name" operator="eq" value="x" />',
        '<condition> inside <entity> is not FetchXML: <entity> holds <attribute>, <all-attributes>, <order>, <filter>, <link-entity>.',
      ],
      [
        '<filter type="xor"><condition attribute="name" operator="null" /></filter>',
        '<filter type="xor">: a filter\'s type is and or or.',
      ],
      // a measure in a query of rows (was read as the column: rows where a total was asked)
      [
        '<attribute name="revenue" aggregate="sum" alias="total" />',
        '<attribute name="revenue" aggregate="sum"> belongs to an aggregate FetchXML: add aggregate="true" to <fetch> and give it to aggregate_records.',
      ],
      // (was a sort by the account's own column of that name)
      [
        '<link-entity name="contact" from="contactid" to="primarycontactid" alias="p"><attribute name="fullname" /></link-entity><order entityname="p" attribute="createdon" />',
        "A link-entity's <order>: sort by the table's own columns.",
      ],
    ] as const) {
      const r = await h.call('query_entities', {
        fetchXml: `<fetch><entity name="account"><attribute name="name" />${inner}</entity></fetch>`,
      });
      expect(r.isError, textOf(r)).toBe(true);
      expect(textOf(r)).toContain(message);
    }
    expect(apiRequests(emu, since)).toEqual([]);
    // a filter's type in capitals is that type (was and, for "OR")
    await same(
      {
        fetchXml:
          '<fetch><entity name="account"><attribute name="name" /><filter type="OR"><condition attribute="name" operator="like" value="Alp%" /><condition attribute="name" operator="like" value="Con%" /></filter></entity></fetch>',
      },
      {
        entity: 'account',
        select: ['name'],
        where: { or: [{ name: { startswith: 'Alp' } }, { name: { startswith: 'Con' } }] },
      },
    );
    // long-term retention's store is not read (was the live rows, unsaid)
    await refusedUnsent(
      '<fetch datasource="retained"><entity name="account"><attribute name="name" /></entity></fetch>',
      'datasource="retained": retained (long-term retention) data is not read here; leave datasource out for the live rows.',
    );
    // FetchXML's booleans are XML Schema's: "1" is true (was an ascending sort for descending="1")
    await same(
      {
        fetchXml:
          '<fetch top="5" returntotalrecordcount="1"><entity name="account"><attribute name="name" /><order attribute="name" descending="1" /></entity></fetch>',
      },
      { entity: 'account', select: ['name'], orderBy: 'name desc', top: 5, count: true },
    );
    // with its wildcards at the ends, like is the text operator it means
    await same(
      {
        fetchXml:
          '<fetch><entity name="account"><attribute name="name" /><filter><condition attribute="name" operator="like" value="Alp%" /></filter></entity></fetch>',
      },
      { entity: 'account', select: ['name'], where: { name: { startswith: 'Alp' } } },
    );
  });

  it('the next page comes with the cursor, the FetchXML given again', async () => {
    // (page="1", as FetchXML Builder writes every query, is the first page)
    const fetchXml =
      '<fetch count="5" page="1"><entity name="account"><attribute name="name" /><order attribute="name" /></entity></fetch>';
    const first = await h.call('query_entities', { fetchXml });
    expect(first.structuredContent.hasMore).toBe(true);
    const next = await h.call('query_entities', { fetchXml, cursor: first.structuredContent.cursor });
    expect(next.isError, textOf(next)).toBeFalsy();
    const names = [...first.structuredContent.records, ...next.structuredContent.records].map(
      (r: { name: string }) => r.name,
    );
    expect(names).toEqual(
      emu
        .rows('account')
        .map((a) => String(a.name))
        .sort((x, y) => x.localeCompare(y))
        .slice(0, 10),
    );
  });

  it.each([
    [
      '<fetch aggregate="true"><entity name="account"><attribute name="accountid" aggregate="count" alias="n" /></entity></fetch>',
      'An aggregate FetchXML (aggregate="true") is a count, sum or average by group: give it to aggregate_records (as its fetchXml), which answers it.',
    ],
    ['<fetch><entity name="account"><attribute name="name" /></fetch>', 'The FetchXML is not well-formed: '],
    [
      '<!DOCTYPE x [<!ENTITY e "e">]><fetch><entity name="account" /></fetch>',
      'The FetchXML has a DOCTYPE, which FetchXML never has.',
    ],
    [
      '<fetch><entity name="account"><filter><condition attribute="name" operator="under" value="x" /></filter></entity></fetch>',
      "The FetchXML operator 'under' (on name) has no equal here",
    ],
    [
      '<fetch page="2"><entity name="account" /></fetch>',
      'page (past the first) and paging-cookie are not read: the rows after a page come with the cursor',
    ],
    [
      '<fetch><entity name="account"><link-entity name="contact" from="parentcustomerid" to="accountid"><link-entity name="systemuser" from="systemuserid" to="owninguser" /></link-entity></entity></fetch>',
      'with columns or links of its own: ask for its rows as an expansion, "expand": [{"relation": "contact(parentcustomerid)", "select": [...]}]',
    ],
  ])(
    'FetchXML with no equal here is refused, saying what answers it, and nothing is sent (%#)',
    async (fetchXml, says) => {
      const since = emu.requests().length;
      const r = await h.call('query_entities', { fetchXml });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/^Error \(bad_input\): /);
      expect(textOf(r)).toContain(says);
      expect(apiRequests(emu, since)).toEqual([]);
    },
  );

  it('beside a whole fetch only top, count and cursor are taken; its table is the one named', async () => {
    const fetchXml = '<fetch><entity name="account"><attribute name="name" /></entity></fetch>';
    const beside = await h.call('query_entities', { fetchXml, select: ['revenue'] });
    expect(textOf(beside)).toContain("The FetchXML is the whole query: 'select' beside it would make two");
    const other = await h.call('query_entities', { entity: 'contact', fetchXml });
    expect(textOf(other)).toContain("entity is 'contact' but the FetchXML's <entity> is 'account': give one.");
  });

  it('an aggregate FetchXML given to aggregate_records answers as its groupBy, measures, where and orderBy do', async () => {
    const both = async (fetchXml: string, native: Record<string, unknown>) => {
      const a = await h.call('aggregate_records', { fetchXml });
      const b = await h.call('aggregate_records', native);
      expect(a.isError, textOf(a)).toBeFalsy();
      expect(b.isError, textOf(b)).toBeFalsy();
      expect(a.structuredContent).toEqual(b.structuredContent);
      return a.structuredContent as { groups: Record<string, unknown>[] };
    };
    const byOwner = await both(
      `<fetch aggregate="true"><entity name="opportunity">
        <attribute name="ownerid" groupby="true" alias="owner" />
        <attribute name="estimatedvalue" aggregate="sum" alias="total" />
        <attribute name="opportunityid" aggregate="count" alias="n" />
        <order alias="n" descending="false" />
        <filter><condition attribute="statecode" operator="eq" value="0" /></filter>
      </entity></fetch>`,
      {
        entity: 'opportunity',
        groupBy: ['ownerid'],
        measures: [{ op: 'sum', column: 'estimatedvalue' }, { op: 'count' }],
        where: { column: 'statecode', op: 'eq', value: 0 },
        orderBy: 'count asc',
      },
    );
    const open = emu.rows('opportunity').filter((o) => o.statecode === 0);
    expect(byOwner.groups.reduce((n, g) => n + Number(g.count), 0)).toBe(open.length);
    const counts = byOwner.groups.map((g) => Number(g.count));
    expect(counts).toEqual([...counts].sort((x, y) => x - y));
    await both(
      `<fetch aggregate="true"><entity name="incident">
        <attribute name="createdon" groupby="true" dategrouping="quarter" alias="q" />
        <attribute name="incidentid" aggregate="count" alias="n" />
        <filter><condition attribute="createdon" operator="last-x-years" value="1" /></filter>
      </entity></fetch>`,
      {
        entity: 'incident',
        groupBy: ['createdon by quarter'],
        where: { column: 'createdon', op: 'eq', value: 'last 1 years' },
      },
    );
    const distinct = await both(
      '<fetch aggregate="true"><entity name="contact"><attribute name="parentcustomerid" aggregate="countcolumn" distinct="true" alias="a" /></entity></fetch>',
      { entity: 'contact', measures: [{ op: 'countDistinct', column: 'parentcustomerid' }] },
    );
    const parents = new Set(
      emu
        .rows('contact')
        .map((c) => (c.parentcustomerid as { id?: string } | null)?.id)
        .filter(Boolean),
    );
    expect(distinct.groups).toEqual([{ countDistinct_parentcustomerid: parents.size }]);
    // countcolumn alone: the rows with a value in the column, by group
    const withTitle = await both(
      '<fetch aggregate="true"><entity name="contact"><attribute name="jobtitle" aggregate="countcolumn" alias="t" /></entity></fetch>',
      { entity: 'contact', where: { column: 'jobtitle', op: 'notNull' } },
    );
    expect(withTitle.groups).toEqual([{ count: emu.rows('contact').filter((c) => c.jobtitle).length }]);
  });

  it.each([
    [
      '<fetch><entity name="account"><attribute name="name" /></entity></fetch>',
      'This FetchXML reads rows (no aggregate="true"): query_entities takes it, as its fetchXml.',
    ],
    [
      '<fetch aggregate="true"><entity name="contact"><attribute name="emailaddress1" aggregate="countcolumn" alias="e" /><attribute name="contactid" aggregate="count" alias="n" /></entity></fetch>',
      'aggregate="countcolumn" on emailaddress1 beside other measures: the rows with a emailaddress1 are a condition that would hold for all of them',
    ],
    [
      '<fetch aggregate="true"><entity name="contact"><attribute name="contactid" aggregate="count" alias="n" /><order alias="x" /></entity></fetch>',
      "An aggregate FetchXML orders by an attribute's alias (<order alias=\"…\" />), which names a group or a measure; 'x' names none.",
    ],
    [
      '<fetch aggregate="true"><entity name="contact"><attribute name="contactid" aggregate="count" alias="n" /><link-entity name="account" from="accountid" to="parentcustomerid"><attribute name="name" groupby="true" alias="a" /></link-entity></entity></fetch>',
      "A link-entity's <attribute> (parentcustomerid/name) in an aggregate FetchXML: group by the lookup itself (parentcustomerid)",
    ],
    [
      '<fetch aggregate="true"><entity name="incident"><attribute name="createdon" groupby="true" dategrouping="fiscal-period" alias="p" /></entity></fetch>',
      'dategrouping="fiscal-period" on createdon: group by day, week, month, quarter or year',
    ],
  ])(
    'aggregate_records refuses FetchXML it has no equal for, saying what answers it, nothing sent (%#)',
    async (fetchXml, says) => {
      const since = emu.requests().length;
      const r = await h.call('aggregate_records', { fetchXml });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(says);
      expect(apiRequests(emu, since)).toEqual([]);
    },
  );

  it("the policy's checks are the arguments': a column it keeps from the model is refused, nothing sent", async () => {
    const since = emu.requests().length;
    const r = await h.call('query_entities', {
      fetchXml:
        '<fetch><entity name="account"><attribute name="name" /><filter><condition attribute="creditlimit" operator="gt" value="0" /></filter></entity></fetch>',
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/creditlimit/);
    expect(apiRequests(emu, since).filter((q) => q.url.includes('creditlimit'))).toEqual([]);
  });
});
