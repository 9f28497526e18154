import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ContractTarget, openEmulatorTarget } from '../contract/target.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

/**
 * An organisation's own case priorities: admins add Critical or P1 to the Case's Priority column
 * (InsertOptionValue, as the maker portal does), and create_case takes them as it takes High.
 */
describe("the organisation's own options: create_case's priorities, and options added while the server runs", () => {
  let t: ContractTarget;
  let h: McpHarness;
  let critical: number;
  /** an option the organisation's admin adds, as the maker portal does: its value */
  const addOption = async (entity: string, column: string, label: string): Promise<number> => {
    const r = await t.api('POST', 'InsertOptionValue', {
      body: {
        EntityLogicalName: entity,
        AttributeLogicalName: column,
        Label: { LocalizedLabels: [{ Label: label, LanguageCode: 1033 }] },
      },
    });
    expect(r.status).toBe(200);
    return r.json().NewOptionValue;
  };
  beforeAll(async () => {
    t = await openEmulatorTarget({ scale: 20 });
    critical = await addOption('incident', 'prioritycode', 'Critical');
    h = await connectInMemory(t.emulator!);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await h?.close();
    await t?.close();
  });

  it('a priority the organisation added is taken by its label, in any casing', async () => {
    const account = t.emulator!.rows('account')[0]!;
    const r = await h.call('create_case', {
      title: 'Production database down',
      customer: { accountId: String(account.accountid) },
      priority: 'critical',
    });
    expect(r.isError).toBeFalsy();
    const opened = t.emulator!.rows('incident').find((c) => c.incidentid === r.structuredContent.id)!;
    expect(opened.prioritycode).toBe(critical);
    expect(critical).toBe(100_000_000);
  });

  it("daily_agenda's urgent cases are High and the organisation's own above it (Critical), not High alone", async () => {
    const account = t.emulator!.rows('account')[0]!;
    const opened = await h.call('create_case', {
      title: 'Payments down for every customer',
      customer: { accountId: String(account.accountid) },
      priority: 'Critical',
    });
    expect(opened.isError, textOf(opened)).toBeFalsy();
    const user = t.emulator!.rows('systemuser').find((u) => u.fullname)!;
    const p = await h.client.getPrompt({ name: 'daily_agenda', arguments: { owner: String(user.fullname) } });
    const text = (p.messages[0]!.content as { text: string }).text;
    const line = text.split('\n').find((l) => l.startsWith('Urgent cases'))!;
    expect(line).toContain('Urgent cases (High, Critical): query_entities on incident with where');
    // the prompt's own condition, as the model runs it: the Critical case is among them
    const where = JSON.parse(/with where (\{.*?\}\}), select/.exec(line)![1]!) as Record<string, unknown>;
    expect(where.prioritycode).toEqual({ in: ['High', 'Critical'] });
    const { ownerid: _mine, ...anyOwner } = where;
    const r = await h.call('query_entities', { entity: 'incident', where: anyOwner, select: ['title'], top: 5000 });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.records.map((x: { id: string }) => x.id)).toContain(opened.structuredContent.id);
  });

  it('daily_agenda says High alone when the Case table is not read within 3 s', async () => {
    // a server of its own, which has not read the Case table yet, before a slow Dynamics: had it waited for the
    // table, this organisation's Critical (added above) would be among them
    const slow = await connectInMemory(t.emulator!);
    t.emulator!.configure({ latencyMs: 4000 });
    try {
      const p = await slow.client.getPrompt({ name: 'daily_agenda', arguments: { owner: 'Anyone' } });
      const line = (p.messages[0]!.content as { text: string }).text.split('\n').find((l) => l.startsWith('Urgent'))!;
      expect(line).toContain('Urgent cases (High): query_entities on incident with where');
      expect(line).toContain('"prioritycode": "High"}');
    } finally {
      t.emulator!.configure({ latencyMs: 0 });
      await slow.close();
    }
  });

  it("a word it has no priority for is refused with all of the organisation's priorities, its own among them", async () => {
    const account = t.emulator!.rows('account')[0]!;
    const before = t.emulator!.rows('incident').length;
    const r = await h.call('create_case', {
      title: 'Checkout failing',
      customer: { accountId: String(account.accountid) },
      priority: 'urgent',
    });
    expect(textOf(r)).toBe(
      "Error (bad_input): This organisation has no 'urgent' priority.\nHow to fix: Pass one of its priorities: High, Normal, Low, Critical (Dynamics' top one is High); the description can say how urgent it is.",
    );
    expect(t.emulator!.rows('incident')).toHaveLength(before);
  });

  // the server keeps a table's metadata for an hour (dynamics.metadataTtlMs); an option added meanwhile would be
  // refused until then, with a list of options that lacks it
  it('an option the admin adds while the server runs is taken once the kept metadata is a minute old, in writes and in queries', async () => {
    const add = (label: string) => addOption('incident', 'prioritycode', label);
    const account = String(t.emulator!.rows('account')[0]!.accountid);
    const sevA = await add('Sev A');
    // read a moment ago, the metadata is kept: a value no option has does not make every call read it again
    const soon = await h.call('create_case', {
      title: 'Sev A outage',
      customer: { accountId: account },
      priority: 'Sev A',
    });
    expect(textOf(soon)).toContain("'Sev A' is not a value of incident.prioritycode.");
    expect(textOf(soon)).not.toContain('Sev A (');

    const rereads = () => h.logs.filter((l) => l.includes('table metadata read again')).length;
    expect(rereads()).toBe(0);
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 61_000);
    const later = await h.call('create_case', {
      title: 'Sev A outage',
      customer: { accountId: account },
      priority: 'Sev A',
    });
    expect(later.isError).toBeFalsy();
    expect(t.emulator!.rows('incident').find((c) => c.incidentid === later.structuredContent.id)!.prioritycode).toBe(
      sevA,
    );
    // the admin's log says why metadata was read before its time
    expect(rereads()).toBe(1);

    // a query's condition and update_record's value: the same, through the shared client
    const sevB = await add('Sev B');
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 122_000);
    const updated = await h.call('update_record', {
      entity: 'incident',
      id: later.structuredContent.id,
      values: { prioritycode: 'Sev B' },
    });
    expect(updated.isError).toBeFalsy();
    expect(t.emulator!.rows('incident').find((c) => c.incidentid === later.structuredContent.id)!.prioritycode).toBe(
      sevB,
    );
    const sevC = await add('Sev C');
    await t.api('PATCH', `incidents(${later.structuredContent.id})`, { body: { prioritycode: sevC } });
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 183_000);
    const found = await h.call('query_entities', {
      entity: 'incident',
      where: { prioritycode: 'Sev C' },
      select: ['title', 'prioritycode'],
    });
    expect(found.isError).toBeFalsy();
    expect(found.structuredContent.records).toEqual([
      expect.objectContaining({ title: 'Sev A outage', prioritycode: `Sev C (${sevC})` }),
    ]);
  });

  it("the shared client's bulk create checks its records again against the table read anew, before any is sent", async () => {
    const client = h.deps.client;
    // the Lead table's metadata read now, before the admin adds a source
    await client.metadata.entity('lead');
    const tradeFair = await addOption('lead', 'leadsourcecode', 'Trade fair');
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 61_000);
    const results = await client.createMany('lead', [
      { lastname: 'Fairgoer', leadsourcecode: 'Trade fair' },
      { lastname: 'Nowhere', leadsourcecode: 'Carrier pigeon' },
    ]);
    expect(results[0]!.error).toBeUndefined();
    expect(t.emulator!.rows('lead').find((l) => l.leadid === results[0]!.id)!.leadsourcecode).toBe(tradeFair);
    expect(results[1]!.error?.message).toBe("'Carrier pigeon' is not a value of lead.leadsourcecode.");
    expect(t.emulator!.rows('lead').filter((l) => l.lastname === 'Nowhere')).toHaveLength(0);
  });

  it('a policy that keeps priority from the model still lets it open cases: none is sent, and one asked for is refused', async () => {
    const noPriority = builtInPolicyWith('no-case-priority', (entities) => ({
      ...entities,
      incident: { ...entities.incident!, write: entities.incident!.write!.filter((c) => c !== 'prioritycode') },
    }));
    const strict = await connectInMemory(t.emulator!, { env: { DYNAMICS_MCP_POLICY: noPriority, LOG_LEVEL: 'warn' } });
    try {
      const account = String(t.emulator!.rows('account')[0]!.accountid);
      const opened = await strict.call('create_case', {
        title: 'Badge reader offline',
        customer: { accountId: account },
      });
      expect(opened.isError, textOf(opened)).toBeFalsy();
      const before = t.emulator!.rows('incident').length;
      const refused = await strict.call('create_case', {
        title: 'Badge reader still offline',
        customer: { accountId: account },
        priority: 'High',
      });
      expect(textOf(refused)).toMatch(/^Error \(policy\): .*prioritycode/);
      expect(t.emulator!.rows('incident')).toHaveLength(before);
    } finally {
      await strict.close();
    }
  });
});
