import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import {
  auditLog,
  builtInPolicyWith,
  connectAsking,
  connectInMemory,
  type McpHarness,
  serveWithAuditLog,
  textOf,
} from '../helpers/mcp.js';

// delete_record: a product taken off a deal, as a seller does ("remove the travel line from the Zava deal"), and
// nothing else under the built-in policy. Microsoft's own Sales tools offer the same (delete_opportunity_product:
// "removes a product line ... and refreshes the opportunity totals"; "confirm with the seller ... cannot be undone").
describe('delete_record: a product removed from a deal, and only where the policy allows deleting', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const audit = auditLog('delete-record');
  type Row = Record<string, any>;
  const idOf = (v: unknown) => (v as { id: string } | null)?.id;
  const lines = () => emu.rows('opportunityproduct') as Row[];
  const deal = (id: string | undefined) => emu.rows('opportunity').find((o) => o.opportunityid === id) as Row;
  /** a line on an open deal with other lines besides it, not yet used by a test */
  const used = new Set<string>();
  const openLine = (typedIn = false) => {
    const l = lines().find(
      (x) =>
        !used.has(x.opportunityproductid) &&
        deal(idOf(x.opportunityid))?.statecode === 0 &&
        (!typedIn || deal(idOf(x.opportunityid))?.isrevenuesystemcalculated === false) &&
        lines().filter((y) => idOf(y.opportunityid) === idOf(x.opportunityid)).length > 1,
    )!;
    used.add(l.opportunityproductid);
    return l;
  };
  const deletes = (since: number) =>
    emu
      .requests()
      .slice(since)
      .filter((q) => q.method === 'DELETE');
  serveWithAuditLog(audit, (e, harness) => {
    emu = e;
    h = harness;
  });

  it("removes a line from an open deal: gone from Dynamics, the answer says what it held and the deal's value now", async () => {
    const line = openLine();
    const dealId = idOf(line.opportunityid)!;
    // the deal's revenue is its products' total (System Calculated), so removing one lowers it
    const sc = await h.call('update_record', {
      entity: 'opportunity',
      id: dealId,
      values: { isrevenuesystemcalculated: 'System Calculated' },
    });
    expect(sc.isError, textOf(sc)).toBeFalsy();
    const before = deal(dealId).estimatedvalue as number;
    const since = emu.requests().length;
    const r = await h.call('delete_record', { entity: 'opportunityproduct', id: line.opportunityproductid });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(lines().some((l) => l.opportunityproductid === line.opportunityproductid)).toBe(false);
    expect(deletes(since).map((q) => q.url)).toEqual([
      `/api/data/v9.2/opportunityproducts(${line.opportunityproductid})`,
    ]);
    const after = deal(dealId).estimatedvalue as number;
    expect(after).toBeCloseTo(before - line.extendedamount, 2);
    const money = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    // named as update_record names what it changed, so the user sees which line went
    expect(textOf(r)).toContain(
      `Deleted opportunityproduct "${line.opportunityproductname}" (${line.opportunityproductid}).`,
    );
    expect(textOf(r)).toContain(`its products' total (System Calculated): now ${money(after)}.`);
    expect(r.structuredContent).toMatchObject({
      entity: 'opportunityproduct',
      id: line.opportunityproductid,
      deleted: true,
      previous: { quantity: line.quantity, extendedamount: line.extendedamount, opportunityid: { id: dealId } },
    });
    // what it held is record text, fenced as a read is
    expect(textOf(r)).toMatch(/<untrusted-dynamics-data-[0-9a-f]+>/);
    // the audit log keeps what it held, for an administrator to put it back
    expect(await audit.last()).toMatchObject({
      tool: 'delete_record',
      entity: 'opportunityproduct',
      id: line.opportunityproductid,
      action: 'delete',
      previous: { quantity: line.quantity, extendedamount: line.extendedamount },
      caller: 'test',
    });
  });

  it('a typed-in deal value is said to stay as it was', async () => {
    const line = openLine(true);
    const dealId = idOf(line.opportunityid)!;
    const value = deal(dealId).estimatedvalue as number;
    const r = await h.call('delete_record', { entity: 'opportunityproduct', id: line.opportunityproductid });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(deal(dealId).estimatedvalue).toBe(value);
    expect(textOf(r)).toContain("The deal's Est. Revenue is typed in (User Provided) and stays");
  });

  it('deleting it again (a retry, a second ask) deletes nothing and says there was nothing to delete', async () => {
    const line = openLine();
    const first = await h.call('delete_record', { entity: 'opportunityproduct', id: line.opportunityproductid });
    expect(first.structuredContent.deleted).toBe(true);
    const since = emu.requests().length;
    const again = await h.call('delete_record', { entity: 'opportunityproduct', id: line.opportunityproductid });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(again.structuredContent).toEqual({
      entity: 'opportunityproduct',
      id: line.opportunityproductid,
      deleted: false,
    });
    expect(textOf(again)).toContain('There is no opportunityproduct');
    expect(textOf(again)).toContain('Nothing was changed.');
    expect(deletes(since)).toEqual([]);
  });

  it('a lost answer to the DELETE (connection reset after it was done) is retried, found done, and said once', async () => {
    const line = openLine();
    const count = lines().length;
    emu.addFault({ match: { method: 'DELETE', path: '/api/data/' }, action: 'reset-after' });
    const since = emu.requests().length;
    const r = await h.call('delete_record', { entity: 'opportunityproduct', id: line.opportunityproductid });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.deleted).toBe(true);
    expect(lines()).toHaveLength(count - 1);
    // the first DELETE was done and its answer lost; the second met the record gone (404)
    expect(deletes(since)).toHaveLength(2);
  });

  it("a won or lost deal's product is not removed: nothing is sent, and the answer says to reopen the deal first", async () => {
    const line = lines().find((l) => deal(idOf(l.opportunityid))?.statecode !== 0)!;
    const since = emu.requests().length;
    const r = await h.call('delete_record', { entity: 'opportunityproduct', id: line.opportunityproductid });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      /is (Won|Lost): its products are the record of what was won or lost, and are not removed\./,
    );
    expect(textOf(r)).toContain('{"statecode": "Open"} first, then remove the product');
    expect(deletes(since)).toEqual([]);
    expect(lines().some((l) => l.opportunityproductid === line.opportunityproductid)).toBe(true);
  });

  it("several lines in one call: each deleted as one alone is, a won deal's kept, one gone already said so, and the call again deletes nothing", async () => {
    const [a, b] = [openLine(), openLine()];
    const closed = lines().find((l) => deal(idOf(l.opportunityid))?.statecode !== 0)!;
    const since = emu.requests().length;
    const r = await h.call('delete_record', {
      entity: 'opportunityproduct',
      id: [a.opportunityproductid, closed.opportunityproductid, b.opportunityproductid],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const left = new Set(lines().map((l) => l.opportunityproductid));
    expect([a, closed, b].map((l) => left.has(l.opportunityproductid))).toEqual([false, true, false]);
    expect(
      deletes(since)
        .map((q) => q.url)
        .sort(),
    ).toEqual([a, b].map((l) => `/api/data/v9.2/opportunityproducts(${l.opportunityproductid})`).sort());
    expect(r.structuredContent.records).toEqual([
      { id: a.opportunityproductid, deleted: true },
      {
        id: closed.opportunityproductid,
        error: expect.stringMatching(/its products are the record of what was won or lost/),
      },
      { id: b.opportunityproductid, deleted: true },
    ]);
    const text = textOf(r);
    expect(text.split('\n')[0]).toBe('Deleted 2 of 3 records; 1 refused (numbered in the order given).');
    expect(text).toContain(`Deleted opportunityproduct "${a.opportunityproductname}" (${a.opportunityproductid}).`);
    // what each held is in the audit log, under one call
    const entries = (await audit.all()).filter(
      (e) => e.action === 'delete' && [a, b].some((l) => l.opportunityproductid === e.id),
    );
    expect(entries.map((e) => e.previous?.quantity).sort()).toEqual([a.quantity, b.quantity].sort());
    expect(new Set(entries.map((e) => e.call)).size).toBe(1);
    // again (a retry, a second ask): both gone, said so, nothing sent
    const again = await h.call('delete_record', {
      entity: 'opportunityproduct',
      id: [a.opportunityproductid, b.opportunityproductid],
    });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(textOf(again).split('\n')[0]).toBe('Deleted 0 of 2 records; 2 not there (numbered in the order given).');
    // an etag is one record's: refused beside a list
    const versioned = await h.call('delete_record', {
      entity: 'opportunityproduct',
      id: [openLine().opportunityproductid, openLine().opportunityproductid],
      etag: 'W/"1"',
    });
    expect(textOf(versioned)).toContain("etag is one record's version: with a list of ids, leave it out");
  });

  it('a table the policy does not let be deleted from is refused before anything is looked up or sent', async () => {
    const account = emu.rows('account')[0]!;
    const since = emu.requests().length;
    const r = await h.call('delete_record', { entity: 'account', id: String(account.name) });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe(
      "Error (policy): Deleting account records is not allowed under this server's policy.\nHow to fix: Records can be deleted only from: queueitem, opportunityproduct. To change this record instead, use update_record.",
    );
    expect(
      emu
        .requests()
        .slice(since)
        .filter((q) => q.service === 'webapi'),
    ).toEqual([]);
    expect(emu.rows('account').some((a) => a.accountid === account.accountid)).toBe(true);
  });

  it('an etag from before someone else changed the line refuses the delete, and the line stays', async () => {
    const line = openLine();
    const read = await h.call('get_record', { entity: 'opportunityproduct', id: line.opportunityproductid });
    const etag = read.structuredContent.etag;
    const changed = await h.call('update_record', {
      entity: 'opportunityproduct',
      id: line.opportunityproductid,
      values: { quantity: line.quantity + 1 },
    });
    expect(changed.isError, textOf(changed)).toBeFalsy();
    const since = emu.requests().length;
    const r = await h.call('delete_record', { entity: 'opportunityproduct', id: line.opportunityproductid, etag });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('was changed by someone else since you read it');
    expect(deletes(since)).toEqual([]);
    expect(lines().some((l) => l.opportunityproductid === line.opportunityproductid)).toBe(true);
    // the etag read now deletes it
    const now = await h.call('get_record', { entity: 'opportunityproduct', id: line.opportunityproductid });
    const ok = await h.call('delete_record', {
      entity: 'opportunityproduct',
      id: line.opportunityproductid,
      etag: now.structuredContent.etag,
    });
    expect(ok.structuredContent.deleted, textOf(ok)).toBe(true);
  });

  it("a product named as every deal names it is refused with each line's deal beside it, and nothing is deleted", async () => {
    const travel = lines().filter((l) => l.productdescription === 'Travel and expenses');
    expect(travel.length).toBeGreaterThan(1);
    const since = emu.requests().length;
    const r = await h.call('delete_record', { entity: 'opportunityproduct', id: 'Travel and expenses' });
    expect(r.isError).toBe(true);
    for (const l of travel.slice(0, 3))
      expect(textOf(r)).toContain(
        `Travel and expenses (opportunityproduct, on ${deal(idOf(l.opportunityid)).name}) — ${l.opportunityproductid}`,
      );
    expect(deletes(since)).toEqual([]);
  });

  it('describe_entity says which tables delete_record deletes from', async () => {
    const r = await h.call('describe_entity', {});
    const tables = r.structuredContent.entities as Row[];
    expect(tables.filter((t) => t.delete).map((t) => t.name)).toEqual(['opportunityproduct', 'queueitem']);
    expect(textOf(r)).toContain('delete_record deletes opportunityproduct, queueitem records.');
    // and so does the table's own description, which a model reads before it writes to it
    const lines = await h.call('describe_entity', { entity: 'opportunityproduct' });
    expect(textOf(lines)).toMatch(
      /relationships\.( [^\n]*)? create_record makes its records; delete_record deletes them\.\n/,
    );
    const accounts = await h.call('describe_entity', { entity: 'account' });
    expect(textOf(accounts)).toContain('create_record makes its records.\n');
    expect(textOf(accounts)).not.toContain('delete_record');
  });

  it('where the policy asks writes to be confirmed, a user who declines keeps the line, and the audit says so', async () => {
    const policy = builtInPolicyWith('delete-confirm', (e) => ({
      ...e,
      opportunityproduct: { ...e.opportunityproduct!, confirmWrites: true },
    }));
    const asking = await connectAsking(emu, { DYNAMICS_MCP_POLICY: policy, DYNAMICS_MCP_AUDIT_LOG: audit.path });
    try {
      const line = openLine();
      const since = emu.requests().length;
      const r = await asking.h.call('delete_record', { entity: 'opportunityproduct', id: line.opportunityproductid });
      expect(asking.asked).toEqual([
        `Delete opportunityproduct "${line.opportunityproductname}" (${line.opportunityproductid})? This cannot be undone.`,
      ]);
      expect(r.structuredContent).toMatchObject({ deleted: false });
      expect(textOf(r)).toBe('Not deleted: the user chose "decline".');
      expect(deletes(since)).toEqual([]);
      expect(await audit.last()).toMatchObject({ action: 'delete', outcome: 'not deleted: the user chose decline' });
      asking.user.choice = 'accept';
      const yes = await asking.h.call('delete_record', { entity: 'opportunityproduct', id: line.opportunityproductid });
      expect(yes.structuredContent.deleted, textOf(yes)).toBe(true);
    } finally {
      await asking.h.close();
    }
  });
});

describe('delete_record is offered only where the policy lets some table be deleted from', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 5 });
  });
  afterAll(async () => {
    await emu.close();
  });

  it('a policy that deletes nothing neither lists it nor names it in the instructions', async () => {
    const policy = builtInPolicyWith('no-delete', (e) => ({
      ...e,
      opportunityproduct: { ...e.opportunityproduct!, delete: false },
      queueitem: { ...e.queueitem!, delete: false },
    }));
    const h = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    try {
      const { tools } = await h.client.listTools();
      expect(tools.map((t) => t.name)).not.toContain('delete_record');
      expect(tools.map((t) => t.name)).toContain('update_record');
      expect(h.client.getInstructions()).not.toContain('delete_record');
      const r = await h.call('delete_record', { entity: 'opportunityproduct', id: 'x' });
      expect(r.isError).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('the built-in policy lists it, annotated as destructive and idempotent, and names it in the instructions', async () => {
    const h = await connectInMemory(emu);
    try {
      const { tools } = await h.client.listTools();
      expect(tools.find((t) => t.name === 'delete_record')?.annotations).toEqual({
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: true,
      });
      expect(h.client.getInstructions()).toContain('delete_record removes one');
    } finally {
      await h.close();
    }
  });

  it('a read-only server lists it not, and its client refuses the DELETE', async () => {
    const h = await connectInMemory(emu, { env: { DYNAMICS_MCP_READ_ONLY: 'true' } });
    try {
      const { tools } = await h.client.listTools();
      expect(tools.map((t) => t.name)).not.toContain('delete_record');
      const since = emu.requests().length;
      const r = await h.call('delete_record', {
        entity: 'opportunityproduct',
        id: String(emu.rows('opportunityproduct')[0]!.opportunityproductid),
      });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('read-only');
      expect(
        emu
          .requests()
          .slice(since)
          .filter((q) => q.method === 'DELETE'),
      ).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('a policy file that says "delete" for a table is read; a misspelt switch is refused naming it', async () => {
    const { Policy } = await import('../../src/policy/policy.js');
    const p = Policy.fromInput({ entities: { task: { read: ['subject'], delete: true } } });
    expect(p.deletable()).toEqual(['task']);
    const bad = builtInPolicyWith('delete-misspelt', (e) => ({
      ...e,
      task: { ...e.task!, deletes: true } as never,
    }));
    expect(() => Policy.load(bad)).toThrow(/has no "deletes"; it takes .*"delete"/);
  });
});
