import { randomUUID } from 'node:crypto';
import type { EntityDef, OneToMany } from '../schema/types.js';
import { badRequest, duplicateKey, notFound, notSupported, payloadError } from './errors.js';
import type { SecurityRole } from './security.js';
import { assertPrivilege } from './security.js';
import { parseBind, patchRow, type WriteContext } from './writes.js';

/** The request through a collection-valued navigation property that links or unlinks one record. */
export interface CollectionRef {
  method: string;
  /** the record whose list it is */
  entity: EntityDef;
  id: string;
  nav: OneToMany;
  /** the other record, as DELETE …/<nav>(<id>)/$ref names it */
  memberId?: string;
  /** the $id query option of DELETE …/<nav>/$ref?$id=<url> */
  idOption?: string;
  /** POST's body: {"@odata.id": "<url of the other record>"} */
  body?: Record<string, unknown>;
}

/**
 * Associating and disassociating through a collection-valued navigation property ("Associate and disassociate
 * table rows using the Web API"): POST /accounts(<id>)/opportunity_customer_accounts/$ref with
 * {"@odata.id": "<url>"}, and DELETE /accounts(<id>)/opportunity_customer_accounts(<childid>)/$ref or
 * …/$ref?$id=<url>, each 204. A one-to-many list sets (or clears) the other record's lookup; a many-to-many one
 * adds (or removes) the pair in its intersect table. A pair already there is refused as Dataverse refuses a
 * duplicate key (0x80040237; COMPOSE maps DuplicateRecord to 412). GUESSES, undocumented: removing a pair that
 * is not there is a 204 as well; linking needs Append and AppendTo on both tables of a many-to-many relationship.
 */
export function collectionRef(ctx: WriteContext, role: SecurityRole, userId: string, r: CollectionRef): void {
  const { schema, store } = ctx.env;
  const other = schema.entity(r.nav.referencingEntity)!;
  if (!store.table(r.entity.logicalName).get(r.id)) throw notFound(r.entity.logicalName, r.id);
  const target = otherRecord(ctx, r, other);
  if (!store.table(other.logicalName).get(target)) throw notFound(other.logicalName, target);
  const through = r.nav.through;
  if (!through) {
    // one-to-many: the other record's lookup is the link (its own navigation property to this table)
    const single = other.manyToOne.find(
      (m) => m.attribute === r.nav.referencingAttribute && m.target === r.entity.logicalName,
    )!;
    assertPrivilege(role, other, 'write', userId);
    const current = store.table(other.logicalName).get(target)?.[r.nav.referencingAttribute];
    const pointsHere = (current as { id?: string } | null)?.id === r.id;
    if (r.method === 'DELETE' && !pointsHere) return;
    const value = r.method === 'POST' ? `/${r.entity.entitySetName}(${r.id})` : null;
    patchRow(ctx, other, target, { [`${single.navigationProperty}@odata.bind`]: value }, { ifMatch: '*' });
    return;
  }
  // AddMembersTeam and RemoveMembersTeam are how a team's members change (Team table reference): not modelled
  if (through.intersect === 'teammembership') throw notSupported(`Associating through '${r.nav.navigationProperty}'`);
  for (const table of [r.entity, other]) {
    assertPrivilege(role, table, 'append', userId);
    assertPrivilege(role, table, 'appendTo', userId);
  }
  const intersect = schema.entity(through.intersect)!;
  const pairs = store.table(intersect.logicalName);
  // this record's pairs, as its list is read (env.children: the intersect table indexed by its own id column)
  const pair = ctx.env.children(intersect, through.self, r.id).find((p) => p[through.other] === target);
  if (r.method === 'DELETE') {
    if (pair) store.delete(pairs, String(pair[intersect.primaryIdAttribute]));
    return;
  }
  if (pair) throw duplicateKey();
  const id = store.ids.next(randomUUID());
  store.insert(pairs, id, {
    [intersect.primaryIdAttribute]: id,
    versionnumber: store.nextVersion(),
    [through.self]: r.id,
    [through.other]: target,
  });
}

/** The other record's id: from POST's @odata.id, DELETE's key in the path or its $id option */
function otherRecord(ctx: WriteContext, r: CollectionRef, other: EntityDef): string {
  if (r.method === 'DELETE' && r.memberId) return r.memberId;
  const raw = r.method === 'POST' ? r.body?.['@odata.id'] : r.idOption;
  if (raw === undefined)
    throw r.method === 'POST'
      ? payloadError(r.entity.logicalName, 'The body must be {"@odata.id": "<URL of the record to associate>"}.')
      : badRequest(`Name the record to disassociate: ${r.nav.navigationProperty}(<id>)/$ref or $ref?$id=<URL>.`);
  const ref = parseBind(ctx, r.entity, r.nav.navigationProperty, raw);
  if (ref.entity !== other.logicalName)
    throw payloadError(
      r.entity.logicalName,
      `'${r.nav.navigationProperty}' holds ${other.logicalName} records, not a ${ref.entity}.`,
    );
  return ref.id;
}
