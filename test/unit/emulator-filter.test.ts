import { describe, expect, it } from 'vitest';
import { guidKey, type Row } from '../../src/emulator/store/store.js';
import { QueryEnv } from '../../src/emulator/webapi/env.js';
import { compileFilter } from '../../src/emulator/webapi/filter.js';
import { parseFilter } from '../../src/odata/parser.js';
import { seededStore } from '../helpers/seeded-store.js';

// The emulator's $filter has fast paths (number columns against a literal, date-only text against a
// date literal, unrolled 'and'); each expression here is checked against a plain reading of the rule
// over every seeded opportunity, so a fast path cannot drift from the meaning (FILTER: comparisons
// with null are false except eq/ne; dates compare as instants).
describe('emulator $filter comparisons agree with a plain evaluation', () => {
  const { schema, store } = seededStore({ seed: 7, scale: 400, anchor: new Date('2026-06-15T00:00:00Z') });
  const env = new QueryEnv(schema, store, new Date('2026-06-15T00:00:00Z'), 'caller');
  const entity = schema.entity('opportunity')!;
  const rows = [...store.table('opportunity').rows.values()];
  const n = (r: Row, c: string) => r[c] as number | null;
  // a value some rows hold exactly, so that gt and ge (lt and le) select different rows
  const V = rows[0]!.estimatedvalue as number;
  // GUIDs compare in SQL Server's uniqueidentifier order (guidKey), lookups by the id they hold
  const G = String(rows[7]!.opportunityid);
  const A = (rows[3]!.parentaccountid as { id: string }).id.toUpperCase();
  const gk = (v: unknown) => guidKey(String(v));
  const acc = (r: Row) => (r.parentaccountid as { id: string } | null)?.id ?? null;
  const day = (r: Row) => (r.estimatedclosedate === null ? null : Date.parse(`${r.estimatedclosedate}T00:00:00Z`));
  const cases: [string, (r: Row) => boolean][] = [
    ['statecode eq 0', (r) => n(r, 'statecode') === 0],
    ['statecode ne 0', (r) => n(r, 'statecode') !== 0],
    ['0 eq statecode', (r) => n(r, 'statecode') === 0],
    [`estimatedvalue gt ${V}`, (r) => n(r, 'estimatedvalue')! > V],
    [`estimatedvalue ge ${V}`, (r) => n(r, 'estimatedvalue')! >= V],
    [`${V} gt estimatedvalue`, (r) => n(r, 'estimatedvalue')! < V],
    [`${V} le estimatedvalue`, (r) => n(r, 'estimatedvalue')! >= V],
    ['actualvalue eq null', (r) => n(r, 'actualvalue') === null],
    ['actualvalue ne null', (r) => n(r, 'actualvalue') !== null],
    ['actualvalue gt 0', (r) => n(r, 'actualvalue') !== null && n(r, 'actualvalue')! > 0],
    ['actualvalue lt 1000000000', (r) => n(r, 'actualvalue') !== null && n(r, 'actualvalue')! < 1e9],
    ['actualvalue gt null', () => false],
    ['estimatedclosedate ge 2026-06-01', (r) => day(r)! >= Date.parse('2026-06-01T00:00:00Z')],
    ['estimatedclosedate lt 2026-06-01', (r) => day(r)! < Date.parse('2026-06-01T00:00:00Z')],
    ['2026-06-01 ge estimatedclosedate', (r) => day(r)! <= Date.parse('2026-06-01T00:00:00Z')],
    ['estimatedclosedate ge 2026-06-01T12:00:00Z', (r) => day(r)! >= Date.parse('2026-06-01T12:00:00Z')],
    [
      'actualclosedate le 2026-01-01',
      (r) =>
        r.actualclosedate !== null &&
        day({ estimatedclosedate: r.actualclosedate } as Row)! <= Date.parse('2026-01-01T00:00:00Z'),
    ],
    [
      'statecode eq 0 and estimatedvalue ge 100000 and estimatedclosedate le 2026-09-30',
      (r) =>
        n(r, 'statecode') === 0 && n(r, 'estimatedvalue')! >= 100000 && day(r)! <= Date.parse('2026-09-30T00:00:00Z'),
    ],
    ['statecode eq 1 or estimatedvalue lt 20000', (r) => n(r, 'statecode') === 1 || n(r, 'estimatedvalue')! < 20000],
    [`opportunityid ge ${G}`, (r) => gk(r.opportunityid) >= gk(G)],
    [`opportunityid lt ${G}`, (r) => gk(r.opportunityid) < gk(G)],
    [`${G} gt opportunityid`, (r) => gk(r.opportunityid) < gk(G)],
    [`opportunityid eq ${G.toUpperCase()}`, (r) => r.opportunityid === G],
    [`opportunityid ne ${G}`, (r) => r.opportunityid !== G],
    [`_parentaccountid_value eq ${A}`, (r) => acc(r) === A.toLowerCase()],
    [`_parentaccountid_value le ${A}`, (r) => acc(r) !== null && gk(acc(r)) <= gk(A)],
    [
      'not (salesstage eq 3) and closeprobability gt 50',
      (r) => n(r, 'salesstage') !== 3 && n(r, 'closeprobability')! > 50,
    ],
  ];

  it.each(cases)('%s', (text, expected) => {
    const pred = compileFilter(schema, new Map(), parseFilter(text), entity);
    const got = rows.filter((r) => pred(r, env)).map((r) => r.opportunityid);
    const want = rows.filter(expected).map((r) => r.opportunityid);
    expect(got).toEqual(want);
    // every case selects something and leaves something out, so it can tell a wrong answer apart
    if (text !== 'actualvalue gt null') {
      expect(want.length).toBeGreaterThan(0);
      expect(want.length).toBeLessThan(rows.length);
    }
  });
});
