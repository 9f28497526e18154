import { stableGuid } from '../schema/build.js';
import type { EntityDef } from '../schema/types.js';
import { DataverseError } from './errors.js';

export type Privilege = 'read' | 'create' | 'write' | 'delete';
export const PRIVILEGES: Privilege[] = ['read', 'create', 'write', 'delete'];

/** A security role: per table (logical name), the privileges it grants. Tables not listed get none. */
export type SecurityRole = Record<string, Partial<Record<Privilege, boolean>>>;

const PRV_NAME: Record<Privilege, string> = { read: 'Read', create: 'Create', write: 'Write', delete: 'Delete' };

export function fullRole(entities: readonly EntityDef[]): SecurityRole {
  return Object.fromEntries(
    entities.map((e) => [e.logicalName, { read: true, create: true, write: true, delete: true }]),
  );
}

/**
 * COMPOSE: a missing privilege is a 403 PrivilegeDenied (0x80040220). The message names the privilege
 * (prv<Privilege><Entity>) and the table, as Dataverse's does.
 */
export function assertPrivilege(role: SecurityRole, entity: EntityDef, privilege: Privilege, userId: string): void {
  if (role[entity.logicalName]?.[privilege]) return;
  const prv = `prv${PRV_NAME[privilege]}${entity.schemaName}`;
  throw new DataverseError(
    403,
    '0x80040220',
    `Principal user (Id=${userId}, type=8, roleCount=1, privilegeCount=${countPrivileges(role)}, accessMode=0), is missing ${prv} privilege (Id=${stableGuid(prv)}) on OTC=${entity.objectTypeCode} for entity '${entity.logicalName}'. context.Caller=${userId}`,
  );
}

function countPrivileges(role: SecurityRole): number {
  return Object.values(role).reduce((n, p) => n + Object.values(p).filter(Boolean).length, 0);
}
