import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractTarget, openCase as openCaseIn, targets } from './target.js';

// Queues ("Queue tables", Dataverse developer guide; the QueueItem table reference): a queue item's title "is
// copied from the record that was assigned to the queue", Entered Queue and Worked On are the platform's stamps,
// "a queue item is automatically deactivated if the state of the record in the queue item changed from Active
// to Inactive", "inactive queue records are read-only", and "when you delete a row, all queue items that
// reference this row are deleted". Run against a real organisation, this says the emulator's queues answer so.
describe.each(targets)('queue contract: $name', ({ open, skip }) => {
  let t: ContractTarget;
  let queue = '';
  let me = '';
  const idOf = (entityId: string) => /\(([0-9a-f-]{36})\)$/.exec(entityId)![1]!;
  const openCase = (title: string) => openCaseIn(t, title);
  const enqueue = async (caseId: string) => {
    const r = await t.api('POST', 'queueitems', {
      body: { 'objectid_incident@odata.bind': `/incidents(${caseId})`, 'queueid@odata.bind': `/queues(${queue})` },
    });
    expect(r.status, r.text).toBe(204);
    return idOf(r.headers['odata-entityid']!);
  };
  const item = async (id: string) =>
    (
      await t.api(
        'GET',
        `queueitems(${id})?$select=title,objecttypecode,enteredon,workeridmodifiedon,statecode,statuscode,_workerid_value`,
      )
    ).json();

  beforeAll(async () => {
    if (skip) return;
    t = await open();
    me = (await t.api('GET', 'WhoAmI()')).json().UserId;
    const r = await t.api('POST', 'queues', { body: { name: 'Queue contract', queueviewtype: 0 } });
    expect(r.status).toBe(204);
    queue = idOf(r.headers['odata-entityid']!);
  });
  afterAll(async () => {
    if (!t) return;
    await t.api('DELETE', `queues(${queue})`);
    await t.close();
  });

  it.skipIf(skip)("QUEUE: an item takes its case's title and type, and is stamped when it entered", async () => {
    const caseId = await openCase('Queue contract: printer jam');
    const before = Date.now();
    const id = await enqueue(caseId);
    const got = await item(id);
    expect(got).toMatchObject({ title: 'Queue contract: printer jam', objecttypecode: 112, statecode: 0 });
    expect(Date.parse(got.enteredon)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(got.workeridmodifiedon).toBeNull();
    // the queue's items and the case's item are the same one, both ways
    const listed = (await t.api('GET', `queues(${queue})/queue_entries?$select=queueitemid`)).json().value;
    expect(listed.map((x: { queueitemid: string }) => x.queueitemid)).toContain(id);
    const onCase = (await t.api('GET', `incidents(${caseId})?$expand=Incident_QueueItem($select=queueitemid)`)).json();
    expect(onCase.Incident_QueueItem.map((x: { queueitemid: string }) => x.queueitemid)).toEqual([id]);
    await t.api('DELETE', `incidents(${caseId})`);
  });

  it.skipIf(skip)('QUEUE: taking an item (Worked By) stamps Worked On', async () => {
    const caseId = await openCase('Queue contract: taken');
    const id = await enqueue(caseId);
    const r = await t.api('PATCH', `queueitems(${id})`, {
      body: { 'workerid_systemuser@odata.bind': `/systemusers(${me})` },
    });
    expect(r.status).toBe(204);
    const got = await item(id);
    expect(got._workerid_value).toBe(me);
    expect(got.workeridmodifiedon).not.toBeNull();
    await t.api('DELETE', `incidents(${caseId})`);
  });

  it.skipIf(skip)(
    'QUEUE: resolving a case makes its item Inactive, and an inactive item cannot be edited',
    async () => {
      const caseId = await openCase('Queue contract: resolved');
      const id = await enqueue(caseId);
      const closed = await t.api('POST', 'CloseIncident', {
        body: {
          IncidentResolution: { subject: 'Cleared the jam', 'incidentid@odata.bind': `/incidents(${caseId})` },
          Status: 5,
        },
      });
      expect(closed.status).toBe(204);
      expect(await item(id)).toMatchObject({ statecode: 1, statuscode: 2 });
      const edit = await t.api('PATCH', `queueitems(${id})`, {
        body: { 'workerid_systemuser@odata.bind': `/systemusers(${me})` },
      });
      expect(edit.status).toBe(400);
      expect((await item(id))._workerid_value).toBeNull();
      await t.api('DELETE', `incidents(${caseId})`);
    },
  );

  it.skipIf(skip)('QUEUE: a task completed leaves its queue too', async () => {
    const task = idOf(
      (await t.api('POST', 'tasks', { body: { subject: 'Queue contract: call back' } })).headers['odata-entityid']!,
    );
    const r = await t.api('POST', 'queueitems', {
      body: { 'objectid_task@odata.bind': `/tasks(${task})`, 'queueid@odata.bind': `/queues(${queue})` },
    });
    const id = idOf(r.headers['odata-entityid']!);
    expect(await item(id)).toMatchObject({ title: 'Queue contract: call back', objecttypecode: 4212, statecode: 0 });
    expect((await t.api('PATCH', `tasks(${task})`, { body: { statecode: 1, statuscode: 5 } })).status).toBe(204);
    expect(await item(id)).toMatchObject({ statecode: 1, statuscode: 2 });
    await t.api('DELETE', `tasks(${task})`);
  });

  // update_record moves an item to another queue this way ("AddToQueue Action": bound to the destination queue,
  // Target the record, SourceQueue where it is; returns the QueueItemId of the item in the destination)
  it.skipIf(skip)('QUEUE: AddToQueue moves a case to another queue, and sent again leaves it there', async () => {
    const caseId = await openCase('Queue contract: moved');
    const first = await enqueue(caseId);
    const other = idOf(
      (await t.api('POST', 'queues', { body: { name: 'Queue contract 2', queueviewtype: 0 } })).headers[
        'odata-entityid'
      ]!,
    );
    const move = () =>
      t.api('POST', `queues(${other})/Microsoft.Dynamics.CRM.AddToQueue`, {
        body: {
          Target: { '@odata.type': 'Microsoft.Dynamics.CRM.incident', incidentid: caseId },
          SourceQueue: { '@odata.type': 'Microsoft.Dynamics.CRM.queue', queueid: queue },
        },
      });
    const r = await move();
    expect(r.status, r.text).toBe(200);
    const moved = r.json().QueueItemId as string;
    expect(moved).toMatch(/^[0-9a-f-]{36}$/);
    const active = (
      await t.api(
        'GET',
        `incidents(${caseId})?$expand=Incident_QueueItem($select=queueitemid,_queueid_value,statecode,title)`,
      )
    )
      .json()
      .Incident_QueueItem.filter((x: { statecode: number }) => x.statecode === 0);
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ queueitemid: moved, _queueid_value: other, title: 'Queue contract: moved' });
    // nothing of it is left in the queue it came from
    const left = (await t.api('GET', `queues(${queue})/queue_entries?$select=queueitemid`)).json().value;
    expect(left.map((x: { queueitemid: string }) => x.queueitemid)).not.toContain(first);
    // the same move again (a retry whose answer was lost) leaves the one item where it is
    const again = await move();
    expect(again.status).toBe(200);
    expect(again.json().QueueItemId).toBe(moved);
    await t.api('DELETE', `incidents(${caseId})`);
    await t.api('DELETE', `queues(${other})`);
  });

  it.skipIf(skip)('QUEUE: deleting a case deletes its queue item', async () => {
    const caseId = await openCase('Queue contract: deleted');
    const id = await enqueue(caseId);
    expect((await t.api('DELETE', `incidents(${caseId})`)).status).toBe(204);
    expect((await t.api('GET', `queueitems(${id})?$select=title`)).status).toBe(404);
  });
});
