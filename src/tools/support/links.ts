import type { WriteValues } from '../../dynamics/client.js';
import { type LinkResult, LinksCutShort, MOST_LINKED } from '../../dynamics/links.js';
import { badInput, DynamicsMcpError } from '../../errors.js';
import type { CollectionNav, EntityModel } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { guidOrUndefined } from './ids.js';
import { recordNamed } from './lookup-names.js';

/** Records to link to (add) and unlink from (remove) a record through one many-to-many relationship */
export interface LinksAsked {
  nav: CollectionNav;
  add: string[];
  remove: string[];
}

/** The related records a link change names, and their names as the answer says them */
export interface LinksNamed extends LinksAsked {
  names: Map<string, string>;
}

const EXAMPLE = '{"add": ["<name or id>"], "remove": ["<name or id>"]}';

/**
 * update_record's values split into the columns to change and the many-to-many relationships whose records to
 * link or unlink: {"opportunitycompetitors_association": ["Nimbus CRM"]} links (a name or id, or a list of
 * them), {"…": {"add": […], "remove": […]}} does both. Not listed in the schema (tools/list is near its budget):
 * describe_entity names the relationships that may be linked, and this form.
 */
export function linksAsked(model: EntityModel, values: WriteValues): { columns: WriteValues; links: LinksAsked[] } {
  const columns: WriteValues = {};
  const links: LinksAsked[] = [];
  for (const [key, value] of Object.entries(values)) {
    const nav = model.collectionNavs.get(key.toLowerCase());
    if (!nav || model.columns.has(key.toLowerCase())) {
      columns[key] = value;
      continue;
    }
    if (nav.referencingAttribute !== '')
      throw badInput(
        `values.${key} is ${model.logicalName}'s list of ${nav.referencingEntity} records, which each ${nav.referencingEntity} joins through its own ${nav.referencingAttribute}.`,
        `To add a ${nav.referencingEntity} to it, update that ${nav.referencingEntity} (once this ${model.logicalName} exists): {"${nav.referencingAttribute}": {"entity": "${model.logicalName}", "id": "<this ${model.logicalName}'s id>"}}.`,
      );
    const o =
      value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    const lookup = o && typeof o.id === 'string' && Object.keys(o).every((k) => k === 'id' || k === 'entity');
    if (o && !lookup && !Object.keys(o).every((k) => k === 'add' || k === 'remove'))
      throw badInput(
        `values.${key} takes the ${nav.referencingEntity} records to link, or ${EXAMPLE}; it has no ${Object.keys(o)
          .filter((k) => k !== 'add' && k !== 'remove')
          .map((k) => `"${k}"`)
          .join(', ')}.`,
        `Write values.${key} as ${EXAMPLE}.`,
      );
    if (value === null || (Array.isArray(value) && !value.length))
      throw badInput(
        `values.${key} is ${JSON.stringify(value)}: a list of related records is not cleared at once here.`,
        `Name the ${nav.referencingEntity} records to unlink: {"${key}": {"remove": ["<name or id>"]}} (query_entities with expand ${key} lists them).`,
      );
    const list = (v: unknown, part: string) => {
      const items = v === undefined ? [] : Array.isArray(v) ? v : [v];
      return items.map((item) => {
        const id = typeof item === 'object' && item && 'id' in item ? (item as { id: unknown }).id : item;
        if (typeof id !== 'string' || !id.trim())
          throw badInput(
            `values.${key}${part}: ${JSON.stringify(item)} is not a ${nav.referencingEntity}'s name or id.`,
            `Write values.${key} as ${EXAMPLE}.`,
          );
        return id.trim();
      });
    };
    const asked =
      lookup || !o
        ? { nav, add: list(lookup ? o!.id : value, ''), remove: [] }
        : { nav, add: list(o.add, '.add'), remove: list(o.remove, '.remove') };
    if (!asked.add.length && !asked.remove.length)
      throw badInput(
        `values.${key} names no ${nav.referencingEntity} records to link or unlink.`,
        `Write values.${key} as ${EXAMPLE}.`,
      );
    // refused before each name is looked up, as the client would refuse it after
    if (asked.add.length + asked.remove.length > MOST_LINKED)
      throw badInput(
        `values.${key} names ${asked.add.length + asked.remove.length} records; at most ${MOST_LINKED} are linked or unlinked in one call.`,
        `Call again for the rest, ${MOST_LINKED} at a time.`,
      );
    links.push(asked);
  }
  return { columns, links };
}

/**
 * Each related record a link change names, by id: a name is the one record of the related table with it (as a
 * lookup's is), an id is read with its name, so that one that is not there is refused before anything is
 * written and the answer names what it linked.
 */
export async function linksNamed(ctx: ToolContext, asked: LinksAsked): Promise<LinksNamed> {
  const table = asked.nav.referencingEntity;
  const model = await ctx.client.metadata.entity(table);
  const names = new Map<string, string>();
  const byId = async (given: string[]) => {
    const out: string[] = [];
    const ids = [...new Set(given.map((g) => guidOrUndefined(g)).filter((g): g is string => !!g))];
    const name = model.primaryNameAttribute;
    const named = !!name && ctx.policy.canRead(table, name);
    const found = ids.length
      ? (
          await ctx.client.query(
            {
              entity: table,
              select: named ? [name] : [model.primaryIdAttribute],
              where: { column: model.primaryIdAttribute, op: 'in', value: ids },
              top: ids.length,
            },
            { signal: ctx.signal, internal: true },
          )
        ).rows
      : [];
    for (const row of found) {
      const id = String(row[model.primaryIdAttribute]).toLowerCase();
      names.set(id, named && typeof row[name] === 'string' ? String(row[name]) : id);
    }
    for (const g of given) {
      const id = guidOrUndefined(g);
      if (id && !names.has(id))
        throw badInput(
          `values.${asked.nav.navigationProperty}: no ${table} has the id ${id}.`,
          `Find the ${table} with query_entities and pass its id or whole name.`,
        );
      if (id) {
        out.push(id);
        continue;
      }
      const r = await recordNamed(ctx, [table], g, `values.${asked.nav.navigationProperty}`);
      const key = r.id.toLowerCase();
      names.set(key, r.name);
      out.push(key);
    }
    return out;
  };
  return { ...asked, add: await byId(asked.add), remove: await byId(asked.remove), names };
}

/** What a link change did, in words: "linked competitor Nimbus CRM (already: Kestrel Analytics); unlinked …" */
export function linksText(r: LinkResult, names: ReadonlyMap<string, string>): string {
  const said = (ids: string[]) => ids.map((i) => names.get(i) ?? i).join(', ');
  const noun = r.other.logicalName;
  const parts = [
    r.added.length ? `linked ${noun} ${said(r.added)}` : '',
    r.already.length ? `${said(r.already)} already linked` : '',
    r.removed.length ? `unlinked ${noun} ${said(r.removed)}` : '',
    r.notLinked.length ? `${said(r.notLinked)} not linked (nothing to unlink)` : '',
  ].filter(Boolean);
  return `${r.nav.navigationProperty}: ${parts.join('; ')}`;
}

/** Each relationship's links made and removed, in turn, audited; what they did, for the answer */
export async function linkAll(
  ctx: ToolContext,
  tool: string,
  model: EntityModel,
  id: string,
  links: LinksNamed[],
  before?: string,
) {
  const changed: Record<string, unknown> = {};
  let text = '';
  let changedAny = false;
  // what this call wrote, in words, for an error that comes after some of it
  const done: string[] = before ? [before] : [];
  const record = async (l: LinksNamed, r: LinkResult) => {
    if (!r.added.length && !r.removed.length) return;
    done.push(linksText(r, l.names));
    await ctx.audit.record({
      tool,
      entity: model.logicalName,
      id,
      action: 'link',
      columns: { [l.nav.navigationProperty]: { linked: r.added, unlinked: r.removed } },
      caller: ctx.caller,
    });
  };
  for (const l of links) {
    const r = await ctx.client
      .link(model.logicalName, id, l.nav.navigationProperty, l, { signal: ctx.signal })
      .catch(async (err: unknown) => {
        if (err instanceof LinksCutShort) await record(l, err.done);
        if (!(err instanceof DynamicsMcpError) || !done.length) throw err;
        throw new DynamicsMcpError(
          err.kind,
          `${err.message} Done before it: ${done.join('; ')}.`,
          `${err.hint} Calling again with the same values does the rest: a record already linked is not linked twice.`,
          err.details,
        );
      });
    const names = (ids: string[]) => ids.map((i) => ({ id: i, name: l.names.get(i) ?? i }));
    changed[l.nav.navigationProperty] = Object.fromEntries(
      (
        [
          ['linked', r.added],
          ['alreadyLinked', r.already],
          ['unlinked', r.removed],
          ['notLinked', r.notLinked],
        ] as const
      )
        .filter(([, ids]) => ids.length)
        .map(([k, ids]) => [k, names(ids)]),
    );
    changedAny ||= r.added.length + r.removed.length > 0;
    text += ` ${linksText(r, l.names)}.`;
    await record(l, r);
  }
  return { changed, text, changedAny };
}

/** A link change as the user is asked to confirm it */
export const linkAskText = (l: LinksNamed) =>
  [
    l.add.length ? `link ${l.add.map((i) => l.names.get(i) ?? i).join(', ')} through ${l.nav.navigationProperty}` : '',
    l.remove.length
      ? `unlink ${l.remove.map((i) => l.names.get(i) ?? i).join(', ')} from ${l.nav.navigationProperty}`
      : '',
  ]
    .filter(Boolean)
    .join(' and ');
