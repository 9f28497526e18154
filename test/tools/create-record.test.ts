import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fiscalQuarter } from '../../src/dynamics/fiscal.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { writesSince } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import {
  auditLog,
  builtInPolicyWith,
  connectAsking,
  connectInMemory,
  type McpHarness,
  textOf,
} from '../helpers/mcp.js';

describe('create_record: accounts, contacts and opportunities', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const audit = auditLog('create-record');
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 20 });
    h = await connectInMemory(emu, { env: { DYNAMICS_MCP_AUDIT_LOG: audit.path } });
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });
  beforeEach(() => emu.clearFaults());

  const posts = (since: number) =>
    emu
      .requests()
      .slice(since)
      .filter((q) => q.method === 'POST' || q.method === 'PATCH')
      .filter((q) => q.url.startsWith('/api/data/') && !q.url.includes('$batch'));
  const account = () =>
    emu.rows('account').find((a) => emu.rows('account').filter((b) => b.name === a.name).length === 1)!;

  it('creates a contact for an account named as people say it, with a pasted address, and audits it', async () => {
    const parent = account();
    const r = await h.call('create_record', {
      entity: 'contacts',
      values: {
        firstname: 'Jane',
        lastname: 'Doe',
        emailaddress1: ' Jane Doe <jane.doe@fabrikam.example> ',
        parentcustomerid: String(parent.name),
        'Job Title': 'CTO',
      },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ entity: 'contact', duplicate: false });
    expect(textOf(r)).toMatch(/^Created contact "Jane Doe" \([0-9a-f-]{36}\): https:/);
    // the account the name was taken to be is said, where the user reads it
    expect(textOf(r)).toMatch(new RegExp(`: https:\\S+ Company Name: ${parent.name} \\(account\\)\\.$`));
    const made = emu.rows('contact').find((c) => c.contactid === r.structuredContent.id)!;
    expect(made).toMatchObject({
      firstname: 'Jane',
      lastname: 'Doe',
      emailaddress1: 'jane.doe@fabrikam.example',
      jobtitle: 'CTO',
      parentcustomerid: { id: parent.accountid, entity: 'account' },
    });
    expect(r.structuredContent.url).toContain(`etn=contact&id=${made.contactid}`);
    expect(await audit.last()).toMatchObject({ tool: 'create_record', entity: 'contact', id: made.contactid });
  });

  it('the same email again (any casing) is the contact that has it; allowDuplicate makes another', async () => {
    const email = 'ana.silva@contoso.example';
    const first = await h.call('create_record', {
      entity: 'contact',
      values: { lastname: 'Silva', emailaddress1: email },
    });
    const since = emu.requests().length;
    const again = await h.call('create_record', {
      entity: 'contact',
      values: { lastname: 'Silva', emailaddress1: email.toUpperCase() },
    });
    expect(again.structuredContent).toMatchObject({ id: first.structuredContent.id, duplicate: true });
    expect(textOf(again)).toContain(`A contact with emailaddress1 '${email}' already exists`);
    expect(posts(since)).toEqual([]);
    expect(await audit.last()).toMatchObject({ outcome: 'duplicate: existing record returned' });
    const another = await h.call('create_record', {
      entity: 'contact',
      values: { lastname: 'Silva', emailaddress1: email },
      allowDuplicate: true,
    });
    expect(another.structuredContent.duplicate).toBe(false);
    expect(emu.rows('contact').filter((c) => c.emailaddress1 === email)).toHaveLength(2);
  });

  it('a contact without an email is the same one by first and last name at the same company; elsewhere, another', async () => {
    const [a, b] = emu.rows('account').filter((x) => emu.rows('account').filter((y) => y.name === x.name).length === 1);
    const person = (values: Record<string, unknown>) => h.call('create_record', { entity: 'contact', values });
    const first = await person({ firstname: 'Ines', lastname: 'Okonkwo', parentcustomerid: String(a!.name) });
    expect(first.structuredContent.duplicate, textOf(first)).toBe(false);
    const again = await person({
      firstname: 'ines',
      lastname: 'OKONKWO ',
      parentcustomerid: String(a!.name),
      jobtitle: 'CFO',
    });
    expect(again.structuredContent).toMatchObject({ duplicate: true, id: first.structuredContent.id });
    expect(textOf(again)).toContain(
      "A contact with firstname 'ines' and lastname 'OKONKWO' for the same parentcustomerid already exists",
    );
    // at another company, or with no company to tell, it is another person
    const elsewhere = await person({
      firstname: 'Ines',
      lastname: 'Okonkwo',
      parentcustomerid: { entity: 'account', id: b!.accountid },
    });
    expect(elsewhere.structuredContent.duplicate).toBe(false);
    const nowhere = await person({ firstname: 'Ines', lastname: 'Okonkwo' });
    expect(nowhere.structuredContent.duplicate).toBe(false);
    expect(emu.rows('contact').filter((c) => c.lastname === 'Okonkwo')).toHaveLength(3);
  });

  it('a contact with an email no contact has: the same person at the same company without one is theirs, with the update that adds it', async () => {
    const [a, b] = emu.rows('account').filter((x) => emu.rows('account').filter((y) => y.name === x.name).length === 1);
    const person = (values: Record<string, unknown>) => h.call('create_record', { entity: 'contact', values });
    const them = () => emu.rows('contact').filter((c) => c.lastname === 'Adeyemi' && c.firstname === 'Tolu');
    const first = await person({ firstname: 'Tolu', lastname: 'Adeyemi', parentcustomerid: String(a!.name) });
    expect(first.structuredContent.duplicate, textOf(first)).toBe(false);
    const id = first.structuredContent.id;
    const since = emu.requests().length;
    const again = await person({
      'First Name': 'Tolu',
      lastname: 'Adeyemi',
      parentcustomerid: String(a!.name),
      emailaddress1: 'Tolu.Adeyemi@example.com',
      jobtitle: 'Head of IT',
    });
    expect(again.structuredContent).toMatchObject({ duplicate: true, id });
    expect(textOf(again)).toBe(
      `A contact with firstname 'Tolu' and lastname 'Adeyemi' for the same parentcustomerid, without an email, already exists (${id}): most likely the same person, so it was not created again. To add what this call gives, call update_record on it with {"emailaddress1":"tolu.adeyemi@example.com","jobtitle":"Head of IT"} (it replaces what those columns hold); only if they are different people, pass allowDuplicate: true to create another.`,
    );
    expect(posts(since)).toEqual([]);
    const update = JSON.parse(/with (\{.*\}) \(it replaces/.exec(textOf(again))![1]!);
    const added = await h.call('update_record', { entity: 'contact', id, values: update });
    expect(added.isError, textOf(added)).toBeFalsy();
    expect(them()).toEqual([
      expect.objectContaining({ contactid: id, emailaddress1: 'tolu.adeyemi@example.com', jobtitle: 'Head of IT' }),
    ]);
    // now found by the email; another email, another company, or no company to tell: another person
    const byEmail = await person({ lastname: 'Adeyemi', emailaddress1: 'tolu.adeyemi@example.com' });
    expect(byEmail.structuredContent).toMatchObject({ duplicate: true, id });
    const other = await person({
      firstname: 'Tolu',
      lastname: 'Adeyemi',
      parentcustomerid: String(a!.name),
      emailaddress1: 'tolu@elsewhere.example',
    });
    expect(other.structuredContent.duplicate, textOf(other)).toBe(false);
    const elsewhere = await person({
      firstname: 'Tolu',
      lastname: 'Adeyemi',
      parentcustomerid: { entity: 'account', id: b!.accountid },
      emailaddress1: 'tolu@b.example',
    });
    expect(elsewhere.structuredContent.duplicate, textOf(elsewhere)).toBe(false);
    expect(them()).toHaveLength(3);
  });

  it('ten concurrent creates of one account make one account; an account name is compared without case', async () => {
    const rs = await Promise.all(
      Array.from({ length: 10 }, () =>
        h.call('create_record', {
          entity: 'account',
          values: { name: 'Fabrikam Robotics', telephone1: '+1 555 0199' },
        }),
      ),
    );
    expect(rs.filter((r) => r.isError)).toEqual([]);
    expect(textOf(rs[0]!)).toMatch(/^(Created account "Fabrikam Robotics" \(|An account with name)/);
    expect(new Set(rs.map((r) => r.structuredContent.id)).size).toBe(1);
    expect(emu.rows('account').filter((a) => a.name === 'Fabrikam Robotics')).toHaveLength(1);
    const lower = await h.call('create_record', { entity: 'account', values: { name: 'fabrikam robotics' } });
    expect(lower.structuredContent).toMatchObject({ duplicate: true, id: rs[0]!.structuredContent.id });
  });

  it('an opportunity is the same one only for the same customer; its customer by name', async () => {
    const [a, b] = emu.rows('account').filter((x) => emu.rows('account').filter((y) => y.name === x.name).length === 1);
    const make = (customer: unknown) =>
      h.call('create_record', {
        entity: 'opportunity',
        values: { name: 'Robot fleet', customerid: customer, estimatedvalue: 50_000, estimatedclosedate: '2027-02-15' },
      });
    const forA = await make(String(a!.name));
    const forB = await make({ entity: 'account', id: b!.accountid });
    expect(forA.structuredContent.duplicate).toBe(false);
    expect(forB.structuredContent.duplicate).toBe(false);
    expect(forB.structuredContent.id).not.toBe(forA.structuredContent.id);
    const again = await make(String(a!.name));
    expect(again.structuredContent).toMatchObject({ duplicate: true, id: forA.structuredContent.id });
    expect(textOf(again)).toContain("An opportunity with name 'Robot fleet' for the same customerid already exists");
    const deal = emu.rows('opportunity').find((o) => o.opportunityid === forA.structuredContent.id)!;
    expect(deal).toMatchObject({ statecode: 0, estimatedvalue: 50_000, customerid: { id: a!.accountid } });
    // made app-only without an owner, it is the application user's, in no seller's views: said, with the fix
    const app = emu.rows('systemuser').find((u) => u.applicationid === emu.clientId)!;
    expect((deal.ownerid as { id: string }).id).toBe(app.systemuserid);
    const owned =
      ' Its owner is the application user this server signs in as, since no ownerid was given: to give it to a person or a team, set ownerid to their name with update_record.';
    expect(textOf(forA).endsWith(owned)).toBe(true);
    const seller = emu.rows('systemuser').find((u) => u.fullname === 'Karin Olsen')!;
    const given = await h.call('create_record', {
      entity: 'opportunity',
      values: { name: 'Robot arms', customerid: String(a!.name), ownerid: 'Karin Olsen' },
    });
    expect(textOf(given)).not.toContain('Its owner is');
    expect(emu.rows('opportunity').find((o) => o.opportunityid === given.structuredContent.id)!.ownerid).toMatchObject({
      id: seller.systemuserid,
    });
    // a lead alike; an account, whose owner the built-in policy does not let the model set, says nothing
    const lead = await h.call('create_lead', { lastName: 'Owner-less', email: 'ownerless@example.com' });
    expect(textOf(lead).endsWith(owned)).toBe(true);
    const account = await h.call('create_record', { entity: 'account', values: { name: 'Ownerless Widgets' } });
    expect(account.isError, textOf(account)).toBeFalsy();
    expect(textOf(account)).not.toContain('Its owner is');
  });

  // Dynamics' opportunity forms show Account and Contact, not Potential Customer, and fill it from them
  it('a deal given only its account (or contact) has that as its Potential Customer; one given stays', async () => {
    const [a, b] = emu.rows('account').filter((x) => emu.rows('account').filter((y) => y.name === x.name).length === 1);
    const person = emu.rows('contact')[0]!;
    const deal = async (values: Record<string, unknown>) => {
      const r = await h.call('create_record', { entity: 'opportunity', values });
      expect(r.isError, textOf(r)).toBeFalsy();
      return emu.rows('opportunity').find((o) => o.opportunityid === r.structuredContent.id)!;
    };
    expect(
      await deal({ name: 'By account', parentaccountid: String(a!.name), parentcontactid: person.contactid }),
    ).toMatchObject({
      customerid: { entity: 'account', id: a!.accountid },
      parentaccountid: { id: a!.accountid },
      parentcontactid: { id: person.contactid },
    });
    expect(await deal({ name: 'By contact', Contact: { entity: 'contact', id: person.contactid } })).toMatchObject({
      customerid: { entity: 'contact', id: person.contactid },
    });
    expect(
      await deal({ name: 'Both', parentaccountid: a!.accountid, customerid: { entity: 'account', id: b!.accountid } }),
    ).toMatchObject({ customerid: { id: b!.accountid }, parentaccountid: { id: a!.accountid } });
    const none = await h.call('create_record', { entity: 'opportunity', values: { name: 'No customer' } });
    expect(textOf(none)).toContain('A new opportunity needs customerid (Potential Customer).');
  });

  // "PhoneCall entity reference": StateCode is not valid for create, Direction defaults to Outgoing, a completed
  // call is Made or Received and read-only
  it('a call is logged about a record once that day, completed as Made or, coming in, Received, and then read-only', async () => {
    const deal = emu.rows('opportunity').find((o) => o.statecode === 0)!;
    const log = (values: Record<string, unknown>) => h.call('create_record', { entity: 'Phone Calls', values });
    const calls = () => emu.rows('phonecall').filter((c) => c.subject === 'Volume discounts');
    const first = await log({
      subject: 'Volume discounts',
      regardingobjectid: String(deal.name),
      Direction: 'Incoming',
      actualdurationminutes: 20,
      description: 'Asked for 10% off above 500 seats.',
    });
    expect(first.isError, textOf(first)).toBeFalsy();
    expect(calls()).toMatchObject([
      {
        activityid: first.structuredContent.id,
        regardingobjectid: { id: deal.opportunityid, entity: 'opportunity' },
        directioncode: false,
        actualdurationminutes: 20,
        statecode: 0,
        statuscode: 1,
      },
    ]);
    // the model repeating itself that day: the call already logged
    const again = await log({ subject: 'Volume discounts', regardingobjectid: String(deal.name) });
    expect(again.structuredContent).toMatchObject({ duplicate: true, id: first.structuredContent.id });
    expect(textOf(again)).toContain('already exists, made today');
    // completed: Received, since it came in (the state's default reason, Made, is a call made)
    const done = await h.call('update_record', {
      entity: 'phonecall',
      id: first.structuredContent.id,
      values: { statecode: 'Completed' },
    });
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(done.structuredContent.changed).toMatchObject({ statecode: 'Completed (1)', statuscode: 'Received (4)' });
    // still the same call that day, done or not
    const thrice = await log({ subject: 'Volume discounts', regardingobjectid: String(deal.name) });
    expect(thrice.structuredContent).toMatchObject({ duplicate: true, id: first.structuredContent.id });
    expect(calls()).toHaveLength(1);
    const edit = await h.call('update_record', {
      entity: 'phonecall',
      id: first.structuredContent.id,
      values: { description: 'Wants 15%.' },
    });
    expect(textOf(edit)).toContain('This phone call is Completed: Dynamics keeps it read-only until it is reopened');
    // a status reason alone says its state: "Received" completes an open call
    const heard = await log({
      subject: 'Renewal questions',
      regardingobjectid: String(deal.name),
      Direction: 'Incoming',
    });
    const reason = await h.call('update_record', {
      entity: 'phonecall',
      id: heard.structuredContent.id,
      values: { statuscode: 'Received' },
    });
    expect(reason.isError, textOf(reason)).toBeFalsy();
    expect(emu.rows('phonecall').find((c) => c.activityid === heard.structuredContent.id)).toMatchObject({
      statecode: 1,
      statuscode: 4,
    });
    // a call made (Outgoing, the default) completes as Made; the deal lists its calls
    const made = await log({
      subject: 'Contract terms',
      regardingobjectid: { entity: 'opportunity', id: deal.opportunityid },
    });
    await h.call('update_record', {
      entity: 'phonecall',
      id: made.structuredContent.id,
      values: { statecode: 'Completed' },
    });
    expect(emu.rows('phonecall').find((c) => c.activityid === made.structuredContent.id)).toMatchObject({
      directioncode: true,
      statecode: 1,
      statuscode: 2,
    });
    const listed = await h.call('get_record', {
      entity: 'opportunity',
      id: String(deal.opportunityid),
      select: ['name'],
      expand: [{ relation: 'Opportunity_Phonecalls', select: ['subject', 'statuscode'] }],
    });
    expect(listed.isError, textOf(listed)).toBeFalsy();
    expect(JSON.stringify(listed.structuredContent)).toContain(
      '"subject":"Volume discounts","statuscode":"Received (4)"',
    );
  });

  it("a duration (IntegerFormat Duration) is minutes, or a duration in words as Dynamics' duration fields take it", async () => {
    const described = await h.call('describe_entity', { entity: 'task' });
    const column = (name: string) =>
      described.structuredContent.entity.columns.find((c: { name: string }) => c.name === name);
    expect(column('actualdurationminutes')).toMatchObject({ type: 'Integer', behavior: 'Duration (minutes)' });
    expect(column('percentcomplete').behavior).toBeUndefined();
    const deal = emu.rows('opportunity').filter((o) => o.statecode === 0)[2]!;
    const made = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Draft the SOW', regardingobjectid: String(deal.name), actualdurationminutes: '1 h 15 min' },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    const task = () => emu.rows('task').find((t) => t.activityid === made.structuredContent.id)!;
    expect(task().actualdurationminutes).toBe(75);
    const changed = await h.call('update_record', {
      entity: 'task',
      id: made.structuredContent.id,
      values: { actualdurationminutes: 'half an hour' },
    });
    expect(changed.isError, textOf(changed)).toBeFalsy();
    expect(task().actualdurationminutes).toBe(30);
    // compared in a condition as the same minutes
    const inWords = await h.call('query_entities', {
      entity: 'task',
      where: { actualdurationminutes: { ge: '0.5 hours' } },
      select: ['subject'],
    });
    const inMinutes = await h.call('query_entities', {
      entity: 'task',
      where: { actualdurationminutes: { ge: 30 } },
      select: ['subject'],
    });
    expect(inWords.isError, textOf(inWords)).toBeFalsy();
    expect(inWords.structuredContent.records).toEqual(inMinutes.structuredContent.records);
    expect(inWords.structuredContent.records.map((r: { id: string }) => r.id)).toContain(made.structuredContent.id);
    // a unit that is no duration's is answered with what the column takes; nothing is written
    const since = emu.requests().length;
    const refused = await h.call('update_record', {
      entity: 'task',
      id: made.structuredContent.id,
      values: { actualdurationminutes: '3 weeks' },
    });
    expect(textOf(refused)).toMatch(
      /task\.actualdurationminutes is a number; '3 weeks' is not\.[\s\S]*Pass the minutes \(actualdurationminutes is a duration\), e\.g\. 30, or the duration in words: "1\.5 hours", "2 days"\./,
    );
    expect(posts(since)).toEqual([]);
    expect(task().actualdurationminutes).toBe(30);
  });

  it('a call already made is logged done in one call; asked again that day, it is the same call, still done', async () => {
    const deal = emu.rows('opportunity').filter((o) => o.statecode === 0)[1]!;
    const values = {
      subject: 'Walked through the renewal',
      regardingobjectid: { entity: 'opportunity', id: deal.opportunityid },
      actualdurationminutes: 25,
      statecode: 'Completed',
    };
    const since = emu.requests().length;
    const logged = await h.call('create_record', { entity: 'phonecall', values });
    expect(logged.isError, textOf(logged)).toBeFalsy();
    expect(logged.structuredContent).toMatchObject({ duplicate: false, state: 'Completed (1), Made (2)' });
    expect(textOf(logged)).toMatch(
      /^Created phonecall "Walked through the renewal" \(.*\): .* It is Completed \(1\), Made \(2\)\.$/,
    );
    const calls = () => emu.rows('phonecall').filter((c) => c.subject === values.subject);
    expect(calls()).toMatchObject([{ statecode: 1, statuscode: 2, actualdurationminutes: 25 }]);
    // made open (StateCode is not valid for create: its own id, If-None-Match: *), then completed
    const writes = emu
      .requests()
      .slice(since)
      .filter((q) => q.method !== 'GET' && q.url.includes('/phonecalls'));
    expect(writes.map((q) => [q.method, q.status])).toEqual([
      ['PATCH', 204],
      ['PATCH', 200],
    ]);
    expect(await audit.last()).toMatchObject({ tool: 'create_record', action: 'update', entity: 'phonecall' });
    // a retry: the call already logged, still done, nothing written
    const mark = emu.requests().length;
    const again = await h.call('create_record', { entity: 'phonecall', values });
    expect(again.structuredContent).toMatchObject({
      duplicate: true,
      id: logged.structuredContent.id,
      state: 'Completed (1), Made (2)',
    });
    expect(calls()).toHaveLength(1);
    expect(
      emu
        .requests()
        .slice(mark)
        .filter((q) => q.method !== 'GET' && q.url.includes('/phonecalls')),
    ).toEqual([]);
    // a task done already, likewise
    const task = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Sent the revised quote', regardingobjectid: String(deal.name), statecode: 'Completed' },
    });
    expect(task.structuredContent.state, textOf(task)).toBe('Completed (1), Completed (5)');
    // "Open", where every task starts, is no state to write; a reason of it ("In Progress") is
    const open = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Draft the renewal terms', regardingobjectid: String(deal.name), statecode: 'Open' },
    });
    expect(open.isError, textOf(open)).toBeFalsy();
    expect(open.structuredContent.state).toBeUndefined();
    const going = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Review the terms', regardingobjectid: String(deal.name), statuscode: 'In Progress' },
    });
    expect(going.structuredContent.state, textOf(going)).toBe('Open (0), In Progress (3)');
    // a reason of another state says that state too: a call received
    const received = await h.call('create_record', {
      entity: 'phonecall',
      values: { subject: 'Asked about invoices', regardingobjectid: String(deal.name), statuscode: 'Received' },
    });
    expect(received.structuredContent.state, textOf(received)).toBe('Completed (1), Received (4)');
    // made but not completed (a role that may create calls but not change them): said, with how to finish it
    emu.configure({
      role: {
        privileges: Object.fromEntries(
          ['account', 'contact', 'lead', 'opportunity', 'incident', 'phonecall', 'systemuser'].map((t) => [
            t,
            {
              read: true,
              create: true,
              write: t !== 'phonecall',
              delete: true,
              append: true,
              appendTo: true,
              assign: true,
            },
          ]),
        ),
      },
    });
    try {
      const half = await h.call('create_record', {
        entity: 'phonecall',
        values: { ...values, subject: 'Agreed the start date' },
      });
      const made = emu.rows('phonecall').find((c) => c.subject === 'Agreed the start date')!;
      expect(made).toMatchObject({ statecode: 0 });
      expect(textOf(half)).toMatch(
        new RegExp(
          `^Error \\(permission\\): The phonecall is there \\(${made.activityid}\\), but its state was not set: .*\\nHow to fix: Set it with update_record on phonecall ${made.activityid} with \\{"statecode":"Completed"\\}; do not create it again\\.`,
        ),
      );
    } finally {
      await emu.reset();
    }
  });

  // Call From and Call To are party lists: Dataverse keeps their people as the call's phonecall_activity_parties
  // (ActivityParty: ParticipationTypeMask 1 Sender, 2 To Recipient), made with the call
  it("a deal's currency is given by its name or ISO code, and its value in the base currency follows", async () => {
    const acc = account();
    const eur = emu.rows('transactioncurrency').find((c) => c.isocurrencycode === 'EUR')!;
    const made = await h.call('create_record', {
      entity: 'opportunity',
      values: {
        name: 'Euro pilot',
        parentaccountid: acc.accountid,
        estimatedvalue: 92000,
        transactioncurrencyid: 'eur',
      },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    expect(textOf(made)).toContain('Currency: Euro (transactioncurrency).');
    const row = () => emu.rows('opportunity').find((o) => o.opportunityid === made.structuredContent.id)!;
    expect(row().transactioncurrencyid).toMatchObject({ id: eur.transactioncurrencyid });
    expect(row().estimatedvalue_base).toBeCloseTo(92000 / Number(eur.exchangerate), 2);
    const back = await h.call('update_record', {
      entity: 'opportunity',
      id: made.structuredContent.id,
      values: { transactioncurrencyid: 'US Dollar' },
    });
    expect(back.structuredContent.changed).toMatchObject({ transactioncurrencyid: { name: 'US Dollar' } });
    expect(row().estimatedvalue_base).toBe(92000);
    // a close date as a period's edge is that day, said in the answer; a date and time is not guessed
    const monthEnd = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 0))
      .toISOString()
      .slice(0, 10);
    const edged = await h.call('create_record', {
      entity: 'opportunity',
      values: { name: 'Month-end pilot', parentaccountid: acc.accountid, estimatedclosedate: 'the end of the month' },
    });
    expect(textOf(edged)).toContain(`Est. Close Date: ${monthEnd} (the end of the month).`);
    expect(
      emu.rows('opportunity').find((o) => o.opportunityid === edged.structuredContent.id)!.estimatedclosedate,
    ).toBe(monthEnd);
    const task = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Edge of a week', regardingobjectid: acc.accountid, scheduledend: 'end of next week' },
    });
    expect(textOf(task)).toMatch(/task\.scheduledend is a date; 'end of next week' is not an ISO date/);
    // a due date is a moment: a date-time is offered beside the day
    expect(textOf(task)).toMatch(/pass it as YYYY-MM-DD, or as an ISO date-time such as/);
    // a day said from today is that day (noon UTC, as any bare day for a date and time), said in the answer
    const fortnight = new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10);
    const soon = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Renewal check', regardingobjectid: acc.accountid, scheduledend: 'in 2 weeks' },
    });
    expect(textOf(soon)).toContain(`Due Date: ${fortnight} (in 2 weeks).`);
    expect(emu.rows('task').find((t) => t.activityid === soon.structuredContent.id)!.scheduledend).toBe(
      `${fortnight}T12:00:00Z`,
    );
    // a day with its month's name is that day, whatever the locale
    const named = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Board pack', regardingobjectid: acc.accountid, scheduledend: 'March 3, 2027' },
    });
    expect(textOf(named)).toContain('Due Date: 2027-03-03 (March 3, 2027).');
    // a close date at business shorthand for this quarter's end, said in the answer
    const eoq = await h.call('create_record', {
      entity: 'opportunity',
      values: { name: 'Quarter-end deal', customerid: acc.accountid, estimatedclosedate: 'EOQ' },
    });
    expect(textOf(eoq)).toContain(`Est. Close Date: ${fiscalQuarter(new Date(), 1).to} (EOQ).`);
    // a code the organisation has no currency for is refused, and nothing is written
    const since = emu.requests().length;
    const yen = await h.call('update_record', {
      entity: 'opportunity',
      id: made.structuredContent.id,
      values: { transactioncurrencyid: 'JPY' },
    });
    expect(textOf(yen)).toMatch(
      /transactioncurrencyid 'JPY' is neither a transactioncurrency id \(GUID\) nor the name of a transactioncurrency/,
    );
    expect(posts(since)).toEqual([]);
  });

  // meetings are read only by default (server-side synchronization takes Dynamics' appointments to Exchange
  // calendars); a policy that lets them be made gets them booked once per subject, record and start
  it('a meeting is booked only where the policy says so, once for its subject, record and start, with its attendees by name', async () => {
    const account = emu.rows('account').find((a) => emu.rows('account').filter((b) => b.name === a.name).length === 1)!;
    const person = emu
      .rows('contact')
      .find((c) => emu.rows('contact').filter((x) => x.fullname === c.fullname).length === 1)!;
    const values = {
      subject: 'Quarterly review',
      regardingobjectid: String(account.name),
      scheduledstart: '2026-12-08T10:00:00Z',
      scheduledend: '2026-12-08T11:00:00Z',
      requiredattendees: [String(person.fullname)],
    };
    const booked = () => emu.rows('appointment').filter((a) => a.subject === 'Quarterly review');
    const refused = await h.call('create_record', { entity: 'appointment', values });
    expect(textOf(refused)).toMatch(
      /^Error \(policy\): Creating appointment records is not allowed under this server's policy\./,
    );
    expect(booked()).toEqual([]);
    const policy = builtInPolicyWith('meetings', (e) => ({
      ...e,
      appointment: {
        ...e.appointment!,
        create: true,
        write: ['subject', 'location', 'scheduledstart', 'scheduledend', 'regardingobjectid', 'requiredattendees'],
      },
    }));
    const m = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    try {
      const first = await m.call('create_record', { entity: 'appointment', values });
      expect(first.isError, textOf(first)).toBeFalsy();
      const id = first.structuredContent.id as string;
      expect(
        emu
          .rows('activityparty')
          .filter((p) => (p.activityid as { id: string }).id === id)
          .map((p) => [p.participationtypemask, (p.partyid as { id: string }).id]),
      ).toEqual([[5, person.contactid]]);
      // the same start, however written, and ten at once: the meeting already booked
      const again = await Promise.all([
        m.call('create_record', {
          entity: 'appointment',
          values: { ...values, scheduledstart: '2026-12-08T11:00:00+01:00' },
        }),
        ...Array.from({ length: 9 }, () => m.call('create_record', { entity: 'appointment', values })),
      ]);
      for (const r of again) expect(r.structuredContent, textOf(r)).toMatchObject({ duplicate: true, id });
      expect(booked()).toHaveLength(1);
      // the same meeting a week later is another one
      const next = await m.call('create_record', {
        entity: 'appointment',
        values: { ...values, scheduledstart: '2026-12-15T10:00:00Z', scheduledend: '2026-12-15T11:00:00Z' },
      });
      expect(next.structuredContent).toMatchObject({ duplicate: false });
      expect(next.structuredContent.id).not.toBe(id);
      expect(booked()).toHaveLength(2);
    } finally {
      await m.close();
    }
  });

  it('a call logged to a phone number is to the record with it, and keeps the number; a Regarding may be a number too', async () => {
    // an account's number written as the caller said it; the account's name ends with its own full stop
    const acc = emu
      .rows('account')
      .find(
        (a) =>
          a.statecode === 0 &&
          String(a.name).endsWith('.') &&
          emu.rows('account').filter((b) => b.telephone1 === a.telephone1).length === 1,
      )!;
    const dialled = String(acc.telephone1).replace(/-/g, ' ');
    const r = await h.call('create_record', {
      entity: 'phonecall',
      values: { subject: 'Invoice copy requested', to: dialled, directioncode: 'Outgoing' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const id = r.structuredContent.id as string;
    expect(textOf(r)).toContain(`Call To: ${acc.name} Its owner is`);
    const call = emu.rows('phonecall').find((c) => c.activityid === id)!;
    expect(call.phonenumber).toBe(dialled);
    expect(
      emu
        .rows('activityparty')
        .filter((p) => (p.activityid as { id: string }).id === id)
        .map((p) => [p.participationtypemask, (p.partyid as { id: string }).id]),
    ).toEqual([[2, acc.accountid]]);
    // a task about the caller's account, given by the number
    const task = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Send the invoice copy', regardingobjectid: dialled },
    });
    expect(task.isError, textOf(task)).toBeFalsy();
    expect(emu.rows('task').find((t) => t.activityid === task.structuredContent.id)!.regardingobjectid).toMatchObject({
      id: acc.accountid,
      entity: 'account',
    });
    // a record named with digits alone is still found by its name, in a write and in a condition
    const acct = emu.rows('account').find((a) => a.statecode === 0)!;
    const deal = await h.call('create_record', {
      entity: 'opportunity',
      values: { name: '2026-0042', customerid: { entity: 'account', id: acct.accountid } },
    });
    expect(deal.isError, textOf(deal)).toBeFalsy();
    const onDeal = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Send the order form', regardingobjectid: '2026-0042' },
    });
    expect(onDeal.isError, textOf(onDeal)).toBeFalsy();
    expect(textOf(onDeal)).toContain('Regarding: 2026-0042 (opportunity)');
    const listed = await h.call('query_entities', {
      entity: 'task',
      where: { regardingobjectid: '2026-0042' },
      select: ['subject'],
    });
    expect(listed.structuredContent.records.map((t: { id: string }) => t.id)).toEqual([onDeal.structuredContent.id]);
    // a number no record has is refused as one, and nothing is made
    const before = emu.rows('task').length;
    const unknown = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Call back', regardingobjectid: '+61 2 9876 5432' },
    });
    expect(textOf(unknown)).toContain(
      "task.regardingobjectid '+61 2 9876 5432': no account, contact, lead, opportunity or incident this server may read has that phone number (compared by its digits).",
    );
    expect(emu.rows('task')).toHaveLength(before);
  });

  it('a call is logged with who was on it (Call From, Call To) by name, and read back as its parties', async () => {
    const deal = emu.rows('opportunity').filter((o) => o.statecode === 0)[2]!;
    const unique = (table: string, name: string) =>
      emu.rows(table).find((r) => emu.rows(table).filter((x) => x[name] === r[name]).length === 1)!;
    const [ann, bob] = emu
      .rows('contact')
      .filter((c) => emu.rows('contact').filter((x) => x.fullname === c.fullname).length === 1);
    const user = unique('systemuser', 'fullname');
    const parties = (callId: string) =>
      emu
        .rows('activityparty')
        .filter((p) => (p.activityid as { id: string }).id === callId)
        .map((p) => [p.participationtypemask, (p.partyid as { id: string }).id])
        .sort();
    const r = await h.call('create_record', {
      entity: 'phonecall',
      values: {
        subject: 'Rollout timing',
        regardingobjectid: String(deal.name),
        from: String(user.fullname),
        to: [String(ann!.fullname), { entity: 'contact', id: bob!.contactid }],
        directioncode: 'Outgoing',
      },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const id = r.structuredContent.id as string;
    // who the names were taken to be, where the user reads it
    expect(textOf(r)).toMatch(
      new RegExp(
        `^Created phonecall "Rollout timing" \\(${id}\\): \\S+ Regarding: ${deal.name} \\(opportunity\\); Call From: ${user.fullname}; Call To: ${ann!.fullname}, contact ${bob!.contactid}\\. Its owner is the application user this server signs in as, since no ownerid was given: to give it to a person or a team, set ownerid to their name with update_record\\.$`,
      ),
    );
    expect(parties(id)).toEqual(
      [
        [1, user.systemuserid],
        [2, ann!.contactid],
        [2, bob!.contactid],
      ].sort(),
    );
    // read back: the call's parties, who and as what
    const back = await h.call('get_record', {
      entity: 'phonecall',
      id,
      select: ['subject'],
      expand: ['phonecall_activity_parties'],
    });
    expect(back.isError, textOf(back)).toBeFalsy();
    const listed = (back.structuredContent.record.phonecall_activity_parties as Record<string, unknown>[])
      .map((p) => `${p.participationtypemask} ${(p.partyid as { name: string }).name}`)
      .sort();
    expect(listed).toEqual(
      [`Sender (1) ${user.fullname}`, `To Recipient (2) ${ann!.fullname}`, `To Recipient (2) ${bob!.fullname}`].sort(),
    );
    // asked for nothing else, a call comes with who was on it
    const plain = await h.call('get_record', { entity: 'phonecall', id });
    expect(plain.isError, textOf(plain)).toBeFalsy();
    expect(plain.structuredContent.record.phonecall_activity_parties).toHaveLength(3);
    const task = await h.call('get_record', { entity: 'task', id: String(emu.rows('task')[0]!.activityid) });
    expect(Object.keys(task.structuredContent.record).filter((k) => k.includes('_activity_parties'))).toEqual([]);
    // and the calls a contact was on
    const onBob = await h.call('query_entities', {
      entity: 'phonecall',
      select: ['subject'],
      where: { phonecall_activity_parties: { partyid: String(bob!.contactid) } },
    });
    expect(onBob.structuredContent.records.map((c: { subject: string }) => c.subject)).toContain('Rollout timing');
    // or by their name, as people ask ("calls with Ann …")
    const withAnn = await h.call('query_entities', {
      entity: 'phonecall',
      select: ['subject'],
      where: { phonecall_activity_parties: { partyid: String(ann!.fullname) } },
    });
    expect(withAnn.isError, textOf(withAnn)).toBeFalsy();
    expect(withAnn.structuredContent.records.map((c: { subject: string }) => c.subject)).toContain('Rollout timing');
    // and as people say it: calls to Ann (her as the To), from her (none), not to her
    const subjects = async (where: Record<string, unknown>) => {
      const r = await h.call('query_entities', { entity: 'phonecall', select: ['subject'], where, top: 200 });
      expect(r.isError, textOf(r)).toBeFalsy();
      return r.structuredContent.records.map((c: { subject: string }) => c.subject) as string[];
    };
    expect(await subjects({ to: String(ann!.fullname) })).toContain('Rollout timing');
    expect(await subjects({ 'Call To': [String(bob!.contactid), 'Nobody Such'] })).toContain('Rollout timing');
    expect(await subjects({ from: String(ann!.fullname) })).not.toContain('Rollout timing');
    expect(await subjects({ from: String(user.fullname), subject: 'Rollout timing' })).toEqual(['Rollout timing']);
    const notToAnn = await subjects({ not: { to: String(ann!.fullname) } });
    expect(notToAnn).not.toContain('Rollout timing');
    expect(notToAnn.length).toBe(emu.rows('phonecall').length - (await subjects({ to: String(ann!.fullname) })).length);
    // a party list asked for as a column is the call's parties, each with its part, and not said to be empty
    const asColumn = await h.call('get_record', { entity: 'phonecall', id, select: ['subject', 'to'] });
    expect(asColumn.isError, textOf(asColumn)).toBeFalsy();
    expect(textOf(asColumn)).not.toContain('Empty');
    expect(
      asColumn.structuredContent.record.phonecall_activity_parties.map(
        (p: { partyid: { name: string }; participationtypemask: string }) =>
          `${p.partyid.name}: ${p.participationtypemask}`,
      ),
    ).toEqual(expect.arrayContaining([`${user.fullname}: Sender (1)`, `${ann!.fullname}: To Recipient (2)`]));
    // an id alone, as results give them: the table that has it (and likewise for a Regarding of many tables)
    const byId = await h.call('create_record', {
      entity: 'phonecall',
      values: { subject: 'Called by id', regardingobjectid: String(deal.opportunityid), to: String(bob!.contactid) },
    });
    expect(byId.isError, textOf(byId)).toBeFalsy();
    expect(parties(byId.structuredContent.id)).toEqual([[2, bob!.contactid]]);
    expect(emu.rows('phonecall').find((c) => c.activityid === byId.structuredContent.id)).toMatchObject({
      regardingobjectid: { id: deal.opportunityid, entity: 'opportunity' },
    });
    // a name nobody has, or an id no record has: refused, and nothing is made
    const before = emu.rows('phonecall').length;
    const nobody = await h.call('create_record', {
      entity: 'phonecall',
      values: { subject: 'Nobody called', regardingobjectid: String(deal.name), to: 'Zebedee Nonesuch' },
    });
    expect(textOf(nobody)).toMatch(/^Error \(bad_input\): phonecall\.to 'Zebedee Nonesuch' is neither/);
    const unknown = '0badc0de-0000-4000-8000-000000000000';
    const bare = await h.call('create_record', {
      entity: 'phonecall',
      values: { subject: 'Nobody called', regardingobjectid: String(deal.name), to: unknown },
    });
    expect(textOf(bare)).toContain(`phonecall.to: no account, contact, lead or user has the id ${unknown}.`);
    // a deal is no person to call
    const deal2 = await h.call('create_record', {
      entity: 'phonecall',
      values: { subject: 'Nobody called', to: { entity: 'opportunity', id: String(deal.opportunityid) } },
    });
    expect(textOf(deal2)).toBe(
      'Error (bad_input): phonecall.to cannot list an opportunity.\nHow to fix: It lists people from: account, contact, lead, systemuser.',
    );
    expect(emu.rows('phonecall')).toHaveLength(before);
    // who was on it is set when the call is logged
    const change = await h.call('update_record', { entity: 'phonecall', id, values: { to: String(ann!.fullname) } });
    expect(textOf(change)).toContain('phonecall.to (who was on it) is set when the phonecall is logged');
    expect(parties(id)).toHaveLength(3);
  });

  // an email made through the Web API gets no From (the email form fills it with the user writing it): a draft
  // given to the user who is to send it is from them; without one, the answer says it has no From
  it('a draft email given to a user is from that user; one with From given is from them; one with neither says so', async () => {
    const user = emu.rows('systemuser').find((u) => u.fullname && u.isdisabled !== true)!;
    const other = emu.rows('systemuser').find((u) => u.fullname && u.isdisabled !== true && u !== user)!;
    const person = emu.rows('contact').find((c) => c.fullname)!;
    const about = String(emu.rows('incident')[0]!.incidentid);
    const draft = async (subject: string, more: Record<string, unknown>) => {
      const r = await h.call('create_record', {
        entity: 'email',
        values: { subject, description: 'Thanks for waiting.', regardingobjectid: about, to: person.fullname, ...more },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      const parties = emu
        .rows('activityparty')
        .filter((p) => (p.activityid as { id: string }).id === r.structuredContent.id)
        .map((p) => [(p.partyid as { id: string }).id, p.participationtypemask]);
      return { text: textOf(r), parties };
    };
    const owned = await draft('Draft from the owner', { ownerid: user.fullname });
    expect(owned.parties.sort()).toEqual(
      [
        [person.contactid, 2],
        [user.systemuserid, 1],
      ].sort(),
    );
    expect(owned.text).toContain(
      `From: ${user.fullname}. It is a draft: Dynamics sends it only when a person sends it there`,
    );
    const given = await draft('Draft from another', { ownerid: user.fullname, from: other.fullname });
    expect(given.parties.sort()).toEqual(
      [
        [person.contactid, 2],
        [other.systemuserid, 1],
      ].sort(),
    );
    const none = await draft('Draft from nobody', {});
    expect(none.parties).toEqual([[person.contactid, 2]]);
    expect(none.text).toContain('It is a draft with no From, which whoever sends it sets in Dynamics:');
  });

  it('a task on a deal: the same open task there is the one; on another deal, or once done, it is a new one', async () => {
    const [d1, d2] = emu.rows('opportunity').filter((o) => o.statecode === 0);
    const task = (values: Record<string, unknown>) => h.call('create_record', { entity: 'tasks', values });
    const first = await task({
      subject: 'Send the contract',
      regardingobjectid: String(d1!.name),
      scheduledend: '2027-01-15T09:00:00Z',
      Priority: 'High',
    });
    expect(first.isError, textOf(first)).toBeFalsy();
    expect(textOf(first)).toMatch(/^Created task "Send the contract" \(/);
    expect(textOf(first)).toMatch(
      new RegExp(
        ` Regarding: ${d1!.name} \\(opportunity\\)\\. Its owner is the application user this server signs in as, since no ownerid was given: to give it to a person or a team, set ownerid to their name with update_record\\.$`,
      ),
    );
    const made = emu.rows('task').find((t) => t.activityid === first.structuredContent.id)!;
    expect(made).toMatchObject({
      subject: 'Send the contract',
      regardingobjectid: { id: d1!.opportunityid, entity: 'opportunity' },
      scheduledend: '2027-01-15T09:00:00Z',
      prioritycode: 2,
      statecode: 0,
      statuscode: 2,
    });
    const again = await task({ subject: 'Send the contract', regardingobjectid: String(d1!.name) });
    expect(again.structuredContent).toMatchObject({ duplicate: true, id: first.structuredContent.id });
    const other = await task({
      subject: 'Send the contract',
      regardingobjectid: { entity: 'opportunity', id: d2!.opportunityid },
      scheduledend: '2027-01-20',
    });
    expect(other.structuredContent.duplicate, textOf(other)).toBe(false);
    // given by id, there is no name to have matched: nothing is said of it (only of its owner)
    expect(textOf(other)).toMatch(
      /^Created task "Send the contract" \([0-9a-f-]{36}\): https:\S+ Its owner is the application user this server signs in as, since no ownerid was given: to give it to a person or a team, set ownerid to their name with update_record\.$/,
    );
    // a due day without a time, for a column Dynamics shows in each user's time zone: that day almost everywhere
    expect(emu.rows('task').find((t) => t.activityid === other.structuredContent.id)?.scheduledend).toBe(
      '2027-01-20T12:00:00Z',
    );
    // done, it is history: the next one with the same subject is a new task
    const done = await h.call('update_record', {
      entity: 'task',
      id: first.structuredContent.id,
      values: { statecode: 'Completed' },
    });
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(emu.rows('task').find((t) => t.activityid === first.structuredContent.id)).toMatchObject({
      statecode: 1,
      statuscode: 5,
    });
    // and read-only, as in Dynamics, until reopened: said so, with how to reopen it
    const edit = await h.call('update_record', {
      entity: 'task',
      id: first.structuredContent.id,
      values: { subject: 'Send the signed contract' },
    });
    expect(textOf(edit)).toContain('This task is Completed: Dynamics keeps it read-only until it is reopened');
    expect(textOf(edit)).toContain('update_record with {"statecode": "Open"} first');
    expect(await audit.last()).toMatchObject({
      tool: 'update_record',
      entity: 'task',
      outcome: expect.stringMatching(/^refused by Dynamics \(bad_input 0x80040203\): This task is Completed/),
    });
    const next = await task({ subject: 'Send the contract', regardingobjectid: String(d1!.name) });
    expect(next.isError, textOf(next)).toBeFalsy();
    expect(next.structuredContent.duplicate).toBe(false);
    expect(next.structuredContent.id).not.toBe(first.structuredContent.id);
    expect(emu.rows('task').filter((t) => t.subject === 'Send the contract')).toHaveLength(3);
    // a task needs its subject, as Dynamics' task form does
    const bare = await task({ regardingobjectid: String(d1!.name) });
    expect(textOf(bare)).toContain('A new task needs subject (Subject).');
  });

  it('what Dynamics forms require is asked for before anything is sent; other tables are pointed elsewhere', async () => {
    const since = emu.requests().length;
    const blank = await h.call('create_record', { entity: 'account', values: { name: '   ' } });
    expect(textOf(blank)).toContain('A new account needs name (Account Name).');
    const bare = await h.call('create_record', { entity: 'opportunity', values: { estimatedvalue: 5 } });
    expect(textOf(bare)).toBe(
      'Error (bad_input): A new opportunity needs name (Topic), customerid (Potential Customer).\n' +
        `How to fix: Add them to "values"; describe_entity('opportunity') lists the columns.`,
    );
    // a person's full name: which part is which, where two words say it; a longer name is not guessed
    const person = await h.call('create_record', { entity: 'contact', values: { fullname: 'Bob Smith' } });
    expect(textOf(person)).toBe(
      'Error (bad_input): A new contact needs lastname (Last Name); fullname is not written but made by Dynamics from firstname and lastname.\n' +
        `How to fix: Add it to "values"; describe_entity('contact') lists the columns. For 'Bob Smith': "firstname": "Bob", "lastname": "Smith".`,
    );
    const longer = await h.call('create_record', { entity: 'contact', values: { fullname: 'Mary Ann van Dijk' } });
    expect(textOf(longer)).toMatch(/lists the columns\.$/);
    // and with the rest of what is wrong, in one answer: a column of another name, a value of no kind
    const all = await h.call('create_record', {
      entity: 'contact',
      values: { name: 'Bob Smith', phone: '+1 555 0100', donotemail: 'maybe' },
    });
    expect(textOf(all).split('\n').slice(0, 4)).toEqual([
      'Error (bad_input): 4 values for a contact cannot be written:',
      `- A new contact needs lastname (Last Name); fullname is not written but made by Dynamics from firstname and lastname. Add it to "values"; describe_entity('contact') lists the columns. For 'Bob Smith': "firstname": "Bob", "lastname": "Smith".`,
      "- 'name' is not a column of contact. Did you mean: firstname, lastname? describe_entity('contact') lists every column you may write.",
      "- 'phone' is not a column of contact. Did you mean: mobilephone, telephone1? describe_entity('contact') lists every column you may write.",
    ]);
    expect(textOf(all)).toContain(
      "\n- contact.donotemail is true (Do Not Allow) or false (Allow); 'maybe' is neither.",
    );
    const won = await h.call('create_record', {
      entity: 'opportunity',
      values: { name: 'Already won', customerid: String(account().name), statecode: 'Won' },
    });
    expect(textOf(won)).toBe(
      'Error (bad_input): opportunity.statecode cannot be set on create.\n' +
        'How to fix: Leave it out: a new record starts in its first state; change the state with update_record after it is made.',
    );
    const lead = await h.call('create_record', { entity: 'lead', values: { lastname: 'X' } });
    expect(textOf(lead)).toContain('New lead records are made with create_lead');
    const territory = await h.call('create_record', { entity: 'territory', values: { name: 'X' } });
    expect(textOf(territory)).toBe(
      "Error (policy): Creating territory records is not allowed under this server's policy.\n" +
        'How to fix: Tables you may create records in: account, contact, opportunity, queueitem, knowledgearticleincident, task, phonecall, email, opportunityproduct.',
    );
    expect(posts(since)).toEqual([]);
  });

  it('every value that cannot be written (its type, label, column or name) is named in one answer, each with its fix; nothing is sent', async () => {
    const since = emu.requests().length;
    const r = await h.call('create_record', {
      entity: 'account',
      values: {
        name: 'Babbage Ltd',
        revenue: '1.2m',
        industrycode: 'Consultng',
        numberofemployees: 'fifty',
        webiste: 'x',
      },
    });
    expect(r.isError).toBe(true);
    const lines = textOf(r).split('\n');
    expect(lines[0]).toBe('Error (bad_input): 4 values for an account cannot be written:');
    expect(lines.slice(1, 5)).toEqual([
      "- account.revenue is a number; '1.2m' is not. Pass the number in full, as JSON: for '1.2m', 1200000.",
      expect.stringMatching(
        /^- 'Consultng' is not a value of account\.industrycode\. Did you mean 7 \(Consulting\)\? Use one of: .*7 \(Consulting\)/,
      ),
      "- account.numberofemployees is a number; 'fifty' is not. Pass a whole number, e.g. 12.",
      "- 'webiste' is not a column of account. Did you mean: websiteurl? describe_entity('account') lists every column you may write.",
    ]);
    expect(lines.slice(5)).toEqual([
      'How to fix: Correct each of them and call again with all the values; nothing was written.',
      'Closest names: websiteurl',
    ]);
    expect(posts(since)).toEqual([]);
    // so are names that give no record, with the other values' faults (a task's state, which create_record
    // sets after making it, is not one)
    const names = await h.call('create_record', {
      entity: 'task',
      values: {
        subject: 'Call back',
        regardingobjectid: 'No Such Company Anywhere',
        ownerid: 'No Such Person',
        scheduledend: 'soon',
        statecode: 'Completed',
      },
    });
    const said = textOf(names).split('\n');
    expect(said[0]).toBe('Error (bad_input): 3 values for a task cannot be written:');
    expect(said[3]).toMatch(/^- task\.scheduledend is a date; 'soon' is not an ISO date\./);
    expect(said[1]).toMatch(
      /^- task\.regardingobjectid 'No Such Company Anywhere' is neither a record id \(GUID\) nor the name of a record in account, contact/,
    );
    expect(said[2]).toMatch(
      /^- task\.ownerid 'No Such Person' is neither a user or team id \(GUID\) nor the name of a user or team\./,
    );
    expect(posts(since)).toEqual([]);
    // one fault is answered as it always was
    const one = await h.call('create_record', { entity: 'account', values: { name: 'Babbage Ltd', revenue: 'lots' } });
    expect(textOf(one)).toMatch(/^Error \(bad_input\): account\.revenue is a number; 'lots' is not\.\nHow to fix: /);
  });

  it('a value the table cannot take is refused even where the same record is there already, not dropped', async () => {
    const made = await h.call('create_record', {
      entity: 'account',
      values: { name: 'Checked Before Found Ltd' },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    const since = emu.requests().length;
    // the same account again, with a column accounts do not have and a choice they do not offer
    const again = await h.call('create_record', {
      entity: 'account',
      values: { name: 'Checked Before Found Ltd', revenu: 5, industrycode: 'Spaceflight' },
    });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toContain("'revenu' is not a column of account");
    expect(textOf(again)).toContain('Spaceflight');
    expect(writesSince(emu, since)).toEqual([]);
  });

  it('a policy that lets a table be updated does not let it be created, unless it says "create"', async () => {
    const policy = builtInPolicyWith('no-create', (entities) => ({
      ...entities,
      account: { ...entities.account!, create: false },
    }));
    const updatesOnly = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    try {
      const since = emu.requests().length;
      const r = await updatesOnly.call('create_record', { entity: 'account', values: { name: 'Not made' } });
      expect(textOf(r)).toContain("Creating account records is not allowed under this server's policy.");
      expect(posts(since)).toEqual([]);
    } finally {
      await updatesOnly.close();
    }
    // a call asked done where the policy keeps its state from the model: refused before it is made open
    const noState = builtInPolicyWith('no-call-state', (entities) => ({
      ...entities,
      phonecall: {
        ...entities.phonecall!,
        write: entities.phonecall!.write!.filter((c) => c !== 'statecode' && c !== 'statuscode'),
      },
    }));
    const openOnly = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: noState } });
    try {
      const since = emu.requests().length;
      const r = await openOnly.call('create_record', {
        entity: 'phonecall',
        values: { subject: 'Not logged', statecode: 'Completed' },
      });
      expect(textOf(r)).toContain('phonecall.statecode is not writable under this server');
      expect(posts(since)).toEqual([]);
    } finally {
      await openOnly.close();
    }
    // a column the model may write but not read is no duplicate key (it could not be looked for), and the
    // organisation's own rule (same email) still keeps the second contact out; the user can override it
    const blind = builtInPolicyWith('write-only-email', (entities) => ({
      ...entities,
      contact: { ...entities.contact!, read: entities.contact!.read!.filter((c) => c !== 'emailaddress1') },
    }));
    const writeOnly = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: blind } });
    try {
      const values = { lastname: 'Blind', emailaddress1: 'blind@contoso.example' };
      const made = () => emu.rows('contact').filter((c) => c.emailaddress1 === values.emailaddress1).length;
      const first = await writeOnly.call('create_record', { entity: 'contact', values });
      const second = await writeOnly.call('create_record', { entity: 'contact', values });
      expect([first.isError, second.isError], textOf(second)).toEqual([undefined, true]);
      expect(textOf(second)).toContain("The organisation's duplicate detection rules match an existing contact");
      expect(textOf(second)).toContain('call again with allowDuplicate: true');
      expect(made()).toBe(1);
      const anyway = await writeOnly.call('create_record', { entity: 'contact', values, allowDuplicate: true });
      expect(anyway.structuredContent.duplicate, textOf(anyway)).toBe(false);
      expect(made()).toBe(2);
    } finally {
      await writeOnly.close();
    }
    const readOnly = await connectInMemory(emu, { env: { DYNAMICS_MCP_READ_ONLY: 'true' } });
    try {
      const { tools } = await readOnly.client.listTools();
      expect(tools.map((t) => t.name)).not.toContain('create_record');
    } finally {
      await readOnly.close();
    }
  });

  // DUP (Detect duplicate data using the Web API): creates are sent with MSCRM.SuppressDuplicateDetection: false,
  // so a rule the administrator published, here contacts with the same first and last name, keeps out what
  // the tool's own check (same email) cannot see; the user's override is Dynamics' "Ignore and save"
  it("the organisation's duplicate detection rules keep out a second contact the tool's own check misses", async () => {
    emu.configure({
      duplicateRules: [
        {
          name: 'Contacts with the same name',
          entity: 'contact',
          columns: ['firstname', 'lastname'],
          excludeInactive: true,
        },
      ],
    });
    try {
      const values = { firstname: 'Rosa', lastname: 'Diaz', jobtitle: 'Buyer' };
      const made = () => emu.rows('contact').filter((c) => c.firstname === 'Rosa' && c.lastname === 'Diaz').length;
      const first = await h.call('create_record', { entity: 'contact', values });
      expect(first.isError, textOf(first)).toBeFalsy();
      const since = emu.requests().length;
      // refused by Dynamics, which names no record: the rule's conditions find the one it matched
      const second = await h.call('create_record', { entity: 'contact', values: { ...values, firstname: 'rosa' } });
      expect(second.isError, textOf(second)).toBeFalsy();
      expect(second.structuredContent).toMatchObject({ duplicate: true, id: first.structuredContent.id });
      expect(textOf(second)).toBe(
        `A contact the organisation's duplicate detection rule "Contacts with the same name" matches already exists (${first.structuredContent.id}); it was not created again. Pass allowDuplicate: true to create another.`,
      );
      // refused once, not retried
      expect(posts(since).map((q) => q.status)).toEqual([500]);
      expect(made()).toBe(1);
      expect(await audit.last()).toMatchObject({
        tool: 'create_record',
        entity: 'contact',
        id: first.structuredContent.id,
        outcome: 'duplicate: the organisation\'s rule "Contacts with the same name" matched the existing record',
      });
      const anyway = await h.call('create_record', { entity: 'contact', values, allowDuplicate: true });
      expect(anyway.isError, textOf(anyway)).toBeFalsy();
      expect(made()).toBe(2);
      // create_lead asks for the rules too: a lead rule on the company name
      emu.configure({ duplicateRules: [{ name: 'Leads from one company', entity: 'lead', columns: ['companyname'] }] });
      const lead = { lastName: 'Okafor', company: 'Rule Test Ltd', subject: 'Pumps' };
      const firstLead = await h.call('create_lead', lead);
      expect(firstLead.isError, textOf(firstLead)).toBeFalsy();
      const again = await h.call('create_lead', { ...lead, lastName: 'Mensah' });
      expect(again.structuredContent).toMatchObject({ duplicate: true, id: firstLead.structuredContent.id });
      expect(emu.rows('lead').filter((l) => l.companyname === 'Rule Test Ltd')).toHaveLength(1);
    } finally {
      await emu.reset();
    }
  });

  // DUP, "Detect duplicates during Update operation": a PATCH with MSCRM.SuppressDuplicateDetection: false
  it("update_record under the same rules: a contact given another's email is refused naming that one; allowDuplicate writes it", async () => {
    emu.configure({
      duplicateRules: [
        { name: 'Contacts with the same email', entity: 'contact', columns: ['emailaddress1'], excludeInactive: true },
      ],
    });
    try {
      const [a, b] = emu
        .rows('contact')
        .filter((c) => c.statecode === 0 && typeof c.emailaddress1 === 'string' && c.emailaddress1)
        .filter((c, _, all) => all.filter((d) => d.emailaddress1 === c.emailaddress1).length === 1);
      const email = () => emu.rows('contact').find((c) => c.contactid === b!.contactid)!.emailaddress1;
      const before = email();
      const since = emu.requests().length;
      const taken = String(a!.emailaddress1).toUpperCase();
      const refused = await h.call('update_record', {
        entity: 'contact',
        id: b!.contactid,
        values: { emailaddress1: taken },
      });
      expect(refused.isError).toBe(true);
      expect(textOf(refused).split('\n')).toEqual([
        `Error (duplicate): Dynamics did not update the contact: the organisation's duplicate detection rule "Contacts with the same email" matches another contact, "${a!.fullname}" (${a!.contactid}). Nothing was written.`,
        `How to fix: Ask the user whether they are the same contact: if so, use that one (get_record with entity "contact" and id "${a!.contactid}"). If they are, the two can be made one: ask which to keep, then call update_record on the other with values {"masterid": "<id of the one kept>"} (their ids: ${b!.contactid} and ${a!.contactid}). Only if the user says they are different: call update_record again with allowDuplicate: true.`,
      ]);
      // refused once, not retried, and nothing changed
      expect(posts(since).map((q) => q.status)).toEqual([500]);
      expect(email()).toBe(before);
      // a change the rule does not match goes through
      const other = await h.call('update_record', {
        entity: 'contact',
        id: b!.contactid,
        values: { jobtitle: 'Buyer' },
      });
      expect(other.isError, textOf(other)).toBeFalsy();
      const anyway = await h.call('update_record', {
        entity: 'contact',
        id: b!.contactid,
        values: { emailaddress1: taken },
        allowDuplicate: true,
      });
      expect(anyway.isError, textOf(anyway)).toBeFalsy();
      expect(email()).toBe(taken);
      // the emulator checks the record as it would be (GUESS: whether Dynamics checks values a PATCH leaves
      // alone is not documented): refused then, the other record is named all the same
      const later = await h.call('update_record', { entity: 'contact', id: b!.contactid, values: { jobtitle: 'CFO' } });
      expect(textOf(later)).toContain(
        `matches another contact, "${a!.fullname}" (${a!.contactid}) on values it already had, not the ones changed. Nothing was written.`,
      );
    } finally {
      await emu.reset();
    }
  });

  // Language collations: English (1033) is _CI_AI, so a rule that is not case-sensitive matches without accents too
  it('a duplicate rule matches a name written with accents the other lacks, as the organisation compares text', async () => {
    emu.configure({
      duplicateRules: [
        { name: 'Accounts with the same Account Name', entity: 'account', columns: ['name'], excludeInactive: true },
      ],
    });
    try {
      const [a, b] = emu.rows('account').filter((x) => x.statecode === 0 && /e/.test(String(x.name)));
      const accented = String(a!.name).replace(/e/g, 'é');
      const refused = await h.call('update_record', {
        entity: 'account',
        id: b!.accountid,
        values: { name: accented },
      });
      expect(textOf(refused)).toContain(
        `the organisation's duplicate detection rule "Accounts with the same Account Name" matches another account, "${a!.name}" (${a!.accountid}).`,
      );
      expect(emu.rows('account').find((x) => x.accountid === b!.accountid)!.name).toBe(b!.name);
    } finally {
      await emu.reset();
    }
  });

  // DuplicateRuleCondition.OperatorCode (Same First Characters, with OperatorParam characters) and a rule whose
  // Matching Record Type is another table ("a lead is a duplicate of a contact", Detect duplicate data using code)
  it("a rule on a name's first characters, or one that looks in another table, is followed to the record it matched", async () => {
    emu.configure({
      duplicateRules: [
        {
          name: 'Accounts with the same first 9 characters',
          entity: 'account',
          columns: [{ column: 'name', operator: 'firstCharacters', characters: 9 }],
        },
        {
          name: "Leads with a contact's email",
          entity: 'lead',
          matchingEntity: 'contact',
          columns: ['emailaddress1'],
          excludeInactive: true,
        },
      ],
    });
    try {
      const first = await h.call('create_record', { entity: 'account', values: { name: 'Quintessa Alpha Ltd' } });
      expect(first.isError, textOf(first)).toBeFalsy();
      const second = await h.call('create_record', { entity: 'account', values: { name: 'quintessa Beta GmbH' } });
      expect(second.isError, textOf(second)).toBeFalsy();
      expect(second.structuredContent).toMatchObject({ duplicate: true, id: first.structuredContent.id });
      expect(textOf(second)).toContain('rule "Accounts with the same first 9 characters" matches already exists');
      expect(emu.rows('account').filter((a) => /^quintessa/i.test(String(a.name)))).toHaveLength(1);

      // a lead with the email of a contact: not made, and the contact in the way is named for the user
      const contact = emu.rows('contact').find((c) => c.statecode === 0 && c.emailaddress1)!;
      const leads = () => emu.rows('lead').filter((l) => l.emailaddress1 === contact.emailaddress1);
      expect(leads()).toEqual([]);
      const lead = { lastName: 'Varga', email: String(contact.emailaddress1), subject: 'Pumps' };
      const refused = await h.call('create_lead', lead);
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toBe(
        `Error (duplicate): Dynamics did not create the lead: the organisation's duplicate detection rule "Leads with a contact's email" matches a contact already there, "${contact.fullname}" (${contact.contactid}).\n` +
          `How to fix: Use that contact (get_record with entity "contact" and id "${contact.contactid}"). Only if the user says this lead is a different one: call again with allowDuplicate: true.`,
      );
      expect(leads()).toEqual([]);
      expect(await audit.last()).toMatchObject({
        tool: 'create_lead',
        entity: 'lead',
        outcome: expect.stringContaining(`matches a contact already there, "${contact.fullname}"`),
      });
      const anyway = await h.call('create_lead', { ...lead, allowDuplicate: true });
      expect(anyway.isError, textOf(anyway)).toBeFalsy();
      expect(leads()).toHaveLength(1);
    } finally {
      await emu.reset();
    }
  });

  // the other OperatorCode options (DuplicateRuleCondition's option set): 3 Same Date, 4 Same Date and Time,
  // 5 Exact Match (Pick List Label), 6 Exact Match (Pick List Value)
  it("rules on a choice's label or number, or on a date, are followed to the record they matched", async () => {
    emu.configure({
      duplicateRules: [
        {
          name: 'Accounts in one industry with the same first 6 characters',
          entity: 'account',
          columns: [
            { column: 'industrycode', operator: 'pickListLabel' },
            { column: 'name', operator: 'firstCharacters', characters: 6 },
          ],
        },
        {
          name: 'Accounts in one industry with the same last 5 characters',
          entity: 'account',
          columns: [
            { column: 'industrycode', operator: 'pickListValue' },
            { column: 'name', operator: 'lastCharacters', characters: 5 },
          ],
        },
        {
          name: 'Contacts born the same day with the same last name',
          entity: 'contact',
          columns: ['lastname', { column: 'birthdate', operator: 'sameDate' }],
        },
      ],
    });
    // birthdays are not in the built-in policy; an administrator who adds them lets the tools follow the rule
    const withBirthdays = builtInPolicyWith('birthdays', (e) => ({
      ...e,
      contact: { ...e.contact!, read: [...e.contact!.read!, 'birthdate'], write: [...e.contact!.write!, 'birthdate'] },
    }));
    const b = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: withBirthdays } });
    try {
      const make = (entity: string, values: Record<string, unknown>) => b.call('create_record', { entity, values });
      const first = await make('account', { name: 'Xylofon Tools', industrycode: 'Consulting' });
      expect(first.isError, textOf(first)).toBeFalsy();
      // the same first six characters in the same industry (given by number: its label is compared)
      const sameStart = await make('account', { name: 'xylofo Services', industrycode: 7 });
      expect(sameStart.structuredContent, textOf(sameStart)).toMatchObject({
        duplicate: true,
        id: first.structuredContent.id,
      });
      expect(textOf(sameStart)).toContain('rule "Accounts in one industry with the same first 6 characters"');
      // the same last five in the same industry (given by label: its number is compared)
      const sameEnd = await make('account', { name: 'Qwertz Tools', industrycode: 'consulting' });
      expect(sameEnd.structuredContent, textOf(sameEnd)).toMatchObject({
        duplicate: true,
        id: first.structuredContent.id,
      });
      expect(textOf(sameEnd)).toContain('rule "Accounts in one industry with the same last 5 characters"');
      // another industry: no rule matches
      const other = await make('account', { name: 'Xylofon Retail Tools', industrycode: 'Retail' });
      expect(other.structuredContent, textOf(other)).toMatchObject({ duplicate: false });

      const born = await make('contact', { firstname: 'Ada', lastname: 'Quellmann', birthdate: '1980-05-17' });
      expect(born.isError, textOf(born)).toBeFalsy();
      const twin = await make('contact', { firstname: 'Adele', lastname: 'Quellmann', birthdate: '1980-05-17' });
      expect(twin.structuredContent, textOf(twin)).toMatchObject({ duplicate: true, id: born.structuredContent.id });
      expect(textOf(twin)).toContain('rule "Contacts born the same day with the same last name"');
      const sibling = await make('contact', { firstname: 'Otto', lastname: 'Quellmann', birthdate: '1982-01-02' });
      expect(sibling.structuredContent, textOf(sibling)).toMatchObject({ duplicate: false });
      expect(emu.rows('contact').filter((c) => c.lastname === 'Quellmann')).toHaveLength(2);
    } finally {
      await b.close();
      await emu.reset();
    }
  });

  it('where the rules cannot be read, the refusal stands, says how the user overrides it, and is audited', async () => {
    emu.configure({ duplicateRules: [{ entity: 'contact', columns: ['firstname', 'lastname'] }] });
    const noRules = builtInPolicyWith(
      'no-rules',
      ({ duplicaterule: _r, duplicaterulecondition: _c, ...entities }) => entities,
    );
    const blind = await connectInMemory(emu, {
      env: { DYNAMICS_MCP_POLICY: noRules, DYNAMICS_MCP_AUDIT_LOG: audit.path },
    });
    try {
      const values = { firstname: 'Tomas', lastname: 'Reyes' };
      expect((await blind.call('create_record', { entity: 'contact', values })).isError).toBeFalsy();
      const second = await blind.call('create_record', { entity: 'contact', values });
      expect(second.isError).toBe(true);
      expect(textOf(second)).toBe(
        "Error (duplicate): The organisation's duplicate detection rules match an existing contact (such as one with the same email or name), so nothing was written.\n" +
          'How to fix: Find that record with query_entities by the values given, and use or update it (update_record) instead. The rules are set by an administrator in Dynamics (Duplicate Detection Rules). Only if the user says it is a different contact: call again with allowDuplicate: true.',
      );
      expect(await audit.last()).toMatchObject({
        tool: 'create_record',
        entity: 'contact',
        action: 'create',
        outcome: expect.stringMatching(/^refused by Dynamics \(duplicate 0x80040333\): The organisation's duplicate/),
      });
      expect(emu.rows('contact').filter((c) => c.lastname === 'Reyes')).toHaveLength(1);
    } finally {
      await blind.close();
      await emu.reset();
    }
  });

  // COMPOSE (shared/reference/dataverse-webapi.md §7): a plug-in's InvalidPluginExecutionException is a 400 with
  // code 0x80040265 and the plug-in's own message; a synchronous plug-in's exception rolls the operation back
  it("a plug-in's refusal is the organisation's rule in its own words, not a type to fix", async () => {
    const account = emu.rows('account')[1]!;
    const plugin = 'Accounts in the Enterprise segment can only be edited by their account manager.';
    emu.addFault({
      match: { method: 'PATCH', path: '/api/data/v9.2/accounts(' },
      response: { status: 400, body: { error: { code: '0x80040265', message: plugin } } },
    });
    const r = await h.call('update_record', {
      entity: 'account',
      id: String(account.accountid),
      values: { telephone1: '+1 555 0142' },
    });
    expect(r.isError).toBe(true);
    const text = textOf(r);
    expect(text).toContain(`(a plug-in on account) refused the request, and nothing of it was saved: ${plugin}`);
    expect(text).toContain("it is the organisation's own rule, so the same request is refused again");
    expect(text).not.toContain('describe_entity');
    expect(emu.rows('account').find((a) => a.accountid === account.accountid)!.telephone1).toBe(account.telephone1);
    expect(await audit.last()).toMatchObject({
      tool: 'update_record',
      id: account.accountid,
      outcome: expect.stringMatching(/^refused by Dynamics \(validation 0x80040265\): Business logic set up/),
    });
    // a plug-in may answer with a status of its choosing (PluginHttpStatusCode): still its rule, not an outage
    // to wait out, so even a 503 is not sent again
    // (a create is an upsert by the id it is given, If-None-Match: *)
    emu.addFault({
      match: { method: 'PATCH', path: '/api/data/v9.2/accounts(' },
      response: { status: 503, body: { error: { code: '0x80040265', message: 'New accounts need a territory.' } } },
    });
    const since = emu.requests().length;
    const made = await h.call('create_record', { entity: 'account', values: { name: 'Plug-in Refusal Ltd' } });
    expect(textOf(made)).toContain(
      '(a plug-in on account) refused the request, and nothing of it was saved: New accounts need a territory.',
    );
    expect(textOf(made)).not.toContain('try again in a minute');
    expect(
      emu
        .requests()
        .slice(since)
        .filter((q) => q.method === 'PATCH'),
    ).toHaveLength(1);
    expect(emu.rows('account').some((a) => a.name === 'Plug-in Refusal Ltd')).toBe(false);
  });

  it("a privilege another user lacks (the one a record is assigned to) is said as theirs, not the application user's", async () => {
    const account = emu.rows('account')[2]!;
    const users = emu.rows('systemuser');
    const [caller, other] = [String(users[0]!.systemuserid), String(users[1]!.systemuserid)];
    // PrivilegeDenied names the principal that lacks the privilege and the caller (the emulator's own form)
    const denied = (principal: string) => ({
      status: 403,
      body: {
        error: {
          code: '0x80040220',
          message: `Principal user (Id=${principal}, type=8, roleCount=1, privilegeCount=40, accessMode=0), is missing prvReadAccount privilege (Id=00000000-0000-4000-8000-000000000001) on OTC=1 for entity 'account'. context.Caller=${caller}`,
        },
      },
    });
    emu.addFault({ match: { method: 'PATCH', path: '/api/data/v9.2/accounts(' }, response: denied(other) });
    const assigned = await h.call('update_record', {
      entity: 'account',
      id: String(account.accountid),
      values: { telephone1: '+1 555 0143' },
    });
    expect(textOf(assigned)).toBe(
      `Error (permission): The user ${other} lacks the prvReadAccount privilege on account: their security role cannot hold or read this record.\nHow to fix: If the record is being assigned or shared to that user, choose someone whose role has prvReadAccount, or ask an administrator to add it to that user's role.`,
    );
    // the caller itself lacking it is the application user's role, as before
    emu.addFault({ match: { method: 'PATCH', path: '/api/data/v9.2/accounts(' }, response: denied(caller) });
    const own = await h.call('update_record', {
      entity: 'account',
      id: String(account.accountid),
      values: { telephone1: '+1 555 0143' },
    });
    expect(textOf(own)).toMatch(
      /^Error \(permission\): The application user lacks the prvReadAccount privilege on account\./,
    );
  });

  it('a write Dynamics refuses is audited with why; input refused before sending is not a write', async () => {
    const lines = async () => (await readFile(audit.path, 'utf8')).trim().split('\n').length;
    const account = emu.rows('account')[0]!;
    emu.configure({ role: { privileges: { account: { read: true, create: true } } } });
    try {
      const r = await h.call('update_record', {
        entity: 'account',
        id: String(account.accountid),
        values: { telephone1: '+1 555 0199' },
      });
      expect(textOf(r)).toContain('prvWriteAccount');
      expect(await audit.last()).toMatchObject({
        tool: 'update_record',
        entity: 'account',
        id: account.accountid,
        action: 'update',
        columns: {},
        outcome: expect.stringMatching(
          /^refused by Dynamics \(permission 0x80040220\): The application user lacks the prvWriteAccount privilege on account\.$/,
        ),
      });
    } finally {
      await emu.reset();
    }
    const before = await lines();
    const bad = await h.call('update_record', {
      entity: 'account',
      id: String(account.accountid),
      values: { nosuch: 1 },
    });
    expect(bad.isError).toBe(true);
    expect(await lines()).toBe(before);
  });

  it('asks the user first where the policy says so; declined, nothing is created', async () => {
    const policy = builtInPolicyWith('confirm-create', (entities) => ({
      ...entities,
      account: { ...entities.account!, confirmWrites: true },
    }));
    const { h: asking, asked, user } = await connectAsking(emu, { DYNAMICS_MCP_POLICY: policy });
    try {
      user.choice = 'decline';
      const r = await asking.call('create_record', { entity: 'account', values: { name: 'Declined Ltd' } });
      expect(textOf(r)).toBe('Not created: the user chose "decline".');
      expect(asked.at(-1)).toBe('Create account: name = "Declined Ltd"?');
      expect(emu.rows('account').filter((a) => a.name === 'Declined Ltd')).toEqual([]);
      user.choice = 'accept';
      const yes = await asking.call('create_record', { entity: 'account', values: { name: 'Declined Ltd' } });
      expect(yes.structuredContent.duplicate).toBe(false);
      expect(emu.rows('account').filter((a) => a.name === 'Declined Ltd')).toHaveLength(1);
    } finally {
      await asking.close();
    }
  });
});
