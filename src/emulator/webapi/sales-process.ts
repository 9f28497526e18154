import type { Schema } from '../schema/index.js';
import { LEAD_PROCESS, PROCESSES, type ProcessDef, SALES_PROCESS, stageOrder } from '../seed/sales-process.js';
import { isLookupRef, type Row, type Store } from '../store/store.js';
import type { QueryEnv } from './env.js';
import { DataverseError, notFound } from './errors.js';
import { isoNow } from './values.js';
import type { WriteContext } from './writes.js';

// A record's run of a process (schema/processes.ts): what Dataverse checks when one is created or its stage moved,
// and what moving it does ("Work with business process flows using code").

/** The tables of runs, each its process's own. */
export const RUN_TABLES: ReadonlySet<string> = new Set(PROCESSES.keys());

/** Whether the organisation has the processes (an emulator started on an empty store has none). */
export function hasSalesProcess(ctx: WriteContext): boolean {
  return !!ctx.env.store.table('workflow').get(SALES_PROCESS.id);
}

/** A stage of a process as the emulator checks runs with it: a processstage row's id, name, category and table. */
interface StageOf {
  id: string;
  name: string;
  category: number;
  entity: string;
}

/**
 * A process's stages in their order (the one its definition gives them, which an administrator may have changed
 * by adding a stage), read from the processstage rows the store holds.
 */
function stagesOf(store: Store, process: ProcessDef): StageOf[] {
  const order = stageOrder(store).get(process.id) ?? process.stages.map((s) => s.id);
  const rows = store.table('processstage');
  return order.flatMap((id) => {
    const row = rows.get(id);
    return row
      ? [
          {
            id,
            name: String(row.stagename ?? ''),
            category: Number(row.stagecategory),
            entity: String(row.primaryentitytypecode ?? ''),
          },
        ]
      : [];
  });
}

/**
 * The Pipeline Phase a stage gives its deal: "<its category's place, from 1>-<the category's label>", 1-Qualify to
 * 4-Close for the shipped stages, whose names are their categories'.
 */
function phaseOf(schema: Schema, stage: StageOf): string {
  const def = schema.entity('processstage');
  const label = (def && schema.attribute(def, 'stagecategory'))?.options?.find(
    (o) => o.value === stage.category,
  )?.label;
  return `${stage.category + 1}-${label ?? stage.name}`;
}

/**
 * RetrieveActivePath: the stages of a run's process in their order, as processstage rows ("Retrieves a collection
 * of stages currently in the active path for a business process flow instance"; the emulator's processes do not
 * branch, so the path is all of them). A run that is none of the processes' is answered as a record not found
 * (GUESS: the platform's answer for an unknown ProcessInstanceId is not documented).
 */
export function activePath(env: QueryEnv, instanceId: string): Row[] {
  for (const process of PROCESSES.values()) {
    if (!env.store.table(process.table).get(instanceId)) continue;
    const rows = env.store.table('processstage');
    return stagesOf(env.store, process).map((s) => rows.get(s.id)!);
  }
  throw notFound('businessprocessflowinstance', instanceId);
}

/**
 * The run a new deal starts ("the system applies a business process flow to the new entity record"), made under
 * the deal: the Opportunity Sales Process at its first stage, or, for a deal its lead's qualifying made, the Lead to
 * Opportunity Sales Process at the deal's first stage, Develop, gone through the lead's Qualify (GUESS: the
 * platform carries the lead's run on to the deal that way; here the run is made with the deal, as the emulator's
 * leads run no process of their own). Its table and the body of its create.
 */
export function firstRunOf(ctx: WriteContext, lead?: string): { table: string; body: Record<string, unknown> } {
  const process = lead ? LEAD_PROCESS : SALES_PROCESS;
  const stages = stagesOf(ctx.env.store, process);
  const at = firstDealStage(stages);
  return {
    table: process.table,
    body: {
      name: process.name,
      ...(lead ? { 'leadid@odata.bind': `/leads(${lead})` } : {}),
      'processid@odata.bind': `/workflows(${process.id})`,
      'activestageid@odata.bind': `/processstages(${stages[at]!.id})`,
      traversedpath: stages
        .slice(0, at + 1)
        .map((s) => s.id)
        .join(','),
    },
  };
}

/** Where a deal's run starts: its process's first stage of the deal's (the lead's process begins on the lead). */
const firstDealStage = (stages: StageOf[]) =>
  Math.max(
    stages.findIndex((s) => s.entity === 'opportunity'),
    0,
  );

/** The Pipeline Phase a new deal gets from the first stage of the run it starts. */
export function firstPhase(ctx: WriteContext, lead?: string): string {
  const stages = stagesOf(ctx.env.store, lead ? LEAD_PROCESS : SALES_PROCESS);
  return phaseOf(ctx.env.schema, stages[firstDealStage(stages)]!);
}

// GUESS: the code of the refusals below (0x80040203, InvalidArgument) and their status (400, as other refusals of
// a write); the traversed path's message is the platform's own, as a workflow tool's users reported it
// (demianrasko/Dynamics-365-Workflow-Tools#193).
const refuse = (message: string) => new DataverseError(400, '0x80040203', message);

/**
 * A run created or changed (`row` as it will be; `before` as it was) in `table`: its stage must be one of its
 * process's, its traversed path those stages ending with the active one, and it is Finished only at the last
 * stage. A stage moved starts anew (Active Stage Started On) and the run is finished when it is (Completed On).
 * Returns the deal's new Pipeline Phase when the stage moved to one of the deal's, which the platform writes to the
 * deal (GUESS: fkbase's "automatically populated … to the value of the Stage Category associated with the current
 * Stage" and crmtipoftheday's "the process stage category is captured in the Pipeline Stage field"; one report,
 * blackfincloud 2018, says version 9 stopped doing so; dynamics-mcp writes the phase itself either way).
 */
export function checkRunStage(ctx: WriteContext, table: string, row: Row, before?: Row): string | undefined {
  const process: ProcessDef = PROCESSES.get(table)!;
  if (!row.name) row.name = process.name;
  if (!isLookupRef(row.processid)) row.processid = { id: process.id, entity: 'workflow' };
  if ((row.processid as { id: string }).id !== process.id)
    throw refuse(`The process ${(row.processid as { id: string }).id} is not the ${process.name}.`);
  const stages = stagesOf(ctx.env.store, process);
  if (!isLookupRef(row.activestageid)) row.activestageid = { id: stages[0]!.id, entity: 'processstage' };
  const activeId = (row.activestageid as { id: string }).id;
  const active = stages.find((s) => s.id === activeId);
  if (!active) throw refuse(`The stage ${activeId} is not a stage of the ${process.name}.`);
  const beforeStage = isLookupRef(before?.activestageid) ? before.activestageid.id : undefined;
  const moved = beforeStage !== activeId;
  if (row.traversedpath == null && !before) row.traversedpath = activeId;
  if (moved || row.traversedpath !== before?.traversedpath) {
    const path = String(row.traversedpath ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const stranger = path.find((id) => !stages.some((s) => s.id === id));
    if (stranger) throw refuse(`The stage ${stranger} in the Traversed Path is not a stage of the ${process.name}.`);
    const last = path[path.length - 1] ?? '';
    if (last !== activeId)
      throw refuse(
        `Active Stage ID '${activeId}' does not match last Stage ID in Traversed Path '${last}'. Please contact your system administrator.`,
      );
  }
  const now = isoNow(ctx.env.now);
  const end = stages[stages.length - 1]!;
  if (row.statuscode === 2 && before?.statuscode !== 2) {
    // "to set a process instance status as Finished, which is only possible at the last stage"
    if (active.id !== end.id) throw refuse(`The ${process.name} can be finished only at its last stage, ${end.name}.`);
    if (row.completedon == null || row.completedon === before?.completedon) row.completedon = now;
  }
  if (!moved) return undefined;
  if (row.activestagestartedon == null || row.activestagestartedon === before?.activestagestartedon)
    row.activestagestartedon = now;
  return active.entity === 'opportunity' ? phaseOf(ctx.env.schema, active) : undefined;
}
