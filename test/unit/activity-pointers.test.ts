import { describe, expect, it } from 'vitest';
import { Schema } from '../../src/emulator/schema/index.js';
import { ACTIVITY_POINTERS } from '../../src/emulator/store/activity-pointers.js';
import { Store } from '../../src/emulator/store/store.js';

// The emulator keeps ActivityPointer as Dataverse does: a row for each activity, written in the same step as
// the activity, so a $batch change set that fails ("any failure rolls back the whole set") leaves neither
describe('emulator: activity pointers follow their activities', () => {
  const store = new Store(new Schema().entities, [ACTIVITY_POINTERS]);
  const tasks = store.table('task');
  const pointers = store.table('activitypointer');
  const task = (id: string, subject: string) => ({ activityid: id, subject, statecode: 0, description: 'Notes' });

  it('made, changed and deleted with the task; a failed change set undoes both', () => {
    store.insert(tasks, 'a', task('a', 'Call back'));
    expect(pointers.get('a')).toMatchObject({ activityid: 'a', activitytypecode: 'task', subject: 'Call back' });
    store.replace(tasks, 'a', task('a', 'Call back today'));
    expect(pointers.get('a')!.subject).toBe('Call back today');
    expect(() =>
      store.atomically(() => {
        store.insert(tasks, 'b', task('b', 'Half made'));
        store.replace(tasks, 'a', task('a', 'Overwritten'));
        throw new Error('the change set failed');
      }),
    ).toThrow('the change set failed');
    expect(pointers.get('b')).toBeUndefined();
    expect(pointers.get('a')!.subject).toBe('Call back today');
    store.delete(tasks, 'a');
    expect(pointers.get('a')).toBeUndefined();
    expect(pointers.rows.size).toBe(0);
  });

  it('made again from the activity tables after seeding, which writes them directly', () => {
    tasks.put('c', task('c', 'Seeded'));
    store.table('email').put('d', { activityid: 'd', subject: 'Seeded mail' });
    store.rebuildDerived();
    expect([...pointers.rows.values()].map((p) => [p.activityid, p.activitytypecode])).toEqual([
      ['c', 'task'],
      ['d', 'email'],
    ]);
  });
});
