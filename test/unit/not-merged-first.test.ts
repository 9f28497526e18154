import { describe, expect, it } from 'vitest';
import { notMergedFirst } from '../../src/tools/support/lookup-names.js';

// A duplicate merged into another keeps its name, email and phone: of the records one of those finds, the one in
// use is meant, and duplicates merged into one record are that one record, not "2 records have that name".
describe('notMergedFirst: the records a name, email or phone means after a merge', () => {
  const kept = { id: 'k', name: 'Contoso Ltd' };
  const other = { id: 'o', name: 'Contoso Ltd (EU)' };
  it('the records not merged, where any is', () => {
    const found = [{ id: 'd', mergedInto: kept }, { id: 'k' }, { id: 'x' }];
    expect(notMergedFirst(found).map((r) => r.id)).toEqual(['k', 'x']);
  });
  it('else one merged record for each record they were merged into', () => {
    const twice = [
      { id: 'd1', mergedInto: kept },
      { id: 'd2', mergedInto: kept },
    ];
    expect(notMergedFirst(twice).map((r) => r.id)).toEqual(['d1']);
    const apart = [...twice, { id: 'd3', mergedInto: other }];
    expect(notMergedFirst(apart).map((r) => r.id)).toEqual(['d1', 'd3']);
  });
  it('nothing found is nothing', () => {
    expect(notMergedFirst([])).toEqual([]);
  });
});
