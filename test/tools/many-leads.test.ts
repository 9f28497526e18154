import { describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { auditLog, type McpHarness, serveWithAuditLog, textOf } from '../helpers/mcp.js';

// create_lead's "leads": the people met at a trade show, or a spreadsheet's rows, captured in one call, where one
// call per person is one approval per person in clients that ask before each call. Each lead is checked as one is.
describe('create_lead with "leads": several leads in one call, each as one would be made', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const audit = auditLog('many-leads');
  type Row = Record<string, any>;
  const leadsWith = (email: string) =>
    (emu.rows('lead') as Row[]).filter((l) => String(l.emailaddress1 ?? '').toLowerCase() === email.toLowerCase());
  serveWithAuditLog(audit, (e, harness) => {
    emu = e;
    h = harness;
  });

  it("a booth's list: what is given beside the leads applies to each, each lead's own wins, a person twice is made once, and the call again makes none", async () => {
    const args = {
      source: 'Trade Show',
      subject: 'Expo 2026 booth',
      extra: { jobtitle: 'Buyer', address1_city: 'Seattle' },
      leads: [
        { firstName: 'Ama', lastName: 'Boateng', email: 'ama.boateng@fabrikam.example', company: 'Fabrikam' },
        {
          firstName: 'Bo',
          lastName: 'Chen',
          email: 'bo.chen@northwind.example',
          company: 'Northwind',
          subject: 'Wants a demo',
          extra: { jobtitle: 'CTO' },
        },
        { firstName: 'Cyra', lastName: 'Diaz', phone: '+1 555 0101', company: 'Diaz Farms' },
        // the same person, written again further down the list
        { firstName: 'Ama', lastName: 'Boateng', email: 'AMA.BOATENG@fabrikam.example' },
      ],
    };
    const r = await h.call('create_lead', args);
    expect(r.isError, textOf(r)).toBeFalsy();
    const [ama] = leadsWith('ama.boateng@fabrikam.example');
    const [bo] = leadsWith('bo.chen@northwind.example');
    const cyra = (emu.rows('lead') as Row[]).filter((l) => l.lastname === 'Diaz' && l.companyname === 'Diaz Farms');
    expect(leadsWith('ama.boateng@fabrikam.example')).toHaveLength(1);
    expect(cyra).toHaveLength(1);
    // shared: the source, the subject and extra; a lead's own subject and extra column win over them
    // the person twice: made from the first line (its company), the second finding it
    expect(ama).toMatchObject({
      companyname: 'Fabrikam',
      leadsourcecode: 7,
      subject: 'Expo 2026 booth',
      jobtitle: 'Buyer',
      address1_city: 'Seattle',
    });
    expect(bo).toMatchObject({ leadsourcecode: 7, subject: 'Wants a demo', jobtitle: 'CTO', address1_city: 'Seattle' });
    expect(cyra[0]).toMatchObject({ telephone1: '+1 555 0101', subject: 'Expo 2026 booth' });
    // each lead's outcome, in the order given; the repeat is the lead made for its first line
    expect(r.structuredContent).toEqual({
      leads: [
        { id: ama!.leadid, duplicate: false },
        { id: bo!.leadid, duplicate: false },
        { id: cyra[0]!.leadid, duplicate: false },
        { id: ama!.leadid, duplicate: true },
      ],
    });
    const text = textOf(r);
    expect(text.split('\n')[0]).toBe(
      'Created 3 of 4 leads; 1 was there already and not created again (numbered in the order given).',
    );
    expect(text).toContain(`\n2. Created lead "Bo Chen" (${bo!.leadid}).\n`);
    expect(text).toContain(`\n4. A lead with this email already exists (${ama!.leadid}); it was not created again.\n`);
    // said once for the list, not once a lead
    expect(text.match(/application user/g)).toHaveLength(1);
    // each lead made is audited as a single one is
    const made = (await audit.all()).filter((e) => e.action === 'create' && !e.outcome);
    for (const id of [ama!.leadid, bo!.leadid, cyra[0]!.leadid])
      expect(made.filter((e) => e.id === id)).toHaveLength(1);
    // one call: its entries name it alike (what an administrator reviews, or reverses, together)
    const ids = [ama!.leadid, bo!.leadid, cyra[0]!.leadid];
    const calls = new Set(made.filter((e) => ids.includes(e.id)).map((e) => e.call));
    expect(calls.size).toBe(1);
    expect([...calls][0]).toMatch(/^[0-9a-f-]{36}$/);

    // the whole call again (an answer lost, a model repeating itself): every lead found, none made
    const count = emu.rows('lead').length;
    const again = await h.call('create_lead', args);
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(emu.rows('lead')).toHaveLength(count);
    expect((again.structuredContent.leads as Row[]).map((l) => [l.id, l.duplicate])).toEqual([
      [ama!.leadid, true],
      [bo!.leadid, true],
      [cyra[0]!.leadid, true],
      [ama!.leadid, true],
    ]);
    expect(textOf(again).split('\n')[0]).toBe(
      'Created 0 of 4 leads; 4 were there already and not created again (numbered in the order given).',
    );
    // the call again is another call in the audit log: each lead found, under that call's id
    const found = (await audit.all()).filter((e) => ids.includes(e.id) && e.outcome?.startsWith('duplicate'));
    // the first call's own repeat (its fourth line) under the first call; the four of the second under another
    expect(found.filter((e) => calls.has(e.call))).toHaveLength(1);
    const second = found.filter((e) => !calls.has(e.call));
    expect(second).toHaveLength(4);
    expect(new Set(second.map((e) => e.call)).size).toBe(1);
  });

  it("allowDuplicate beside the list goes to each lead that does not say otherwise; a lead's extra sent as text still gets the list's", async () => {
    const first = await h.call('create_lead', {
      leads: [
        { lastName: 'Twice', email: 'twice@again.example' },
        { lastName: 'Once', email: 'once@again.example' },
      ],
    });
    expect(first.isError, textOf(first)).toBeFalsy();
    const r = await h.call('create_lead', {
      allowDuplicate: true,
      extra: { address1_city: 'Oslo' },
      leads: [
        // a client that sends objects as JSON text (see support/args.ts)
        { lastName: 'Twice', email: 'twice@again.example', extra: '{"jobtitle": "Buyer"}' },
        { lastName: 'Once', email: 'once@again.example', allowDuplicate: false },
      ],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(leadsWith('twice@again.example')).toHaveLength(2);
    expect(leadsWith('once@again.example')).toHaveLength(1);
    expect((r.structuredContent.leads as Row[]).map((l) => l.duplicate)).toEqual([false, true]);
    const made = leadsWith('twice@again.example').find((l) => l.leadid === (r.structuredContent.leads as Row[])[0]!.id);
    expect(made).toMatchObject({ jobtitle: 'Buyer', address1_city: 'Oslo' });
  });

  it('an owner given by name beside the list is the same user for each lead, and said once; one lead of its own owner is said on its line', async () => {
    const [alex, other] = (emu.rows('systemuser') as Row[]).filter((u) => u.title && u.fullname);
    const r = await h.call('create_lead', {
      extra: { ownerid: alex!.fullname },
      leads: [
        { lastName: 'Owned1', email: 'owned1@owners.example' },
        { lastName: 'Owned2', email: 'owned2@owners.example' },
      ],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    for (const e of ['owned1@owners.example', 'owned2@owners.example'])
      expect((leadsWith(e)[0]!.ownerid as { id: string }).id).toBe(alex!.systemuserid);
    const text = textOf(r);
    expect(text.match(/Owner: /g)).toHaveLength(1);
    expect(text).toContain(`\nEach lead created: Owner: ${alex!.fullname} (systemuser).`);
    // one lead given to someone else: each says its own
    const mixed = await h.call('create_lead', {
      extra: { ownerid: alex!.fullname },
      leads: [
        { lastName: 'Owned3', email: 'owned3@owners.example' },
        { lastName: 'Owned4', email: 'owned4@owners.example', extra: { ownerid: other!.fullname } },
      ],
    });
    expect(mixed.isError, textOf(mixed)).toBeFalsy();
    expect(textOf(mixed)).toContain(
      `(${leadsWith('owned4@owners.example')[0]!.leadid}). Owner: ${other!.fullname} (systemuser).`,
    );
    expect(textOf(mixed)).not.toContain('Each lead created');
  });

  // COMPOSE (shared/reference/dataverse-webapi.md §7): a plug-in's refusal is a 400 with 0x80040265; it is about
  // that record, so the others still go
  it('a lead Dynamics refuses is said with why and how to fix it; the others are still made', async () => {
    const plugin = 'Leads from free mail domains need a company.';
    emu.addFault({
      match: { method: 'PATCH', path: '/api/data/v9.2/leads(' },
      response: { status: 400, body: { error: { code: '0x80040265', message: plugin } } },
      times: 1,
    });
    const people = ['Ines Varga', 'Jon Kim', 'Kai Lund', 'Lia Moss', 'Max Noor'].map((n) => {
      const [firstName, lastName] = n.split(' ') as [string, string];
      return { firstName, lastName, email: `${firstName.toLowerCase()}@refused.example` };
    });
    const r = await h.call('create_lead', { leads: people });
    expect(r.isError, textOf(r)).toBeFalsy();
    const outcomes = r.structuredContent.leads as Row[];
    const refused = outcomes.flatMap((o, i) => (o.error ? [i] : []));
    expect(refused).toHaveLength(1);
    const i = refused[0]!;
    expect(outcomes[i]!.error).toContain(plugin);
    expect(leadsWith(people[i]!.email)).toHaveLength(0);
    for (const [k, p] of people.entries())
      if (k !== i) expect(leadsWith(p.email).map((l) => l.leadid)).toEqual([outcomes[k]!.id]);
    const text = textOf(r);
    expect(text.split('\n')[0]).toBe('Created 4 of 5 leads; 1 was refused (numbered in the order given).');
    expect(text).toContain(
      `\nNot created:\n${i + 1}. ${people[i]!.firstName} ${people[i]!.lastName} <${people[i]!.email}>: Error (validation): `,
    );
    expect(text).toContain(plugin);
    // the refusal is in the audit log, as a single lead's would be
    expect(
      (await audit.all()).filter((e) => e.outcome?.includes('refused by Dynamics (validation 0x80040265)')),
    ).toHaveLength(1);
    // sent again whole once fixed: the refused lead is made, the others found
    const count = emu.rows('lead').length;
    const again = await h.call('create_lead', { leads: people });
    expect(textOf(again).split('\n')[0]).toBe(
      'Created 1 of 5 leads; 4 were there already and not created again (numbered in the order given).',
    );
    expect(emu.rows('lead')).toHaveLength(count + 1);
  });

  it('a failure about the call (a privilege missing) stops the leads not yet started, which are listed to send again; nothing is made twice', async () => {
    emu.addFault({
      match: { method: 'PATCH', path: '/api/data/v9.2/leads(' },
      response: {
        status: 403,
        body: { error: { code: '0x80040220', message: 'Principal user is missing prvCreateLead privilege.' } },
      },
      times: 1,
    });
    // the creates after it answer late, so the refusal is known before any of them is done: a lead that finished
    // first could otherwise start the next one before the stop was known
    emu.addFault({ match: { method: 'PATCH', path: '/api/data/v9.2/leads(' }, delayMs: 500, times: 11 });
    const people = Array.from({ length: 12 }, (_, k) => ({
      firstName: 'Stop',
      lastName: `Number${k + 1}`,
      email: `stop${k + 1}@halted.example`,
    }));
    const r = await h.call('create_lead', { leads: people });
    expect(r.isError, textOf(r)).toBeFalsy();
    const outcomes = r.structuredContent.leads as Row[];
    const made = outcomes.filter((o) => o.id);
    const skipped = outcomes.filter((o) => o.error?.startsWith('not attempted'));
    expect(outcomes.filter((o) => o.error && !o.error.startsWith('not attempted'))).toHaveLength(1);
    // four at a time: those in flight finish, none starts after the failure
    expect(made.length).toBeLessThanOrEqual(3);
    expect(skipped.length).toBe(11 - made.length);
    expect(people.filter((p) => leadsWith(p.email).length).length).toBe(made.length);
    const text = textOf(r);
    expect(text).toContain('Error (permission): ');
    expect(text).toContain('not attempted, as the call stopped at the failure above (permission).');
    expect(text).toContain('Call create_lead again with the leads not created, once that is fixed');
    // sent again: every lead exactly once
    const again = await h.call('create_lead', { leads: people });
    expect(again.isError, textOf(again)).toBeFalsy();
    for (const p of people) expect(leadsWith(p.email)).toHaveLength(1);
  });

  it('one reason for every lead is said once, as an error', async () => {
    emu.addFault({
      match: { method: 'PATCH', path: '/api/data/v9.2/leads(' },
      response: {
        status: 403,
        body: { error: { code: '0x80040220', message: 'Principal user is missing prvCreateLead privilege.' } },
      },
      times: 50,
    });
    const people = ['Ola', 'Per', 'Quin'].map((n) => ({ lastName: n, email: `${n.toLowerCase()}@denied.example` }));
    const r = await h.call('create_lead', { leads: people });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^Error \(permission\): None of the 3 leads was created: /);
    expect(textOf(r)).toContain('prvCreateLead');
    for (const p of people) expect(leadsWith(p.email)).toHaveLength(0);
  });

  it('a list with a mistake is refused whole, each mistake named by its place, and nothing is made', async () => {
    const count = emu.rows('lead').length;
    const since = emu.requests().length;
    const r = await h.call('create_lead', {
      firstName: 'Top',
      leads: [
        { lastName: 'Ray', fullName: 'Ray Ahn', email: 'ray@mistake.example' },
        { firstName: 'Sol' },
        'Tam Uddin',
        { lastName: 'Ulf', email: 'not an email' },
        { lastName: 'Vik', email: 'vik@mistake.example' },
      ],
    });
    expect(r.isError).toBe(true);
    const text = textOf(r);
    expect(text).toContain(
      `firstName is each lead's own: with "leads", give it inside its lead (this lead too, as one of "leads")`,
    );
    expect(text).toContain("leads[0]: This lead has no argument 'fullName' (use 'firstName' and 'lastName').");
    expect(text).toContain('leads[1].lastName is required.');
    expect(text).toContain('leads[2]: not a lead: each of leads is an object');
    expect(text).toContain("leads[3].email: 'not an email' is not an email address: pass one address alone");
    expect(text).not.toContain('leads[4]');
    expect(emu.rows('lead')).toHaveLength(count);
    expect(emu.requests().length).toBe(since);
    // past the most one call takes: said with what to do
    const many = await h.call('create_lead', {
      leads: Array.from({ length: 101 }, (_, k) => ({ lastName: `Many${k}` })),
    });
    expect(textOf(many)).toContain('leads takes at most 100 a call: send the rest in another call.');
    const none = await h.call('create_lead', { leads: [] });
    expect(textOf(none)).toContain('leads is empty: give the leads, or leave it out for one.');
    // one lead as before: its last name still required
    const solo = await h.call('create_lead', { firstName: 'Solo' });
    expect(textOf(solo)).toMatch(/^Error \(bad_input\): lastName is required\.\n/);
  });
});
