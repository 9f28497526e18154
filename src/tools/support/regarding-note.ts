import { type Condition, type LeafCondition, leavesOutsideNot } from '../../dynamics/conditions.js';
import type { EntityModel } from '../../policy/model.js';
import type { ToolContext } from '../define.js';

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

/** Every condition on a column, those under a "not" too. */
const everyLeaf = (c: Condition): LeafCondition[] =>
  'and' in c ? c.and.flatMap(everyLeaf) : 'or' in c ? c.or.flatMap(everyLeaf) : 'not' in c ? everyLeaf(c.not) : [c];

/** The records an account's timeline takes activities from: the lists of them, by their customer lookup. */
const CUSTOMER_LOOKUPS: ReadonlySet<string> = new Set(['customerid', 'parentcustomerid']);

/**
 * Accounts or contacts chosen through their activities ("accounts with no activity in 90 days": {"not":
 * {"Account_ActivityPointers/createdon": …}}): those lists hold the activities whose Regarding is the record
 * itself, while its timeline in Dynamics also shows its deals', cases' and contacts' (GetEntityDataByRollup), and
 * a person's calls and emails are most often regarding a deal or case, naming them among the parties. Said on
 * every answer, as the rows found and left out both depend on it; for an account, with the paths through its
 * related records' lists that the policy follows, to be added beside the condition.
 */
export async function throughActivitiesNote(ctx: ToolContext, model: EntityModel, where: Condition): Promise<string> {
  if (model.logicalName !== 'account' && model.logicalName !== 'contact') return '';
  const activityList = (m: EntityModel, nav: string | undefined) => {
    const list = nav ? m.collectionNavs.get(nav.toLowerCase()) : undefined;
    return list?.referencingAttribute === 'regardingobjectid' ? list : undefined;
  };
  // each path's first step as the query reads it: a relationship, or the table it names ("activities",
  // "tasks"), which is the list of those regarding the record
  const listOf = async (head: string | undefined) => {
    if (!head) return undefined;
    const named = activityList(model, head);
    // a column ("name", "ownerid/fullname") is no list: nothing to look up
    if (named || model.columns.has(head.trim().toLowerCase())) return named;
    const table = await ctx.client.tableThrough(model.logicalName, head).catch(() => undefined);
    return [...model.collectionNavs.values()].find(
      (n) => n.referencingEntity === table && n.referencingAttribute === 'regardingobjectid',
    );
  };
  const paths = await Promise.all(
    everyLeaf(where).map(async (c) => {
      const steps = typeof c.column === 'string' ? c.column.trim().split('/') : [];
      return { steps, list: await listOf(steps[0]) };
    }),
  );
  const found = paths.find((p) => p.list);
  // already through a related list's activities too (its deals', its contacts'): the question is asked as the
  // timeline shows it. A lookup's path ("primarycontactid/parentcustomerid/name") is no such list
  const lookup = (head: string) =>
    model.columns.has(head.trim().toLowerCase()) || model.singleNavs.has(head.trim().toLowerCase());
  const related = paths.some((p) => p.steps.length > 2 && !p.list && !lookup(p.steps[0]!));
  if (!found || related) return '';
  const list = found.list!;
  const through = found.steps;
  const rest = through.slice(1).join('/');
  const own = ` Only activities whose Regarding is the ${model.logicalName} itself are in ${list.navigationProperty}`;
  // a person's calls and emails are mostly about a deal or case: they name the person among their parties
  if (model.logicalName !== 'account') return `${own}; ${AS_PARTY}.`;
  const negated = !leavesOutsideNot(where).some((c) => c.column.trim().split('/')[0] === through[0]);
  // the same kind of list on the account's deals, cases and contacts, where the policy follows both steps
  const others: string[] = [];
  for (const nav of model.collectionNavs.values()) {
    if (
      !CUSTOMER_LOOKUPS.has(nav.referencingAttribute) ||
      !ctx.policy.canFollow(model.logicalName, nav.navigationProperty)
    )
      continue;
    const table = await ctx.client.metadata.entity(nav.referencingEntity).catch(() => undefined);
    const theirs = table
      ? [...table.collectionNavs.values()].find(
          (n) =>
            n.referencingAttribute === 'regardingobjectid' &&
            n.referencingEntity === list.referencingEntity &&
            ctx.policy.canFollow(table.logicalName, n.navigationProperty),
        )
      : undefined;
    if (theirs) others.push(`"${nav.navigationProperty}/${theirs.navigationProperty}${rest ? `/${rest}` : ''}"`);
  }
  return `${own}: ${ONLY_ITS_OWN}, and Dynamics' timeline of the account shows it.${
    others.length
      ? ` To count those too, put the same condition through ${others.join(', ')} in an "or" with yours${negated ? ' (inside your "not", as you asked for none)' : ''}.`
      : ''
  }`;
}
