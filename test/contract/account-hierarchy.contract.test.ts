import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractTarget, createdId, targets } from './target.js';

// An account's Parent Account may not be one below it in its hierarchy: ERRCODES AccountLoopBeingCreated,
// 0x80040507, "Creating this parental association would create a loop in Accounts hierarchy." Run against a real
// organisation, this says the emulator refuses such a write as Dataverse does, at any depth, and leaves the
// account as it was.
describe.each(targets)('account hierarchy contract: $name', ({ open, skip }) => {
  let t: ContractTarget;
  const made: string[] = [];
  beforeAll(async () => {
    if (!skip) t = await open();
  });
  afterAll(async () => {
    if (skip) return;
    for (const id of made.reverse()) await t.api('DELETE', `accounts(${id})`);
    await t.close();
  });
  const account = async (name: string, parent?: string) => {
    const id = createdId(
      await t.api('POST', 'accounts', {
        body: { name, ...(parent ? { 'parentaccountid@odata.bind': `/accounts(${parent})` } : {}) },
      }),
    );
    made.push(id);
    return id;
  };

  it.skipIf(skip)(
    'HIERARCHY: an account given its own grandchild as parent is refused (0x80040507) and keeps its parent',
    async () => {
      const top = await account('Loop contract holding');
      const middle = await account('Loop contract subsidiary', top);
      const bottom = await account('Loop contract branch', middle);
      for (const below of [middle, bottom]) {
        const r = await t.api('PATCH', `accounts(${top})`, {
          body: { 'parentaccountid@odata.bind': `/accounts(${below})` },
        });
        expect(r.status, r.text).toBe(400);
        expect(r.json().error.code.toLowerCase()).toBe('0x80040507');
      }
      expect(
        (await t.api('GET', `accounts(${top})?$select=_parentaccountid_value`)).json()._parentaccountid_value,
      ).toBe(null);
      // a parent elsewhere in the tree is no loop
      const other = await account('Loop contract other');
      const moved = await t.api('PATCH', `accounts(${bottom})`, {
        body: { 'parentaccountid@odata.bind': `/accounts(${other})` },
      });
      expect(moved.status, moved.text).toBe(204);
    },
  );
});
