import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fiscalQuarter } from '../../src/dynamics/fiscal.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { addDays, type PeriodUnit, periodOf, periodsBetween } from '../../src/tools/support/periods.js';
import { apiRequests } from '../helpers/client.js';
import { startTestEmulator, webApiAnswer } from '../helpers/emulator.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

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

  // "Aggregate data using OData": groupby((primarycontactid/fullname)) groups by a related column, answered as
  // <related table>_<column>
  it('a column of the record a lookup points at groups through it: the contacts per account industry, in one request', async () => {
    const since = emu.requests().length;
    const r = await h.call('aggregate_records', {
      entity: 'contact',
      groupBy: ['parentcustomerid_account/industrycode'],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const accounts = new Map(emu.rows('account').map((a) => [String(a.accountid), a]));
    const industry = await h.call('describe_entity', { entity: 'account' });
    const labelOf = new Map<number, string>(
      (industry.structuredContent.entity.columns as { name: string; options?: { value: number; label: string }[] }[])
        .find((c) => c.name === 'industrycode')!
        .options!.map((o) => [o.value, `${o.label} (${o.value})`]),
    );
    const expected = countBy(emu.rows('contact'), (c) => {
      const parent = c.parentcustomerid as { id: string; entity?: string } | null;
      const account = parent ? accounts.get(parent.id) : undefined;
      return account && account.industrycode !== null ? labelOf.get(Number(account.industrycode)) : null;
    });
    const groups: Group[] = r.structuredContent.groups;
    expect(new Map(groups.map((g) => [g['parentcustomerid_account/industrycode'], g.count]))).toEqual(expected);
    const sent = apiRequests(emu, since).filter((q) => q.url.startsWith('/api/data/v9.2/contacts'));
    expect(sent).toHaveLength(1);
    expect(decodeURIComponent(sent[0]!.url)).toContain(
      '$apply=groupby((parentcustomerid_account/industrycode),aggregate($count as count))',
    );
    // through a lookup of several tables, the one table that has the column ("the company's industry": only
    // an account has one)
    const untyped = await h.call('aggregate_records', {
      entity: 'contact',
      groupBy: ['parentcustomerid/industrycode'],
    });
    expect(untyped.isError, textOf(untyped)).toBeFalsy();
    expect(untyped.structuredContent).toEqual(r.structuredContent);
    // the related record's own name is the lookup's group, which carries it (two contacts of one name apart),
    // through a lookup of several tables too (an owner's name: a user's fullname, a team's name)
    for (const [entity, path, lookup] of [
      ['account', 'primarycontactid/fullname', 'primarycontactid'],
      ['opportunity', 'ownerid/fullname', 'ownerid'],
    ]) {
      const byName = await h.call('aggregate_records', { entity, groupBy: [path] });
      const byLookup = await h.call('aggregate_records', { entity, groupBy: [lookup] });
      expect(byName.isError, textOf(byName)).toBeFalsy();
      expect(byName.structuredContent).toEqual(byLookup.structuredContent);
    }
  });

  it('a related group through a lookup of several tables names its table; a date of the related record, or a column the policy hides, is refused unsent', async () => {
    const since = emu.requests().length;
    expect(
      textOf(await h.call('aggregate_records', { entity: 'opportunity', groupBy: ['customerid/address1_city'] })),
    ).toBe(
      "Error (bad_input): 'customerid/address1_city': customerid may point at account or contact, so the path names which.\nHow to fix: Write 'customerid_account/address1_city' or 'customerid_contact/address1_city'.",
    );
    expect(
      textOf(await h.call('aggregate_records', { entity: 'contact', groupBy: ['parentcustomerid_account/createdon'] })),
    ).toContain('parentcustomerid_account/createdon is a date of account');
    expect(
      textOf(await h.call('aggregate_records', { entity: 'incident', groupBy: ['customerid_contact/birthdate'] })),
    ).toContain("The column 'birthdate' of contact is not readable under this server's policy.");
    expect(apiRequests(emu, since).filter((q) => q.url.includes('$apply'))).toEqual([]);
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

  // "aggregate(modifiedon with max as …)": min and max take a date, as Dataverse's aggregates do
  it('min and max of a date: the earliest and latest per group, the latest first; a sum of a date is refused with what to use', async () => {
    const r = await h.call('aggregate_records', {
      entity: 'incident',
      where: { statecode: 'Active' },
      groupBy: 'ownerid',
      measures: 'max(modifiedon), min(createdon), count',
      top: 500,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toMatch(/^incident by ownerid: \d+ groups, largest max_modifiedon first\./);
    const groups: Group[] = r.structuredContent.groups;
    const open = emu.rows('incident').filter((c) => c.statecode === 0);
    const owners = new Set(open.map((c) => (c.ownerid as { id: string }).id));
    expect(groups).toHaveLength(owners.size);
    const latest = (ms: number[]) => new Date(Math.max(...ms)).toISOString().replace(/\.000Z$/, 'Z');
    const earliest = (ms: number[]) => new Date(Math.min(...ms)).toISOString().replace(/\.000Z$/, 'Z');
    for (const g of groups) {
      const mine = open.filter((c) => (c.ownerid as { id: string }).id === (g.ownerid as { id: string }).id);
      expect(g.count).toBe(mine.length);
      expect(g.max_modifiedon).toBe(latest(mine.map((c) => Date.parse(String(c.modifiedon)))));
      expect(g.min_createdon).toBe(earliest(mine.map((c) => Date.parse(String(c.createdon)))));
    }
    const when = groups.map((g) => Date.parse(String(g.max_modifiedon)));
    expect(when).toEqual([...when].sort((a, b) => b - a));
    const sum = await h.call('aggregate_records', { entity: 'incident', measures: 'sum(createdon)' });
    expect(textOf(sum)).toBe(
      'Error (bad_input): sum needs a numeric column; incident.createdon is DateTime.\nHow to fix: Use min or max for the earliest or latest date, count or countDistinct for other measures.',
    );
  });

  // Dynamics names a group's related record (FormattedValue) but not its table; a case's customer may be an
  // account or a contact, a task's regarding record any of five tables: get_record needs to know which
  it("a lookup of several tables groups as {id, name, entity}: each group's record's own table", async () => {
    // a case for a contact beside the seeded ones for accounts
    const person = emu.rows('contact')[0]!;
    const opened = await h.call('create_case', {
      title: 'For a person',
      customer: { entity: 'contact', id: String(person.contactid) },
    });
    expect(opened.isError, textOf(opened)).toBeFalsy();
    const r = await h.call('aggregate_records', { entity: 'incident', groupBy: ['customerid'], top: 500 });
    expect(r.isError, textOf(r)).toBeFalsy();
    const tableOf = new Map(
      emu
        .rows('incident')
        .map((c) => [(c.customerid as { id: string }).id, (c.customerid as { entity: string }).entity]),
    );
    const groups = r.structuredContent.groups as { customerid: { id: string; entity: string } }[];
    expect(groups.length).toBe(tableOf.size);
    for (const g of groups) expect(g.customerid.entity).toBe(tableOf.get(g.customerid.id));
    expect(new Set(groups.map((g) => g.customerid.entity))).toEqual(new Set(['account', 'contact']));
    const tasks = await h.call('aggregate_records', { entity: 'task', groupBy: ['regardingobjectid'], top: 5 });
    for (const g of tasks.structuredContent.groups as { regardingobjectid: { entity: string } }[])
      expect(['opportunity', 'incident']).toContain(g.regardingobjectid.entity);
  });

  it('where given as OData filter text counts what the same conditions as an object count, by period too', async () => {
    const args = { entity: 'incident', groupBy: ['prioritycode'] };
    const asText = await h.call('aggregate_records', { ...args, where: "statecode eq 'Active' and prioritycode ne 3" });
    const asObject = await h.call('aggregate_records', {
      ...args,
      where: { statecode: 'Active', prioritycode: { ne: 3 } },
    });
    expect(asText.isError, textOf(asText)).toBeFalsy();
    expect(asText.structuredContent).toEqual(asObject.structuredContent);
    // texts in a list: each holds
    const listed = await h.call('aggregate_records', {
      ...args,
      where: ["statecode eq 'Active'", 'prioritycode ne 3'],
    });
    expect(listed.structuredContent).toEqual(asObject.structuredContent);
    const open = emu.rows('incident').filter((c) => c.statecode === 0 && c.prioritycode !== 3);
    expect(asText.structuredContent.groups.reduce((n: number, g: { count: number }) => n + g.count, 0)).toBe(
      open.length,
    );
    const monthly = { entity: 'incident', groupBy: ['createdon by month'] };
    const textByMonth = await h.call('aggregate_records', { ...monthly, where: 'statecode eq 0' });
    const objectByMonth = await h.call('aggregate_records', { ...monthly, where: { statecode: 0 } });
    expect(textByMonth.isError, textOf(textByMonth)).toBeFalsy();
    expect(textByMonth.structuredContent).toEqual(objectByMonth.structuredContent);
    // the period as the column's value, as models write it
    const keyed = await h.call('aggregate_records', {
      ...monthly,
      groupBy: [{ createdon: 'month' }],
      where: { statecode: 0 },
    });
    expect(keyed.isError, textOf(keyed)).toBeFalsy();
    expect(keyed.structuredContent).toEqual(objectByMonth.structuredContent);
    // the name the answer gives the period (createdon_month), said back in the next call
    const answered = await h.call('aggregate_records', {
      ...monthly,
      groupBy: 'createdon_month',
      where: { statecode: 0 },
    });
    expect(answered.isError, textOf(answered)).toBeFalsy();
    expect(answered.structuredContent).toEqual(objectByMonth.structuredContent);
    // a date compared with text in the filter ('last 90 days', bare labels) is the where condition's, as in
    // query_entities: Dataverse would refuse the comparison as text (text-compared.ts)
    for (const groupBy of [['leadsourcecode'], ['createdon by month']]) {
      const text = await h.call('aggregate_records', {
        entity: 'lead',
        groupBy,
        where: "createdon ge 'last 90 days' and statecode eq Open",
      });
      const object = await h.call('aggregate_records', {
        entity: 'lead',
        groupBy,
        where: { createdon: { ge: 'last 90 days' }, statecode: 'Open' },
      });
      expect(text.isError, textOf(text)).toBeFalsy();
      expect(text.structuredContent).toEqual(object.structuredContent);
      const from = new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10);
      const recent = emu.rows('lead').filter((l) => l.statecode === 0 && String(l.createdon) >= from);
      expect(recent.length).toBeGreaterThan(0);
      expect(text.structuredContent.groups.reduce((n: number, g: { count: number }) => n + g.count, 0)).toBe(
        recent.length,
      );
    }
  });

  it('nothing counted by a name no related record has says so; a count by a name some record has does not', async () => {
    const account = emu.rows('account').find((a) => String(a.name).includes(' '))!;
    const part = String(account.name).split(' ')[0]!;
    const grouped = await h.call('aggregate_records', {
      entity: 'opportunity',
      where: { parentaccountid: part },
      groupBy: ['statecode'],
    });
    expect(grouped.structuredContent.groups).toEqual([]);
    expect(textOf(grouped).split('\n')[0]).toMatch(/^opportunity by statecode: no records matched, so no groups\. /);
    expect(textOf(grouped).split('\n')[0]).toContain(
      `No account is named '${part}' (parentaccountid compares the whole name): for part of a name use {"parentaccountid": {"contains": "${part}"}}.`,
    );
    const total = await h.call('aggregate_records', { entity: 'opportunity', where: { parentaccountid: part } });
    expect(total.structuredContent.groups).toEqual([{ count: 0 }]);
    expect(textOf(total).split('\n')[0]).toContain(`No account is named '${part}'`);
    const named = await h.call('aggregate_records', {
      entity: 'opportunity',
      where: { parentaccountid: account.name, estimatedvalue: { gt: 1e12 } },
    });
    expect(named.structuredContent.groups).toEqual([{ count: 0 }]);
    expect(textOf(named).split('\n')[0]).toBe('opportunity: count over all matching records.');
  });

  it("measures named in OData's, SQL's or plain words mean the same", async () => {
    // each op as written, and the one it means
    const ops: [string, string, string?][] = [
      ['SUM', 'sum', 'revenue'],
      ['average', 'avg', 'revenue'],
      ['Count', 'count'],
      // snake case and SQL's words (was "not 'count_distinct'")
      ['count_distinct', 'countDistinct', 'address1_city'],
      ['COUNT DISTINCT', 'countDistinct', 'industrycode'],
    ];
    const measures = (which: 0 | 1) => ops.map((o) => ({ op: o[which], ...(o[2] ? { column: o[2] } : {}) }));
    const named = await h.call('aggregate_records', { entity: 'account', measures: measures(0) });
    const plain = await h.call('aggregate_records', { entity: 'account', measures: measures(1) });
    expect(named.isError, textOf(named)).toBeFalsy();
    expect(named.structuredContent.groups[0]).toHaveProperty('countDistinct_industrycode');
    expect(named.structuredContent).toEqual(plain.structuredContent);
  });

  it('groupBy a related record\'s name ("parentaccountid/name") is the lookup\'s own groups, which carry the name', async () => {
    const byLookup = await h.call('aggregate_records', { entity: 'opportunity', groupBy: ['parentaccountid'], top: 5 });
    const byName = await h.call('aggregate_records', {
      entity: 'opportunity',
      groupBy: ['parentaccountid/name'],
      top: 5,
    });
    expect(byName.isError, textOf(byName)).toBeFalsy();
    expect(byName.structuredContent).toEqual(byLookup.structuredContent);
    expect(byName.structuredContent.groups[0].parentaccountid).toMatchObject({ name: expect.any(String) });
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
      // in words
      { groupBy: 'industrycode', measures: ['sum of revenue', 'count', 'distinct address1_city'] },
      // SQL's alias (the answer names each result itself), and COUNT(DISTINCT …) in words
      { groupBy: 'industrycode', measures: ['sum(revenue) AS total', 'count(*) as n', 'count distinct address1_city'] },
      // each measure an argument of its own, beside groupBy, or added to those in measures
      { groupBy: 'industrycode', sum: 'revenue', count: true, countDistinct: ['address1_city'] },
      { groupBy: 'industrycode', measures: [{ op: 'sum', column: 'revenue' }, 'count'], Distinct: 'address1_city' },
      // op and column around a colon, as groupBy's "createdon:month"; the names the answer gives them
      { groupBy: 'industrycode', measures: ['sum:revenue', 'count', 'address1_city : countDistinct'] },
      { groupBy: 'industrycode', measures: ['sum_revenue', 'count', 'countDistinct_address1_city'] },
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
    const inWords = await h.call('aggregate_records', {
      entity: 'account',
      groupBy: 'Industry',
      measures: ['Total Annual Revenue', 'count'],
    });
    expect(inWords.structuredContent, textOf(inWords)).toEqual(byLabel.structuredContent);
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
      // one cause, and how to fix it
      expect(textOf(r).split('\n')).toHaveLength(2);
    }
    // a measure of its own that is no measure (a number, count false) points at measures
    for (const wrong of [{ sum: 5 }, { count: false }]) {
      const r = await h.call('aggregate_records', { entity: 'account', ...wrong });
      expect(textOf(r)).toMatch(
        new RegExp(
          `^Error \\(bad_input\\): aggregate_records has no argument '${Object.keys(wrong)[0]}' \\(use 'measures'\\)\\.`,
        ),
      );
    }
    // SQL's HAVING: not taken, said with how the groups' order answers it
    const having = await h.call('aggregate_records', {
      entity: 'account',
      groupBy: ['industrycode'],
      having: 'count > 5',
    });
    expect(textOf(having)).toContain(
      "aggregate_records has no argument 'having'. Its arguments: entity, where, groupBy, measures, top, orderBy. Groups are not filtered on their measures: they come largest first (or in orderBy's order",
    );
    // a sort by a name the groups do not carry: refused with those they do, before anything is sent
    const since = emu.requests().length;
    const sorted = await h.call('aggregate_records', {
      entity: 'account',
      groupBy: ['industrycode'],
      orderBy: 'revenue',
    });
    expect(textOf(sorted)).toBe(
      'Error (bad_input): orderBy sorts by what each group holds: count, industrycode; not \'revenue\'.\nHow to fix: e.g. "orderBy": "count asc" (smallest first) or "count desc".',
    );
    expect(apiRequests(emu, since)).toEqual([]);
  });

  // "which lead sources bring the fewest leads", "the three smallest owners by pipeline": before orderBy, the
  // groups came largest first only, and the smallest were the end of up to 500 groups
  it('orderBy: the groups in the order asked (a measure by its alias or column, a group, a choice by its value), the first top kept', async () => {
    const open = emu.rows('opportunity').filter((o) => o.statecode === 0);
    const byOwner = new Map<string, number>();
    for (const o of open)
      byOwner.set(
        (o.ownerid as { id: string }).id,
        (byOwner.get((o.ownerid as { id: string }).id) ?? 0) + Number(o.estimatedvalue ?? 0),
      );
    const ascending = [...byOwner.values()].sort((a, b) => a - b);
    const r = await h.call('aggregate_records', {
      entity: 'opportunity',
      where: { statecode: 'Open' },
      groupBy: ['ownerid'],
      measures: [{ op: 'sum', column: 'estimatedvalue' }],
      orderBy: 'estimatedvalue',
      top: 3,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.groups.map((g: Group) => g.sum_estimatedvalue)).toEqual(ascending.slice(0, 3));
    expect(r.structuredContent.totalGroups).toBe(byOwner.size);
    expect(textOf(r)).toMatch(
      new RegExp(
        `^opportunity by ownerid: ${byOwner.size} groups, by sum_estimatedvalue ascending\\. Showing the first 3 of ${byOwner.size} groups`,
      ),
    );
    // a choice by its value, as Dynamics orders choices (High 1, Normal 2, Low 3), not by its label's letters
    const priorities = await h.call('aggregate_records', {
      entity: 'incident',
      groupBy: ['prioritycode'],
      orderBy: 'prioritycode desc',
    });
    expect(priorities.structuredContent.groups.map((g: Group) => g.prioritycode)).toEqual([
      'Low (3)',
      'Normal (2)',
      'High (1)',
    ]);
    // a time series by its largest month, as MongoDB writes a sort: the months with most cases, not the latest
    const byMonth = (orderBy: unknown) =>
      h.call('aggregate_records', { entity: 'incident', groupBy: ['createdon by month'], orderBy, top: 2 });
    const months = await byMonth({ count: -1 });
    const counts = countBy(emu.rows('incident'), (c) => String(c.createdon).slice(0, 7));
    const most = Math.max(...counts.values());
    expect(months.structuredContent.groups[0]).toEqual({ createdon_month: expect.any(String), count: most });
    expect(counts.get(String(months.structuredContent.groups[0].createdon_month))).toBe(most);
    expect(months.structuredContent.groups[1].count).toBeLessThanOrEqual(most);
    expect(textOf(months)).toMatch(/, by count descending[;.]/);
    // as SQL writes it
    const sql = await byMonth('COUNT(*) DESC');
    expect(sql.structuredContent.groups).toEqual(months.structuredContent.groups);
    // and the latest first by the period itself
    const latest = await byMonth('createdon_month desc');
    // or by the date column's own name
    expect((await byMonth('createdon desc')).structuredContent.groups).toEqual(latest.structuredContent.groups);
    const newest = [...counts.keys()].sort().reverse();
    expect(latest.structuredContent.groups.map((g: Group) => g.createdon_month)).toEqual(newest.slice(0, 2));
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

  it("SQL's COUNT(*), and a count of the table's key, are the records counted", async () => {
    const where = { statecode: 'Open' };
    const open = emu.rows('opportunity').filter((o) => o.statecode === 0).length;
    for (const measures of [[{ count: '*' }], [{ op: 'count', column: 'opportunityid' }], [{ op: 'count' }]]) {
      const r = await h.call('aggregate_records', { entity: 'opportunity', where, measures });
      expect(r.isError, JSON.stringify(measures)).toBeFalsy();
      expect(r.structuredContent.groups).toEqual([{ count: open }]);
    }
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
    // an account's revenue alike (accounts abroad keep theirs in their own currency); where the policy keeps the
    // base amount from the model, the mix is still said
    const revenue = await h.call('aggregate_records', {
      entity: 'account',
      measures: [{ op: 'sum', column: 'revenue' }],
    });
    expect(textOf(revenue)).toContain(
      "revenue: each record's own currency, taken as plain numbers; revenue_base is in the base currency.",
    );
    const noBase = await connectInMemory(emu, {
      env: {
        DYNAMICS_MCP_POLICY: builtInPolicyWith('no-revenue-base', (e) => ({
          ...e,
          account: { ...e.account!, read: (e.account!.read ?? []).filter((c) => c !== 'revenue_base') },
        })),
      },
    });
    try {
      const mixed = await noBase.call('aggregate_records', {
        entity: 'account',
        measures: [{ op: 'sum', column: 'revenue' }],
      });
      expect(mixed.isError, textOf(mixed)).toBeFalsy();
      expect(textOf(mixed)).toContain(
        "revenue: each record's own currency, taken as plain numbers (so different currencies are added as if one); this server's policy does not let the model read revenue_base, the amount in the base currency.",
      );
    } finally {
      await noBase.close();
    }
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
      /^Error \(bad_input\): lead\.createdon is a date: Dynamics groups dates by period, not by value\.\nHow to fix: Name the period: "createdon by month" \(or day, week, quarter, year\)\.$/,
    ],
    [
      { entity: 'lead', groupBy: ['statecode by month'] },
      /"statecode by month" groups by month, but lead\.statecode is not a date \(State\)\./,
    ],
    [
      { entity: 'lead', groupBy: ['createdon by month', 'modifiedon by year'] },
      /groupBy names 2 date periods \(createdon_month, modifiedon_year\)\.\nHow to fix: Group by one date period per call\./,
    ],
    [{ entity: 'lead', groupBy: ['month(createdon)', 'createdon:month'] }, /groupBy lists 'createdon_month' twice/],
    // a period's name on a column that is not a date stays a column name, refused as none
    [{ entity: 'lead', groupBy: ['subject_month'] }, /'subject_month' is not a column of lead\./],
    [
      { entity: 'lead', groupBy: [{ column: 'Created On', by: 'fortnight' }] },
      /'fortnight' is not a period to group lead\.createdon by\.\nHow to fix: Use day, week, month, quarter or year, e\.g\. "createdon by month"\./,
    ],
    [
      { entity: 'lead', groupBy: { createdon: 'fortnight' } },
      /'fortnight' is not a period to group lead\.createdon by\./,
    ],
    // a column the policy hides is not named as a date either
    [
      { entity: 'account', groupBy: 'creditlimit by fortnight' },
      /'creditlimit by fortnight' is not a column of account/,
    ],
    [
      { entity: 'account', measures: [{ op: 'sum', column: 'name' }] },
      /sum needs a numeric column; account\.name is String\./,
    ],
    [{ entity: 'account', measures: [{ op: 'avg' }] }, /avg needs a column \(measures\[0\]\)/],
    // SQL's COUNT(name) is the records that have one, which count does under a condition; not countDistinct
    [
      { entity: 'account', measures: [{ op: 'count', column: 'name' }] },
      /^Error \(bad_input\): count counts records and takes no column \("name" given\)\.\nHow to fix: For the records with a name \(SQL's COUNT\(name\)\): count with "where": \{"name": \{"notNull": true\}\}; for its distinct values: countDistinct\.$/,
    ],
    [{ entity: 'account', measures: [{ op: 'count' }, { op: 'count' }] }, /The same measure is asked for twice/],
    [{ entity: 'account', groupBy: ['primarycontactid/telephone9'] }, /'telephone9' is not a column of contact/],
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
    [{ entity: 'businessunit' }, /The table 'businessunit' is not available under this server's policy/],
    [
      { entity: 'account', where: 42 },
      /where takes a condition object \{column, op, value\}.* OData filter text works too\./,
    ],
    // filter text is checked as query_entities' filter is
    [{ entity: 'account', where: 'creditlimit gt 0' }, /The column 'creditlimit' of account is not readable/],
    [
      { entity: 'account', where: { column: 'name', op: 'like', value: 'x%y' } },
      /'x%y' \(like\) has a wildcard inside it/,
    ],
    // said as query_entities says it: where the condition is wrong, in words, not zod's "expected string"
    [
      { entity: 'account', where: [{ column: 5, op: 'eq', value: 1 }] },
      /^Error \(bad_input\): where\.column takes text, not a number\.\n/,
    ],
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

  // Dataverse's $apply does not group by a date (AGG: "groupby with datetime values isn't supported"): each
  // period is its own aggregation, bounded by its first and last day, and the answers are checked against the
  // emulator's rows (whose user time zone is UTC, as its day functions count days)
  describe('a date grouped by period', () => {
    /** the records' counts per period, every period from the first record's to the last's (none left out) */
    const today = new Date().toISOString().slice(0, 10);
    /** today as the answer just received saw it: a run that crosses midnight UTC has two */
    const todayNow = () => new Date().toISOString().slice(0, 10);
    /** what the answer adds when its last period holds today (the seeded records reach up to today) */
    const underWay = (last: string, unit: PeriodUnit, day = todayNow()) =>
      periodOf(day, unit, 1).label === last ? `; the ${unit} ${last} is under way (today is ${day} UTC)` : '';
    const expectedPer = (dates: string[], unit: PeriodUnit, start = 1) => {
      const sorted = [...dates].sort();
      const out = new Map<string, number>();
      const last = sorted.at(-1)!.slice(0, 10);
      for (let p = periodOf(sorted[0]!, unit, start); p.from <= last; p = periodOf(addDays(p.to, 1), unit, start))
        out.set(p.label, 0);
      for (const d of sorted) {
        const label = periodOf(d, unit, start).label;
        out.set(label, out.get(label)! + 1);
      }
      return out;
    };

    it('cases per month: each month counts its cases, in order, with one aggregation per month bounded by its days', async () => {
      const since = emu.requests().length;
      const r = await h.call('aggregate_records', { entity: 'incident', groupBy: 'createdon by month' });
      expect(r.isError, textOf(r)).toBeFalsy();
      const expected = expectedPer(
        emu.rows('incident').map((c) => String(c.createdon)),
        'month',
      );
      expect(expected.size).toBeGreaterThan(6);
      expect(r.structuredContent.groups).toEqual([...expected].map(([m, n]) => ({ createdon_month: m, count: n })));
      expect(r.structuredContent.totalGroups).toBe(expected.size);
      const [first, last] = [[...expected.keys()][0]!, [...expected.keys()].at(-1)!];
      expect(textOf(r)).toMatch(
        new RegExp(
          `^incident by createdon_month: ${expected.size} months: ${first} to ${last}, earliest first${underWay(last, 'month').replace(/[()]/g, '\\$&')}\\.\\n`,
        ),
      );
      const applies = apiRequests(emu, since)
        .map((q) => decodeURIComponent(q.url))
        .filter((u) => u.includes('$apply'));
      // one per month, from the month of the day before the first case to that of the day after the last (a
      // case stamped late on the 31st in UTC is on the 1st where the user may be): those edges are dropped empty
      const dates = emu
        .rows('incident')
        .map((c) => String(c.createdon).slice(0, 10))
        .sort();
      expect(applies).toHaveLength(
        periodsBetween(addDays(dates[0]!, -1), addDays(dates.at(-1)!, 1), 'month', 1, 100)!.length,
      );
      // the days as a date in where is sent: Dataverse's day functions, whole days in the user's time zone
      expect(applies).toContainEqual(
        expect.stringContaining(
          `$apply=filter(Microsoft.Dynamics.CRM.OnOrAfter(PropertyName='createdon',PropertyValue=${first}-01) and Microsoft.Dynamics.CRM.OnOrBefore(PropertyName='createdon',PropertyValue=${periodOf(`${first}-01`, 'month', 1).to}))/aggregate($count as count)`,
        ),
      );
    });

    it('per day under conditions: days without a case are listed with 0, and the days add up to every matching case', async () => {
      const all = emu
        .rows('incident')
        .map((c) => String(c.createdon))
        .sort();
      const since = new Date(Date.parse(all.at(-1)!) - 40 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const matching = emu
        .rows('incident')
        .filter((c) => String(c.createdon) >= since && c.statecode === 0)
        .map((c) => String(c.createdon));
      const r = await h.call('aggregate_records', {
        entity: 'incident',
        where: { createdon: { ge: since }, statecode: 'Active' },
        groupBy: ['day(createdon)'],
        measures: ['count', 'countDistinct(customerid)'],
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      const expected = expectedPer(matching, 'day');
      const groups: Group[] = r.structuredContent.groups;
      expect(groups.map((g) => [g.createdon_day, g.count])).toEqual([...expected]);
      expect([...expected.values()]).toContain(0);
      expect(groups.filter((g) => g.count === 0).every((g) => g.countDistinct_customerid === 0)).toBe(true);
      expect(groups.reduce((n, g) => n + Number(g.count), 0)).toBe(matching.length);
    });

    it('a date-only column compares its days plainly; quarters are the fiscal ones pipeline_summary counts', async () => {
      const april = join(tmpdir(), `dmcp-fiscal-agg-${process.pid}.json`);
      writeFileSync(april, JSON.stringify({ pipeline: { fiscalYearStartMonth: 4 } }));
      const fiscal = await connectInMemory(emu, { configFile: april });
      try {
        const since = emu.requests().length;
        const r = await fiscal.call('aggregate_records', {
          entity: 'opportunity',
          where: { statecode: 'Open' },
          groupBy: 'estimatedclosedate by quarter',
          measures: 'count, sum(estimatedvalue_base)',
        });
        expect(r.isError, textOf(r)).toBeFalsy();
        const open = emu.rows('opportunity').filter((o) => o.statecode === 0);
        const expected = expectedPer(
          open.map((o) => String(o.estimatedclosedate)),
          'quarter',
          4,
        );
        const groups: Group[] = r.structuredContent.groups;
        expect(groups.map((g) => [g.estimatedclosedate_quarter, g.count])).toEqual([...expected]);
        const sumOf = (label: string) =>
          open
            .filter((o) => fiscalQuarter(new Date(`${o.estimatedclosedate}T00:00:00Z`), 4).label === label)
            .reduce((t, o) => t + Number(o.estimatedvalue_base ?? 0), 0);
        for (const g of groups)
          expect(g.sum_estimatedvalue_base ?? 0).toBeCloseTo(sumOf(String(g.estimatedclosedate_quarter)), 1);
        const q = fiscalQuarter(new Date(`${open.map((o) => String(o.estimatedclosedate)).sort()[0]}T00:00:00Z`), 4);
        expect(apiRequests(emu, since).map((x) => decodeURIComponent(x.url))).toContainEqual(
          expect.stringContaining(`estimatedclosedate ge ${q.from} and estimatedclosedate le ${q.to}`),
        );
      } finally {
        await fiscal.close();
      }
    });

    it("with another column: each period's groups, largest first; cut by top, the latest periods are kept and the rest counted", async () => {
      const r = await h.call('aggregate_records', {
        entity: 'incident',
        groupBy: ['createdon per month', 'prioritycode'],
        top: 5,
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      const labels = ['', 'High (1)', 'Normal (2)', 'Low (3)'];
      const all = new Map<string, number>();
      for (const c of emu.rows('incident')) {
        const k = `${String(c.createdon).slice(0, 7)} ${labels[Number(c.prioritycode)]}`;
        all.set(k, (all.get(k) ?? 0) + 1);
      }
      const ordered = [...all]
        .map(([k, n]) => ({ month: k.slice(0, 7), priority: k.slice(8), n }))
        .sort((a, b) => a.month.localeCompare(b.month) || b.n - a.n);
      const groups: Group[] = r.structuredContent.groups;
      expect(r.structuredContent.totalGroups).toBe(ordered.length);
      expect(groups).toHaveLength(5);
      expect(groups.map((g) => g.createdon_month)).toEqual(ordered.slice(-5).map((o) => o.month));
      expect(groups.map((g) => g.count)).toEqual(ordered.slice(-5).map((o) => o.n));
      expect(textOf(r)).toContain(`Showing the 5 latest of ${ordered.length} groups; pass a larger top for more.`);
    });

    it('more periods than one call makes is refused before any aggregation, with a span that fits', async () => {
      const since = emu.requests().length;
      const r = await h.call('aggregate_records', { entity: 'incident', groupBy: ['createdon by day'] });
      expect(r.isError).toBe(true);
      const last = emu
        .rows('incident')
        .map((c) => String(c.createdon).slice(0, 10))
        .sort()
        .at(-1)!;
      expect(textOf(r)).toContain(
        `How to fix: Narrow where to a shorter span (e.g. {"column":"createdon","op":"ge","value":"${addDays(last, -59)}"} for the last 60), or group by a longer period (month, quarter or year).`,
      );
      expect(apiRequests(emu, since).filter((q) => q.url.includes('$apply'))).toEqual([]);
    });

    it('the period said as text, a function or an object means the same grouping', async () => {
      const asked = [
        'createdon by year',
        'createdon per year',
        'YEAR(createdon)',
        'Created On: yearly',
        [{ column: 'createdon', by: 'year' }],
        { field: 'createdon', interval: 'years' },
      ];
      const answers = [];
      for (const groupBy of asked) {
        const r = await h.call('aggregate_records', { entity: 'incident', groupBy });
        expect(r.isError, `${JSON.stringify(groupBy)}: ${textOf(r)}`).toBeFalsy();
        answers.push(r.structuredContent);
      }
      const years = expectedPer(
        emu.rows('incident').map((c) => String(c.createdon)),
        'year',
      );
      for (const a of answers) expect(a.groups).toEqual([...years].map(([y, n]) => ({ createdon_year: y, count: n })));
    });

    it('per week counts the weeks "last week" means: last week is one week, with the same count', async () => {
      const r = await h.call('aggregate_records', {
        entity: 'lead',
        where: { createdon: 'last week' },
        groupBy: 'createdon by week',
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      const listed = await h.call('query_entities', { entity: 'lead', where: { createdon: 'last week' }, count: true });
      const n = listed.structuredContent.totalCount ?? 0;
      const now = new Date();
      const sunday = new Date(
        Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - now.getUTCDay() - 7),
      );
      expect(r.structuredContent.groups).toEqual(
        n ? [{ createdon_week: sunday.toISOString().slice(0, 10), count: n }] : [],
      );
    });

    // "leads in the last 30 days by week": the first week holds only the days from 30 days ago, and read as a
    // week it looks like a fall; the answer says so wherever the conditions limit the grouped column
    it('per period under a condition on the same column: the first and last periods are said to be possibly partial', async () => {
      const limited = await h.call('aggregate_records', {
        entity: 'lead',
        where: { createdon: 'last 90 days' },
        groupBy: 'createdon by month',
      });
      expect(limited.isError, textOf(limited)).toBeFalsy();
      expect(limited.structuredContent.groups.length).toBeGreaterThan(0);
      const months = limited.structuredContent.groups.map((g: Group) => String(g.createdon_month));
      expect(textOf(limited).split('\n')[0]).toBe(
        `lead by createdon_month: ${months.length} month${months.length === 1 ? '' : 's'}: ${months.length > 1 ? `${months[0]} to ` : ''}${months.at(-1)}, earliest first; where limits createdon, so the first and last months may hold only some of their days${underWay(months.at(-1), 'month')}.`,
      );
      const asText = await h.call('aggregate_records', {
        entity: 'lead',
        where: 'createdon ge 2000-01-01',
        groupBy: 'createdon by year',
      });
      expect(textOf(asText)).toContain('where limits createdon, so the first and last years may hold only some');
      // other conditions leave the periods whole: nothing is said
      const other = await h.call('aggregate_records', {
        entity: 'lead',
        where: { statecode: 'Open' },
        groupBy: 'createdon by year',
      });
      expect(other.isError, textOf(other)).toBeFalsy();
      expect(textOf(other)).not.toContain('where limits');
      // nor do conditions that begin and end on the periods' own bounds; one that cuts inside a period is said
      // (a lead made today: on 1 January the seed has none yet this year)
      await h.deps.client.create('lead', { lastname: 'Per period, made today', subject: 'Per period' });
      for (const [where, groupBy, cut] of [
        [{ createdon: 'this year' }, 'createdon by month', false],
        [{ createdon: 'last quarter' }, 'createdon by month', false],
        [{ createdon: { ge: '2025-03-01' } }, 'createdon by month', false],
        [{ createdon: { ge: '2025-03-15' } }, 'createdon by month', true],
        // through today: on 31 December, the whole year (found running the suite as if it were that day)
        [{ createdon: 'year to date' }, 'createdon by year', new Date().toISOString().slice(5, 10) !== '12-31'],
        [{ or: [{ createdon: 'this year' }, { createdon: 'last year' }] }, 'createdon by month', true],
      ] as const) {
        const r = await h.call('aggregate_records', { entity: 'lead', where, groupBy });
        expect(r.isError, textOf(r)).toBeFalsy();
        expect(r.structuredContent.groups.length, JSON.stringify(where)).toBeGreaterThan(0);
        expect(textOf(r).includes('where limits createdon'), JSON.stringify(where)).toBe(cut);
      }
    });

    // "cases per month last year": the period asked for, every month of it, not only from the first case's
    it('a period asked for is listed whole, months without records as 0; up to today, not months still to come', async () => {
      const year = Number(today.slice(0, 4));
      const months = (y: number, upTo = 12) =>
        Array.from({ length: upTo }, (_, i) => `${y}-${String(i + 1).padStart(2, '0')}`);
      const perMonth = (m: string) => emu.rows('incident').filter((c) => String(c.createdon).startsWith(m)).length;
      for (const [where, expected] of [
        ['last year', months(year - 1)],
        ['this year', months(year, Number(today.slice(5, 7)))],
      ] as const) {
        const r = await h.call('aggregate_records', {
          entity: 'incident',
          where: { createdon: where },
          groupBy: 'createdon by month',
        });
        expect(r.isError, textOf(r)).toBeFalsy();
        const groups: Group[] = r.structuredContent.groups;
        expect(
          groups.map((g) => g.createdon_month),
          where,
        ).toEqual(expected);
        expect(
          groups.map((g) => g.count),
          where,
        ).toEqual(expected.map(perMonth));
      }
      // a sum per month: a month without records adds up to 0 (a chart of revenue shows it so), while a month whose
      // records all lack the value keeps Dynamics' empty sum; the count asked beside it to tell them apart is not shown
      const valued = (m: string) => {
        const deals = emu.rows('opportunity').filter((o) => String(o.createdon).startsWith(m));
        const values = deals.map((o) => o.estimatedvalue).filter((v): v is number => typeof v === 'number');
        return deals.length === 0 ? 0 : values.length ? values.reduce((a, b) => a + b, 0) : null;
      };
      // six months from three before the first deal's (last year's months were that, until 1 January, when the
      // seed covers all of them)
      const first = emu
        .rows('opportunity')
        .map((o) => String(o.createdon).slice(0, 7))
        .sort()[0]!;
      const month = (k: number) => {
        const d = new Date(`${first}-01T00:00:00Z`);
        d.setUTCMonth(d.getUTCMonth() + k);
        return d.toISOString().slice(0, 7);
      };
      const span = [-3, -2, -1, 0, 1, 2].map(month);
      const sums = await h.call('aggregate_records', {
        entity: 'opportunity',
        where: { createdon: { ge: `${span[0]}-01`, lt: `${month(3)}-01` } },
        groupBy: 'createdon by month',
        measures: [{ op: 'sum', column: 'estimatedvalue' }],
      });
      expect(sums.isError, textOf(sums)).toBeFalsy();
      const perMonthSum = span.map(valued);
      expect(perMonthSum.slice(0, 3)).toEqual([0, 0, 0]);
      expect(sums.structuredContent.groups).toEqual(
        span.map((m, i) => ({ createdon_month: m, sum_estimatedvalue: perMonthSum[i] })),
      );
      // bounded at one end only ("since 2000"), or by a span one call cannot cover (two centuries of years), the
      // series begins at the first record's period, not 2000's
      const firstYear = emu
        .rows('incident')
        .map((c) => String(c.createdon).slice(0, 4))
        .sort()[0];
      for (const createdon of [{ ge: '2000-01-01' }, { between: ['1900-01-01', '2100-01-01'] }]) {
        const since = await h.call('aggregate_records', {
          entity: 'incident',
          where: { createdon },
          groupBy: 'createdon by year',
        });
        expect(since.isError, textOf(since)).toBeFalsy();
        expect(since.structuredContent.groups[0].createdon_year).toBe(firstYear);
      }
    });

    // "cases per month this year": December's count on the 3rd beside whole months reads as a collapse
    it('the period that holds today is said to be under way; periods that have ended are not', async () => {
      const r = await h.call('aggregate_records', { entity: 'incident', groupBy: 'createdon by year' });
      const day = todayNow();
      const year = day.slice(0, 4);
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.groups.at(-1).createdon_year).toBe(year);
      expect(textOf(r).split('\n')[0]).toMatch(
        new RegExp(`, earliest first; the year ${year} is under way \\(today is ${day} UTC\\)\\.$`),
      );
      const ended = await h.call('aggregate_records', {
        entity: 'incident',
        where: { createdon: 'last year' },
        groupBy: 'createdon by month',
      });
      expect(ended.isError, textOf(ended)).toBeFalsy();
      expect(ended.structuredContent.groups.length).toBeGreaterThan(0);
      expect(textOf(ended)).not.toContain('under way');
    });

    it('no matching records: no periods, said so', async () => {
      const r = await h.call('aggregate_records', {
        entity: 'lead',
        where: { lastname: 'No Such Person Anywhere' },
        groupBy: ['createdon by week'],
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent).toEqual({ entity: 'lead', groups: [], totalGroups: 0 });
      expect(textOf(r)).toMatch(/^lead by createdon_week: no records match\.$/m);
    });

    it('no matching records in a period asked for: its periods, each with none, as a period without records is in any series', async () => {
      // "cases per quarter last year" where none matches (as "this year" by month on 1 January)
      const r = await h.call('aggregate_records', {
        entity: 'incident',
        where: { createdon: 'last year', title: 'No Such Case Anywhere' },
        groupBy: 'createdon by quarter',
        measures: ['count'],
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      const year = new Date().getUTCFullYear() - 1;
      expect(r.structuredContent.groups).toEqual(
        [1, 2, 3, 4].map((q) => ({ createdon_quarter: `FY${year} Q${q}`, count: 0 })),
      );
      expect(textOf(r).split('\n')[0]).toMatch(
        new RegExp(`^incident by createdon_quarter: 4 quarters: FY${year} Q1 to FY${year} Q4, earliest first\\.`),
      );
      // with another column beside the period there is no group to list: said so, in words that read
      const beside = await h.call('aggregate_records', {
        entity: 'incident',
        where: { createdon: 'last year', title: 'No Such Case Anywhere' },
        groupBy: ['createdon by quarter', 'prioritycode'],
      });
      expect(textOf(beside)).toMatch(/^incident by createdon_quarter, prioritycode: no records match\. /);
    });
  });
});
