import { describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { DEFAULT_POLICY } from '../../src/policy/default.js';
import { apiRequests, clientFor } from '../helpers/client.js';
import {
  auditLog,
  builtInPolicyWith,
  connectAsking,
  connectInMemory,
  type McpHarness,
  serveWithAuditLog,
  textOf,
} from '../helpers/mcp.js';

// A case is resolved by Dynamics' CloseIncident action, not by an update of its state (reference §6.2): the
// action writes a Case Resolution (incidentresolution) and the case's Resolved status together
describe('resolve_case', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const audit = auditLog('resolve');
  serveWithAuditLog(audit, (e, harness) => {
    emu = e;
    h = harness;
  });

  let opened = 0;
  /** a new open case, opened as a user would (create_case), so that each test has its own */
  const openCase = async () => {
    const r = await h.call('create_case', {
      title: `Device offline ${++opened}`,
      customer: { accountId: String(emu.rows('account')[0]!.accountid) },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    return emu.rows('incident').find((x) => x.incidentid === r.structuredContent.id)!;
  };
  const caseRow = (id: unknown) => emu.rows('incident').find((c) => c.incidentid === id)!;
  /** what the answer says of a new case's SLA (its default SLA's resolve-by time is days away) */
  const inTime = (c: Record<string, unknown>) =>
    ` Within its SLA (resolve by ${String(c.resolveby).slice(0, 16).replace('T', ' ')} UTC).`;
  const resolutionsOf = (id: unknown) =>
    emu.rows('incidentresolution').filter((r) => (r.incidentid as { id: string } | null)?.id === id);
  const closes = (since: number) => apiRequests(emu, since).filter((q) => q.url === '/api/data/v9.2/CloseIncident');

  it('resolves an open case with one CloseIncident request: a Case Resolution, and the case Resolved', async () => {
    const c = await openCase();
    const since = emu.requests().length;
    const r = await h.call('resolve_case', { id: String(c.incidentid), resolution: 'Replaced the faulty router' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toEqual({
      id: c.incidentid,
      title: c.title,
      ticketnumber: c.ticketnumber,
      resolved: true,
      status: 'Problem Solved (5)',
      existing: false,
      url: expect.stringContaining(`etn=incident&id=${c.incidentid}`),
    });
    expect(textOf(r)).toBe(`Resolved case ${c.ticketnumber} "${c.title}" (Problem Solved (5)).${inTime(c)}`);
    expect(caseRow(c.incidentid)).toMatchObject({ statecode: 1, statuscode: 5 });
    expect(resolutionsOf(c.incidentid).map((x) => x.subject)).toEqual(['Replaced the faulty router']);
    // one POST of the unbound action (its IncidentResolution and Status parameters are checked by the emulator)
    expect(closes(since).map((q) => q.method)).toEqual(['POST']);
    expect(await audit.last()).toMatchObject({
      tool: 'resolve_case',
      entity: 'incident',
      id: c.incidentid,
      action: 'resolve',
      columns: { subject: 'Replaced the faulty router', statuscode: 5 },
    });
  });

  it("billable time (the Resolve Case form's Billable Time) is the resolution's timespent, in minutes or words", async () => {
    for (const [args, minutes, said] of [
      [{ billableMinutes: 45 }, 45, '45 minutes'],
      // the resolution's own column and the form's label name it too; a duration in words is its minutes
      [{ timespent: '1.5 hours' }, 90, '90 minutes (1.5 hours)'],
      [{ billableTime: 'an hour' }, 60, '60 minutes (1 hour)'],
      [{ billableMinutes: 0 }, 0, '0 minutes'],
    ] as const) {
      const c = await openCase();
      const r = await h.call('resolve_case', { id: String(c.incidentid), resolution: 'Reset the VPN token', ...args });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(textOf(r)).toBe(
        `Resolved case ${c.ticketnumber} "${c.title}" (Problem Solved (5), ${said} billable).${inTime(c)}`,
      );
      expect(resolutionsOf(c.incidentid).map((x) => [x.subject, x.timespent])).toEqual([
        ['Reset the VPN token', minutes],
      ]);
      expect((await audit.last()).columns).toMatchObject({ subject: 'Reset the VPN token', timespent: minutes });
    }
    // what is not a number of whole minutes is refused, and the case stays open with no resolution
    for (const [billableMinutes, message] of [
      ['a while', 'billableMinutes is a number of minutes, e.g. 30, or "1.5 hours".'],
      [-5, 'billableMinutes cannot be less than 0.'],
      ['2.5 minutes', 'billableMinutes is whole minutes, e.g. 90 for an hour and a half.'],
    ] as const) {
      const c = await openCase();
      const since = emu.requests().length;
      const r = await h.call('resolve_case', { id: String(c.incidentid), resolution: 'x', billableMinutes });
      expect(textOf(r)).toMatch(new RegExp(`^Error \\(bad_input\\): ${message.replace(/[().]/g, '\\$&')}\n`));
      expect(closes(since)).toEqual([]);
      expect(caseRow(c.incidentid).statecode).toBe(0);
    }
  });

  it("a policy that does not let a resolution's time be written refuses billable time before anything is sent", async () => {
    const policy = builtInPolicyWith('no-time', (e) => ({
      ...e,
      incidentresolution: {
        ...e.incidentresolution!,
        write: e.incidentresolution!.write!.filter((c) => c !== 'timespent'),
      },
    }));
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    try {
      const c = await openCase();
      const since = emu.requests().length;
      const r = await strict.call('resolve_case', { id: String(c.incidentid), resolution: 'x', billableMinutes: 30 });
      expect(textOf(r)).toMatch(/^Error \(policy\): .*timespent/);
      expect(closes(since)).toEqual([]);
      // without the time, the same policy resolves it
      const plain = await strict.call('resolve_case', { id: String(c.incidentid), resolution: 'x' });
      expect(plain.structuredContent).toMatchObject({ resolved: true });
    } finally {
      await strict.close();
    }
  });

  it('a case already resolved is answered as it is: nothing is sent, no second resolution', async () => {
    const c = await openCase();
    await h.call('resolve_case', { id: String(c.incidentid), resolution: 'Fixed' });
    const since = emu.requests().length;
    const again = await h.call('resolve_case', { id: `{${String(c.incidentid).toUpperCase()}}`, resolution: 'Fixed' });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(again.structuredContent.existing).toBe(true);
    expect(textOf(again)).toContain('was already resolved (Problem Solved (5)); nothing was changed.');
    expect(closes(since)).toEqual([]);
    expect(resolutionsOf(c.incidentid)).toHaveLength(1);
  });

  // a recurring title ("VPN down" again): the earlier cases of it resolved, the one open one is the one meant
  it('a case by its title: of the cases with it, the one still open is resolved; two open ones are listed', async () => {
    const account = { accountId: String(emu.rows('account')[1]!.accountid) };
    const open = async () => {
      const r = await h.call('create_case', { title: 'VPN gateway down', customer: account, allowDuplicate: true });
      expect(r.isError, textOf(r)).toBeFalsy();
      return r.structuredContent.id as string;
    };
    const first = await open();
    expect((await h.call('resolve_case', { id: first, resolution: 'Restarted it' })).isError).toBeFalsy();
    const second = await open();
    const r = await h.call('resolve_case', { id: 'VPN gateway down', resolution: 'Restarted it again' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ id: second, resolved: true, existing: false });
    expect(resolutionsOf(second).map((x) => x.subject)).toEqual(['Restarted it again']);
    expect(resolutionsOf(first).map((x) => x.subject)).toEqual(['Restarted it']);
    // two open: which one is not guessed; nothing is sent
    const third = await open();
    const fourth = await open();
    const since = emu.requests().length;
    const two = await h.call('resolve_case', { id: 'VPN gateway down', resolution: 'Fixed' });
    expect(textOf(two)).toMatch(/^Error \(bad_input\): id 'VPN gateway down': 4 records have that name: /);
    for (const id of [third, fourth]) expect(textOf(two)).toContain(id);
    expect(closes(since)).toEqual([]);
  });

  it('ten clients resolving one case at once: one resolution, and every call says the case is resolved', async () => {
    const c = await openCase();
    const all = await Promise.all(
      Array.from({ length: 10 }, () => h.call('resolve_case', { id: String(c.incidentid), resolution: 'Fixed' })),
    );
    for (const r of all) expect(r.isError, textOf(r)).toBeFalsy();
    expect(new Set(all.map((r) => r.structuredContent.status))).toEqual(new Set(['Problem Solved (5)']));
    expect(resolutionsOf(c.incidentid)).toHaveLength(1);
  });

  it('an answer lost after Dynamics resolved the case: read from the case, not sent again', async () => {
    const c = await openCase();
    emu.addFault({ match: { method: 'POST', path: '/api/data/v9.2/CloseIncident' }, action: 'reset-after' });
    const since = emu.requests().length;
    const r = await h.call('resolve_case', { id: String(c.incidentid), resolution: 'Fixed' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ existing: false, status: 'Problem Solved (5)' });
    expect(closes(since)).toHaveLength(1);
    expect(resolutionsOf(c.incidentid)).toHaveLength(1);
    const last = await audit.last();
    expect(last).toMatchObject({ id: c.incidentid, action: 'resolve' });
    expect(last.outcome).toMatch(
      /^resolved when read after the action failed \(.+\): its answer was lost, or another request resolved it first$/,
    );
  });

  it('a Resolved status reason by label, number or as the tools show it; one of another state is refused', async () => {
    for (const status of ['information provided', 1000, 'Information Provided (1000)']) {
      const c = await openCase();
      const r = await h.call('resolve_case', { id: String(c.incidentid), resolution: 'Answered', status });
      expect(r.isError, `${status}: ${textOf(r)}`).toBeFalsy();
      expect(caseRow(c.incidentid)).toMatchObject({ statecode: 1, statuscode: 1000 });
    }
    const c = await openCase();
    const since = emu.requests().length;
    const r = await h.call('resolve_case', { id: String(c.incidentid), resolution: 'x', status: 'On Hold' });
    expect(textOf(r)).toBe(
      "Error (bad_input): 'On Hold' is not a status reason of a resolved case: it is one of Active (statecode 0).\nHow to fix: Use one of: 5 (Problem Solved), 1000 (Information Provided).",
    );
    // a reason no state has: the resolved ones to use
    const fixed = await h.call('resolve_case', { id: String(c.incidentid), resolution: 'x', status: 'Fixed' });
    expect(textOf(fixed)).toBe(
      "Error (bad_input): 'Fixed' is not a status reason of a resolved case.\nHow to fix: Use one of: 5 (Problem Solved), 1000 (Information Provided).",
    );
    // a number is a reason by its number, never the state's: 1 is Active's In Progress
    const one = await h.call('resolve_case', { id: String(c.incidentid), resolution: 'x', status: '1' });
    expect(textOf(one)).toMatch(
      /^Error \(bad_input\): '1' is not a status reason of a resolved case: it is one of Active/,
    );
    expect(closes(since)).toEqual([]);
    expect(caseRow(c.incidentid).statecode).toBe(0);
    // the state's own name as the reason ("status": "Resolved") is its default reason, Problem Solved
    const resolved = await h.call('resolve_case', {
      id: String(c.incidentid),
      resolution: 'Answered',
      status: 'resolved',
    });
    expect(resolved.isError, textOf(resolved)).toBeFalsy();
    expect(caseRow(c.incidentid)).toMatchObject({ statecode: 1, statuscode: 5 });
  });

  it('a case given by its case number, as support quotes it, is that case: resolved, read, noted, updated', async () => {
    const c = await openCase();
    const number = String(c.ticketnumber);
    expect(number).toMatch(/^CAS-\d{5}-[A-Z0-9]{6}$/);
    const read = await h.call('get_record', { entity: 'incident', id: number, select: ['title'] });
    expect(read.isError, textOf(read)).toBeFalsy();
    expect(read.structuredContent).toMatchObject({ id: c.incidentid, record: { title: c.title } });
    const noted = await h.call('add_note', { entity: 'incident', id: number, text: 'Customer called back' });
    expect(noted.isError, textOf(noted)).toBeFalsy();
    expect(noted.structuredContent.record).toMatchObject({ entity: 'incident', id: c.incidentid });
    const raised = await h.call('update_record', { entity: 'incident', id: number, values: { prioritycode: 'High' } });
    expect(raised.isError, textOf(raised)).toBeFalsy();
    expect(caseRow(c.incidentid).prioritycode).toBe(1);
    const r = await h.call('resolve_case', { id: ` ${number.toLowerCase()} `, resolution: 'Reset the password' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ id: c.incidentid, resolved: true });
    expect(resolutionsOf(c.incidentid).map((x) => x.subject)).toEqual(['Reset the password']);
    // a number no case has, or a number for a table that has none, is refused, and nothing is sent
    const since = emu.requests().length;
    const counts = [emu.rows('incidentresolution').length, emu.rows('account').length];
    const none = await h.call('resolve_case', { id: 'CAS-99999-NOSUCH', resolution: 'x' });
    expect(textOf(none)).toBe(
      'Error (bad_input): No case has the number \'CAS-99999-NOSUCH\'.\nHow to fix: Check the number, or find the case with query_entities (e.g. where {"title": {"contains": "<words from it>"}}) and pass its id.',
    );
    // a number for a table that has none is looked for as a name, which no account has
    const account = await h.call('update_record', { entity: 'account', id: 'ACC-1000', values: { name: 'x' } });
    expect(textOf(account)).toBe(
      'Error (bad_input): id \'ACC-1000\' is neither an account id (GUID) nor the name of an account.\nHow to fix: Find it with query_entities on account (e.g. where {"name": {"contains": "<part of the name>"}}) and pass its id.',
    );
    const words = await h.call('resolve_case', { id: 'the printer case nobody opened', resolution: 'x' });
    expect(textOf(words)).toMatch(
      /^Error \(bad_input\): id 'the printer case nobody opened' is neither an incident id/,
    );
    // (a name no case has is looked for in the other tables, whose metadata is read in a $batch of GETs)
    expect(apiRequests(emu, since).filter((q) => q.method !== 'GET' && !q.url.endsWith('/$batch'))).toEqual([]);
    expect([emu.rows('incidentresolution').length, emu.rows('account').length]).toEqual(counts);
    // a write Dynamics refuses is audited as the case the number was found to be, not as the number
    emu.configure({ role: { privileges: { incident: { read: true, create: true } } } });
    try {
      const refused = await h.call('update_record', {
        entity: 'incident',
        id: number,
        values: { prioritycode: 'Low' },
      });
      expect(textOf(refused)).toContain('prvWriteIncident');
      expect(await audit.last()).toMatchObject({ tool: 'update_record', entity: 'incident', id: c.incidentid });
    } finally {
      await emu.reset();
    }
  });

  it('a case number said without its random part (CAS-01030 for CAS-01030-X1Y2Z3) is the case whose number begins so', async () => {
    const c = await openCase();
    const sequence = String(c.ticketnumber).split('-').slice(0, 2).join('-');
    const read = await h.call('get_record', { id: sequence, select: ['title'] });
    expect(read.isError, textOf(read)).toBeFalsy();
    expect(read.structuredContent).toMatchObject({ entity: 'incident', id: c.incidentid, record: { title: c.title } });
    const r = await h.call('resolve_case', { id: sequence.toLowerCase(), resolution: 'Replaced the cable' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(resolutionsOf(c.incidentid).map((x) => x.subject)).toEqual(['Replaced the cable']);
    // the start of a number that is not a whole part of it is no case: CAS-0103 is not CAS-01030-…
    const cut = await h.call('resolve_case', { id: sequence.slice(0, -1), resolution: 'x' });
    expect(textOf(cut)).toMatch(
      new RegExp(`^Error \\(bad_input\\): No case has the number '${sequence.slice(0, -1)}'\\.`),
    );
    // where an organisation's numbers share a start, the ones that begin so are listed, not one picked
    // (written as an organisation's import would: with the number, which the tools never write)
    const incident = DEFAULT_POLICY.entities.incident!;
    const { client } = clientFor(emu, {
      policy: {
        ...DEFAULT_POLICY,
        entities: {
          ...DEFAULT_POLICY.entities,
          incident: { ...incident, write: [...incident.write!, 'ticketnumber'] },
        },
      },
    });
    const customer = { entity: 'account', id: String(emu.rows('account')[0]!.accountid) };
    const made = [];
    for (const ticketnumber of ['TKT-77-B2', 'TKT-77-A1'])
      made.push(
        await client.create('incident', { title: `Shared start ${ticketnumber}`, ticketnumber, customerid: customer }),
      );
    const several = await h.call('get_record', { id: 'TKT-77' });
    expect(textOf(several)).toBe(
      `Error (bad_input): 2 cases have a number that begins 'TKT-77': TKT-77-A1 (${made[1]!.id}), TKT-77-B2 (${made[0]!.id}).\nHow to fix: Pass the whole number or the id of the one you mean.`,
    );
    const whole = await h.call('get_record', { entity: 'incident', id: 'tkt-77-b2', select: ['title'] });
    expect(whole.structuredContent).toMatchObject({ id: made[0]!.id, record: { title: 'Shared start TKT-77-B2' } });
  });

  it('a cancelled case is refused, a missing one is not found; nothing is sent', async () => {
    const cancelled = emu.rows('incident').find((x) => x.statecode === 2)!;
    const since = emu.requests().length;
    const r = await h.call('resolve_case', { id: String(cancelled.incidentid), resolution: 'x' });
    expect(textOf(r)).toBe(
      `Error (bad_input): Case ${cancelled.ticketnumber} is cancelled, not open: a cancelled case cannot be resolved.\nHow to fix: Only if the user wants it reopened: update_record with {"statecode": "Active"} first, then resolve it; otherwise leave it cancelled.`,
    );
    const missing = await h.call('resolve_case', { id: '00000000-0000-4000-8000-00000000abcd', resolution: 'x' });
    expect(textOf(missing)).toMatch(
      /^Error \(not_found\): No incident with the id 00000000-0000-4000-8000-00000000abcd/,
    );
    expect(closes(since)).toEqual([]);
    expect(resolutionsOf(cancelled.incidentid)).toEqual([]);
    // where the policy keeps the case's state from this server, the way back is Dynamics itself
    const policy = builtInPolicyWith('no-case-states', (e) => ({
      ...e,
      incident: { ...e.incident!, write: e.incident!.write!.filter((c) => c !== 'statecode' && c !== 'statuscode') },
    }));
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    try {
      const kept = await strict.call('resolve_case', { id: String(cancelled.incidentid), resolution: 'x' });
      expect(textOf(kept)).toMatch(/How to fix: Reactivate it in Dynamics first, or leave it cancelled\.$/);
    } finally {
      await strict.close();
    }
    expect(closes(since)).toEqual([]);
  });

  it('a policy that does not let resolutions be written refuses it before anything is sent; read-only does not list it', async () => {
    const policy = builtInPolicyWith('no-resolutions', ({ incidentresolution: _left, ...entities }) => entities);
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    try {
      const c = await openCase();
      const since = emu.requests().length;
      const r = await strict.call('resolve_case', { id: String(c.incidentid), resolution: 'x' });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/^Error \(policy\): .*incidentresolution/);
      // said before the case is looked for: a number no case has gets the same answer, and the case is not read
      const unknown = await strict.call('resolve_case', { id: 'CAS-99999-NOSUCH', resolution: 'x' });
      expect(textOf(unknown)).toBe(textOf(r));
      expect(apiRequests(emu, since).filter((q) => q.url.startsWith('/api/data/v9.2/incidents'))).toEqual([]);
      expect(closes(since)).toEqual([]);
      expect(caseRow(c.incidentid).statecode).toBe(0);
    } finally {
      await strict.close();
    }
    const readOnly = await connectInMemory(emu, { env: { DYNAMICS_MCP_READ_ONLY: 'true' } });
    try {
      const names = (await readOnly.client.listTools()).tools.map((t) => t.name);
      expect(names).not.toContain('resolve_case');
    } finally {
      await readOnly.close();
    }
  });

  it("a policy that hides the case's number and title still resolves it; one that hides its state is refused first", async () => {
    const withRead = (read: string[]) => {
      const file = builtInPolicyWith(`case-read-${read.length}`, (e) => ({ ...e, incident: { ...e.incident!, read } }));
      return connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: file } });
    };
    const noNumber = await withRead(['incidentid', 'customerid', 'statecode', 'statuscode']);
    try {
      const c = await openCase();
      const r = await noNumber.call('resolve_case', { id: String(c.incidentid), resolution: 'Fixed' });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent).not.toHaveProperty('ticketnumber');
      expect(r.structuredContent.title).toBe(c.incidentid);
      expect(textOf(r)).toBe(`Resolved case ${c.incidentid} (Problem Solved (5)).`);
    } finally {
      await noNumber.close();
    }
    const noState = await withRead(['incidentid', 'title', 'customerid']);
    try {
      const c = await openCase();
      const since = emu.requests().length;
      const r = await noState.call('resolve_case', { id: String(c.incidentid), resolution: 'Fixed' });
      expect(textOf(r)).toMatch(/^Error \(bad_input\): resolve_case reads a case's state \(statecode\) first/);
      // (the new server's metadata reads aside) neither the case nor the action
      expect(
        apiRequests(emu, since)
          .map((q) => q.url)
          .filter((u) => /incidents\(|CloseIncident/.test(u)),
      ).toEqual([]);
    } finally {
      await noState.close();
    }
  });

  it('asks the user first where the policy has writes to cases confirmed; declined, nothing is sent', async () => {
    const policy = builtInPolicyWith('confirm-resolve', (e) => ({
      ...e,
      incident: { ...e.incident, confirmWrites: true },
    }));
    const { h: c, asked, user } = await connectAsking(emu, { DYNAMICS_MCP_POLICY: policy });
    try {
      const open = await openCase();
      const since = emu.requests().length;
      const declined = await c.call('resolve_case', { id: String(open.incidentid), resolution: 'Rebooted' });
      expect(declined.isError, textOf(declined)).toBeFalsy();
      expect(declined.structuredContent).toMatchObject({ resolved: false, existing: false, status: 'In Progress (1)' });
      expect(textOf(declined)).toBe('Not resolved: the user chose "decline".');
      expect(asked).toEqual([`Resolve case ${open.ticketnumber} "${open.title}" as Problem Solved (5): "Rebooted"?`]);
      expect(closes(since)).toEqual([]);
      user.choice = 'accept';
      const accepted = await c.call('resolve_case', { id: String(open.incidentid), resolution: 'Rebooted' });
      expect(accepted.structuredContent).toMatchObject({ resolved: true, existing: false });
      expect(resolutionsOf(open.incidentid)).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it('an application user whose role lacks the activity Create privilege is told which one (prvCreateActivity)', async () => {
    const privileges = Object.fromEntries(
      ['account', 'contact', 'lead', 'opportunity', 'incident', 'annotation', 'incidentresolution', 'systemuser'].map(
        (t) => [t, { read: true, create: t !== 'incidentresolution', write: true, append: true, appendTo: true }],
      ),
    );
    emu.configure({ role: { privileges } });
    try {
      const c = await openCase();
      const r = await h.call('resolve_case', { id: String(c.incidentid), resolution: 'x' });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('prvCreateActivity');
      expect(caseRow(c.incidentid).statecode).toBe(0);
    } finally {
      await emu.reset();
    }
  });

  // Dynamics closes a case only once its activities are (ERRCODES 0x8004440a, 0x8004440e): its Resolve Case dialog
  // asks the user and cancels them; here the refusal names them and the update that closes each, and nothing is
  // closed unasked
  it('a case with an open task is not resolved: the answer names the task and the update that closes it; done, the case resolves', async () => {
    const c = await openCase();
    const task = await h.call('create_record', {
      entity: 'task',
      values: {
        subject: 'Call the customer back',
        regardingobjectid: String(c.ticketnumber),
        scheduledend: '2027-01-15',
      },
    });
    expect(task.isError, textOf(task)).toBeFalsy();
    const taskId = String(task.structuredContent.id);
    const r = await h.call('resolve_case', { id: String(c.ticketnumber), resolution: 'Replaced the router' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe(
      `Error (validation): Dynamics did not resolve case ${c.ticketnumber} "${c.title}": a case is resolved only once every activity regarding it is completed or canceled, and one is still open: task "Call the customer back" (due 2027-01-15) ${taskId}. Nothing was changed.\n` +
        `How to fix: Ask the user whether each was done (completed) or is no longer to be done (canceled), as Dynamics' Resolve Case dialog does; close them as they say: update_record {"entity": "task", "id": "${taskId}", "values": {"statecode": "Completed"}} (or "Canceled"); then call resolve_case again.`,
    );
    expect(caseRow(c.incidentid).statecode).toBe(0);
    expect(resolutionsOf(c.incidentid)).toEqual([]);
    expect(emu.rows('task').find((x) => x.activityid === taskId)!.statecode).toBe(0);
    // the update as the answer writes it, then the resolution again
    const update = JSON.parse(/close them as they say: update_record (\{.*?\}\}) \(or/.exec(textOf(r))![1]!);
    const done = await h.call('update_record', update);
    expect(done.isError, textOf(done)).toBeFalsy();
    const again = await h.call('resolve_case', { id: String(c.ticketnumber), resolution: 'Replaced the router' });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(caseRow(c.incidentid).statecode).toBe(1);
    expect(resolutionsOf(c.incidentid).map((x) => x.subject)).toEqual(['Replaced the router']);
  });

  it("a case with open activities is not cancelled either: each table's in one update, and what the policy cannot close said", async () => {
    const c = await openCase();
    const regarding = String(c.ticketnumber);
    const tasks = await h.call('create_record', {
      entity: 'task',
      values: [
        { subject: 'Ask for the logs', regardingobjectid: regarding },
        { subject: 'Check the firmware', regardingobjectid: regarding },
      ],
    });
    expect(tasks.isError, textOf(tasks)).toBeFalsy();
    const draft = await h.call('create_record', {
      entity: 'email',
      values: { subject: 'Your case', description: 'We are on it.', regardingobjectid: regarding },
    });
    expect(draft.isError, textOf(draft)).toBeFalsy();
    const taskIds = emu
      .rows('task')
      .filter((t) => (t.regardingobjectid as { id: string } | null)?.id === c.incidentid)
      .map((t) => String(t.activityid));
    expect(taskIds).toHaveLength(2);
    const r = await h.call('update_record', { entity: 'incident', id: regarding, values: { statecode: 'Canceled' } });
    expect(r.isError).toBe(true);
    const text = textOf(r);
    expect(text).toContain(
      `Dynamics did not cancel case ${regarding} (${c.incidentid}): a case is cancelled only once`,
    );
    expect(text).toContain('3 are still open: ');
    expect(text).toContain('task "Ask for the logs"');
    expect(text).toContain(`email "Your case" ${draft.structuredContent.id}`);
    // the two tasks in one update; the draft's state is not this server's to change under the built-in policy
    const update = JSON.parse(/update_record (\{"entity": "task".*?\}\}) \(or/.exec(text)![1]!);
    expect({ ...update, id: [...update.id].sort() }).toEqual({
      entity: 'task',
      id: [...taskIds].sort(),
      values: { statecode: 'Completed' },
    });
    expect(text).toContain("in Dynamics for the email (this server's policy does not change an email's state)");
    expect(text).toContain('then cancel the case again.');
    expect(caseRow(c.incidentid).statecode).toBe(0);
  });

  it('where the policy does not show activities, the refusal still says why and how to go on, without naming them', async () => {
    const policy = builtInPolicyWith('no-activity-list', (e) => {
      const { activitypointer: _hidden, ...rest } = e;
      return rest;
    });
    const narrow = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy, LOG_LEVEL: 'warn' } });
    try {
      const c = await openCase();
      const task = await h.call('create_record', {
        entity: 'task',
        values: { subject: 'Send the replacement', regardingobjectid: String(c.ticketnumber) },
      });
      expect(task.isError, textOf(task)).toBeFalsy();
      const r = await narrow.call('resolve_case', { id: String(c.incidentid), resolution: 'Sent a new unit' });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(
        `Dynamics did not resolve case ${c.ticketnumber} "${c.title}": it has open activities (tasks, calls, emails or meetings regarding it), and a case is resolved only once every activity regarding it is completed or canceled. Nothing was changed.`,
      );
      expect(textOf(r)).toContain("the case's Timeline in Dynamics lists them");
      expect(textOf(r)).not.toContain('activitypointer');
      expect(caseRow(c.incidentid).statecode).toBe(0);
    } finally {
      await narrow.close();
    }
  });
});
