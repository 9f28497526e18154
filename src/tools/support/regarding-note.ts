import { type Condition, leavesOutsideNot } from '../../dynamics/conditions.js';
import type { EntityModel } from '../../policy/model.js';

/** The tables whose Dynamics timeline shows their related records' activities (GetEntityDataByRollup). */
const ROLLED_UP: ReadonlySet<string> = new Set(['account', 'contact', 'opportunity']);

const ONLY_ITS_OWN =
  "one about a record related to it (an account's contacts, opportunities or cases) has that record as its Regarding";
/** how to ask for those: by the related records' ids */
const BY_IDS = 'query activitypointer with {"regardingobjectid": {"in": [<their ids>]}} (query_entities gives the ids)';
/** and a person's: the emails, calls and meetings they were on, which name them among their parties */
const AS_PARTY =
  'an email, call or meeting a person was on names them among its parties: query email, phonecall or appointment with {"<table>_activity_parties": {"partyid": "<their name>"}}';

/**
 * After activities asked for by the record they are about came back empty, what the model should know before
 * it tells the user "nothing with them": only activities whose Regarding is that record are found, not the
 * emails and calls a person was on (they are parties of those, whatever they are regarding). A task
 * about an account's deal has the deal as its Regarding, and Dynamics' timeline of an account, contact or
 * opportunity rolls up the activities of records related to it (Microsoft's GetEntityDataByRollup: "all
 * Activities Related to a given Entity ID. Only Account, Contact and Opportunity entities are supported"),
 * which the user may have looked at. Said only on an empty answer (the one taken for "none"), and not for a
 * condition under "not".
 */
export function regardingOnlyNote(model: EntityModel, where: Condition): string {
  if (!model.columns.has('regardingobjectid')) return '';
  const leaves = leavesOutsideNot(where).map((c) => ({ ...c, column: c.column.trim().toLowerCase() }));
  const asks = leaves.some((c) => c.column === 'regardingobjectid' && (c.op === 'eq' || c.op === 'in'));
  if (!asks) return '';
  // conditions through the Regarding (regardingobjectid_opportunity_task/parentaccountid: the account's deals'
  // tasks, as account_brief asks) already reach related records: only the parties are left to say
  const related = leaves.some((c) => c.column.startsWith('regardingobjectid_') && c.column.includes('/'));
  return related
    ? ` ${AS_PARTY[0]!.toUpperCase()}${AS_PARTY.slice(1)}.`
    : ` Only activities whose Regarding is that record itself are found: ${ONLY_ITS_OWN}; to include them, ${BY_IDS}. And ${AS_PARTY}.`;
}

/**
 * The same for get_record's list of a record's activities ("activities" expanded) that came back empty, on the
 * tables whose timeline rolls up their related records' activities.
 */
export function noActivitiesNote(model: EntityModel, record: Record<string, unknown>, relations: string[]): string {
  if (!ROLLED_UP.has(model.logicalName)) return '';
  const empty = relations.some((r) => {
    const nav = model.collectionNavs.get(r.toLowerCase());
    const list = record[r];
    return nav?.referencingAttribute === 'regardingobjectid' && Array.isArray(list) && !list.length;
  });
  if (!empty) return '';
  const person = model.logicalName === 'contact' ? ` And ${AS_PARTY}.` : '';
  return ` No activity is regarding this ${model.logicalName} itself: ${ONLY_ITS_OWN}; to see those, ${BY_IDS}.${person}`;
}
