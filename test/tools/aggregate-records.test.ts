import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { apiRequests } from '../helpers/client.js';
import { startTestEmulator, webApiAnswer } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

type Group = Record<string, unknown>;

// Answers are checked against the emulator's own rows: the counts and totals a user would otherwise get by
// reading every record (AGG in shared/reference/dataverse-webapi.md: groupby/aggregate over $apply)
describe('aggregate_records', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 200 });
    h = await connectInMemory(emu);
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });
  beforeEach(() => emu.configure({ aggregateLimit: 50_000 }));

  const countBy = <T>(rows: Record<string, unknown>[], key: (r: Record<string, unknown>) => T) => {
    const m = new Map<T, number>();
    for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
    return m;
  };

  it('counts open cases per priority in one request, labelled as query_entities labels them, largest first', async () => {
    const since = emu.requests().length;
    const r = await h.call('aggregate_records', {
      entity: 'incident',
      where: { column: 'statecode', op: 'eq', value: 'Active' },
      groupBy: ['prioritycode'],
    });
    expect(r.isError).toBeFalsy();
    const labels = new Map([
      [1, 'High (1)'],
      [2, 'Normal (2)'],
      [3, 'Low (3)'],
    ]);
    const expected = countBy(
      emu.rows('incident').filter((c) => c.statecode === 0),
      (c) => labels.get(Number(c.prioritycode)),
    );
    const groups: Group[] = r.structuredContent.groups;
    expect(new Map(groups.map((g) => [g.prioritycode, g.count]))).toEqual(expected);
    expect(groups.map((g) => g.count)).toEqual([...expected.values()].sort((a, b) => b - a));
    expect(r.structuredContent.totalGroups).toBe(expected.size);
    expect(textOf(r)).toMatch(/^incident by prioritycode: 3 groups, largest count first\./);
    const sent = apiRequests(emu, since).filter((q) => q.url.startsWith('/api/data/v9.2/incidents'));
    expect(sent).toHaveLength(1);
    expect(decodeURIComponent(sent[0]!.url)).toContain(
      '$apply=filter(statecode eq 0)/groupby((prioritycode),aggregate($count as count))',
    );
  });

  it('sum, average, min and max per group agree with the rows; a lookup groups as {id, name}, an empty one as null', async () => {
    const r = await h.call('aggregate_records', {
      entity: 'account',
      groupBy: ['parentaccountid'],
      measures: [
        { op: 'sum', column: 'revenue' },
        { op: 'avg', column: 'numberofemployees' },
        { op: 'min', column: 'revenue' },
        { op: 'max', column: 'revenue' },
        { op: 'count' },
      ],
      top: 500,
    });
    expect(r.isError).toBeFalsy();
    const groups: Group[] = r.structuredContent.groups;
    const accounts = emu.rows('account');
    const byParent = new Map<string | null, Record<string, unknown>[]>();
    for (const a of accounts) {
      const p = (a.parentaccountid as { id: string } | null)?.id ?? null;
      byParent.set(p, [...(byParent.get(p) ?? []), a]);
    }
    expect(groups).toHaveLength(byParent.size);
    for (const g of groups) {
      const parent = g.parentaccountid as { id: string; name: string } | null;
      const rows = byParent.get(parent?.id ?? null)!;
      if (parent) expect(parent.name).toBe(accounts.find((a) => a.accountid === parent.id)!.name);
      const revenues = rows.map((a) => a.revenue as number | null).filter((v): v is number => v !== null);
      const staff = rows.map((a) => a.numberofemployees as number | null).filter((v): v is number => v !== null);
      expect(g.count).toBe(rows.length);
      expect(g.sum_revenue).toBeCloseTo(
        revenues.reduce((s, v) => s + v, 0),
        2,
      );
      expect(g.min_revenue).toBe(Math.min(...revenues));
      expect(g.max_revenue).toBe(Math.max(...revenues));
      expect(g.avg_numberofemployees).toBeCloseTo(staff.reduce((s, v) => s + v, 0) / staff.length, 2);
    }
    // ordered by the first measure
    const sums = groups.map((g) => g.sum_revenue as number);
    expect(sums).toEqual([...sums].sort((a, b) => b - a));
    expect(groups.some((g) => g.parentaccountid === null)).toBe(true);
  });

  it("measures named in OData's, SQL's or plain words mean the same", async () => {
    const named = await h.call('aggregate_records', {
      entity: 'account',
      measures: [{ op: 'SUM', column: 'revenue' }, { op: 'average', column: 'revenue' }, { op: 'Count' }],
    });
    const plain = await h.call('aggregate_records', {
      entity: 'account',
      measures: [{ op: 'sum', column: 'revenue' }, { op: 'avg', column: 'revenue' }, { op: 'count' }],
    });
    expect(named.isError).toBeFalsy();
    expect(named.structuredContent).toEqual(plain.structuredContent);
  });

  it("measures and groupBy in SQL's text and other APIs' shapes mean the documented ones", async () => {
    const documented = await h.call('aggregate_records', {
      entity: 'account',
      groupBy: ['industrycode'],
      measures: [{ op: 'sum', column: 'revenue' }, { op: 'count' }, { op: 'countDistinct', column: 'address1_city' }],
    });
    expect(documented.isError).toBeFalsy();
    for (const variant of [
      { groupBy: 'industrycode', measures: 'SUM(revenue), count(*), COUNT(DISTINCT address1_city)' },
      {
        groupBy: ['industrycode'],
        measures: [{ sum: 'revenue' }, 'count', { function: 'countDistinct', field: 'address1_city' }],
      },
    ]) {
      const r = await h.call('aggregate_records', { entity: 'account', ...variant });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent, JSON.stringify(variant)).toEqual(documented.structuredContent);
    }
    // labels as Dynamics shows them, in the text form too
    const byLabel = await h.call('aggregate_records', {
      entity: 'account',
      groupBy: 'Industry',
      measures: 'sum(Annual Revenue), count(*)',
    });
    const byName = await h.call('aggregate_records', {
      entity: 'account',
      groupBy: ['industrycode'],
      measures: [{ op: 'sum', column: 'revenue' }, { op: 'count' }],
    });
    expect(byLabel.isError, textOf(byLabel)).toBeFalsy();
    expect(byLabel.structuredContent).toEqual(byName.structuredContent);
    // what cannot be read as one measure is refused, saying what a measure is
    for (const [measures, message] of [
      [
        [{ op: 'median', column: 'revenue' }],
        "a measure's op is one of count, sum, avg, min, max, countDistinct, not 'median'.",
      ],
      [
        [{ op: 'sum', column: 'revenue', alias: 'total' }],
        "a measure takes op and column, not 'alias'; results are named op_column (sum_revenue).",
      ],
      [[42], 'each measure is {"op":"sum","column":"revenue"} or {"op":"count"}.'],
    ] as const) {
      const r = await h.call('aggregate_records', { entity: 'account', measures });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(message);
      expect(textOf(r)).not.toMatch(/\n/);
    }
  });

  it('without groupBy: one total; a list of conditions means all of them', async () => {
    const r = await h.call('aggregate_records', {
      entity: 'opportunity',
      where: [
        { column: 'statecode', op: 'eq', value: 'Open' },
        { column: 'estimatedvalue', op: 'gt', value: 100_000 },
      ],
      measures: [{ op: 'count' }, { op: 'countDistinct', column: 'parentaccountid' }],
    });
    expect(r.isError).toBeFalsy();
    const open = emu.rows('opportunity').filter((o) => o.statecode === 0 && Number(o.estimatedvalue) > 100_000);
    const accounts = new Set(open.map((o) => (o.parentaccountid as { id: string } | null)?.id).filter(Boolean));
    expect(r.structuredContent.groups).toEqual([{ count: open.length, countDistinct_parentaccountid: accounts.size }]);
    expect(textOf(r)).toMatch(/^opportunity: count, countDistinct_parentaccountid over all matching records\./);
  });

  it("a money sum says it adds each record's own currency, and names the base-currency column", async () => {
    const r = await h.call('aggregate_records', {
      entity: 'opportunity',
      groupBy: ['statecode'],
      measures: [{ op: 'sum', column: 'estimatedvalue' }],
    });
    expect(textOf(r)).toContain(
      "estimatedvalue: each record's own currency, taken as plain numbers; estimatedvalue_base is in the base currency.",
    );
    const base = await h.call('aggregate_records', {
      entity: 'opportunity',
      groupBy: ['statecode'],
      measures: [{ op: 'sum', column: 'estimatedvalue_base' }],
    });
    expect(textOf(base)).not.toContain('currency');
    const highest = await h.call('aggregate_records', {
      entity: 'opportunity',
      measures: [{ op: 'max', column: 'estimatedvalue' }],
    });
    expect(textOf(highest)).toContain("estimatedvalue: each record's own currency, taken as plain numbers");
  });

  it('more groups than top: the largest are shown and the rest are counted, never dropped silently', async () => {
    const r = await h.call('aggregate_records', { entity: 'account', groupBy: ['address1_city'], top: 2 });
    const cities = countBy(emu.rows('account'), (a) => a.address1_city ?? null);
    expect(cities.size).toBeGreaterThan(2);
    expect(r.structuredContent.groups).toHaveLength(2);
    expect(r.structuredContent.totalGroups).toBe(cities.size);
    expect(textOf(r)).toContain(`Showing the 2 largest of ${cities.size} groups; pass a larger top for more.`);
  });

  it.each([
    [
      { entity: 'lead', groupBy: ['createdon'] },
      /lead\.createdon cannot be grouped by\.\nHow to fix: Dynamics cannot group by a date through the Web API/,
    ],
    [
      { entity: 'account', measures: [{ op: 'sum', column: 'name' }] },
      /sum needs a numeric column; account\.name is String\./,
    ],
    [{ entity: 'account', measures: [{ op: 'avg' }] }, /avg needs a column \(measures\[0\]\)/],
    [{ entity: 'account', measures: [{ op: 'count', column: 'name' }] }, /count counts records and takes no column/],
    [{ entity: 'account', measures: [{ op: 'count' }, { op: 'count' }] }, /The same measure is asked for twice/],
    [{ entity: 'account', groupBy: ['primarycontactid/fullname'] }, /not the path 'primarycontactid\/fullname'/],
    [{ entity: 'account', groupBy: ['statecode', 'StateCode'] }, /groupBy lists 'statecode' twice/],
    [
      { entity: 'account', groupBy: ['description'] },
      /account\.description cannot be grouped by\.\nHow to fix: Long text/,
    ],
    // the closest name once, in the hint (not repeated on a line of its own)
    [
      { entity: 'account', groupBy: ['industrycod'] },
      /^Error \(unknown_column\): 'industrycod' is not a column of account\.\nHow to fix: Did you mean: industrycode\? Call describe_entity\('account'\) for every column you may use\.$/,
    ],
    // the policy leaves credit limits out: not countable either, and not even named as existing
    [
      { entity: 'account', measures: [{ op: 'sum', column: 'creditlimit' }] },
      /not readable under this server's policy/,
    ],
    [{ entity: 'transactioncurrency' }, /The table 'transactioncurrency' is not available under this server's policy/],
    [{ entity: 'account', where: "name eq 'x'" }, /where takes a condition object \{column, op, value\}/],
    [{ entity: 'account', where: { column: 'name', op: 'like', value: '%x%' } }, /op 'like' does not exist/],
    [
      { entity: 'account', groupBy: ['address1_city'], top: 1000 },
      /top is at most 500 groups; narrow them with where, or group by a coarser column\./,
    ],
  ])('refused before anything is sent: %j', async (args, message) => {
    const since = emu.requests().length;
    const r = await h.call('aggregate_records', args);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(message);
    expect(apiRequests(emu, since).filter((q) => q.url.includes('$apply'))).toEqual([]);
  });

  // Dynamics does not page an aggregation for us to follow: an answer that says there is more is refused
  // whole rather than shown as if it were every group
  it('an aggregation answered with a next page is an error, not the first page passed off as all groups', async () => {
    emu.addFault({
      match: { method: 'GET', path: '/api/data/v9.2/accounts' },
      response: webApiAnswer({
        value: [{ address1_city: 'Seattle', count: 3 }],
        '@odata.nextLink': `${emu.dynamicsUrl}/api/data/v9.2/accounts?$skiptoken=x`,
      }),
    });
    const r = await h.call('aggregate_records', { entity: 'account', groupBy: ['address1_city'] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe(
      'Error (too_large): Dynamics answered the aggregation on accounts with more groups than one answer holds (1 and more).\n' +
        'How to fix: Group by fewer or coarser columns (a choice rather than a name), or narrow the conditions.',
    );
  });

  it('over the 50,000 records Dynamics aggregates, it says so and how to narrow the question', async () => {
    emu.configure({ aggregateLimit: 50 });
    const r = await h.call('aggregate_records', { entity: 'account', groupBy: ['industrycode'] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe(
      'Error (too_large): Too many records to aggregate in Dynamics (the limit is 50,000).\nHow to fix: Narrow the period or add conditions.',
    );
  });
});
