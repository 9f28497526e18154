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

  it('a related record (not a list) takes no order or length, and a list no more than EXPANDED_ROWS', async () => {
    const single = await h.call('query_entities', {
      entity: 'account',
      expand: [{ relation: 'primarycontactid', top: 1 }],
    });
    expect(textOf(single)).toBe(
      `Error (bad_input): 'primarycontactid' is one related record: "orderBy" and "top" in an expand item are for related lists.\nHow to fix: Leave them out of the 'primarycontactid' item.`,
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
