import { describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { hasOpenActivities } from '../helpers/emulator.js';
import {
  auditLog,
  builtInPolicyWith,
  connectAsking,
  type McpHarness,
  serveWithAuditLog,
  textOf,
} from '../helpers/mcp.js';

// update_record with a list of ids: "move these deals' close dates to the end of next month", "give Bob's open
// leads to Alice": the same change to each record, one call instead of one per record, each record changed
// as update_record changes one.
describe('update_record with a list of ids: the same change to each record', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const audit = auditLog('many-records');
  type Row = Record<string, any>;
  const deals = () => emu.rows('opportunity') as Row[];
  const deal = (id: string) => deals().find((o) => o.opportunityid === id)!;
  const used = new Set<string>();
  /** open deals no test has used yet */
  const openDeals = (n: number) => {
    const out = deals()
      .filter((o) => o.statecode === 0 && !used.has(o.opportunityid))
      .slice(0, n);
    for (const o of out) used.add(o.opportunityid);
    return out;
  };
  serveWithAuditLog(audit, (e, harness) => {
    emu = e;
    h = harness;
  });

  it("changes each record, given by id or by name, says each one's before, and keeps a closed one as Dynamics keeps it while the others change", async () => {
    const [a, b, c] = openDeals(3) as [Row, Row, Row];
    const won = deals().find((o) => o.statecode === 1)!;
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: [a.opportunityid, b.name, won.opportunityid, c.opportunityid],
      values: { estimatedclosedate: '2027-01-29', closeprobability: 40 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    for (const o of [a, b, c])
      expect(deal(o.opportunityid)).toMatchObject({ estimatedclosedate: '2027-01-29', closeprobability: 40 });
    // a won deal is read-only in Dynamics until reopened: left as it was, and said why
    expect(deal(won.opportunityid)).toMatchObject({
      estimatedclosedate: won.estimatedclosedate,
      closeprobability: won.closeprobability,
    });
    const records = r.structuredContent.records as Row[];
    expect(records.map((x) => [x.id, x.updated ?? null])).toEqual([
      [a.opportunityid, true],
      [b.opportunityid, true],
      [won.opportunityid, null],
      [c.opportunityid, true],
    ]);
    expect(records[2]!.error).toContain('This opportunity is Won');
    const text = textOf(r);
    expect(text.split('\n')[0]).toBe('Updated 3 of 4 records; 1 refused (numbered in the order given).');
    expect(text).toContain(`\nNot updated:\n3. ${won.opportunityid}: Error (bad_input): This opportunity is Won`);
    // each named back with what it held before, as one update says it
    expect(text).toContain(
      `\n2. Updated opportunity "${b.name}" (${b.opportunityid}): {"estimatedclosedate":"2027-01-29","closeprobability":40}; before: `,
    );
    // each change audited as one update's is
    const entries = await audit.all();
    for (const o of [a, b, c])
      expect(entries.filter((e) => e.id === o.opportunityid && e.action === 'update' && !e.outcome)).toHaveLength(1);
    // the changes and the refusal of one call name it alike: with `previous`, what reverses the call
    const ofCall = entries.filter((e) => [a, b, c, won].some((o) => o.opportunityid === e.id));
    expect(new Set(ofCall.map((e) => e.call)).size).toBe(1);
    expect(ofCall.find((e) => e.id === won.opportunityid)?.outcome).toMatch(/^refused by Dynamics/);
    expect(ofCall.find((e) => e.id === a.opportunityid)?.previous).toMatchObject({
      closeprobability: a.closeprobability,
    });
    // the same call again: nothing new to write, each said to hold the values already
    const again = await h.call('update_record', {
      entity: 'opportunity',
      id: [a.opportunityid, c.opportunityid],
      values: { estimatedclosedate: '2027-01-29', closeprobability: 40 },
    });
    expect(textOf(again)).toContain('; it already had these values');
    // a list of one is counted as one
    const single = await h.call('update_record', {
      entity: 'opportunity',
      id: [a.opportunityid],
      values: { closeprobability: 41 },
    });
    expect(textOf(single).split('\n')[0]).toBe('Updated 1 of 1 record (numbered in the order given).');
  });

  it("a state change goes to each by Dynamics' own action: several deals lost at once, each with its Opportunity Close", async () => {
    const lost = openDeals(2);
    const closes = emu.rows('opportunityclose').length;
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: lost.map((o) => o.opportunityid),
      values: { statecode: 'Lost', description: 'Budget moved to next year' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    for (const o of lost) expect(deal(o.opportunityid).statecode).toBe(2);
    expect(emu.rows('opportunityclose')).toHaveLength(closes + 2);
  });

  it("a list is checked whole before anything is sent: a version (etag) is one record's, a record twice is refused, and so is an empty list", async () => {
    const [a] = openDeals(1) as [Row];
    const since = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: [a.opportunityid, a.opportunityid.toUpperCase()],
      values: { closeprobability: 10 },
      etag: 'W/"1"',
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain("etag is one record's version: with a list of ids, leave it out");
    expect(textOf(r)).toContain(`id[1] is listed twice (${a.opportunityid.toUpperCase()}): give each record once.`);
    const none = await h.call('update_record', { entity: 'opportunity', id: [], values: { closeprobability: 10 } });
    expect(textOf(none)).toContain('id is an empty list: give the records to change.');
    const many = await h.call('update_record', {
      entity: 'opportunity',
      id: Array.from({ length: 51 }, (_, k) => `Deal ${k}`),
      values: { closeprobability: 10 },
    });
    expect(textOf(many)).toContain('id takes at most 50 records a call: send the rest in another call.');
    expect(emu.requests().length).toBe(since);
  });

  it('create_record with a list: products added to a deal in one call, each priced as one alone is; one not in the catalogue is refused with the way on; the call again adds none', async () => {
    const [dealRow] = openDeals(1) as [Row];
    const sellable = (emu.rows('product') as Row[]).filter((p) => p.statecode === 0).slice(0, 2);
    const linesOf = () =>
      (emu.rows('opportunityproduct') as Row[]).filter(
        (l) => (l.opportunityid as { id: string }).id === dealRow.opportunityid,
      );
    const before = linesOf().length;
    const values = [
      { opportunityid: dealRow.opportunityid, productid: sellable[0]!.name, quantity: 3 },
      { opportunityid: dealRow.opportunityid, productid: 'No Such Product Zz', quantity: 1 },
      { opportunityid: dealRow.opportunityid, productid: sellable[1]!.name, quantity: 2 },
      { opportunityid: dealRow.opportunityid, productdescription: 'Onsite workshop', priceperunit: 1500, quantity: 2 },
    ];
    const r = await h.call('create_record', { entity: 'opportunityproduct', values });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(linesOf()).toHaveLength(before + 3);
    const records = r.structuredContent.records as Row[];
    expect(records.map((x) => (x.error ? 'error' : x.duplicate))).toEqual([false, 'error', false, false]);
    const text = textOf(r);
    expect(text.split('\n')[0]).toBe('Created 3 of 4 records; 1 refused (numbered in the order given).');
    expect(text).toContain('\nNot created:\n2. "No Such Product Zz": Error (bad_input): ');
    expect(text).toContain('add it as a write-in instead');
    // each line priced by Dynamics, as one line alone says it
    expect(text.match(/Priced by Dynamics: /g)).toHaveLength(3);
    // again: each line found on the deal, none added
    const again = await h.call('create_record', { entity: 'opportunityproduct', values: [values[0], values[2]] });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(textOf(again).split('\n')[0]).toBe(
      'Created 0 of 2 records; 2 were there already (numbered in the order given).',
    );
    expect(linesOf()).toHaveLength(before + 3);
  });

  it('create_record with a list: the same task twice in it is made once, from the first, and a list with a mistake is refused whole', async () => {
    const account = (emu.rows('account') as Row[])[5]!;
    const task = {
      subject: 'Send the renewal quote',
      regardingobjectid: account.accountid,
      scheduledend: '2027-01-15',
    };
    const r = await h.call('create_record', {
      entity: 'task',
      values: [
        task,
        { subject: 'Book the kick-off', regardingobjectid: account.accountid },
        { ...task, description: 'again' },
      ],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const tasks = (emu.rows('task') as Row[]).filter((t) => t.subject === 'Send the renewal quote');
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.description ?? null).toBeNull();
    expect((r.structuredContent.records as Row[]).map((x) => x.duplicate)).toEqual([false, false, true]);
    expect(r.structuredContent.records[2].id).toBe(tasks[0]!.activityid);
    const since = emu.requests().length;
    const bad = await h.call('create_record', {
      entity: 'task',
      values: [{ subject: 'Fine' }, 'not a record', { subject: 'Also fine' }],
    });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain('values[1]');
    expect(emu.requests().length).toBe(since);
    const none = await h.call('create_record', { entity: 'task', values: [] });
    expect(textOf(none)).toContain('values is an empty list: give the records, or one record.');
    const many = await h.call('create_record', {
      entity: 'task',
      values: Array.from({ length: 51 }, (_, k) => ({ subject: `Task ${k}` })),
    });
    expect(textOf(many)).toContain('values takes at most 50 records a call: send the rest in another call.');
    expect(emu.requests().length).toBe(since);
  });

  it('resolve_case with a list: each open case resolved once with the same resolution; one resolved already is said, a cancelled one refused while the others go; the call again writes no second resolution', async () => {
    const cases = () => emu.rows('incident') as Row[];
    const state = (id: string) => cases().find((c) => c.incidentid === id)!.statecode;
    const resolutions = (id: string) =>
      (emu.rows('incidentresolution') as Row[]).filter((x) => x.incidentid?.id === id);
    const [one, two] = cases().filter((c) => c.statecode === 0 && !hasOpenActivities(emu, c.incidentid));
    const done = cases().find((c) => c.statecode === 1)!;
    const cancelled = cases().find((c) => c.statecode === 2)!;
    const before = resolutions(done.incidentid).length;
    // by id and by case number, as support quotes them
    const given = [one!.incidentid, two!.ticketnumber, done.incidentid, cancelled.incidentid];
    const r = await h.call('resolve_case', { id: given, resolution: 'Fixed by the 4.2 release' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const text = textOf(r);
    expect(text.split('\n')[0]).toBe(
      'Resolved 2 of 4 cases; 1 resolved already; 1 refused (numbered in the order given).',
    );
    expect(text).toContain(
      `\nNot resolved:\n4. ${cancelled.incidentid}: Error (bad_input): Case ${cancelled.ticketnumber} is cancelled, not open`,
    );
    expect(text).toContain(`\n2. Resolved case ${two!.ticketnumber} "${two!.title}" (Problem Solved (5)).`);
    expect(text).toContain(`\nResolved already (nothing changed):\n3. The case ${done.ticketnumber}`);
    expect(r.structuredContent.records).toEqual([
      { id: one!.incidentid, resolved: true },
      { id: two!.incidentid, resolved: true },
      { id: done.incidentid, resolved: true, existing: true },
      { id: cancelled.incidentid, error: expect.stringContaining('is cancelled, not open') },
    ]);
    for (const c of [one!, two!]) {
      expect(state(c.incidentid)).toBe(1);
      expect(resolutions(c.incidentid).map((x) => x.subject)).toEqual(['Fixed by the 4.2 release']);
    }
    expect(resolutions(done.incidentid)).toHaveLength(before);
    expect(state(cancelled.incidentid)).toBe(2);
    const entries = (await audit.all()).filter((e) => e.action === 'resolve' && given.includes(String(e.id)));
    expect(new Set(entries.map((e) => e.call)).size).toBe(1);
    // the same call again (a model unsure it was done): each is resolved already, none twice
    const again = await h.call('resolve_case', { id: given.slice(0, 3), resolution: 'Fixed by the 4.2 release' });
    expect(textOf(again).split('\n')[0]).toBe(
      'Resolved 0 of 3 cases; 3 resolved already (numbered in the order given).',
    );
    for (const c of [one!, two!]) expect(resolutions(c.incidentid)).toHaveLength(1);
  });

  it('a list every record of which Dynamics refuses alike is one error, and the audit log has each refusal once, by its record', async () => {
    const two = openDeals(2);
    const ids = two.map((o) => o.opportunityid as string);
    emu.addFault({
      match: { method: 'PATCH', path: '/api/data/v9.2/opportunities(' },
      response: { status: 400, body: { error: { code: '0x80040203', message: 'Invalid argument.' } } },
      times: 2,
    });
    const r = await h.call('update_record', { entity: 'opportunity', id: ids, values: { closeprobability: 61 } });
    emu.clearFaults();
    expect(textOf(r)).toMatch(/^Error \(\w+\): None of the 2 records was updated: /);
    const refusals = (await audit.all()).filter((e) => e.outcome && ids.some((id) => String(e.id).includes(id)));
    expect(refusals.map((e) => e.id).sort()).toEqual([...ids].sort());
    for (const o of two) expect(deal(o.opportunityid).closeprobability).toBe(o.closeprobability);
  });

  it('where the policy asks first, the user is asked once for the list, and a decline changes none of them', async () => {
    const policy = builtInPolicyWith('many-confirm', (e) => ({
      ...e,
      opportunity: { ...e.opportunity!, confirmWrites: true },
    }));
    const asking = await connectAsking(emu, { DYNAMICS_MCP_POLICY: policy, DYNAMICS_MCP_AUDIT_LOG: audit.path });
    try {
      const three = openDeals(3);
      const ids = three.map((o) => o.opportunityid as string);
      const declined = await asking.h.call('update_record', {
        entity: 'opportunity',
        id: ids,
        values: { closeprobability: 77 },
      });
      expect(asking.asked).toHaveLength(1);
      expect(asking.asked[0]).toMatch(
        /^The same change to 3 records; the first: Update opportunity [0-9a-f-]{36}: closeprobability = 77\?/,
      );
      expect(asking.asked[0]).toContain('(Your answer is for all 3.)');
      expect(textOf(declined)).toBe('Not updated: the user chose "decline" for all 3 records; none was changed.');
      for (const o of three) expect(deal(o.opportunityid).closeprobability).toBe(o.closeprobability);
      asking.user.choice = 'accept';
      const accepted = await asking.h.call('update_record', {
        entity: 'opportunity',
        id: ids,
        values: { closeprobability: 77 },
      });
      expect(asking.asked).toHaveLength(2);
      expect(textOf(accepted).split('\n')[0]).toBe('Updated 3 of 3 records (numbered in the order given).');
      for (const o of three) expect(deal(o.opportunityid).closeprobability).toBe(77);
    } finally {
      await asking.h.close();
    }
  });
});
