import type { Policy } from '../policy/policy.js';
import type { Check } from './doctor.js';
import { jsonReader, type TableDef, Unchecked, type WebApiGet } from './doctor-api.js';

/** Tables whose privileges keep another name than their schema name; activities share prv<Privilege>Activity. */
const OLD_PRIVILEGE_NAMES: Readonly<Record<string, string>> = {
  systemuser: 'User',
  annotation: 'Note',
  incidentresolution: 'Activity',
  opportunityclose: 'Activity',
  task: 'Activity',
  phonecall: 'Activity',
  email: 'Activity',
  appointment: 'Activity',
};

/**
 * Tables without privileges of their own: a queue item's are its queue's ("Queue tables": "If you have
 * prvAppendToQueue privilege, you also have create, update, and delete privileges on a queue item table").
 */
const INHERITED_WRITES: Readonly<Record<string, string>> = { queueitem: 'prvAppendToQueue' };

/** The tables the create tools create: besides Write (update_record) they need Create. */
const CREATED_BY: Record<string, string> = {
  lead: 'create_lead',
  incident: 'create_case',
  annotation: 'add_note',
  incidentresolution: 'resolve_case',
  // update_record writes one when it closes an opportunity as won or lost
  opportunityclose: 'update_record',
};

/** The tables QualifyLead makes records in (the QualifyLead action reference) */
const QUALIFYING_MAKES = ['account', 'contact', 'opportunity'];

/**
 * What the policy lets the write tools do, checked against the application user's security role before the
 * first write fails: Write on each table with writable columns, Create on the tables the create tools create,
 * and for each writable lookup Append on the table and AppendTo on every table it can point at (a missing
 * AppendTo is the classic "can create a case but not for an account"), or Assign for a writable owner; for a
 * many-to-many relationship whose records may be linked, Append and AppendTo on both of its tables.
 * Privileges are read with RetrieveUserPrivilegeByPrivilegeName (Web API function reference).
 */
export async function writePrivilegeChecks(
  get: WebApiGet,
  policy: Policy,
  defs: readonly TableDef[],
  userId: string,
): Promise<Check[]> {
  // privileges are named after the table's schema name, but the user table's and the note table's keep
  // their old names (prvReadUser, prvCreateNote)
  const schemaOf = new Map(defs.map((d) => [d.LogicalName, OLD_PRIVILEGE_NAMES[d.LogicalName] ?? d.SchemaName]));
  const answer = jsonReader(get);
  const known = new Map<string, Promise<boolean>>();
  const holds = (prv: string) => {
    let held = known.get(prv);
    if (!held) {
      held = answer<{ RolePrivileges?: unknown[] }>(
        `/systemusers(${userId})/Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeName(PrivilegeName=@p)?@p='${prv}'`,
      ).then((body) => (body.RolePrivileges?.length ?? 0) > 0);
      known.set(prv, held);
    }
    return held;
  };
  const checks: Check[] = [];
  try {
    for (const entity of policy.entities()) {
      const writable = new Set(policy.rule(entity)?.write ?? []);
      const schema = schemaOf.get(entity);
      // delete_record deletes records of the tables the policy says "delete" of: Delete (DeleteRequest's privilege)
      const deletes = policy.canDelete(entity);
      if ((!writable.size && !deletes) || !schema) continue; // a table the environment lacks: the read check says
      // qualifying a lead (where lead's statecode is writable) makes accounts, contacts and opportunities
      const madeByQualifying = QUALIFYING_MAKES.includes(entity) && policy.canWrite('lead', 'statecode');
      // create_record makes records of the tables the policy says "create" of
      const creators = [CREATED_BY[entity], policy.canCreate(entity) ? 'create_record' : undefined].filter(
        (t): t is string => !!t,
      );
      const createdBy = creators.length ? creators : madeByQualifying ? ['update_record'] : [];
      const inherited = INHERITED_WRITES[entity];
      const needed = inherited
        ? [inherited]
        : [
            ...(createdBy.length ? [`prvCreate${schema}`] : []),
            ...(writable.size ? [`prvWrite${schema}`] : []),
            ...(deletes ? [`prvDelete${schema}`] : []),
          ];
      const lookups = await answer<{ value?: { LogicalName: string; AttributeType?: string; Targets?: string[] }[] }>(
        `/EntityDefinitions(LogicalName='${entity}')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=LogicalName,AttributeType,Targets`,
      );
      const attrs = lookups.value ?? [];
      for (const a of attrs) {
        if (!writable.has(a.LogicalName)) continue;
        if (a.AttributeType === 'Owner') {
          needed.push(`prvAssign${schema}`); // a new owner is an assignment (AssignRequest's privileges)
          continue;
        }
        needed.push(inherited ?? `prvAppend${schema}`);
        for (const t of a.Targets ?? []) if (schemaOf.has(t)) needed.push(`prvAppendTo${schemaOf.get(t)}`);
      }
      // a many-to-many relationship in the write list: update_record links and unlinks its records, each an
      // Associate, which needs Append and AppendTo on both tables (GUESS: as for an N:N in the UI)
      const pairs = await answer<{
        value?: {
          Entity1LogicalName: string;
          Entity2LogicalName: string;
          Entity1NavigationPropertyName: string | null;
          Entity2NavigationPropertyName: string | null;
        }[];
      }>(
        `/EntityDefinitions(LogicalName='${entity}')/ManyToManyRelationships?$select=Entity1LogicalName,Entity2LogicalName,Entity1NavigationPropertyName,Entity2NavigationPropertyName`,
      );
      for (const r of pairs.value ?? []) {
        const mine =
          r.Entity1LogicalName === entity ? r.Entity1NavigationPropertyName : r.Entity2NavigationPropertyName;
        if (!mine || !writable.has(mine.toLowerCase())) continue;
        for (const t of [r.Entity1LogicalName, r.Entity2LogicalName])
          if (schemaOf.has(t)) needed.push(`prvAppend${schemaOf.get(t)}`, `prvAppendTo${schemaOf.get(t)}`);
      }
      const unique = [...new Set(needed)];
      const held = await Promise.all(unique.map(holds));
      const missing = unique.filter((_, i) => !held[i]);
      // the tools each missing privilege stops: Delete stops delete_record alone, the rest the tools that write
      const writers = [...new Set([...createdBy, ...(writable.size ? ['update_record'] : [])])];
      const tools = [
        ...(missing.some((p) => !p.startsWith('prvDelete')) ? writers : []),
        ...(missing.some((p) => p.startsWith('prvDelete') || (deletes && p === inherited)) ? ['delete_record'] : []),
      ];
      const uses =
        (tools.length > 2 ? `${tools.slice(0, -1).join(', ')} and ${tools.at(-1)}` : tools.join(' and ')) +
        (madeByQualifying && tools.includes('update_record') ? ' (its updates, and qualifying leads)' : '');
      checks.push(
        missing.length
          ? {
              name: `Write ${entity}`,
              ok: false,
              detail: `Missing ${missing.join(', ')}: ${uses} will be refused by Dynamics.`,
              fix: `Add ${missing.length > 1 ? 'them' : 'it'} to the application user's security role (organisation or business-unit level), or remove ${entity}'s "write" columns from the policy (or run read-only).`,
            }
          : { name: `Write ${entity}`, ok: true, detail: `The application user holds ${unique.join(', ')}.` },
      );
    }
  } catch (err) {
    if (!(err instanceof Unchecked)) throw err;
    const prv = /missing (prv\w+) privilege/.exec(err.text)?.[1];
    checks.push({
      name: 'Write privileges',
      ok: true,
      warning: true,
      detail: `Not checked: ${err.message}${prv ? ` (missing ${prv})` : ''} when asked for the application user's privileges.`,
      fix: `A write the role does not allow will be refused with the privilege it lacks${prv ? `; add ${prv} to the role to let doctor check beforehand` : ''}.`,
    });
  }
  return checks;
}
