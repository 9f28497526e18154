import type { Row, Store } from '../store/store.js';

/**
 * The Opportunity Sales Process as Dynamics 365 Sales ships it: its workflow id and its four stages' ids are the
 * ones every organisation has (Microsoft's getActivePath sample prints 6b9ce798… as stage 0 and bb7e830a… as stage
 * 3 on the Opportunity form; scripts that move deals name 650e06b4… and d3ca8878… between them), so a contract test
 * written here runs unchanged against a real organisation. A stage's category is what the deal's Pipeline Phase
 * (stepname) is made of: "<the category's place, from 1>-<its label>", 1-Qualify to 4-Close.
 */
export const SALES_PROCESS = {
  id: '3e8ebee6-a2bc-4451-9c5f-b146b085413a',
  name: 'Opportunity Sales Process',
  stages: [
    { id: '6b9ce798-221a-4260-90b2-2a95ed51a5bc', name: 'Qualify', category: 0 },
    { id: '650e06b4-789b-46c1-822b-0da76bedb1ed', name: 'Develop', category: 1 },
    { id: 'd3ca8878-8d7b-47b9-852d-fcd838790cfd', name: 'Propose', category: 2 },
    { id: 'bb7e830a-61bd-441b-b1fd-6bb104ffa027', name: 'Close', category: 3 },
  ],
} as const;

/** The Pipeline Phase a stage gives its deal ("1-Qualify"); its category's label is the stage's name here. */
export function pipelinePhase(stage: { name: string; category: number }): string {
  return `${stage.category + 1}-${stage.name}`;
}

/**
 * The process, its stages, and each deal's run of it (after everything else, drawing nothing: nothing seeded
 * before moves). An open deal is at the stage of its Sales Stage, having gone through the ones before it; a
 * closed one at Close (GUESS: its run left Active, as nothing documents what closing a deal does to it). Each run
 * started with its deal and its stage was last moved when the deal was last changed. Returns how many records
 * were made.
 */
export function runSalesProcess(store: Store, adminId: string): number {
  const at = '2020-01-01T00:00:00Z';
  const admin = Object.freeze({ id: adminId, entity: 'systemuser' });
  const system = { createdon: at, modifiedon: at, createdby: admin, modifiedby: admin };
  const process = Object.freeze({ id: SALES_PROCESS.id, entity: 'workflow' });
  store.table('workflow').put(SALES_PROCESS.id, {
    workflowid: SALES_PROCESS.id,
    name: SALES_PROCESS.name,
    uniquename: 'opportunitysalesprocess',
    category: 4,
    primaryentity: 'opportunity',
    statecode: 1,
    statuscode: 2,
    ownerid: admin,
    owninguser: admin,
    owningteam: null,
    versionnumber: store.nextVersion(),
    ...system,
  });
  for (const s of SALES_PROCESS.stages)
    store.table('processstage').put(s.id, {
      processstageid: s.id,
      stagename: s.name,
      stagecategory: s.category,
      primaryentitytypecode: 'opportunity',
      processid: process,
      versionnumber: store.nextVersion(),
      ...system,
    });
  // one lookup object and one path text per stage, shared by every run at it (50,000 deals at the bench's scale)
  const stages = SALES_PROCESS.stages.map((s, i) => ({
    ref: Object.freeze({ id: s.id, entity: 'processstage' }),
    path: SALES_PROCESS.stages
      .slice(0, i + 1)
      .map((t) => t.id)
      .join(','),
  }));
  const runs = store.table('opportunitysalesprocess');
  let count = 1 + stages.length;
  for (const [dealId, deal] of store.table('opportunity').rows) {
    const place = deal.statecode === 0 && typeof deal.salesstage === 'number' ? deal.salesstage : stages.length - 1;
    const stage = stages[Math.min(Math.max(place, 0), stages.length - 1)]!;
    const id = store.ids.next('0');
    const run: Row = {
      businessprocessflowinstanceid: id,
      name: SALES_PROCESS.name,
      opportunityid: Object.freeze({ id: dealId, entity: 'opportunity' }),
      processid: process,
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
    runs.put(id, run);
    count++;
  }
  return count;
}
