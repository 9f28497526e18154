import { z } from 'zod';
import { aTable, badInput, DynamicsMcpError } from '../errors.js';
import { defineTool, type ToolContext } from './define.js';
import { toolArgs } from './support/args.js';
import { nameBasedId, sameDaySince, utcDay } from './support/dedupe.js';
import { masterColumn, mergedOf, orList, tableNoun } from './support/lookup-names.js';
import { NAME_ALONE } from './support/many-records.js';
import { recordAnywhere, recordIdOf } from './support/record-id.js';
import { ANY_TABLE, EMPTY, entityParam, idParam, withLookupTable } from './support/schemas.js';
import { recordUrl } from './support/shape.js';

/** Dataverse's limits for a note's columns (Note (Annotation) table: subject 500, notetext 100,000). */
const TITLE_MAX = 500;
const TEXT_MAX = 100_000;

export const addNote = defineTool({
  name: 'add_note',
  title: 'Add a note to a record',
  description:
    'Attach a note (a call summary, a next step) to an account, contact, lead, opportunity or case; the same note on a record is added once a day. ' +
    'Read notes with query_entities on annotation by objectid.',
  inputSchema: withLookupTable(
    toolArgs(
      'add_note',
      {
        entity: entityParam.describe(ANY_TABLE).optional(),
        id: idParam,
        text: z.string().trim().min(1, EMPTY).max(TEXT_MAX).describe('The note.'),
        title: z.string().trim().min(1, EMPTY).max(TITLE_MAX).optional(),
      },
      {
        renamed: {
          note: 'text',
          notetext: 'text',
          body: 'text',
          description: 'text',
          subject: 'title',
          recordId: 'id',
          regardingId: 'id',
          objectid: 'id',
          // what a note is about, as a task's Regarding says it
          regarding: 'id',
          regardingobjectid: 'id',
          record: 'id',
          // the record's whole name, which id takes (where no id is given)
          name: 'id',
          fullname: 'id',
          table: 'entity',
        },
        renamedAlone: NAME_ALONE,
      },
    ),
  ),
  outputSchema: z.object({
    id: z.string(),
    existing: z.boolean(),
    record: z.object({ entity: z.string(), id: z.string(), name: z.string() }),
    url: z.string(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  writes: true,
  audited: (a, found) => ({
    entity: 'annotation',
    action: 'create',
    columns: { objectid: { entity: a.entity ?? found.recordTable, id: a.id } },
  }),
  async run(args, ctx) {
    // notes the policy does not let be written: said before the record is looked for, nothing asked of Dynamics
    ctx.policy.assertWritable('annotation', [], 'Adding a note');
    // the record must exist and be readable: a note on a missing record is a clear error, not a dangling one
    // without a table, the record's own ("note on Nina Castillo"), found as get_record finds it
    const found = args.entity ? undefined : await recordAnywhere(ctx, args.id);
    const target = await ctx.client.checker.entity(found?.entity ?? args.entity!);
    await refuseUnnotable(ctx, target.logicalName);
    const named = found?.id ?? (await recordIdOf(ctx, target.logicalName, args.id));
    const { row } = await ctx.client.get(target.logicalName, named, {
      select: [
        ...(ctx.policy.canRead(target.logicalName, target.primaryNameAttribute) ? [target.primaryNameAttribute] : []),
        ...masterColumn(ctx, target),
      ],
      signal: ctx.signal,
    });
    const namedAs = String(row[target.primaryNameAttribute] ?? named);
    // a record merged into another (the duplicate of an account, a case reported twice): its notes are the one
    // kept's, where the merge moved those it had and where people read them
    const merged = mergedOf(row);
    const recordId = merged?.id ?? named;
    const record = { entity: target.logicalName, id: recordId, name: merged ? (merged.name ?? merged.id) : namedAs };
    const mergedNote = merged ? ` ("${namedAs}" was merged into it)` : '';
    // the note's id comes from what it says, where and when: the same call sent again (a client's retry, a
    // model repeating itself) writes the same record id, which Dataverse creates once (If-None-Match: *)
    // (as a JSON list: a title ending in ':' and a text starting with one are not the same note)
    const idOn = (day: string) =>
      nameBasedId(
        ctx.config.dynamics.url,
        JSON.stringify(['note', record.entity, recordId, day, args.title ?? null, args.text]),
      );
    const now = Date.now();
    let id = idOn(utcDay(now));
    const values = {
      ...(args.title ? { subject: args.title } : {}),
      notetext: args.text,
      objectid: { entity: record.entity, id: recordId },
    };
    // just after midnight (UTC), the same note added just before it is the one a retried call made
    const earlier = utcDay(sameDaySince(now));
    const before = earlier !== utcDay(now) ? idOn(earlier) : undefined;
    let existing = !!before && (await noteExists(ctx, before));
    if (existing) id = before!;
    else
      try {
        await ctx.client.create('annotation', values, { id, signal: ctx.signal });
      } catch (err) {
        if (!(err instanceof DynamicsMcpError) || err.kind !== 'duplicate') throw err;
        existing = true;
      }
    await ctx.audit.record({
      tool: 'add_note',
      entity: 'annotation',
      id,
      action: 'create',
      columns: values,
      caller: ctx.caller,
      ...(existing ? { outcome: 'the same note was already on the record' } : {}),
    });
    // the record's address: Dynamics shows a note in its record's timeline, not as a page of its own
    const structured = { id, existing, record, url: recordUrl(ctx.config.dynamics.url, record.entity, recordId) };
    return {
      structured,
      text: existing
        ? `This note was already on ${target.displayName.toLowerCase()} ${record.name}${mergedNote}; it was not added twice.`
        : // a name ending in a full stop ("Contoso S.A.") ends the sentence itself
          `Added a note to ${target.displayName.toLowerCase()} ${record.name}${mergedNote}${mergedNote || !String(record.name).endsWith('.') ? '.' : ''}`,
    };
  },
});

/** Whether the note with this id is there (read through the policy: a policy that hides notes says no). */
async function noteExists(ctx: ToolContext, id: string): Promise<boolean> {
  if (!ctx.policy.canRead('annotation', 'annotationid')) return false;
  try {
    await ctx.client.get('annotation', id, { select: ['annotationid'], signal: ctx.signal });
    return true;
  } catch (err) {
    if (err instanceof DynamicsMcpError && err.kind === 'not_found') return false;
    throw err;
  }
}

/**
 * A table a note cannot be on (its objectid's targets, from metadata) is refused before the record is looked
 * for: "a note on the follow-up task" is answered with where notes go, not first with whether the task exists.
 */
async function refuseUnnotable(ctx: ToolContext, table: string): Promise<void> {
  const targets = (await ctx.client.metadata.entity('annotation')).columns.get('objectid')?.targets;
  if (!targets?.length || targets.includes(table)) return;
  const activity = (await ctx.client.metadata.entity(table)).columns.has('regardingobjectid');
  throw badInput(
    `A note attaches to ${aTable(orList(targets))} record, not to ${aTable(tableNoun(table))}.`,
    activity
      ? `Add it to the record the ${tableNoun(table)} is about (its regardingobjectid), or put the text in the ${tableNoun(table)}'s description with update_record.`
      : 'Add it to one of those records.',
  );
}
