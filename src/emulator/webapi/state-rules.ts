import type { EntityDef } from '../schema/types.js';
import type { Row } from '../store/store.js';
import { DataverseError } from './errors.js';

/** States in which a record is read-only until it is reactivated (reference §6.2, statecode descriptions). */
const READ_ONLY: Readonly<Record<string, readonly number[]>> = {
  // "Resolved and canceled cases are read-only and can't be edited unless they are reactivated" (Incident statecode)
  incident: [1, 2],
  opportunity: [1, 2],
  lead: [1],
  // a completed or canceled task (task statecode: "Completed and canceled tasks are read-only")
  task: [1, 2],
  // "Completed and canceled phone calls are read-only and can't be edited"
  phonecall: [1, 2],
  // "Completed and canceled email is read-only and can't be edited"
  email: [1, 2],
  // "Completed and canceled appointments are read-only and can't be edited"
  appointment: [1, 2],
  // "Inactive queue records are read-only and can't be edited unless they are reactivated" (QueueItem statecode)
  queueitem: [1],
  // "Published articles are available externally … but can't be edited. … Archived and discarded articles
  // aren't available externally and can't be edited" (KnowledgeArticle statecode)
  knowledgearticle: [3, 5, 6],
};

/** States an update cannot set: Dynamics' action for each does it, with the activity that records why. */
const BY_ACTION: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  incident: { 1: 'CloseIncident' },
  opportunity: { 1: 'WinOpportunity', 2: 'LoseOpportunity' },
};

/**
 * What an update may do to a record's state. Resolved cases, won or lost opportunities and qualified leads are
 * read-only until reactivated (statecode back to 0: reference §6.2); a case is resolved, an opportunity won or
 * lost, only by its action; a lead goes between Qualified and Disqualified through Open (the last two as Mark
 * Carrington observes Dataverse, "MSDyn365 Internals: Restricted state transitions", 2023). The refusals'
 * wording is the emulator's own: Dataverse's is not in the reference.
 */
export function checkStateChange(entity: EntityDef, existing: Row, changes: Row): void {
  const state = entity.attributes.find((a) => a.logicalName === 'statecode');
  if (!state) return;
  const label = (v: unknown) => state.options?.find((o) => o.value === v)?.label ?? String(v);
  const from = (existing.statecode ?? 0) as number;
  const to = ('statecode' in changes ? changes.statecode : from) as number;
  const refuse = (message: string) => new DataverseError(400, '0x80040203', message);
  if (to !== from) {
    const action = BY_ACTION[entity.logicalName]?.[to];
    if (action)
      throw refuse(`The ${entity.logicalName} cannot be set to ${label(to)} by an update; use the ${action} action.`);
    if (entity.logicalName === 'lead' && from !== 0 && to !== 0)
      throw refuse(`A lead goes from ${label(from)} to ${label(to)} through Open: reactivate it first.`);
    return;
  }
  if (READ_ONLY[entity.logicalName]?.includes(from) && Object.keys(changes).length)
    throw refuse(
      `The ${entity.logicalName} is ${label(from)} and cannot be edited; reactivate it (statecode 0) first.`,
    );
}
