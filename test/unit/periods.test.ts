import { describe, expect, it } from 'vitest';
import { monthsInWords, periodInWords, quarterInWords } from '../../src/dynamics/condition-words.js';
import { fiscalQuarter } from '../../src/dynamics/fiscal.js';
import { startMonthOf } from '../../src/dynamics/org-calendar.js';
import {
  addDays,
  type Period,
  periodGroup,
  periodOf,
  periodsBefore,
  periodsBetween,
} from '../../src/tools/support/periods.js';

describe('date periods for aggregate_records', () => {
  it.each([
    ['createdon by month', { column: 'createdon', unit: 'month' }],
    ['createdon per week', { column: 'createdon', unit: 'week' }],
    ['createdon:quarter', { column: 'createdon', unit: 'quarter' }],
    ['month(createdon)', { column: 'createdon', unit: 'month' }],
    ['YEAR( Created On )', { column: 'Created On', unit: 'year' }],
    ['Created On by days', { column: 'Created On', unit: 'day' }],
    ['estimatedclosedate by quarterly', { column: 'estimatedclosedate', unit: 'quarter' }],
  ])('"%s" names a date column and a period', (text, expected) => {
    expect(periodGroup(text)).toEqual(expected);
  });

  // a label with "by" in it is a column; so is anything whose period word is not one
  it.each(['Created By', 'createdby', 'createdon by fortnight', 'sum(revenue)', 'createdon'])(
    '"%s" names no period',
    (text) => {
      expect(periodGroup(text)).toBeUndefined();
    },
  );

  // the weeks of Dataverse's ThisWeek/LastWeek in an organisation's default settings (query-entities.test.ts)
  it('weeks run Sunday to Saturday by default, whatever day they are asked from', () => {
    const week = { from: '2026-11-29', to: '2026-12-05', label: '2026-11-29' };
    for (const day of ['2026-11-29', '2026-12-01', '2026-12-05']) expect(periodOf(day, 'week', 1)).toEqual(week);
    expect(periodOf('2026-11-28', 'week', 1)).toEqual({ from: '2026-11-22', to: '2026-11-28', label: '2026-11-22' });
    // across a year's end
    expect(periodOf('2027-01-01', 'week', 1)).toEqual({ from: '2026-12-27', to: '2027-01-02', label: '2026-12-27' });
  });

  it("weeks run from the organisation's first day of the week", () => {
    const monday = { startMonth: 1, namedByEnd: false, weekStart: 1 };
    const week = { from: '2026-11-30', to: '2026-12-06', label: '2026-11-30' };
    for (const day of ['2026-11-30', '2026-12-01', '2026-12-06']) expect(periodOf(day, 'week', monday)).toEqual(week);
    expect(periodOf('2026-11-29', 'week', monday)).toEqual({
      from: '2026-11-23',
      to: '2026-11-29',
      label: '2026-11-23',
    });
    // Saturday weeks
    expect(periodOf('2026-12-01', 'week', { ...monday, weekStart: 6 }).from).toBe('2026-11-28');
  });

  it('months end on their last day, a leap February included; days are themselves', () => {
    expect(periodOf('2028-02-10', 'month', 1)).toEqual({ from: '2028-02-01', to: '2028-02-29', label: '2028-02' });
    expect(periodOf('2026-02-10', 'month', 1)).toEqual({ from: '2026-02-01', to: '2026-02-28', label: '2026-02' });
    expect(periodOf('2026-12-31T23:59:59Z', 'day', 1)).toEqual({
      from: '2026-12-31',
      to: '2026-12-31',
      label: '2026-12-31',
    });
  });

  it('quarters and years are fiscal: the quarters "this quarter" and pipeline_summary name', () => {
    for (const start of [1, 2, 4, 7, 12])
      for (const day of ['2026-01-15', '2026-03-31', '2026-04-01', '2026-11-30']) {
        expect(periodOf(day, 'quarter', start)).toEqual(fiscalQuarter(new Date(`${day}T00:00:00Z`), start));
      }
    expect(periodOf('2026-11-30', 'year', 1)).toEqual({ from: '2026-01-01', to: '2026-12-31', label: '2026' });
    // a year from April is named by the calendar year it ends in, as fiscalQuarter names its quarters
    expect(periodOf('2026-03-15', 'year', 4)).toEqual({ from: '2025-04-01', to: '2026-03-31', label: 'FY2026' });
    expect(periodOf('2026-04-01', 'year', 4)).toEqual({ from: '2026-04-01', to: '2027-03-31', label: 'FY2027' });
    expect(periodOf('2026-04-01', 'quarter', 4).label).toBe('FY2027 Q1');
  });

  it("a fiscal year is named by the year it starts or ends in, as the organisation's settings say", () => {
    const byStart = { startMonth: 7, namedByEnd: false };
    const byEnd = { startMonth: 7, namedByEnd: true };
    // July 2026 to June 2027: FY2026 by its start, FY2027 by its end
    expect(periodOf('2026-11-30', 'year', byStart)).toEqual({ from: '2026-07-01', to: '2027-06-30', label: 'FY2026' });
    expect(periodOf('2026-11-30', 'year', byEnd)).toEqual({ from: '2026-07-01', to: '2027-06-30', label: 'FY2027' });
    expect(fiscalQuarter(new Date('2026-11-30T00:00:00Z'), byStart)).toEqual({
      from: '2026-10-01',
      to: '2026-12-31',
      label: 'FY2026 Q2',
    });
    expect(fiscalQuarter(new Date('2026-11-30T00:00:00Z'), byEnd).label).toBe('FY2027 Q2');
    // the calendar year is its own name either way
    expect(periodOf('2026-11-30', 'year', { startMonth: 1, namedByEnd: true }).label).toBe('2026');
  });

  it("the organisation's fiscal year starts on the day its administrator entered, in whatever time zone", () => {
    // Dynamics keeps the first day as that midnight where it was entered, in UTC
    expect(startMonthOf('2026-04-01T00:00:00Z')).toBe(4);
    expect(startMonthOf('2026-04-01T07:00:00Z')).toBe(4); // entered in UTC-7
    expect(startMonthOf('2026-03-31T14:00:00Z')).toBe(4); // entered in UTC+10
    expect(startMonthOf('2025-12-31T23:00:00Z')).toBe(1); // entered in UTC+1
    expect(startMonthOf(null)).toBeUndefined();
    expect(startMonthOf('not a date')).toBeUndefined();
  });

  it('a span of periods leaves no day out and counts none twice', () => {
    for (const unit of ['day', 'week', 'month', 'quarter', 'year'] as const) {
      const ps = periodsBetween('2024-02-27', '2026-03-02', unit, 4, 1000) as Period[];
      expect(ps[0]!.from <= '2024-02-27' && ps.at(-1)!.to >= '2026-03-02', unit).toBe(true);
      for (let i = 1; i < ps.length; i++) expect(ps[i]!.from, unit).toBe(addDays(ps[i - 1]!.to, 1));
      expect(new Set(ps.map((p) => p.label)).size, unit).toBe(ps.length);
    }
  });

  it('more periods than allowed is said, not cut short', () => {
    // 1 January to 1 March 2026: 60 days
    expect(periodsBetween('2026-01-01', '2026-03-01', 'day', 1, 60)).toHaveLength(60);
    expect(periodsBetween('2026-01-01', '2026-03-02', 'day', 1, 60)).toBeUndefined();
    expect(periodsBetween('2026-01-01', '2026-01-01', 'month', 1, 1)).toHaveLength(1);
    // where a span of n periods ending with the last record's starts
    expect(periodsBefore('2026-11-18', 'day', 1, 59)).toBe('2026-09-20');
    expect(periodsBetween(periodsBefore('2026-11-18', 'month', 1, 59), '2026-11-18', 'month', 1, 60)).toHaveLength(60);
  });

  it('spans of months and years in words run from the same day back (or ahead) to today', () => {
    const on = (iso: string) => new Date(`${iso}T15:00:00Z`);
    expect(monthsInWords('last 6 months', on('2026-12-01'))).toEqual({ from: '2026-06-01', to: '2026-12-01' });
    expect(monthsInWords('The last 12 months', on('2026-12-01'))).toEqual({ from: '2025-12-01', to: '2026-12-01' });
    expect(monthsInWords('past year', on('2028-02-29'))).toEqual({ from: '2027-02-28', to: '2028-02-29' });
    // a day the other month lacks is its last day
    expect(monthsInWords('last 1 month', on('2026-03-31'))).toEqual({ from: '2026-02-28', to: '2026-03-31' });
    expect(monthsInWords('next 3 months', on('2026-11-30'))).toEqual({ from: '2026-11-30', to: '2027-02-28' });
    expect(monthsInWords('previous 2 years', on('2026-12-01'))).toEqual({ from: '2024-12-01', to: '2026-12-01' });
    // the count in words, as people say it
    expect(monthsInWords('last three months', on('2026-12-01'))).toEqual({ from: '2026-09-01', to: '2026-12-01' });
    expect(monthsInWords('the past two years', on('2026-12-01'))).toEqual({ from: '2024-12-01', to: '2026-12-01' });
    expect(periodInWords('last two weeks')).toEqual({ op: 'lastXDays', value: 14 });
    expect(periodInWords('Next ten days')).toEqual({ op: 'nextXDays', value: 10 });
    expect(periodInWords('last several days')).toBeUndefined();
    for (const no of ['last 0 months', 'last few months', 'this month', 'last 6 weeks', 6, 'next 2000 years'])
      expect(monthsInWords(no, on('2026-12-01')), String(no)).toBeUndefined();
  });

  it('to date (YTD, MTD; QTD and FYTD by the fiscal year) runs from the first day of the period to today', () => {
    const on = (iso: string) => new Date(`${iso}T15:00:00Z`);
    for (const ytd of ['year to date', 'YTD', 'this year to date', 'current year to date'])
      expect(monthsInWords(ytd, on('2026-12-03')), ytd).toEqual({ from: '2026-01-01', to: '2026-12-03' });
    for (const mtd of ['month to date', 'MTD', 'this month to date'])
      expect(monthsInWords(mtd, on('2026-12-03')), mtd).toEqual({ from: '2026-12-01', to: '2026-12-03' });
    // on the first day, the span is that day
    expect(monthsInWords('MTD', on('2026-12-01'))).toEqual({ from: '2026-12-01', to: '2026-12-01' });
    // a fiscal year from July: this quarter began in October, the fiscal year in July (named FY2027 by its end)
    const july = { startMonth: 7, namedByEnd: true };
    for (const qtd of ['quarter to date', 'QTD', 'this fiscal quarter to date'])
      expect(quarterInWords(qtd, july, on('2026-12-03')), qtd).toEqual({
        from: '2026-10-01',
        to: '2026-12-03',
        label: 'FY2027 Q2 to date',
      });
    for (const fytd of ['fiscal year to date', 'FYTD'])
      expect(quarterInWords(fytd, july, on('2026-12-03')), fytd).toEqual({
        from: '2026-07-01',
        to: '2026-12-03',
        label: 'FY2027 to date',
      });
    // a year to date said without "fiscal" is the calendar year's, as "this year" is; a quarter's is fiscal
    expect(monthsInWords('QTD', on('2026-12-03'))).toBeUndefined();
    expect(quarterInWords('YTD', july, on('2026-12-03'))).toBeUndefined();
  });

  it('weeks in words are days seven at a time, as LastXDays and NextXDays count them', () => {
    expect(periodInWords('last 2 weeks')).toEqual({ op: 'lastXDays', value: 14 });
    expect(periodInWords('Next 1 week')).toEqual({ op: 'nextXDays', value: 7 });
  });

  it("an operator's own name as the value (the refusal lists them) is that period", () => {
    expect(periodInWords('thisMonth')).toEqual({ op: 'thisMonth', value: undefined });
    expect(periodInWords('LAST_WEEK')).toEqual({ op: 'lastWeek', value: undefined });
    expect(periodInWords('nextYear')).toEqual({ op: 'nextYear', value: undefined });
    expect(periodInWords('Monthly')).toBeUndefined();
  });
});
