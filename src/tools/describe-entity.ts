import { z } from 'zod';
import { isFileBody } from '../dynamics/file-columns.js';
import { linkableNavs } from '../dynamics/links.js';
import { isDuration, isLookupType } from '../policy/model.js';
import type { Policy } from '../policy/policy.js';
import { defineTool, type ToolContext } from './define.js';
import { toolArgs } from './support/args.js';
import { mergedWhileOpen, mergedWord } from './support/merge-records.js';
import { EMPTY } from './support/schemas.js';

const columnSchema = z.object({
  name: z.string(),
  label: z.string(),
  type: z.string(),
  read: z.boolean(),
  write: z.boolean(),
  required: z.string().optional(),
  maxLength: z.number().optional(),
  behavior: z.string().optional(),
  options: z.array(z.object({ value: z.number(), label: z.string() })).optional(),
  targets: z.array(z.string()).optional(),
});

export const describeEntitySchema = z.object({
  entities: z
    .array(
      z.object({
        name: z.string(),
        entitySet: z.string(),
        label: z.string(),
        write: z.boolean(),
        create: z.boolean().optional(),
        delete: z.boolean().optional(),
      }),
    )
    .optional(),
  entity: z
    .object({
      name: z.string(),
      entitySet: z.string(),
      label: z.string(),
      primaryId: z.string(),
      primaryName: z.string(),
      columns: z.array(columnSchema),
      relationships: z.array(z.object({ name: z.string(), target: z.string(), many: z.boolean() })),
      maxRows: z.number(),
    })
    .optional(),
});

type Described = z.infer<typeof describeEntitySchema>;

/**
 * What the write tools may do with a table's records beyond changing them, said with its columns: the model that
 * describes one table (a deal's product lines) learns there whether create_record adds one and delete_record
 * removes one, as the list of tables says it.
 */
function madeOrDeleted(policy: Policy, table: string): string {
  const tools = [
    policy.canCreate(table) ? 'create_record makes its records' : '',
    policy.canDelete(table) ? 'delete_record deletes them' : '',
  ].filter(Boolean);
  return tools.length ? ` ${tools.join('; ')}.` : '';
}

/** The tables the policy allows, or one table's usable columns (shared with the metadata resources). */
export async function describe(ctx: Pick<ToolContext, 'client' | 'policy'>, entity?: string): Promise<Described> {
  const { client, policy } = ctx;
  if (!entity) {
    const all = await client.metadata.entities();
    const allowed = new Set(policy.entities());
    return {
      entities: all
        .filter((e) => allowed.has(e.logicalName))
        .map((e) => ({
          name: e.logicalName,
          entitySet: e.entitySetName,
          label: e.displayName,
          write: !policy.readOnly && (policy.rule(e.logicalName)?.write.size ?? 0) > 0,
          // the tables create_record makes records in
          ...(policy.canCreate(e.logicalName) ? { create: true } : {}),
          // the tables delete_record deletes records in
          ...(policy.canDelete(e.logicalName) ? { delete: true } : {}),
        })),
    };
  }
  const model = await client.checker.entity(entity);
  const columns = [...model.columns.values()]
    .filter(
      (c) => policy.canRead(model.logicalName, c.logicalName) || policy.canWrite(model.logicalName, c.logicalName),
    )
    .map((c) => ({
      name: c.logicalName,
      label: c.label,
      type: c.type,
      read: policy.canRead(model.logicalName, c.logicalName),
      // Master ID is set by Dynamics' Merge alone, which update_record writing it does (merge-records.ts)
      write:
        policy.canWrite(model.logicalName, c.logicalName) &&
        (c.validForCreate || c.validForUpdate || c.logicalName === 'masterid'),
      ...(c.requiredLevel !== 'None' ? { required: c.requiredLevel } : {}),
      ...(c.maxLength ? { maxLength: c.maxLength } : {}),
      // Dataverse's DateTimeBehavior where it is not the usual UserLocal: a date-only column takes a day and no
      // time; a time-zone-independent one stores the wall time written, so a local time is not turned into UTC
      ...(c.dateOnly ? { behavior: 'DateOnly' } : c.timeZoneIndependent ? { behavior: 'TimeZoneIndependent' } : {}),
      // a whole number formatted as a duration holds minutes (it takes "1.5 hours" too: coerce.ts)
      ...(isDuration(c) ? { behavior: 'Duration (minutes)' } : {}),
      // a note's file, which is a String to Dataverse: read only when selected, as its text (file-columns.ts)
      ...(isFileBody(model.logicalName, c.logicalName)
        ? { behavior: 'File (Base64): read only when selected, a text file as its text; not for where or orderBy' }
        : {}),
      ...(c.options ? { options: c.options.map(({ value, label }) => ({ value, label })) } : {}),
      // a party list (a call's To) holds people of these tables, as a lookup points at them
      ...((isLookupType(c.type) || c.type === 'PartyList') && c.targets ? { targets: c.targets } : {}),
    }));
  const linkable = linkableNavs(policy, model);
  const relationships = [
    ...[...model.singleNavs.values()].map((n) => ({ name: n.navigationProperty, target: n.target, many: false })),
    ...[...model.collectionNavs.values()].map((n) => ({
      name: n.navigationProperty,
      target: n.referencingEntity,
      many: true,
      // a many-to-many relationship whose records update_record may link and unlink; not in the output schema,
      // which tools/list carries to every model (near its 20 KB budget), and said in the text beside it
      ...(linkable.includes(n.navigationProperty) ? { link: true } : {}),
    })),
  ].filter((r) => policy.canFollow(model.logicalName, r.name) && policy.entities().includes(r.target));
  return {
    entity: {
      name: model.logicalName,
      entitySet: model.entitySetName,
      label: model.displayName,
      primaryId: model.primaryIdAttribute,
      primaryName: model.primaryNameAttribute,
      columns,
      relationships,
      maxRows: policy.maxRows,
    },
  };
}

/** How to merge a duplicate into the record kept, where the policy lets the table's records be merged */
function mergeText(policy: ToolContext['policy'], entity: NonNullable<Described['entity']>): string {
  const merged = policy.canWrite(entity.name, 'masterid') && policy.canRead(entity.name, 'masterid');
  if (!merged || !entity.columns.some((c) => c.name === 'masterid')) return '';
  return ` A duplicate is merged into the ${entity.name} kept with update_record on the duplicate: values {"masterid": "<name or id of the one kept>"} (Dynamics' Merge: its related records move, it is ${mergedWord(entity.name)}${mergedWhileOpen(entity.name) ? '; both must be open' : ''}).`;
}

/** How to link records through the relationships marked link: true, where there are any */
function linkText(entity: NonNullable<Described['entity']>): string {
  const names = entity.relationships.filter((r) => (r as { link?: boolean }).link).map((r) => r.name);
  if (!names.length) return '';
  return ` Records are linked through ${names.join(', ')} (link: true) with update_record: values {"${names[0]}": {"add": ["<name or id>"], "remove": ["<name or id>"]}}.`;
}

export const describeEntity = defineTool({
  name: 'describe_entity',
  title: 'Describe a Dynamics table',
  description:
    'Without "entity": the tables you may use. With "entity": its columns you may read or write (types, choice labels, lookup targets, required level) and the relationships you may expand or filter through. Call this instead of guessing names.',
  inputSchema: toolArgs(
    'describe_entity',
    {
      entity: z.string().trim().min(1, EMPTY).max(100).optional().describe('Table name; omit to list tables.'),
    },
    {
      renamed: { table: 'entity', name: 'entity', entityName: 'entity', logicalName: 'entity' },
      // one column asked for (its choices, say): the table's description holds every column
      notes: Object.fromEntries(
        ['column', 'columns', 'attribute', 'attributes', 'field', 'fields'].map((k) => [
          k,
          "It describes every column of the table the policy lets you use, each with its type and a choice's values: read the one you need from it.",
        ]),
      ),
    },
  ),
  outputSchema: describeEntitySchema,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  writes: false,
  async run(args, ctx) {
    const structured = await describe(ctx, args.entity);
    const made = structured.entities?.filter((e) => e.create).map((e) => e.name) ?? [];
    const deleted = structured.entities?.filter((e) => e.delete).map((e) => e.name) ?? [];
    // read-only mode (or a policy that writes nothing): said once, not after each of 26 tables
    const noneWritten = structured.entities?.every((e) => !e.write);
    const text = structured.entities
      ? `Tables${noneWritten ? ' (all read-only here)' : ''}: ${structured.entities.map((e) => `${e.name}${e.write || noneWritten ? '' : ' (read-only)'}`).join(', ')}.${made.length ? ` create_record makes ${made.join(', ')} records.` : ''}${deleted.length ? ` delete_record deletes ${deleted.join(', ')} records.` : ''}`
      : `${structured.entity!.name} (${structured.entity!.entitySet}): ${structured.entity!.columns.length} usable columns, ${structured.entity!.relationships.length} relationships.${linkText(structured.entity!)}${mergeText(ctx.policy, structured.entity!)}${madeOrDeleted(ctx.policy, structured.entity!.name)}\n${JSON.stringify(structured.entity)}`;
    return { structured, text };
  },
});
