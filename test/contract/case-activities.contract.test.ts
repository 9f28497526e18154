import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractTarget, createdId, openCase, targets } from './target.js';

// A case is closed only once its activities are: Dataverse refuses CloseIncident while an activity regarding the
// case is open (ERRCODES 0x8004440a unManagedidsincidentcannotclose, "The incident can not be closed because there
// are open activities for this incident.") and cancelling it (0x8004440e IncidentCannotCancel; the Customer
// Service guide: "All case activities must be closed before you can cancel a case"). Run against a real
// organisation, this says the emulator refuses both as Dataverse does, and closes the case once the task is done.
describe.each(targets)('case activities contract: $name', ({ open, skip }) => {
  let t: ContractTarget;
  const made: string[] = [];
  beforeAll(async () => {
    if (!skip) t = await open();
  });
  afterAll(async () => {
    if (skip) return;
    for (const id of made.reverse()) await t.api('DELETE', `incidents(${id})`);
    await t.close();
  });
  const resolve = (caseId: string) =>
    t.api('POST', 'CloseIncident', {
      body: {
        IncidentResolution: { subject: 'Fixed', 'incidentid@odata.bind': `/incidents(${caseId})` },
        Status: 5,
      },
    });

  it.skipIf(skip)(
    'CLOSE: a case with an open task is neither resolved (0x8004440a) nor cancelled (0x8004440e); with the task done it is resolved',
    async () => {
      const caseId = await openCase(t, 'Open activities contract');
      made.push(caseId);
      const task = createdId(
        await t.api('POST', 'tasks', {
          body: {
            subject: 'Call the customer back',
            'regardingobjectid_incident_task@odata.bind': `/incidents(${caseId})`,
          },
        }),
      );
      const refused = await resolve(caseId);
      expect(refused.status, refused.text).toBe(400);
      expect(refused.json().error.code.toLowerCase()).toBe('0x8004440a');
      const cancel = await t.api('PATCH', `incidents(${caseId})`, { body: { statecode: 2, statuscode: 6 } });
      expect(cancel.status, cancel.text).toBe(400);
      expect(cancel.json().error.code.toLowerCase()).toBe('0x8004440e');
      const state = await t.api('GET', `incidents(${caseId})?$select=statecode`);
      expect(state.json().statecode).toBe(0);
      expect((await t.api('PATCH', `tasks(${task})`, { body: { statecode: 1, statuscode: 5 } })).status).toBe(204);
      const closed = await resolve(caseId);
      expect(closed.status, closed.text).toBe(204);
      expect((await t.api('GET', `incidents(${caseId})?$select=statecode`)).json().statecode).toBe(1);
    },
  );
});
