import { randomUUID } from 'node:crypto';
import { isLookupRef, type Row, type Store } from '../store/store.js';

/** A process a deal's bar runs, as Dynamics 365 Sales ships it: its workflow id, name and stages in order. */
export interface ProcessDef {
  id: string;
  name: string;
  /** its table of runs (the process's own table: opportunitysalesprocess …) */
  table: string;
  stages: readonly { id: string; name: string; category: number; entity: string }[];
}

/**
 * The Opportunity Sales Process as Dynamics 365 Sales ships it: its workflow id and its four stages' ids are the
 * ones every organisation has (Microsoft's getActivePath sample prints 6b9ce798… as stage 0 and bb7e830a… as stage
 * 3 on the Opportunity form; scripts that move deals name 650e06b4… and d3ca8878… between them), so a contract test
 * written here runs unchanged against a real organisation. A stage's category is what the deal's Pipeline Phase
 * (stepname) is made of: "<the category's place, from 1>-<its label>", 1-Qualify to 4-Close.
 */
export const SALES_PROCESS: ProcessDef = {
  id: '3e8ebee6-a2bc-4451-9c5f-b146b085413a',
  name: 'Opportunity Sales Process',
  table: 'opportunitysalesprocess',
  stages: [
    { id: '6b9ce798-221a-4260-90b2-2a95ed51a5bc', name: 'Qualify', category: 0, entity: 'opportunity' },
    { id: '650e06b4-789b-46c1-822b-0da76bedb1ed', name: 'Develop', category: 1, entity: 'opportunity' },
    { id: 'd3ca8878-8d7b-47b9-852d-fcd838790cfd', name: 'Propose', category: 2, entity: 'opportunity' },
    { id: 'bb7e830a-61bd-441b-b1fd-6bb104ffa027', name: 'Close', category: 3, entity: 'opportunity' },
  ],
};

/**
 * The Lead to Opportunity Sales Process, a lead's bar that goes on on the deal its qualifying makes: Qualify is the
 * lead's stage, Develop to Close the deal's (Microsoft's get_lead_bpf tool: "Qualify belongs to the lead, while
 * Develop and later stages belong to the opportunity created when the lead is qualified"). The ids are the shipped
 * ones (formContext's getEnabledProcesses sample names 919e14d1…; Sales Hub's own requests move a deal through
 * f99b4d48…, bfc9108c…, 3a275c22… and 7f5247fe…).
 */
export const LEAD_PROCESS: ProcessDef = {
  id: '919e14d1-6489-4852-abd0-a63a6ecaac5d',
  name: 'Lead to Opportunity Sales Process',
  table: 'leadtoopportunitysalesprocess',
  stages: [
    { id: 'f99b4d48-7aad-456e-864a-8e7d543f7495', name: 'Qualify', category: 0, entity: 'lead' },
    { id: 'bfc9108c-8389-406b-9166-2c3298a2e41f', name: 'Develop', category: 1, entity: 'opportunity' },
    { id: '3a275c22-fc45-4e89-97fc-41e5ec578743', name: 'Propose', category: 2, entity: 'opportunity' },
    { id: '7f5247fe-cfc3-42bc-aa77-b1d836d9b7c0', name: 'Close', category: 3, entity: 'opportunity' },
  ],
};

/** The processes the emulator has, by their table of runs. */
export const PROCESSES: ReadonlyMap<string, ProcessDef> = new Map(
  [SALES_PROCESS, LEAD_PROCESS].map((p) => [p.table, p]),
);

/**
 * A stage added to a process, as an administrator adds one in the designer and activates the process again:
 * placed after the stage `after`, of the category given. Runs keep their stage and path. Returns its id.
 */
export function addProcessStage(
  store: Store,
  stage: { processid: string; after: string; stagename: string; stagecategory: number; processstageid?: string },
): string {
  const process = [...PROCESSES.values()].find((p) => p.id === stage.processid.toLowerCase());
  const order = process && stageOrder(store).get(process.id);
  if (!process || !order) throw new Error(`No business process flow ${stage.processid} here.`);
  const at = order.indexOf(stage.after.toLowerCase());
  if (at < 0) throw new Error(`The ${process.name} has no stage ${stage.after}.`);
  const id = (stage.processstageid ?? randomUUID()).toLowerCase();
  const before = store.table('processstage').get(order[at]!)!;
  store.table('processstage').put(id, {
    ...before,
    processstageid: id,
    stagename: stage.stagename,
    stagecategory: stage.stagecategory,
    versionnumber: store.nextVersion(),
  });
  order.splice(at + 1, 0, id);
  return id;
}

// A process's stages are in the order its definition gives them (the designer's, kept with the workflow): a
// processstage row has no column for its place, which RetrieveActivePath answers with. The emulator keeps that
// order beside each store's rows, by the process's id.
const stageOrders = new WeakMap<Store, Map<string, string[]>>();

/** The order of each process's stages in `store`, by the process's workflow id. */
export function stageOrder(store: Store): Map<string, string[]> {
  const orders = stageOrders.get(store) ?? new Map<string, string[]>();
  stageOrders.set(store, orders);
  return orders;
}

/**
 * The processes, their stages, and each deal's run (after everything else, drawing nothing: nothing seeded
 * before moves): of its lead's Lead to Opportunity Sales Process for a deal a lead's qualifying made, else of the
 * Opportunity Sales Process. An open deal is at the stage of its Sales Stage, having gone through the ones before it; a
 * closed one at Close (GUESS: its run left Active, as nothing documents what closing a deal does to it). Each run
 * started with its deal and its stage was last moved when the deal was last changed. Returns how many records
 * were made.
 */
export function runSalesProcess(store: Store, adminId: string): number {
  const at = '2020-01-01T00:00:00Z';
  const admin = Object.freeze({ id: adminId, entity: 'systemuser' });
  const system = { createdon: at, modifiedon: at, createdby: admin, modifiedby: admin };
  let count = 0;
  for (const p of PROCESSES.values()) {
    const ref = Object.freeze({ id: p.id, entity: 'workflow' });
    store.table('workflow').put(p.id, {
      workflowid: p.id,
      name: p.name,
      uniquename: p.table,
      category: 4,
      primaryentity: p.stages[0]!.entity,
      statecode: 1,
      statuscode: 2,
      ownerid: admin,
      owninguser: admin,
      owningteam: null,
      versionnumber: store.nextVersion(),
      ...system,
    });
    stageOrder(store).set(
      p.id,
      p.stages.map((s) => s.id),
    );
    for (const s of p.stages)
      store.table('processstage').put(s.id, {
        processstageid: s.id,
        stagename: s.name,
        stagecategory: s.category,
        primaryentitytypecode: s.entity,
        processid: ref,
        versionnumber: store.nextVersion(),
        ...system,
      });
    count += 1 + p.stages.length;
  }
  // one lookup object and one path text per stage, shared by every run at it (50,000 deals at the bench's scale)
  const stagesOf = (p: ProcessDef) =>
    p.stages.map((s, i) => ({
      ref: Object.freeze({ id: s.id, entity: 'processstage' }),
      path: p.stages
        .slice(0, i + 1)
        .map((t) => t.id)
        .join(','),
    }));
  const of = (def: ProcessDef) => ({
    def,
    process: Object.freeze({ id: def.id, entity: 'workflow' }),
    stages: stagesOf(def),
  });
  const ofDeals = of(SALES_PROCESS);
  const ofLeads = of(LEAD_PROCESS);
  for (const [dealId, deal] of store.table('opportunity').rows) {
    // a deal a lead's qualifying made goes on with the lead's process, from its own first stage, Develop
    const lead = isLookupRef(deal.originatingleadid) ? deal.originatingleadid : undefined;
    const { process: processRef, stages, def } = lead ? ofLeads : ofDeals;
    const place = deal.statecode === 0 && typeof deal.salesstage === 'number' ? deal.salesstage : stages.length - 1;
    const stage = stages[Math.min(Math.max(place, lead ? 1 : 0), stages.length - 1)]!;
    const id = store.ids.next('0');
    const run: Row = {
      businessprocessflowinstanceid: id,
      name: def.name,
      ...(lead ? { leadid: lead } : {}),
      opportunityid: Object.freeze({ id: dealId, entity: 'opportunity' }),
      processid: processRef,
      activestageid: stage.ref,
      activestagestartedon: deal.modifiedon ?? null,
      traversedpath: stage.path,
      completedon: null,
      statecode: 0,
      statuscode: 1,
      createdon: deal.createdon ?? null,
      modifiedon: deal.modifiedon ?? null,
      createdby: deal.createdby ?? null,
      modifiedby: deal.modifiedby ?? null,
      versionnumber: store.nextVersion(),
    };
    store.table(def.table).put(id, run);
    count++;
  }
  return count;
}
