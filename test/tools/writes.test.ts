import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { apiRequests, clientFor, writesSince } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { builtInPolicyWith, connectAsking, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

describe('write tools: create_lead, create_case, update_record', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const audit = join(tmpdir(), `dmcp-audit-${process.pid}.jsonl`);
  const configFile = join(tmpdir(), `dmcp-config-${process.pid}.json`);
  let seller: string;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 20 });
    seller = String(
      emu.rows('systemuser').find((u) => u.title === 'Account Executive' || u.title === 'Sales Representative')!
        .systemuserid,
    );
    writeFileSync(
      configFile,
      JSON.stringify({
        leads: {
          assignment: [
            { postalCodePrefix: '981', ownerId: seller },
            // a region's web leads to a team's queue
            {
              postalCodePrefix: '100',
              ownerId: String(emu.rows('team').find((t) => t.name === 'Customer Service')!.teamid),
            },
          ],
        },
      }),
    );
    writeFileSync(audit, '');
    h = await connectInMemory(emu, { env: { DYNAMICS_MCP_AUDIT_LOG: audit }, configFile });
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });
  beforeEach(() => emu.clearFaults());

  const leadsWith = (email: string) => emu.rows('lead').filter((l) => l.emailaddress1 === email);
  /** the updates the emulator received since request `since` (a refusal must send none) */
  const patchesSince = (since: number) =>
    emu
      .requests()
      .slice(since)
      .filter((q) => q.method === 'PATCH');

  it('create_lead creates the lead the web form described, assigns the owner by postal code, and audits it', async () => {
    const r = await h.call('create_lead', {
      firstName: 'Maya',
      lastName: 'Okafor',
      email: 'maya@fabrikam.example',
      company: 'Fabrikam',
      phone: '+1 555 0101',
      subject: 'Pricing for 50 seats',
      source: 'Web',
      extra: { address1_postalcode: '98101', jobtitle: 'CTO' },
    });
    expect(r.isError).toBeFalsy();
    const { id, duplicate, url, ownerId } = r.structuredContent;
    expect(duplicate).toBe(false);
    expect(ownerId).toBe(seller);
    expect(url).toBe(`${emu.dynamicsUrl}/main.aspx?pagetype=entityrecord&etn=lead&id=${id}`);
    const [lead] = leadsWith('maya@fabrikam.example');
    expect(lead).toMatchObject({
      leadid: id,
      firstname: 'Maya',
      lastname: 'Okafor',
      companyname: 'Fabrikam',
      leadsourcecode: 8,
      jobtitle: 'CTO',
      subject: 'Pricing for 50 seats',
    });
    expect((lead!.ownerid as { id: string }).id).toBe(seller);
    // who the rule gave it to, by name, where the user reads it
    const owner = emu.rows('systemuser').find((u) => u.systemuserid === seller)!;
    expect(textOf(r)).toBe(
      `Created lead "Maya Okafor" (${id}), assigned to ${owner.fullname} (${seller}) by the rule for postal codes 981…: ${url}`,
    );
    // a rule's owner may be a team: the lead is the team's, and the answer names the team
    const queued = await h.call('create_lead', {
      firstName: 'Ines',
      lastName: 'Varga',
      email: 'ines@northwind.example',
      company: 'Northwind',
      extra: { address1_postalcode: '10001' },
    });
    expect(queued.isError, textOf(queued)).toBeFalsy();
    const team = emu.rows('team').find((t) => t.name === 'Customer Service')!;
    expect(leadsWith('ines@northwind.example')[0]!.ownerid).toEqual({ id: team.teamid, entity: 'team' });
    expect(textOf(queued)).toContain(
      `, assigned to the team Customer Service (${team.teamid}) by the rule for postal codes 100…`,
    );
    // an owner the call gives wins over the rule, and the answer does not name the rule's
    const other = emu.rows('systemuser').find((u) => u.systemuserid !== seller && u.title)!;
    const given = await h.call('create_lead', {
      firstName: 'Tomas',
      lastName: 'Reyes',
      email: 'tomas@reyes.example',
      company: 'Reyes Ltd',
      extra: { address1_postalcode: '98101', ownerid: String(other.fullname) },
    });
    expect(given.isError, textOf(given)).toBeFalsy();
    expect((leadsWith('tomas@reyes.example')[0]!.ownerid as { id: string }).id).toBe(other.systemuserid);
    expect(given.structuredContent.ownerId).toBeUndefined();
    expect(textOf(given)).not.toContain('by the rule');
    const lines = (await readFile(audit, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const entry = lines.find((l) => l.id === id);
    expect(entry).toMatchObject({ tool: 'create_lead', entity: 'lead', action: 'create', caller: 'test' });
    // contact details are sensitive in the default policy: the audit log names the column, not the value
    expect(entry.columns.emailaddress1).toBe('[withheld]');
    expect(entry.columns.companyname).toBe('Fabrikam');
  });

  it('create_lead returns the existing lead for the same email instead of creating another', async () => {
    const first = await h.call('create_lead', { lastName: 'Dupe', email: 'dupe@example.com' });
    const again = await h.call('create_lead', { lastName: 'Dupe', email: 'DUPE@example.com' });
    expect(again.structuredContent).toMatchObject({ id: first.structuredContent.id, duplicate: true });
    expect(leadsWith('dupe@example.com')).toHaveLength(1);
    // a column leads lack, or a choice they do not offer, is refused, not dropped because the lead was found
    const since = emu.requests().length;
    const wrong = await h.call('create_lead', {
      lastName: 'Dupe',
      email: 'dupe@example.com',
      extra: { nosuchcol: 1, leadqualitycode: 'Scorching' },
    });
    expect(wrong.isError).toBe(true);
    expect(textOf(wrong)).toContain("'nosuchcol' is not a column of lead");
    expect(textOf(wrong)).toContain("'Scorching' is not a value of lead.leadqualitycode");
    expect(writesSince(emu, since)).toEqual([]);
    const forced = await h.call('create_lead', { lastName: 'Dupe', email: 'dupe@example.com', allowDuplicate: true });
    expect(forced.structuredContent.duplicate).toBe(false);
    expect(leadsWith('dupe@example.com')).toHaveLength(2);
  });

  // Dynamics' own rule for leads ("Leads with the same email address") leaves out inactive records: someone whose
  // lead was disqualified, or qualified into a customer, who writes again is a new enquiry, not the old lead
  it('create_lead: an email whose lead was closed makes a new lead, naming the earlier one; sent again, it is the new one', async () => {
    const old = await h.call('create_lead', { lastName: 'Returning', email: 'returning@example.com' });
    const closed = await h.call('update_record', {
      entity: 'lead',
      id: old.structuredContent.id,
      values: { statecode: 'Disqualified', statuscode: 'No Longer Interested' },
    });
    expect(closed.isError, textOf(closed)).toBeFalsy();
    const back = await h.call('create_lead', {
      lastName: 'Returning',
      email: 'returning@example.com',
      subject: 'Back',
    });
    expect(back.structuredContent).toMatchObject({ duplicate: false });
    expect(back.structuredContent.id).not.toBe(old.structuredContent.id);
    expect(textOf(back)).toContain(
      `This email's earlier lead, "Returning" (${old.structuredContent.id}), is Disqualified: this one is a new enquiry.`,
    );
    const again = await h.call('create_lead', {
      lastName: 'Returning',
      email: 'returning@example.com',
      subject: 'Back',
    });
    expect(again.structuredContent).toMatchObject({ id: back.structuredContent.id, duplicate: true });
    expect(leadsWith('returning@example.com')).toHaveLength(2);
    // a customer now (the lead qualified): their new interest is a new lead too
    const won = emu.rows('lead').find((l) => l.statecode === 1 && typeof l.emailaddress1 === 'string')!;
    const more = await h.call('create_lead', { lastName: 'Customer', email: String(won.emailaddress1) });
    expect(more.structuredContent).toMatchObject({ duplicate: false });
    expect(textOf(more)).toContain(`(${won.leadid}), is Qualified: this one is a new enquiry.`);
  });

  it('create_lead without an email: the same name and company asked for again within a day is the lead just made', async () => {
    const named = () => emu.rows('lead').filter((l) => l.lastname === 'Whitfield' && l.firstname === 'Dana');
    const form = { firstName: 'Dana', lastName: 'Whitfield', company: 'Blue Yonder Airlines', subject: 'Telematics' };
    const first = await h.call('create_lead', form);
    expect(first.structuredContent.duplicate, textOf(first)).toBe(false);
    // asked twice (or concurrently, after a lost answer): one lead, named in the answer
    const again = await Promise.all([h.call('create_lead', form), h.call('create_lead', form)]);
    for (const r of again)
      expect(r.structuredContent).toMatchObject({ id: first.structuredContent.id, duplicate: true });
    expect(textOf(again[0]!)).toBe(
      `A lead named Dana Whitfield at Blue Yonder Airlines, without an email, was created within the last day and is still open (${first.structuredContent.id}); it was not created again. Pass allowDuplicate: true to create another.`,
    );
    expect(named()).toHaveLength(1);
    // another company, or no company, is another lead; allowDuplicate makes a second of the same
    const elsewhere = await h.call('create_lead', { ...form, company: 'Fourth Coffee' });
    expect(elsewhere.structuredContent.duplicate, textOf(elsewhere)).toBe(false);
    const alone = await h.call('create_lead', { firstName: 'Dana', lastName: 'Whitfield' });
    expect(alone.structuredContent.duplicate, textOf(alone)).toBe(false);
    const forced = await h.call('create_lead', { ...form, allowDuplicate: true });
    expect(forced.structuredContent.duplicate, textOf(forced)).toBe(false);
    expect(named()).toHaveLength(4);
  });

  it("create_lead with an email no lead has: the same person's lead taken without one that day is theirs, for the email to be added", async () => {
    const named = () => emu.rows('lead').filter((l) => l.lastname === 'Achebe' && l.firstname === 'Ngozi');
    const person = { firstName: 'Ngozi', lastName: 'Achebe', company: 'Litware Inc.' };
    // taken by phone, without an email
    const call = await h.call('create_lead', { ...person, phone: '+1 555 0199', subject: 'Call-back about pricing' });
    expect(call.structuredContent.duplicate, textOf(call)).toBe(false);
    const id = call.structuredContent.id;
    // then the same person's web form, with one: not a second lead, and the answer says how to add the email
    const form = await h.call('create_lead', {
      ...person,
      email: 'Ngozi.Achebe@litware.example',
      description: 'Please send pricing for 40 seats.',
      extra: { address1_postalcode: '98109' },
    });
    expect(form.structuredContent).toMatchObject({ id, duplicate: true });
    // nothing the form said is lost: the update that adds it is given (not the default subject, nor the owner
    // the postal-code rule would have given a new lead)
    expect(textOf(form)).toBe(
      `A lead named Ngozi Achebe at Litware Inc., without an email, was created within the last day and is still open (${id}): most likely the same person, so it was not created again. To add what this call gives, call update_record on it with {"emailaddress1":"ngozi.achebe@litware.example","description":"Please send pricing for 40 seats.","address1_postalcode":"98109"} (it replaces what those columns hold); only if they are different people, pass allowDuplicate: true to create another.`,
    );
    expect(named()).toHaveLength(1);
    const update = JSON.parse(/with (\{.*\}) \(it replaces/.exec(textOf(form))![1]!);
    const added = await h.call('update_record', { entity: 'lead', id, values: update });
    expect(added.isError, textOf(added)).toBeFalsy();
    expect(named()[0]).toMatchObject({
      emailaddress1: 'ngozi.achebe@litware.example',
      description: 'Please send pricing for 40 seats.',
      address1_postalcode: '98109',
      subject: 'Call-back about pricing',
    });
    // now the lead is found by its email, and, asked for without one, by its name as before
    const again = await h.call('create_lead', { ...person, email: 'ngozi.achebe@litware.example' });
    expect(again.structuredContent).toMatchObject({ id, duplicate: true });
    expect(textOf(again)).toBe(
      `A lead with this email already exists (${id}); it was not created again. Pass allowDuplicate: true to create another.`,
    );
    const byPhone = await h.call('create_lead', { ...person, phone: '+1 555 0199' });
    expect(byPhone.structuredContent).toMatchObject({ id, duplicate: true });
    // a lead of that name with another email is another person's address: a lead of its own
    const other = await h.call('create_lead', { ...person, email: 'n.achebe@litware.example' });
    expect(other.structuredContent.duplicate, textOf(other)).toBe(false);
    // and so is the same name at another company
    const elsewhere = await h.call('create_lead', {
      ...person,
      company: 'Proseware',
      email: 'ngozi@proseware.example',
    });
    expect(elsewhere.structuredContent.duplicate, textOf(elsewhere)).toBe(false);
    expect(named()).toHaveLength(3);
  });

  it('create_lead: an address pasted from a mail client is that address, and finds the same lead', async () => {
    const first = await h.call('create_lead', { lastName: 'Paste', email: ' Pat Paste <pat.paste@example.com> ' });
    expect(first.isError, textOf(first)).toBeFalsy();
    expect(leadsWith('pat.paste@example.com')).toHaveLength(1);
    const again = await h.call('create_lead', { lastName: 'Paste', email: 'mailto:PAT.PASTE@example.com' });
    expect(again.structuredContent).toMatchObject({ id: first.structuredContent.id, duplicate: true });
    const bad = await h.call('create_lead', { lastName: 'Paste', email: 'pat at example' });
    expect(textOf(bad)).toBe(
      "Error (bad_input): lead.emailaddress1 is an email address; 'pat at example' is not one.\nHow to fix: Pass one address alone, e.g. ana@example.com.",
    );
    expect(leadsWith('pat.paste@example.com')).toHaveLength(1);
  });

  it('create_lead: an address that is none and a source no lead has are one answer, not two round trips', async () => {
    const since = emu.requests().length;
    const r = await h.call('create_lead', { lastName: 'Twice', email: 'twice@', source: 'Billboard' });
    expect(textOf(r)).toMatch(
      /^Error \(bad_input\): 2 values for a lead cannot be written:\n- lead\.emailaddress1 is an email address; 'twice@' is not one\. .*\n- 'Billboard' is not a value of lead\.leadsourcecode\. Use one of: .*8 \(Web\)/,
    );
    // nothing looked for or written
    expect(
      emu
        .requests()
        .slice(since)
        .filter((q) => q.url.includes('/leads')),
    ).toEqual([]);
  });

  it('create_lead: ten concurrent submissions of one form make one lead', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => h.call('create_lead', { lastName: 'Burst', email: 'burst@example.com' })),
    );
    expect(new Set(results.map((r) => r.structuredContent.id)).size).toBe(1);
    expect(leadsWith('burst@example.com')).toHaveLength(1);
  });

  it('create_lead: a bad option label is an error listing the choices; nothing is created', async () => {
    const r = await h.call('create_lead', { lastName: 'Bad', email: 'bad@example.com', source: 'Carrier pigeon' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('8 (Web)');
    expect(leadsWith('bad@example.com')).toHaveLength(0);
  });

  it('create_lead under a policy that keeps the Topic from the model still captures leads, without the default Topic', async () => {
    const policy = builtInPolicyWith('no-lead-topic', (e) => ({
      ...e,
      lead: { ...e.lead!, write: e.lead!.write!.filter((c) => c !== 'subject') },
    }));
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy, LOG_LEVEL: 'warn' } });
    try {
      const r = await strict.call('create_lead', { lastName: 'Topicless', email: 'topicless@example.com' });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(leadsWith('topicless@example.com')).toEqual([
        expect.objectContaining({ lastname: 'Topicless', subject: null }),
      ]);
    } finally {
      await strict.close();
    }
  });

  it('a write to a table the policy reads is for the read tools; to one it does not offer, the tables that may be written are named', async () => {
    const readOnlyTable = await h.call('update_record', {
      entity: 'systemuser',
      id: String(emu.rows('systemuser')[0]!.systemuserid),
      values: { title: 'Boss' },
    });
    expect(textOf(readOnlyTable)).toBe(
      "Error (policy): Writing to 'systemuser' is not allowed under this server's policy.\nHow to fix: Only read tools can be used on this table.",
    );
    // said before the record is looked for: a name no user has would first send the model to find one, and
    // nothing is asked of Dynamics
    const mark = emu.requests().length;
    const byName = await h.call('update_record', {
      entity: 'systemuser',
      id: 'Nobody Atall',
      values: { title: 'Boss' },
    });
    expect(textOf(byName)).toBe(textOf(readOnlyTable));
    expect(apiRequests(emu, mark).filter((q) => q.url.includes('systemusers'))).toEqual([]);
    const noNotes = builtInPolicyWith('no-notes', ({ annotation: _notes, ...entities }) => entities);
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: noNotes, LOG_LEVEL: 'warn' } });
    try {
      const account = emu.rows('account')[0]!;
      const r = await strict.call('add_note', {
        entity: 'account',
        id: String(account.accountid),
        text: 'Called them',
      });
      expect(textOf(r)).toMatch(
        /^Error \(policy\): Writing to 'annotation' is not allowed under this server's policy\.\nHow to fix: The policy does not offer the table\. Tables that may be written: account, contact, lead, opportunity, incident, /,
      );
      // the same before a record named is looked for
      const named = await strict.call('add_note', { id: 'No Such Company Ltd', text: 'Called them' });
      expect(textOf(named)).toBe(textOf(r));
    } finally {
      await strict.close();
    }
  });

  it('create_case opens a case for an account named exactly, with its ticket number', async () => {
    const acc = emu.rows('account').find((a) => emu.rows('account').filter((b) => b.name === a.name).length === 1)!;
    const r = await h.call('create_case', {
      title: 'Disk usage above 90%',
      description: 'web-01',
      customer: { accountName: String(acc.name).toLowerCase() },
      priority: 'high',
      caseType: 'Problem',
      origin: 'Web',
    });
    expect(r.isError).toBeFalsy();
    const c = emu.rows('incident').find((i) => i.incidentid === r.structuredContent.id)!;
    expect(c).toMatchObject({
      title: 'Disk usage above 90%',
      prioritycode: 1,
      casetypecode: 2,
      caseorigincode: 3,
      statecode: 0,
    });
    expect((c.customerid as { id: string }).id).toBe(acc.accountid);
    expect(r.structuredContent).toMatchObject({
      ticketNumber: c.ticketnumber,
      existing: false,
      customer: { id: acc.accountid, name: acc.name },
    });
  });

  // the case form's Customer and Contact: the account the case is for, and the person who raised it
  it("create_case: an account and a contact open the account's case with that contact; a contact of another account is said", async () => {
    const person = emu.rows('contact').find((c) => (c.parentcustomerid as { id?: string } | null)?.id)!;
    const employer = emu.rows('account').find((a) => a.accountid === (person.parentcustomerid as { id: string }).id)!;
    const r = await h.call('create_case', {
      title: 'Badge reader offline',
      customer: { accountId: String(employer.accountid), contactId: String(person.fullname) },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const c = emu.rows('incident').find((i) => i.incidentid === r.structuredContent.id)!;
    expect(c).toMatchObject({
      customerid: { id: employer.accountid, entity: 'account' },
      primarycontactid: { id: person.contactid, entity: 'contact' },
    });
    expect(r.structuredContent.customer).toEqual({ id: employer.accountid, name: employer.name, entity: 'account' });
    expect(textOf(r)).toMatch(/^Opened case CAS-\S+ for /);
    expect(textOf(r)).toContain(`for ${employer.name} (contact ${person.fullname}): https://`);
    // opened app-only, it is the application user's, in no agent's queue of their own: said, with the fix
    expect((c.ownerid as { id: string }).id).toBe(
      emu.rows('systemuser').find((u) => u.applicationid === emu.clientId)!.systemuserid,
    );
    expect(textOf(r)).toMatch(
      / Its owner is the application user this server signs in as: to give it to a person or a team, set ownerid to their name with update_record\.$/,
    );
    // Dynamics takes a contact of another account (a namesake picked by mistake, or a partner's person): opened,
    // and said
    const other = emu
      .rows('account')
      .find(
        (a) => a.accountid !== employer.accountid && emu.rows('account').filter((b) => b.name === a.name).length === 1,
      )!;
    const elsewhere = await h.call('create_case', {
      title: 'Badge reader offline',
      customer: { accountName: String(other.name), contactId: String(person.contactid) },
    });
    expect(elsewhere.isError, textOf(elsewhere)).toBeFalsy();
    expect(textOf(elsewhere)).toContain(
      `(contact ${person.fullname}, a contact of ${employer.name}, not of ${other.name}): https://`,
    );
    // the Contact as the case form and the Web API name it, inside customer; beside it, pointed inside
    const named = await h.call('create_case', {
      title: 'Badge reader offline again',
      customer: { name: String(employer.name), contact: String(person.fullname) },
    });
    expect(named.isError, textOf(named)).toBeFalsy();
    expect(emu.rows('incident').find((i) => i.incidentid === named.structuredContent.id)).toMatchObject({
      primarycontactid: { id: person.contactid },
    });
    const beside = await h.call('create_case', {
      title: 'Badge reader offline again',
      customer: String(employer.name),
      primarycontactid: String(person.fullname),
    });
    expect(textOf(beside)).toMatch(
      /^Error \(bad_input\): create_case has no argument 'primarycontactid' \(use 'customer'\)\./,
    );
    // the remark is read after the case is opened: that read failing leaves the remark out, not the case unsaid
    emu.addFault({
      match: { method: 'GET', path: `/api/data/v9.2/contacts(${person.contactid})` },
      response: { status: 400, body: { error: { code: '0x80040203', message: 'refused for the test' } } },
    });
    const unremarked = await h.call('create_case', {
      title: 'Badge reader offline once more',
      customer: { accountName: String(other.name), contactId: String(person.fullname) },
    });
    expect(unremarked.isError, textOf(unremarked)).toBeFalsy();
    expect(textOf(unremarked)).toContain(`for ${other.name} (contact ${person.fullname}): https://`);
    expect(emu.rows('incident').find((i) => i.incidentid === unremarked.structuredContent.id)).toBeDefined();
    // a contact that is not found opens nothing
    const cases = emu.rows('incident').length;
    const missing = await h.call('create_case', {
      title: 'Badge reader offline',
      customer: { accountName: String(other.name), contactId: 'Nobody Byname' },
    });
    expect(textOf(missing)).toMatch(/^Error \(not_found\): No contact is named 'Nobody Byname'\./);
    expect(emu.rows('incident')).toHaveLength(cases);
  });

  it('create_case: priority by label in any casing, by number, or Medium for Normal; a word the organisation has no priority for opens nothing', async () => {
    const acc = emu.rows('account')[0]!;
    const cases = emu.rows('incident').length;
    const withPriority = (priority: string) =>
      h.call('create_case', { title: 'Priority check', customer: { accountId: String(acc.accountid) }, priority });
    const bad = await withPriority('urgent');
    expect(textOf(bad)).toBe(
      "Error (bad_input): This organisation has no 'urgent' priority.\nHow to fix: Pass one of its priorities: High, Normal, Low (Dynamics' top one is High); the description can say how urgent it is.",
    );
    const typo = await withPriority('Hgh');
    expect(textOf(typo)).toContain(
      "'Hgh' is not a value of incident.prioritycode.\nHow to fix: Did you mean 1 (High)?",
    );
    expect(emu.rows('incident')).toHaveLength(cases);
    for (const [priority, code] of [
      ['High', 1],
      [' LOW ', 3],
      [undefined, 2],
      // Medium is what many call Normal; a number is the option with it
      ['medium', 2],
      [1, 1],
      ['3', 3],
    ] as const) {
      const r = await h.call('create_case', {
        title: `Priority ${priority}`,
        customer: { accountId: String(acc.accountid) },
        ...(priority ? { priority } : {}),
      });
      expect(r.isError).toBeFalsy();
      expect(emu.rows('incident').find((i) => i.incidentid === r.structuredContent.id)).toMatchObject({
        prioritycode: code,
      });
    }
  });

  it('create_case with an externalRef returns the case still open for it; concurrent alerts make one case', async () => {
    const acc = emu.rows('account')[0]!;
    const args = { title: 'Sensor offline', customer: { accountId: String(acc.accountid) }, externalRef: 'ALERT-7' };
    const results = await Promise.all(Array.from({ length: 8 }, () => h.call('create_case', args)));
    expect(results.every((r) => !r.isError)).toBe(true);
    expect(new Set(results.map((r) => r.structuredContent.id)).size).toBe(1);
    expect(results.filter((r) => r.structuredContent.existing === false)).toHaveLength(1);
    const cases = emu.rows('incident').filter((i) => i.dmcp_externalref === 'ALERT-7');
    expect(cases).toHaveLength(1);
    // once resolved, the same alert firing again opens a new case
    await h.call('update_record', {
      entity: 'incident',
      id: String(cases[0]!.incidentid),
      values: { servicestage: 'Resolve' },
    });
    const resolved = emu.rows('incident').find((i) => i.incidentid === cases[0]!.incidentid)!;
    expect(resolved.servicestage).toBe(2);
  });

  it('create_case: the customer as the account name or id in text, or as {name} / {id}, is that account', async () => {
    const acc = emu.rows('account').find((a) => emu.rows('account').filter((b) => b.name === a.name).length === 1)!;
    for (const customer of [
      String(acc.name),
      `{${String(acc.accountid).toUpperCase()}}`,
      { name: acc.name },
      { id: acc.accountid },
    ]) {
      const r = await h.call('create_case', { title: `Customer as ${JSON.stringify(customer)}`, customer });
      expect(r.isError, textOf(r)).toBeFalsy();
      const c = emu.rows('incident').find((i) => i.incidentid === r.structuredContent.id)!;
      expect((c.customerid as { id: string }).id).toBe(acc.accountid);
    }
    // a name still has to match one account exactly: nothing is opened for a near one
    const cases = emu.rows('incident').length;
    const near = await h.call('create_case', { title: 'x', customer: String(acc.name).slice(0, -2) });
    expect(near.isError).toBe(true);
    expect(textOf(near)).toMatch(/No account or contact is named/);
    expect(emu.rows('incident')).toHaveLength(cases);
  });

  // Dynamics' Case.customerid is a customer lookup: an account or a contact (a person, in B2C service)
  it("create_case for a contact: by contactId, the contact's id as text, a lookup copied from a result, or by its name or email as contactName", async () => {
    const contacts = emu.rows('contact');
    const person = contacts.find(
      (c) => c.emailaddress1 && contacts.filter((d) => d.fullname === c.fullname).length === 1,
    )!;
    const contactid = String(person.contactid);
    for (const customer of [
      { contactId: contactid },
      contactid,
      { id: contactid, name: person.fullname, entity: 'contact' },
      // a contact by name as accountName names an account: among contacts alone
      { contactName: person.fullname },
      { contactId: person.emailaddress1 },
    ]) {
      const r = await h.call('create_case', { title: `Printer for ${JSON.stringify(customer)}`, customer });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.customer).toEqual({ id: contactid, name: person.fullname, entity: 'contact' });
      expect(textOf(r)).toContain(`for ${person.fullname}:`);
      const c = emu.rows('incident').find((i) => i.incidentid === r.structuredContent.id)!;
      expect(c.customerid).toMatchObject({ id: contactid, entity: 'contact' });
    }
    const cases = emu.rows('incident').length;
    const nobody = await h.call('create_case', { title: 'x', customer: '00000000-0000-4000-8000-0000000000aa' });
    expect(textOf(nobody)).toContain('No account or contact has the id 00000000-0000-4000-8000-0000000000aa.');
    const unnamed = await h.call('create_case', { title: 'x', customer: { contactName: 'Nobody Of That Name' } });
    expect(textOf(unnamed)).toMatch(/^Error \(not_found\): No contact is named 'Nobody Of That Name'\./);
    // a cut id is said to be no id, not looked for as a name
    const cut = await h.call('create_case', { title: 'x', customer: { contactId: contactid.slice(0, 20) } });
    expect(textOf(cut)).toContain(`contactId '${contactid.slice(0, 20)}' is not a record id (GUID).`);
    expect(emu.rows('incident')).toHaveLength(cases);
  });

  it("create_case for a mail's sender: an email address is the contact with it; a full name no account has, that contact", async () => {
    const contacts = emu.rows('contact');
    const unique = (column: string) =>
      contacts.find((c) => c[column] && contacts.filter((d) => d[column] === c[column]).length === 1)!;
    const sender = unique('emailaddress1');
    const address = String(sender.emailaddress1);
    for (const customer of [address, `Someone <${address.toUpperCase()}>`, { email: address }]) {
      const r = await h.call('create_case', { title: `Mail from ${JSON.stringify(customer)}`, customer });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.customer).toEqual({
        id: sender.contactid,
        name: sender.fullname,
        entity: 'contact',
      });
    }
    const person = unique('fullname');
    const named = await h.call('create_case', { title: 'Call from a person', customer: String(person.fullname) });
    expect(named.isError, textOf(named)).toBeFalsy();
    expect(named.structuredContent.customer).toMatchObject({ id: person.contactid, entity: 'contact' });
    // an address two contacts share, or none has, opens nothing and says which
    const shared = 'shared.inbox@fabrikam.example';
    for (const lastname of ['Inbox A', 'Inbox B'])
      await h.deps.client.create('contact', { lastname, emailaddress1: shared }, { allowDuplicate: true });
    const cases = emu.rows('incident').length;
    const two = await h.call('create_case', { title: 'x', customer: shared });
    expect(textOf(two)).toMatch(
      /^Error \(bad_input\): 2 contacts have the email 'shared\.inbox@fabrikam\.example': Inbox A \(shared\.inbox@fabrikam\.example\) — [0-9a-f-]{36}; Inbox B/,
    );
    const none = await h.call('create_case', { title: 'x', customer: 'nobody@nowhere.example' });
    expect(textOf(none)).toContain("No contact has the email 'nobody@nowhere.example'.");
    expect(emu.rows('incident')).toHaveLength(cases);
  });

  it('create_case for a caller given by phone number: the contact (or account) with that number, by its digits', async () => {
    const caller = emu.rows('contact').find((c) => c.statecode === 0)!;
    await h.deps.client.update('contact', String(caller.contactid), { mobilephone: '+31 6 1234 5678' });
    const r = await h.call('create_case', { title: 'Printer jams on every job', customer: '06-12345678' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.customer).toEqual({ id: caller.contactid, name: caller.fullname, entity: 'contact' });
    // an account's main number is that account
    const acc = emu.rows('account').find((a) => a.statecode === 0 && a.telephone1)!;
    const byAccount = await h.call('create_case', {
      title: 'Invoice copy requested',
      customer: String(acc.telephone1).replace(/-/g, ' '),
    });
    expect(byAccount.structuredContent.customer).toEqual({ id: acc.accountid, name: acc.name, entity: 'account' });
    // an account named with digits alone is still that account
    const digitsNamed = await h.call('create_record', { entity: 'account', values: { name: '2026-0077' } });
    expect(digitsNamed.isError, textOf(digitsNamed)).toBeFalsy();
    const byName = await h.call('create_case', { title: 'Order form missing', customer: '2026-0077' });
    expect(byName.structuredContent.customer).toMatchObject({
      id: digitsNamed.structuredContent.id,
      entity: 'account',
    });
    // a number nobody has opens nothing and says so
    const cases = emu.rows('incident').length;
    const unknown = await h.call('create_case', { title: 'x', customer: '+61 2 9876 5432' });
    expect(textOf(unknown)).toBe(
      "Error (not_found): No contact or account has the phone number '+61 2 9876 5432' (compared by its digits).\nHow to fix: Ask the caller who they are, find the customer by name with query_entities, then pass its id.",
    );
    expect(emu.rows('incident')).toHaveLength(cases);
  });

  it('add_note attaches a note to the record once: sent again, or by ten clients at once, it is one note', async () => {
    // a name that ends in a full stop ("… S.A."): the sentence does not end twice
    const acc = emu.rows('account').find((a) => String(a.name).endsWith('.'))!;
    const args = { entity: 'accounts', id: String(acc.accountid), title: 'Call', text: 'Ana wants a demo next week.' };
    const first = await h.call('add_note', args);
    expect(first.isError, textOf(first)).toBeFalsy();
    expect(textOf(first)).toBe(`Added a note to account ${acc.name}`);
    expect(first.structuredContent).toMatchObject({
      existing: false,
      record: { entity: 'account', id: acc.accountid, name: acc.name },
      url: `${emu.dynamicsUrl}/main.aspx?pagetype=entityrecord&etn=account&id=${acc.accountid}`,
    });
    const notes = () =>
      emu.rows('annotation').filter((n) => (n.objectid as { id?: string } | null)?.id === acc.accountid);
    expect(notes()).toHaveLength(1);
    expect(notes()[0]).toMatchObject({ subject: 'Call', notetext: 'Ana wants a demo next week.' });
    expect(notes()[0]!.objectid).toMatchObject({ entity: 'account' });
    const again = await Promise.all(
      Array.from({ length: 10 }, () => h.call('add_note', { ...args, id: `{${acc.accountid}}` })),
    );
    for (const r of again) {
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ id: first.structuredContent.id, existing: true });
    }
    expect(textOf(again[0])).toBe(`This note was already on account ${acc.name}; it was not added twice.`);
    expect(notes()).toHaveLength(1);
    // two notes whose title and text join to the same characters are two notes
    const split = (title: string, text: string) =>
      h.call('add_note', { entity: 'contact', id: String(emu.rows('contact')[0]!.contactid), title, text });
    const [one, two] = [await split('Call:', 'done'), await split('Call', ':done')];
    expect([one.structuredContent.existing, two.structuredContent.existing]).toEqual([false, false]);
    expect(one.structuredContent.id).not.toBe(two.structuredContent.id);
    // another note on the same record is another note, and query_entities reads them by objectid
    await h.call('add_note', { ...args, text: 'Demo booked for Tuesday.' });
    const read = await h.call('query_entities', { entity: 'annotation', where: { objectid: acc.accountid } });
    expect(read.structuredContent.records.map((n: { notetext: string }) => n.notetext).sort()).toEqual([
      'Ana wants a demo next week.',
      'Demo booked for Tuesday.',
    ]);
    // and with the record, through its notes relationship (Account_Annotation, as Microsoft's samples expand it)
    const withNotes = await h.call('get_record', {
      entity: 'account',
      id: acc.accountid,
      select: ['name'],
      expand: [{ relation: 'Account_Annotation', select: ['notetext'] }],
    });
    expect(withNotes.isError, textOf(withNotes)).toBeFalsy();
    expect(
      withNotes.structuredContent.record.Account_Annotation.map((n: { notetext: string }) => n.notetext).sort(),
    ).toEqual(['Ana wants a demo next week.', 'Demo booked for Tuesday.']);
    // named without columns, a record's notes are their text and date, not their ids alone (a note's title,
    // its primary name, is most often empty)
    const bare = await h.call('get_record', { entity: 'account', id: acc.accountid, expand: ['Account_Annotation'] });
    const bareNotes = bare.structuredContent.record.Account_Annotation as Record<string, unknown>[];
    expect(bareNotes.map((n) => n.notetext).sort()).toEqual([
      'Ana wants a demo next week.',
      'Demo booked for Tuesday.',
    ]);
    for (const n of bareNotes) expect(n.createdon).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const entry = (await readFile(audit, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.id === first.structuredContent.id && !l.outcome);
    expect(entry).toMatchObject({ tool: 'add_note', entity: 'annotation', action: 'create', caller: 'test' });
  });

  it('add_note: a record that does not exist, or a table notes do not attach to, is refused and nothing is written', async () => {
    const before = emu.rows('annotation').length;
    const patches = emu.requests().length;
    const missing = await h.call('add_note', {
      entity: 'contact',
      id: '00000000-0000-4000-8000-0000000000bb',
      text: 'x',
    });
    expect(textOf(missing)).toContain('No contact with the id 00000000-0000-4000-8000-0000000000bb exists.');
    const user = await h.call('add_note', { entity: 'systemuser', id: seller, text: 'x' });
    expect(user.isError).toBe(true);
    expect(textOf(user)).toBe(
      'Error (bad_input): A note attaches to an account, contact, lead, opportunity or incident record, not to a user.\nHow to fix: Add it to one of those records.',
    );
    // a note on an activity goes on what it is about: said before the task is looked for (none has this subject)
    const reads = emu.requests().length;
    const task = await h.call('add_note', { entity: 'task', id: 'No such follow-up', text: 'x' });
    expect(textOf(task)).toBe(
      "Error (bad_input): A note attaches to an account, contact, lead, opportunity or incident record, not to a task.\nHow to fix: Add it to the record the task is about (its regardingobjectid), or put the text in the task's description with update_record.",
    );
    expect(
      emu
        .requests()
        .slice(reads)
        .filter((r) => r.service === 'webapi' && r.url.includes('/tasks')),
    ).toEqual([]);
    const empty = await h.call('add_note', {
      entity: 'account',
      id: String(emu.rows('account')[0]!.accountid),
      text: '  ',
    });
    expect(textOf(empty)).toContain('empty text');
    expect(emu.rows('annotation')).toHaveLength(before);
    expect(patchesSince(patches)).toEqual([]);
  });

  it('create_case: the same case asked for again is the one just opened; another problem of that title takes allowDuplicate', async () => {
    const [acc, other] = emu.rows('account').filter((a) => a.statecode === 0);
    const ask = { title: 'Scanner offline in reception', customer: { accountId: String(acc!.accountid) } };
    const cases = () => emu.rows('incident').filter((c) => c.title === ask.title);
    const first = await h.call('create_case', ask);
    expect(first.structuredContent.existing, textOf(first)).toBe(false);
    // a model that lost the answer, or asked twice: one case
    const again = await h.call('create_case', { ...ask, title: 'scanner offline in reception ' });
    expect(again.structuredContent).toMatchObject({ id: first.structuredContent.id, existing: true });
    // and where it stands against its SLA (its default SLA's resolve-by time, still In Progress)
    const due = String(cases()[0]!.resolveby).slice(0, 16).replace('T', ' ');
    expect(textOf(again)).toBe(
      `Case ${first.structuredContent.ticketNumber} "${ask.title}" was opened for ${acc!.name} within the last day and is still open; no new case was opened: ${first.structuredContent.url}. Its SLA: resolve by ${due} UTC (In Progress). If this is another problem, call create_case again with allowDuplicate: true.`,
    );
    expect(cases()).toHaveLength(1);
    // the same title for another customer is its own case; allowDuplicate opens a second for the first
    const elsewhere = await h.call('create_case', { ...ask, customer: { accountId: String(other!.accountid) } });
    expect(elsewhere.structuredContent.existing, textOf(elsewhere)).toBe(false);
    const second = await h.call('create_case', { ...ask, allowDuplicate: true });
    expect(second.structuredContent.existing, textOf(second)).toBe(false);
    expect(cases()).toHaveLength(3);
    // once the first is resolved, the title opens a new case without being asked twice
    for (const made of [first, second]) {
      const resolved = await h.call('resolve_case', { id: made.structuredContent.id, resolution: 'Rebooted' });
      expect(resolved.isError, textOf(resolved)).toBeFalsy();
    }
    const later = await h.call('create_case', ask);
    expect(later.structuredContent.existing, textOf(later)).toBe(false);
    expect(cases()).toHaveLength(4);
  });

  it('create_case: an ambiguous or unknown account name is an error that lists candidates', async () => {
    const name = 'Twin Industries Ltd';
    await h.deps.client.createMany('account', [{ name }, { name }], { allowDuplicate: true });
    const r = await h.call('create_case', { title: 'x', customer: { accountName: name } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/2 accounts are named 'Twin Industries Ltd'/);
    const none = await h.call('create_case', { title: 'x', customer: { accountName: 'Twin Industr' } });
    expect(none.isError).toBe(true);
    expect(textOf(none)).toContain('Similar names: accounts (customer.accountId): Twin Industries Ltd');
    // a case is as often for a person: contacts whose names contain it are listed too, with their ids
    const person = emu.rows('contact').find((c) => String(c.fullname).includes(' '))!;
    const first = String(person.fullname).slice(0, -1);
    const partOfName = await h.call('create_case', { title: 'x', customer: first });
    expect(textOf(partOfName)).toMatch(
      new RegExp(`^Error \\(not_found\\): No account or contact is named '${first}'\\.`),
    );
    expect(textOf(partOfName)).toContain('contacts (customer.contactId): ');
    expect(textOf(partOfName)).toContain(`${person.fullname}`);
    const neither = await h.call('create_case', { title: 'x', customer: {} });
    expect(textOf(neither)).toContain('Name the customer by one of accountId, accountName or contactId.');
  });

  it('create_case: an unknown customer, a priority the organisation lacks and a wrong origin are said in one answer; nothing is opened', async () => {
    const cases = emu.rows('incident').length;
    const since = emu.requests().length;
    const r = await h.call('create_case', {
      title: 'Login fails',
      customer: 'Nobody Of That Name Ltd',
      priority: 'urgent',
      origin: 'chat',
    });
    // before: the customer alone, then the priority, then the origin, one call each
    expect(textOf(r)).toBe(
      "Error (bad_input): 3 values for an incident cannot be written:\n- No account or contact is named 'Nobody Of That Name Ltd'. Find the account or contact with query_entities (e.g. contains on name or fullname) and pass its id.\n- This organisation has no 'urgent' priority. Pass one of its priorities: High, Normal, Low (Dynamics' top one is High); the description can say how urgent it is.\n- 'chat' is not a value of incident.caseorigincode. Use one of: 1 (Phone), 2 (Email), 3 (Web), 2483 (Facebook), 3986 (Twitter).\nHow to fix: Correct each of them and call again with all the values; nothing was written.",
    );
    expect(emu.rows('incident')).toHaveLength(cases);
    // nothing sent to be written: no incident created (reads go in $batch POSTs, so requests are not counted)
    expect(apiRequests(emu, since).filter((q) => q.method === 'POST' && q.url.includes('/incidents'))).toEqual([]);
  });

  it('update_record: a record no one has and a mistyped value are said in one answer; the label meant despite swapped letters', async () => {
    const before = JSON.stringify(emu.rows('account'));
    const r = await h.call('update_record', {
      entity: 'account',
      id: 'Nobody Of That Name Ltd',
      values: { industrycode: 'Retial' },
    });
    const [head, first, second, fix] = textOf(r).split('\n');
    expect(head).toBe('Error (bad_input): 2 values for an account cannot be written:');
    expect(first).toMatch(
      /^- id 'Nobody Of That Name Ltd' is neither an account id \(GUID\) nor the name of an account\./,
    );
    // "Retial": two neighbouring letters swapped, one slip (was no suggestion: plain edit distance counts two)
    expect(second).toMatch(
      /^- 'Retial' is not a value of account\.industrycode\. Did you mean 25 \(Retail\)\? Use one of: /,
    );
    expect(fix).toBe('How to fix: Correct each of them and call again with all the values; nothing was written.');
    expect(JSON.stringify(emu.rows('account'))).toBe(before);
  });

  it('a write tool given the wrong shape says what the right one is, and sends nothing', async () => {
    const before = emu.stats().apiRequests;
    const id = '8deb5b45-3f8b-cc07-94eb-00e8572e8bdc';
    const cases = [
      ['create_case', { title: 'x', customer: ['Contoso'] }, 'customer is an object: {"accountName":"Contoso"}'],
      // an account by id and by name: neither is dropped for the other
      [
        'create_case',
        { title: 'x', customer: { accountName: 'Contoso', accountId: id } },
        'Name the account by accountId or by accountName, not both.',
      ],
      [
        'create_case',
        { title: 'x', customer: { accountName: 'Contoso', email: 'a@b.example' } },
        "customer names an account by accountId or accountName, a contact by contactId, or both, not 'email'.",
      ],
      ['update_record', { entity: 'account', id, values: [['name', 'x']] }, 'values is an object of column'],
      [
        'update_record',
        { entity: 'account', id, values: { primarycontactid: { contact: id } } },
        'a lookup {"entity":"contact","id":"<GUID>"}, or a list of options for a choices column; a many-to-many relationship takes the records to link, or {"add": ["<name or id>"], "remove": ["<name or id>"]}.',
      ],
    ] as const;
    for (const [tool, args, message] of cases) {
      const r = await h.call(tool, args);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(message);
    }
    expect(emu.stats().apiRequests).toBe(before); // refused before any request
  });

  it('a lookup set as the Web API and the SDKs write it is that lookup; a wrong target is refused', async () => {
    const account = emu.rows('account')[2]!;
    const id = String(account.accountid);
    const contacts = emu.rows('contact').slice(0, 4);
    const forms = [
      { 'primarycontactid@odata.bind': `/contacts(${contacts[0]!.contactid})` },
      { primarycontactid: { id: contacts[1]!.contactid } },
      { primarycontactid: { logicalName: 'contact', id: contacts[2]!.contactid } },
      { primarycontactid: { entity: 'contacts', id: contacts[3]!.contactid } },
    ];
    for (const [i, values] of forms.entries()) {
      const r = await h.call('update_record', { entity: 'account', id, values });
      expect(r.isError, textOf(r)).toBeFalsy();
      const row = emu.rows('account').find((a) => a.accountid === id)!;
      expect(row.primarycontactid, JSON.stringify(values)).toMatchObject({ id: contacts[i]!.contactid });
    }
    // a lookup copied from a result, name and all, sets that record (the name only names it)
    const read = await h.call('get_record', {
      entity: 'account',
      id: String(emu.rows('account')[5]!.accountid),
      select: ['primarycontactid'],
    });
    const copied = read.structuredContent.record.primarycontactid as { id: string; name: string };
    expect(copied).toMatchObject({ id: expect.any(String), name: expect.any(String) });
    const fromResult = await h.call('update_record', { entity: 'account', id, values: { primarycontactid: copied } });
    expect(fromResult.isError, textOf(fromResult)).toBeFalsy();
    expect(emu.rows('account').find((a) => a.accountid === id)!.primarycontactid).toMatchObject({ id: copied.id });
    const before = JSON.stringify(emu.rows('account').find((a) => a.accountid === id));
    for (const [values, message] of [
      [{ 'primarycontactid@odata.bind': `/accounts(${id})` }, 'account.primarycontactid cannot point at account.'],
      [
        { 'nosuch@odata.bind': `/contacts(${contacts[0]!.contactid})` },
        "'nosuch@odata.bind': account has no lookup 'nosuch'.",
      ],
      [{ 'primarycontactid@odata.bind': 'Wei Ito' }, "'Wei Ito' is not a reference such as /contacts(<GUID>)"],
    ] as const) {
      const r = await h.call('update_record', { entity: 'account', id, values });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(message);
    }
    // a lookup with more than one target needs its table named
    const incident = emu.rows('incident')[0]!;
    const ambiguous = await h.call('update_record', {
      entity: 'incident',
      id: String(incident.incidentid),
      values: { customerid: { id } },
    });
    expect(textOf(ambiguous)).toContain('incident.customerid can point at account or contact: say which.');
    expect(JSON.stringify(emu.rows('account').find((a) => a.accountid === id))).toBe(before);
  });

  it("a lookup written as the related record's name is the one record with that name; several or none are refused, writing nothing", async () => {
    const account = emu.rows('account')[3]!;
    const id = String(account.accountid);
    const once = <T extends Record<string, unknown>>(rows: T[], key: string) =>
      rows.filter(
        (r) => rows.filter((o) => String(o[key]).toLowerCase() === String(r[key]).toLowerCase()).length === 1,
      );
    const contact = once(emu.rows('contact'), 'fullname')[0]!;
    // as text, in another case, and as {name} (the shape of a lookup in a result, without its id)
    for (const value of [String(contact.fullname).toUpperCase(), { name: contact.fullname }]) {
      const r = await h.call('update_record', { entity: 'account', id, values: { primarycontactid: value } });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.changed.primarycontactid).toEqual({ id: contact.contactid, name: contact.fullname });
      expect(emu.rows('account').find((a) => a.accountid === id)!.primarycontactid).toMatchObject({
        id: contact.contactid,
      });
    }
    // create_lead's extra: the parent account by its name
    const parent = once(emu.rows('account'), 'name')[0]!;
    const lead = await h.call('create_lead', {
      lastName: 'Lookup-by-name',
      email: 'lookup.by.name@example.com',
      extra: { parentaccountid: parent.name },
    });
    expect(lead.isError, textOf(lead)).toBeFalsy();
    expect(leadsWith('lookup.by.name@example.com')[0]!.parentaccountid).toMatchObject({ id: parent.accountid });
    // the account the name was taken to be is said
    expect(textOf(lead)).toMatch(
      new RegExp(
        ` Parent Account for lead: ${parent.name} \\(account\\)\\. Its owner is the application user this server signs in as, since no ownerid was given: to give it to a person or a team, set ownerid to their name with update_record\\.$`,
      ),
    );

    // a name two accounts share: both listed, with what tells them apart, and nothing written
    const twin = emu.rows('account')[7]!;
    // an organisation where a second account with the name was made past the duplicate rules
    await h.deps.client.create('account', { name: twin.name, address1_city: 'Reykjavik' }, { allowDuplicate: true });
    const before = JSON.stringify(emu.rows('account').find((a) => a.accountid === id));
    const since = emu.requests().length;
    const shared = await h.call('update_record', { entity: 'account', id, values: { parentaccountid: twin.name } });
    expect(shared.isError).toBe(true);
    const both = emu.rows('account').filter((a) => a.name === twin.name);
    expect(textOf(shared)).toContain(`account.parentaccountid '${twin.name}': ${both.length} records have that name:`);
    for (const a of both) expect(textOf(shared)).toContain(`${a.name} (account, ${a.address1_city}) — ${a.accountid}`);
    const nobody = await h.call('update_record', {
      entity: 'account',
      id,
      values: { parentaccountid: 'No Such Company' },
    });
    expect(textOf(nobody)).toBe(
      'Error (bad_input): account.parentaccountid \'No Such Company\' is neither an account id (GUID) nor the name of an account.\nHow to fix: Find it with query_entities on account (e.g. where {"name": {"contains": "<part of the name>"}}) and pass its id.',
    );
    // part of a name: the names that contain it, to choose from
    const part = String(parent.name).slice(0, -3);
    const partial = await h.call('update_record', { entity: 'account', id, values: { parentaccountid: part } });
    expect(textOf(partial)).toContain(`How to fix: Names that contain it: `);
    expect(textOf(partial)).toContain(`${parent.name} (account) — ${parent.accountid}`);
    // a lookup the policy keeps from the model is refused as such, not as a name to look up
    const owner = await h.call('update_record', { entity: 'account', id, values: { ownerid: 'Megan' } });
    expect(textOf(owner)).toMatch(/^Error \(policy\): Column 'ownerid' of 'account' cannot be written/);
    expect(patchesSince(since)).toEqual([]);
    expect(JSON.stringify(emu.rows('account').find((a) => a.accountid === id))).toBe(before);
  });

  it('update_record hands a case or a deal to another user by name (the assign Dynamics does as an update of its owner)', async () => {
    const users = emu
      .rows('systemuser')
      .filter((u) => u.isdisabled !== true && u.fullname && !/#/.test(String(u.fullname)));
    const named = users.filter((u) => users.filter((o) => o.fullname === u.fullname).length === 1);
    const opened = await h.call('create_case', {
      title: 'Scanner offline',
      customer: { id: String(emu.rows('account')[2]!.accountid) },
    });
    expect(opened.isError, textOf(opened)).toBeFalsy();
    const kase = emu.rows('incident').find((c) => c.incidentid === opened.structuredContent.id)!;
    const deal = emu.rows('opportunity').find((o) => o.statecode === 0)!;
    for (const [entity, row, key] of [
      ['incident', kase, 'incidentid'],
      ['opportunity', deal, 'opportunityid'],
    ] as const) {
      const to = named.find((u) => u.systemuserid !== (row.ownerid as { id: string }).id)!;
      const r = await h.call('update_record', { entity, id: row[key], values: { ownerid: to.fullname } });
      expect(r.isError, textOf(r)).toBeFalsy();
      // (an owner may be a user or a team: which one is said)
      expect(r.structuredContent.changed.ownerid).toEqual({
        id: to.systemuserid,
        name: to.fullname,
        entity: 'systemuser',
      });
      const now = emu.rows(entity).find((x) => x[key] === row[key])!;
      expect((now.ownerid as { id: string }).id).toBe(to.systemuserid);
    }
    // the lookup's shape with the name where its id goes, or as its name, with the table: that table's record
    for (const [i, shape] of [
      (n: unknown) => ({ entity: 'systemuser', id: n }),
      (n: unknown) => ({ entity: 'systemusers', name: n }),
    ].entries()) {
      const to = named[i + 2]!;
      const r = await h.call('update_record', {
        entity: 'incident',
        id: kase.incidentid,
        values: { ownerid: shape(to.fullname) },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.changed.ownerid).toEqual({
        id: to.systemuserid,
        name: to.fullname,
        entity: 'systemuser',
      });
      expect((emu.rows('incident').find((x) => x.incidentid === kase.incidentid)!.ownerid as { id: string }).id).toBe(
        to.systemuserid,
      );
    }
    // an owner may be a team: a case handed back to the support team's queue by the team's name is the team's,
    // bound as /teams(<id>), and has no owning user (owningteam is set instead, as Dataverse keeps it)
    const queue = emu.rows('team').find((t) => t.name === 'Customer Service')!;
    const back = await h.call('update_record', {
      entity: 'incident',
      id: kase.incidentid,
      values: { ownerid: 'Customer Service' },
    });
    expect(back.isError, textOf(back)).toBeFalsy();
    expect(back.structuredContent.changed.ownerid).toEqual({
      id: queue.teamid,
      name: 'Customer Service',
      entity: 'team',
    });
    const queued = emu.rows('incident').find((x) => x.incidentid === kase.incidentid)!;
    expect(queued.ownerid).toEqual({ id: queue.teamid, entity: 'team' });
    expect(queued.owningteam).toEqual({ id: queue.teamid, entity: 'team' });
    expect(queued.owninguser).toBeNull();
    // the table named is the one looked in: no contact has an account's name (a case's customer is either)
    const account = emu.rows('account')[2]!;
    const contacted = await h.call('update_record', {
      entity: 'incident',
      id: kase.incidentid,
      values: { customerid: { entity: 'contact', id: account.name } },
    });
    expect(textOf(contacted)).toContain(
      `incident.customerid '${account.name}' is neither a contact id (GUID) nor the full name of a contact.`,
    );
    // and a table the lookup cannot point at is refused as such
    const teamed = await h.call('update_record', {
      entity: 'incident',
      id: kase.incidentid,
      values: { ownerid: { entity: 'account', id: named[4]!.fullname } },
    });
    expect(textOf(teamed)).toContain('incident.ownerid cannot point at an account.');
    // a first name alone is not a user: the names that contain it, and nothing is written
    const to = named[0]!;
    const since = emu.requests().length;
    const first = String(to.fullname).split(' ')[0];
    const part = await h.call('update_record', { entity: 'incident', id: kase.incidentid, values: { ownerid: first } });
    expect(textOf(part)).toContain(
      `incident.ownerid '${first}' is neither a user or team id (GUID) nor the name of a user or team.`,
    );
    expect(textOf(part)).toContain(`${to.fullname} (systemuser) — ${to.systemuserid}`);
    expect(patchesSince(since)).toEqual([]);
  });

  it("a secret pasted into a record (this app's own client secret in a description) comes back redacted in the text and in the structured result alike", async () => {
    const account = emu.rows('account')[1]!;
    const id = String(account.accountid);
    const description = `temporary login: ${emu.clientSecret} (do not share)`;
    const w = await h.call('update_record', { entity: 'account', id, values: { description } });
    expect(w.isError).toBeFalsy();
    // the record holds what was written; only what the model is shown is redacted
    expect(emu.rows('account').find((a) => a.accountid === id)!.description).toBe(description);
    const reads = [
      w,
      await h.call('get_record', { entity: 'account', id, select: ['description'] }),
      await h.call('query_entities', { entity: 'account', select: ['description'], filter: `accountid eq ${id}` }),
    ];
    for (const r of reads) {
      expect(r.isError).toBeFalsy();
      expect(JSON.stringify(r)).not.toContain(emu.clientSecret);
      expect(textOf(r)).toContain('temporary login: [redacted] (do not share)');
      expect(JSON.stringify(r.structuredContent)).toContain('temporary login: [redacted] (do not share)');
    }
    // the audit file is a log too: the value is audited, the secret in it redacted
    const note = await h.call('add_note', { entity: 'account', id, text: description });
    expect(note.isError, textOf(note)).toBeFalsy();
    const written = await readFile(audit, 'utf8');
    expect(written).not.toContain(emu.clientSecret);
    expect(written).toContain('temporary login: [redacted] (do not share)');
  });

  it('update_record changes writable columns, returns the new etag, refuses stale etags and never creates', async () => {
    const opp = emu.rows('opportunity').find((o) => o.statecode === 0 && o.salesstage !== 2)!;
    const stages = ['Qualify (0)', 'Develop (1)', 'Propose (2)', 'Close (3)'];
    // what the columns held: the answer and the audit say it, for the user to see the change and undo it
    // (a stage given as the Sales Stage is written with its Pipeline Phase: both are said)
    const was = {
      estimatedvalue: opp.estimatedvalue,
      salesstage: stages[opp.salesstage as number],
      stepname: opp.stepname,
    };
    const before = await h.call('get_record', {
      entity: 'opportunity',
      id: String(opp.opportunityid),
      select: ['estimatedvalue'],
    });
    const r = await h.call('update_record', {
      entity: 'opportunities',
      id: String(opp.opportunityid),
      values: { estimatedvalue: 123456, salesstage: 'Propose' },
      etag: before.structuredContent.etag,
    });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({
      updated: true,
      changed: { estimatedvalue: 123456, salesstage: 'Propose (2)', stepname: '3-Propose' },
      previous: was,
    });
    expect(r.structuredContent.etag).not.toBe(before.structuredContent.etag);
    // given by id, the record is named back (its name is no change, so not among those listed)
    expect(textOf(r)).toBe(
      `Updated opportunity "${opp.name}" (${opp.opportunityid}): {"estimatedvalue":123456,"salesstage":"Propose (2)","stepname":"3-Propose"}; before: ${JSON.stringify(was)} (etag ${r.structuredContent.etag}). The Sales Process bar on the deal's form moved Qualify → Develop → Propose.`,
    );
    const audited = (await readFile(audit, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.id === opp.opportunityid && e.tool === 'update_record');
    expect(audited.at(-1)).toMatchObject({
      action: 'update',
      columns: { estimatedvalue: 123456, salesstage: 'Propose' },
      previous: was,
    });
    const stale = await h.call('update_record', {
      entity: 'opportunity',
      id: String(opp.opportunityid),
      values: { estimatedvalue: 1 },
      etag: before.structuredContent.etag,
    });
    expect(stale.isError).toBe(true);
    expect(textOf(stale)).toMatch(/Error \(concurrency\)/);
    const missing = await h.call('update_record', {
      entity: 'lead',
      id: '00000000-0000-0000-0000-0000000000dd',
      values: { subject: 'x' },
    });
    expect(missing.isError).toBe(true);
    expect(emu.rows('lead').some((l) => l.leadid === '00000000-0000-0000-0000-0000000000dd')).toBe(false);
    const forbidden = await h.call('update_record', {
      entity: 'account',
      id: String(emu.rows('account')[0]!.accountid),
      values: { creditlimit: 1 },
    });
    expect(textOf(forbidden)).toMatch(/Error \(policy\)/);
  });

  it('update_record says what each column held before: an empty one as null; sensitive ones withheld in the audit', async () => {
    const contact = emu.rows('contact').find((c) => c.emailaddress1 && c.telephone1 && !c.description)!;
    const id = String(contact.contactid);
    const was = { emailaddress1: contact.emailaddress1, telephone1: contact.telephone1 };
    const r = await h.call('update_record', {
      entity: 'contact',
      id,
      values: { emailaddress1: 'new.address@example.org', telephone1: null, description: 'Met at the fair' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.changed).toEqual({
      emailaddress1: 'new.address@example.org',
      telephone1: null,
      description: 'Met at the fair',
    });
    expect(r.structuredContent.previous).toEqual({ ...was, description: null });
    expect(textOf(r)).toContain(`; before: ${JSON.stringify({ ...was, description: null })} (etag`);
    const entry = (await readFile(audit, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.id === id)
      .at(-1);
    // contact details are sensitive in the built-in policy: neither the new value nor the old is audited
    expect(entry.columns).toEqual({
      emailaddress1: '[withheld]',
      telephone1: '[withheld]',
      description: 'Met at the fair',
    });
    expect(entry.previous).toEqual({ emailaddress1: '[withheld]', telephone1: '[withheld]', description: null });
    // the same update again changes nothing, which is said rather than listed as a change
    const again = await h.call('update_record', {
      entity: 'contact',
      id,
      values: { emailaddress1: 'new.address@example.org', telephone1: null, description: 'Met at the fair' },
    });
    expect(again.structuredContent.previous).toEqual(again.structuredContent.changed);
    expect(textOf(again)).toMatch(/: \{.*\}; it already had these values \(etag W\/"\d+"\)\.$/);
    // part of it again: "before" lists what changed, and the rest is said to have held it already
    const part = await h.call('update_record', {
      entity: 'contact',
      id,
      values: { telephone1: '+1 555 0142', description: 'Met at the fair' },
    });
    expect(part.structuredContent.previous).toEqual({ telephone1: null, description: 'Met at the fair' });
    expect(textOf(part)).toMatch(
      /; before: \{"telephone1":null\}; description already had that value \(etag W\/"\d+"\)\.$/,
    );
  });

  it('update_record: a change made by someone else between its read and its write is what the answer says the column held', async () => {
    const contact = emu.rows('contact').find((c) => c.jobtitle)!;
    const id = String(contact.contactid);
    const other = clientFor(emu);
    await other.client.update('contact', id, { jobtitle: 'Buyer' });
    // our write waits at Dynamics' door while a colleague saves the same contact
    emu.addFault({ match: { method: 'PATCH', path: `/api/data/v9.2/contacts(${id})` }, delayMs: 1500 });
    const since = emu.requests().length;
    const ours = h.call('update_record', { entity: 'contact', id, values: { jobtitle: 'Head of Purchasing' } });
    await expect
      .poll(() => apiRequests(emu, since).filter((q) => q.method === 'GET' && q.url.includes(id)).length)
      .toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    await other.client.update('contact', id, { jobtitle: 'Senior Buyer' });
    const r = await ours;
    expect(r.isError, textOf(r)).toBeFalsy();
    // the write was made over the version it had read and refused (the colleague's save, logged as it arrived,
    // came in after it), read again and made: "before" is the colleague's
    expect(r.structuredContent.previous).toEqual({ jobtitle: 'Senior Buyer' });
    expect(emu.rows('contact').find((c) => c.contactid === id)!.jobtitle).toBe('Head of Purchasing');
    expect(
      apiRequests(emu, since)
        .filter((q) => q.url.includes(id) && q.userId === emu.applicationUserId)
        .map((q) => `${q.method} ${q.status}`),
    ).toEqual(['GET 200', 'PATCH 412', 'PATCH 200', 'GET 200', 'PATCH 200']);
  });

  // Web API error list: 0x8006088D OptimisticConcurrencyNotEnabled, for a table with IsOptimisticConcurrencyEnabled false
  it('update_record on a table whose versions Dynamics does not check: written without a version; an etag given is refused first', async () => {
    emu.configure({ optimisticConcurrencyOff: ['contact'] });
    const fresh = await connectInMemory(emu);
    try {
      const contact = emu.rows('contact').find((c) => c.jobtitle)!;
      const id = String(contact.contactid);
      const r = await fresh.call('update_record', { entity: 'contact', id, values: { jobtitle: 'Head of Sales' } });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.previous).toEqual({ jobtitle: contact.jobtitle });
      expect(emu.rows('contact').find((c) => c.contactid === id)!.jobtitle).toBe('Head of Sales');
      const since = emu.requests().length;
      const guarded = await fresh.call('update_record', {
        entity: 'contact',
        id,
        values: { jobtitle: 'CFO' },
        etag: r.structuredContent.etag,
      });
      expect(textOf(guarded)).toBe(
        'Error (bad_input): Dynamics does not check versions of contact records (optimistic concurrency is off for the table), so the etag cannot guard this update.\n' +
          'How to fix: Call update_record again without etag.',
      );
      expect(apiRequests(emu, since).filter((q) => q.method === 'PATCH')).toEqual([]);
    } finally {
      await fresh.close();
      emu.configure({ optimisticConcurrencyOff: [] });
    }
  });

  it('update_record of a column the policy lets be written but not read: nothing is read before, nor after', async () => {
    const policy = builtInPolicyWith('write-only', (e) => ({
      ...e,
      lead: { read: ['leadid', 'lastname'], write: ['description'] },
    }));
    const blind = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    try {
      const lead = emu.rows('lead').filter((l) => l.statecode === 0)[1]!;
      const since = emu.requests().length;
      const r = await blind.call('update_record', {
        entity: 'lead',
        id: String(lead.leadid),
        values: { description: 'Called back' },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ updated: true, changed: {} });
      expect(r.structuredContent.previous).toBeUndefined();
      expect(textOf(r)).not.toContain('before:');
      expect(emu.rows('lead').find((l) => l.leadid === lead.leadid)!.description).toBe('Called back');
      // the PATCH asks back for the key alone: without $select it would bring back every column
      const sent = apiRequests(emu, since).filter((q) => q.url.includes(`leads(${lead.leadid})`));
      expect(sent.map((q) => `${q.method} ${decodeURIComponent(q.url)}`)).toEqual([
        `PATCH /api/data/v9.2/leads(${lead.leadid})?$select=leadid`,
      ]);
    } finally {
      await blind.close();
    }
  });

  it('update_record: an etag given as its version number alone is that etag; one that cannot be an etag is refused', async () => {
    const opp = emu.rows('opportunity').filter((o) => o.statecode === 0)[3]!;
    const id = String(opp.opportunityid);
    const read = await h.call('get_record', { entity: 'opportunity', id, select: ['name'] });
    const version = /^W\/"(\d+)"$/.exec(read.structuredContent.etag)![1]!;
    // the number alone, and quoted without W/: the current version, so the update goes through
    const first = await h.call('update_record', {
      entity: 'opportunity',
      id,
      values: { description: 'a' },
      etag: Number(version),
    });
    expect(first.isError, textOf(first)).toBeFalsy();
    const next = /^W\/"(\d+)"$/.exec(first.structuredContent.etag)![1]!;
    const second = await h.call('update_record', {
      entity: 'opportunity',
      id,
      values: { description: 'b' },
      etag: `"${next}"`,
    });
    expect(second.isError, textOf(second)).toBeFalsy();
    // and a stale one alone is still a conflict
    const stale = await h.call('update_record', {
      entity: 'opportunity',
      id,
      values: { description: 'c' },
      etag: version,
    });
    expect(textOf(stale)).toMatch(/^Error \(concurrency\)/);
    const since = emu.stats().apiRequests;
    const odd = await h.call('update_record', {
      entity: 'opportunity',
      id,
      values: { description: 'd' },
      etag: 'abc\r\nx-injected: 1',
    });
    expect(textOf(odd)).toContain('etag is the @odata.etag get_record returns, e.g. W/"1000123".');
    expect(emu.stats().apiRequests).toBe(since);
    expect(emu.rows('opportunity').find((o) => o.opportunityid === id)!.description).toBe('b');
  });

  it('a choice as the tools return it ("Consulting (7)") is that choice; label and number that disagree are refused', async () => {
    const account = emu.rows('account')[6]!;
    const id = String(account.accountid);
    const ok = await h.call('update_record', { entity: 'account', id, values: { industrycode: 'Consulting (7)' } });
    expect(ok.isError, textOf(ok)).toBeFalsy();
    expect(emu.rows('account').find((a) => a.accountid === id)!.industrycode).toBe(7);
    const mixed = await h.call('update_record', { entity: 'account', id, values: { industrycode: 'Consulting (4)' } });
    expect(textOf(mixed)).toContain("'Consulting (4)' names two values of account.industrycode: 4 is Brokers.");
    expect(emu.rows('account').find((a) => a.accountid === id)!.industrycode).toBe(7);
    // and in a query, where and filter text alike
    const high = emu.rows('incident').filter((i) => i.prioritycode === 1).length;
    for (const args of [{ where: { prioritycode: 'High (1)' } }, { filter: "prioritycode eq 'High (1)'" }]) {
      const r = await h.call('query_entities', { entity: 'incident', select: ['title'], top: 5000, ...args });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.records).toHaveLength(high);
    }
  });

  it('create_lead: a column in extra that has its own argument is that argument, so an email there is checked for duplicates too', async () => {
    const orig = await h.call('create_lead', { lastName: 'Orig', email: 'extra.dupe@example.com' });
    for (const extra of [{ emailaddress1: 'extra.dupe@example.com' }, { Email: 'EXTRA.DUPE@example.com' }]) {
      const r = await h.call('create_lead', { lastName: 'Again', extra });
      expect(r.structuredContent, textOf(r)).toMatchObject({ duplicate: true, id: orig.structuredContent.id });
    }
    expect(leadsWith('extra.dupe@example.com')).toHaveLength(1);
    // given both ways, the two must agree
    const both = await h.call('create_lead', {
      lastName: 'Both',
      email: 'one@example.com',
      extra: { emailaddress1: 'two@example.com' },
    });
    expect(textOf(both)).toContain(
      `"extra" has 'emailaddress1' ("two@example.com"), and the argument 'email' says "one@example.com".`,
    );
    const source = await h.call('create_lead', {
      lastName: 'Source',
      email: 'source.extra@example.com',
      extra: { leadsourcecode: 'Partner' },
    });
    expect(source.isError, textOf(source)).toBeFalsy();
    expect(leadsWith('source.extra@example.com')).toMatchObject([{ leadsourcecode: 4 }]);
    // other columns by name or label
    const ok = await h.call('create_lead', {
      lastName: 'Labels',
      email: 'labels@example.com',
      extra: { 'Job Title': 'CTO' },
    });
    expect(ok.isError, textOf(ok)).toBeFalsy();
    expect(leadsWith('labels@example.com')).toMatchObject([{ jobtitle: 'CTO' }]);
    // as a refused argument's answer shows them to be moved into extra (arguments.test.ts): written the way
    // the model wrote the argument
    const moved = await h.call('create_lead', {
      lastName: 'Moved',
      email: 'moved@example.com',
      extra: { jobTitle: 'CFO', city: 'Oslo' },
    });
    expect(moved.isError, textOf(moved)).toBeFalsy();
    expect(leadsWith('moved@example.com')).toMatchObject([{ jobtitle: 'CFO', address1_city: 'Oslo' }]);
  });

  it('create tools name what is missing or empty', async () => {
    const noCustomer = await h.call('create_case', { title: 'x' });
    expect(textOf(noCustomer)).toContain('customer is required: the account or contact the case is for');
    const blank = await h.call('create_lead', { lastName: '  ', email: 'blank@example.com' });
    expect(textOf(blank)).toMatch(
      /^Error \(bad_input\): lastName: empty text: give a value \(or leave an optional argument out\)\.\n/,
    );
    expect(leadsWith('blank@example.com')).toHaveLength(0);
  });

  it("update_record: the record copied from get_record with its own id in values is updated; another record's id is refused", async () => {
    const acc = emu.rows('account').find((a) => a.statecode === 0)!;
    const id = String(acc.accountid);
    const read = await h.call('get_record', { entity: 'account', id, select: ['name', 'telephone1'] });
    // the record as get_record gave it, one column changed
    const copied = { ...read.structuredContent.record, telephone1: '+1 555 0199' };
    const r = await h.call('update_record', { entity: 'account', id, values: copied });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.changed).toMatchObject({ telephone1: '+1 555 0199' });
    expect(emu.rows('account').find((a) => a.accountid === acc.accountid)!.telephone1).toBe('+1 555 0199');
    const other = String(emu.rows('account').find((a) => a.accountid !== acc.accountid)!.accountid);
    const since = emu.requests().length;
    for (const key of ['id', 'accountid']) {
      const moved = await h.call('update_record', { entity: 'account', id, values: { [key]: other, name: 'x' } });
      expect(textOf(moved)).toBe(
        `Error (bad_input): values.${key} is "${other}", not the id of the record being updated (${id}): a record's id cannot be changed.\nHow to fix: Name the record to change in "id" and leave its id out of "values".`,
      );
    }
    expect(patchesSince(since)).toEqual([]);
    // a lookup given the record itself (by name, id or as a lookup), its own parent, is a slip: nothing is sent
    const name = String(acc.name);
    const unique = emu.rows('account').filter((a) => a.name === name).length === 1;
    for (const parent of [id.toUpperCase(), { entity: 'account', id }, ...(unique ? [name] : [])]) {
      const own = await h.call('update_record', { entity: 'account', id, values: { parentaccountid: parent } });
      expect(textOf(own), JSON.stringify(parent)).toBe(
        `Error (bad_input): values.parentaccountid is the account being updated (${id}): a record cannot be its own Parent Account.\nHow to fix: Ask the user which account is its Parent Account, and pass that one's id or whole name.`,
      );
    }
    expect(patchesSince(since)).toEqual([]);
    const parented = await h.call('update_record', { entity: 'account', id, values: { parentaccountid: other } });
    expect(parented.isError, textOf(parented)).toBeFalsy();
    // the other way round now would make a loop (AccountLoopBeingCreated): refused by Dynamics, said with the way on
    const loop = await h.call('update_record', { entity: 'account', id: other, values: { parentaccountid: id } });
    expect(textOf(loop)).toBe(
      `Error (validation): Dynamics refused the request: Creating this parental association would create a loop in Accounts hierarchy.\nHow to fix: The account named as its parent is below it in its hierarchy (its child, or a child's child): ask the user which account is its parent; to turn the two around, first clear the lower one's parent (update_record with {"parentaccountid": null}).`,
    );
    expect(emu.rows('account').find((a) => a.accountid === other)!.parentaccountid ?? null).toBeNull();
    // turned around as the answer says: the lower one's parent cleared first
    const cleared = await h.call('update_record', { entity: 'account', id, values: { parentaccountid: null } });
    expect(cleared.isError, textOf(cleared)).toBeFalsy();
    const turned = await h.call('update_record', { entity: 'account', id: other, values: { parentaccountid: id } });
    expect(turned.isError, textOf(turned)).toBeFalsy();
  });

  it('update_record: a column cleared with null is listed as cleared in what changed', async () => {
    const opp = emu.rows('opportunity').find((o) => o.statecode === 0)!;
    await h.call('update_record', {
      entity: 'opportunity',
      id: String(opp.opportunityid),
      values: { description: 'to be cleared' },
    });
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: String(opp.opportunityid),
      values: { description: null, closeprobability: 40 },
    });
    expect(r.structuredContent.changed).toEqual({ description: null, closeprobability: 40 });
    expect(emu.rows('opportunity').find((o) => o.opportunityid === opp.opportunityid)!.description).toBeNull();
  });

  it("update_record: a column Dynamics' forms require (a case's title or customer) is not emptied; nothing is sent", async () => {
    const acc = emu.rows('account').find((a) => emu.rows('account').filter((b) => b.name === a.name).length === 1)!;
    const made = await h.call('create_case', { title: 'Badge reader offline', customer: { accountId: acc.accountid } });
    expect(made.isError, textOf(made)).toBeFalsy();
    const kase = emu.rows('incident').find((c) => c.incidentid === made.structuredContent.id)!;
    const sent = emu.requests().length;
    for (const values of [{ title: '' }, { title: '   ' }, { title: null }, { customerid: null }]) {
      const r = await h.call('update_record', { entity: 'incident', id: String(kase.incidentid), values });
      const [column] = Object.keys(values);
      const label = column === 'title' ? 'Case Title' : 'Customer';
      expect(textOf(r), JSON.stringify(values)).toBe(
        `Error (bad_input): incident.${column} (${label}) is required in Dynamics: it cannot be emptied.\n` +
          'How to fix: Give it a new value, or leave it out of "values".',
      );
    }
    // beside an owner no user is, it is said in the same answer, checked as an update
    const both = await h.call('update_record', {
      entity: 'incident',
      id: String(kase.incidentid),
      values: { ownerid: 'Nobody Of That Name', title: '' },
    });
    expect(textOf(both).split('\n').slice(0, 3)).toEqual([
      'Error (bad_input): 2 values for an incident cannot be written:',
      expect.stringMatching(/^- incident\.ownerid 'Nobody Of That Name' is neither a user or team id/),
      '- incident.title (Case Title) is required in Dynamics: it cannot be emptied. Give it a new value, or leave it out of "values".',
    ]);
    expect(patchesSince(sent)).toEqual([]);
    expect(emu.rows('incident').find((c) => c.incidentid === kase.incidentid)!.title).toBe(kase.title);
  });

  it('update_record: a date of the right form that does not exist is refused before anything is sent', async () => {
    const opp = emu.rows('opportunity').find((o) => o.statecode === 0)!;
    const sent = emu.requests().length;
    for (const bad of ['2026-13-01', '2026-02-30', '2026-01-31T24:30:00Z']) {
      const r = await h.call('update_record', {
        entity: 'opportunity',
        id: String(opp.opportunityid),
        values: { estimatedclosedate: bad },
      });
      expect(textOf(r)).toBe(
        `Error (bad_input): opportunity.estimatedclosedate is a date; '${bad}' has the right form but is not a real date or time.\nHow to fix: Check the month (01-12), the day of that month and the time (00:00-23:59).`,
      );
    }
    expect(patchesSince(sent)).toEqual([]);
  });

  it('update_record: a won deal or a resolved case is reopened by its state; a case is not resolved that way', async () => {
    const opp = emu.rows('opportunity').find((o) => o.statecode === 1)!;
    const solved = emu.rows('incident').find((i) => i.statecode === 1)!;
    const active = emu.rows('incident').find((i) => i.statecode === 0)!;
    // reopening and reactivating are updates of the state (SetState: PATCH statecode, statuscode)
    const reopened = await h.call('update_record', {
      entity: 'opportunity',
      id: String(opp.opportunityid),
      values: { statecode: 'Open' },
    });
    expect(reopened.isError, textOf(reopened)).toBeFalsy();
    // the status reason the state went with is said as a change too
    expect(reopened.structuredContent.changed).toEqual({ statecode: 'Open (0)', statuscode: 'In Progress (1)' });
    expect(emu.rows('opportunity').find((o) => o.opportunityid === opp.opportunityid)).toMatchObject({
      statecode: 0,
      statuscode: 1,
    });
    const reactivated = await h.call('update_record', {
      entity: 'incident',
      id: String(solved.incidentid),
      values: { statecode: 'Active', statuscode: 'Waiting for Details' },
    });
    expect(reactivated.isError, textOf(reactivated)).toBeFalsy();
    expect(emu.rows('incident').find((i) => i.incidentid === solved.incidentid)).toMatchObject({
      statecode: 0,
      statuscode: 3,
    });
    // cancelling is an update of the state too, spelt either way: Dynamics' own labels are the case state
    // "Canceled" and its status reason "Cancelled"
    const toCancel = solved; // active again
    const cancelled = await h.call('update_record', {
      entity: 'incident',
      id: String(toCancel.incidentid),
      values: { statecode: 'Cancelled' },
    });
    expect(cancelled.isError, textOf(cancelled)).toBeFalsy();
    expect(cancelled.structuredContent.changed).toMatchObject({ statecode: 'Canceled (2)' });
    expect(emu.rows('incident').find((i) => i.incidentid === toCancel.incidentid)).toMatchObject({ statecode: 2 });
    // reopened as people say it: an open case is an Active one
    const back = await h.call('update_record', {
      entity: 'incident',
      id: String(toCancel.incidentid),
      values: { statecode: 'open', statuscode: 'in progress' },
    });
    expect(back.isError, textOf(back)).toBeFalsy();
    expect(emu.rows('incident').find((i) => i.incidentid === toCancel.incidentid)).toMatchObject({
      statecode: 0,
      statuscode: 1,
    });
    // resolving takes CloseIncident and what resolved it: refused here, by state or by a Resolved reason
    const sent = emu.requests().length;
    for (const values of [{ statecode: 1 }, { statuscode: 'Problem Solved' }]) {
      const resolved = await h.call('update_record', { entity: 'incident', id: String(active.incidentid), values });
      expect(textOf(resolved)).toBe(
        'Error (bad_input): A case is resolved with resolve_case, not by setting its state: Dynamics resolves cases with its CloseIncident action, which records what resolved it.\nHow to fix: Call resolve_case with the case id and the resolution.',
      );
    }
    // "closed", two states: the one to name, and where resolving is done (not the query that finds both)
    const closed = await h.call('update_record', {
      entity: 'incident',
      id: String(active.incidentid),
      values: { status: 'Closed' },
    });
    expect(textOf(closed)).toBe(
      `Error (bad_input): 'Closed' is not a value of incident.statecode: a closed incident is Resolved (1) or Canceled (2).\nHow to fix: Name the one meant: "Resolved" or "Canceled" (a case is resolved with resolve_case, which records what resolved it).`,
    );
    // other columns refused keep the plain answer
    const other = await h.call('update_record', {
      entity: 'opportunity',
      id: String(opp.opportunityid),
      values: { actualvalue: 1 },
    });
    expect(textOf(other)).toMatch(/How to fix: Writable columns of opportunity: /);
    expect(patchesSince(sent)).toEqual([]);
    // a policy that does not let statecode be written says what the state does, and refuses before sending
    const strict = await connectInMemory(emu, {
      env: {
        DYNAMICS_MCP_POLICY: builtInPolicyWith('no-states', (e) => ({
          ...e,
          opportunity: { ...e.opportunity!, write: e.opportunity!.write!.filter((c) => !/^state|^status/.test(c)) },
          incident: { ...e.incident!, write: e.incident!.write!.filter((c) => !/^state|^status/.test(c)) },
        })),
      },
    });
    try {
      const refused = await strict.call('update_record', {
        entity: 'opportunity',
        id: String(opp.opportunityid),
        values: { statecode: 'Open', statuscode: 'In Progress' },
      });
      expect(textOf(refused)).toMatch(
        /^Error \(policy\): Columns 'statecode', 'statuscode' of 'opportunity' cannot be written under this server's policy\.\nHow to fix: statecode "Won" or "Lost" closes an opportunity \(Dynamics' WinOpportunity or LoseOpportunity action\); reopening one \("Open"\) is an update of statecode, which this server's policy does not allow here\. Writable columns of opportunity: /,
      );
      const onHold = await strict.call('update_record', {
        entity: 'incident',
        id: String(active.incidentid),
        values: { statuscode: 'On Hold' },
      });
      expect(textOf(onHold)).toContain(
        'How to fix: Dynamics resolves a case through its CloseIncident action: use resolve_case. Writable columns of incident: ',
      );
      expect(patchesSince(sent)).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  it('update_record: a closed deal is read-only in Dynamics, and the refusal says how to go on; reopened, it is edited', async () => {
    const won = emu.rows('opportunity').find((o) => o.statecode === 1)!;
    const id = String(won.opportunityid);
    const since = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id,
      values: { description: 'Renewal next year' },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      /^Error \(bad_input\): This opportunity is Won: Dynamics keeps it read-only until it is reopened \(it said: .+\)\nHow to fix: Change it only if the user wants it reopened: update_record with \{"statecode": "Open"\} first, then the change\.$/,
    );
    expect(emu.rows('opportunity').find((o) => o.opportunityid === id)!.description).toBe(won.description);
    // one refused update, then one read of its state: nothing sent twice
    expect(patchesSince(since)).toHaveLength(1);
    const reopened = await h.call('update_record', { entity: 'opportunity', id, values: { statecode: 'Open' } });
    expect(reopened.isError, textOf(reopened)).toBeFalsy();
    const edited = await h.call('update_record', {
      entity: 'opportunity',
      id,
      values: { description: 'Renewal next year' },
    });
    expect(edited.isError, textOf(edited)).toBeFalsy();
    expect(emu.rows('opportunity').find((o) => o.opportunityid === id)!.description).toBe('Renewal next year');
  });

  it("update_record: what a note or a Case Resolution hangs from is not moved; a note's text is edited", async () => {
    const [from, to] = emu.rows('account');
    const added = await h.call('add_note', { entity: 'account', id: String(from!.accountid), text: 'Moves?' });
    const noteId = added.structuredContent.id;
    const sent = emu.requests().length;
    const moved = await h.call('update_record', {
      entity: 'annotation',
      id: noteId,
      values: { objectid: { entity: 'account', id: String(to!.accountid) } },
    });
    expect(textOf(moved)).toBe(
      "Error (bad_input): A note's record (objectid) is set when the note is added and is not changed here.\nHow to fix: Add the note to the other record with add_note instead.",
    );
    const incident = emu.rows('incident').find((i) => i.statecode === 0)!;
    const resolved = await h.call('resolve_case', { id: String(incident.incidentid), resolution: 'Fixed' });
    expect(resolved.isError, textOf(resolved)).toBeFalsy();
    const resolution = emu
      .rows('incidentresolution')
      .find((r) => (r.incidentid as { id: string }).id === incident.incidentid)!;
    const rewritten = await h.call('update_record', {
      entity: 'incidentresolution',
      id: String(resolution.activityid),
      values: { subject: 'Not fixed after all' },
    });
    expect(textOf(rewritten)).toBe(
      'Error (bad_input): A Case Resolution is written with its case by resolve_case; its subject is not changed here.\nHow to fix: Add what changed to the case as a note (add_note) instead.',
    );
    expect(patchesSince(sent).filter((q) => !q.url.startsWith('/api/data/v9.2/annotations('))).toEqual([]);
    const edited = await h.call('update_record', {
      entity: 'annotation',
      id: noteId,
      values: { notetext: 'Moved? No.' },
    });
    expect(edited.isError, textOf(edited)).toBeFalsy();
    const note = emu.rows('annotation').find((n) => n.annotationid === noteId)!;
    expect(note).toMatchObject({ notetext: 'Moved? No.', objectid: { id: from!.accountid, entity: 'account' } });
  });

  it('update_record: a number dressed for reading ($, separators, %) is refused, not guessed', async () => {
    const opp = emu.rows('opportunity').find((o) => o.statecode === 0)!;
    const sent = emu.requests().length;
    for (const [column, value] of [
      ['estimatedvalue', '$120,000'],
      ['estimatedvalue', '1.200,50'],
      ['estimatedvalue', '30%'],
    ]) {
      const r = await h.call('update_record', {
        entity: 'opportunity',
        id: String(opp.opportunityid),
        values: { [column!]: value },
      });
      expect(textOf(r)).toBe(
        `Error (bad_input): opportunity.${column} is a number; '${value}' is not.\n` +
          'How to fix: Pass the number alone, as JSON: no currency symbol, thousands separator or %, e.g. 120000 or 30.',
      );
    }
    // a scale in letters is no locale's: the number in full is said (and still not sent)
    const scaled = await h.call('update_record', {
      entity: 'opportunity',
      id: String(opp.opportunityid),
      values: { estimatedvalue: '250k' },
    });
    expect(textOf(scaled)).toBe(
      "Error (bad_input): opportunity.estimatedvalue is a number; '250k' is not.\nHow to fix: Pass the number in full, as JSON: for '250k', 250000.",
    );
    // and in words, after a currency symbol, or with what it counts: the number the user meant, still not sent
    for (const [column, value, hint] of [
      ['estimatedvalue', '1.5 million', "Pass the number in full, as JSON: for '1.5 million', 1500000."],
      ['estimatedvalue', '$2M', "Pass the number in full, as JSON: for '$2M', 2000000."],
      ['estimatedvalue', '250 thousand', "Pass the number in full, as JSON: for '250 thousand', 250000."],
      ['closeprobability', '40 percent', "Pass the number alone, as JSON: for '40 percent', 40."],
    ]) {
      const r = await h.call('update_record', {
        entity: 'opportunity',
        id: String(opp.opportunityid),
        values: { [column!]: value },
      });
      expect(textOf(r)).toBe(
        `Error (bad_input): opportunity.${column} is a number; '${value}' is not.\nHow to fix: ${hint}`,
      );
    }
    // so is a percent where the column counts percent (0 to 100: a deal's probability)
    const percent = await h.call('update_record', {
      entity: 'opportunity',
      id: String(opp.opportunityid),
      values: { closeprobability: '30%' },
    });
    expect(textOf(percent)).toBe(
      "Error (bad_input): opportunity.closeprobability is a number; '30%' is not.\nHow to fix: Pass the number alone, as JSON: closeprobability counts percent (0 to 100), so '30%' is 30.",
    );
    const words = await h.call('update_record', {
      entity: 'opportunity',
      id: String(opp.opportunityid),
      values: { closeprobability: 'thirty' },
    });
    expect(textOf(words)).toMatch(/How to fix: Pass a whole number from 0 to 100\.$/);
    expect(patchesSince(sent)).toEqual([]);
  });

  it('an email column takes one address: pasted from a mail client it is that address; anything else is refused', async () => {
    const contact = emu.rows('contact')[3]!;
    const id = String(contact.contactid);
    const pasted = await h.call('update_record', {
      entity: 'contact',
      id,
      values: { emailaddress1: ' Rosa Wang <rosa.wang@fabrikam.example> ' },
    });
    expect(pasted.isError, textOf(pasted)).toBeFalsy();
    expect(emu.rows('contact').find((c) => c.contactid === contact.contactid)!.emailaddress1).toBe(
      'rosa.wang@fabrikam.example',
    );
    const sent = emu.requests().length;
    for (const value of ['rosa at fabrikam dot com', 'rosa@fabrikam.example, bob@fabrikam.example', 'rosa@']) {
      const r = await h.call('update_record', { entity: 'contact', id, values: { emailaddress1: value } });
      expect(textOf(r)).toBe(
        `Error (bad_input): contact.emailaddress1 is an email address; '${value}' is not one.\n` +
          'How to fix: Pass one address alone, e.g. ana@example.com.',
      );
    }
    expect(patchesSince(sent)).toEqual([]);
    // null still clears it, and a column that is no email takes any text
    const cleared = await h.call('update_record', { entity: 'contact', id, values: { emailaddress1: null } });
    expect(cleared.isError, textOf(cleared)).toBeFalsy();
    // null written in quotes clears as null does: never the text "null" in a phone number
    await h.call('update_record', { entity: 'contact', id, values: { mobilephone: '+1 555 0142' } });
    const quoted = await h.call('update_record', { entity: 'contact', id, values: { mobilephone: 'null' } });
    expect(quoted.isError, textOf(quoted)).toBeFalsy();
    expect(quoted.structuredContent.previous).toEqual({ mobilephone: '+1 555 0142' });
    expect(emu.rows('contact').find((c) => c.contactid === id)!.mobilephone ?? null).toBeNull();
    const job = await h.call('update_record', { entity: 'contact', id, values: { jobtitle: 'rosa at fabrikam' } });
    expect(job.isError, textOf(job)).toBeFalsy();
  });

  it("update_record: a date in words is refused with today's date, to work it out from", async () => {
    const opp = emu.rows('opportunity').find((o) => o.statecode === 0)!;
    const sent = emu.requests().length;
    // today, and the Friday after it, as the model is told them
    const day = () => {
      const now = new Date();
      const friday = new Date(now.getTime() + ((5 - now.getUTCDay() + 7) % 7 || 7) * 86_400_000);
      // the last before today: on a Friday, a week ago (the test took friday − 7 days, today, until it ran on one)
      const last = new Date(now.getTime() - ((now.getUTCDay() - 5 + 7) % 7 || 7) * 86_400_000);
      const weekday = now.toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });
      return `${weekday} ${now.toISOString().slice(0, 10)} (UTC); Friday: the last was ${last.toISOString().slice(0, 10)}, ${now.getUTCDay() === 5 ? 'today is one, ' : ''}the coming one is ${friday.toISOString().slice(0, 10)}`;
    };
    const days = [day()];
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: String(opp.opportunityid),
      values: { estimatedclosedate: 'next friday' },
    });
    days.push(day());
    expect(textOf(r)).toMatch(
      /^Error \(bad_input\): opportunity\.estimatedclosedate is a date; 'next friday' is not an ISO date\./,
    );
    expect(days.map((d) => `Work the date out (today is ${d}`)).toContainEqual(
      textOf(r).match(/Work the date out \(today is .+?, the coming one is [\d-]+/)?.[0],
    );
    // a close date is a day: the hint asks for one, not for a date and time
    expect(textOf(r)).toMatch(/, the one after [\d-]+\) and pass it as YYYY-MM-DD: this column holds a day, no time\./);
    expect(textOf(r)).not.toMatch(/date-time/);
    // a filter's relative operators mean nothing to a write
    expect(textOf(r)).not.toMatch(/lastXDays|where/);
    expect(patchesSince(sent)).toEqual([]);
  });

  it('a client that cannot be asked (no elicitation) has the write made, and the log says it went unconfirmed', async () => {
    const policy = builtInPolicyWith('confirm-unasked', (e) => ({ ...e, lead: { ...e.lead, confirmWrites: true } }));
    const plain = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    try {
      const lead = emu.rows('lead').filter((l) => l.statecode === 0)[2]!;
      const r = await plain.call('update_record', {
        entity: 'lead',
        id: String(lead.leadid),
        values: { subject: 'Changed unasked' },
      });
      expect(r.structuredContent.updated, textOf(r)).toBe(true);
      expect(emu.rows('lead').find((l) => l.leadid === lead.leadid)!.subject).toBe('Changed unasked');
      const warned = plain.logs.filter((l) => l.includes('the policy asks the user to confirm this write'));
      expect(warned).toHaveLength(1);
      expect(JSON.parse(warned[0]!)).toMatchObject({ entity: 'lead', id: lead.leadid, action: 'update' });
    } finally {
      await plain.close();
    }
  });

  it('update_record asks the user first when the policy says so and the client can be asked', async () => {
    const policy = builtInPolicyWith('confirm', (e) => ({ ...e, lead: { ...e.lead, confirmWrites: true } }));
    const { h: c, asked, user } = await connectAsking(emu, { DYNAMICS_MCP_POLICY: policy });
    const lead = emu.rows('lead')[0]!;
    const declined = await c.call('update_record', {
      entity: 'lead',
      id: String(lead.leadid),
      values: { subject: 'Changed?' },
    });
    expect(declined.structuredContent.updated).toBe(false);
    expect(emu.rows('lead').find((l) => l.leadid === lead.leadid)!.subject).toBe(lead.subject);
    user.choice = 'accept';
    const accepted = await c.call('update_record', {
      entity: 'lead',
      id: String(lead.leadid),
      values: { subject: 'Changed!' },
    });
    expect(accepted.structuredContent.updated).toBe(true);
    expect(asked[0]).toContain('subject = "Changed?"');
    await c.close();
  });

  it('a create whose response is lost after commit still makes exactly one record', async () => {
    emu.addFault({ match: { method: 'PATCH', path: '/api/data/v9.2/leads(' }, action: 'reset-after' });
    const r = await h.call('create_lead', { lastName: 'Lost', email: 'lost@example.com' });
    expect(r.isError).toBeFalsy();
    expect(leadsWith('lost@example.com')).toHaveLength(1);
  });
});
