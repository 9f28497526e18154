import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { apiRequests } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { builtInPolicyWith, connectAsking, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// Duplicates are merged as Dynamics merges them ("Merge table rows using the Web API"): the Merge action moves
// the duplicate's related records to the record kept, sets the values chosen on it (UpdateContent), and
// deactivates the duplicate, whose Master ID is then the record kept. update_record writing masterid is the merge.
describe('merging duplicates (accounts, contacts, leads, cases), and names, creates and notes after a merge', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const audit = join(tmpdir(), `dmcp-merge-audit-${process.pid}.jsonl`);
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 30 });
    writeFileSync(audit, '');
    h = await connectInMemory(emu, { env: { DYNAMICS_MCP_AUDIT_LOG: audit } });
  });
  afterAll(async () => {
    await h?.close();
    await emu?.close();
  });
  const ref = (v: unknown) => (v as { id: string } | null)?.id;
  const row = (table: string, id: string) =>
    emu
      .rows(table)
      .find((r) => r[['task', 'phonecall'].includes(table) ? 'activityid' : `${table}id`] === id) as Record<
      string,
      unknown
    >;
  const made = async (entity: string, values: Record<string, unknown>, allowDuplicate?: true) => {
    const r = await h.call('create_record', { entity, values, ...(allowDuplicate ? { allowDuplicate } : {}) });
    expect(r.isError, textOf(r)).toBeFalsy();
    return String((r.structuredContent as { id: string }).id);
  };
  // the prompt's counts of names used more than once, each run as written
  const candidateCalls = async (table: string, prompt: string) => {
    const calls = [
      ...prompt.matchAll(
        new RegExp(
          `call aggregate_records on ${table} with where (\\{.*?\\}), groupBy "(.*?)", measures "(.*?)", orderBy "(.*?)" and top (\\d+)`,
          'g',
        ),
      ),
    ];
    const answers = [];
    for (const c of calls) {
      const g = await h.call('aggregate_records', {
        entity: table,
        where: JSON.parse(c[1]!),
        groupBy: c[2],
        measures: c[3],
        orderBy: c[4],
        top: Number(c[5]),
      });
      expect(g.isError, textOf(g)).toBeFalsy();
      answers.push({ groupBy: c[2], groups: g.structuredContent.groups as Record<string, unknown>[] });
    }
    return answers;
  };
  const merges = (since: number) =>
    apiRequests(emu, since).filter((q) => q.method === 'POST' && q.url.endsWith('/Merge'));
  // the prompt's n-th read of the candidates, run as written with the values found in place of its placeholder
  const readAsWritten = async (table: string, prompt: string, n: number, values: unknown[]) => {
    const reads = [
      ...prompt.matchAll(
        new RegExp(
          `query_entities on ${table} with where (\\{.*?\\}\\}), select (\\[.*?\\]), orderBy "(.*?)" and top (\\d+)`,
          'g',
        ),
      ),
    ];
    const read = reads[n]!;
    const r = await h.call('query_entities', {
      entity: table,
      where: JSON.parse(read[1]!.replace(/\[<[^>]*>\]/, JSON.stringify(values))),
      select: JSON.parse(read[2]!),
      orderBy: read[3],
      top: Number(read[4]),
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    return r.structuredContent.records as Record<string, unknown>[];
  };
  // the prompt's merge, run as written: the duplicate into the one kept
  const mergeAsWritten = async (prompt: string, duplicate: string, kept: string) => {
    const merge = /update_record with entity "(\w+)", the duplicate's id, and values (\{.*?\})\./.exec(prompt)!;
    const r = await h.call('update_record', {
      entity: merge[1],
      id: duplicate,
      values: JSON.parse(merge[2]!.replace('<id of the one kept>', kept)),
    });
    expect(r.isError, textOf(r)).toBeFalsy();
  };

  it('a duplicate account merged by name: its contacts, deals and tasks move, the kept one fills its gaps, the duplicate is inactive', async () => {
    const kept = await made('account', { name: 'Fabrikam Merge Ltd', telephone1: '+44 20 7946 0001' });
    const dup = await made('account', {
      name: 'Fabrikam Merge Limited',
      telephone1: '+44 20 7946 0999',
      websiteurl: 'https://fabrikam-merge.example',
    });
    const contact = await made('contact', {
      firstname: 'Ola',
      lastname: 'Merge',
      parentcustomerid: { entity: 'account', id: dup },
    });
    const deal = await made('opportunity', { name: 'Fabrikam renewal', customerid: { entity: 'account', id: dup } });
    const task = await made('task', {
      subject: 'Call Fabrikam about renewal',
      regardingobjectid: { entity: 'account', id: dup },
    });
    const since = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'account',
      id: dup,
      values: { masterid: 'Fabrikam Merge Ltd' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(merges(since)).toHaveLength(1);
    expect(textOf(r)).toContain(
      `Merged account "Fabrikam Merge Limited" (${dup}) into "Fabrikam Merge Ltd" (${kept}): its related records`,
    );
    expect(textOf(r)).toContain('{"websiteurl":"https://fabrikam-merge.example"}');
    // the duplicate: inactive, and naming the account it became
    expect(row('account', dup)).toMatchObject({ statecode: 1, statuscode: 2 });
    expect(ref(row('account', dup).masterid)).toBe(kept);
    // the kept account keeps its own phone and takes the website it lacked
    expect(row('account', kept)).toMatchObject({
      statecode: 0,
      telephone1: '+44 20 7946 0001',
      websiteurl: 'https://fabrikam-merge.example',
    });
    // what was the duplicate's is the kept one's now
    expect(ref(row('contact', contact).parentcustomerid)).toBe(kept);
    expect(ref(row('task', task).regardingobjectid)).toBe(kept);
    expect(ref(row('opportunity', deal).customerid)).toBe(kept);
    expect(r.structuredContent).toMatchObject({
      updated: true,
      changed: { masterid: { id: kept, name: 'Fabrikam Merge Ltd' }, statecode: 'Inactive' },
      previous: { masterid: null, statecode: 'Active' },
    });
    // the audit log: the merge, the record kept and the value it took
    const entry = (await readFile(audit, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.id === dup && l.action === 'merge');
    expect(entry).toMatchObject({
      tool: 'update_record',
      entity: 'account',
      columns: { masterid: { entity: 'account', id: kept }, websiteurl: 'https://fabrikam-merge.example' },
    });
    // the duplicate read again (found by its old name): the answer says where its records are now
    const read = await h.call('get_record', { entity: 'account', id: dup, select: ['name', 'telephone1'] });
    expect(textOf(read)).toContain(
      `This account was merged into "Fabrikam Merge Ltd" (${kept}), which holds its related records now: read that one for what is in use.`,
    );
    expect(read.structuredContent.record).toEqual({
      id: dup,
      name: 'Fabrikam Merge Limited',
      telephone1: '+44 20 7946 0999',
    });
    const live = await h.call('get_record', { entity: 'account', id: kept, select: ['name'] });
    expect(textOf(live)).not.toContain('was merged into');
    // "which accounts were merged into Fabrikam" reads the Master ID
    const q = await h.call('query_entities', { entity: 'account', where: { masterid: kept }, select: ['name'] });
    expect(q.structuredContent.records.map((a: { name: string }) => a.name)).toEqual(['Fabrikam Merge Limited']);

    // the duplicate found again by its old name and changed: the answer points at the account kept
    const late = await h.call('update_record', {
      entity: 'account',
      id: dup,
      values: { telephone1: '+44 20 7946 0555' },
    });
    expect(late.isError, textOf(late)).toBeFalsy();
    expect(textOf(late)).toContain(
      `This account was merged into "Fabrikam Merge Ltd" (${kept}), which holds its related records now: if the change was meant for the account in use, make it there (id "${kept}").`,
    );
    // the same call again (its answer lost, say): merged already, nothing sent
    const again = await h.call('update_record', { entity: 'account', id: dup, values: { masterid: kept } });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(textOf(again)).toContain('was merged into "Fabrikam Merge Ltd"');
    expect(textOf(again)).toContain('already: nothing was sent');
    expect(merges(since)).toHaveLength(1);
  });

  it('a duplicate contact merged by id: its calls move to the contact kept', async () => {
    const kept = await made('contact', { firstname: 'Rui', lastname: 'Duarte', emailaddress1: 'rui@contoso.example' });
    const dup = await made('contact', { firstname: 'Rui', lastname: 'Duarte-Silva', jobtitle: 'Buyer' });
    const call = await made('phonecall', {
      subject: 'Rui asked for a quote',
      regardingobjectid: { entity: 'contact', id: dup },
    });
    const r = await h.call('update_record', { entity: 'contact', id: dup, values: { masterid: kept } });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(ref(row('contact', dup).masterid)).toBe(kept);
    expect(row('contact', kept)).toMatchObject({ emailaddress1: 'rui@contoso.example', jobtitle: 'Buyer' });
    expect(ref(row('phonecall', call).regardingobjectid)).toBe(kept);
  });

  it('a duplicate whose parent is the account kept: merged, and the one kept is not made its own parent', async () => {
    const kept = await made('account', { name: 'Parent Merge Holdings' });
    const dup = await made('account', {
      name: 'Parent Merge Holdings (EU)',
      parentaccountid: { entity: 'account', id: kept },
      websiteurl: 'https://eu.parent-merge.example',
    });
    const r = await h.call('update_record', { entity: 'account', id: dup, values: { masterid: kept } });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(ref(row('account', dup).masterid)).toBe(kept);
    expect(row('account', kept)).toMatchObject({
      parentaccountid: null,
      websiteurl: 'https://eu.parent-merge.example',
    });
  });

  it('a record asked for again after its duplicate was merged is the one kept, not the newer duplicate', async () => {
    // the same name: the account kept is returned as the one already there
    const kept = await made('account', { name: 'Again Merge Traders' });
    const dup = await made('account', { name: 'Again Merge Traders' }, true);
    const merged = await h.call('update_record', { entity: 'account', id: dup, values: { masterid: kept } });
    expect(merged.isError, textOf(merged)).toBeFalsy();
    const again = await h.call('create_record', { entity: 'account', values: { name: 'Again Merge Traders' } });
    expect(again.structuredContent).toMatchObject({ id: kept, duplicate: true });
    // an email only the merged contact had: the contact it was merged into, and said so
    const person = await made('contact', { firstname: 'Wen', lastname: 'Again', emailaddress1: 'wen@again.example' });
    const other = await made('contact', { firstname: 'Wen', lastname: 'Again', emailaddress1: 'wen.a@again.example' });
    const into = await h.call('update_record', { entity: 'contact', id: other, values: { masterid: person } });
    expect(into.isError, textOf(into)).toBeFalsy();
    const byEmail = await h.call('create_record', {
      entity: 'contact',
      values: { firstname: 'Wen', lastname: 'Again', emailaddress1: 'wen.a@again.example' },
    });
    expect(byEmail.structuredContent).toMatchObject({ id: person, duplicate: true });
    expect(textOf(byEmail)).toBe(
      `The contact with emailaddress1 'wen.a@again.example' (${other}) was merged into another, which is the one in use (${person}); it was not created again. Pass allowDuplicate: true to create another.`,
    );
  });

  it('after a merge, a name, email or phone the two shared means the one kept; a name only the duplicate had leads to it, said so', async () => {
    const kept = await made('account', { name: 'Named Merge Partners' });
    const dup = await made('account', { name: 'Named Merge Partners' }, true);
    const other = await made('account', { name: 'Named Merge Partners Intl' });
    for (const [from, into] of [
      [dup, kept],
      [other, kept],
    ]) {
      const m = await h.call('update_record', { entity: 'account', id: from, values: { masterid: into } });
      expect(m.isError, textOf(m)).toBeFalsy();
    }
    // the name both had: the account in use, not "2 records have that name"
    const deal = await h.call('create_record', {
      entity: 'opportunity',
      values: { name: 'Named merge renewal', customerid: 'Named Merge Partners' },
    });
    expect(deal.isError, textOf(deal)).toBeFalsy();
    const changed = await h.call('update_record', {
      entity: 'account',
      id: 'Named Merge Partners',
      values: { telephone1: '+1 206 555 0150' },
    });
    expect(changed.isError, textOf(changed)).toBeFalsy();
    expect(row('account', kept)).toMatchObject({ telephone1: '+1 206 555 0150' });
    // a name only the merged one had: the lookup points at the account kept, and the answer says why
    const task = await h.call('create_record', {
      entity: 'task',
      values: { subject: 'Named merge follow-up', regardingobjectid: 'Named Merge Partners Intl' },
    });
    expect(task.isError, textOf(task)).toBeFalsy();
    expect(textOf(task)).toContain(
      'Regarding: Named Merge Partners (account; "Named Merge Partners Intl" was merged into it).',
    );
    expect(ref(row('task', String(task.structuredContent.id)).regardingobjectid)).toBe(kept);
    for (const accountName of ['Named Merge Partners', 'Named Merge Partners Intl']) {
      const c = await h.call('create_case', {
        title: `Named merge case for ${accountName}`,
        customer: { accountName },
      });
      expect(c.isError, textOf(c)).toBeFalsy();
      expect(ref(row('incident', String(c.structuredContent.id)).customerid)).toBe(kept);
    }
    // two contacts of one email and phone, merged
    const person = await made('contact', {
      firstname: 'Ravi',
      lastname: 'Named',
      emailaddress1: 'ravi@named.example',
      telephone1: '+1 206 555 0188',
    });
    const twin = await made(
      'contact',
      { firstname: 'Ravi', lastname: 'Named', emailaddress1: 'ravi@named.example', telephone1: '(206) 555-0188' },
      true,
    );
    const m = await h.call('update_record', { entity: 'contact', id: twin, values: { masterid: person } });
    expect(m.isError, textOf(m)).toBeFalsy();
    // an email or a phone number both had: a call's To, a case opened for the sender or caller
    for (const [how, given] of [
      ['email', 'ravi@named.example'],
      ['phone', '+1 206 555 0188'],
    ]) {
      const call = await h.call('create_record', {
        entity: 'phonecall',
        values: { subject: `Named merge call by ${how}`, to: given },
      });
      expect(call.isError, textOf(call)).toBeFalsy();
      const to = emu
        .rows('activityparty')
        .filter((p) => ref(p.activityid) === call.structuredContent.id && p.participationtypemask === 2);
      expect(to.map((p) => ref(p.partyid))).toEqual([person]);
      const c = await h.call('create_case', { title: `Named merge ${how} case`, customer: { accountName: given } });
      expect(c.isError, textOf(c)).toBeFalsy();
      expect(ref(row('incident', String(c.structuredContent.id)).customerid)).toBe(person);
    }
  });

  it('an update the duplicate rule refuses (a name another account has) says how the two can be merged', async () => {
    const a = await made('account', { name: 'Rename Merge Original' });
    const b = await made('account', { name: 'Rename Merge Copy' });
    const r = await h.call('update_record', { entity: 'account', id: b, values: { name: 'Rename Merge Original' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(
      `call update_record on the other with values {"masterid": "<id of the one kept>"} (their ids: ${b} and ${a})`,
    );
  });

  it('a duplicate case merged into the case kept: its tasks move, it is Canceled as Merged, no column is copied', async () => {
    const account = String(emu.rows('account')[2]!.accountid);
    const opened = async (title: string, description?: string) => {
      const r = await h.call('create_case', {
        title,
        customer: { accountId: account },
        ...(description ? { description } : {}),
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      return String(r.structuredContent.id);
    };
    const kept = await opened('Printer offline in the Leeds office');
    const dup = await opened('Leeds printer not printing', 'Reported again by reception.');
    const task = await made('task', {
      subject: 'Call Leeds reception back',
      regardingobjectid: { entity: 'incident', id: dup },
    });
    const r = await h.call('update_record', { entity: 'incident', id: dup, values: { masterid: kept } });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain('its related records (activities, notes and child cases) now belong to');
    expect(textOf(r)).toContain('is Canceled now');
    // Canceled with the Case table's own status reason for a merge, naming the case kept
    expect(row('incident', dup)).toMatchObject({ statecode: 2, statuscode: 2000 });
    expect(ref(row('incident', dup).masterid)).toBe(kept);
    expect(ref(row('task', task).regardingobjectid)).toBe(kept);
    // Dynamics applies no UpdateContent to a case: the one kept keeps its own (empty) description
    expect(row('incident', kept)).toMatchObject({ statecode: 0, description: null });
    // a merged case is closed for good: a change to it is pointed at the case kept
    const late = await h.call('update_record', { entity: 'incident', id: dup, values: { prioritycode: 'High' } });
    expect(late.isError).toBe(true);
    expect(textOf(late)).toContain(`This case was merged into "Printer offline in the Leeds office" (${kept})`);
    expect(textOf(late)).toContain(`update_record with entity "incident" and id "${kept}"`);
  });

  // "Only the following entity types can be merged: … lead: Available with Dynamics 365 for Sales" (Merge table
  // rows using the Web API); two leads of one email are what Dynamics' own duplicate rule for leads catches
  const lead = async (values: Record<string, unknown>, allowDuplicate?: true) => {
    const r = await h.call('create_lead', { ...values, ...(allowDuplicate ? { allowDuplicate } : {}) });
    expect(r.isError, textOf(r)).toBeFalsy();
    return String((r.structuredContent as { id: string }).id);
  };

  it('duplicate leads of one email: the rule says how to merge, the duplicate is Disqualified as Canceled and its activities move', async () => {
    const kept = await lead({
      firstName: 'Mia',
      lastName: 'Leadmerge',
      email: 'mia@leadmerge.example',
      company: 'Leadmerge Ltd',
    });
    const dup = await lead(
      { firstName: 'Mia', lastName: 'Leadmerge', email: 'mia@leadmerge.example', phone: '+1 425 555 0107' },
      true,
    );
    const task = await made('task', {
      subject: 'Send Mia the price list',
      regardingobjectid: { entity: 'lead', id: dup },
    });
    // a third lead given Mia's email: the duplicate rule refuses it and says how two leads become one
    const third = await lead({ lastName: 'Leadmerge Third', email: 'third@leadmerge.example' });
    const refused = await h.call('update_record', {
      entity: 'lead',
      id: third,
      values: { emailaddress1: 'mia@leadmerge.example' },
    });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain(
      'call update_record on the other with values {"masterid": "<id of the one kept>"}',
    );
    expect(textOf(await h.call('describe_entity', { entity: 'lead' }))).toContain(
      'A duplicate is merged into the lead kept with update_record on the duplicate: values {"masterid": "<name or id of the one kept>"} (Dynamics\' Merge: its related records move, it is disqualified; both must be open).',
    );

    const since = emu.requests().length;
    const r = await h.call('update_record', { entity: 'lead', id: dup, values: { masterid: kept } });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(merges(since)).toHaveLength(1);
    expect(textOf(r)).toContain(
      `Merged lead "Mia Leadmerge" (${dup}) into "Mia Leadmerge" (${kept}): its related records (activities and notes) now belong to "Mia Leadmerge" (${kept}), which took {"telephone1":"+1 425 555 0107"} from it where it had none`,
    );
    expect(textOf(r)).toContain('is Disqualified now');
    // Disqualified with the reason Canceled (GUESS: the Lead table has no Merged reason), naming the lead kept
    expect(row('lead', dup)).toMatchObject({ statecode: 2, statuscode: 7 });
    expect(ref(row('lead', dup).masterid)).toBe(kept);
    expect(row('lead', kept)).toMatchObject({
      statecode: 0,
      companyname: 'Leadmerge Ltd',
      telephone1: '+1 425 555 0107',
    });
    expect(ref(row('task', task).regardingobjectid)).toBe(kept);
    // asked again (its answer lost): nothing sent
    const again = await h.call('update_record', { entity: 'lead', id: dup, values: { masterid: kept } });
    expect(textOf(again)).toContain('already: nothing was sent');
    expect(merges(since)).toHaveLength(1);
    // Mia's next web form is the lead kept, not the newer duplicate merged into it
    const form = await h.call('create_lead', {
      firstName: 'Mia',
      lastName: 'Leadmerge',
      email: 'mia@leadmerge.example',
    });
    expect(form.structuredContent).toMatchObject({ id: kept, duplicate: true });
  });

  it("a web form from a merged lead's email is the lead it was merged into, said so", async () => {
    const kept = await lead({ firstName: 'Noor', lastName: 'Formmerge', email: 'noor@formmerge.example' });
    const dup = await lead({ firstName: 'Noor', lastName: 'Formmerge', email: 'noor.f@formmerge.example' });
    const r = await h.call('update_record', { entity: 'lead', id: dup, values: { masterid: kept } });
    expect(r.isError, textOf(r)).toBeFalsy();
    const form = await h.call('create_lead', { lastName: 'Formmerge', email: 'noor.f@formmerge.example' });
    expect(form.isError, textOf(form)).toBeFalsy();
    expect(form.structuredContent).toMatchObject({
      id: kept,
      duplicate: true,
      existing: { emailaddress1: 'noor@formmerge.example' },
    });
    expect(textOf(form)).toBe(
      `The lead with this email (${dup}) was merged into another, which is the one in use (${kept}); it was not created again. Pass allowDuplicate: true to create another.`,
    );
  });

  it('a qualified or disqualified lead is not merged, nor merged into: refused before anything is sent, saying what to do', async () => {
    const open = await lead({ lastName: 'Closedmerge Open', email: 'open@closedmerge.example' });
    const qualified = emu.rows('lead').find((l) => l.statecode === 1 && !l.masterid);
    expect(qualified, 'the seed has qualified leads').toBeDefined();
    const gone = await lead({ lastName: 'Closedmerge Gone', email: 'gone@closedmerge.example' });
    const out = await h.call('update_record', {
      entity: 'lead',
      id: gone,
      values: { statecode: 'Disqualified', statuscode: 'No Longer Interested' },
    });
    expect(out.isError, textOf(out)).toBeFalsy();
    const since = emu.requests().length;
    const fromClosed = await h.call('update_record', { entity: 'lead', id: gone, values: { masterid: open } });
    expect(fromClosed.isError).toBe(true);
    expect(textOf(fromClosed)).toContain(
      `The lead "Closedmerge Gone" (${gone}) is Disqualified: only open leads are merged.`,
    );
    expect(textOf(fromClosed)).toContain('reactivate it (statecode "Open") and merge it then');
    const intoQualified = await h.call('update_record', {
      entity: 'lead',
      id: open,
      values: { masterid: String(qualified!.leadid) },
    });
    expect(intoQualified.isError).toBe(true);
    expect(textOf(intoQualified)).toContain('is Qualified: leads are merged only into an open one.');
    expect(merges(since)).toHaveLength(0);
    expect(row('lead', open)).toMatchObject({ statecode: 0, masterid: null });
  });

  it('an alert whose case was merged into another fires again: the case kept is the one for it, no new case', async () => {
    const account = String(emu.rows('account')[3]!.accountid);
    const alerted = await h.call('create_case', {
      title: 'Disk full on web-07',
      customer: { accountId: account },
      externalRef: 'ALERT-MERGE-7',
    });
    expect(alerted.isError, textOf(alerted)).toBeFalsy();
    const reported = await h.call('create_case', { title: 'Website down', customer: { accountId: account } });
    expect(reported.isError, textOf(reported)).toBeFalsy();
    const [dup, kept] = [String(alerted.structuredContent.id), String(reported.structuredContent.id)];
    const m = await h.call('update_record', { entity: 'incident', id: dup, values: { masterid: kept } });
    expect(m.isError, textOf(m)).toBeFalsy();
    const cases = emu.rows('incident').length;
    const again = await h.call('create_case', {
      title: 'Disk full on web-07',
      customer: { accountId: account },
      externalRef: 'ALERT-MERGE-7',
    });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(again.structuredContent).toMatchObject({ id: kept, existing: true });
    expect(textOf(again)).toContain(
      `is already open for this reference (its case, ${alerted.structuredContent.ticketNumber}, was merged into it); no new case was opened`,
    );
    expect(emu.rows('incident')).toHaveLength(cases);
  });

  it("a lead qualified after its company's two accounts were merged goes to the account kept, not refused as two", async () => {
    const kept = await made('account', { name: 'Qualify Merge Ltd' });
    const dup = await made('account', { name: 'Qualify Merge Ltd' }, true);
    const m = await h.call('update_record', { entity: 'account', id: dup, values: { masterid: kept } });
    expect(m.isError, textOf(m)).toBeFalsy();
    const id = await lead({
      firstName: 'Quin',
      lastName: 'Qualified',
      email: 'quin@qualifymerge.example',
      company: 'Qualify Merge Ltd',
    });
    const q = await h.call('update_record', { entity: 'lead', id, values: { statecode: 'Qualified' } });
    expect(q.isError, textOf(q)).toBeFalsy();
    expect(ref(row('lead', id).parentaccountid)).toBe(kept);
    const deal = emu.rows('opportunity').find((o) => ref(o.originatingleadid) === id)!;
    expect(ref(deal.customerid)).toBe(kept);
  });

  it("a prompt's account, as it is typed, is not offered a duplicate merged into another", async () => {
    const kept = await made('account', { name: 'Offered Merge Co' });
    const dup = await made('account', { name: 'Offered Merge Company' });
    const complete = () =>
      h.client.complete({
        ref: { type: 'ref/prompt', name: 'account_brief' },
        argument: { name: 'account', value: 'Offered Merge' },
      });
    expect((await complete()).completion.values).toEqual(['Offered Merge Co', 'Offered Merge Company']);
    const m = await h.call('update_record', { entity: 'account', id: dup, values: { masterid: kept } });
    expect(m.isError, textOf(m)).toBeFalsy();
    expect((await complete()).completion.values).toEqual(['Offered Merge Co']);
  });

  it('a note added to a merged record goes to the one kept; a merged case is not resolved, the case kept is named', async () => {
    const kept = await made('account', { name: 'Noted Merge Holdings' });
    const dup = await made('account', { name: 'Noted Merge Holdings Group' });
    const m = await h.call('update_record', { entity: 'account', id: dup, values: { masterid: kept } });
    expect(m.isError, textOf(m)).toBeFalsy();
    const noted = await h.call('add_note', {
      entity: 'account',
      id: 'Noted Merge Holdings Group',
      text: 'Renewal call booked.',
    });
    expect(noted.isError, textOf(noted)).toBeFalsy();
    expect(textOf(noted)).toBe(
      'Added a note to account Noted Merge Holdings ("Noted Merge Holdings Group" was merged into it).',
    );
    const note = emu.rows('annotation').find((n) => n.annotationid === noted.structuredContent.id)!;
    expect(ref(note.objectid)).toBe(kept);
    // the same note again (a retry): the one added, not a second on either record
    const again = await h.call('add_note', { entity: 'account', id: dup, text: 'Renewal call booked.' });
    expect(again.structuredContent).toMatchObject({ id: noted.structuredContent.id, existing: true });

    const account = String(emu.rows('account')[4]!.accountid);
    const opened = async (title: string) => {
      const r = await h.call('create_case', { title, customer: { accountId: account } });
      expect(r.isError, textOf(r)).toBeFalsy();
      return String(r.structuredContent.id);
    };
    const [first, second] = [await opened('Scanner offline'), await opened('Scanner not scanning')];
    const mc = await h.call('update_record', { entity: 'incident', id: second, values: { masterid: first } });
    expect(mc.isError, textOf(mc)).toBeFalsy();
    const since = emu.requests().length;
    const resolved = await h.call('resolve_case', { id: second, resolution: 'Driver reinstalled' });
    expect(resolved.isError).toBe(true);
    expect(textOf(resolved)).toContain(
      `was merged into the case "Scanner offline" (${first}), where its problem is worked on`,
    );
    expect(textOf(resolved)).toContain(`resolve_case with id "${first}"`);
    expect(apiRequests(emu, since).filter((q) => q.method !== 'GET')).toEqual([]);
    expect(row('incident', first)).toMatchObject({ statecode: 0 });
  });

  it('refused before anything is sent: other values with it, a record into itself, a merged record as the one kept', async () => {
    const a = await made('account', { name: 'Merge Refusals One' });
    const b = await made('account', { name: 'Merge Refusals Two' });
    const since = emu.requests().length;
    const mixed = await h.call('update_record', {
      entity: 'account',
      id: a,
      values: { masterid: b, telephone1: '555 0100' },
    });
    expect(mixed.isError).toBe(true);
    expect(textOf(mixed)).toContain('is a change of its own; telephone1 cannot go with it');
    const itself = await h.call('update_record', { entity: 'account', id: a, values: { masterid: a } });
    expect(itself.isError).toBe(true);
    expect(textOf(itself)).toContain('a record is not merged into itself');
    expect(merges(since)).toHaveLength(0);
    // b merged into a; then merging a into b is merging into a merged record
    expect((await h.call('update_record', { entity: 'account', id: b, values: { masterid: a } })).isError).toBeFalsy();
    const intoMerged = await h.call('update_record', { entity: 'account', id: a, values: { masterid: b } });
    expect(intoMerged.isError).toBe(true);
    expect(textOf(intoMerged)).toContain(`was itself merged into ${a}`);
    expect(merges(since)).toHaveLength(1);
    expect(row('account', a)).toMatchObject({ statecode: 0 });
  });

  it('the one kept named by the name the duplicate shares is the other of that name; a name none has is refused', async () => {
    const kept = await made('contact', { firstname: 'Ines', lastname: 'Twice', emailaddress1: 'ines@twice.example' });
    // the same name again (the commonest duplicate), made past the duplicate rules, which match on the email
    const dup = await made('contact', { firstname: 'Ines', lastname: 'Twice', mobilephone: '+351 912 345 678' });
    const r = await h.call('update_record', { entity: 'contact', id: dup, values: { masterid: 'Ines Twice' } });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(ref(row('contact', dup).masterid)).toBe(kept);
    expect(row('contact', kept)).toMatchObject({ mobilephone: '+351 912 345 678' });
    const none = await h.call('update_record', {
      entity: 'contact',
      id: await made('contact', { lastname: 'Nobody Kept' }),
      values: { masterid: 'Nobody Of This Name' },
    });
    expect(none.isError).toBe(true);
    expect(textOf(none)).toContain("masterid 'Nobody Of This Name'");
  });

  it('describe_entity says how to merge; a policy without masterid written refuses it', async () => {
    const d = await h.call('describe_entity', { entity: 'contact' });
    expect(textOf(d)).toContain('A duplicate is merged into the contact kept with update_record on the duplicate');
    const policy = builtInPolicyWith('no-merge', (e) => ({
      ...e,
      account: { ...e.account, write: e.account!.write!.filter((c) => c !== 'masterid') },
    }));
    const other = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    try {
      const a = await made('account', { name: 'Merge Policy One' });
      const b = await made('account', { name: 'Merge Policy Two' });
      const r = await other.call('update_record', { entity: 'account', id: a, values: { masterid: b } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain("'masterid' of 'account' cannot be written");
      expect(row('account', a)).toMatchObject({ statecode: 0 });
      expect(textOf(await other.call('describe_entity', { entity: 'account' }))).not.toContain('A duplicate is merged');
    } finally {
      await other.close();
    }
    // written but not read: a merge asked again could not tell it was done, so none is sent
    const unread = builtInPolicyWith('merge-unread', (e) => ({
      ...e,
      contact: { ...e.contact, read: e.contact!.read!.filter((c) => c !== 'masterid') },
    }));
    const blind = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: unread } });
    try {
      const since = emu.requests().length;
      const a = await made('contact', { lastname: 'Unread Merge One' });
      const b = await made('contact', { lastname: 'Unread Merge Two' });
      const r = await blind.call('update_record', { entity: 'contact', id: a, values: { masterid: b } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('needs their masterid readable');
      expect(merges(since)).toHaveLength(0);
    } finally {
      await blind.close();
    }
  });

  it('merge_duplicates: its calls, run as written, find a pair of one name, count what hangs from each and merge it', async () => {
    const older = await made('account', { name: 'Northwind Twins', websiteurl: 'https://northwind-twins.example' });
    // made past the organisation's duplicate rule (an account of the same name), as a hurried import does
    const newer = await made('account', { name: 'Northwind Twins', telephone1: '+1 425 555 0142' }, true);
    await made('contact', { lastname: 'Twins', parentcustomerid: { entity: 'account', id: older } });
    await made('contact', { lastname: 'Twins Two', parentcustomerid: { entity: 'account', id: older } });
    const p = await h.client.getPrompt({ name: 'merge_duplicates', arguments: {} });
    const text = (p.messages[0]!.content as { text: string }).text;
    const [byName] = await candidateCalls('account', text);
    expect(byName!.groupBy).toBe('name');
    const twice = (byName!.groups as { name: string; count: number }[]).filter((g) => g.count > 1);
    expect(twice).toContainEqual({ name: 'Northwind Twins', count: 2 });
    const pair = await readAsWritten(
      'account',
      text,
      0,
      twice.map((g) => g.name),
    );
    const ids = pair.filter((a) => a.name === 'Northwind Twins').map((a) => String(a.id));
    expect(ids.sort()).toEqual([older, newer].sort());
    // the contacts of each: the older has two, the newer none
    const counts = [
      ...text.matchAll(/aggregate_records on (\w+) with where (\{.*?\}\}), groupBy "(.*?)" and measures "(.*?)"/g),
    ];
    expect(counts.map((c) => c[1])).toEqual(['contact', 'opportunity', 'incident']);
    const contacts = await h.call('aggregate_records', {
      entity: counts[0]![1],
      where: JSON.parse(counts[0]![2]!.replace(/\[<[^>]*>\]/, JSON.stringify(ids))),
      groupBy: counts[0]![3],
      measures: counts[0]![4],
    });
    expect(contacts.isError, textOf(contacts)).toBeFalsy();
    expect(contacts.structuredContent.groups).toEqual([
      expect.objectContaining({ parentcustomerid: expect.objectContaining({ id: older }), count: 2 }),
    ]);
    // the merge, as the prompt writes it: the newer into the older
    await mergeAsWritten(text, newer, older);
    expect(ref(row('account', newer).masterid)).toBe(older);
    expect(row('account', older)).toMatchObject({ telephone1: '+1 425 555 0142' });
    // contacts: by full name and by email, each call as written taken by the tools
    const contactText = (
      (await h.client.getPrompt({ name: 'merge_duplicates', arguments: { table: 'contact' } })).messages[0]!
        .content as {
        text: string;
      }
    ).text;
    expect((await candidateCalls('contact', contactText)).map((c) => c.groupBy)).toEqual(['fullname', 'emailaddress1']);
    const calledAbout = [
      ...contactText.matchAll(
        /aggregate_records on (\w+) with where (\{.*?\}\}), groupBy "(.*?)" and measures "(.*?)"/g,
      ),
    ];
    expect(calledAbout.map((c) => c[1])).toEqual(['opportunity', 'incident', 'phonecall']);
    const someContacts = emu
      .rows('contact')
      .slice(0, 2)
      .map((c) => String(c.contactid));
    for (const c of calledAbout) {
      const g = await h.call('aggregate_records', {
        entity: c[1],
        where: JSON.parse(c[2]!.replace(/\[<[^>]*>\]/, JSON.stringify(someContacts))),
        groupBy: c[3],
        measures: c[4],
      });
      expect(g.isError, textOf(g)).toBeFalsy();
    }
    // and by a part of a name
    const forContacts = await h.client.getPrompt({
      name: 'merge_duplicates',
      arguments: { table: 'contact', name: 'Rui' },
    });
    expect((forContacts.messages[0]!.content as { text: string }).text).toContain(
      'call query_entities on contact with where {"statecode": "Active", "fullname": {"contains": "Rui"}}',
    );
  });

  it('merge_duplicates for cases: a customer with several open cases, read side by side, counted and merged as written', async () => {
    const customer = await made('account', { name: 'Duplicate Cases Customer' });
    const opened = async (title: string) => {
      const r = await h.call('create_case', { title, customer: { accountId: customer } });
      expect(r.isError, textOf(r)).toBeFalsy();
      return String(r.structuredContent.id);
    };
    const first = await opened('VPN drops every hour');
    const again = await opened('VPN keeps disconnecting');
    await made('task', { subject: 'Send VPN logs', regardingobjectid: { entity: 'incident', id: again } });
    const text = (
      (await h.client.getPrompt({ name: 'merge_duplicates', arguments: { table: 'incident' } })).messages[0]!
        .content as { text: string }
    ).text;
    const [byCustomer] = await candidateCalls('incident', text);
    expect(byCustomer!.groupBy).toBe('customerid');
    expect(byCustomer!.groups).toContainEqual(
      expect.objectContaining({ customerid: expect.objectContaining({ id: customer }), count: 2 }),
    );
    const cases = await readAsWritten('incident', text, 0, [customer]);
    // (made within the same second: their order by createdon is either)
    expect(cases.map((c) => c.id).sort()).toEqual([first, again].sort());
    const counts = [
      ...text.matchAll(/aggregate_records on (\w+) with where (\{.*?\}\}), groupBy "(.*?)" and measures "(.*?)"/g),
    ];
    expect(counts.map((c) => c[1])).toEqual(['task', 'phonecall', 'incident']);
    for (const c of counts) {
      const g = await h.call('aggregate_records', {
        entity: c[1],
        where: JSON.parse(c[2]!.replace(/\[<[^>]*>\]/, JSON.stringify([first, again]))),
        groupBy: c[3],
        measures: c[4],
      });
      expect(g.isError, textOf(g)).toBeFalsy();
    }
    expect(text).toContain('Dynamics merges no column of a case');
    await mergeAsWritten(text, again, first);
    expect(row('incident', again)).toMatchObject({ statecode: 2, statuscode: 2000 });
  });

  it('merge_duplicates for leads: two open leads of one email found by its count, their activities counted, merged as written', async () => {
    const first = await lead({ firstName: 'Ada', lastName: 'Promptlead', email: 'ada@promptlead.example' });
    const second = await lead({ firstName: 'Ada', lastName: 'Prompt-Lead', email: 'ada@promptlead.example' }, true);
    await made('phonecall', { subject: 'Ada called about pricing', regardingobjectid: { entity: 'lead', id: second } });
    const text = (
      (await h.client.getPrompt({ name: 'merge_duplicates', arguments: { table: 'lead' } })).messages[0]!.content as {
        text: string;
      }
    ).text;
    const answers = await candidateCalls('lead', text);
    expect(answers.map((a) => a.groupBy)).toEqual(['fullname', 'emailaddress1']);
    // the names differ; the email, which Dynamics' rule for leads compares, is counted twice
    expect(answers[1]!.groups).toContainEqual({ emailaddress1: 'ada@promptlead.example', count: 2 });
    const pair = await readAsWritten('lead', text, 1, ['ada@promptlead.example']);
    expect(pair.map((l) => l.id).sort()).toEqual([first, second].sort());
    const counts = [
      ...text.matchAll(/aggregate_records on (\w+) with where (\{.*?\}\}), groupBy "(.*?)" and measures "(.*?)"/g),
    ];
    expect(counts.map((c) => c[1])).toEqual(['task', 'phonecall', 'email']);
    const calls = await h.call('aggregate_records', {
      entity: counts[1]![1],
      where: JSON.parse(counts[1]![2]!.replace(/\[<[^>]*>\]/, JSON.stringify([first, second]))),
      groupBy: counts[1]![3],
      measures: counts[1]![4],
    });
    expect(calls.structuredContent.groups).toEqual([
      expect.objectContaining({ regardingobjectid: expect.objectContaining({ id: second }), count: 1 }),
    ]);
    expect(text).toContain('the duplicate is disqualified');
    // the one with the call kept, as the prompt proposes
    await mergeAsWritten(text, first, second);
    expect(row('lead', first)).toMatchObject({ statecode: 2, statuscode: 7 });
    expect(text).toContain('where {"statecode": "Open", "emailaddress1": {"ne": null}}');
  });

  it('the user is asked first, as a merge is not undone; declined, nothing is merged', async () => {
    const { h: c, asked, user } = await connectAsking(emu, {});
    try {
      const a = await made('account', { name: 'Merge Asked Kept' });
      const b = await made('account', { name: 'Merge Asked Duplicate', websiteurl: 'https://asked.example' });
      const since = emu.requests().length;
      const declined = await c.call('update_record', { entity: 'account', id: b, values: { masterid: a } });
      expect(textOf(declined)).toBe('Not merged: the user chose "decline".');
      expect(asked).toEqual([
        `Merge account "Merge Asked Duplicate" (${b}) into "Merge Asked Kept" (${a})? Its related records (contacts, deals, cases, activities and notes) move to "Merge Asked Kept" (${a}), which takes websiteurl from it where it has none and keeps its own values; "Merge Asked Duplicate" (${b}) is deactivated. A merge cannot be undone.`,
      ]);
      expect(merges(since)).toHaveLength(0);
      user.choice = 'accept';
      const accepted = await c.call('update_record', { entity: 'account', id: b, values: { masterid: a } });
      expect(accepted.isError, textOf(accepted)).toBeFalsy();
      expect(ref(row('account', b).masterid)).toBe(a);
    } finally {
      await c.close();
    }
  });
});
