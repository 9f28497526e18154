import type { Policy } from '../policy/policy.js';
import { addNote } from './add-note.js';
import { aggregateRecords } from './aggregate-records.js';
import { createCase } from './create-case.js';
import { createLead } from './create-lead.js';
import { createRecord } from './create-record.js';
import type { ToolDefinition } from './define.js';
import { deleteRecord } from './delete-record.js';
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
  deleteRecord,
] as ToolDefinition[];

/**
 * The tools a server offers: write tools are left out entirely in read-only mode (and refused by the client
 * too), and a tool the policy gives nothing to do (delete_record, where no table may be deleted from) is not
 * listed either.
 */
export function toolsFor(readOnly: boolean, policy: Policy): ToolDefinition[] {
  return ALL_TOOLS.filter((t) => (!readOnly || !t.writes) && (t.offered?.(policy) ?? true));
}
