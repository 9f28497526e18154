import { z } from 'zod';
import { badInput, DynamicsMcpError } from '../errors.js';
import { resolveTable } from '../policy/check.js';
import { defineTool, type ToolContext } from './define.js';
import { toolArgs } from './support/args.js';
import { childCasesOf } from './support/child-cases.js';
import {
  EACH_RECORD,
  idOrIds,
  MOST_RECORDS,
  NAME_ALONE,
  oneOrEachId,
  oneVersionOneRecord,
  RECORD_ARGS_RENAMED,
} from './support/many-records.js';
import { dealRevenueText, LINE, refuseRemovalFromClosedDeal } from './support/product-line.js';
import { recordIdOf } from './support/record-id.js';
import { entityParam, etagParam, withLookupTable } from './support/schemas.js';
import { compactRow } from './support/shape.js';
import { declinedByUser, refuseIfChanged } from './support/state-change.js';
import { fenceUntrusted } from './support/untrusted.js';

/**
 * Deletes one record, only in a table whose policy entry says "delete": true (the built-in policy: a product on
 * a deal, which sellers remove as often as they add one). The record is read first, for the answer and the
 * audit log to say what it held (an administrator can put it back from that) and for its etag; a product is
 * removed from an open deal only, and the answer says what that did to the deal's value. A DELETE is safe to
 * send again: a retry that finds the record gone found this call's delete done (writes.ts).
 */
/** A delete as the audit log has it */
const DELETE = {
  name: 'delete_record',
  audited: (a: Record<string, unknown>) => ({
    entity: String(a.entity ?? ''),
    id: String(a.id),
    action: 'delete' as const,
  }),
};

export const deleteRecord = defineTool({
  name: 'delete_record',
  title: 'Delete a Dynamics record',
  description:
    'Delete records where the policy allows it (describe_entity lists such tables with delete: true; e.g. a product on a deal, opportunityproduct). It cannot be undone: ask the user first.',
  inputSchema: withLookupTable(
    toolArgs(
      'delete_record',
      {
        entity: entityParam,
        id: idOrIds('delete', 'to delete each').describe(`One record, or up to ${MOST_RECORDS}.`),
        // not described, as for update_record: get_record's etag refuses the delete if the record changed since
        etag: etagParam.optional(),
      },
      {
        renamed: RECORD_ARGS_RENAMED,
        renamedAlone: NAME_ALONE,
        elsewhere: 'It deletes the records named by entity and id; anything else is not read.',
      },
    ).superRefine(oneVersionOneRecord),
  ),
  // one record: what it held; several: each one's outcome (records)
  outputSchema: z.object({
    entity: z.string().optional(),
    id: z.string().optional(),
    deleted: z.boolean().optional(),
    previous: z.record(z.string(), z.unknown()).optional(),
    records: EACH_RECORD.optional(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  writes: true,
  offered: (policy) => policy.deletable().length > 0,
  audited: DELETE.audited,
  run: oneOrEachId('delete', DELETE, deleteOne),
});

/** One record's delete: the whole of delete_record for one id. */
async function deleteOne(args: { entity: string; id: string; etag?: string }, ctx: ToolContext) {
  const logical = await resolveTable(args.entity, ctx.policy, ctx.client.metadata);
  // refused before a name is looked up: a table the policy keeps is not searched for the record either
  ctx.policy.assertDeletable(logical);
  const id = await recordIdOf(ctx, logical, args.id);
  const model = await ctx.client.checker.entity(logical);
  const gone = {
    structured: { entity: logical, id, deleted: false },
    text: `There is no ${logical} ${id} to delete: it was deleted already, or the id is not one of its records. Nothing was changed.`,
  };
  // what it holds, as get_record shows it: the answer and the audit say what was deleted
  const read = await ctx.client.get(logical, id, { signal: ctx.signal }).catch((err: unknown) => {
    if (err instanceof DynamicsMcpError && err.kind === 'not_found') return undefined;
    throw err;
  });
  if (!read) return gone;
  refuseIfChanged(args.etag, read.row, logical, id);
  const previous = compactRow(model, read.row, undefined, (e, c) => ctx.policy.canRead(e, c));
  const deal = logical === LINE.table ? read.row[`_${LINE.parent}_value`] : undefined;
  if (logical === LINE.table) await refuseRemovalFromClosedDeal(ctx, deal);
  const name = model.primaryNameAttribute ? previous[model.primaryNameAttribute] : undefined;
  const which = typeof name === 'string' ? `"${name}" (${id})` : id;
  if (logical === 'incident') await refuseCaseWithChildren(ctx, which, id);
  const declined = await declinedByUser(
    ctx,
    ctx.policy.confirmWrites(logical),
    () => `Delete ${logical} ${which}? This cannot be undone.`,
    { tool: 'delete_record', entity: logical, id, action: 'delete', notDone: 'not deleted' },
  );
  if (declined)
    return {
      structured: { entity: logical, id, deleted: false, previous },
      text: `Not deleted: the user chose "${declined}".`,
    };
  // the version just read, or the caller's: someone else's change since is not deleted unseen
  const version = read.row['@odata.etag'];
  const { deleted } = await ctx.client.delete(logical, id, {
    etag: args.etag ?? (model.optimisticConcurrency && typeof version === 'string' ? version : undefined),
    signal: ctx.signal,
  });
  if (!deleted) return gone;
  await ctx.audit.record({
    tool: 'delete_record',
    entity: logical,
    id,
    action: 'delete',
    columns: {},
    previous,
    caller: ctx.caller,
  });
  const revenue = deal === undefined ? '' : await dealRevenueText(ctx, deal);
  const structured = { entity: logical, id, deleted: true, previous };
  // what it held is record text, fenced as every read is: a deleted note is no more trusted than a read one
  return {
    structured,
    text: fenceUntrusted(`Deleted ${logical} ${which}.${revenue} What it held:`, structured),
  };
}

/**
 * A parent case's child cases are deleted with it (Incident reference: incident_parent_incident cascades on
 * delete): a delete the user asked of one case would take others unseen. Refused, naming them, with the two ways
 * on: keep them (detach them first) or delete them on purpose first.
 */
async function refuseCaseWithChildren(ctx: ToolContext, which: string, id: string): Promise<void> {
  const children = await childCasesOf(ctx, id, 'all');
  if (!children.length) return;
  const n = children.length;
  throw badInput(
    `Case ${which} has ${n} child case${n === 1 ? '' : 's'} (${children.map((c) => c.name).join(', ')}), which Dynamics deletes with it. Nothing was deleted.`,
    `To keep ${n === 1 ? 'it' : 'them'}, detach ${n === 1 ? 'it' : 'each'} first (update_record with {"parentcaseid": null}); if ${n === 1 ? 'it is' : 'they are'} to go too, delete ${n === 1 ? 'it' : 'them'} first (delete_record with ${n === 1 ? 'its id' : 'their ids'}); then delete this case.`,
  );
}
