import { describe, expect, it } from 'vitest';
import { minutesAsMeant, minutesIn } from '../../src/dynamics/durations.js';

// A duration column holds minutes (IntegerFormat Duration); Dynamics' duration fields take "1.5 hours" too
describe('minutes in a duration as written', () => {
  it.each([
    ['90 minutes', 90],
    ['45 min', 45],
    ['1.5 hours', 90],
    ['1h30m', 90],
    ['1 hr, 30 mins', 90],
    ['1 hour and 30 minutes', 90],
    ['2 days', 2880],
    ['half an hour', 30],
    ['an hour', 60],
    ['a day and 2 hours', 1560],
    ['PT1H30M', 90],
    ['pt45m', 45],
    ['P1DT2H', 1560],
    ['2.5 minutes', 2.5],
  ])('%s is %d minutes', (text, minutes) => {
    expect(minutesIn(text)).toBe(minutes);
  });

  it.each([
    ['a bare number, left to the number check', '90'],
    ['a unit that is not minutes, hours or days', '3 weeks'],
    ['words around a duration', '1 hour later'],
    ['no duration at all', 'a while'],
    ['an empty ISO duration', 'PT'],
    ['nothing', ''],
  ])('%s is none: %j', (_why, text) => {
    expect(minutesIn(text)).toBeUndefined();
  });

  it('a value is minutes where it is text that says them; a number in text is that number; else as given', () => {
    expect(minutesAsMeant('1.5 hours')).toBe(90);
    expect(minutesAsMeant(' 30 ')).toBe(30);
    expect(minutesAsMeant(30)).toBe(30);
    expect(minutesAsMeant('soon')).toBe('soon');
    expect(minutesAsMeant(null)).toBeNull();
  });
});
