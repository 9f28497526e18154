import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { apiRequests, writesSince } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import {
  auditLog,
  builtInPolicyWith,
  connectInMemory,
  type McpHarness,
  serveWithAuditLog,
  textOf,
} from '../helpers/mcp.js';

// "Show me Contoso Pharma", "add a note to Nina Castillo": people name records, and a model that has only the
// name would otherwise spend a query_entities call to learn the id. A name is the one record of the table with
// it, found through the policy as a lookup given by name is; several are listed, none suggests names
describe('a record given by its name where a tool takes an id', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const audit = auditLog('by-name');
  serveWithAuditLog(audit, (e, harness) => {
    emu = e;
    h = harness;
  });
  const writes = (since: number) => writesSince(emu, since);

  it('get_record, update_record and add_note take a name (any casing) and act on that record', async () => {
    const acc = emu.rows('account').find((a) => a.statecode === 0)!;
    const read = await h.call('get_record', {
      entity: 'account',
      id: ` ${String(acc.name).toUpperCase()} `,
      select: ['name'],
    });
    expect(read.isError, textOf(read)).toBeFalsy();
    expect(read.structuredContent).toMatchObject({ id: acc.accountid, record: { name: acc.name } });

    const contact = emu.rows('contact').find((c) => c.statecode === 0)!;
    const updated = await h.call('update_record', {
      entity: 'contact',
      id: String(contact.fullname),
      values: { jobtitle: 'Head of Purchasing' },
    });
    expect(updated.isError, textOf(updated)).toBeFalsy();
    expect(updated.structuredContent).toMatchObject({ id: contact.contactid, updated: true });
    expect(textOf(updated)).toMatch(new RegExp(`^Updated contact "${contact.fullname}" \\(${contact.contactid}\\): `));
    expect(emu.rows('contact').find((c) => c.contactid === contact.contactid)!.jobtitle).toBe('Head of Purchasing');
    expect(await audit.last()).toMatchObject({ tool: 'update_record', entity: 'contact', id: contact.contactid });

    const noted = await h.call('add_note', { entity: 'account', id: String(acc.name), text: 'Met at the fair' });
    expect(noted.isError, textOf(noted)).toBeFalsy();
    expect(noted.structuredContent.record).toEqual({ entity: 'account', id: acc.accountid, name: acc.name });
  });

  it('a lookup copied from a result ({id, name, entity}) is its id', async () => {
    const r = await h.call('query_entities', { entity: 'contact', select: ['fullname', 'parentcustomerid'], top: 50 });
    const row = r.structuredContent.records.find((x: { parentcustomerid?: unknown }) => x.parentcustomerid);
    const read = await h.call('get_record', { entity: 'account', id: row.parentcustomerid, select: ['name'] });
    expect(read.isError, textOf(read)).toBeFalsy();
    expect(read.structuredContent.record).toEqual({ id: row.parentcustomerid.id, name: row.parentcustomerid.name });
    // anything else that is not text is still refused as no id
    const odd = await h.call('get_record', { entity: 'account', id: { key: 'x' } });
    expect(textOf(odd)).toMatch(/^Error \(bad_input\): id must be a record id \(GUID\)/);
  });

  it('resolve_case takes a case by its title', async () => {
    const opened = await h.call('create_case', {
      title: 'Label printer offline in Rotterdam',
      customer: { accountId: String(emu.rows('account')[0]!.accountid) },
    });
    expect(opened.isError, textOf(opened)).toBeFalsy();
    const r = await h.call('resolve_case', {
      id: 'Label printer offline in Rotterdam',
      resolution: 'Replaced the cable',
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ id: opened.structuredContent.id, resolved: true });
  });

  it('cases that share a title are listed with their case numbers and, where they differ, their customers', async () => {
    const opened = [];
    for (let i = 0; i < 2; i++) {
      const r = await h.call('create_case', {
        title: 'Badge reader rejects cards',
        customer: { accountId: String(emu.rows('account')[i]!.accountid) },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      opened.push(emu.rows('incident').find((c) => c.incidentid === r.structuredContent.id)!);
    }
    const r = await h.call('resolve_case', { id: 'Badge reader rejects cards', resolution: 'x' });
    // "the Litware one": the customer each is for
    for (const [i, c] of opened.entries())
      expect(textOf(r)).toContain(
        `Badge reader rejects cards (incident, ${c.ticketnumber}, for ${emu.rows('account')[i]!.name}) — ${c.incidentid}`,
      );
    expect(opened.map((c) => emu.rows('incident').find((x) => x.incidentid === c.incidentid)!.statecode)).toEqual([
      0, 0,
    ]);
  });

  it('a name several records share is refused, listing them with their ids; nothing is written', async () => {
    const name = 'Northwind Depot';
    const ids: string[] = [];
    for (const city of ['Leeds', 'Porto']) {
      const r = await h.call('create_record', {
        entity: 'account',
        values: { name, address1_city: city },
        allowDuplicate: true,
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      ids.push(r.structuredContent.id);
    }
    const since = emu.requests().length;
    const r = await h.call('update_record', { entity: 'account', id: name, values: { telephone1: '555 0100' } });
    expect(r.isError).toBe(true);
    const text = textOf(r);
    expect(text).toMatch(/^Error \(bad_input\): id 'Northwind Depot': 2 records have that name: /);
    for (const [i, city] of ['Leeds', 'Porto'].entries())
      expect(text).toContain(`${name} (account, ${city}) — ${ids[i]}`);
    expect(text).toContain('How to fix: Pass the id of the one you mean.');
    expect(writes(since)).toEqual([]);
  });

  it('deals sharing a name ("Data platform for Woodgrove" twice) are told apart by their close dates', async () => {
    const name = 'Data platform for Northwind Depot';
    const customerid = String(emu.rows('account')[0]!.accountid);
    const closing = ['2027-01-17', '2027-04-18'];
    const ids: string[] = [];
    for (const estimatedclosedate of closing) {
      const r = await h.call('create_record', {
        entity: 'opportunity',
        values: { name, estimatedclosedate, customerid: { entity: 'account', id: customerid } },
        allowDuplicate: true,
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      ids.push(r.structuredContent.id);
    }
    const since = emu.requests().length;
    const r = await h.call('update_record', { entity: 'opportunity', id: name, values: { statecode: 'Won' } });
    expect(r.isError).toBe(true);
    for (const [i, day] of closing.entries())
      expect(textOf(r)).toContain(`${name} (opportunity, closing ${day}) — ${ids[i]}`);
    expect(writes(since)).toEqual([]);
  });

  it('people of one name without a city are told apart by what differs between them: their emails', async () => {
    const ids: string[] = [];
    for (const email of ['sam.ortiz@fabrikam.example', 'sam.ortiz@contoso.example']) {
      const r = await h.call('create_record', {
        entity: 'contact',
        values: { firstname: 'Sam', lastname: 'Ortiz', emailaddress1: email },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      ids.push(r.structuredContent.id);
    }
    const r = await h.call('add_note', { entity: 'contact', id: 'Sam Ortiz', text: 'Called back' });
    expect(textOf(r)).toMatch(/^Error \(bad_input\): id 'Sam Ortiz': 2 records have that name: /);
    expect(textOf(r)).toContain(`Sam Ortiz (contact, sam.ortiz@fabrikam.example) — ${ids[0]}`);
    expect(textOf(r)).toContain(`Sam Ortiz (contact, sam.ortiz@contoso.example) — ${ids[1]}`);
  });

  it('records that nothing else tells apart (two accounts of one name, no city) are listed with when each was made', async () => {
    const name = 'Harbour Lights Trading';
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      // Dataverse keeps createdon to the second: the second account is made in the next one
      if (i) await new Promise((r) => setTimeout(r, 1010 - (Date.now() % 1000)));
      const r = await h.call('create_record', { entity: 'account', values: { name }, allowDuplicate: true });
      expect(r.isError, textOf(r)).toBeFalsy();
      ids.push(r.structuredContent.id);
    }
    const made = ids.map((id) => String(emu.rows('account').find((a) => a.accountid === id)!.createdon));
    expect(new Set(made).size).toBe(2);
    const r = await h.call('get_record', { entity: 'account', id: name });
    for (const [i, at] of made.entries()) expect(textOf(r)).toContain(`${name} (account, created ${at}) — ${ids[i]}`);
    // told apart by a city, they are not said with when they were made
    const moved = await h.call('update_record', {
      entity: 'account',
      id: ids[0],
      values: { address1_city: 'Leeds' },
      allowDuplicate: true, // the account of that name is already a known duplicate of this one
    });
    expect(moved.isError, textOf(moved)).toBeFalsy();
    const told = textOf(await h.call('get_record', { entity: 'account', id: name }));
    expect(told).toContain(`${name} (account, Leeds) — ${ids[0]}`);
    expect(told).toContain(`${name} (account) — ${ids[1]}`);
  });

  it('activities sharing a subject and a due time are told apart by what they are about', async () => {
    const subject = 'Send the pricing sheet';
    const deals = emu
      .rows('opportunity')
      .filter((o) => o.statecode === 0 && emu.rows('opportunity').filter((p) => p.name === o.name).length === 1)
      .slice(0, 2);
    const ids: string[] = [];
    for (const deal of deals) {
      const r = await h.call('create_record', {
        entity: 'task',
        values: { subject, scheduledend: '2027-02-01T09:00:00Z', regardingobjectid: String(deal.opportunityid) },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      ids.push(r.structuredContent.id);
    }
    const both = await h.call('update_record', { entity: 'task', id: subject, values: { statecode: 'Completed' } });
    for (const [i, deal] of deals.entries())
      expect(textOf(both)).toContain(`${subject} (task, due 2027-02-01T09:00:00Z, about ${deal.name}) — ${ids[i]}`);
  });

  it('activities sharing a subject are told apart by when they are due; past five, the query that lists them all', async () => {
    const subject = 'Check in after the demo';
    const due = [
      '2027-01-11T09:00:00Z',
      '2027-01-12T09:00:00Z',
      '2027-01-13T09:00:00Z',
      '2027-01-14T09:00:00Z',
      '2027-01-15T09:00:00Z',
      '2027-01-18T09:00:00Z',
    ];
    const ids: string[] = [];
    for (const scheduledend of due) {
      const r = await h.call('create_record', {
        entity: 'task',
        values: { subject, scheduledend },
        allowDuplicate: true,
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      ids.push(r.structuredContent.id);
    }
    const two = await h.call('get_record', { entity: 'task', id: subject.toLowerCase() });
    const text = textOf(two);
    expect(text).toMatch(
      new RegExp(`^Error \\(bad_input\\): id '${subject.toLowerCase()}': more than 5 records have that name: `),
    );
    // five of the six, each with its due time
    expect(due.filter((d, i) => text.includes(`${subject} (task, due ${d}) — ${ids[i]}`))).toHaveLength(5);
    expect(text).toContain(
      `How to fix: Pass the id of the one you mean, or list them all with query_entities on task (where {"subject": "${subject.toLowerCase()}"}) and the columns that tell them apart.`,
    );
    const all = await h.call('query_entities', {
      entity: 'task',
      where: { subject: subject.toLowerCase() },
      select: ['scheduledend'],
    });
    expect(all.structuredContent.records.map((t: { id: string }) => t.id).sort()).toEqual([...ids].sort());
    // an activity of any kind is "an activity", named by its subject
    const none = await h.call('get_record', { entity: 'activitypointer', id: 'No such subject at all' });
    expect(textOf(none)).toMatch(
      /^Error \(bad_input\): id 'No such subject at all' is neither an activity id \(GUID\) nor the subject of an activity\./,
    );
  });

  it('records sharing a name in different states are listed with their states ("note on the Printer jam case")', async () => {
    const title = 'Printer jam on floor 3';
    const customer = { accountId: String(emu.rows('account')[0]!.accountid) };
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      // the second on purpose: the same title again for the customer is otherwise the first, still open
      const r = await h.call('create_case', { title, customer, ...(i ? { allowDuplicate: true } : {}) });
      expect(r.isError, textOf(r)).toBeFalsy();
      ids.push(r.structuredContent.id);
    }
    expect((await h.call('resolve_case', { id: ids[0], resolution: 'Cleared the tray' })).isError).toBeFalsy();
    const since = emu.requests().length;
    // (resolve_case takes the one still open: resolve-case.test.ts)
    const r = await h.call('add_note', { entity: 'incident', id: title, text: 'The tray jams again' });
    const numbers = ids.map((id) => emu.rows('incident').find((c) => c.incidentid === id)!.ticketnumber);
    expect(textOf(r)).toContain(`${title} (incident, ${numbers[0]}, Resolved) — ${ids[0]}`);
    expect(textOf(r)).toContain(`${title} (incident, ${numbers[1]}, Active) — ${ids[1]}`);
    expect(writes(since)).toEqual([]);
  });

  // last month's "Send the quarterly report" is done; "mark Send the quarterly report done" means this month's
  it('a change that closes a record (Completed, Won) names the one open record of several with the name', async () => {
    const subject = 'Send the quarterly report to Fabrikam';
    const regarding = String(emu.rows('account')[2]!.name);
    const done = await h.call('create_record', {
      entity: 'task',
      values: { subject, regardingobjectid: regarding, statecode: 'Completed' },
    });
    const open = await h.call('create_record', {
      entity: 'task',
      values: { subject, regardingobjectid: regarding, scheduledend: '2027-01-05' },
      allowDuplicate: true,
    });
    expect(open.isError, textOf(open)).toBeFalsy();
    const r = await h.call('update_record', { entity: 'task', id: subject, values: { statecode: 'Completed' } });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.id).toBe(open.structuredContent.id);
    expect(
      emu
        .rows('task')
        .filter((t) => t.subject === subject)
        .map((t) => t.statecode),
    ).toEqual([1, 1]);
    // any other change, or reopening one, still lists them: which one is meant is not known
    const since = emu.requests().length;
    const moved = await h.call('update_record', {
      entity: 'task',
      id: subject,
      values: { scheduledend: '2027-01-09' },
    });
    expect(textOf(moved)).toMatch(new RegExp(`^Error \\(bad_input\\): id '${subject}': 2 records have that name: `));
    expect(textOf(moved)).toContain(done.structuredContent.id);
    expect(writes(since)).toEqual([]);
  });

  it('a name no record has suggests the names that contain it; a cut id or a link without one is refused as an id', async () => {
    const acc = emu.rows('account').find((a) => String(a.name).includes(' '))!;
    const part = String(acc.name).split(' ')[0]!;
    const r = await h.call('get_record', { entity: 'account', id: `${part} Nosuch Holdings` });
    expect(textOf(r)).toMatch(
      new RegExp(
        `^Error \\(bad_input\\): id '${part} Nosuch Holdings' is neither an account id \\(GUID\\) nor the name of an account\\.`,
      ),
    );
    // the name less its last letter is in it, and is no account's name
    const cutName = String(acc.name).slice(0, -1);
    const near = await h.call('get_record', { entity: 'account', id: cutName });
    expect(textOf(near)).toContain(
      `is neither an account id (GUID) nor the name of an account.\nHow to fix: Names that contain it: `,
    );
    expect(textOf(near)).toContain(`${acc.name} (account) — ${acc.accountid}`);

    const since = emu.requests().length;
    const cut = String(acc.accountid).slice(0, -1);
    const c = await h.call('add_note', { entity: 'account', id: cut, text: 'x' });
    expect(textOf(c)).toBe(
      `Error (bad_input): id '${cut}' is not a record id: an id is a GUID of 32 hex digits (5b6b1d3c-8f9e-4a2b-9c0d-1e2f3a4b5c6d), in a link its id= part.\nHow to fix: Pass the id as query_entities or get_record returned it, or the record's name.`,
    );
    // refused before any request: it is not looked for as a name
    expect(apiRequests(emu, since)).toEqual([]);
    // several ids in one text (a list sent as text): said to be a list, with the list to send
    const [a, b] = emu.rows('account').map((x) => String(x.accountid));
    for (const [tool, entity] of [
      ['update_record', 'account'],
      ['get_record', undefined],
    ] as const) {
      const values = tool === 'update_record' ? { values: { telephone1: '1' } } : {};
      const two = await h.call(tool, { ...(entity ? { entity } : {}), id: `${a}, ${b}`, ...values });
      expect(textOf(two)).toBe(
        `Error (bad_input): id '${a}, ${b}' holds 2 record ids; it names one record.\nHow to fix: Pass them as a list, "id": ["${a}", "${b}"], where the tool takes a list (update_record, delete_record and resolve_case: up to 50); otherwise call it once for each.`,
      );
    }
    expect(apiRequests(emu, since)).toEqual([]);
  });

  it('a name no record of the table has, that a record of another table has, says which: a contact taken for a lead', async () => {
    const contact = emu
      .rows('contact')
      .find(
        (c) =>
          !emu.rows('lead').some((l) => l.fullname === c.fullname) &&
          !emu.rows('account').some((a) => a.name === c.fullname),
      )!;
    const leads = emu.rows('lead');
    const since = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'lead',
      id: String(contact.fullname).toUpperCase(),
      values: { statecode: 'Qualified' },
    });
    expect(textOf(r)).toBe(
      `Error (bad_input): id '${String(contact.fullname).toUpperCase()}' is neither a lead id (GUID) nor the full name of a lead.\nHow to fix: A contact has that name (${contact.contactid}): if it is the record meant, call again with entity "contact" and that id. Find it with query_entities on lead (e.g. where {"fullname": {"contains": "<part of the name>"}}) and pass its id.`,
    );
    // nothing written (the other tables' metadata, read for the first time here, comes in a $batch of GETs)
    expect(writes(since).filter((q) => !q.url.endsWith('/$batch'))).toEqual([]);
    expect(emu.rows('lead')).toEqual(leads);
    // the call it points at works
    const read = await h.call('get_record', { entity: 'contact', id: String(contact.contactid), select: ['fullname'] });
    expect(read.structuredContent.record).toMatchObject({ fullname: contact.fullname });
    // where asking the other tables fails, the refusal goes without it (and is still the refusal)
    emu.addFault({ match: { method: 'GET', path: '/api/data/v9.2/contacts' }, response: { status: 500 }, times: 20 });
    try {
      const unasked = await h.call('get_record', { entity: 'lead', id: String(contact.fullname) });
      expect(textOf(unasked)).toBe(
        `Error (bad_input): id '${contact.fullname}' is neither a lead id (GUID) nor the full name of a lead.\nHow to fix: Find it with query_entities on lead (e.g. where {"fullname": {"contains": "<part of the name>"}}) and pass its id.`,
      );
    } finally {
      emu.clearFaults();
    }
    // a name no table has says nothing of other tables
    const none = await h.call('get_record', { entity: 'lead', id: 'Nobody Of That Name' });
    expect(textOf(none)).toMatch(/How to fix: Find it with query_entities on lead/);
  });

  it('an email address is the one record that has it: as pasted, with or without the table; elsewhere said, several listed', async () => {
    const contact = emu
      .rows('contact')
      .find(
        (c) =>
          c.emailaddress1 &&
          [...emu.rows('contact'), ...emu.rows('lead'), ...emu.rows('account')].filter(
            (r) => String(r.emailaddress1 ?? '').toLowerCase() === String(c.emailaddress1).toLowerCase(),
          ).length === 1,
      )!;
    const address = String(contact.emailaddress1);
    for (const [args, entity] of [
      [{ id: address }, 'contact'],
      [{ entity: 'contact', id: `${contact.fullname} <${address.toUpperCase()}>` }, 'contact'],
      [{ entity: 'contact', id: `mailto:${address}` }, 'contact'],
    ] as const) {
      const r = await h.call('get_record', { ...args, select: ['fullname'] });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent, JSON.stringify(args)).toMatchObject({
        entity,
        id: contact.contactid,
        record: { fullname: contact.fullname },
      });
    }
    const updated = await h.call('update_record', {
      entity: 'contact',
      id: address,
      values: { jobtitle: 'Head of Email' },
    });
    expect(textOf(updated)).toMatch(new RegExp(`^Updated contact "${contact.fullname}" \\(${contact.contactid}\\)`));
    // the wrong table says which one has it; nothing written
    const since = emu.requests().length;
    const lead = await h.call('update_record', { entity: 'lead', id: address, values: { jobtitle: 'x' } });
    expect(textOf(lead)).toBe(
      `Error (bad_input): No lead has the email '${address}'.\nHow to fix: A contact has it (${contact.fullname}, ${contact.contactid}): if it is the record meant, call again with entity "contact" and that id. Check the address, or find the lead with query_entities and pass its id.`,
    );
    expect(writes(since).filter((q) => !q.url.endsWith('/$batch'))).toEqual([]);
    // two records with one address are listed, not one picked
    const shared = 'shared.inbox@example.org';
    for (const lastname of ['Inbox One', 'Inbox Two'])
      expect(
        (
          await h.call('create_record', {
            entity: 'contact',
            values: { lastname, emailaddress1: shared },
            allowDuplicate: true,
          })
        ).isError,
      ).toBeFalsy();
    const two = await h.call('get_record', { id: shared });
    expect(textOf(two)).toMatch(
      new RegExp(`^Error \\(bad_input\\): 2 records have the email '${shared}': Inbox (One|Two) \\(contact\\) — `),
    );
    const none = await h.call('get_record', { id: 'nobody.at.all@example.org' });
    expect(textOf(none)).toMatch(
      /^Error \(bad_input\): No record this server may read has the email 'nobody\.at\.all@example\.org'\./,
    );
  });

  it("a lookup written as an email address is the one record of its tables with it: a task's Regarding, a primary contact", async () => {
    const contacts = emu.rows('contact');
    const person = contacts.find(
      (c) => c.emailaddress1 && contacts.filter((d) => d.emailaddress1 === c.emailaddress1).length === 1,
    )!;
    const task = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Call back about the quote', regardingobjectid: String(person.emailaddress1) },
    });
    expect(task.isError, textOf(task)).toBeFalsy();
    const made = emu.rows('task').find((t) => t.activityid === task.structuredContent.id)!;
    expect(made.regardingobjectid).toMatchObject({ id: person.contactid, entity: 'contact' });
    // as pasted from a mail, with the name
    const acc = emu.rows('account').find((a) => a.statecode === 0)!;
    const updated = await h.call('update_record', {
      entity: 'account',
      id: String(acc.accountid),
      values: { primarycontactid: `${person.fullname} <${person.emailaddress1}>` },
    });
    expect(updated.isError, textOf(updated)).toBeFalsy();
    expect(emu.rows('account').find((a) => a.accountid === acc.accountid)!.primarycontactid).toMatchObject({
      id: person.contactid,
    });
    const since = emu.requests().length;
    const none = await h.call('update_record', {
      entity: 'account',
      id: String(acc.accountid),
      values: { primarycontactid: 'nobody.at.all@example.org' },
    });
    expect(textOf(none)).toBe(
      "Error (bad_input): account.primarycontactid 'nobody.at.all@example.org': no contact this server may read has that email.\nHow to fix: Check the address, or find the record with query_entities (e.g. on contact where its email contains part of it) and pass its id.",
    );
    expect(writes(since)).toEqual([]);
  });

  it("a lookup compared with an email address in a query or a count is compared with the records that have it: a sender's cases", async () => {
    const contacts = emu.rows('contact');
    const person = contacts.find(
      (c) =>
        c.emailaddress1 &&
        contacts.filter((d) => d.emailaddress1 === c.emailaddress1).length === 1 &&
        !emu.rows('incident').some((i) => (i.customerid as { id?: string } | undefined)?.id === c.contactid),
    )!;
    const opened = await h.call('create_case', { title: 'Wiper broken', customer: String(person.emailaddress1) });
    expect(opened.isError, textOf(opened)).toBeFalsy();
    const q = await h.call('query_entities', {
      entity: 'incident',
      where: { customerid: `${person.fullname} <${person.emailaddress1}>` },
      select: ['title'],
    });
    expect(q.structuredContent.records.map((r: { id: string }) => r.id)).toEqual([opened.structuredContent.id]);
    const n = await h.call('aggregate_records', {
      entity: 'incident',
      where: { customerid: String(person.emailaddress1) },
    });
    expect(n.structuredContent.groups).toEqual([{ count: 1 }]);
    // a call's To alike: the calls to her
    const call = await h.call('create_record', {
      entity: 'phonecall',
      values: { subject: 'About the wiper', to: String(person.emailaddress1) },
    });
    expect(call.isError, textOf(call)).toBeFalsy();
    const calls = await h.call('query_entities', {
      entity: 'phonecall',
      where: { to: String(person.emailaddress1) },
      select: ['subject'],
    });
    expect(calls.structuredContent.records.map((r: { id: string }) => r.id)).toContain(call.structuredContent.id);
    // each address is a lookup of its own: a list of them is bounded, and refused past it before any is made
    const before = emu.requests().length;
    const many = await h.call('query_entities', {
      entity: 'incident',
      where: { customerid: { in: Array.from({ length: 26 }, (_, i) => `sender${i}@example.org`) } },
    });
    expect(textOf(many)).toMatch(
      /^Error \(bad_input\): incident\.customerid is compared with 26 email addresses; one condition looks up at most 25\./,
    );
    expect(apiRequests(emu, before).filter((q) => q.url.includes('emailaddress1'))).toEqual([]);
    // an address no record has is said, not answered with "no cases"
    const none = await h.call('query_entities', {
      entity: 'incident',
      where: { customerid: 'nobody.at.all@example.org' },
    });
    expect(textOf(none)).toBe(
      "Error (not_found): No account or contact this server may read has the email 'nobody.at.all@example.org' (incident.customerid).\nHow to fix: Check the address, or find the record with query_entities (e.g. on account where its email contains part of it) and compare with its id.",
    );
  });

  it('update_record and add_note without entity find the record by name or email in any table, as get_record does', async () => {
    const contact = emu.rows('contact').find((c) => c.statecode === 0 && c.emailaddress1 && c.jobtitle)!;
    const updated = await h.call('update_record', {
      id: String(contact.fullname),
      values: { jobtitle: 'Head of Fleet' },
    });
    expect(updated.isError, textOf(updated)).toBeFalsy();
    expect(updated.structuredContent).toMatchObject({ entity: 'contact', id: contact.contactid });
    expect(emu.rows('contact').find((c) => c.contactid === contact.contactid)!.jobtitle).toBe('Head of Fleet');
    const noted = await h.call('add_note', { id: String(contact.emailaddress1), text: 'Prefers calls after 3pm' });
    expect(noted.isError, textOf(noted)).toBeFalsy();
    expect(noted.structuredContent.record).toMatchObject({ entity: 'contact', id: contact.contactid });
    expect(emu.rows('annotation').some((n) => n.notetext === 'Prefers calls after 3pm')).toBe(true);
    // a name no searched table has is refused as get_record refuses it, and nothing is written
    const since = emu.requests().length;
    const none = await h.call('update_record', { id: 'Nobody Of That Name', values: { jobtitle: 'x' } });
    expect(textOf(none)).toMatch(
      /^Error \(bad_input\): id 'Nobody Of That Name' is neither a record id \(GUID\) nor the name of a record in account, contact/,
    );
    expect(writes(since)).toEqual([]);
  });

  it('a record given without its table is found among the tables the application user may read; none readable is the refusal', async () => {
    const acc = emu.rows('account').find((a) => a.statecode === 0 && a.emailaddress1 && a.name !== 'Northwind Depot')!;
    // the security role reads accounts only: the search does not fail on contacts, leads, cases …
    emu.configure({ role: { privileges: { account: { read: true } } } });
    try {
      for (const id of [acc.name, acc.accountid, acc.emailaddress1]) {
        const r = await h.call('get_record', { id: String(id), select: ['name'] });
        expect(r.isError, `${id}: ${textOf(r)}`).toBeFalsy();
        expect(r.structuredContent).toMatchObject({ entity: 'account', id: acc.accountid });
      }
      // a name no account has: activities, which the role may not read, are not the answer; no record is
      const nowhere = await h.call('get_record', { id: 'Nothing is named this' });
      expect(textOf(nowhere)).toMatch(/^Error \(bad_input\): id 'Nothing is named this' is neither a record id/);
      emu.configure({ role: { privileges: {} } });
      // by name, id or email: a table with no email to ask (a case) does not make the refusals "no record"
      for (const id of [acc.name, acc.accountid, acc.emailaddress1]) {
        const none = await h.call('get_record', { id: String(id) });
        expect(textOf(none), String(id)).toMatch(
          /^Error \(permission\): The application user lacks the prvRead\w+ privilege/,
        );
      }
    } finally {
      await emu.reset();
    }
  });

  it('a write Dynamics refuses is audited as the record the name was found to be', async () => {
    const acc = emu.rows('account').find((a) => a.statecode === 0 && a.name !== 'Northwind Depot')!;
    emu.configure({ role: { privileges: { account: { read: true, create: true } } } });
    try {
      const r = await h.call('update_record', { entity: 'account', id: String(acc.name), values: { telephone1: '1' } });
      expect(textOf(r)).toContain('prvWriteAccount');
      expect(await audit.last()).toMatchObject({ tool: 'update_record', entity: 'account', id: acc.accountid });
      // given without its table, under the table it was found in
      const bare = await h.call('update_record', { id: String(acc.name), values: { telephone1: '2' } });
      expect(textOf(bare)).toContain('prvWriteAccount');
      expect(await audit.last()).toMatchObject({ tool: 'update_record', entity: 'account', id: acc.accountid });
    } finally {
      await emu.reset();
    }
  });
});

describe('a record given by its name, where the policy keeps names from the model', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 20 });
    const policy = builtInPolicyWith('no-account-names', (entities) => ({
      ...entities,
      account: { ...entities.account!, read: entities.account!.read!.filter((c) => c !== 'name') },
      contact: { ...entities.contact!, read: entities.contact!.read!.filter((c) => c !== 'emailaddress1') },
    }));
    h = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  it('is refused without asking Dynamics for the name: the model cannot learn which names exist', async () => {
    const acc = emu.rows('account')[0]!;
    const since = emu.requests().length;
    const r = await h.call('get_record', { entity: 'account', id: String(acc.name) });
    expect(textOf(r)).toBe(
      `Error (bad_input): id '${acc.name}' is neither an account id (GUID) nor the name of an account.\nHow to fix: Pass the account's id: this server may not read account names.`,
    );
    expect(apiRequests(emu, since).filter((q) => q.url.includes('name'))).toEqual([]);
  });

  it('an email address the policy keeps from the model is not looked for: it is taken for a name, and refused as one', async () => {
    const c = emu.rows('contact').find((x) => x.emailaddress1)!;
    const since = emu.requests().length;
    const r = await h.call('get_record', { entity: 'contact', id: String(c.emailaddress1) });
    expect(textOf(r)).toMatch(
      new RegExp(
        `^Error \\(bad_input\\): id '${String(c.emailaddress1).replace(/\./g, '\\.')}' is neither a contact id \\(GUID\\) nor the full name of a contact\\.`,
      ),
    );
    // a lookup written as that address alike: a name no contact has
    const acc = emu.rows('account')[0]!;
    const lookup = await h.call('update_record', {
      entity: 'account',
      id: String(acc.accountid),
      values: { primarycontactid: String(c.emailaddress1) },
    });
    expect(textOf(lookup)).toMatch(
      /^Error \(bad_input\): account\.primarycontactid '.*' is neither a contact id \(GUID\) nor the full name of a contact\./,
    );
    // and compared in a query: among the tables whose addresses the model may read (accounts), not contacts
    const cases = await h.call('query_entities', {
      entity: 'incident',
      where: { customerid: String(c.emailaddress1) },
    });
    expect(textOf(cases)).toMatch(/^Error \(not_found\): No account this server may read has the email /);
    expect(apiRequests(emu, since).filter((q) => /contacts.*emailaddress1/.test(decodeURIComponent(q.url)))).toEqual(
      [],
    );
  });
});

// "Who is Nina Castillo?": the model has a name and not the table. get_record without entity looks for the record
// in the tables whose records people name (not activities, notes or settings), side by side, through the policy
describe('get_record without a table: the record found in any table', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 20 });
    h = await connectInMemory(emu);
    process.on('warning', onWarning);
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await h.close();
    await emu.close();
  });
  const tablesAsked = (since: number) =>
    [
      ...new Set(
        apiRequests(emu, since)
          .filter((q) => q.method === 'GET' && !/EntityDefinitions|\$batch/.test(q.url))
          .map((q) => /^\/api\/data\/v9\.2\/(\w+)/.exec(q.url)?.[1]),
      ),
    ].sort();

  it('a name is the one record with it, whichever table has it; only the tables of named records are asked', async () => {
    const contact = emu.rows('contact').find((c) => c.statecode === 0)!;
    const since = emu.requests().length;
    const r = await h.call('get_record', { id: String(contact.fullname), select: ['fullname', 'emailaddress1'] });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({
      entity: 'contact',
      id: contact.contactid,
      record: { fullname: contact.fullname, emailaddress1: contact.emailaddress1 },
    });
    expect(tablesAsked(since)).toEqual([
      'accounts',
      'competitors',
      'contacts',
      'incidents',
      'leads',
      'opportunities',
      'products',
      'systemusers',
      'teams',
    ]);
    const user = await h.call('get_record', { id: 'alex wilber', select: ['fullname'] });
    expect(user.structuredContent).toMatchObject({ entity: 'systemuser', record: { fullname: 'Alex Wilber' } });
    // a team is named as a user is: the queue that owns a case
    const team = await h.call('get_record', { id: 'Customer Service', select: ['name', 'teamtype'] });
    expect(team.structuredContent).toMatchObject({
      entity: 'team',
      record: { name: 'Customer Service', teamtype: 'Owner (0)' },
    });
  });

  it("a team's name that customers' names hold too (the default team bears the organisation's) lists them beside the team, to choose", async () => {
    const team = emu.rows('team').find((t) => t.isdefault === true)!;
    const account = await h.deps.client.create('account', { name: `${String(team.name)} Test Holdings` });
    const r = await h.call('get_record', { id: String(team.name) });
    expect(textOf(r)).toContain(
      `Error (bad_input): '${String(team.name)}' is the name of a team (${String(team.name)} — ${String(team.teamid)}), and part of other records' names.`,
    );
    expect(textOf(r)).toContain(`${String(team.name)} Test Holdings (account) — ${account.id}`);
    // asked of the team's table, it is the team; a team no other name holds is the team (above: Customer Service)
    const asked = await h.call('get_record', { entity: 'team', id: String(team.name) });
    expect(asked.structuredContent).toMatchObject({ entity: 'team', id: team.teamid });
    // nor is a note or a change made to the team by surprise
    const since = emu.requests().length;
    const note = await h.call('add_note', { id: String(team.name), text: 'For the account' });
    expect(textOf(note)).toContain('is the name of a team');
    expect(apiRequests(emu, since).filter((q) => q.method !== 'GET')).toEqual([]);
  });

  it("a case by its number, and a record by its id alone: the table that has it (an activity's too)", async () => {
    const c = emu.rows('incident')[3]!;
    const byNumber = await h.call('get_record', { id: String(c.ticketnumber), select: ['title'] });
    expect(byNumber.structuredContent).toMatchObject({
      entity: 'incident',
      id: c.incidentid,
      record: { title: c.title },
    });
    const task = emu.rows('task')[0]!;
    const byId = await h.call('get_record', { id: `{${String(task.activityid).toUpperCase()}}`, select: ['subject'] });
    expect(byId.isError, textOf(byId)).toBeFalsy();
    expect(byId.structuredContent).toMatchObject({ entity: 'task', record: { subject: task.subject } });
    // each table's request (13 here) listens on the call's signal side by side: no warning about listeners,
    // which would reach stderr
    await new Promise((r) => setImmediate(r));
    expect(warnings.map((w) => w.message)).toEqual([]);
    const none = await h.call('get_record', { id: '00000000-0000-4000-8000-00000000abcd' });
    expect(textOf(none)).toBe(
      'Error (bad_input): No record this server may read has the id 00000000-0000-4000-8000-00000000abcd.\nHow to fix: Check the id (query_entities or a lookup in a result gives it), or pass entity: the table it belongs to.',
    );
    // a name in no table: how to look in each, and where activities are found (by subject, not looked for here)
    const nowhere = await h.call('get_record', { id: 'Follow-up about the renewal' });
    expect(textOf(nowhere)).toContain(
      'How to fix: Find it with query_entities on account (e.g. where {"name": {"contains": "<part of the name>"}}), or on contact (fullname), lead (fullname), opportunity (name), incident (title), systemuser (fullname), team (name), competitor (name), product (name) alike, and pass its id. An activity (a task, a call, an email) is found by its subject with query_entities on activitypointer',
    );
    // a number no case or account has is looked for as a name, and said to be neither
    const unknown = await h.call('get_record', { id: 'CAS-99999-ZZZZZZ' });
    expect(textOf(unknown)).toMatch(
      /^Error \(bad_input\): No case, account or product has the number 'CAS-99999-ZZZZZZ', and the id 'CAS-99999-ZZZZZZ' is neither a record id \(GUID\) nor the name of a record in account, contact, lead, opportunity, incident, user, team, competitor or product\./,
    );
    expect(textOf(unknown)).toContain(
      "How to fix: Check the number (a case's ticketnumber, an account's accountnumber, a product's productnumber) with the user, or find the record with query_entities (e.g. on incident",
    );
  });

  it('an activity by its whole subject, without its table: the one with it, in the table that holds it; several are listed', async () => {
    const made = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Send the pricing sheet to Elena', scheduledend: '2031-05-02' },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    const id = made.structuredContent.id;
    const r = await h.call('get_record', { id: 'send the pricing sheet to elena', select: ['subject', 'statecode'] });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({
      entity: 'task',
      id,
      record: { subject: 'Send the pricing sheet to Elena' },
    });
    // "mark it done" by its subject alone
    const done = await h.call('update_record', {
      id: 'Send the pricing sheet to Elena',
      values: { statecode: 'Completed' },
    });
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(emu.rows('task').find((t) => t.activityid === id)).toMatchObject({ statecode: 1 });
    // a subject several activities share is listed with what tells them apart, and nothing is written
    const subjects = new Map<string, number>();
    for (const table of ['task', 'phonecall', 'email', 'appointment'])
      for (const a of emu.rows(table)) subjects.set(String(a.subject), (subjects.get(String(a.subject)) ?? 0) + 1);
    const [shared] = [...subjects].find(([, n]) => n > 1)!;
    const before = JSON.stringify(['task', 'phonecall', 'email', 'appointment'].map((t) => emu.rows(t)));
    const several = await h.call('update_record', { id: shared, values: { statecode: 'Completed' } });
    expect(textOf(several)).toMatch(
      new RegExp(`^Error \\(bad_input\\): id '${shared}': (\\d+|more than 5) records have that name: `),
    );
    expect(JSON.stringify(['task', 'phonecall', 'email', 'appointment'].map((t) => emu.rows(t)))).toBe(before);
  });

  it('an account is found by its account number too, with or without its table; a name that looks like a number is still a name', async () => {
    const acc = emu.rows('account').find((a) => typeof a.accountnumber === 'string' && a.accountnumber)!;
    const anywhere = await h.call('get_record', { id: acc.accountnumber, select: ['name'] });
    expect(anywhere.isError, textOf(anywhere)).toBeFalsy();
    expect(anywhere.structuredContent).toMatchObject({
      entity: 'account',
      id: acc.accountid,
      record: { name: acc.name },
    });
    const given = await h.call('get_record', {
      entity: 'account',
      id: String(acc.accountnumber).toLowerCase(),
      select: ['name'],
    });
    expect(given.structuredContent).toMatchObject({ entity: 'account', id: acc.accountid });
    const made = await h.call('create_record', { entity: 'account', values: { name: 'ACME-Direct' } });
    expect(made.isError, textOf(made)).toBeFalsy();
    for (const args of [{ id: 'ACME-Direct' }, { entity: 'account', id: 'acme-direct' }]) {
      const named = await h.call('get_record', { ...args, select: ['name'] });
      expect(named.structuredContent, JSON.stringify(args)).toMatchObject({
        entity: 'account',
        id: made.structuredContent.id,
      });
    }
  });

  it('a product is found by its Product ID as price lists quote it, whole or up to its last part', async () => {
    const item = emu.rows('product').find((p) => p.statecode === 0)!;
    const number = String(item.productnumber);
    for (const id of [number, number.toLowerCase(), number.replace(/-[^-]+$/, '')]) {
      const found = await h.call('get_record', { id, select: ['name', 'price'] });
      expect(found.isError, textOf(found)).toBeFalsy();
      expect(found.structuredContent, id).toMatchObject({
        entity: 'product',
        id: item.productid,
        record: { name: item.name, price: item.price },
      });
    }
  });

  it("a case's number in a lookup is that case: a task's Regarding written, notes and activities asked, a count", async () => {
    const about = (r: Record<string, unknown>, column: string) => (r[column] as { id?: string } | undefined)?.id;
    const kase = emu.rows('incident').find((i) => typeof i.ticketnumber === 'string')!;
    const number = String(kase.ticketnumber);
    const note = await h.call('add_note', { id: number, text: 'Customer sent the corrected invoice.' });
    expect(note.isError, textOf(note)).toBeFalsy();
    const task = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Call back about the invoice', regardingobjectid: number },
    });
    expect(task.isError, textOf(task)).toBeFalsy();
    // the case as Dynamics shows it, with the number it was given by: a wrong number shows at once
    expect(textOf(task)).toContain(`Regarding: ${kase.title}, ${number} (incident)`);
    expect(emu.rows('task').find((t) => t.activityid === task.structuredContent.id)!.regardingobjectid).toMatchObject({
      id: kase.incidentid,
      entity: 'incident',
    });
    const onCase = (table: string, column: string) =>
      emu
        .rows(table)
        .filter((r) => about(r, column) === kase.incidentid)
        .map((r) => String(r[`${table === 'annotation' ? 'annotation' : 'activity'}id`]))
        .sort();
    for (const [entity, column] of [
      ['task', 'regardingobjectid'],
      ['annotation', 'objectid'],
    ] as const) {
      const q = await h.call('query_entities', { entity, select: [column], where: { [column]: number }, top: 50 });
      expect(q.isError, textOf(q)).toBeFalsy();
      const ids = q.structuredContent.records.map((r: { id: string }) => r.id).sort();
      expect(ids.length, entity).toBeGreaterThan(0);
      expect(ids, entity).toEqual(onCase(entity, column));
    }
    const count = await h.call('aggregate_records', { entity: 'task', where: { regardingobjectid: number } });
    expect(count.structuredContent.groups).toEqual([{ count: onCase('task', 'regardingobjectid').length }]);
    // a number no case has stays a name (an account may be called "ACME-Direct"), and finds no record by it
    const none = await h.call('query_entities', { entity: 'task', where: { regardingobjectid: 'CAS-99999-ZZZZZZ' } });
    expect(none.structuredContent.records).toEqual([]);
    // beside numbers that are found, it is said, not dropped from the answer unsaid
    const some = await h.call('query_entities', {
      entity: 'task',
      where: { regardingobjectid: { in: [number, 'CAS-99999-ZZZZZZ'] } },
    });
    expect(textOf(some)).toBe(
      "Error (not_found): No case or account has the number 'CAS-99999-ZZZZZZ' (regardingobjectid); the others given are records' numbers.\nHow to fix: Check those numbers with the user, or leave them out.",
    );
  });

  it('a lookup copied from a result names its table: that one is read, none searched', async () => {
    const q = await h.call('query_entities', { entity: 'incident', select: ['title', 'customerid'], top: 1 });
    const customer = q.structuredContent.records[0].customerid;
    expect(customer).toMatchObject({ entity: expect.any(String), id: expect.any(String) });
    const since = emu.requests().length;
    const r = await h.call('get_record', { id: customer });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ entity: customer.entity, id: customer.id });
    expect(tablesAsked(since)).toEqual([customer.entity === 'account' ? 'accounts' : 'contacts']);
    // the writes that need a table take it from the lookup too: "update that customer", "note it on them"
    const updated = await h.call('update_record', { id: customer, values: { telephone1: '555 0199' } });
    expect(updated.isError, textOf(updated)).toBeFalsy();
    expect(updated.structuredContent).toMatchObject({ entity: customer.entity, id: customer.id });
    const noted = await h.call('add_note', { id: customer, text: 'Asked for a callback' });
    expect(noted.isError, textOf(noted)).toBeFalsy();
    expect(noted.structuredContent.record).toMatchObject({ entity: customer.entity, id: customer.id });
  });

  it('a name in several tables lists each with its table and id; a part of names lists the first five and says so', async () => {
    const acc = emu.rows('account')[0]!;
    const made = await h.call('create_record', {
      entity: 'opportunity',
      values: { name: String(acc.name), customerid: { entity: 'account', id: String(acc.accountid) } },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    const both = await h.call('get_record', { id: String(acc.name) });
    expect(textOf(both)).toMatch(new RegExp(`^Error \\(bad_input\\): id '${acc.name}': 2 records have that name: `));
    expect(textOf(both)).toContain(`${acc.name} (account, ${acc.address1_city}) — ${acc.accountid}`);
    expect(textOf(both)).toContain(`${acc.name} (opportunity) — ${made.structuredContent.id}`);

    // a part of a name that more than five contacts' names have
    const sharing = (p: string) => emu.rows('contact').filter((c) => String(c.fullname).includes(p)).length;
    const part = ['an', 'ar', 'er', 'ia', 'na', 'in'].find((p) => sharing(p) > 5)!;
    expect(part).toBeDefined();
    const many = await h.call('get_record', { id: part });
    expect(textOf(many)).toContain('How to fix: The first 5 names that contain it: ');
    expect(textOf(many)).toMatch(/Pass the id of the one you mean, or more of the name\.$/);
  });

  it('a phone number as written by a caller is the one record with it, compared by its digits', async () => {
    const acc = emu.rows('account').find((a) => a.statecode === 0 && a.telephone1)!;
    const made = await h.call('create_record', {
      entity: 'contact',
      values: {
        firstname: 'Greta',
        lastname: 'Lindqvist',
        telephone1: '+46 8 123 456 78',
        mobilephone: '070-555 01 99',
      },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    const greta = made.structuredContent.id;
    // without a table: the mobile number, written another way, and the office number without the country code
    for (const written of ['+46 70 555 0199', '0705550199']) {
      const r = await h.call('get_record', { id: written, select: ['fullname'] });
      expect(r.isError, `${written}: ${textOf(r)}`).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ entity: 'contact', id: greta });
    }
    const office = await h.call('get_record', { id: '08-123 456 78', select: ['fullname'] });
    expect(office.structuredContent).toMatchObject({ entity: 'contact', id: greta });
    // an extension after a number, kept or given, is not the number's
    const ola = await h.call('create_record', {
      entity: 'contact',
      values: { firstname: 'Ola', lastname: 'Berg', telephone1: '+47 22 33 44 55 ext. 12' },
    });
    for (const written of ['22 33 44 55', '+47 22334455 x12']) {
      const r = await h.call('get_record', { id: written, select: ['fullname'] });
      expect(r.structuredContent, `${written}: ${textOf(r)}`).toMatchObject({
        entity: 'contact',
        id: ola.structuredContent.id,
      });
    }
    // with a table, and where a tool takes an id (a note on the caller's account)
    const digits = String(acc.telephone1).replace(/\D/g, '');
    const spaced = `(${digits.slice(-10, -7)}) ${digits.slice(-7, -4)} ${digits.slice(-4)}`;
    const read = await h.call('get_record', { entity: 'account', id: spaced, select: ['name'] });
    expect(read.structuredContent).toMatchObject({ id: acc.accountid, record: { name: acc.name } });
    // a condition on the number as the caller wrote it matches text as typed, and finds nothing: the empty
    // answer says a record has the number written another way, and the call that finds it
    const asked = await h.call('query_entities', {
      entity: 'account',
      where: { telephone1: spaced },
      select: ['name'],
    });
    expect(asked.structuredContent.records).toEqual([]);
    expect(textOf(asked)).toContain(
      `No account has telephone1 '${spaced}' as its whole text, but one has that number written another way (numbers are kept as typed): get_record with entity "account" and id "${spaced}" finds it by the digits.`,
    );
    // "this caller's deals": a lookup compared with the number is compared with the records that have it
    const deals = await h.call('query_entities', {
      entity: 'opportunity',
      where: { customerid: spaced },
      select: ['name'],
      top: 500,
    });
    expect(deals.isError, textOf(deals)).toBeFalsy();
    expect(deals.structuredContent.records.length).toBeGreaterThan(0);
    expect(deals.structuredContent.records.map((d: { id: string }) => d.id).sort()).toEqual(
      emu
        .rows('opportunity')
        .filter((o) => (o.customerid as { id: string } | null)?.id === acc.accountid)
        .map((o) => o.opportunityid)
        .sort(),
    );
    const unknownCaller = await h.call('query_entities', {
      entity: 'incident',
      where: { customerid: '+61 2 9876 5432' },
    });
    expect(textOf(unknownCaller)).toContain(
      "No account or contact this server may read has the phone number '+61 2 9876 5432' (incident.customerid; compared by its digits).",
    );
    const noted = await h.call('add_note', { entity: 'account', id: spaced, text: 'Caller asked for an invoice copy' });
    expect(noted.structuredContent.record).toEqual({ entity: 'account', id: acc.accountid, name: acc.name });
    // a number two records share is listed, to choose by id; one nobody has says so, and how to look further
    const twin = await h.call('create_record', {
      entity: 'contact',
      values: { firstname: 'Nils', lastname: 'Lindqvist', mobilephone: '+46705550199' },
    });
    expect(twin.isError, textOf(twin)).toBeFalsy();
    const both = await h.call('get_record', { id: '070 555 01 99' });
    expect(both.isError).toBe(true);
    expect(textOf(both)).toContain("2 records have the phone number '0705550199'");
    expect(textOf(both)).toContain(`Greta Lindqvist (contact) — ${greta}`);
    expect(textOf(both)).toContain(`Nils Lindqvist (contact) — ${twin.structuredContent.id}`);
    const nobody = await h.call('get_record', { id: '+44 20 7946 0000' });
    expect(textOf(nobody)).toBe(
      'Error (bad_input): No record this server may read has the phone number \'+44 20 7946 0000\' (compared by its digits with each table\'s phone columns).\nHow to fix: Check the number with the user, or find the record with query_entities (e.g. on contact where {"telephone1": {"contains": "<its last digits>"}}) and pass its id.',
    );
    // a phone column the policy hides is not looked in
    const noPhones = builtInPolicyWith('no-phones', (e) => ({
      ...e,
      contact: {
        ...e.contact!,
        read: (e.contact!.read ?? []).filter((c) => c !== 'telephone1' && c !== 'mobilephone'),
      },
    }));
    const narrow = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: noPhones } });
    try {
      const since = emu.requests().length;
      const hidden = await narrow.call('get_record', { id: '08-123 456 78' });
      expect(hidden.isError).toBe(true);
      expect(
        apiRequests(emu, since).some((q) => q.url.startsWith('/api/data/v9.2/contacts') && q.url.includes('phone')),
      ).toBe(false);
    } finally {
      await narrow.close();
    }
  });

  it('a table the policy leaves out is not asked, and its records are not found', async () => {
    const policy = builtInPolicyWith('no-contacts', (entities) => {
      const { contact: _, ...rest } = entities;
      return rest;
    });
    const narrow = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    try {
      const contact = emu.rows('contact')[0]!;
      const since = emu.requests().length;
      const r = await narrow.call('get_record', { id: String(contact.fullname) });
      expect(textOf(r)).toMatch(
        new RegExp(
          `^Error \\(bad_input\\): id '${contact.fullname}' is neither a record id \\(GUID\\) nor the name of a record in account, lead, opportunity, incident, user, team, competitor or product\\.`,
        ),
      );
      expect(tablesAsked(since)).not.toContain('contacts');
    } finally {
      await narrow.close();
    }
  });
});
