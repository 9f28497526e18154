import { describe, expect, it } from 'vitest';
import { RememberedQueries } from '../../src/dynamics/remembered-queries.js';

// A cursor passed alone continues the query it came from while the server remembers it; hosted, many callers
// share one server, so the memory is bounded in queries and in characters, and forgets the oldest first.
describe('RememberedQueries', () => {
  it('keeps the latest queries, forgetting the least recently handed out first', () => {
    const m = new RememberedQueries<string>(3, 1_000_000);
    for (const k of ['a', 'b', 'c']) m.remember(k, `query ${k}`);
    m.remember('a', 'query a'); // handed out again: now the newest
    m.remember('d', 'query d');
    expect(['a', 'b', 'c', 'd'].map((k) => m.get(k))).toEqual(['query a', undefined, 'query c', 'query d']);
  });

  it('is bounded in characters too, and does not keep one query over a hundredth of them', () => {
    const m = new RememberedQueries<string>(1_000, 10_000);
    m.remember('big', 'x'.repeat(200)); // 202 characters of JSON: over a hundredth of 10,000
    expect(m.get('big')).toBeUndefined();
    for (let i = 0; i < 120; i++) m.remember(`q${i}`, 'y'.repeat(98)); // 100 characters each
    expect(m.get('q19')).toBeUndefined();
    expect(m.get('q20')).toBe('y'.repeat(98));
    expect(m.get('q119')).toBe('y'.repeat(98));
  });
});
