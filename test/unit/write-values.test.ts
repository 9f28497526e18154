import { describe, expect, it } from 'vitest';
import { toWriteValue } from '../../src/dynamics/coerce.js';
import type { MetadataCache } from '../../src/dynamics/metadata.js';
import { writeBody } from '../../src/dynamics/write-body.js';
import type { ColumnModel, EntityModel } from '../../src/policy/model.js';
import { Policy } from '../../src/policy/policy.js';

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

describe('a yes/no column', () => {
  const yesNo = (labels?: [string, string]) =>
    column({
      logicalName: 'donotemail',
      type: 'Boolean',
      label: 'Do not allow Emails',
      ...(labels
        ? {
            options: [
              { value: 0, label: labels[0] },
              { value: 1, label: labels[1] },
            ],
          }
        : {}),
    });
  it('takes true, false and the label of either; other words are refused with each value and its label', () => {
    const email = yesNo(['Allow', 'Do Not Allow']);
    expect(toWriteValue(email, 'Do Not Allow', 'contact')).toBe(true);
    expect(toWriteValue(email, 'false', 'contact')).toBe(false);
    expect(() => toWriteValue(email, 'yes', 'contact')).toThrow(
      expect.objectContaining({
        message: "contact.donotemail is true (Do Not Allow) or false (Allow); 'yes' is neither.",
        hint: 'Pass true or false, or the label of one.',
      }),
    );
    // labelled Yes and No: those are the words
    expect(toWriteValue(yesNo(['No', 'Yes']), 'yes', 'contact')).toBe(true);
    expect(() => toWriteValue(yesNo(['No', 'Yes']), 'maybe', 'contact')).toThrow(
      expect.objectContaining({
        message: "contact.donotemail is true or false; 'maybe' is neither.",
        hint: 'Pass true or false.',
      }),
    );
  });
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

// reference §6.2 (UPDATE): "when you update statecode, always set the desired statuscode as well"
describe('a state written alone', () => {
  const state: ColumnModel = {
    ...column({ logicalName: 'statecode', type: 'State', label: 'Status' }),
    options: [
      { value: 0, label: 'Open', defaultStatus: 2 },
      { value: 1, label: 'Completed', defaultStatus: 5 },
    ],
  };
  const status: ColumnModel = {
    ...column({ logicalName: 'statuscode', type: 'Status', label: 'Status Reason' }),
    options: [
      { value: 2, label: 'Not Started', state: 0 },
      { value: 3, label: 'In Progress', state: 0 },
      { value: 5, label: 'Completed', state: 1 },
    ],
  };
  const task: EntityModel = {
    logicalName: 'task',
    entitySetName: 'tasks',
    primaryIdAttribute: 'activityid',
    primaryNameAttribute: 'subject',
    displayName: 'Task',
    columns: new Map([
      ['statecode', state],
      ['statuscode', status],
    ]),
    singleNavs: new Map(),
    collectionNavs: new Map(),
  };
  const deps = (write: string[]) => ({
    policy: Policy.fromInput({ entities: { task: { read: ['activityid'], write } } }),
    metadata: {} as MetadataCache,
  });
  it("goes with the state's default status reason, where the model may set one", async () => {
    const r = await writeBody(task, { statecode: 'Completed' }, 'update', deps(['statecode', 'statuscode']));
    expect(r.body).toEqual({ statecode: 1, statuscode: 5 });
    expect(r.columns).toEqual(['statecode', 'statuscode']);
  });
  it('keeps the status reason given, and sends the state alone where the status reason is not the model’s to set', async () => {
    const given = await writeBody(
      task,
      { statecode: 0, statuscode: 'In Progress' },
      'update',
      deps(['statecode', 'statuscode']),
    );
    expect(given.body).toEqual({ statecode: 0, statuscode: 3 });
    const alone = await writeBody(task, { statecode: 1 }, 'update', deps(['statecode']));
    expect(alone.body).toEqual({ statecode: 1 });
  });
});
