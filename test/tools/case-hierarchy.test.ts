import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { type ContractTarget, openEmulatorTarget } from '../contract/target.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// "Incident (case) hierarchies": a problem reported more than once is one parent case with child cases
// (parentcaseid, incident_parent_incident). One level only; and the organisation's Parent and Child case
// settings either close a parent's open children with it (cascadestatusupdate) or keep the parent open while
// any is (restrictstatusupdate). A support user resolving the parent must learn what happened to the children.
describe('parent and child cases', () => {
  let t: ContractTarget;
  let emu: EmulatorHandle;
  let h: McpHarness;
  const account = () => String(emu.rows('account')[0]!.accountid);
  const idOf = (entityId: string) => /\(([0-9a-f-]{36})\)$/.exec(entityId)![1]!;
  /** a new open case of the first account, a child of `parent` where given */
  const makeCase = async (title: string, parent?: string) => {
    const r = await t.api('POST', 'incidents', {
      body: {
        title,
        'customerid_account@odata.bind': `/accounts(${account()})`,
        ...(parent ? { 'parentcaseid@odata.bind': `/incidents(${parent})` } : {}),
      },
    });
    expect(r.status).toBe(204);
    return idOf(r.headers['odata-entityid']!);
  };
  const number = (id: string) => String(emu.rows('incident').find((c) => c.incidentid === id)!.ticketnumber);
  const state = (id: string) => emu.rows('incident').find((c) => c.incidentid === id)!.statecode;
  const closurePreference = async (prefs: { cascadestatusupdate: boolean; restrictstatusupdate: boolean }) => {
    const org = String(emu.rows('organization')[0]!.organizationid);
    expect((await t.api('PATCH', `organizations(${org})`, { body: prefs })).status).toBe(204);
  };

  beforeAll(async () => {
    t = await openEmulatorTarget({ scale: 30 });
    emu = t.emulator!;
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await closurePreference({ cascadestatusupdate: false, restrictstatusupdate: false });
    await h.close();
    await t.close();
  });

  it("a case's child cases are read with it, and a child given one by its case number", async () => {
    const parent = await makeCase('Printers offline at head office');
    const child = await makeCase('Printer offline on floor 3');
    const set = await h.call('update_record', {
      entity: 'incident',
      id: number(child),
      values: { parentcaseid: number(parent) },
    });
    expect(set.isError, textOf(set)).toBeFalsy();
    const got = await h.call('get_record', {
      entity: 'incident',
      id: parent,
      select: ['title'],
      expand: [{ relation: 'incident_parent_incident', select: ['title', 'ticketnumber'] }],
    });
    expect(got.structuredContent.record.incident_parent_incident).toEqual([
      expect.objectContaining({ title: 'Printer offline on floor 3', ticketnumber: number(child) }),
    ]);
  });

  it('create_case asked for a child case says the two steps, which make one; nothing is made by the refusal', async () => {
    const parent = await makeCase('Scanner jams');
    const cases = emu.rows('incident').length;
    const asked = await h.call('create_case', {
      title: 'Scanner jams again',
      customer: { accountId: account() },
      parentcaseid: number(parent),
    });
    expect(textOf(asked)).toContain(
      'A child case is made in two steps: create_case without it, then update_record the new case with {"parentcaseid": "<the parent\'s case number or id>"}.',
    );
    expect(emu.rows('incident')).toHaveLength(cases);
    const made = await h.call('create_case', { title: 'Scanner jams again', customer: { accountId: account() } });
    expect(made.isError, textOf(made)).toBeFalsy();
    const set = await h.call('update_record', {
      entity: 'incident',
      id: made.structuredContent.id,
      values: { parentcaseid: number(parent) },
    });
    expect(set.isError, textOf(set)).toBeFalsy();
    expect(emu.rows('incident').find((c) => c.incidentid === made.structuredContent.id)!.parentcaseid).toMatchObject({
      id: parent,
    });
  });

  it('one level only: a child of a child, or a parent made a child, is refused with what to do instead', async () => {
    const parent = await makeCase('Portal down');
    const child = await makeCase('Portal down for Paris office', parent);
    const other = await makeCase('Portal slow');
    const grandchild = await h.call('update_record', {
      entity: 'incident',
      id: other,
      values: { parentcaseid: child },
    });
    expect(textOf(grandchild)).toBe(
      "Error (validation): Dynamics refused the request: You can't create child cases for child cases.\nHow to fix: Cases have one level of children: make it a child of that case's own parent (its parentcaseid), or of a case that is no one's child.",
    );
    const parentMoved = await h.call('update_record', {
      entity: 'incident',
      id: parent,
      values: { parentcaseid: other },
    });
    expect(textOf(parentMoved)).toMatch(
      /^Error \(validation\): Dynamics refused the request: You can't add a parent case as a child case\.\nHow to fix: A case with child cases cannot become a child: move its child cases/,
    );
    // nothing was written
    expect(emu.rows('incident').find((c) => c.incidentid === other)!.parentcaseid).toBeNull();
    expect(emu.rows('incident').find((c) => c.incidentid === parent)!.parentcaseid).toBeNull();
  });

  it('resolving a parent says which child cases are still open (no closure preference)', async () => {
    const parent = await makeCase('Email not syncing');
    const child = await makeCase('Email not syncing on mobile', parent);
    const r = await h.call('resolve_case', { id: parent, resolution: 'Mail server certificate renewed' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain(`Its child case ${number(child)} is still open: resolve it too if solved.`);
    expect([state(parent), state(child)]).toEqual([1, 0]);
  });

  it('where the organisation cascades, the children are closed with the parent, and the answer says so', async () => {
    await closurePreference({ cascadestatusupdate: true, restrictstatusupdate: false });
    const parent = await makeCase('VPN drops');
    const children = [await makeCase('VPN drops in Lyon', parent), await makeCase('VPN drops in Oslo', parent)];
    const r = await h.call('resolve_case', { id: parent, resolution: 'Gateway firmware updated' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain(
      `Its child cases ${children.map(number).join(', ')} were closed with it (the organisation's Parent and Child case settings).`,
    );
    expect([parent, ...children].map(state)).toEqual([1, 1, 1]);
  });

  it('a parent canceled with update_record: its children canceled with it where the organisation cascades, and said', async () => {
    await closurePreference({ cascadestatusupdate: true, restrictstatusupdate: false });
    const parent = await makeCase('Duplicate: printers offline');
    const child = await makeCase('Duplicate: printer offline on floor 2', parent);
    const r = await h.call('update_record', { entity: 'incident', id: parent, values: { statecode: 'Canceled' } });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain(
      `Its child case ${number(child)} was closed with it (the organisation's Parent and Child case settings).`,
    );
    expect([state(parent), state(child)]).toEqual([2, 2]);
    // with no preference, the child stays open, and the answer says so
    await closurePreference({ cascadestatusupdate: false, restrictstatusupdate: false });
    const alone = await makeCase('Duplicate: scanner offline');
    const open = await makeCase('Duplicate: scanner offline again', alone);
    const kept = await h.call('update_record', { entity: 'incident', id: alone, values: { statecode: 'Canceled' } });
    expect(textOf(kept)).toContain(`Its child case ${number(open)} is still open: close it too if done.`);
    expect([state(alone), state(open)]).toEqual([2, 0]);
  });

  it('a parent case is not deleted with its child cases unseen: refused, naming them, until they are detached', async () => {
    const deletable = builtInPolicyWith('cases-deletable', (e) => ({
      ...e,
      incident: { ...e.incident!, delete: true },
    }));
    const admin = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: deletable, LOG_LEVEL: 'warn' } });
    try {
      const parent = await makeCase('Old: mail down');
      const child = await makeCase('Old: mail down in Lyon', parent);
      const refused = await admin.call('delete_record', { entity: 'incident', id: parent });
      expect(textOf(refused)).toBe(
        `Error (bad_input): Case "Old: mail down" (${parent}) has 1 child case (${number(child)}), which Dynamics deletes with it. Nothing was deleted.\nHow to fix: To keep it, detach it first (update_record with {"parentcaseid": null}); if it is to go too, delete it first (delete_record with its id); then delete this case.`,
      );
      expect([state(parent), state(child)]).toEqual([0, 0]);
      // kept: detached first, the parent alone is deleted
      const detached = await admin.call('update_record', {
        entity: 'incident',
        id: child,
        values: { parentcaseid: null },
      });
      expect(detached.isError, textOf(detached)).toBeFalsy();
      const deleted = await admin.call('delete_record', { entity: 'incident', id: parent });
      expect(deleted.isError, textOf(deleted)).toBeFalsy();
      expect(emu.rows('incident').map((c) => c.incidentid)).not.toContain(parent);
      expect(state(child)).toBe(0);
    } finally {
      await admin.close();
    }
  });

  it('where the organisation keeps a parent open while a child is, resolving it is refused and nothing is written', async () => {
    await closurePreference({ cascadestatusupdate: false, restrictstatusupdate: true });
    const parent = await makeCase('Badge readers offline');
    const child = await makeCase('Badge reader offline at gate 2', parent);
    const resolutions = emu.rows('incidentresolution').length;
    const r = await h.call('resolve_case', { id: parent, resolution: 'Controller replaced' });
    expect(textOf(r)).toMatch(
      /^Error \(validation\): Dynamics refused the request: You can't resolve the parent case because it has 1 active child cases\.\nHow to fix: Resolve or cancel its active child cases first/,
    );
    expect([state(parent), state(child)]).toEqual([0, 0]);
    expect(emu.rows('incidentresolution')).toHaveLength(resolutions);
    // the way the advice says works
    expect((await h.call('resolve_case', { id: child, resolution: 'Controller replaced' })).isError).toBeFalsy();
    const again = await h.call('resolve_case', { id: parent, resolution: 'Controller replaced' });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(state(parent)).toBe(1);
  });
});
