import { describe, expect, it } from 'vitest';
import { columnReader } from '../../src/emulator/store/column-reader.js';
import type { Row } from '../../src/emulator/store/store.js';

describe('emulator column readers', () => {
  const row: Row = {
    accountid: '16e21ba8-92f6-ee11-8f6e-000d3a5b1c2d',
    revenue: 48_360_000,
    _parentaccountid_value: null,
    'not an identifier': 'kept',
  };

  it('read the named column, null and absent columns as they are', () => {
    expect(columnReader('revenue')(row)).toBe(48_360_000);
    expect(columnReader('accountid')(row)).toBe('16e21ba8-92f6-ee11-8f6e-000d3a5b1c2d');
    expect(columnReader('_parentaccountid_value')(row)).toBeNull();
    expect(columnReader('telephone1')(row)).toBeUndefined();
  });

  it('are made once per name, so every query on a column shares its inline cache', () => {
    expect(columnReader('revenue')).toBe(columnReader('revenue'));
  });

  it('never turn a name that is not a plain identifier into code', () => {
    // a name reaches the reader only after the schema has matched it, but the reader does not rely on that
    expect(columnReader('not an identifier')(row)).toBe('kept');
    const hostile = 'revenue; globalThis.__columnReaderRan = true; return 1';
    expect(columnReader(hostile)(row)).toBeUndefined();
    expect((globalThis as Record<string, unknown>).__columnReaderRan).toBeUndefined();
    expect(columnReader('constructor.constructor')(row)).toBeUndefined();
  });
});
