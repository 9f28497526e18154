import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { DEFAULT_POLICY } from '../../src/policy/default.js';
import { apiRequests, clientFor } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { builtInPolicyWith, connectAsking, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// A deal's stage is on the bar across its form, its run of the Opportunity Sales Process, and Dynamics writes the
// deal's Pipeline Phase from the bar, not the other way round ("Work with business process flows using code"): a
// stage given to update_record moves the bar too, one stage at a time ("Forward navigation of stages must be done
// in sequence"), so that the user who opens the deal sees the stage they asked for.
const QUALIFY = '6b9ce798-221a-4260-90b2-2a95ed51a5bc';
const DEVELOP = '650e06b4-789b-46c1-822b-0da76bedb1ed';
const PROPOSE = 'd3ca8878-8d7b-47b9-852d-fcd838790cfd';
const LEAD_QUALIFY = 'f99b4d48-7aad-456e-864a-8e7d543f7495';
const LEAD_DEVELOP = 'bfc9108c-8389-406b-9166-2c3298a2e41f';
const LEAD_PROPOSE = '3a275c22-fc45-4e89-97fc-41e5ec578743';

describe('update_record moving a deal to another stage', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 60 });
    h = await connectInMemory(emu);
  });
  afterAll(async () => {
    await h?.close();
    await emu?.close();
  });

  const taken = new Set<unknown>();
  /** an open deal of its own making (one from a lead runs its lead's process) at the Sales Stage given, untaken */
  const dealAt = (stage: number) => {
    const d = emu
      .rows('opportunity')
      .find((o) => o.statecode === 0 && o.salesstage === stage && !o.originatingleadid && !taken.has(o.opportunityid))!;
    taken.add(d.opportunityid);
    return d;
  };
  const deal = (id: unknown) => emu.rows('opportunity').find((o) => o.opportunityid === id)!;
  const runOf = (id: unknown) =>
    emu.rows('opportunitysalesprocess').filter((r) => (r.opportunityid as { id: string } | null)?.id === id);
  const barMoves = (since: number) =>
    apiRequests(emu, since).filter((q) => q.method === 'PATCH' && q.url.includes('/opportunitysalesprocesses('));

  // first, before any test qualifies a lead of its own
  it("the demo organisation: each qualified lead names the deal it became, which goes on with its lead's process", async () => {
    const qualified = emu.rows('lead').filter((l) => l.statecode === 1 && l.statuscode === 3);
    expect(qualified.length).toBeGreaterThan(1);
    const ref = (v: unknown) => (v as { id: string } | null)?.id;
    for (const l of qualified) {
      const d = emu.rows('opportunity').find((o) => o.opportunityid === ref(l.qualifyingopportunityid))!;
      // the deal names its lead back, was made when the lead was qualified (its last change), for its account
      expect(ref(d.originatingleadid)).toBe(l.leadid);
      expect(String(d.createdon) >= String(l.createdon)).toBe(true);
      expect(l.modifiedon).toBe(d.createdon);
      expect(ref(l.parentaccountid)).toBe(ref(d.parentaccountid));
      // and runs its lead's process, past the lead's Qualify, not one of its own
      const run = emu.rows('leadtoopportunitysalesprocess').find((r) => ref(r.opportunityid) === d.opportunityid)!;
      expect(ref(run.leadid)).toBe(l.leadid);
      expect(String(run.traversedpath).startsWith(`${LEAD_QUALIFY},${LEAD_DEVELOP}`)).toBe(true);
      expect(runOf(d.opportunityid)).toEqual([]);
    }
    // "which deals came from leads" finds them
    const r = await h.call('query_entities', {
      entity: 'opportunity',
      where: { originatingleadid: { ne: null } },
      select: ['name', 'originatingleadid'],
      top: 50,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.records.length).toBeGreaterThanOrEqual(qualified.length);
  });

  it('"stepname": "Propose" on a deal at Qualify: the bar moves Qualify → Develop → Propose, the deal says 3-Propose', async () => {
    const d = dealAt(0);
    expect(runOf(d.opportunityid)).toEqual([
      expect.objectContaining({ activestageid: expect.objectContaining({ id: QUALIFY }), traversedpath: QUALIFY }),
    ]);
    const since = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: String(d.opportunityid),
      values: { stepname: 'Propose' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    // one stage at a time, each with the path so far
    expect(barMoves(since)).toHaveLength(2);
    expect(runOf(d.opportunityid)).toEqual([
      expect.objectContaining({
        activestageid: expect.objectContaining({ id: PROPOSE }),
        traversedpath: `${QUALIFY},${DEVELOP},${PROPOSE}`,
        statecode: 0,
      }),
    ]);
    // the Pipeline Phase as Dynamics writes it, and the Sales Stage pipeline_summary groups by, both Propose
    expect(deal(d.opportunityid)).toMatchObject({ stepname: '3-Propose', salesstage: 2 });
    expect(textOf(r)).toContain("Sales Process bar on the deal's form moved Qualify → Develop → Propose");
    // the etag handed back is the deal's version now, after the bar's moves wrote its phase
    expect((r.structuredContent as { etag: string }).etag).toBe(`W/"${deal(d.opportunityid).versionnumber}"`);
    expect((r.structuredContent as { changed: unknown }).changed).toMatchObject({
      stepname: '3-Propose',
      salesstage: 'Propose (2)',
    });
  });

  it('"salesstage": "Develop" on a deal at Propose: the bar steps back to Develop and the path ends there', async () => {
    const d = dealAt(2);
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: String(d.opportunityid),
      values: { salesstage: 'Develop' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(runOf(d.opportunityid)[0]).toMatchObject({
      activestageid: expect.objectContaining({ id: DEVELOP }),
      traversedpath: `${QUALIFY},${DEVELOP}`,
    });
    expect(deal(d.opportunityid)).toMatchObject({ stepname: '2-Develop', salesstage: 1 });
    // the Pipeline Phase written by the update itself, not left to the platform (which one report says no
    // longer writes it from the bar)
    expect((r.structuredContent as { changed: unknown }).changed).toMatchObject({
      stepname: '2-Develop',
      salesstage: 'Develop (1)',
    });
    expect(textOf(r)).toContain('moved Propose → Develop');
  });

  it('a bar move Dynamics keeps refusing stops the walk, said with where the bar is; the same call again finishes it', async () => {
    const d = dealAt(0);
    emu.addFault({
      match: { method: 'PATCH', path: '/api/data/v9.2/opportunitysalesprocesses' },
      response: { status: 503 },
      times: 50,
    });
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: String(d.opportunityid),
      values: { stepname: 'Propose' },
    });
    emu.clearFaults();
    // the deal was written: not an error, but the answer says the bar did not move and how to finish
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain('The Sales Process bar stopped at Qualify (moving it to Develop was refused');
    expect(textOf(r)).toContain('call update_record again with the stage to finish the move');
    expect(runOf(d.opportunityid)[0]).toMatchObject({ activestageid: expect.objectContaining({ id: QUALIFY }) });
    const again = await h.call('update_record', {
      entity: 'opportunity',
      id: String(d.opportunityid),
      values: { stepname: 'Propose' },
    });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(textOf(again)).toContain('moved Qualify → Develop → Propose');
    expect(runOf(d.opportunityid)[0]).toMatchObject({
      activestageid: expect.objectContaining({ id: PROPOSE }),
      traversedpath: `${QUALIFY},${DEVELOP},${PROPOSE}`,
    });
  });

  it("a stage the deal's process has not is refused before anything is written, naming its stages", async () => {
    const d = dealAt(1);
    const since = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: String(d.opportunityid),
      values: { stepname: 'Negotiation' },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('its stages are Qualify, Develop, Propose and Close');
    expect(apiRequests(emu, since).filter((q) => q.method !== 'GET')).toEqual([]);
    expect(deal(d.opportunityid)).toMatchObject({
      stepname: d.stepname,
      salesstage: 1,
      versionnumber: d.versionnumber,
    });
  });

  it('two stages named at once ("stepname" Propose, "salesstage" Develop) are refused: a deal is at one', async () => {
    const d = dealAt(1);
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: String(d.opportunityid),
      values: { stepname: 'Propose', salesstage: 'Develop' },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('name two stages');
    expect(deal(d.opportunityid).versionnumber).toBe(d.versionnumber);
  });

  it("a run's stage written alone is refused before it is sent, pointing at the deal's stage", async () => {
    const d = dealAt(1);
    const run = runOf(d.opportunityid)[0]!;
    const since = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'opportunitysalesprocess',
      id: String(run.businessprocessflowinstanceid),
      values: { activestageid: { entity: 'processstage', id: PROPOSE } },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('update_record on the opportunity with {"stepname": "<stage>"}');
    expect(apiRequests(emu, since).filter((q) => q.method !== 'GET')).toEqual([]);
    expect(runOf(d.opportunityid)[0]).toMatchObject({ activestageid: expect.objectContaining({ id: DEVELOP }) });
  });

  it('a deal whose Sales Process was aborted: its stage written whole, and the answer says no bar was moved', async () => {
    const d = dealAt(1);
    const run = runOf(d.opportunityid)[0]!;
    // the process aborted on it, as Dynamics' Abandon does (an update of the run's state)
    const admin = clientFor(emu, {
      policy: {
        ...DEFAULT_POLICY,
        entities: {
          ...DEFAULT_POLICY.entities,
          opportunitysalesprocess: {
            ...DEFAULT_POLICY.entities.opportunitysalesprocess!,
            write: ['statecode', 'statuscode'],
          },
        },
      },
    });
    try {
      await admin.client.update('opportunitysalesprocess', String(run.businessprocessflowinstanceid), {
        statecode: 1,
        statuscode: 3,
      });
    } finally {
      await admin.client.close();
    }
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: String(d.opportunityid),
      values: { stepname: 'close' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(deal(d.opportunityid)).toMatchObject({ stepname: '4-Close', salesstage: 3 });
    expect(textOf(r)).toContain(
      'No Opportunity Sales Process or Lead to Opportunity Sales Process runs on the deal, so no Sales Process bar was moved',
    );
    expect(runOf(d.opportunityid)[0]).toMatchObject({
      statecode: 1,
      activestageid: expect.objectContaining({ id: DEVELOP }),
    });
  });

  it("a deal made by qualifying a lead: its Lead to Opportunity Sales Process bar moved, never back to the lead's Qualify", async () => {
    const lead = emu.rows('lead').find((l) => l.statecode === 0 && l.companyname)!;
    const q = await h.call('update_record', {
      entity: 'lead',
      id: String(lead.leadid),
      values: { statecode: 'Qualified' },
    });
    expect(q.isError, textOf(q)).toBeFalsy();
    const made = emu
      .rows('opportunity')
      .find((o) => (o.originatingleadid as { id: string } | null)?.id === lead.leadid)!;
    const leadRun = () =>
      emu
        .rows('leadtoopportunitysalesprocess')
        .filter((r) => (r.opportunityid as { id: string } | null)?.id === made.opportunityid);
    // the lead's process goes on on the deal, at its first stage (the emulator's GUESS, its contract test says)
    expect(leadRun()).toEqual([
      expect.objectContaining({
        activestageid: expect.objectContaining({ id: LEAD_DEVELOP }),
        traversedpath: `${LEAD_QUALIFY},${LEAD_DEVELOP}`,
      }),
    ]);
    expect(runOf(made.opportunityid)).toEqual([]);
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: String(made.opportunityid),
      values: { stepname: 'Propose' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain(
      "The Sales Process bar (its Lead to Opportunity Sales Process) on the deal's form moved Develop → Propose.",
    );
    expect(leadRun()[0]).toMatchObject({
      activestageid: expect.objectContaining({ id: LEAD_PROPOSE }),
      traversedpath: `${LEAD_QUALIFY},${LEAD_DEVELOP},${LEAD_PROPOSE}`,
    });
    expect(deal(made.opportunityid)).toMatchObject({ stepname: '3-Propose', salesstage: 2 });
    // the lead's own stage is behind the deal: refused, naming the deal's stages
    const back = await h.call('update_record', {
      entity: 'opportunity',
      id: String(made.opportunityid),
      values: { stepname: 'Qualify' },
    });
    expect(back.isError).toBe(true);
    expect(textOf(back)).toContain("is the lead's stage of the deal's Lead to Opportunity Sales Process");
    expect(textOf(back)).toContain("the deal's stages are Develop, Propose and Close");
    expect(leadRun()[0]).toMatchObject({ activestageid: expect.objectContaining({ id: LEAD_PROPOSE }) });
  });

  it("an organisation without the Lead to Opportunity Sales Process table: the deal's own bar is moved all the same", async () => {
    // a server just started (its metadata not yet read), meeting an organisation that answers 404 for the table
    const fresh = await connectInMemory(emu);
    try {
      emu.addFault({
        match: {
          method: 'GET',
          path: "/api/data/v9.2/EntityDefinitions(LogicalName='leadtoopportunitysalesprocess')",
          inBatch: true,
        },
        response: { status: 404, body: { error: { code: '0x80060888', message: 'Resource not found.' } } },
      });
      const d = dealAt(0);
      const r = await fresh.call('update_record', {
        entity: 'opportunity',
        id: String(d.opportunityid),
        values: { stepname: 'Develop' },
      });
      emu.clearFaults();
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(textOf(r)).toContain('moved Qualify → Develop');
      expect(runOf(d.opportunityid)[0]).toMatchObject({ activestageid: expect.objectContaining({ id: DEVELOP }) });
    } finally {
      emu.clearFaults();
      await fresh.close();
    }
  });

  it('several deals moved at once ("move these two to Propose"): each one\'s bar, each said', async () => {
    const two = [dealAt(1), dealAt(1)];
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: two.map((d) => String(d.opportunityid)),
      values: { stepname: 'Propose' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    for (const d of two) {
      expect(runOf(d.opportunityid)[0]).toMatchObject({
        activestageid: expect.objectContaining({ id: PROPOSE }),
        traversedpath: `${QUALIFY},${DEVELOP},${PROPOSE}`,
      });
      expect(deal(d.opportunityid)).toMatchObject({ stepname: '3-Propose', salesstage: 2 });
    }
    expect(textOf(r).match(/moved Develop → Propose/g)).toHaveLength(2);
  });

  it('where writes to deals are confirmed, the user is asked about the bar too; declined, nothing moves', async () => {
    const policy = builtInPolicyWith('confirm-stage', (e) => ({
      ...e,
      opportunity: { ...e.opportunity, confirmWrites: true },
    }));
    const { h: c, asked, user } = await connectAsking(emu, { DYNAMICS_MCP_POLICY: policy });
    try {
      const d = dealAt(0);
      const since = emu.requests().length;
      const declined = await c.call('update_record', {
        entity: 'opportunity',
        id: String(d.opportunityid),
        values: { stepname: 'Develop' },
      });
      expect(textOf(declined)).toBe('Not updated: the user chose "decline".');
      expect(asked).toEqual([
        `Update opportunity ${d.opportunityid}: stepname = "2-Develop", salesstage = 1, and its Sales Process bar moved from Qualify to Develop?`,
      ]);
      // (a new server reads the tables' metadata in $batch POSTs: reads, not writes)
      expect(apiRequests(emu, since).filter((q) => q.method !== 'GET' && !q.url.endsWith('/$batch'))).toEqual([]);
      user.choice = 'accept';
      const accepted = await c.call('update_record', {
        entity: 'opportunity',
        id: String(d.opportunityid),
        values: { stepname: 'Develop' },
      });
      expect(accepted.isError, textOf(accepted)).toBeFalsy();
      expect(runOf(d.opportunityid)[0]).toMatchObject({ activestageid: expect.objectContaining({ id: DEVELOP }) });
    } finally {
      await c.close();
    }
  });

  it('create_record of a deal at Propose: made at Qualify as Dynamics starts it, its bar then moved to Propose', async () => {
    const account = emu.rows('account')[3]!;
    const r = await h.call('create_record', {
      entity: 'opportunity',
      values: {
        name: 'Stage test: new deal',
        customerid: { entity: 'account', id: account.accountid },
        stepname: '3-Propose',
      },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const made = emu.rows('opportunity').find((o) => o.name === 'Stage test: new deal')!;
    expect(made).toMatchObject({ stepname: '3-Propose', salesstage: 2 });
    expect(runOf(made.opportunityid)).toEqual([
      expect.objectContaining({
        activestageid: expect.objectContaining({ id: PROPOSE }),
        traversedpath: `${QUALIFY},${DEVELOP},${PROPOSE}`,
      }),
    ]);
    expect(textOf(r)).toContain('moved Qualify → Develop → Propose');
    // a stage the process has not: the deal is made all the same, its bar left at Qualify, and the answer says why
    const odd = await h.call('create_record', {
      entity: 'opportunity',
      values: {
        name: 'Stage test: odd stage',
        customerid: { entity: 'account', id: account.accountid },
        stepname: 'Negotiation',
      },
    });
    expect(odd.isError, textOf(odd)).toBeFalsy();
    const oddDeal = emu.rows('opportunity').find((o) => o.name === 'Stage test: odd stage')!;
    expect(runOf(oddDeal.opportunityid)[0]).toMatchObject({ activestageid: expect.objectContaining({ id: QUALIFY }) });
    expect(textOf(odd)).toContain('Its Sales Process bar was left at its first stage');
    expect(textOf(odd)).toContain('Qualify, Develop, Propose and Close');
  });

  it("a policy without the Sales Process: the deal's stage is written whole and the answer says the bar was not moved", async () => {
    const noBar = builtInPolicyWith(
      'no-sales-process',
      ({ opportunitysalesprocess: _left, leadtoopportunitysalesprocess: _lead, ...entities }) => entities,
    );
    const other = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: noBar } });
    try {
      const d = dealAt(0);
      const r = await other.call('update_record', {
        entity: 'opportunity',
        id: String(d.opportunityid),
        values: { stepname: 'Develop' },
      });
      expect(r.isError, textOf(r)).toBeFalsy();
      // the deal's stage written whole, as it would be with the bar
      expect(deal(d.opportunityid)).toMatchObject({ stepname: '2-Develop', salesstage: 1 });
      expect(runOf(d.opportunityid)[0]).toMatchObject({ activestageid: expect.objectContaining({ id: QUALIFY }) });
      expect(textOf(r)).toContain("Sales Process bar on the deal's form was not moved");
      // a deal made at a stage likewise: its phase as Dynamics writes it, and its Sales Stage, with no bar moved
      const made = await other.call('create_record', {
        entity: 'opportunity',
        values: {
          name: 'Stage test: no bar',
          customerid: { entity: 'account', id: emu.rows('account')[4]!.accountid },
          stepname: 'propose',
        },
      });
      expect(made.isError, textOf(made)).toBeFalsy();
      const newDeal = emu.rows('opportunity').find((o) => o.name === 'Stage test: no bar')!;
      expect(newDeal).toMatchObject({ stepname: '3-Propose', salesstage: 2 });
      expect(runOf(newDeal.opportunityid)[0]).toMatchObject({
        activestageid: expect.objectContaining({ id: QUALIFY }),
      });
    } finally {
      await other.close();
    }
  });
});

// Administrators add stages to the shipped process (a Negotiate between Propose and Close) whose category is out
// of the categories' order: a stage's place is not in processstage but in the process's definition, which
// RetrieveActivePath answers with, and the bar must go through every stage on its way, as the form shows them.
describe('update_record on a deal whose process an administrator gave another stage', () => {
  const NEGOTIATE = '0b6f8d8e-3c1a-4d5e-9f27-5a4c8e2b7d10';
  const CLOSE = 'bb7e830a-61bd-441b-b1fd-6bb104ffa027';
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 30 });
    // Negotiate, of the Approval category (7): by the categories' order it would come after Close
    emu.configure({
      processStage: {
        processid: '3e8ebee6-a2bc-4451-9c5f-b146b085413a',
        after: PROPOSE,
        stagename: 'Negotiate',
        stagecategory: 7,
        processstageid: NEGOTIATE,
      },
    });
    h = await connectInMemory(emu);
  });
  afterAll(async () => {
    await h?.close();
    await emu?.close();
  });
  const ownDeal = (stage: number, skip?: unknown) =>
    emu
      .rows('opportunity')
      .find((o) => o.statecode === 0 && o.salesstage === stage && !o.originatingleadid && o.opportunityid !== skip)!;
  const runOf = (id: unknown) =>
    emu.rows('opportunitysalesprocess').find((r) => (r.opportunityid as { id: string } | null)?.id === id)!;

  it('a deal at Propose moved to Close goes through Negotiate, as the bar on its form does', async () => {
    const d = ownDeal(2);
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: String(d.opportunityid),
      values: { stepname: 'Close' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain("Sales Process bar on the deal's form moved Propose → Negotiate → Close");
    expect(runOf(d.opportunityid)).toMatchObject({
      activestageid: expect.objectContaining({ id: CLOSE }),
      traversedpath: `${QUALIFY},${DEVELOP},${PROPOSE},${NEGOTIATE},${CLOSE}`,
    });
  });

  it('the added stage is one a deal can be moved to, and is named in its place among the stages', async () => {
    const d = ownDeal(1);
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: String(d.opportunityid),
      values: { stepname: 'Negotiate' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain('moved Develop → Propose → Negotiate');
    expect(runOf(d.opportunityid)).toMatchObject({
      activestageid: expect.objectContaining({ id: NEGOTIATE }),
      traversedpath: `${QUALIFY},${DEVELOP},${PROPOSE},${NEGOTIATE}`,
    });
    // GUESS: the Pipeline Phase is made of the stage's category, "8-Approval", as the platform makes it; the Sales
    // Stage, which has no Approval, is Propose's, the last stage before it that is one (pipeline_summary counts it
    // there, not back at Develop)
    expect(emu.rows('opportunity').find((o) => o.opportunityid === d.opportunityid)).toMatchObject({
      stepname: '8-Approval',
      salesstage: 2,
    });
    const wrong = await h.call('update_record', {
      entity: 'opportunity',
      id: String(ownDeal(1, d.opportunityid).opportunityid),
      values: { stepname: 'Contract' },
    });
    expect(wrong.isError).toBe(true);
    expect(textOf(wrong)).toContain('its stages are Qualify, Develop, Propose, Negotiate and Close');
  });
});
