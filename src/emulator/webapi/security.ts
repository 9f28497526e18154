import type { ExpandItem } from '../../odata/ast.js';
import { stableGuid } from '../schema/build.js';
import type { Schema } from '../schema/index.js';
import { type EntityDef, PRINCIPAL } from '../schema/types.js';
import { DataverseError } from './errors.js';

/**
 * The table privileges the emulator checks. append/appendTo: setting a lookup (an @odata.bind) needs Append on
 * the record that holds it and AppendTo on the record it points at (Dataverse, Security concepts: privileges);
 * assign: changing a record's owner (AssignRequest: "Each table … has an prvAssign<Table Schema Name> privilege").
 */
export type Privilege = 'read' | 'create' | 'write' | 'delete' | 'append' | 'appendTo' | 'assign';

/** A security role: per table (logical name), the privileges it grants. Tables not listed get none. */
export type SecurityRole = Record<string, Partial<Record<Privilege, boolean>>>;

const PRV_NAME: Record<Privilege, string> = {
  read: 'Read',
  create: 'Create',
  write: 'Write',
  delete: 'Delete',
  append: 'Append',
  appendTo: 'AppendTo',
  assign: 'Assign',
};

export function fullRole(entities: readonly EntityDef[]): SecurityRole {
  return Object.fromEntries(
    entities.map((e) => [
      e.logicalName,
      { read: true, create: true, write: true, delete: true, append: true, appendTo: true, assign: true },
    ]),
  );
}

/**
 * Tables whose privileges keep another name than their schema name: prvReadUser, prvCreateNote, and the
 * activities', which share prv<Privilege>Activity.
 */
const OLD_PRIVILEGE_NAMES: Readonly<Record<string, string>> = {
  systemuser: 'User',
  annotation: 'Note',
  incidentresolution: 'Activity',
  opportunityclose: 'Activity',
  task: 'Activity',
  phonecall: 'Activity',
  email: 'Activity',
  appointment: 'Activity',
  // GUESS: a party has no privileges of its own; reading or making one is reading or making its activity
  activityparty: 'Activity',
  // GUESS: an attachment is read and written with the activity it came with, as a party is
  activitymimeattachment: 'Activity',
  activitypointer: 'Activity',
};

/**
 * Tables without privileges of their own, each privilege another table's: a queue item's are its queue's
 * ("Queue tables": "If you have prvReadQueue privilege, you also have read privilege on a queue item table. If
 * you have prvAppendToQueue privilege, you also have create, update, and delete privileges on a queue item
 * table"; GUESS: Append, setting its lookups, is the same AppendTo).
 */
const INHERITED: Readonly<Record<string, { table: string; schema: string; as: (p: Privilege) => Privilege }>> = {
  queueitem: { table: 'queue', schema: 'Queue', as: (p) => (p === 'read' ? 'read' : 'appendTo') },
};

/** The table and privilege a role is asked for: the table's own, or the one it inherits from (above). */
const heldAs = (entity: EntityDef, privilege: Privilege): [string, Privilege] => {
  const from = INHERITED[entity.logicalName];
  return from ? [from.table, from.as(privilege)] : [entity.logicalName, privilege];
};

/**
 * prv<Privilege><table>, as Dataverse names table privileges (prvCreateLead, prvAppendToAccount): the table's
 * schema name, except for the tables above; an inherited privilege by the table it is inherited from.
 */
export const privilegeName = (entity: EntityDef, privilege: Privilege): string => {
  const from = INHERITED[entity.logicalName];
  if (from) return `prv${PRV_NAME[from.as(privilege)]}${from.schema}`;
  return `prv${PRV_NAME[privilege]}${OLD_PRIVILEGE_NAMES[entity.logicalName] ?? entity.schemaName}`;
};

/** Whether a role grants the privilege called `name`; undefined when no table privilege has that name. */
export function holdsPrivilegeNamed(
  role: SecurityRole,
  entities: readonly EntityDef[],
  name: string,
): boolean | undefined {
  for (const e of entities) {
    if (INHERITED[e.logicalName]) continue; // its names are its queue's, answered by that table
    for (const p of Object.keys(PRV_NAME) as Privilege[])
      if (privilegeName(e, p) === name) return role[e.logicalName]?.[p] === true;
  }
  return undefined;
}

/**
 * COMPOSE: a missing privilege is a 403 PrivilegeDenied (0x80040220). The message names the privilege
 * (prv<Privilege><Entity>) and the table, as Dataverse's does.
 */
export function assertPrivilege(role: SecurityRole, entity: EntityDef, privilege: Privilege, userId: string): void {
  const [table, held] = heldAs(entity, privilege);
  if (role[table]?.[held]) return;
  const prv = privilegeName(entity, privilege);
  throw new DataverseError(
    403,
    '0x80040220',
    `Principal user (Id=${userId}, type=8, roleCount=1, privilegeCount=${countPrivileges(role)}, accessMode=0), is missing ${prv} privilege (Id=${stableGuid(prv)}) on OTC=${entity.objectTypeCode} for entity '${entity.logicalName}'. context.Caller=${userId}`,
  );
}

function countPrivileges(role: SecurityRole): number {
  return Object.values(role).reduce((n, p) => n + Object.values(p).filter(Boolean).length, 0);
}

/**
 * A query's $expand read as the tables it reads: each needs Read as the table queried does (a query joining a
 * table the role cannot read is refused whole, with the privilege it lacks: "is missing prvRead… privilege …
 * for entity '…'", as FetchXML Builder users meet it on link-entities). Checked before the query runs, so an
 * empty answer is refused too. A property no relationship has is left for the shaping to refuse.
 */
export function assertExpandReadable(
  role: SecurityRole,
  schema: Schema,
  entity: EntityDef,
  items: readonly ExpandItem[] | undefined,
  userId: string,
): void {
  for (const item of items ?? []) {
    const single = entity.manyToOne.find((m) => m.navigationProperty === item.property);
    const table = single
      ? single.target === PRINCIPAL
        ? undefined
        : single.target
      : entity.oneToMany.find((m) => m.navigationProperty === item.property)?.referencingEntity;
    const target = table ? schema.entity(table) : undefined;
    if (!target) continue;
    assertPrivilege(role, target, 'read', userId);
    assertExpandReadable(role, schema, target, item.expand, userId);
  }
}
