import { addNote } from './add-note.js';
import { aggregateRecords } from './aggregate-records.js';
import { createCase } from './create-case.js';
import { createLead } from './create-lead.js';
import { createRecord } from './create-record.js';
import type { ToolDefinition } from './define.js';
import { describeEntity } from './describe-entity.js';
import { getRecord } from './get-record.js';
import { pipelineSummary } from './pipeline-summary.js';
import { queryEntities } from './query-entities.js';
import { resolveCase } from './resolve-case.js';
import { updateRecord } from './update-record.js';

/** Every tool, in the order clients list them. */
export const ALL_TOOLS: ToolDefinition[] = [
  describeEntity,
  queryEntities,
  aggregateRecords,
  getRecord,
  pipelineSummary,
  createLead,
  createCase,
  resolveCase,
  updateRecord,
  createRecord,
  addNote,
] as ToolDefinition[];

/** The tools a server offers: write tools are left out entirely in read-only mode (and refused by the client too). */
export function toolsFor(readOnly: boolean): ToolDefinition[] {
  return ALL_TOOLS.filter((t) => !readOnly || !t.writes);
}
