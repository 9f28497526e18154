import { pipelinePhase, SALES_PROCESS } from '../seed/sales-process.js';
import { isLookupRef, type Row } from '../store/store.js';
import { DataverseError } from './errors.js';
import { isoNow } from './values.js';
import type { WriteContext } from './writes.js';

// A deal's run of the Opportunity Sales Process (schema/processes.ts): what Dataverse checks when one is created or
// its stage moved, and what moving it does ("Work with business process flows using code").

const PROCESS_NAME = SALES_PROCESS.name;

/** Whether the organisation has the process (an emulator started on an empty store has none). */
export function hasSalesProcess(ctx: WriteContext): boolean {
  return !!ctx.env.store.table('workflow').get(SALES_PROCESS.id);
}

/**
 * The run a new deal starts at the process's first stage ("the system applies a business process flow to the new
 * entity record"): the body of its create, made under the deal.
 */
export function firstRunOf(): Record<string, unknown> {
  const first = SALES_PROCESS.stages[0];
  return {
    name: PROCESS_NAME,
    'processid@odata.bind': `/workflows(${SALES_PROCESS.id})`,
    'activestageid@odata.bind': `/processstages(${first.id})`,
    traversedpath: first.id,
  };
}

/** The Pipeline Phase a new deal gets from the first stage of the run it starts. */
export const FIRST_PHASE = pipelinePhase(SALES_PROCESS.stages[0]);

// GUESS: the code of the refusals below (0x80040203, InvalidArgument) and their status (400, as other refusals of
// a write); the traversed path's message is the platform's own, as a workflow tool's users reported it
// (demianrasko/Dynamics-365-Workflow-Tools#193).
const refuse = (message: string) => new DataverseError(400, '0x80040203', message);

/**
 * A run created or changed (`row` as it will be; `before` as it was): its stage must be one of its process's, its
 * traversed path those stages ending with the active one, and it is Finished only at the last stage. A stage
 * moved starts anew (Active Stage Started On) and the run is finished when it is (Completed On). Returns the
 * deal's new Pipeline Phase when the stage moved, which the platform writes to the deal (GUESS: fkbase's
 * "automatically populated … to the value of the Stage Category associated with the current Stage" and
 * crmtipoftheday's "the process stage category is captured in the Pipeline Stage field"; one report, blackfincloud
 * 2018, says version 9 stopped doing so; dynamics-mcp writes the phase itself either way).
 */
export function checkRunStage(ctx: WriteContext, row: Row, before?: Row): string | undefined {
  if (!row.name) row.name = PROCESS_NAME;
  if (!isLookupRef(row.processid)) row.processid = { id: SALES_PROCESS.id, entity: 'workflow' };
  if ((row.processid as { id: string }).id !== SALES_PROCESS.id)
    throw refuse(`The process ${(row.processid as { id: string }).id} is not the ${PROCESS_NAME}.`);
  const stages = SALES_PROCESS.stages;
  if (!isLookupRef(row.activestageid)) row.activestageid = { id: stages[0].id, entity: 'processstage' };
  const activeId = (row.activestageid as { id: string }).id;
  const active = stages.find((s) => s.id === activeId);
  if (!active) throw refuse(`The stage ${activeId} is not a stage of the ${PROCESS_NAME}.`);
  const beforeStage = isLookupRef(before?.activestageid) ? before.activestageid.id : undefined;
  const moved = beforeStage !== activeId;
  if (row.traversedpath == null && !before) row.traversedpath = activeId;
  if (moved || row.traversedpath !== before?.traversedpath) {
    const path = String(row.traversedpath ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const stranger = path.find((id) => !stages.some((s) => s.id === id));
    if (stranger) throw refuse(`The stage ${stranger} in the Traversed Path is not a stage of the ${PROCESS_NAME}.`);
    const last = path[path.length - 1] ?? '';
    if (last !== activeId)
      throw refuse(
        `Active Stage ID '${activeId}' does not match last Stage ID in Traversed Path '${last}'. Please contact your system administrator.`,
      );
  }
  const now = isoNow(ctx.env.now);
  if (row.statuscode === 2 && before?.statuscode !== 2) {
    // "to set a process instance status as Finished, which is only possible at the last stage"
    if (active.id !== stages[stages.length - 1]!.id)
      throw refuse(`The ${PROCESS_NAME} can be finished only at its last stage, ${stages[stages.length - 1]!.name}.`);
    if (row.completedon == null || row.completedon === before?.completedon) row.completedon = now;
  }
  if (!moved) return undefined;
  if (before && (row.activestagestartedon == null || row.activestagestartedon === before.activestagestartedon))
    row.activestagestartedon = now;
  if (!before && row.activestagestartedon == null) row.activestagestartedon = now;
  return pipelinePhase(active);
}
