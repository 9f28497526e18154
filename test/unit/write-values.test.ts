import { describe, expect, it } from 'vitest';
import { toWriteValue } from '../../src/dynamics/coerce.js';
import type { ColumnModel } from '../../src/policy/model.js';

const column = (o: Partial<ColumnModel>): ColumnModel => ({
  logicalName: 'scheduledend',
  type: 'DateTime',
  label: 'Due Date',
  requiredLevel: 'None',
  validForCreate: true,
  validForUpdate: true,
  validForRead: true,
  ...o,
});

// "Behavior and format of the date and time column": UserLocal values are shown in each user's time zone,
// DateOnly ones as a day, TimeZoneIndependent ones as stored
describe('a day written without a time', () => {
  it('is noon UTC for a user-local column: the same day from UTC-11 to UTC+11, not the evening before in the Americas', () => {
    expect(toWriteValue(column({}), '2027-01-15', 'task')).toBe('2027-01-15T12:00:00Z');
  });
  it('is midnight for a time-zone-independent column, the day as stored; a day for a date-only column', () => {
    expect(toWriteValue(column({ timeZoneIndependent: true }), '2027-01-15', 'task')).toBe('2027-01-15T00:00:00Z');
    expect(toWriteValue(column({ dateOnly: true }), '2027-01-15', 'opportunity')).toBe('2027-01-15');
  });
  it('keeps a time that is given', () => {
    expect(toWriteValue(column({}), '2027-01-15T09:30:00Z', 'task')).toBe('2027-01-15T09:30:00Z');
  });
});
