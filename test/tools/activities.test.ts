import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { DynamicsMcpError } from '../../src/errors.js';
import { Policy } from '../../src/policy/policy.js';
import { apiRequests } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// "What happened on this deal?" is one question: Dataverse keeps every activity (task, phone call, email,
// meeting) as an ActivityPointer row too, with its table as activitytypecode ("ActivityPointer (activity)
// entity"), so it is one query, not four.
describe("a record's activities as one list (activitypointer)", () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const ACTIVITIES = ['task', 'phonecall', 'email', 'appointment'];
  /** the activities regarding a record, as the emulator holds them: [id, table] newest first */
  const activitiesOf = (id: string) =>
    ACTIVITIES.flatMap((table) =>
      emu
        .rows(table)
        .filter((r) => (r.regardingobjectid as { id?: string } | null)?.id === id)
        .map((r) => ({ id: String(r.activityid), table, createdon: String(r.createdon) })),
    ).sort((a, b) => b.createdon.localeCompare(a.createdon));
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  /** the deal with the most kinds of activity on it */
  /** the deal with the most kinds of activity (of those with one of `kind`, where given) */
  const busiest = (kind?: string) =>
    emu
      .rows('opportunity')
      .map((o) => ({ o, kinds: new Set(activitiesOf(String(o.opportunityid)).map((a) => a.table)) }))
      .filter((d) => !kind || d.kinds.has(kind))
      .sort((a, b) => b.kinds.size - a.kinds.size)[0]!.o;

  it("a deal's tasks, calls, emails and meetings in one query, newest first, each with its table", async () => {
    const deal = busiest();
    const expected = activitiesOf(String(deal.opportunityid));
    expect(new Set(expected.map((a) => a.table)).size).toBeGreaterThanOrEqual(3);
    const r = await h.call('query_entities', {
      entity: 'activitypointer',
      select: ['subject', 'activitytypecode', 'createdon'],
      where: { regardingobjectid: String(deal.name) },
      orderBy: 'createdon desc',
      top: 50,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.records.map((x: Record<string, unknown>) => [x.id, x.activitytypecode])).toEqual(
      expected.map((a) => [a.id, a.table]),
    );
    // counted per kind in Dynamics, as the rows are
    const counted = await h.call('aggregate_records', {
      entity: 'activitypointer',
      where: { regardingobjectid: String(deal.opportunityid) },
      groupBy: ['activitytypecode'],
    });
    expect(counted.isError, textOf(counted)).toBeFalsy();
    const perKind = Object.fromEntries(
      counted.structuredContent.groups.map((g: { activitytypecode: string; count: number }) => [
        g.activitytypecode,
        g.count,
      ]),
    );
    const expectedPerKind: Record<string, number> = {};
    for (const a of expected) expectedPerKind[a.table] = (expectedPerKind[a.table] ?? 0) + 1;
    expect(perKind).toEqual(expectedPerKind);
  });

  // a Case Resolution and an Opportunity Close are activities too, written Completed by the actions that close
  // ("Default status and status reason values"): counted among done work, never among open activities
  it('the closes of cases and deals are completed activities, not open ones', async () => {
    const counted = await h.call('aggregate_records', {
      entity: 'activitypointer',
      where: { activitytypecode: { in: ['incidentresolution', 'opportunityclose'] } },
      groupBy: ['activitytypecode', 'statecode'],
    });
    expect(counted.isError, textOf(counted)).toBeFalsy();
    const closes = (table: string) => emu.rows(table).length;
    expect(closes('incidentresolution')).toBeGreaterThan(0);
    expect(closes('opportunityclose')).toBeGreaterThan(0);
    expect(
      counted.structuredContent.groups.map((g: { activitytypecode: string; statecode: string; count: number }) => [
        g.activitytypecode,
        g.statecode,
        g.count,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['incidentresolution', 'Completed (1)', closes('incidentresolution')],
        ['opportunityclose', 'Completed (1)', closes('opportunityclose')],
      ]),
    );
    expect(counted.structuredContent.groups).toHaveLength(2);
  });

  it("none about an account itself (query or its list) is said to leave out its deals' activities, and how to ask for them", async () => {
    // an account with no activity of its own but some on its deals: Dynamics' timeline of the account shows
    // them (Microsoft's GetEntityDataByRollup: activities related to an account, contact or opportunity)
    const account = emu.rows('account').find((a) => {
      const deals = emu.rows('opportunity').filter((o) => (o.customerid as { id?: string })?.id === a.accountid);
      return (
        !activitiesOf(String(a.accountid)).length &&
        deals.some((d) => activitiesOf(String(d.opportunityid)).length) &&
        emu.rows('account').filter((b) => b.name === a.name).length === 1
      );
    })!;
    const note =
      ' Only activities whose Regarding is that record itself are found: one about a record related to it (an' +
      " account's contacts, opportunities or cases) has that record as its Regarding; to include them, query" +
      ' activitypointer with {"regardingobjectid": {"in": [<their ids>]}} (query_entities gives the ids). And an' +
      ' email, call or meeting a person was on names them among its parties: query email, phonecall or appointment' +
      ' with {"<table>_activity_parties": {"partyid": "<their name>"}}.';
    const none = await h.call('query_entities', {
      entity: 'activitypointer',
      select: ['subject'],
      where: { regardingobjectid: String(account.name) },
    });
    expect(textOf(none).split('\n')[0]).toBe(`0 activitypointer records.${note}`);
    const count = await h.call('query_entities', {
      entity: 'task',
      where: { regardingobjectid: String(account.accountid) },
      top: 0,
    });
    expect(textOf(count).split('\n')[0]).toBe(`0 task records match; none returned ("top": 0).${note}`);
    // what the note says to do finds them
    const deals = emu
      .rows('opportunity')
      .filter((o) => (o.customerid as { id?: string })?.id === account.accountid)
      .map((o) => String(o.opportunityid));
    const theirs = await h.call('query_entities', {
      entity: 'activitypointer',
      select: ['subject'],
      where: { regardingobjectid: { in: deals } },
      top: 50,
    });
    expect((theirs.structuredContent.records as { id: string }[]).map((r) => r.id).sort()).toEqual(
      deals.flatMap((d) => activitiesOf(d).map((a) => a.id)).sort(),
    );
    // not said where something was found, where the condition is a "not", or on a table without a Regarding
    const deal = busiest();
    const found = await h.call('query_entities', {
      entity: 'activitypointer',
      where: { regardingobjectid: String(deal.name) },
    });
    expect(textOf(found)).not.toContain('Only activities whose Regarding');
    const notAbout = await h.call('query_entities', {
      entity: 'task',
      where: {
        and: [
          { not: { column: 'regardingobjectid', op: 'eq', value: String(account.accountid) } },
          { column: 'createdon', op: 'lt', value: '2000-01-01' },
        ],
      },
    });
    expect(textOf(notAbout).split('\n')[0]).toBe('0 task records.');
    // a query that asks through the Regarding too (its deals' and contacts' calls, as account_brief does)
    // already reaches the related records: only where the people's calls are is said
    const through = await h.call('query_entities', {
      entity: 'task',
      where: {
        or: [
          { regardingobjectid: String(account.accountid) },
          { 'regardingobjectid_contact_task/parentcustomerid': String(account.accountid) },
        ],
        createdon: { lt: '2000-01-01' },
      },
    });
    expect(textOf(through).split('\n')[0]).toBe(
      '0 task records. An email, call or meeting a person was on names them among its parties: query email, phonecall or appointment with {"<table>_activity_parties": {"partyid": "<their name>"}}.',
    );
    // the account's own list of activities, empty, says the same; a deal's list with some in it does not
    const own = await h.call('get_record', {
      entity: 'account',
      id: String(account.accountid),
      select: ['name'],
      expand: ['activities'],
    });
    expect(own.structuredContent.record).toMatchObject({ Account_ActivityPointers: [] });
    expect(textOf(own).split('\n')[0]).toBe(
      `Account ${account.accountid}: No activity is regarding this account itself: one about a record related to it` +
        " (an account's contacts, opportunities or cases) has that record as its Regarding; to see those, query" +
        ' activitypointer with {"regardingobjectid": {"in": [<their ids>]}} (query_entities gives the ids).',
    );
    // a person's list also says where the emails and calls they were on are, and that query finds them
    const sender = emu
      .rows('activityparty')
      .map((p) => p.partyid as { id?: string; entity?: string } | null)
      .find((p) => p?.entity === 'contact' && !activitiesOf(String(p.id)).length)!;
    const person = emu.rows('contact').find((c) => c.contactid === sender.id)!;
    const listed = await h.call('get_record', {
      entity: 'contact',
      id: String(person.contactid),
      select: ['fullname'],
      expand: ['activities'],
    });
    expect(textOf(listed).split('\n')[0]).toMatch(
      /: No activity is regarding this contact itself: .* And an email, call or meeting a person was on names them among its parties: query email, phonecall or appointment with \{"<table>_activity_parties": \{"partyid": "<their name>"\}\}\.$/,
    );
    const onEmails = await h.call('query_entities', {
      entity: 'email',
      where: { email_activity_parties: { partyid: String(person.contactid) } },
      select: ['subject'],
    });
    const onCalls = await h.call('query_entities', {
      entity: 'phonecall',
      where: { phonecall_activity_parties: { partyid: String(person.contactid) } },
      select: ['subject'],
    });
    expect(
      (onEmails.structuredContent.records as unknown[]).length +
        (onCalls.structuredContent.records as unknown[]).length,
    ).toBeGreaterThan(0);
    const dealsOwn = await h.call('get_record', {
      entity: 'opportunity',
      id: String(busiest().opportunityid),
      select: ['name'],
      expand: ['activities'],
    });
    expect(textOf(dealsOwn).split('\n')[0]).toBe(`Opportunity ${busiest().opportunityid}:`);
  });

  it("accounts chosen by their activities (\"no activity in 90 days\") are told their deals', cases' and contacts' are not among them, and the query that counts them finds fewer", async () => {
    const since = new Date(Date.now() - 90 * 86_400_000).toISOString();
    const recent = (ids: Set<string>) =>
      ACTIVITIES.flatMap((t) => emu.rows(t)).some(
        (a) => ids.has(String((a.regardingobjectid as { id?: string } | null)?.id)) && String(a.createdon) >= since,
      );
    const related = (account: string) =>
      new Set(
        [
          ...emu
            .rows('opportunity')
            .filter((o) => (o.customerid as { id?: string })?.id === account)
            .map((o) => o.opportunityid),
          ...emu
            .rows('incident')
            .filter((c) => (c.customerid as { id?: string })?.id === account)
            .map((c) => c.incidentid),
          ...emu
            .rows('contact')
            .filter((c) => (c.parentcustomerid as { id?: string } | null)?.id === account)
            .map((c) => c.contactid),
        ].map(String),
      );
    const quiet = (withRelated: boolean) =>
      emu
        .rows('account')
        .filter((a) => !recent(new Set([String(a.accountid), ...(withRelated ? related(String(a.accountid)) : [])])))
        .map((a) => String(a.accountid))
        .sort();
    const ids = (r: Awaited<ReturnType<typeof h.call>>) =>
      (r.structuredContent.records as { id: string }[]).map((a) => a.id).sort();
    const own = { 'Account_ActivityPointers/createdon': { lastXDays: 90 } };
    const asked = await h.call('query_entities', {
      entity: 'account',
      where: { not: own },
      select: ['name'],
      top: 500,
    });
    expect(asked.isError, textOf(asked)).toBeFalsy();
    expect(ids(asked)).toEqual(quiet(false));
    const paths = [
      'contact_customer_accounts/Contact_ActivityPointers/createdon',
      'opportunity_customer_accounts/Opportunity_ActivityPointers/createdon',
      'incident_customer_accounts/Incident_ActivityPointers/createdon',
    ];
    expect(textOf(asked).split('\n')[0]).toBe(
      `${quiet(false).length} account records. Only activities whose Regarding is the account itself are in Account_ActivityPointers: one about a record related to it (an account's contacts, opportunities or cases) has that record as its Regarding, and Dynamics' timeline of the account shows it. To count those too, put the same condition through ${paths.map((p) => `"${p}"`).join(', ')} in an "or" with yours (inside your "not", as you asked for none).`,
    );
    // the list named by its table, as the "none" shorthand: the same accounts, the same note
    const aliased = await h.call('query_entities', {
      entity: 'account',
      where: { activities: { none: { createdon: 'last 90 days' } } },
      select: ['name'],
      top: 500,
    });
    expect(ids(aliased)).toEqual(quiet(false));
    expect(textOf(aliased).split('\n')[0]).toBe(textOf(asked).split('\n')[0]);
    // what it says to do: fewer accounts, those whose deals, cases and contacts were quiet too
    const followed = await h.call('query_entities', {
      entity: 'account',
      where: { not: { or: [own, ...paths.map((p) => ({ [p]: { lastXDays: 90 } }))] } },
      select: ['name'],
      top: 500,
    });
    expect(ids(followed)).toEqual(quiet(true));
    expect(quiet(true).length).toBeLessThan(quiet(false).length);
    expect(textOf(followed)).not.toContain('Only activities whose Regarding');
    // a condition through a lookup beside it (three steps, but no related list's activities) still has the note
    const beside = await h.call('query_entities', {
      entity: 'account',
      where: { not: own, 'parentaccountid/primarycontactid/fullname': { null: true } },
      select: ['name'],
      top: 1,
    });
    expect(beside.isError, textOf(beside)).toBeFalsy();
    expect(textOf(beside)).toContain(
      'Only activities whose Regarding is the account itself are in Account_ActivityPointers',
    );
    // counted, the same; a contact's says where the calls and emails they were on are
    const counted = await h.call('aggregate_records', {
      entity: 'account',
      where: { Account_Tasks: { notNull: true } },
    });
    expect(textOf(counted)).toContain(
      'in Account_Tasks: one about a record related to it (an account\'s contacts, opportunities or cases) has that record as its Regarding, and Dynamics\' timeline of the account shows it. To count those too, put the same condition through "contact_customer_accounts/Contact_Tasks", "opportunity_customer_accounts/Opportunity_Tasks", "incident_customer_accounts/Incident_Tasks" in an "or" with yours.',
    );
    const person = await h.call('query_entities', {
      entity: 'contact',
      where: { 'Contact_ActivityPointers/createdon': { lastXDays: 30 } },
      top: 0,
    });
    expect(textOf(person)).toContain(
      'Only activities whose Regarding is the contact itself are in Contact_ActivityPointers; an email, call or meeting a person was on names them among its parties: query email, phonecall or appointment with {"<table>_activity_parties": {"partyid": "<their name>"}}.',
    );
  });

  it('get_record with "activities" lists them under the record; one made now is among them, newest', async () => {
    const deal = busiest();
    const made = await h.call('create_record', {
      entity: 'task',
      values: {
        subject: 'Send the revised quote',
        regardingobjectid: { entity: 'opportunity', id: deal.opportunityid },
      },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    const r = await h.call('get_record', {
      entity: 'opportunity',
      id: String(deal.opportunityid),
      select: ['name'],
      expand: [{ relation: 'activities', select: ['subject', 'activitytypecode'], orderBy: 'createdon desc', top: 5 }],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const list = r.structuredContent.record.Opportunity_ActivityPointers as Record<string, unknown>[];
    expect(list[0]).toMatchObject({
      id: made.structuredContent.id,
      subject: 'Send the revised quote',
      activitytypecode: 'task',
    });
    expect(list.map((a) => a.id)).toEqual(
      activitiesOf(String(deal.opportunityid))
        .slice(0, 5)
        .map((a) => a.id),
    );
  });

  it('an activity\'s kind by the table\'s name as people say it ("Phone Call", "emails"); a name of no table is refused', async () => {
    const count = async (activitytypecode: unknown) => {
      const r = await h.call('aggregate_records', { entity: 'activitypointer', where: { activitytypecode } });
      expect(r.isError, textOf(r)).toBeFalsy();
      return r.structuredContent.groups[0].count as number;
    };
    const calls = emu.rows('phonecall').length;
    expect(calls).toBeGreaterThan(0);
    for (const name of ['phonecall', 'Phone Call', 'phonecalls', 'PHONE CALLS'])
      expect(await count(name), name).toBe(calls);
    expect(await count(['Task', 'emails'])).toBe(emu.rows('task').length + emu.rows('email').length);
    expect(await count({ ne: 'Phone Call' })).toBe(emu.rows('activitypointer').length - calls);
    // before, "meeting" counted no activities: nothing said that no table has that name
    const since = emu.requests().length;
    const meeting = await h.call('query_entities', {
      entity: 'activitypointer',
      where: { activitytypecode: 'meeting' },
    });
    expect(textOf(meeting)).toBe(
      "Error (bad_input): activitypointer.activitytypecode holds a table's logical name (task, phonecall, email, appointment …); 'meeting' names no table.\nHow to fix: Use the logical name: a phone call is phonecall, a meeting appointment. describe_entity without arguments lists the tables.",
    );
    expect(apiRequests(emu, since).filter((q) => q.url.includes('activitypointers'))).toEqual([]);
  });

  it("an email's body is not read through its activity (description is left out, as on email)", async () => {
    const mail = emu.rows('email').find((m) => m.description)!;
    // the emulator's pointer row carries the body, as Dataverse's does: the policy is what keeps it out
    expect(emu.rows('activitypointer').find((p) => p.activityid === mail.activityid)!.description).toBe(
      mail.description,
    );
    const since = emu.requests().length;
    const r = await h.call('query_entities', {
      entity: 'activitypointer',
      select: ['subject', 'description'],
      where: { activityid: String(mail.activityid) },
    });
    expect(textOf(r)).toMatch(/^Error \(policy\): The column 'description' of activitypointer is not readable/);
    const all = await h.call('get_record', { entity: 'activitypointer', id: String(mail.activityid) });
    expect(all.isError, textOf(all)).toBeFalsy();
    expect(Object.keys(all.structuredContent.record)).not.toContain('description');
    expect(JSON.stringify(all.structuredContent)).not.toContain(String(mail.description));
    expect(apiRequests(emu, since).filter((q) => q.url.includes('description'))).toEqual([]);
  });

  it("an email's from and to asked for as columns are answered with its parties, which the policy lets be read", async () => {
    // the built-in policy lists neither column (they are no columns of a row) but follows email_activity_parties:
    // "to" and "from" are read as that list, each party with the part it played, in the one request
    const since = emu.requests().length;
    const r = await h.call('query_entities', { entity: 'email', select: ['subject', 'from', 'to'], top: 2 });
    expect(r.isError, textOf(r)).toBeFalsy();
    const sent = apiRequests(emu, since).filter((q) => q.url.includes('/emails'));
    expect(sent).toHaveLength(1);
    expect(decodeURIComponent(sent[0]!.url)).toContain('$expand=email_activity_parties(');
    for (const mail of r.structuredContent.records) {
      const row = emu.rows('email').find((m) => m.activityid === mail.id)!;
      expect(mail.subject).toBe(row.subject);
      const parties = emu.rows('activityparty').filter((p) => (p.activityid as { id: string }).id === mail.id);
      expect(parties.length).toBeGreaterThan(1);
      expect(
        mail.email_activity_parties.map((p: { partyid: { id: string }; participationtypemask: string }) => [
          p.partyid.id,
          p.participationtypemask,
        ]),
      ).toEqual(
        expect.arrayContaining(
          parties.map((p) => [
            (p.partyid as { id: string }).id,
            p.participationtypemask === 1 ? 'Sender (1)' : 'To Recipient (2)',
          ]),
        ),
      );
      expect(mail).not.toHaveProperty('from');
      expect(mail).not.toHaveProperty('to');
    }
    // a meeting's required attendees: its parties too, the organizer's part and theirs said
    const attendees = await h.call('query_entities', { entity: 'appointment', select: ['requiredattendees'], top: 1 });
    expect(JSON.stringify(attendees.structuredContent.records[0].appointment_activity_parties)).toContain(
      'Required attendee (5)',
    );
    // where the policy does not follow an email's parties, the list is refused as no column, with what to do
    const noParties = builtInPolicyWith('no-email-parties', (entities) => ({
      ...entities,
      email: { ...entities.email!, expand: entities.email!.expand!.filter((n) => n !== 'email_activity_parties') },
    }));
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: noParties, LOG_LEVEL: 'warn' } });
    try {
      const before = emu.requests().length;
      const refused = await strict.call('query_entities', { entity: 'email', select: ['subject', 'from'], top: 2 });
      expect(textOf(refused)).toMatch(
        /^Error \(policy\): The column 'from' of email is not readable under this server's policy\./,
      );
      expect(apiRequests(emu, before).filter((q) => q.url.includes('/emails'))).toEqual([]);
    } finally {
      await strict.close();
    }
    const expanded = await h.call('query_entities', {
      entity: 'email',
      select: ['subject'],
      expand: [{ relation: 'email_activity_parties' }],
      top: 2,
    });
    expect(expanded.isError, textOf(expanded)).toBeFalsy();
    expect(expanded.structuredContent.records[0].email_activity_parties[0]).toHaveProperty('participationtypemask');
    // a column the policy leaves out that is no party list is still refused as the policy's
    const cc = await h.call('query_entities', { entity: 'email', select: ['subject', 'description'], top: 1 });
    expect(textOf(cc)).toMatch(/^Error \(policy\): The column 'description' of email is not readable/);
  });

  // every kind of activity has a row in ActivityPointer (a real organisation has letters, faxes, its own
  // activity tables): the list shows only the kinds whose own table the policy lets the model read
  it('a policy that leaves emails out shows none through the list: not listed, counted, expanded, read or probed', async () => {
    const noEmail = builtInPolicyWith('no-email', ({ email: _left, ...entities }) => entities);
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: noEmail, LOG_LEVEL: 'warn' } });
    try {
      const deal = busiest('email');
      const kinds = activitiesOf(String(deal.opportunityid)).map((a) => a.table);
      expect(kinds).toContain('email');
      expect(new Set(kinds).size).toBeGreaterThan(1);
      const listed = await strict.call('query_entities', {
        entity: 'activitypointer',
        select: ['activitytypecode'],
        where: { regardingobjectid: String(deal.opportunityid) },
        top: 50,
      });
      expect(listed.isError, textOf(listed)).toBeFalsy();
      expect(
        listed.structuredContent.records.map((r: { activitytypecode: string }) => r.activitytypecode).sort(),
      ).toEqual(kinds.filter((k) => k !== 'email').sort());
      // page by page (each next page is checked again), still none
      const seen: string[] = [];
      let page = await strict.call('query_entities', {
        entity: 'activitypointer',
        select: ['activitytypecode'],
        top: 20,
      });
      for (let i = 0; i < 10 && !page.isError; i++) {
        seen.push(...page.structuredContent.records.map((r: { activitytypecode: string }) => r.activitytypecode));
        if (!page.structuredContent.hasMore) break;
        page = await strict.call('query_entities', {
          entity: 'activitypointer',
          cursor: page.structuredContent.cursor,
        });
      }
      expect(page.isError, textOf(page)).toBeFalsy();
      expect(seen.length).toBe(emu.rows('activitypointer').length - emu.rows('email').length);
      expect(seen).not.toContain('email');
      // asking for emails by kind is told they are not shown (not "none found"); counting per kind finds none
      const asked = await strict.call('aggregate_records', {
        entity: 'activitypointer',
        where: { activitytypecode: 'Email' },
      });
      expect(textOf(asked)).toBe(
        "Error (policy): activitypointer shows only the kinds of activity this server's policy lets you read (incidentresolution, opportunityclose, task, phonecall, appointment); 'Email' (email) is not one of them.\nHow to fix: Ask for one of those kinds; an administrator decides which tables the policy lists.",
      );
      const others = await strict.call('aggregate_records', {
        entity: 'activitypointer',
        where: { activitytypecode: { ne: 'email' } },
      });
      expect(others.isError, textOf(others)).toBeFalsy();
      const perKind = await strict.call('aggregate_records', {
        entity: 'activitypointer',
        groupBy: ['activitytypecode'],
      });
      expect(
        perKind.structuredContent.groups.map((g: { activitytypecode: string }) => g.activitytypecode).sort(),
      ).toEqual(['appointment', 'incidentresolution', 'opportunityclose', 'phonecall', 'task']);
      const expanded = await strict.call('get_record', {
        entity: 'opportunity',
        id: String(deal.opportunityid),
        select: ['name'],
        expand: [{ relation: 'activities', select: ['activitytypecode'], top: 25 }],
      });
      expect(expanded.isError, textOf(expanded)).toBeFalsy();
      const inList = expanded.structuredContent.record.Opportunity_ActivityPointers as { activitytypecode: string }[];
      expect(inList.length).toBeGreaterThan(0);
      expect(inList.map((a) => a.activitytypecode)).not.toContain('email');
      const mail = emu.rows('email')[0]!;
      const byId = await strict.call('get_record', { entity: 'activitypointer', id: String(mail.activityid) });
      expect(textOf(byId)).toMatch(
        new RegExp(
          `^Error \\(not_found\\): No activitypointer with the id ${mail.activityid} that this server's policy lets you read\\.`,
        ),
      );
      expect(textOf(byId)).not.toContain(String(mail.subject));
      // "deals with an email about X" asks, through any(), only the kinds shown: a deal whose only activity about
      // it is the hidden email is not found, nor left out of "deals with none" (the lambda's rows are narrowed
      // to the shown kinds in the request itself, raw filter text too)
      const pointers = emu.rows('activitypointer');
      const shownWith = (subject: string) =>
        new Set(
          pointers
            .filter((a) => a.activitytypecode !== 'email' && a.subject === subject)
            .map((a) => (a.regardingobjectid as { id?: string } | null)?.id),
        );
      const hidden = emu
        .rows('email')
        .find((m) => !shownWith(String(m.subject)).has((m.regardingobjectid as { id: string }).id))!;
      const subject = String(hidden.subject);
      const about = (hidden.regardingobjectid as { id: string }).id;
      const task = emu
        .rows('task')
        .find((t) => (t.regardingobjectid as { entity?: string } | null)?.entity === 'opportunity')!;
      const since = emu.requests().length;
      const ids = async (where: unknown) => {
        const r = await strict.call('query_entities', { entity: 'opportunity', where, select: ['name'], top: 500 });
        expect(r.isError, textOf(r)).toBeFalsy();
        expect(r.structuredContent.hasMore).toBe(false);
        return new Set(r.structuredContent.records.map((d: { id: string }) => d.id));
      };
      const withSubject = await ids({ 'Opportunity_ActivityPointers/subject': subject });
      expect(withSubject).toEqual(shownWith(subject));
      expect(withSubject.has(about)).toBe(false);
      const without = await ids({ not: { 'Opportunity_ActivityPointers/subject': subject } });
      expect(without.has(about)).toBe(true);
      expect(without.size).toBe(emu.rows('opportunity').length - shownWith(subject).size);
      // the control: a task's subject finds its deal
      expect(
        (await ids({ 'Opportunity_ActivityPointers/subject': String(task.subject) })).has(
          (task.regardingobjectid as { id: string }).id,
        ),
      ).toBe(true);
      const raw = await strict.call('query_entities', {
        entity: 'opportunity',
        filter: "Opportunity_ActivityPointers/any(a:a/activitytypecode eq 'email')",
      });
      expect(raw.isError, textOf(raw)).toBeFalsy();
      expect(raw.structuredContent.records).toEqual([]);
      // a next page is checked again, and asks the same: the kinds once
      const first = await strict.call('query_entities', {
        entity: 'opportunity',
        where: { not: { 'Opportunity_ActivityPointers/subject': subject } },
        select: ['name'],
        top: 5,
      });
      const next = await strict.call('query_entities', {
        entity: 'opportunity',
        cursor: first.structuredContent.cursor,
      });
      expect(next.isError, textOf(next)).toBeFalsy();
      expect(next.structuredContent.records.length).toBe(5);
      const sent = apiRequests(emu, since).filter((q) => q.url.includes('ActivityPointers'));
      expect(sent.length).toBe(6);
      for (const q of sent)
        expect(decodeURIComponent(q.url).split("activitytypecode ne 'phonecall'").length).toBeLessThan(3);
      for (const q of sent) expect(decodeURIComponent(q.url)).toMatch(/\w\/activitytypecode (eq|ne) 'phonecall'/);
    } finally {
      await strict.close();
    }
  });

  it('a policy that lists activities without their kind, or with no kind to show, is refused at start', () => {
    const without =
      (read: string[], entities: Record<string, unknown> = {}) =>
      () =>
        Policy.fromInput({ entities: { activitypointer: { read }, ...entities } } as never);
    expect(without(['activityid', 'subject'], { task: { read: ['activityid', 'subject'] } })).toThrow(
      /activitypointer be read without activitytypecode readable/,
    );
    expect(without(['activityid', 'activitytypecode'])).toThrow(DynamicsMcpError);
    expect(without(['activityid', 'activitytypecode'], { task: { read: ['activityid'] } })).not.toThrow();
  });

  it('the list is only read: a create or change of an activity goes through its own table', async () => {
    const id = String(emu.rows('activitypointer')[0]!.activityid);
    const create = await h.call('create_record', { entity: 'activitypointer', values: { subject: 'x' } });
    expect(textOf(create)).toMatch(/^Error \(policy\): Creating activitypointer records is not allowed/);
    const update = await h.call('update_record', { entity: 'activitypointer', id, values: { subject: 'x' } });
    expect(update.isError).toBe(true);
    expect(emu.rows('activitypointer').find((p) => p.activityid === id)!.subject).not.toBe('x');
  });
});

// Closing an activity is a change of it: a task completed, a meeting held, was last modified then or after, as
// Dataverse stamps Modified On with every write (a seeded task or meeting had its Actual End after its last change)
describe('the demo organisation: closed activities', () => {
  it('every completed or canceled task, call, email and meeting was last changed when it was closed, or after', async () => {
    const emu = await startTestEmulator({ scale: 600 });
    try {
      const closed = ['task', 'phonecall', 'email', 'appointment'].flatMap((t) =>
        emu.rows(t).filter((r) => r.statecode !== 0 && typeof r.actualend === 'string'),
      );
      expect(closed.length).toBeGreaterThan(200);
      const early = closed.filter((r) => Date.parse(String(r.modifiedon)) < Date.parse(String(r.actualend)));
      expect(early.map((r) => [r.subject, r.actualend, r.modifiedon])).toEqual([]);
      // the list of them all (ActivityPointer) says the same, as Dataverse keeps it with each activity
      const pointers = new Map(emu.rows('activitypointer').map((p) => [p.activityid, p]));
      for (const r of closed) expect(pointers.get(r.activityid)!.modifiedon).toBe(r.modifiedon);
    } finally {
      await emu.close();
    }
  });
});
