import type { Policy } from '../policy/policy.js';
import type { Check } from './doctor.js';
import { jsonReader, type TableDef, Unchecked, type WebApiGet } from './doctor-api.js';

/** The tables a write tool makes records in by a plain create, besides those the policy says "create" of. */
const CREATED_BY_OWN_TOOL = ['lead', 'incident', 'annotation'];
/** Tables whose records the tools never create by a create: a queue item is made by AddToQueue, one per record. */
const NOT_A_CREATE = ['queueitem'];

const SETTINGS =
  'Settings → Data management → Duplicate detection settings in Dynamics: "Enable duplicate detection" and "When a record is created or updated"';

/**
 * Whether the organisation's duplicate detection rules apply to the records the tools create or change (they
 * ask for them: dynamics/write-body.ts, and update_record). "Enable and disable duplicate detection": detection must be on for the organisation
 * (IsDuplicateDetectionEnabled), for creates and updates (IsDuplicateDetectionEnabledForOnlineCreateUpdate) and
 * for the table (EntityMetadata.IsDuplicateDetectionEnabled). Off is a warning, not a failure: the tools' own
 * check (same email, or same name) runs either way.
 */
export async function duplicateDetectionCheck(
  get: WebApiGet,
  policy: Policy,
  defs: readonly TableDef[],
): Promise<Check | undefined> {
  const created = policy
    .entities()
    .filter((e) => policy.canCreate(e) || (CREATED_BY_OWN_TOOL.includes(e) && (policy.rule(e)?.write?.size ?? 0) > 0))
    .filter((e) => !NOT_A_CREATE.includes(e));
  if (policy.readOnly || !created.length) return undefined;
  let org: Record<string, unknown> | undefined;
  try {
    const page = await jsonReader(get)<{ value?: Record<string, unknown>[] }>(
      '/organizations?$select=isduplicatedetectionenabled,isduplicatedetectionenabledforonlinecreateupdate',
    );
    org = page.value?.[0];
  } catch (err) {
    if (!(err instanceof Unchecked)) throw err;
    return {
      name: 'Duplicate detection',
      ok: true,
      warning: true,
      detail: `Not checked: ${err.message} when asked for the organisation's duplicate detection settings.`,
      fix: 'Give the application user read access to the Organization table (prvReadOrganization) to let doctor check them.',
    };
  }
  const off = [
    org?.isduplicatedetectionenabled !== true ? 'for the organisation' : undefined,
    org?.isduplicatedetectionenabledforonlinecreateupdate !== true ? 'when a record is created or updated' : undefined,
  ].filter(Boolean);
  if (off.length)
    return {
      name: 'Duplicate detection',
      ok: true,
      warning: true,
      detail: `Dynamics' duplicate detection is off ${off.join(' and ')}: only the tools' own check (the same email, or the same name) keeps the records they create from being duplicates.`,
      fix: `Turn it on (${SETTINGS}) for the organisation's rules to apply too.`,
    };
  const on = created.filter((e) => defs.find((d) => d.LogicalName === e)?.IsDuplicateDetectionEnabled?.Value === true);
  const rest = created.filter((e) => !on.includes(e));
  // the published rules by name, so an administrator sees which apply ("Duplicate Detection Rule" reference:
  // statecode 1 Active is a published rule)
  let rules: Map<string, string[]> | undefined;
  let unread = '';
  try {
    const page = await jsonReader(get)<{ value?: { name?: string; baseentityname?: string }[] }>(
      '/duplicaterules?$select=name,baseentityname&$filter=statecode eq 1',
    );
    rules = new Map();
    for (const r of page.value ?? [])
      if (r.baseentityname) rules.set(r.baseentityname, [...(rules.get(r.baseentityname) ?? []), String(r.name)]);
  } catch (err) {
    if (!(err instanceof Unchecked)) throw err;
    unread = ` (which rules are published could not be read: ${err.message})`;
  }
  const named = (e: string) =>
    !rules
      ? e
      : `${e} (${
          rules
            .get(e)
            ?.map((n) => `"${n}"`)
            .join(', ') ?? 'no published rule'
        })`;
  return {
    name: 'Duplicate detection',
    ok: true,
    detail: `The organisation's duplicate detection rules apply to the ${on.length ? on.map(named).join(', ') : 'no'} records the tools create or change${rest.length ? `; not to ${rest.join(', ')} (detection is off for ${rest.length > 1 ? 'those tables' : 'that table'}, where only the tools' own check runs)` : ''}${unread}.`,
  };
}
