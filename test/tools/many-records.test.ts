import { describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
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
