import { describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { apiRequests } from '../helpers/client.js';
import {
  auditLog,
  builtInPolicyWith,
  connectAsking,
  connectInMemory,
  type McpHarness,
  serveWithAuditLog,
  textOf,
} from '../helpers/mcp.js';

// An opportunity is won or lost by Dynamics' WinOpportunity or LoseOpportunity action, not by an update of its
// state ("WinOpportunity Action", "LoseOpportunity Action": OpportunityClose and Status): update_record sends
// the action when statecode is set to Won or Lost, and the action writes an Opportunity Close with it
describe('update_record closing an opportunity', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const audit = auditLog('close');
  serveWithAuditLog(audit, (e, harness) => {
    emu = e;
    h = harness;
  });

  const taken = new Set<unknown>();
  /** an open opportunity no other test has taken (closed ones leave the list: counting along it would skip some) */
  const openDeal = () => {
    const o = emu
      .rows('opportunity')
      .find((x) => x.statecode === 0 && x.estimatedvalue && !taken.has(x.opportunityid))!;
    taken.add(o.opportunityid);
    return o;
  };
  const deal = (id: unknown) => emu.rows('opportunity').find((o) => o.opportunityid === id)!;
  const closesOf = (id: unknown) =>
    emu.rows('opportunityclose').filter((r) => (r.opportunityid as { id: string } | null)?.id === id);
  const actions = (since: number) =>
    apiRequests(emu, since).filter((q) => /\/(Win|Lose)Opportunity$/.test(q.url) || q.method === 'PATCH');
  const today = new Date().toISOString().slice(0, 10);
  const close = (id: unknown, values: Record<string, unknown>, more: Record<string, unknown> = {}, on = h) =>
    on.call('update_record', { entity: 'opportunity', id: String(id), values, ...more });

  it('statecode "Won": one WinOpportunity; the deal is Won at its estimate, closed today, with its Opportunity Close', async () => {
    const o = openDeal();
    const since = emu.requests().length;
    const r = await close(o.opportunityid, { statecode: 'Won' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(deal(o.opportunityid)).toMatchObject({
      statecode: 1,
      statuscode: 3,
      actualvalue: o.estimatedvalue,
      actualclosedate: today,
    });
    // dated today, as Dynamics' Close Opportunity dialog dates it unless told otherwise
    expect(closesOf(o.opportunityid)).toEqual([
      expect.objectContaining({ subject: `Won: ${o.name}`, actualrevenue: o.estimatedvalue, actualend: today }),
    ]);
    expect(actions(since).map((q) => `${q.method} ${q.url}`)).toEqual(['POST /api/data/v9.2/WinOpportunity']);
    expect(r.structuredContent).toEqual({
      entity: 'opportunity',
      id: o.opportunityid,
      updated: true,
      changed: {
        statecode: 'Won (1)',
        statuscode: 'Won (3)',
        actualvalue: o.estimatedvalue,
        actualclosedate: today,
      },
      etag: expect.stringMatching(/^W\/"\d+"$/),
      url: expect.stringContaining(`etn=opportunity&id=${o.opportunityid}`),
    });
    expect(textOf(r)).toMatch(
      new RegExp(`^Closed opportunity "${o.name}" as Won \\(3\\): \\{"statecode":"Won \\(1\\)"`),
    );
    expect(await audit.last()).toMatchObject({
      tool: 'update_record',
      entity: 'opportunity',
      id: o.opportunityid,
      action: 'close',
      columns: { subject: `Won: ${o.name}`, actualrevenue: o.estimatedvalue, statuscode: 3 },
    });
  });

  it('a close date of "yesterday" is the UTC day before today, as the model would have written it', async () => {
    const o = openDeal();
    const r = await close(o.opportunityid, { statecode: 'Won', actualclosedate: 'yesterday' });
    expect(r.isError, textOf(r)).toBeFalsy();
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect(deal(o.opportunityid).actualclosedate).toBe(yesterday);
    expect(closesOf(o.opportunityid)).toEqual([expect.objectContaining({ actualend: yesterday })]);
  });

  it('a lost reason alone (Out-Sold) loses it, with the revenue and close date given; by number and as shown too', async () => {
    const o = openDeal();
    const since = emu.requests().length;
    const r = await close(o.opportunityid, { statuscode: 'Out-Sold', actualvalue: 0, actualclosedate: '2026-11-20' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(deal(o.opportunityid)).toMatchObject({
      statecode: 2,
      statuscode: 5,
      actualvalue: 0,
      actualclosedate: '2026-11-20',
    });
    expect(closesOf(o.opportunityid)).toEqual([
      expect.objectContaining({ subject: `Lost: ${o.name}`, actualrevenue: 0, actualend: '2026-11-20' }),
    ]);
    expect(actions(since).map((q) => q.url)).toEqual(['/api/data/v9.2/LoseOpportunity']);
    for (const values of [{ statecode: 2 }, { statecode: 'Lost (2)', statuscode: 'Canceled (4)' }]) {
      const next = openDeal();
      const lost = await close(next.opportunityid, values);
      expect(lost.isError, textOf(lost)).toBeFalsy();
      // a lost deal earns nothing unless told: no actual revenue is sent for it
      expect(deal(next.opportunityid)).toMatchObject({ statecode: 2, statuscode: 4, actualvalue: null });
    }
  });

  it('why it was lost (description) is kept on its Opportunity Close, dated today, where the review of losses reads it', async () => {
    const o = openDeal();
    const own = o.description;
    const r = await close(o.opportunityid, {
      statecode: 'Lost',
      statuscode: 'Out-Sold',
      description: ' Lost on price ',
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toMatch(/\. The reason given is on its Opportunity Close \(description\)\.$/);
    expect(closesOf(o.opportunityid)).toEqual([
      expect.objectContaining({ subject: `Lost: ${o.name}`, description: 'Lost on price', actualend: today }),
    ]);
    // the opportunity's own description is left as it was (a closed deal is read-only)
    expect(deal(o.opportunityid).description).toBe(own);
    expect(own).not.toBe('Lost on price');
    expect(await audit.last()).toMatchObject({
      action: 'close',
      columns: { description: 'Lost on price', statuscode: 5 },
    });
    // a blank reason is none: nothing is said of it, and the close has no description
    const blank = openDeal();
    const noReason = await close(blank.opportunityid, { statecode: 'Lost', description: '  ' });
    expect(noReason.isError, textOf(noReason)).toBeFalsy();
    expect(textOf(noReason)).not.toContain('The reason given');
    expect(closesOf(blank.opportunityid)).toEqual([expect.objectContaining({ description: null })]);
    // a reason that is not text is the close's to check (a number is written as its text), not dropped
    const numbered = openDeal();
    const code = await close(numbered.opportunityid, { statecode: 'Lost', description: 42 });
    expect(textOf(code)).toContain('The reason given is on its Opportunity Close');
    expect(closesOf(numbered.opportunityid)).toEqual([expect.objectContaining({ description: '42' })]);
    // review_wins_and_losses' query of this month's lost deals finds it with its reason
    const review = await h.call('query_entities', {
      entity: 'opportunityclose',
      where: { subject: { startswith: 'Lost:' }, actualend: 'this month' },
      select: ['subject', 'description', 'actualend'],
      top: 200,
    });
    expect(review.structuredContent.records).toContainEqual(
      expect.objectContaining({ subject: `Lost: ${o.name}`, description: 'Lost on price' }),
    );
  });

  it('a deal lost to a competitor, named, keeps it on its Opportunity Close; a won one takes none', async () => {
    // a deal of its own: the seeded open ones are taken by the tests that follow
    const made = await h.deps.client.create('opportunity', { name: 'Lost to a rival', estimatedvalue: 9000 });
    const o = { opportunityid: made.id };
    const nimbus = emu.rows('competitor').find((c) => c.name === 'Nimbus CRM')!.competitorid;
    // a name no competitor has is refused before anything is sent, with the ones that contain it; so is a
    // competitor for a deal won
    const since = emu.requests().length;
    const unknown = await close(o.opportunityid, { statecode: 'Lost', competitorid: 'Nimbus' });
    expect(textOf(unknown)).toContain(`Nimbus CRM (competitor) — ${nimbus}`);
    const won = await close(o.opportunityid, { statecode: 'Won', competitorid: nimbus });
    expect(textOf(won)).toContain('a won one has none');
    expect(actions(since)).toEqual([]);
    expect(closesOf(o.opportunityid)).toEqual([]);
    const r = await close(o.opportunityid, { statecode: 'Lost', statuscode: 'Out-Sold', competitorid: 'Nimbus CRM' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toMatch(/ The competitor it was lost to is on its Opportunity Close \(competitorid\)\.$/);
    expect(closesOf(o.opportunityid)).toEqual([
      expect.objectContaining({ competitorid: { id: nimbus, entity: 'competitor' } }),
    ]);
  });

  it('a deal lost to a competitor named, without a reason, is Out-Sold; lost without one, Canceled', async () => {
    const rival = await h.deps.client.create('opportunity', { name: 'Lost to Nimbus', estimatedvalue: 7000 });
    const nowhere = await h.deps.client.create('opportunity', { name: 'Went nowhere', estimatedvalue: 7000 });
    const outSold = await close(rival.id, { statecode: 'Lost', competitorid: 'Nimbus CRM' });
    expect(outSold.isError, textOf(outSold)).toBeFalsy();
    expect(textOf(outSold)).toMatch(/^Closed opportunity "Lost to Nimbus" as Out-Sold \(5\): /);
    expect(deal(rival.id)).toMatchObject({ statecode: 2, statuscode: 5 });
    const canceled = await close(nowhere.id, { statecode: 'Lost', description: 'Budget cut' });
    expect(textOf(canceled)).toMatch(/^Closed opportunity "Went nowhere" as Canceled \(4\): /);
    expect(deal(nowhere.id)).toMatchObject({ statecode: 2, statuscode: 4 });
  });

  it('a deal already won is answered as it is; one lost is not won as well; nothing is sent for either', async () => {
    const o = openDeal();
    await close(o.opportunityid, { statecode: 'Won' });
    const since = emu.requests().length;
    const again = await close(o.opportunityid, { statecode: 'won' });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(again.structuredContent).toMatchObject({ updated: false, changed: { statecode: 'Won (1)' } });
    expect(textOf(again)).toBe(`The opportunity "${o.name}" was already won (Won (3)); nothing was changed.`);
    const lost = await close(o.opportunityid, { statecode: 'Lost' });
    expect(textOf(lost)).toBe(
      `Error (bad_input): The opportunity "${o.name}" is already closed (Won (3)): it cannot be lost as well.\nHow to fix: Reopen it in Dynamics first, or leave it as it is.`,
    );
    expect(actions(since)).toEqual([]);
    expect(closesOf(o.opportunityid)).toHaveLength(1);
  });

  it('a state named as the status reason is that state: a deal lost, a lead disqualified, a case sent to resolve_case, a call logged done', async () => {
    // the last open deal: openDeal() hands out the others from the first
    const o = emu
      .rows('opportunity')
      .filter((d) => d.statecode === 0 && d.estimatedvalue)
      .at(-1)!;
    const since = emu.requests().length;
    const lost = await close(o.opportunityid, { statuscode: 'Lost', description: 'Went with a competitor' });
    expect(lost.isError, textOf(lost)).toBeFalsy();
    expect(deal(o.opportunityid)).toMatchObject({ statecode: 2 });
    expect(actions(since).map((q) => q.url)).toEqual(['/api/data/v9.2/LoseOpportunity']);
    expect(closesOf(o.opportunityid)[0]).toMatchObject({ description: 'Went with a competitor' });
    const lead = emu.rows('lead').find((l) => l.statecode === 0)!;
    const out = await h.call('update_record', {
      entity: 'lead',
      id: String(lead.leadid),
      values: { statuscode: 'disqualified' },
    });
    expect(out.isError, textOf(out)).toBeFalsy();
    expect(emu.rows('lead').find((l) => l.leadid === lead.leadid)).toMatchObject({ statecode: 2 });
    const kase = emu.rows('incident').find((i) => i.statecode === 0)!;
    const resolved = await h.call('update_record', {
      entity: 'incident',
      id: String(kase.incidentid),
      values: { statuscode: 'Resolved' },
    });
    expect(textOf(resolved)).toMatch(/^Error \(bad_input\): A case is resolved with resolve_case/);
    // a call's "Completed" is its state (its reasons are Made and Received): logged done
    const call = await h.call('create_record', {
      entity: 'phonecall',
      values: {
        subject: 'Check-in after the loss',
        regardingobjectid: String(o.opportunityid),
        statuscode: 'Completed',
      },
    });
    expect(call.isError, textOf(call)).toBeFalsy();
    expect(emu.rows('phonecall').find((c) => c.activityid === call.structuredContent.id)).toMatchObject({
      statecode: 1,
    });
    // a status reason's own name is that reason, as before
    const waiting = await h.call('update_record', {
      entity: 'incident',
      id: String(kase.incidentid),
      values: { statuscode: 'Waiting for Details' },
    });
    expect(waiting.isError, textOf(waiting)).toBeFalsy();
    expect(emu.rows('incident').find((i) => i.incidentid === kase.incidentid)).toMatchObject({
      statecode: 0,
      statuscode: 3,
    });
  });

  it('ten clients winning one deal at once: one close, and every call says it is won', async () => {
    const o = openDeal();
    const all = await Promise.all(Array.from({ length: 10 }, () => close(o.opportunityid, { statecode: 'Won' })));
    for (const r of all) expect(r.isError, textOf(r)).toBeFalsy();
    expect(new Set(all.map((r) => r.structuredContent.changed.statuscode))).toEqual(new Set(['Won (3)']));
    expect(closesOf(o.opportunityid)).toHaveLength(1);
  });

  it('an answer lost after Dynamics won the deal: read from the opportunity, not sent again', async () => {
    const o = openDeal();
    emu.addFault({ match: { method: 'POST', path: '/api/data/v9.2/WinOpportunity' }, action: 'reset-after' });
    const since = emu.requests().length;
    const r = await close(o.opportunityid, { statecode: 'Won' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ updated: true, changed: { statuscode: 'Won (3)' } });
    expect(actions(since)).toHaveLength(1);
    expect(closesOf(o.opportunityid)).toHaveLength(1);
    // the audit log says the close was found, not seen through
    const last = await audit.last();
    expect(last).toMatchObject({ id: o.opportunityid, action: 'close' });
    expect(last.outcome).toMatch(
      /^won when read after the action failed \(.+\): its answer was lost, or another request closed it first$/,
    );
  });

  it("the Opportunity Close's names for what a close sets (actualrevenue, actualend) are the opportunity's columns", async () => {
    const o = openDeal();
    // (was refused as a column besides the close, with the advice to update actualrevenue, which opportunities lack)
    const r = await close(o.opportunityid, { statecode: 'Won', actualrevenue: 105000, actualend: '2026-11-27' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(deal(o.opportunityid)).toMatchObject({ statecode: 1, actualvalue: 105000, actualclosedate: '2026-11-27' });
    expect(closesOf(o.opportunityid)).toEqual([
      expect.objectContaining({ actualrevenue: 105000, actualend: '2026-11-27' }),
    ]);
  });

  it('a reason of another state, a close date not a date, or other columns beside the close are refused first', async () => {
    const o = openDeal();
    const since = emu.requests().length;
    const onHold = await close(o.opportunityid, { statecode: 'Won', statuscode: 'On Hold' });
    expect(textOf(onHold)).toBe(
      "Error (bad_input): 'On Hold' is not a status reason of a won opportunity: it is one of Open (statecode 0).\nHow to fix: Use one of: 3 (Won).",
    );
    const renamed = await close(o.opportunityid, { statecode: 'Won', name: 'Renamed', closeprobability: 100 });
    expect(textOf(renamed)).toBe(
      'Error (bad_input): Closing an opportunity sets only statecode, statuscode, actualvalue, actualclosedate, description (why it was won or lost, kept on its Opportunity Close) and, for a lost one, competitorid (whom it was lost to), not name, closeprobability.\nHow to fix: Update name, closeprobability in a call of its own first (a won opportunity is read-only), then close it.',
    );
    // the Opportunity Close's own names for them, given both ways, are refused naming the one to keep
    const both = await close(o.opportunityid, { statecode: 'Won', actualrevenue: 5, actualvalue: 5 });
    expect(textOf(both)).toBe(
      "Error (bad_input): actualrevenue and actualvalue are both given: actualrevenue is the Opportunity Close's name for the opportunity's actualvalue.\nHow to fix: Give it once, as actualvalue.",
    );
    // a close date as the model wrote it is checked as the opportunity's column, not the close's
    const when = await close(o.opportunityid, { statecode: 'Won', actualclosedate: 'last friday' });
    expect(textOf(when)).toMatch(
      /^Error \(bad_input\): opportunity\.actualclosedate is a date; 'last friday' is not an ISO date\./,
    );
    // none of them read the opportunity either
    expect(apiRequests(emu, since).filter((q) => q.url.includes('opportunities('))).toEqual([]);
    expect(deal(o.opportunityid)).toMatchObject({ statecode: 0, name: o.name });
  });

  it('a stale etag is refused before anything is sent; the current one closes it', async () => {
    const o = openDeal();
    const read = await h.call('get_record', { entity: 'opportunity', id: String(o.opportunityid), select: ['name'] });
    const etag = read.structuredContent.etag as string;
    await h.call('update_record', {
      entity: 'opportunity',
      id: String(o.opportunityid),
      values: { closeprobability: 90 },
    });
    const since = emu.requests().length;
    const stale = await close(o.opportunityid, { statecode: 'Won' }, { etag });
    expect(textOf(stale)).toMatch(
      /^Error \(concurrency\): The opportunity .* was changed by someone else since you read it\./,
    );
    expect(actions(since)).toEqual([]);
    const fresh = await h.call('get_record', { entity: 'opportunity', id: String(o.opportunityid), select: ['name'] });
    const r = await close(o.opportunityid, { statecode: 'Won' }, { etag: fresh.structuredContent.etag });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(deal(o.opportunityid).statecode).toBe(1);
  });

  it('a policy that does not let Opportunity Closes be written refuses it before anything is sent', async () => {
    const policy = builtInPolicyWith('no-closes', ({ opportunityclose: _left, ...entities }) => entities);
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    try {
      const o = openDeal();
      const since = emu.requests().length;
      const r = await close(o.opportunityid, { statecode: 'Won' }, {}, strict);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/^Error \(policy\): .*opportunityclose/);
      expect(actions(since)).toEqual([]);
      expect(deal(o.opportunityid).statecode).toBe(0);
    } finally {
      await strict.close();
    }
  });

  it('asks the user once where the policy has writes to opportunities confirmed; declined, nothing is sent', async () => {
    const policy = builtInPolicyWith('confirm-close', (e) => ({
      ...e,
      opportunity: { ...e.opportunity, confirmWrites: true },
    }));
    const { h: c, asked, user } = await connectAsking(emu, { DYNAMICS_MCP_POLICY: policy });
    try {
      const o = openDeal();
      const since = emu.requests().length;
      const declined = await close(o.opportunityid, { statecode: 'Won', actualvalue: 1234 }, {}, c);
      expect(declined.isError, textOf(declined)).toBeFalsy();
      expect(declined.structuredContent).toMatchObject({ updated: false, changed: {} });
      expect(textOf(declined)).toBe('Not updated: the user chose "decline".');
      expect(asked).toEqual([`Close opportunity "${o.name}" as Won (3) (actual revenue 1234)?`]);
      expect(actions(since)).toEqual([]);
      user.choice = 'accept';
      const accepted = await close(o.opportunityid, { statecode: 'Won', actualvalue: 1234 }, {}, c);
      expect(accepted.structuredContent).toMatchObject({ updated: true, changed: { actualvalue: 1234 } });
      expect(asked).toHaveLength(2);
      expect(closesOf(o.opportunityid)).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it('an application user whose role lacks the activity Create privilege is told which one (prvCreateActivity)', async () => {
    const privileges = Object.fromEntries(
      ['account', 'contact', 'lead', 'opportunity', 'incident', 'annotation', 'opportunityclose', 'systemuser'].map(
        (t) => [t, { read: true, create: t !== 'opportunityclose', write: true, append: true, appendTo: true }],
      ),
    );
    emu.configure({ role: { privileges } });
    try {
      const o = openDeal();
      const r = await close(o.opportunityid, { statecode: 'Won' });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('prvCreateActivity');
      expect(deal(o.opportunityid).statecode).toBe(0);
    } finally {
      await emu.reset();
    }
  });
});
