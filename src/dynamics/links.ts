import { badInput, DynamicsMcpError, policyError, readOnlyError } from '../errors.js';
import type { CollectionNav, EntityModel } from '../policy/model.js';
import type { Policy } from '../policy/policy.js';
import { foreignAnswer, pageOf } from './answers.js';
import type { CallOptions } from './client.js';
import { guidValue } from './coerce.js';
import { mapDataverseError, readErrorBody } from './errors.js';
import { API } from './metadata.js';
import { q } from './query-text.js';
import type { WriterDeps } from './writes.js';

/** The most records one call links or unlinks: each is a request of its own */
export const MOST_LINKED = 25;

/** Dataverse's answer to a pair linked twice: the intersect table's duplicate key (ERRCODES DuplicateRecord) */
const DUPLICATE_KEY = '0x80040237';

export interface LinkChange {
  /** ids of the related table's records to link to this one */
  add: string[];
  /** ids of those to unlink from it */
  remove: string[];
}

/** An error met after some of a call's links were made or removed: what was done before it */
export class LinksCutShort extends DynamicsMcpError {
  constructor(
    cause: DynamicsMcpError,
    readonly done: LinkResult,
  ) {
    super(cause.kind, cause.message, cause.hint, cause.details);
  }
}

export interface LinkResult {
  other: EntityModel;
  nav: CollectionNav;
  /** linked by this call */
  added: string[];
  /** asked to be linked, and already were */
  already: string[];
  /** unlinked by this call */
  removed: string[];
  /** asked to be unlinked, and were not linked */
  notLinked: string[];
}

/**
 * Links and unlinks records of a many-to-many relationship ("Associate and disassociate table rows using the
 * Web API": POST <record>/<relationship>/$ref, DELETE <record>/<relationship>(<id>)/$ref), where the policy lets
 * the model write that relationship (its navigation property in the table's write list). Which of the records
 * are linked is read first, so that each link is made or removed once; a link a retry meets already made
 * (Dataverse's duplicate key) or already gone is what was asked, so neither can be doubled or fail a call that
 * did what it said.
 */
export async function changeLinks(
  deps: WriterDeps,
  model: EntityModel,
  recordId: string,
  navigation: string,
  change: LinkChange,
  opts: CallOptions = {},
): Promise<LinkResult> {
  const { policy } = deps;
  // a table the policy does not let the model write is refused as such, whatever is named
  policy.assertWritable(model.logicalName, [], `Linking ${model.logicalName} records`);
  const nav = model.collectionNavs.get(navigation.toLowerCase());
  if (nav?.referencingAttribute !== '')
    throw badInput(
      `'${navigation}' is not a many-to-many relationship of ${model.logicalName}.`,
      `Records of a one-to-many list are linked by their own lookup: set it with update_record on them. describe_entity('${model.logicalName}') lists its relationships.`,
    );
  assertLinkable(policy, model, nav);
  const other = await deps.metadata.entity(nav.referencingEntity);
  const id = guidValue(recordId, `${model.logicalName} id`);
  const add = [...new Set(change.add.map((i) => guidValue(i, `${other.logicalName} id`)))];
  const remove = [...new Set(change.remove.map((i) => guidValue(i, `${other.logicalName} id`)))];
  const both = add.find((i) => remove.includes(i));
  if (both)
    throw badInput(
      `The ${other.logicalName} ${both} is both to be linked and to be unlinked.`,
      'Name each record once: in "add" or in "remove".',
    );
  if (add.length + remove.length > MOST_LINKED)
    throw badInput(
      `${add.length + remove.length} records to link or unlink at once; at most ${MOST_LINKED} are taken in one call.`,
      `Call update_record again for the rest, ${MOST_LINKED} at a time.`,
    );
  const list = `${API}/${model.entitySetName}(${id})/${nav.navigationProperty}`;
  const context = { entity: model.logicalName, id };
  const asked = [...add, ...remove];
  const page = asked.length
    ? pageOf(
        await deps.transport.send({
          method: 'GET',
          path: `${list}?$select=${other.primaryIdAttribute}&$filter=${q(asked.map((i) => `${other.primaryIdAttribute} eq ${i}`).join(' or '))}`,
          idempotent: true,
          signal: opts.signal,
          context,
        }),
        `the ${nav.navigationProperty} of ${model.logicalName} ${id}`,
      )
    : { rows: [] };
  const linked = new Set(page.rows.map((r) => String(r[other.primaryIdAttribute]).toLowerCase()));
  const out: LinkResult = { other, nav, added: [], already: [], removed: [], notLinked: [] };
  try {
    for (const target of add) {
      if (linked.has(target)) {
        out.already.push(target);
        continue;
      }
      const r = await deps.transport.send({
        method: 'POST',
        path: `${list}/$ref`,
        body: JSON.stringify({ '@odata.id': `${deps.serviceRoot}/${other.entitySetName}(${target})` }),
        // a second attempt after a lost answer meets the link the first made: the duplicate key below
        idempotent: true,
        accept: [412],
        signal: opts.signal,
        context,
      });
      if (r.status === 412 && readErrorBody(r.text)?.code !== DUPLICATE_KEY)
        throw mapDataverseError(r.status, r.headers, r.text, context);
      if (r.status !== 204 && r.status !== 412)
        throw foreignAnswer(r, `the link of ${other.logicalName} ${target}`, 'not as Dataverse does (204, no content)');
      // a duplicate key met by a second attempt is the link the first one made, whose answer was lost
      (r.status === 204 || r.attempts > 1 ? out.added : out.already).push(target);
    }
    for (const target of remove) {
      if (!linked.has(target)) {
        out.notLinked.push(target);
        continue;
      }
      const r = await deps.transport.send({
        method: 'DELETE',
        path: `${list}(${target})/$ref`,
        idempotent: true,
        accept: [404],
        signal: opts.signal,
        context,
      });
      // a second attempt after a lost answer finds the link the first removed gone (GUESS: undocumented)
      if (r.status === 404 && r.attempts === 1) throw mapDataverseError(r.status, r.headers, r.text, context);
      if (r.status !== 204 && r.status !== 404)
        throw foreignAnswer(
          r,
          `the unlink of ${other.logicalName} ${target}`,
          'not as Dataverse does (204, no content)',
        );
      out.removed.push(target);
    }
  } catch (err) {
    // some links were made or removed before this one failed: said with the error, and audited by the caller
    if (err instanceof DynamicsMcpError && (out.added.length || out.removed.length)) throw new LinksCutShort(err, out);
    throw err;
  }
  return out;
}

/**
 * Refuses a relationship the policy does not let the model link records through: its navigation property in the
 * table's write list (and the related table readable, as its records are named) says it may. Checked by the
 * tool before any of a call's writes, and by the client before each link.
 */
export function assertLinkable(policy: Policy, model: EntityModel, nav: CollectionNav): void {
  if (policy.readOnly) throw readOnlyError(`Linking ${model.logicalName} records`);
  if (!policy.canWrite(model.logicalName, nav.navigationProperty))
    throw policyError(
      `Linking or unlinking records through '${nav.navigationProperty}' of ${model.logicalName} is not allowed under this server's policy.`,
      `${linkable(policy, model)} An administrator allows it by adding the relationship's name to ${model.logicalName}'s write list.`,
    );
  policy.assertEntityReadable(nav.referencingEntity);
}

/** The relationships of a table the policy lets the model link records through, as a sentence */
export function linkable(policy: Policy, model: EntityModel): string {
  const names = linkableNavs(policy, model);
  return names.length
    ? `Records may be linked to a ${model.logicalName} through ${names.join(', ')}.`
    : `No relationship of ${model.logicalName} may be linked through here.`;
}

/** The many-to-many relationships of a table whose records the policy lets the model link and unlink */
export function linkableNavs(policy: Policy, model: EntityModel): string[] {
  return [...model.collectionNavs.values()]
    .filter(
      (n) =>
        n.referencingAttribute === '' && !policy.readOnly && policy.canWrite(model.logicalName, n.navigationProperty),
    )
    .map((n) => n.navigationProperty);
}
