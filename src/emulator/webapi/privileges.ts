import { stableGuid } from '../schema/build.js';
import type { Schema } from '../schema/index.js';
import type { Store } from '../store/store.js';
import { badRequest, notFound } from './errors.js';
import { assertPrivilege, holdsPrivilegeNamed, type SecurityRole } from './security.js';

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeName(PrivilegeName=@p or '…') */
export const USER_PRIVILEGE_PATH = new RegExp(
  `^systemusers\\((${GUID})\\)/Microsoft\\.Dynamics\\.CRM\\.RetrieveUserPrivilegeByPrivilegeName\\(PrivilegeName=([^)]*)\\)$`,
);

/**
 * The RetrieveUserPrivilegeByPrivilegeName function (Web API reference): the named privilege as the user holds
 * it through their roles, as a RolePrivileges list — empty when they do not hold it. The function is bound to
 * the systemuser record, so the caller needs to be able to read users. GUESS: every held privilege is reported
 * at Global depth (the emulator's roles have no depths), and an unknown name is an empty list.
 */
export function userPrivilegeByName(
  ctx: { schema: Schema; store: Store; businessUnitId: string },
  caller: { userId: string; role: SecurityRole },
  roleOf: (userId: string) => SecurityRole,
  match: RegExpExecArray,
  aliases: ReadonlyMap<string, string>,
): Record<string, unknown> {
  const userId = match[1]!.toLowerCase();
  assertPrivilege(caller.role, ctx.schema.entity('systemuser')!, 'read', caller.userId);
  if (!ctx.store.table('systemuser').get(userId)) throw notFound('systemuser', userId);
  const raw = match[2]!.startsWith('@') ? aliases.get(match[2]!) : match[2];
  const literal = raw === undefined ? undefined : /^'((?:[^']|'')*)'$/.exec(raw);
  if (!literal)
    throw badRequest(`PrivilegeName must be a text literal such as 'prvReadAccount', got ${raw ?? 'nothing'}.`);
  const name = literal[1]!.replace(/''/g, "'");
  const held = holdsPrivilegeNamed(roleOf(userId), ctx.schema.entities, name);
  return {
    RolePrivileges: held
      ? [
          {
            Depth: 'Global',
            PrivilegeId: stableGuid(name),
            BusinessUnitId: ctx.businessUnitId,
            PrivilegeName: name,
            RecordFilterId: null,
            RecordFilterUniqueName: null,
          },
        ]
      : [],
  };
}
