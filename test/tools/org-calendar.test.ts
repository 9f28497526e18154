import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fiscalQuarter, fiscalYearSpan, type OrgCalendar } from '../../src/dynamics/fiscal.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { ALL_ENTITIES } from '../../src/emulator/schema/all-entities.js';
import { fullRole } from '../../src/emulator/webapi/security.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

/**
 * Quarters are the organisation's own: its fiscal year settings (organization.fiscalcalendarstart and
 * fiscalyeardisplaycode) say where a year starts and what it is called, unless the configuration says
 * otherwise. A server that counted calendar quarters in an organisation whose year starts in July would
 * total the wrong deals under "this quarter" without a word.
 */
describe("the organisation's fiscal year", () => {
  let emu: EmulatorHandle;
  const open: McpHarness[] = [];
  const connect = async (opts: Parameters<typeof connectInMemory>[1] = {}) => {
    const h = await connectInMemory(emu, opts);
    open.push(h);
    return h;
  };
  /** the organisations requests since `since` (the reads of its fiscal year settings) */
  const orgReads = (since: number) =>
    emu
      .requests()
      .slice(since)
      .filter((r) => r.url.startsWith('/api/data/v9.2/organizations'));
  /** the open deals the emulator holds that close within a quarter, by id */
  const closingIn = (q: { from: string; to: string }) =>
    emu
      .rows('opportunity')
      .filter(
        (o) => o.statecode === 0 && String(o.estimatedclosedate) >= q.from && String(o.estimatedclosedate) <= q.to,
      )
      .map((o) => String(o.opportunityid))
      .sort();

  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 200 });
  });
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
    await emu.reset();
  });
  afterAll(async () => {
    await emu.close();
  });

  it('sets the quarters pipeline_summary totals and query_entities finds, from the first day its administrator entered', async () => {
    for (const [start, code, year] of [
      // 1 July entered in UTC-7, the year named by its end (FY2027 runs July 2026 to June 2027)
      ['2020-07-01T07:00:00Z', 2, { startMonth: 7, namedByEnd: true }],
      // 1 April entered in UTC+10 (the day before, in UTC), named by its start
      ['2019-03-31T14:00:00Z', 1, { startMonth: 4, namedByEnd: false }],
    ] as const) {
      emu.configure({ organization: { fiscalcalendarstart: start, fiscalyeardisplaycode: code } });
      const h = await connect();
      // a close date written as the quarter's end is its last day, by the same calendar
      const deal = emu.rows('opportunity').find((o) => o.statecode === 0)!;
      const moved = await h.call('update_record', {
        entity: 'opportunity',
        id: deal.opportunityid,
        values: { estimatedclosedate: 'end of this quarter' },
      });
      expect(moved.structuredContent?.changed, textOf(moved)).toEqual({
        estimatedclosedate: fiscalQuarter(new Date(), year as OrgCalendar, 0).to,
      });
      for (const [quarter, offset] of [
        ['this', 0],
        ['last', -1],
      ] as const) {
        const q = fiscalQuarter(new Date(), year as OrgCalendar, offset);
        const summary = await h.call('pipeline_summary', { quarter });
        expect(summary.isError, textOf(summary)).toBeFalsy();
        expect(summary.structuredContent.period, `${start} ${quarter}`).toEqual(q);
        const deals = await h.call('query_entities', {
          entity: 'opportunity',
          select: ['name'],
          where: { estimatedclosedate: `${quarter} quarter`, statecode: 'Open' },
          top: 5000,
        });
        expect(deals.isError, textOf(deals)).toBeFalsy();
        const ids = deals.structuredContent.records.map((r: { id: string }) => r.id).sort();
        expect(ids.length, `${start}: deals close in ${q.label}`).toBeGreaterThan(0);
        expect(ids).toEqual(closingIn(q));
        expect(summary.structuredContent.totals.count).toBe(ids.length);
      }
      // its fiscal years too: in conditions ("this fiscal year"), and as aggregate_records' years (only the
      // current one here: the seeded deals close within 270 days of today, which a year ahead or behind does not
      // always reach; utc-days.test.ts has the others, on a fixed day)
      for (const [words, offset] of [['this fiscal year', 0]] as const) {
        const span = fiscalYearSpan(new Date(), year as OrgCalendar, offset);
        const deals = await h.call('query_entities', {
          entity: 'opportunity',
          select: ['name'],
          where: { estimatedclosedate: words, statecode: 'Open' },
          top: 5000,
        });
        expect(deals.isError, textOf(deals)).toBeFalsy();
        const ids = deals.structuredContent.records.map((r: { id: string }) => r.id).sort();
        expect(ids.length, `${start}: deals close in ${span.label}`).toBeGreaterThan(0);
        expect(ids, `${start}: ${words} is ${span.from} to ${span.to}`).toEqual(closingIn(span));
        const perYear = await h.call('aggregate_records', {
          entity: 'opportunity',
          where: { statecode: 'Open' },
          groupBy: ['estimatedclosedate per year'],
          measures: ['count'],
        });
        expect(perYear.isError, textOf(perYear)).toBeFalsy();
        const row = perYear.structuredContent.groups.find(
          (g: Record<string, unknown>) => g.estimatedclosedate_year === span.label,
        );
        expect(row?.count ?? 0, `${span.label} per year`).toBe(ids.length);
      }
    }
  });

  it('a close date at the end of a quarter named alone that has passed is refused with both days; the coming one is written', async () => {
    // a fiscal year that began seven months ago: today is in its Q3, its Q1 has ended, Q4 is to come
    const now = new Date();
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 7, 1));
    emu.configure({ organization: { fiscalcalendarstart: start.toISOString(), fiscalyeardisplaycode: 1 } });
    const year = { startMonth: start.getUTCMonth() + 1, namedByEnd: false } as OrgCalendar;
    const h = await connect();
    const deal = emu.rows('opportunity').find((o) => o.statecode === 0)!;
    const sent = emu.requests().length;
    const past = fiscalQuarter(now, year, -2);
    const coming = fiscalQuarter(now, year, 2);
    expect(past.label).toMatch(/ Q1$/);
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: deal.opportunityid,
      values: { estimatedclosedate: 'end of Q1' },
    });
    expect(textOf(r)).toBe(
      `Error (bad_input): 'end of Q1' would be ${past.to}, already past: Q1 alone is this fiscal year's (${past.label}).\n` +
        `How to fix: Pass ${coming.to} for the coming one (${coming.label}), or ${past.to} if the past one is meant.`,
    );
    expect(
      emu
        .requests()
        .slice(sent)
        .filter((q) => q.method === 'PATCH'),
    ).toEqual([]);
    // the pipeline of Q1 alone is this fiscal year's, which has ended: said, with the coming one's name
    const pipeline = await h.call('pipeline_summary', { quarter: 'Q1', topDeals: 0 });
    expect(pipeline.structuredContent.period).toEqual(past);
    expect(textOf(pipeline).split('\n')[0]).toMatch(
      new RegExp(
        `The period has ended: these are open deals whose close date has passed; for the coming Q1, pass quarter "${coming.label}"\\.$`,
      ),
    );
    // this year's Q4 is still to come; "end of month" without "the" is this month's last day
    for (const [words, day] of [
      ['end of Q4', fiscalQuarter(now, year, 1).to],
      ['end of month', new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).toISOString().slice(0, 10)],
    ] as const) {
      const moved = await h.call('update_record', {
        entity: 'opportunity',
        id: deal.opportunityid,
        values: { estimatedclosedate: words },
      });
      expect(moved.structuredContent?.changed, textOf(moved)).toEqual({ estimatedclosedate: day });
    }
  });

  it('weeks start on the organisation\'s first day: per-week totals count the days its "last week" does', async () => {
    emu.configure({ organization: { weekstartdaycode: 1 } });
    const h = await connect();
    // deals closing on the two Sundays around last week: with weeks from Monday, the later one is in last week
    // and the earlier one is not (from Sunday, the other way round), whatever day the test runs on
    const DAY = 86_400_000;
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    const monday = today - ((new Date(today).getUTCDay() + 6) % 7) * DAY;
    const inside = await h.deps.client.create('opportunity', {
      name: 'Closes Sunday',
      estimatedclosedate: day(monday - DAY),
    });
    const outside = await h.deps.client.create('opportunity', {
      name: 'Closes the Sunday before',
      estimatedclosedate: day(monday - 8 * DAY),
    });
    const lastWeek = await h.call('query_entities', {
      entity: 'opportunity',
      select: ['name'],
      where: { estimatedclosedate: 'last week' },
      top: 5000,
    });
    expect(lastWeek.isError, textOf(lastWeek)).toBeFalsy();
    const ids = lastWeek.structuredContent.records.map((r: { id: string }) => r.id);
    expect(ids).toContain(inside.id);
    expect(ids).not.toContain(outside.id);
    // Dataverse's LastWeek (the emulator counts it from the organisation's first day, as Dataverse does)
    const from = day(monday - 7 * DAY);
    const closing = emu
      .rows('opportunity')
      .filter((o) => String(o.estimatedclosedate) >= from && String(o.estimatedclosedate) < day(monday))
      .map((o) => String(o.opportunityid))
      .sort();
    expect(ids.sort()).toEqual(closing);
    const perWeek = await h.call('aggregate_records', {
      entity: 'opportunity',
      where: { estimatedclosedate: { ge: day(monday - 28 * DAY), le: day(monday + 6 * DAY) } },
      groupBy: ['estimatedclosedate per week'],
      measures: ['count'],
    });
    expect(perWeek.isError, textOf(perWeek)).toBeFalsy();
    expect(textOf(perWeek)).toContain('(weeks start on Monday)');
    const groups = perWeek.structuredContent.groups as { estimatedclosedate_week: string; count: number }[];
    for (const g of groups)
      expect(new Date(`${g.estimatedclosedate_week}T00:00:00Z`).getUTCDay(), g.estimatedclosedate_week).toBe(1);
    expect(groups.find((g) => g.estimatedclosedate_week === from)?.count).toBe(closing.length);
  });

  it('is read once, and only when a quarter is named', async () => {
    emu.configure({ organization: { fiscalcalendarstart: '2020-10-01T00:00:00Z', fiscalyeardisplaycode: 2 } });
    const h = await connect();
    const since = emu.requests().length;
    const plain = await h.call('query_entities', { entity: 'opportunity', select: ['name'], top: 5 });
    expect(plain.isError, textOf(plain)).toBeFalsy();
    expect(orgReads(since)).toEqual([]);
    const calls = await Promise.all([
      h.call('pipeline_summary', {}),
      h.call('pipeline_summary', { quarter: 'next' }),
      h.call('query_entities', { entity: 'opportunity', where: { estimatedclosedate: 'this quarter' }, top: 5 }),
    ]);
    for (const c of calls) expect(c.isError, textOf(c)).toBeFalsy();
    expect(calls[0].structuredContent.period).toEqual(fiscalQuarter(new Date(), { startMonth: 10, namedByEnd: true }));
    expect(orgReads(since)).toHaveLength(1);
  });

  it("the configuration's fiscalYearStartMonth overrides its fiscal year; only its week start is read", async () => {
    emu.configure({ organization: { fiscalcalendarstart: '2020-07-01T00:00:00Z', fiscalyeardisplaycode: 1 } });
    const file = join(tmpdir(), `dmcp-fiscal-override-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ pipeline: { fiscalYearStartMonth: 2 } }));
    const h = await connect({ configFile: file });
    const since = emu.requests().length;
    const r = await h.call('pipeline_summary', {});
    expect(r.structuredContent.period).toEqual(fiscalQuarter(new Date(), 2));
    expect(orgReads(since).map((q) => decodeURIComponent(q.url))).toEqual([
      '/api/data/v9.2/organizations?$select=weekstartdaycode',
    ]);
  });

  it('is the calendar year where the policy leaves the settings out or Dynamics refuses them; a failure that may pass fails the call', async () => {
    emu.configure({ organization: { fiscalcalendarstart: '2020-07-01T00:00:00Z', fiscalyeardisplaycode: 2 } });
    const calendar = fiscalQuarter(new Date(), 1);
    // the policy does not name the organization table: nothing is asked
    const unlisted = await connect({
      env: { DYNAMICS_MCP_POLICY: builtInPolicyWith('no-organization', ({ organization: _o, ...e }) => e) },
    });
    let since = emu.requests().length;
    expect((await unlisted.call('pipeline_summary', {})).structuredContent.period).toEqual(calendar);
    expect(orgReads(since)).toEqual([]);

    // the application user may not read the organisation (a security role without it): Dynamics' 403, said in the log
    const { organization: _o, ...role } = fullRole(ALL_ENTITIES);
    emu.configure({ role: { privileges: role } });
    const refused = await connect();
    since = emu.requests().length;
    const r = await refused.call('pipeline_summary', {});
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.period).toEqual(calendar);
    expect(orgReads(since).map((q) => q.status)).toEqual([403]);
    expect(refused.logs.join('')).toContain("could not read the organisation's calendar settings");
    emu.configure({ role: { privileges: fullRole(ALL_ENTITIES) } });

    // Dynamics unavailable for longer than the retries: the call fails and says so, rather than count calendar
    // quarters; the next call asks again and counts the organisation's
    const noRetries = join(tmpdir(), `dmcp-fiscal-no-retries-${process.pid}.json`);
    writeFileSync(noRetries, JSON.stringify({ dynamics: { maxRetries: 0 } }));
    const busy = await connect({ configFile: noRetries });
    emu.addFault({ match: { path: '/api/data/v9.2/organizations' }, response: { status: 503, body: '' } });
    const failed = await busy.call('pipeline_summary', {});
    expect(failed.isError).toBe(true);
    expect(textOf(failed)).toMatch(/^Error \(server\)/);
    const again = await busy.call('pipeline_summary', {});
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(again.structuredContent.period).toEqual(fiscalQuarter(new Date(), { startMonth: 7, namedByEnd: true }));
  });
});
