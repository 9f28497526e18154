import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle, FaultSpec } from '../../src/emulator/index.js';
import { BILLING_QUEUE_ID, TIER_1_QUEUE_ID, TIER_2_QUEUE_ID } from '../../src/emulator/seed/queues.js';
import { SALES_PROCESS } from '../../src/emulator/seed/sales-process.js';
import { ALL_TOOLS } from '../../src/tools/index.js';
import { startTestEmulator, throttledResponse } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// Every tool against every failure we inject: the call either succeeds or fails with a clear message
// ("Error (<kind>): …" and "How to fix: …"), and afterwards the emulator holds no duplicate and no
// half-written record.

type Case = {
  tool: string;
  /** the test's name, where one tool has two cases */
  name?: string;
  method: 'GET' | 'PATCH' | 'POST' | 'DELETE';
  args: (tag: string, emu: EmulatorHandle) => Record<string, unknown>;
  count?: (emu: EmulatorHandle, tag: string) => number;
  /** the call removes what count counts: done is 0 left, not 1 made */
  removes?: true;
  /** the call writes several records: count is the most times one was made (or 1: some were changed), and after
   * the call again each is */
  every?: (emu: EmulatorHandle, tag: string) => boolean;
};

/** resolve_case's case in each emulator (each fault has one of its own), opened before the tools run */
/** the deal update_record links a competitor to */
const RIVAL_DEAL = 'Resilience: a deal against a rival';
const resolving = new WeakMap<EmulatorHandle, string>();
const caseToResolve = (emu: EmulatorHandle) => resolving.get(emu)!;
/** the open case update_record puts on hold in each emulator (its SLA clocks running until then) */
const holding = new WeakMap<EmulatorHandle, string>();
const caseToHold = (emu: EmulatorHandle) => holding.get(emu)!;
/** the seeded case update_record moves to another queue in each emulator, and that queue's id and name */
const moving = new WeakMap<EmulatorHandle, { caseId: string; to: string; name: string }>();
/** the case create_record puts in the Billing queue in each emulator (in none until then) */
const toQueue = new WeakMap<EmulatorHandle, string>();
/** a case of each emulator that a knowledge article is recorded on, and the article (the newest published) */
const solved = new WeakMap<EmulatorHandle, string>();
const solution = (emu: EmulatorHandle) =>
  String(emu.rows('knowledgearticle').find((a) => a.statecode === 3 && a.islatestversion === true)!.knowledgearticleid);
const usesOnSolved = (emu: EmulatorHandle) =>
  emu
    .rows('knowledgearticleincident')
    .filter(
      (u) =>
        (u.incidentid as { id: string } | null)?.id === solved.get(emu) &&
        (u.knowledgearticleid as { id: string }).id === solution(emu),
    );
const billed = (emu: EmulatorHandle) =>
  emu
    .rows('queueitem')
    .filter(
      (i) =>
        i.statecode === 0 &&
        (i.objectid as { id: string }).id === toQueue.get(emu) &&
        (i.queueid as { id: string }).id === BILLING_QUEUE_ID,
    );
const queuedNow = (emu: EmulatorHandle) =>
  emu
    .rows('queueitem')
    .filter((i) => i.statecode === 0 && (i.objectid as { id: string }).id === moving.get(emu)!.caseId);
/** the two open cases resolve_case's list resolves in each emulator */
const resolvingPair = new WeakMap<EmulatorHandle, string[]>();
const resolutionsOf = (emu: EmulatorHandle, id: string) =>
  emu.rows('incidentresolution').filter((r) => (r.incidentid as { id: string } | null)?.id === id).length;
/** the open lead update_record qualifies in each emulator */
const leadToQualify = (emu: EmulatorHandle) =>
  String(emu.rows('lead').find((l) => l.lastname === 'Resilience qualify')!.leadid);
/** the deal update_record moves from Qualify to Propose in each emulator, and its Sales Process run */
const DEAL_TO_MOVE = 'Resilience: a deal to move';
/** the Opportunity Sales Process's first three stages (seed/sales-process.ts: the ids Dynamics 365 Sales ships) */
const STAGES = SALES_PROCESS.stages.slice(0, 3).map((s) => s.id);
const barOf = (emu: EmulatorHandle) => {
  const id = emu.rows('opportunity').find((o) => o.name === DEAL_TO_MOVE)!.opportunityid;
  return emu.rows('opportunitysalesprocess').find((r) => (r.opportunityid as { id: string }).id === id)!;
};
/** the duplicate account update_record merges into the one kept in each emulator, and a contact of the duplicate's */
const MERGE_KEPT = 'Resilience: the account kept';
const MERGE_DUPLICATE = 'Resilience: a duplicate account';
const accountNamed = (emu: EmulatorHandle, name: string) => emu.rows('account').find((a) => a.name === name)!;
const mergedDuplicates = (emu: EmulatorHandle) =>
  emu
    .rows('account')
    .filter(
      (a) =>
        a.name === MERGE_DUPLICATE &&
        (a.masterid as { id: string } | null)?.id === accountNamed(emu, MERGE_KEPT).accountid,
    );
/** the open opportunity update_record wins in each emulator */
const dealToWin = (emu: EmulatorHandle) =>
  String(emu.rows('opportunity').find((o) => o.name === 'Resilience: a deal to win')!.opportunityid);
/** the product delete_record removes from a deal in each emulator, added before the tools run */
const LINE_TO_REMOVE = 'Resilience: a product to remove';
const linesToRemove = (emu: EmulatorHandle) =>
  emu.rows('opportunityproduct').filter((l) => l.productdescription === LINE_TO_REMOVE);
const removing = new WeakMap<EmulatorHandle, string>();
/** the two products delete_record's list removes from the same deal */
const PAIR_TO_REMOVE = 'Resilience: one of two products to remove';
const removingPair = new WeakMap<EmulatorHandle, string[]>();
const pairLeft = (emu: EmulatorHandle) =>
  emu.rows('opportunityproduct').filter((l) => String(l.productdescription).startsWith(PAIR_TO_REMOVE)).length;
/** two open leads of each emulator, the same for every fault's call (rows change order as they are written) */
const pairs = new WeakMap<EmulatorHandle, string[]>();
const twoLeads = (emu: EmulatorHandle) => {
  if (!pairs.has(emu))
    pairs.set(
      emu,
      emu
        .rows('lead')
        .filter((l) => l.statecode === 0 && l.lastname !== 'Resilience qualify')
        .slice(0, 2)
        .map((l) => String(l.leadid)),
    );
  return pairs.get(emu)!;
};
const leadsNamed = (emu: EmulatorHandle, lastName: string) =>
  emu.rows('lead').filter((l) => l.lastname === lastName).length;

const TOOLS: Case[] = [
  { tool: 'describe_entity', method: 'GET', args: () => ({ entity: 'account' }) },
  {
    tool: 'query_entities',
    method: 'GET',
    args: () => ({ entity: 'account', select: ['name', 'revenue'], top: 5, count: true }),
  },
  {
    tool: 'get_record',
    method: 'GET',
    args: (_t, emu) => ({ entity: 'contact', id: String(emu.rows('contact')[0]!.contactid) }),
  },
  {
    tool: 'aggregate_records',
    method: 'GET',
    args: () => ({
      entity: 'opportunity',
      groupBy: ['statecode'],
      measures: [{ op: 'count' }, { op: 'sum', column: 'estimatedvalue_base' }],
    }),
  },
  {
    // a date by period: two one-row reads, then one aggregation per quarter
    tool: 'aggregate_records',
    name: 'aggregate_records by quarter',
    method: 'GET',
    args: () => ({ entity: 'incident', groupBy: ['createdon by quarter', 'prioritycode'] }),
  },
  { tool: 'pipeline_summary', method: 'GET', args: () => ({ from: '2020-01-01', to: '2035-12-31' }) },
  {
    // the CloseIncident action: a POST that writes the resolution and the case's state together
    tool: 'resolve_case',
    method: 'POST',
    args: (_t, emu) => ({ id: caseToResolve(emu), resolution: 'Fault test' }),
    count: (emu) =>
      emu.rows('incidentresolution').filter((r) => (r.incidentid as { id: string } | null)?.id === caseToResolve(emu))
        .length,
  },
  {
    // two cases in one call: one CloseIncident meets the fault; none gets two resolutions, and the call again
    // leaves both resolved, each once
    tool: 'resolve_case',
    name: 'resolve_case on two cases',
    method: 'POST',
    args: (_t, emu) => ({ id: resolvingPair.get(emu)!, resolution: 'Fault test' }),
    count: (emu) => Math.max(...resolvingPair.get(emu)!.map((id) => resolutionsOf(emu, id))),
    every: (emu) =>
      resolvingPair
        .get(emu)!
        .every(
          (id) =>
            resolutionsOf(emu, id) === 1 && emu.rows('incident').find((c) => c.incidentid === id)!.statecode === 1,
        ),
  },
  {
    // a case put on hold: its SLA clocks paused and the hold stamped once, read back beside the change; the call
    // again leaves it so (a hold asked twice is not counted twice)
    tool: 'update_record',
    name: 'update_record putting a case on hold',
    method: 'PATCH',
    args: (_t, emu) => ({ entity: 'incident', id: caseToHold(emu), values: { statuscode: 'On Hold' } }),
    count: (emu) => (emu.rows('incident').find((c) => c.incidentid === caseToHold(emu))!.statuscode === 2 ? 1 : 0),
    every: (emu) => {
      const c = emu.rows('incident').find((x) => x.incidentid === caseToHold(emu))!;
      const clocks = [c.firstresponsebykpiid, c.resolvebykpiid].map(
        (ref) => emu.rows('slakpiinstance').find((k) => k.slakpiinstanceid === (ref as { id: string }).id)!,
      );
      return c.statuscode === 2 && !!c.lastonholdtime && c.onholdtime == null && clocks.every((k) => k.status === 3);
    },
  },
  {
    // a case moved to another queue: Dynamics' AddToQueue, a POST bound to the queue; the call again (on the item
    // the case has now) finds it there and moves nothing: one active item, in that queue
    tool: 'update_record',
    name: 'update_record moving a case to another queue',
    method: 'POST',
    args: (_t, emu) => ({
      entity: 'queueitem',
      id: String(queuedNow(emu)[0]!.queueitemid),
      values: { queueid: moving.get(emu)!.name },
    }),
    count: (emu) => queuedNow(emu).filter((i) => (i.queueid as { id: string }).id === moving.get(emu)!.to).length,
    every: (emu) =>
      queuedNow(emu).length === 1 && (queuedNow(emu)[0]!.queueid as { id: string }).id === moving.get(emu)!.to,
  },
  {
    // statecode Won: the WinOpportunity action, a POST that writes the Opportunity Close and the deal's state
    tool: 'update_record',
    name: 'update_record winning an opportunity',
    method: 'POST',
    args: (_t, emu) => ({ entity: 'opportunity', id: dealToWin(emu), values: { statecode: 'Won' } }),
    count: (emu) =>
      emu.rows('opportunityclose').filter((r) => (r.opportunityid as { id: string } | null)?.id === dealToWin(emu))
        .length,
  },
  {
    // a deal moved to another stage: its PATCH, then its Sales Process bar's, one stage at a time; the call again
    // finishes a move a fault stopped, and leaves the deal and its bar at the stage asked
    tool: 'update_record',
    name: "update_record moving a deal's stage",
    method: 'PATCH',
    args: () => ({ entity: 'opportunity', id: DEAL_TO_MOVE, values: { stepname: 'Propose' } }),
    count: (emu) => ((barOf(emu).activestageid as { id: string }).id === STAGES[2] ? 1 : 0),
    every: (emu) => {
      const deal = emu.rows('opportunity').find((o) => o.name === DEAL_TO_MOVE)!;
      return deal.stepname === '3-Propose' && deal.salesstage === 2 && barOf(emu).traversedpath === STAGES.join(',');
    },
  },
  {
    // a duplicate account merged into the one kept: Dynamics' Merge, a POST; the call again finds it merged and
    // sends nothing, its contact the kept account's
    tool: 'update_record',
    name: 'update_record merging a duplicate account',
    method: 'POST',
    args: (_t, emu) => ({
      entity: 'account',
      id: String(accountNamed(emu, MERGE_DUPLICATE).accountid),
      values: { masterid: MERGE_KEPT },
    }),
    count: (emu) => mergedDuplicates(emu).length,
    every: (emu) => {
      const contact = emu.rows('contact').find((c) => c.lastname === MERGE_DUPLICATE)!;
      const duplicate = accountNamed(emu, MERGE_DUPLICATE);
      return (
        (contact.parentcustomerid as { id: string }).id === accountNamed(emu, MERGE_KEPT).accountid &&
        duplicate.statecode === 1
      );
    },
  },
  {
    // statecode Qualified: the QualifyLead action, a POST that makes an account, contact and opportunity
    tool: 'update_record',
    name: 'update_record qualifying a lead',
    method: 'POST',
    args: (_t, emu) => ({ entity: 'lead', id: leadToQualify(emu), values: { statecode: 'Qualified' } }),
    count: (emu) =>
      emu.rows('opportunity').filter((o) => (o.originatingleadid as { id: string } | null)?.id === leadToQualify(emu))
        .length,
  },
  {
    // a competitor linked to a deal: a POST to the relationship's $ref, which a retry meets as a duplicate key
    tool: 'update_record',
    name: 'update_record linking a competitor',
    method: 'POST',
    args: () => ({
      entity: 'opportunity',
      id: RIVAL_DEAL,
      values: { opportunitycompetitors_association: ['Meridian Cloud'] },
    }),
    count: (emu) => {
      const deal = emu.rows('opportunity').find((o) => o.name === RIVAL_DEAL)!.opportunityid;
      const rival = emu.rows('competitor').find((c) => c.name === 'Meridian Cloud')!.competitorid;
      return emu.rows('opportunitycompetitors').filter((p) => p.opportunityid === deal && p.competitorid === rival)
        .length;
    },
  },
  {
    // a case put in a queue: Dynamics' AddToQueue, a POST; the call again finds it there and adds nothing
    tool: 'create_record',
    name: 'create_record putting a case in a queue',
    method: 'POST',
    args: (_t, emu) => ({
      entity: 'queueitem',
      values: { objectid: { entity: 'incident', id: toQueue.get(emu)! }, queueid: 'Billing' },
    }),
    count: (emu) => billed(emu).length,
  },
  {
    // a reply drafted as an email on a case: the same subject on the same case is the draft already there
    tool: 'create_record',
    name: 'create_record drafting an email',
    method: 'PATCH',
    args: (tag, emu) => ({
      entity: 'email',
      values: { subject: `RE: ${tag}`, description: 'Draft reply', regardingobjectid: solved.get(emu)! },
    }),
    count: (emu, tag) => emu.rows('email').filter((e) => e.subject === `RE: ${tag}`).length,
  },
  {
    // a knowledge article recorded on a case: the same article on the same case is the record already there
    tool: 'create_record',
    name: 'create_record recording the article that solved a case',
    method: 'PATCH',
    args: (_t, emu) => ({
      entity: 'knowledgearticleincident',
      values: { knowledgearticleid: solution(emu), incidentid: solved.get(emu)!, knowledgeusage: 'Solution' },
    }),
    count: (emu) => usesOnSolved(emu).length,
  },
  {
    // a product on a deal (a write-in at its own price): the same deal and product is the line already there, so
    // a retried or repeated create is that line, and its amounts are read back from Dynamics
    tool: 'create_record',
    name: 'create_record adding a product to a deal',
    method: 'PATCH',
    args: (tag) => ({
      entity: 'opportunityproduct',
      values: { opportunityid: RIVAL_DEAL, productdescription: tag, priceperunit: 100, quantity: 2 },
    }),
    count: (emu, tag) => emu.rows('opportunityproduct').filter((l) => l.productdescription === tag).length,
  },
  {
    // a product taken off a deal: a DELETE, which a retry after a lost answer meets as done (404)
    tool: 'delete_record',
    method: 'DELETE',
    args: (_t, emu) => ({ entity: 'opportunityproduct', id: removing.get(emu)! }),
    count: (emu) => linesToRemove(emu).length,
    removes: true,
  },
  {
    // two products off a deal in one call: one DELETE meets the fault; the call again leaves neither
    tool: 'delete_record',
    name: 'delete_record on two lines',
    method: 'DELETE',
    args: (_t, emu) => ({ entity: 'opportunityproduct', id: removingPair.get(emu)! }),
    count: (emu) => pairLeft(emu),
    removes: true,
    every: (emu) => pairLeft(emu) === 0,
  },
  {
    tool: 'create_lead',
    method: 'PATCH',
    args: (tag) => ({
      lastName: tag,
      email: `${tag}@resilience.example`,
      company: 'Resilience Ltd',
      subject: 'Fault test',
    }),
    count: (emu, tag) => emu.rows('lead').filter((l) => l.lastname === tag).length,
  },
  {
    // several leads in one call: one meets the fault (the others are made); none is made twice, and the call
    // again makes any the fault kept out
    tool: 'create_lead',
    name: 'create_lead with several leads',
    method: 'PATCH',
    args: (tag) => ({
      company: 'Resilience Ltd',
      leads: [1, 2, 3].map((k) => ({ lastName: `${tag}-${k}`, email: `${tag}-${k}@resilience.example` })),
    }),
    count: (emu, tag) => Math.max(...[1, 2, 3].map((k) => leadsNamed(emu, `${tag}-${k}`))),
    every: (emu, tag) => [1, 2, 3].every((k) => leadsNamed(emu, `${tag}-${k}`) === 1),
  },
  {
    tool: 'create_case',
    method: 'PATCH',
    args: (tag, emu) => ({
      title: tag,
      customer: { accountId: String(emu.rows('account')[0]!.accountid) },
      externalRef: tag,
    }),
    count: (emu, tag) => emu.rows('incident').filter((i) => i.title === tag).length,
  },
  {
    // an account by its name: the name-based id makes a retried or repeated create the same record
    tool: 'create_record',
    method: 'PATCH',
    args: (tag) => ({ entity: 'account', values: { name: tag, telephone1: '+1 555 0100' } }),
    count: (emu, tag) => emu.rows('account').filter((a) => a.name === tag).length,
  },
  {
    // two accounts in one call: one meets the fault; none is made twice, and the call again makes the other
    tool: 'create_record',
    name: 'create_record with two accounts',
    method: 'PATCH',
    args: (tag) => ({ entity: 'account', values: [1, 2].map((k) => ({ name: `${tag}-${k}` })) }),
    count: (emu, tag) =>
      Math.max(...[1, 2].map((k) => emu.rows('account').filter((a) => a.name === `${tag}-${k}`).length)),
    every: (emu, tag) => [1, 2].every((k) => emu.rows('account').filter((a) => a.name === `${tag}-${k}`).length === 1),
  },
  {
    // a call with who was on it: the call and its party (a deep insert) are made together or not at all
    tool: 'create_record',
    name: 'create_record logging a call with its To',
    method: 'PATCH',
    args: (tag, emu) => ({
      entity: 'phonecall',
      values: {
        subject: tag.slice(0, 200),
        to: { entity: 'contact', id: String(emu.rows('contact')[0]!.contactid) },
      },
    }),
    // the calls made, each with its one party; a call without it (half-written) counts as many
    count: (emu, tag) => {
      const calls = emu.rows('phonecall').filter((c) => c.subject === tag.slice(0, 200));
      const parties = emu
        .rows('activityparty')
        .filter((p) => calls.some((c) => c.activityid === (p.activityid as { id: string }).id));
      return parties.length === calls.length ? calls.length : 99;
    },
  },
  {
    tool: 'update_record',
    method: 'PATCH',
    args: (tag, emu) => ({
      entity: 'lead',
      id: String(emu.rows('lead')[0]!.leadid),
      values: { jobtitle: tag.slice(0, 90) },
    }),
    count: (emu, tag) => emu.rows('lead').filter((l) => l.jobtitle === tag.slice(0, 90)).length,
  },
  {
    // the same change to two records: one meets the fault; the call again leaves both changed
    tool: 'update_record',
    name: 'update_record on two records',
    method: 'PATCH',
    args: (tag, emu) => ({ entity: 'lead', id: twoLeads(emu), values: { jobtitle: tag.slice(0, 90) } }),
    count: (emu, tag) => Math.min(1, emu.rows('lead').filter((l) => l.jobtitle === tag.slice(0, 90)).length),
    every: (emu, tag) =>
      twoLeads(emu).every((id) => emu.rows('lead').find((l) => l.leadid === id)!.jobtitle === tag.slice(0, 90)),
  },
  {
    tool: 'add_note',
    method: 'PATCH',
    args: (tag, emu) => ({ entity: 'incident', id: String(emu.rows('incident')[0]!.incidentid), text: tag }),
    count: (emu, tag) => emu.rows('annotation').filter((n) => n.notetext === tag).length,
  },
];

const WEB = '/api/data/v9.2/';
const FAULTS: { name: string; spec: (emu: EmulatorHandle, method: string) => FaultSpec; cold?: boolean }[] = [
  {
    name: '429 with Retry-After',
    spec: (_e, method) => ({
      match: { method, path: WEB },
      response: throttledResponse(1),
    }),
  },
  { name: '503', spec: (_e, method) => ({ match: { method, path: WEB }, response: { status: 503 } }) },
  { name: '504', spec: (_e, method) => ({ match: { method, path: WEB }, response: { status: 504 } }) },
  { name: 'connection reset before commit', spec: (_e, method) => ({ match: { method, path: WEB }, action: 'reset' }) },
  {
    name: 'connection reset after commit',
    spec: (_e, method) => ({ match: { method, path: WEB }, action: 'reset-after' }),
  },
  { name: 'a delay past the timeout', spec: (_e, method) => ({ match: { method, path: WEB }, delayMs: 2500 }) },
  {
    name: 'a 401 mid-flight',
    spec: (_e, method) => ({
      match: { method, path: WEB },
      response: {
        status: 401,
        body: { error: { code: '0x8005F101', message: 'The requested resource requires authentication.' } },
      },
    }),
  },
  {
    // a proxy or gateway between us and Dataverse answering for it
    name: 'an HTML page with 200',
    spec: (_e, method) => ({
      match: { method, path: WEB },
      response: {
        status: 200,
        headers: { 'Content-Type': 'text/html' },
        body: '<html><head><title>Access gateway</title></head><body>Sign in</body></html>',
      },
    }),
  },
  {
    name: 'a 200 whose JSON is cut short',
    spec: (_e, method) => ({
      match: { method, path: WEB },
      response: { status: 200, body: '{"@odata.context":"x","value":[{"name":"Cut' },
    }),
  },
  {
    name: 'token endpoint 5xx',
    spec: (emu) => ({
      match: { method: 'POST', path: `/${emu.tenantId}/oauth2/v2.0/token` },
      response: { status: 503 },
    }),
    cold: true,
  },
];

// a tool added later is not left out: every tool the server registers meets every fault
describe('resilience cases', () => {
  it('cover every tool the server registers', () => {
    expect([...new Set(TOOLS.map((t) => t.tool))].sort()).toEqual(ALL_TOOLS.map((t) => t.name).sort());
  });
});

// short timeouts, so that "a delay past the timeout" is one (2.5 s: undici gives up on a 1 s wait between 1.0 and
// 1.5 s, its timer ticking every ~0.5 s)
const configFile = join(tmpdir(), `dmcp-resilience-${process.pid}.json`);
writeFileSync(configFile, JSON.stringify({ dynamics: { timeoutMs: 1000, deadlineMs: 10_000 } }));

describe.each(FAULTS)('resilience: $name', ({ spec, cold }) => {
  let emu: EmulatorHandle;
  let warm: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 20 });
    warm = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' }, configFile });
    // warm the shared caches so the fault meets the tool's own request
    await warm.call('describe_entity', { entity: 'account' });
    for (const e of [
      'contact',
      'lead',
      'incident',
      'opportunity',
      'annotation',
      'incidentresolution',
      'opportunityclose',
    ])
      await warm.deps.client.metadata.entity(e);
    // an open case for resolve_case (a small organisation may have none left open)
    const opened = await warm.call('create_case', {
      title: 'Resilience: a case to resolve',
      customer: { accountId: String(emu.rows('account')[0]!.accountid) },
    });
    resolving.set(emu, opened.structuredContent.id);
    // and two for its list
    const two: string[] = [];
    for (const k of [1, 2])
      two.push(
        (
          await warm.call('create_case', {
            title: `Resilience: one of two cases to resolve ${k}`,
            customer: { accountId: String(emu.rows('account')[0]!.accountid) },
          })
        ).structuredContent.id,
      );
    resolvingPair.set(emu, two);
    // and one waiting in Tier 1, for update_record to move to Tier 2 (put there as Dynamics does, with AddToQueue)
    const queued = (
      await warm.call('create_case', {
        title: 'Resilience: a case to move to another queue',
        customer: { accountId: String(emu.rows('account')[0]!.accountid) },
      })
    ).structuredContent.id as string;
    await warm.deps.client.transport.send({
      method: 'POST',
      path: `/api/data/v9.2/queues(${TIER_1_QUEUE_ID})/Microsoft.Dynamics.CRM.AddToQueue`,
      body: JSON.stringify({ Target: { '@odata.type': 'Microsoft.Dynamics.CRM.incident', incidentid: queued } }),
      idempotent: false,
    });
    moving.set(emu, { caseId: queued, to: TIER_2_QUEUE_ID, name: 'Tier 2 Support' });
    // and one in no queue, for create_record to put in Billing
    toQueue.set(
      emu,
      (
        await warm.call('create_case', {
          title: 'Resilience: a case to put in a queue',
          customer: { accountId: String(emu.rows('account')[0]!.accountid) },
        })
      ).structuredContent.id,
    );
    // and one to record the article that solved it on
    solved.set(
      emu,
      (
        await warm.call('create_case', {
          title: 'Resilience: a case an article solved',
          customer: { accountId: String(emu.rows('account')[0]!.accountid) },
        })
      ).structuredContent.id,
    );
    // and one to put on hold
    holding.set(
      emu,
      (
        await warm.call('create_case', {
          title: 'Resilience: a case to put on hold',
          customer: { accountId: String(emu.rows('account')[0]!.accountid) },
        })
      ).structuredContent.id,
    );
    // an open lead to qualify, found by its name
    await warm.call('create_lead', {
      lastName: 'Resilience qualify',
      company: 'Resilience Qualify Ltd',
      subject: 'Qualify me',
    });
    // and an open opportunity to win, found by its name
    await warm.deps.client.create('opportunity', {
      name: 'Resilience: a deal to win',
      estimatedvalue: 5000,
    });
    // a duplicate account, with a contact, for update_record to merge into the account kept
    await warm.deps.client.create('account', { name: MERGE_KEPT });
    const duplicate = await warm.deps.client.create('account', { name: MERGE_DUPLICATE });
    await warm.deps.client.create('contact', {
      lastname: MERGE_DUPLICATE,
      parentcustomerid: { entity: 'account', id: duplicate.id },
    });
    // and one to move to another stage (its run of the Sales Process starts at Qualify)
    await warm.deps.client.create('opportunity', { name: DEAL_TO_MOVE, estimatedvalue: 5000 });
    // and one to link a competitor to
    const rival = await warm.deps.client.create('opportunity', { name: RIVAL_DEAL, estimatedvalue: 5000 });
    // and a product on it for delete_record to remove
    const line = await warm.deps.client.create('opportunityproduct', {
      opportunityid: { entity: 'opportunity', id: rival.id },
      productdescription: LINE_TO_REMOVE,
      isproductoverridden: true,
      priceperunit: 100,
      quantity: 1,
    });
    removing.set(emu, line.id);
    // and two more for its list
    const pair: string[] = [];
    for (const k of [1, 2])
      pair.push(
        (
          await warm.deps.client.create('opportunityproduct', {
            opportunityid: { entity: 'opportunity', id: rival.id },
            productdescription: `${PAIR_TO_REMOVE} ${k}`,
            isproductoverridden: true,
            priceperunit: 100,
            quantity: 1,
          })
        ).id,
      );
    removingPair.set(emu, pair);
  });
  afterAll(async () => {
    await warm.close();
    await emu.close();
  });

  it.each(TOOLS.map((t) => [t.name ?? t.tool, t] as const))('%s', async (_n, t) => {
    const tag = `R${Math.random().toString(36).slice(2, 10)}`;
    const h = cold ? await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' }, configFile }) : warm;
    emu.addFault(spec(emu, t.method));
    const r = await h.call(t.tool, t.args(tag, emu), { timeout: 60_000 });
    emu.clearFaults();
    if (r.isError) {
      expect(textOf(r)).toMatch(/^Error \(\w+\): .+\nHow to fix: .+/);
      expect(textOf(r)).not.toMatch(/\n\s+at |TypeError|undefined/);
    }
    // a list that removes: what the first call left is said in its answer; the call again leaves none (below)
    if (t.count && !(t.removes && t.every)) {
      const n = t.count(emu, tag);
      if (r.isError) expect(n).toBeLessThanOrEqual(1);
      else expect(n).toBe(t.removes ? 0 : 1);
    }
    // a removal asked again (a model retrying after an error, or unsure it was done) is done, once
    if (t.removes) {
      const again = await h.call(t.tool, t.args(tag, emu));
      expect(again.isError, textOf(again)).toBeFalsy();
      expect(t.count!(emu, tag)).toBe(0);
      if (t.every) expect(t.every(emu, tag)).toBe(true);
    }
    // the same call again (a model retrying after an error) must not create a second record
    // (the POSTs: resolving a case, winning an opportunity)
    if (t.tool.startsWith('create') || t.tool === 'add_note' || t.method === 'POST' || (t.every && !t.removes)) {
      const again = await h.call(t.tool, t.args(tag, emu));
      expect(again.isError, textOf(again)).toBeFalsy();
      expect(t.count!(emu, tag)).toBe(1);
      if (t.every) expect(t.every(emu, tag)).toBe(true);
    }
    if (cold) await h.close();
  });
});
