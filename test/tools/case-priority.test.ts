import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractTarget, openEmulatorTarget } from '../contract/target.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

/**
 * An organisation's own case priorities: admins add Critical or P1 to the Case's Priority column
 * (InsertOptionValue, as the maker portal does), and create_case takes them as it takes High.
 */
describe("create_case: the organisation's own priorities", () => {
  let t: ContractTarget;
  let h: McpHarness;
  let critical: number;
  beforeAll(async () => {
    t = await openEmulatorTarget({ scale: 20 });
    const added = await t.api('POST', 'InsertOptionValue', {
      body: {
        EntityLogicalName: 'incident',
        AttributeLogicalName: 'prioritycode',
        Label: { LocalizedLabels: [{ Label: 'Critical', LanguageCode: 1033 }] },
      },
    });
    critical = added.json().NewOptionValue;
    h = await connectInMemory(t.emulator!);
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

  it("a word it has no priority for is refused with all of the organisation's priorities, its own among them", async () => {
    const account = t.emulator!.rows('account')[0]!;
    const before = t.emulator!.rows('incident').length;
    const r = await h.call('create_case', {
      title: 'Checkout failing',
      customer: { accountId: String(account.accountid) },
      priority: 'urgent',
    });
    expect(textOf(r)).toBe(
      "Error (bad_input): This organisation has no 'urgent' priority.\nHow to fix: Pass one of its priorities: High, Normal, Low, Critical (Dynamics' top one is High); the description can say why it is urgent.",
    );
    expect(t.emulator!.rows('incident')).toHaveLength(before);
  });
});
