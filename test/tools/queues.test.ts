import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { BILLING_QUEUE_ID, TIER_1_QUEUE_ID, TIER_2_QUEUE_ID } from '../../src/emulator/seed/queues.js';
import { type ContractTarget, openEmulatorTarget } from '../contract/target.js';
import { hasOpenActivities } from '../helpers/emulator.js';
import { builtInPolicyWith, callAsWritten, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// A support lead's questions about queues ("Queue tables", Dataverse developer guide): what waits in a queue
// that nobody has taken, handing an item to someone (Worked By), and what a queue holds once a case is resolved
// (its item goes Inactive by itself). Asked the way a model asks them, through the tools.
describe('queues', () => {
  let t: ContractTarget;
  let emu: EmulatorHandle;
  let h: McpHarness;
  const items = () => emu.rows('queueitem');
  const itemOf = (caseId: string) => items().find((i) => (i.objectid as { id: string }).id === caseId)!;
  const inQueue = (queue: string) =>
    items().filter((i) => (i.queueid as { id: string }).id === queue && i.statecode === 0);

  beforeAll(async () => {
    t = await openEmulatorTarget({ scale: 60 });
    emu = t.emulator!;
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await h.close();
    await t.close();
  });

  it('every open case waits in one queue, and the queue is named by its name', async () => {
    const open = emu.rows('incident').filter((c) => c.statecode === 0);
    for (const c of open)
      expect(
        items().filter((i) => (i.objectid as { id: string }).id === c.incidentid && i.statecode === 0),
      ).toHaveLength(1);
    const waiting = inQueue(TIER_1_QUEUE_ID).filter((i) => i.workerid === null);
    expect(waiting.length).toBeGreaterThan(0);
    const r = await h.call('query_entities', {
      entity: 'queueitem',
      where: { queueid: 'Tier 1 Support', statecode: 'Active', workerid: null },
      select: ['title', 'enteredon', 'objectid'],
      orderBy: 'enteredon asc',
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const got = r.structuredContent.records as { id: string; enteredon: string; objectid: { entity: string } }[];
    expect(got.map((x) => x.id).sort()).toEqual(waiting.map((i) => String(i.queueitemid)).sort());
    // oldest first, each a case
    expect(got.map((x) => x.enteredon)).toEqual([...got.map((x) => x.enteredon)].sort());
    expect(new Set(got.map((x) => x.objectid.entity))).toEqual(new Set(['incident']));
  });

  it('most waiting cases are already worked by their owner; every fourth and those a team holds are not', async () => {
    const cases = new Map(emu.rows('incident').map((c) => [String(c.incidentid), c]));
    const active = items().filter((i) => i.statecode === 0);
    const worked = active.filter((i) => i.workerid !== null);
    for (const i of active) {
      const owner = cases.get((i.objectid as { id: string }).id)!.ownerid as { id: string; entity: string };
      if (owner.entity === 'team') expect(i.workerid).toBeNull();
      if (i.workerid === null) continue;
      expect(i.workerid).toEqual({ id: owner.id, entity: 'systemuser' });
      expect(Date.parse(String(i.workeridmodifiedon))).toBeGreaterThanOrEqual(Date.parse(String(i.enteredon)));
    }
    expect(worked.length).toBeGreaterThan(active.length / 2);
    expect(worked.length).toBeLessThan(active.length);
    const r = await h.call('query_entities', {
      entity: 'queueitem',
      filter: 'statecode eq 0 and workerid ne null',
      select: ['title', 'workerid'],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const got = r.structuredContent.records as { id: string; workerid: { name: string } }[];
    expect(got.map((x) => x.id).sort()).toEqual(worked.map((i) => String(i.queueitemid)).sort());
    const names = new Map(emu.rows('systemuser').map((u) => [String(u.systemuserid), u.fullname]));
    for (const x of got) {
      const item = worked.find((i) => i.queueitemid === x.id)!;
      expect(x.workerid.name).toBe(names.get((item.workerid as { id: string }).id));
    }
  });

  it("update_record hands an item to someone: Worked By and Worked On change, the case's owner does not", async () => {
    const item = inQueue(BILLING_QUEUE_ID).find((i) => i.workerid === null) ?? inQueue(TIER_1_QUEUE_ID)[0]!;
    const caseId = (item.objectid as { id: string }).id;
    const ownerBefore = emu.rows('incident').find((c) => c.incidentid === caseId)!.ownerid;
    const user = emu.rows('systemuser').find((u) => u.fullname === 'Megan Bowen')!;
    const r = await h.call('update_record', {
      entity: 'queueitem',
      id: String(item.queueitemid),
      values: { workerid: 'Megan Bowen' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain('Megan Bowen');
    // and says what it did not do: the case is not hers by it
    const title = emu.rows('incident').find((c) => c.incidentid === caseId)!.title;
    expect(textOf(r)).toContain(
      `Worked By is who works the item in its queue; the case "${title}" keeps its owner: to assign it too, set its ownerid with update_record.`,
    );
    const after = itemOf(caseId);
    expect(after.workerid).toMatchObject({ id: user.systemuserid, entity: 'systemuser' });
    expect(Date.parse(String(after.workeridmodifiedon))).toBeGreaterThan(Date.now() - 60_000);
    expect(emu.rows('incident').find((c) => c.incidentid === caseId)!.ownerid).toEqual(ownerBefore);
  });

  it('update_record moves an item to another queue as Dynamics does (AddToQueue): one item, in the new queue', async () => {
    const item = inQueue(TIER_1_QUEUE_ID).at(-1)!;
    const caseId = (item.objectid as { id: string }).id;
    const since = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'queueitem',
      id: String(item.queueitemid),
      values: { queueid: 'Billing' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const now = items().filter((i) => (i.objectid as { id: string }).id === caseId && i.statecode === 0);
    expect(now).toHaveLength(1);
    expect(now[0]!.queueid).toMatchObject({ id: BILLING_QUEUE_ID });
    expect(textOf(r)).toBe(
      `Moved "${item.title}" from Tier 1 Support to Billing: it is queue item ${now[0]!.queueitemid} there (${item.queueitemid} is gone). Nobody works it there yet.`,
    );
    expect(r.structuredContent).toMatchObject({ id: now[0]!.queueitemid, updated: true });
    // the move is Dynamics' action on the destination queue; the item's queue is never PATCHed
    // (metadata and names are read in $batch requests of GETs)
    const sent = emu
      .requests()
      .slice(since)
      .filter((x) => x.service === 'webapi' && x.method !== 'GET' && !x.url.endsWith('$batch'));
    expect(sent.map((x) => `${x.method} ${x.url}`)).toEqual([
      `POST /api/data/v9.2/queues(${BILLING_QUEUE_ID})/Microsoft.Dynamics.CRM.AddToQueue`,
    ]);
    // asked again for the queue it is in now: nothing is sent, and the answer says where it is
    const again = await h.call('update_record', {
      entity: 'queueitem',
      id: String(now[0]!.queueitemid),
      values: { queueid: 'Billing' },
    });
    expect(textOf(again)).toBe(`"${item.title}" is already in Billing: nothing was moved.`);
    expect(emu.requests().filter((x) => x.url.endsWith('AddToQueue')).length).toBe(1);
  });

  it('a move goes alone, an inactive item stays, and a policy without queueid refuses it', async () => {
    const item = inQueue(TIER_1_QUEUE_ID)[0]!;
    const both = await h.call('update_record', {
      entity: 'queueitem',
      id: String(item.queueitemid),
      values: { queueid: 'Billing', workerid: 'Megan Bowen' },
    });
    expect(both.isError).toBe(true);
    expect(textOf(both)).toContain(
      'Moving a queue item to another queue is a change of its own; workerid cannot go with it.',
    );
    const closed = items().find((i) => i.statecode === 1)!;
    const inactive = await h.call('update_record', {
      entity: 'queueitem',
      id: String(closed.queueitemid),
      values: { queueid: 'Tier 2 Support' },
    });
    expect(inactive.isError).toBe(true);
    expect(textOf(inactive)).toContain('is Inactive: its record was closed and left its queue then');
    const hidden = builtInPolicyWith('no-moves', (e) => ({
      ...e,
      queueitem: { ...e.queueitem!, write: ['workerid'] },
    }));
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: hidden, LOG_LEVEL: 'warn' } });
    try {
      const r = await strict.call('update_record', {
        entity: 'queueitem',
        id: String(item.queueitemid),
        values: { queueid: 'Billing' },
      });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/'queueid'.*cannot be written[\s\S]*Writable columns of queueitem: workerid/);
    } finally {
      await strict.close();
    }
    for (const i of [item, closed]) expect(itemOf((i.objectid as { id: string }).id).queueid).toEqual(i.queueid);
    expect(emu.requests().filter((x) => x.url.endsWith('AddToQueue')).length).toBe(1);
  });

  it('create_record puts a case in a queue (AddToQueue); again adds nothing; in another queue it moves', async () => {
    const opened = await h.call('create_case', {
      title: 'Queues: printer on fire',
      customer: { accountId: String(emu.rows('account')[0]!.accountid) },
    });
    const caseId = opened.structuredContent.id as string;
    const activeOf = () => items().filter((i) => (i.objectid as { id: string }).id === caseId && i.statecode === 0);
    expect(activeOf()).toEqual([]);
    const put = await h.call('create_record', {
      entity: 'queueitem',
      values: { objectid: 'Queues: printer on fire', queueid: 'Tier 2 Support' },
    });
    expect(put.isError, textOf(put)).toBeFalsy();
    expect(activeOf()).toHaveLength(1);
    const item = activeOf()[0]!;
    expect(item).toMatchObject({ queueid: { id: TIER_2_QUEUE_ID }, title: 'Queues: printer on fire', workerid: null });
    expect(textOf(put)).toBe(`Put "Queues: printer on fire" in Tier 2 Support: queue item ${item.queueitemid}.`);
    expect(put.structuredContent).toMatchObject({ entity: 'queueitem', id: item.queueitemid, duplicate: false });
    // the same again (a retry, or a model unsure it was done): the item it has, nothing sent
    const before = emu.requests().filter((x) => x.url.endsWith('AddToQueue')).length;
    const again = await h.call('create_record', {
      entity: 'queueitem',
      values: { objectid: { entity: 'incident', id: caseId }, queueid: 'Tier 2 Support' },
    });
    expect(again.structuredContent).toMatchObject({ id: item.queueitemid, duplicate: true });
    expect(textOf(again)).toContain('is already in Tier 2 Support');
    expect(emu.requests().filter((x) => x.url.endsWith('AddToQueue')).length).toBe(before);
    // in another queue: moved there, one item still
    const moved = await h.call('create_record', {
      entity: 'queueitem',
      values: { objectid: { entity: 'incident', id: caseId }, queueid: 'Tier 1 Support' },
    });
    expect(moved.isError, textOf(moved)).toBeFalsy();
    expect(activeOf()).toHaveLength(1);
    expect(activeOf()[0]!.queueid).toMatchObject({ id: TIER_1_QUEUE_ID });
    expect(textOf(moved)).toContain('(moved from Tier 2 Support: a record is in one queue at a time)');
    // a queue item takes its record and queue only: Worked By is set on it afterwards
    const more = await h.call('create_record', {
      entity: 'queueitem',
      values: { objectid: { entity: 'incident', id: caseId }, queueid: 'Billing', workerid: 'Megan Bowen' },
    });
    expect(more.isError).toBe(true);
    expect(textOf(more)).toContain('objectid and queueid only, not workerid');
    // nor does an item change records: another record is put in the queue, this one taken out
    const other = await h.call('update_record', {
      entity: 'queueitem',
      id: String(activeOf()[0]!.queueitemid),
      values: { objectid: { entity: 'incident', id: String(emu.rows('incident')[0]!.incidentid) } },
    });
    expect(other.isError).toBe(true);
    expect(textOf(other)).toContain(
      "A queue item's record (objectid) is the one put in the queue; it is not changed here.",
    );
    expect(textOf(other)).toContain('create_record on queueitem');
    expect(activeOf()[0]!.queueid).toMatchObject({ id: TIER_1_QUEUE_ID });
  });

  it('delete_record takes a case out of its queue, and the case stays as it was', async () => {
    const item = inQueue(TIER_1_QUEUE_ID)[0]!;
    const caseId = (item.objectid as { id: string }).id;
    const before = emu.rows('incident').find((c) => c.incidentid === caseId)!;
    const r = await h.call('delete_record', { entity: 'queueitem', id: String(item.queueitemid) });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain(`Deleted queueitem "${item.title}" (${item.queueitemid})`);
    expect(items().filter((i) => (i.objectid as { id: string }).id === caseId)).toEqual([]);
    expect(emu.rows('incident').find((c) => c.incidentid === caseId)).toEqual(before);
  });

  it('a case resolved leaves its queue: its item goes Inactive and the queue no longer lists it', async () => {
    // (a case with an open task is resolved only once it is closed: one without)
    const item = inQueue(TIER_1_QUEUE_ID).find((q) => !hasOpenActivities(emu, (q.objectid as { id: string }).id))!;
    const caseId = (item.objectid as { id: string }).id;
    const r = await h.call('resolve_case', { id: caseId, resolution: 'Replaced the part.' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(itemOf(caseId)).toMatchObject({ statecode: 1, statuscode: 2 });
    const listed = await h.call('query_entities', {
      entity: 'queueitem',
      where: { queueid: 'Tier 1 Support', statecode: 'Active' },
      select: ['title'],
    });
    const ids = (listed.structuredContent.records as { id: string }[]).map((x) => x.id);
    expect(ids).not.toContain(String(item.queueitemid));
    expect(ids.length).toBe(inQueue(TIER_1_QUEUE_ID).length);
  });

  it('review_support: how much waits in each queue, and what nobody has taken, longest waiting first', async () => {
    const p = await h.client.getPrompt({ name: 'review_support', arguments: {} });
    const text = (p.messages[0]!.content as { text: string }).text;
    const counts =
      /aggregate_records on queueitem with where (\{.*?\}), groupBy "(queueid)" and measures "(count)"/.exec(text);
    expect(counts, text).not.toBeNull();
    const agg = await h.call('aggregate_records', {
      entity: 'queueitem',
      where: JSON.parse(counts![1]!),
      groupBy: counts![2],
      measures: counts![3],
    });
    expect(agg.isError, textOf(agg)).toBeFalsy();
    const active = items().filter((i) => i.statecode === 0);
    const perQueue = new Map<string, number>();
    for (const i of active)
      perQueue.set((i.queueid as { id: string }).id, (perQueue.get((i.queueid as { id: string }).id) ?? 0) + 1);
    expect(
      new Map(
        agg.structuredContent.groups.map((g: { queueid: { id: string }; count: number }) => [g.queueid.id, g.count]),
      ),
    ).toEqual(perQueue);
    const r = await callAsWritten(
      h,
      'queueitem',
      text,
      /query_entities on queueitem with where (\{"statecode": "Active", "workerid": null\}), select (\[.*?\]), orderBy "(enteredon asc)" and top (20)/,
    );
    expect(r.isError, textOf(r)).toBeFalsy();
    const untaken = active
      .filter((i) => i.workerid === null)
      .sort((a, b) => String(a.enteredon).localeCompare(String(b.enteredon)));
    expect(untaken.length).toBeGreaterThan(0);
    expect(r.structuredContent.records.map((x: { id: string }) => x.id)).toEqual(
      untaken.slice(0, 20).map((i) => i.queueitemid),
    );
    expect(text).toContain('how much waits in each queue and what nobody has taken, oldest first');
    // a policy that does not show the queues: the prompt leaves them out
    const hidden = builtInPolicyWith('no-queues', (e) => {
      const { queueitem: _, ...rest } = e;
      return rest;
    });
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: hidden, LOG_LEVEL: 'warn' } });
    try {
      const s = await strict.client.getPrompt({ name: 'review_support', arguments: {} });
      expect((s.messages[0]!.content as { text: string }).text).not.toMatch(/queueitem|queue/);
    } finally {
      await strict.close();
    }
  });

  it('a move Dynamics refuses (no AppendTo on the case) leaves the case in the queue it was in', async () => {
    const tables = ['queue', 'queueitem', 'incident', 'systemuser', 'team'];
    const full = { read: true, create: true, write: true, delete: true, append: true, appendTo: true, assign: true };
    emu.configure({
      role: {
        privileges: {
          ...Object.fromEntries(tables.map((t) => [t, full])),
          incident: { ...full, appendTo: false },
        },
      },
    });
    try {
      const item = inQueue(TIER_1_QUEUE_ID)[0]!;
      const caseId = (item.objectid as { id: string }).id;
      const r = await h.call('update_record', {
        entity: 'queueitem',
        id: String(item.queueitemid),
        values: { queueid: BILLING_QUEUE_ID },
      });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('prvAppendToIncident');
      const now = items().filter((i) => (i.objectid as { id: string }).id === caseId && i.statecode === 0);
      expect(now.map((i) => [i.queueitemid, (i.queueid as { id: string }).id])).toEqual([
        [item.queueitemid, TIER_1_QUEUE_ID],
      ]);
    } finally {
      await emu.reset();
    }
  });
});
