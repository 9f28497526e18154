import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

const idOf = (v: unknown) => (v as { id?: string } | null)?.id;

// After a call a seller types notes; the log_call prompt turns them into what Dynamics keeps of a call: the call
// itself, done, on the deal and with the person spoken to (Phone Call table: Call To, Regarding, Direction), a
// task for each next step, and the deal's changes offered, not made.
describe('log_call', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 60 });
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  const textOfPrompt = async (args: Record<string, string>, on = h) => {
    const p = await on.client.getPrompt({ name: 'log_call', arguments: args });
    return (p.messages[0]!.content as { text: string }).text;
  };

  it('its calls, as written, find the deal, log the call done with the person, make the next steps, and once only', async () => {
    // an open deal whose contact is known by a name no other record has (the call's "to" takes a name)
    const contacts = emu.rows('contact');
    const deal = emu.rows('opportunity').find((o) => {
      const c = contacts.find((x) => x.contactid === idOf(o.parentcontactid));
      return o.statecode === 0 && c && contacts.filter((x) => x.fullname === c.fullname).length === 1;
    })!;
    const person = String(contacts.find((x) => x.contactid === idOf(deal.parentcontactid))!.fullname);
    const text = await textOfPrompt({
      notes: `Spoke to ${person} about ${deal.name}. They want 10% off. I send a revised quote by Wednesday.`,
      about: String(deal.name),
    });
    expect(text).toContain(`Spoke to ${person} about ${deal.name}.`);
    // sentences joined as written: no doubled space where a part the policy allows is left out or put in
    expect(text).not.toMatch(/\S {2}\S/);
    expect(text).toContain('If several match and the notes do not say which, or none does, ask me.');
    // 1. the deal, by its name
    const q = /query_entities on opportunity with where (\{.*?\}\}), select (\[.*?\]), top 5/.exec(text)!;
    const found = await h.call('query_entities', {
      entity: 'opportunity',
      where: JSON.parse(q[1]!),
      select: JSON.parse(q[2]!),
      top: 5,
    });
    expect(found.isError, textOf(found)).toBeFalsy();
    expect(found.structuredContent.records.map((r: { id: string }) => r.id)).toEqual([deal.opportunityid]);
    const dealId = String(deal.opportunityid);
    // 2. the call, done, on the deal, to the person
    const callValues = () =>
      JSON.parse(
        /create_record on phonecall with values (\{.*?"Completed"\})/
          .exec(text)![1]!
          .replace('<its topic, in a few words>', 'Discount and revised quote')
          .replace('<what was said: my notes, tidied, nothing added>', 'They want 10% off.')
          .replace('<opportunity or account>', 'opportunity')
          .replace('<its id>', dealId)
          .replace('<the person I spoke to, by full name>', person),
      );
    const call = await h.call('create_record', { entity: 'phonecall', values: callValues() });
    expect(call.isError, textOf(call)).toBeFalsy();
    const logged = emu.rows('phonecall').find((c) => c.activityid === call.structuredContent.id)!;
    expect(logged).toMatchObject({
      subject: 'Discount and revised quote',
      description: 'They want 10% off.',
      directioncode: true,
      statecode: 1,
      regardingobjectid: { id: dealId, entity: 'opportunity' },
    });
    const parties = emu.rows('activityparty').filter((p) => idOf(p.activityid) === logged.activityid);
    expect(parties.map((p) => [idOf(p.partyid), p.participationtypemask])).toEqual([[idOf(deal.parentcontactid), 2]]);
    // 3. the next steps, in one call
    const step = /create_record on task with values a list of (\{.*?\}) \(its day/.exec(text)![1]!;
    const regarding = JSON.stringify({ entity: 'opportunity', id: dealId });
    const taskValues = () =>
      ['Send the revised quote', 'Book a site visit'].map((subject, i) =>
        JSON.parse(
          step
            .replace('<the step>', subject)
            .replace("<the same as the call's>", regarding)
            .replace('<YYYY-MM-DD>', `2027-01-1${i}`),
        ),
      );
    const tasks = await h.call('create_record', { entity: 'task', values: taskValues() });
    expect(tasks.isError, textOf(tasks)).toBeFalsy();
    const made = () =>
      emu
        .rows('task')
        .filter(
          (t) =>
            idOf(t.regardingobjectid) === dealId &&
            ['Send the revised quote', 'Book a site visit'].includes(String(t.subject)),
        );
    expect(
      made()
        .map((t) => [t.subject, String(t.scheduledend).slice(0, 10), t.statecode])
        .sort(),
    ).toEqual([
      ['Book a site visit', '2027-01-11', 0],
      ['Send the revised quote', '2027-01-10', 0],
    ]);
    // 4. the prompt run again (a client retrying, the user asking twice): the call and the tasks already made
    const calls = emu.rows('phonecall').length;
    const again = await h.call('create_record', { entity: 'phonecall', values: callValues() });
    expect(again.structuredContent).toMatchObject({ duplicate: true, id: logged.activityid });
    const tasksAgain = await h.call('create_record', { entity: 'task', values: taskValues() });
    expect(tasksAgain.isError, textOf(tasksAgain)).toBeFalsy();
    expect(emu.rows('phonecall')).toHaveLength(calls);
    expect(made()).toHaveLength(2);
    // 5. the recap, drafted to the person on the deal, not sent
    const recap = JSON.parse(
      /create_record on email with values (\{.*?\}), saved as a draft/
        .exec(text)![1]!
        .replace('<a short recap title>', 'Our call today')
        .replace('<the recap>', 'Thanks for your time: the revised quote follows by Wednesday.')
        .replace("<the same as the call's>", regarding)
        .replace('<the person, by full name>', person),
    );
    const drafted = await h.call('create_record', { entity: 'email', values: recap });
    expect(drafted.isError, textOf(drafted)).toBeFalsy();
    expect(textOf(drafted)).toContain('It is a draft');
    expect(emu.rows('email').find((e) => e.activityid === drafted.structuredContent.id)).toMatchObject({
      subject: 'Our call today',
      statecode: 0,
      regardingobjectid: { id: dealId, entity: 'opportunity' },
    });
    // 6. what it may change on the deal: columns the update takes, changed only once the user agrees
    const columns = /change its .*? \(([a-z, ]+)\), say what you would change/.exec(text)![1]!.split(', ');
    expect(columns).toEqual(['estimatedclosedate', 'stepname', 'estimatedvalue', 'closeprobability']);
    expect(deal).toMatchObject(emu.rows('opportunity').find((o) => o.opportunityid === dealId)!);
    const values = {
      estimatedclosedate: '2027-01-29',
      stepname: '3-Propose',
      estimatedvalue: 90000,
      closeprobability: 60,
    };
    const changed = await h.call('update_record', { entity: 'opportunity', id: dealId, values });
    expect(changed.isError, textOf(changed)).toBeFalsy();
    expect(emu.rows('opportunity').find((o) => o.opportunityid === dealId)).toMatchObject(values);
  });

  it('an account named instead of a deal is looked for when no deal matches; an id is used as given', async () => {
    const text = await textOfPrompt({ notes: 'Intro call.', about: 'Nothing Like This Name' });
    const q = /query_entities on account with where (\{.*?\}\}), select (\[.*?\]), top 5/.exec(text)!;
    const noDeal = /query_entities on opportunity with where (\{.*?\}\}), select (\[.*?\]), top 5/.exec(text)!;
    const none = await h.call('query_entities', {
      entity: 'opportunity',
      where: JSON.parse(noDeal[1]!),
      select: JSON.parse(noDeal[2]!),
      top: 5,
    });
    expect(none.structuredContent.records).toEqual([]);
    const account = emu.rows('account')[0]!;
    const byName = await h.call('query_entities', {
      entity: 'account',
      where: JSON.parse(q[1]!.replace('Nothing Like This Name', String(account.name))),
      select: JSON.parse(q[2]!),
      top: 5,
    });
    expect(byName.isError, textOf(byName)).toBeFalsy();
    expect(byName.structuredContent.records.map((r: { id: string }) => r.id)).toContain(account.accountid);
    // an id: read, not searched for by name
    const byId = await textOfPrompt({ notes: 'Intro call.', about: String(account.accountid).toUpperCase() });
    expect(byId).toContain(`It was about the record with id ${account.accountid}: get_record on opportunity`);
    expect(byId).not.toContain('"contains"');
    // no record named: the notes name it
    expect(await textOfPrompt({ notes: 'Intro call with Ana.' })).toContain('"<the company or deal the notes name>"');
  });

  it('is offered only where calls can be logged: not on a read-only server, nor where the policy makes no calls; no tasks where it makes none', async () => {
    const ro = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn', DYNAMICS_MCP_READ_ONLY: 'true' } });
    try {
      const { prompts } = await ro.client.listPrompts();
      expect(prompts.map((p) => p.name)).not.toContain('log_call');
    } finally {
      await ro.close();
    }
    const noCalls = builtInPolicyWith('no-calls', (e) => ({ ...e, phonecall: { ...e.phonecall!, create: false } }));
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: noCalls, LOG_LEVEL: 'warn' } });
    try {
      const { prompts } = await strict.client.listPrompts();
      expect(prompts.map((p) => p.name)).not.toContain('log_call');
    } finally {
      await strict.close();
    }
    const noTasks = builtInPolicyWith('no-tasks', (e) => ({
      ...e,
      task: { ...e.task!, create: false },
      email: { ...e.email!, create: false },
      opportunity: { ...e.opportunity!, write: e.opportunity!.write!.filter((c) => c !== 'stepname') },
    }));
    const narrow = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: noTasks, LOG_LEVEL: 'warn' } });
    try {
      const text = await textOfPrompt({ notes: 'Call with Ana.' }, narrow);
      expect(text).toContain('create_record on phonecall');
      expect(text).not.toContain('create_record on task');
      expect(text).not.toContain('create_record on email');
      expect(text).toContain('(estimatedclosedate, estimatedvalue, closeprobability)');
    } finally {
      await narrow.close();
    }
  });
});
