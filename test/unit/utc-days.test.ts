import { describe, expect, it } from 'vitest';
import { dayInWords, periodsAsDays, spanConditions, todayIs, utcSpan, wholeDays } from '../../src/dynamics/utc-days.js';

// Inside a related list's any() Dataverse's date functions are not documented: a day or a period is sent as
// its UTC span. Tuesday 1 December 2026, 15:30 UTC:
const now = new Date('2026-12-01T15:30:00Z');
const at = (iso: string) => Date.parse(iso);
const span = (op: string, value?: unknown) =>
  utcSpan({ column: 'createdon', op: op as never, value: value as never }, 1, now);

describe('a date condition as its UTC span', () => {
  it.each([
    ['today', undefined, '2026-12-01', '2026-12-02'],
    ['yesterday', undefined, '2026-11-30', '2026-12-01'],
    ['thisWeek', undefined, '2026-11-29', '2026-12-06'],
    ['lastWeek', undefined, '2026-11-22', '2026-11-29'],
    ['lastMonth', undefined, '2026-11-01', '2026-12-01'],
    ['nextYear', undefined, '2027-01-01', '2028-01-01'],
    ['on', '2026-11-20', '2026-11-20', '2026-11-21'],
    ['eq', '2026-11-20', '2026-11-20', '2026-11-21'],
    ['eq', 'this quarter', '2026-10-01', '2027-01-01'],
    ['eq', 'last fiscal year', '2025-01-01', '2026-01-01'],
    ['eq', 'last 6 months', '2026-06-01', '2026-12-02'],
    ['eq', 'last week', '2026-11-22', '2026-11-29'],
    // the calendar month and year, as NextMonth and LastYear count them: not the month or year from today
    ['eq', 'next month', '2027-01-01', '2027-02-01'],
    ['eq', 'Last month', '2026-11-01', '2026-12-01'],
    ['eq', 'last year', '2025-01-01', '2026-01-01'],
    ['eq', 'next 2 months', '2026-12-01', '2027-02-02'],
  ])('%s %s: from %s to %s', (op, value, from, to) => {
    expect(span(op, value)).toEqual({ from: at(`${from}T00:00:00Z`), to: at(`${to}T00:00:00Z`) });
  });

  it("quarters and fiscal years are the organisation's: a year from April, named by its end", () => {
    const april = (value: string) =>
      utcSpan({ column: 'createdon', op: 'eq', value }, { startMonth: 4, namedByEnd: true }, now);
    expect(april('this quarter')).toEqual({ from: at('2026-10-01T00:00:00Z'), to: at('2027-01-01T00:00:00Z') });
    expect(april('this fiscal year')).toEqual({ from: at('2026-04-01T00:00:00Z'), to: at('2027-04-01T00:00:00Z') });
    expect(april('Previous fiscal year')).toEqual({ from: at('2025-04-01T00:00:00Z'), to: at('2026-04-01T00:00:00Z') });
    expect(april('next fiscal  year')).toEqual({ from: at('2027-04-01T00:00:00Z'), to: at('2028-04-01T00:00:00Z') });
    // weeks from the organisation's first day: Monday 30 November 2026 for a Tuesday
    const monday = (op: string) =>
      utcSpan({ column: 'createdon', op: op as never }, { startMonth: 1, namedByEnd: false, weekStart: 1 }, now);
    expect(monday('thisWeek')).toEqual({ from: at('2026-11-30T00:00:00Z'), to: at('2026-12-07T00:00:00Z') });
    expect(monday('lastWeek')).toEqual({ from: at('2026-11-23T00:00:00Z'), to: at('2026-11-30T00:00:00Z') });
    // "fiscal" said: "this year" stays Dataverse's calendar year
    expect(april('this year')).toEqual({ from: at('2026-01-01T00:00:00Z'), to: at('2027-01-01T00:00:00Z') });
  });

  it('relative days run to or from now; one-sided comparisons leave an end open', () => {
    expect(span('lastXDays', 30)).toEqual({ from: at('2026-11-01T00:00:00Z'), to: now.getTime() });
    expect(span('eq', 'next 7 days')).toEqual({ from: now.getTime(), to: at('2026-12-09T00:00:00Z') });
    expect(span('olderThanXDays', 10)).toEqual({ to: at('2026-11-21T00:00:00Z') });
    expect(span('ge', '2026-11-20')).toEqual({ from: at('2026-11-20T00:00:00Z') });
    expect(span('gt', '2026-11-20')).toEqual({ from: at('2026-11-21T00:00:00Z') });
    expect(span('le', '2026-11-20')).toEqual({ to: at('2026-11-21T00:00:00Z') });
    expect(span('lt', '2026-11-20')).toEqual({ to: at('2026-11-20T00:00:00Z') });
    // a day in words, as a value anywhere else takes it
    expect(span('gt', '90 days ago')).toEqual({ from: at('2026-09-03T00:00:00Z') });
    expect(span('eq', '2 weeks ago')).toEqual({ from: at('2026-11-17T00:00:00Z'), to: at('2026-11-18T00:00:00Z') });
  });

  it('a date-time, or anything that is not a day, is left as it is', () => {
    expect(span('ge', '2026-11-20T09:00:00Z')).toBeUndefined();
    expect(span('eq', 'soon')).toBeUndefined();
    expect(span('contains', '2026')).toBeUndefined();
    expect(span('lastXDays', 'a month')).toBeUndefined();
    expect(span('onOrAfter', 'soon')).toBeUndefined();
  });

  it('as comparisons: date-times, or whole days for a date-only column (today included)', () => {
    const s = { from: at('2026-11-01T00:00:00Z'), to: now.getTime() };
    expect(spanConditions('createdon', s, false)).toEqual([
      { column: 'createdon', op: 'ge', value: '2026-11-01T00:00:00Z' },
      { column: 'createdon', op: 'lt', value: '2026-12-01T15:30:00Z' },
    ]);
    expect(spanConditions('estimatedclosedate', s, true)).toEqual([
      { column: 'estimatedclosedate', op: 'ge', value: '2026-11-01' },
      { column: 'estimatedclosedate', op: 'lt', value: '2026-12-02' },
    ]);
  });
});

describe('a period compared: its first or last day (Tuesday 1 December 2026)', () => {
  const as = (op: string, value: unknown) =>
    periodsAsDays({ column: 'estimatedclosedate', op: op as never, value: value as never }, 1, now);
  it.each([
    ['lt', 'this month', { op: 'lt', value: '2026-12-01' }],
    ['ge', 'next month', { op: 'ge', value: '2027-01-01' }],
    ['gt', 'this week', { op: 'gt', value: '2026-12-05' }],
    ['le', 'this quarter', { op: 'le', value: '2026-12-31' }],
    ['le', 'last 30 days', { op: 'le', value: '2026-12-01' }],
    ['ge', 'next 7 days', { op: 'ge', value: '2026-12-01' }],
    ['lt', 'today', { op: 'lt', value: '2026-12-01' }],
    ['between', ['this month', 'next quarter'], { op: 'between', value: ['2026-12-01', '2027-03-31'] }],
    ['between', ['2026-11-15', 'next month'], { op: 'between', value: ['2026-11-15', '2027-01-31'] }],
    ['between', 'this month', { op: 'eq', value: 'this month' }],
    // a list of one period, as between's list is written with the period inside it
    ['between', ['this month'], { op: 'eq', value: 'this month' }],
    // the direction in the value: since/from is ge, after gt, before lt, until/through/by le; from … to between
    ['eq', 'since last month', { op: 'ge', value: '2026-11-01' }],
    ['eq', 'after 2026-11-15', { op: 'gt', value: '2026-11-15' }],
    ['eq', 'before next month', { op: 'lt', value: '2027-01-01' }],
    ['eq', 'by end of next month', { op: 'le', value: '2027-01-31' }],
    ['eq', 'from 2026-11-01 to next month', { op: 'between', value: ['2026-11-01', '2027-01-31'] }],
    // a month without its year after since: the last one; before one, which is not said: left as written
    ['eq', 'since November', { op: 'ge', value: '2026-11-01' }],
    ['eq', 'since Dec', { op: 'ge', value: '2026-12-01' }],
    ['eq', 'after January', { op: 'gt', value: '2026-01-31' }],
    ['eq', 'before November', { op: 'eq', value: 'before November' }],
    ['eq', 'since the merger', { op: 'eq', value: 'since the merger' }],
    ['notBetween', ['this year'], { op: 'notBetween', value: ['2026-01-01', '2026-12-31'] }],
    ['between', ['2026-12-01'], { op: 'between', value: ['2026-12-01'] }],
    // "on" a period, as people say "on" of any time: that period; a day stays a day
    ['on', 'this month', { op: 'eq', value: 'this month' }],
    ['on', 'yesterday', { op: 'eq', value: 'yesterday' }],
    ['on', '2026-11-20', { op: 'on', value: '2026-11-20' }],
    ['in', ['last week'], { op: 'eq', value: 'last week' }],
    ['ne', 'last month', { op: 'notBetween', value: ['2026-11-01', '2026-11-30'] }],
    ['notBetween', 'this year', { op: 'notBetween', value: ['2026-01-01', '2026-12-31'] }],
    // a period's edge is that one day, with any operator ("closing by the end of the quarter")
    ['between', ['today', 'end of next month'], { op: 'between', value: ['2026-12-01', '2027-01-31'] }],
    ['le', 'the end of the quarter', { op: 'le', value: '2026-12-31' }],
    ['eq', 'End of this year', { op: 'eq', value: '2026-12-31' }],
    ['ge', 'start of next quarter', { op: 'ge', value: '2027-01-01' }],
    ['lt', 'the beginning of the month', { op: 'lt', value: '2026-12-01' }],
    ['eq', 'last day of the week', { op: 'eq', value: '2026-12-05' }],
    ['gt', 'end of soon', { op: 'gt', value: 'end of soon' }],
    // business shorthand for this period's end
    ['le', 'EOM', { op: 'le', value: '2026-12-31' }],
    ['le', 'E.O.W.', { op: 'le', value: '2026-12-05' }],
    ['le', 'eoq', { op: 'le', value: '2026-12-31' }],
    ['between', ['today', 'EOY'], { op: 'between', value: ['2026-12-01', '2026-12-31'] }],
    ['le', 'EOMONTH', { op: 'le', value: 'EOMONTH' }],
  ])('%s %j', (op, value, meant) => {
    expect(as(op, value)).toEqual({ column: 'estimatedclosedate', ...meant });
  });

  it('in with several periods is any of them', () => {
    expect(as('in', ['this month', 'next month'])).toEqual({
      or: [
        { column: 'estimatedclosedate', op: 'eq', value: 'this month' },
        { column: 'estimatedclosedate', op: 'eq', value: 'next month' },
      ],
    });
  });

  it('dates, date-times, other words and periods without the end asked for are left as they are', () => {
    for (const [op, value] of [
      ['lt', '2026-12-01'],
      ['ge', '2026-12-01T09:00:00Z'],
      ['gt', 'soon'],
      ['ge', 'older than 30 days'],
      ['between', ['2026-01-01', '2026-02-01']],
      ['in', ['this month', '2026-12-24']],
      ['ne', 'older than 30 days'],
      ['eq', 'this month'],
    ] as const)
      expect(as(op, value)).toEqual({ column: 'estimatedclosedate', op, value });
  });

  it('between two days of a date-and-time column is whole days: on or after the first, on or before the last', () => {
    const between = { column: 'createdon', op: 'between' as const, value: ['2026-11-01', '2026-11-30'] };
    expect(wholeDays(between, false)).toEqual({
      and: [
        { column: 'createdon', op: 'ge', value: '2026-11-01' },
        { column: 'createdon', op: 'le', value: '2026-11-30' },
      ],
    });
    expect(wholeDays({ ...between, op: 'notBetween' }, false)).toEqual({
      or: [
        { column: 'createdon', op: 'lt', value: '2026-11-01' },
        { column: 'createdon', op: 'gt', value: '2026-11-30' },
      ],
    });
    // a date-only column compares days already; date-times are compared as given
    expect(wholeDays(between, true)).toBe(between);
    const times = { ...between, value: ['2026-11-01T08:00:00Z', '2026-11-30T17:00:00Z'] };
    expect(wholeDays(times, false)).toBe(times);
  });
});

describe('today, as said to a model that must work a date out (Tuesday 1 December 2026)', () => {
  it('names the day of the week, which models miscount from the date alone', () => {
    expect(todayIs('', now)).toBe('today is Tuesday 2026-12-01 (UTC)');
    expect(todayIs('soon', now)).toBe('today is Tuesday 2026-12-01 (UTC)');
  });

  it('gives a weekday named in the words its dates around today: "next Friday" means either', () => {
    expect(todayIs('next Friday', now)).toBe(
      'today is Tuesday 2026-12-01 (UTC); Friday: the last was 2026-11-27, the coming one is 2026-12-04, the one after 2026-12-11',
    );
    expect(todayIs('by thurs', now)).toMatch(/; Thursday: the last was 2026-11-26, the coming one is 2026-12-03,/);
    expect(todayIs('last Mon', now)).toMatch(/; Monday: the last was 2026-11-30, the coming one is 2026-12-07,/);
  });

  it('gives a day and month without the year ("Dec 15") its dates on each side of today, never one guessed', () => {
    expect(todayIs('Dec 15', now)).toBe(
      'today is Tuesday 2026-12-01 (UTC); 15 December: the last was 2025-12-15, the coming one is 2026-12-15',
    );
    expect(todayIs('10th of January', now)).toMatch(
      /; 10 January: the last was 2026-01-10, the coming one is 2027-01-10$/,
    );
    expect(todayIs('December 1st', now)).toMatch(
      /; 1 December: the last was 2025-12-01, today is one, the coming one is 2027-12-01$/,
    );
    // a day only some years have, and a day no month has
    expect(todayIs('29 Feb', now)).toMatch(/; 29 February: the last was 2024-02-29, the coming one is 2028-02-29$/);
    expect(todayIs('31 November', now)).toBe('today is Tuesday 2026-12-01 (UTC)');
    expect(todayIs('the 15th', now)).toBe('today is Tuesday 2026-12-01 (UTC)');
  });

  it('gives a month without the year ("since January") the first days of the last and the coming one, never one guessed', () => {
    expect(todayIs('since January', now)).toBe(
      'today is Tuesday 2026-12-01 (UTC); January: the last began 2026-01-01 (to 2026-01-31), the coming one begins 2027-01-01',
    );
    expect(todayIs('in Feb', now)).toMatch(
      /; February: the last began 2026-02-01 \(to 2026-02-28\), the coming one begins 2027-02-01$/,
    );
    // this month is this one
    expect(todayIs('December', now)).toMatch(
      /; December: this one began 2026-12-01 \(to 2026-12-31\), the coming one begins 2027-12-01$/,
    );
    // words that are no month alone say nothing more
    for (const no of ['soon', 'Mon', 'ma', 'since the summer', 'January 2026 onwards'])
      expect(todayIs(no, now), no).not.toMatch(/began/);
  });

  it('a day in words with a time ("tomorrow 10am") is that day, the time written out and asked for its zone', () => {
    expect(todayIs('tomorrow 10am', now)).toBe(
      "today is Tuesday 2026-12-01 (UTC); tomorrow is 2026-12-02, and 10:00 is a different moment in each time zone: 2026-12-02T10:00:00Z is 10:00 UTC, or give the user's offset (2026-12-02T10:00:00+01:00 for UTC+1)",
    );
    expect(todayIs('in 2 days at 3:30 pm', now)).toContain('in 2 days is 2026-12-03, and 15:30 is');
    expect(todayIs('tomorrow 12am', now)).toContain('2026-12-02T00:00:00Z');
    // a date already written as one, with a 12-hour time (was: "not an ISO date", the time's zone unsaid)
    expect(todayIs('2026-12-10 3pm', now)).toBe(
      "today is Tuesday 2026-12-01 (UTC); 15:00 on 2026-12-10 is a different moment in each time zone: 2026-12-10T15:00:00Z is 15:00 UTC, or give the user's offset (2026-12-10T15:00:00+01:00 for UTC+1)",
    );
    // and not a day that does not exist
    for (const no of ['2026-02-30 3pm', '2026-13-10 3pm'])
      expect(todayIs(no, now), no).toBe('today is Tuesday 2026-12-01 (UTC)');
    // not a time, or not a day in words: today alone
    expect(todayIs('tomorrow 25:00', now)).toBe('today is Tuesday 2026-12-01 (UTC)');
    expect(todayIs('soon 10am', now)).toBe('today is Tuesday 2026-12-01 (UTC)');
  });

  it('says so when today is the weekday named', () => {
    expect(todayIs('Tuesday', now)).toBe(
      'today is Tuesday 2026-12-01 (UTC); Tuesday: the last was 2026-11-24, today is one, the coming one is 2026-12-08, the one after 2026-12-15',
    );
  });

  it('words that merely begin like a weekday name none', () => {
    for (const words of ['monthly', 'satisfied', 'wedding day', 'sunset', 'frigid'])
      expect(todayIs(words, now)).toBe('today is Tuesday 2026-12-01 (UTC)');
  });
});

describe('a day said relative to today', () => {
  it.each([
    ['today', '2026-12-01T15:30:00Z', '2026-12-01'],
    ['Yesterday', '2026-12-01T15:30:00Z', '2026-11-30'],
    ['30 days ago', '2026-12-01T15:30:00Z', '2026-11-01'],
    ['1 day ago', '2026-12-01T15:30:00Z', '2026-11-30'],
    ['2 weeks ago', '2026-12-01T15:30:00Z', '2026-11-17'],
    ['in 2 weeks', '2026-12-01T15:30:00Z', '2026-12-15'],
    ['10 days from now', '2026-12-01T15:30:00Z', '2026-12-11'],
    ['in  1  year', '2026-12-01T15:30:00Z', '2027-12-01'],
    ['6 months ago', '2026-12-01T15:30:00Z', '2026-06-01'],
    // a month back from the 31st is the last day of the shorter month, not a day of the one after
    ['1 month ago', '2026-03-31T08:00:00Z', '2026-02-28'],
    ['1 month ago', '2024-03-31T08:00:00Z', '2024-02-29'],
    ['in 1 year', '2024-02-29T08:00:00Z', '2025-02-28'],
    ['in 3 months', '2026-11-30T08:00:00Z', '2027-02-28'],
    // the count in words, as people say it
    ['in two weeks', '2026-12-01T15:30:00Z', '2026-12-15'],
    ['a month ago', '2026-12-01T15:30:00Z', '2026-11-01'],
    ['Three days ago', '2026-12-01T15:30:00Z', '2026-11-28'],
    ['in a week', '2026-12-01T15:30:00Z', '2026-12-08'],
    ['twelve months from now', '2026-12-01T15:30:00Z', '2027-12-01'],
    // a day written with its month's name reads one way in every locale
    ['20 Nov 2026', '2026-12-01T15:30:00Z', '2026-11-20'],
    ['November 20, 2026', '2026-12-01T15:30:00Z', '2026-11-20'],
    ['20th of November 2026', '2026-12-01T15:30:00Z', '2026-11-20'],
    ['Sept. 3 2027', '2026-12-01T15:30:00Z', '2027-09-03'],
    ['Friday, 20 November 2026', '2026-12-01T15:30:00Z', '2026-11-20'],
  ])('%s, on %s: %s', (words, on, day) => {
    expect(dayInWords(words, new Date(on))).toBe(day);
  });

  it.each([
    '30 days',
    'last 30 days',
    'ago',
    'in weeks',
    // no count that is not a number's
    'a few days ago',
    'in several weeks',
    'in thirteen weeks',
    '2026-11-01',
    'next friday',
    '9999 years ago',
    'in 9999 years',
    // numbers alone are day-month or month-day by locale; a day the month lacks; a weekday that is not its own
    '11/20/2026',
    '31 November 2026',
    'Tuesday, 20 November 2026',
    '20 Novel 2026',
  ])('%s is not a day', (words) => {
    expect(dayInWords(words, now)).toBeUndefined();
  });
});
