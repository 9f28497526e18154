import { z } from 'zod';
import type { ServerDeps } from '../server.js';
import { mergedWord, relatedWords } from '../tools/support/merge-records.js';

/** The tables whose duplicates the prompt looks for, as update_record merges them (merge-records.ts). */
const TABLES = ['account', 'contact', 'lead', 'incident'] as const;
type Table = (typeof TABLES)[number];

export const MERGE_DUPLICATES = {
  table: z.enum(TABLES).optional().describe('account, contact, lead or incident (cases) (default: account).'),
  name: z
    .string()
    .optional()
    .describe("Part of a name (a case's title) to look for duplicates of (default: every name used twice)."),
};

/** The tables whose duplicates this server merges: where the policy writes masterid and reads it (merge-records.ts). */
export const mergeable = (deps: ServerDeps): Table[] =>
  TABLES.filter(
    (t) => ['masterid', 'statecode'].every((c) => deps.policy.canRead(t, c)) && deps.policy.canWrite(t, 'masterid'),
  );

/**
 * How each table's duplicates are found and told apart: the state label of the records merged (open ones), the
 * values counted (names; a case's customer), the column a part of a name is looked for in, the columns read side
 * by side and their order, which records are candidates and what says two of them are different, what hangs from
 * each (the table and its column pointing back), and what the one kept takes.
 */
interface Found {
  open: string;
  noun: string;
  names: string[];
  named: string;
  select: string;
  order: string;
  same: string;
  differ: string;
  related: [string, string][];
  takes: string;
}
const FILLS = "the one kept keeps its own values and takes the duplicate's where it has none";
const FOUND: Readonly<Record<Table, Found>> = {
  account: {
    open: 'Active',
    noun: 'accounts',
    names: ['name'],
    named: 'name',
    select:
      '["name", "accountnumber", "telephone1", "emailaddress1", "websiteurl", "address1_city", "createdon", "ownerid"]',
    order: 'name asc',
    same: 'Records whose names are the same, or nearly (Inc, Ltd, punctuation, a typo),',
    differ: 'a different website, email domain, city or account number',
    takes: FILLS,
    related: [
      ['contact', 'parentcustomerid'],
      ['opportunity', 'customerid'],
      ['incident', 'customerid'],
    ],
  },
  contact: {
    open: 'Active',
    noun: 'contacts',
    names: ['fullname', 'emailaddress1'],
    named: 'fullname',
    select:
      '["fullname", "emailaddress1", "telephone1", "mobilephone", "jobtitle", "parentcustomerid", "createdon", "ownerid"]',
    order: 'fullname asc',
    same: 'Records whose names or emails are the same, or nearly (a nickname, punctuation, a typo),',
    differ: 'a different company, email or job',
    takes: FILLS,
    related: [
      ['opportunity', 'customerid'],
      ['incident', 'customerid'],
      ['phonecall', 'regardingobjectid'],
    ],
  },
  // leads are merged while open (merge-records.ts); "Leads with the same email address" is Dynamics' own rule
  lead: {
    open: 'Open',
    noun: 'leads',
    names: ['fullname', 'emailaddress1'],
    named: 'fullname',
    select:
      '["fullname", "emailaddress1", "companyname", "telephone1", "subject", "leadsourcecode", "createdon", "ownerid"]',
    order: 'fullname asc',
    same: 'Records whose names or emails are the same, or nearly (a nickname, punctuation, a typo),',
    differ: 'a different company, email or interest',
    takes: FILLS,
    related: [
      ['task', 'regardingobjectid'],
      ['phonecall', 'regardingobjectid'],
      ['email', 'regardingobjectid'],
    ],
  },
  incident: {
    open: 'Active',
    noun: 'cases',
    names: ['customerid'],
    named: 'title',
    select: '["title", "ticketnumber", "customerid", "description", "prioritycode", "createdon", "ownerid"]',
    order: 'createdon asc',
    same: "A customer's open cases that report one problem (the same fault, product or error in their titles and descriptions)",
    differ: 'a different problem, product, contact or day',
    related: [
      ['task', 'regardingobjectid'],
      ['phonecall', 'regardingobjectid'],
      ['incident', 'parentcaseid'],
    ],
    takes: 'the one kept keeps its own values (Dynamics merges no column of a case)',
  },
};

/**
 * The merge_duplicates prompt: the table's likely duplicates found (names used more than once, or those with a
 * part of a name), told apart from namesakes, each pair's related records counted, which to keep proposed, and
 * only the pairs the user confirms merged with update_record's masterid.
 */
export function mergeDuplicatesText(deps: ServerDeps, args: { table?: Table; name?: string }): string {
  const table = args.table ?? 'account';
  const allowed = mergeable(deps);
  if (!allowed.includes(table))
    return `Tell me that this server does not merge ${FOUND[table].noun}${allowed.length ? `; it merges ${allowed.map((t) => FOUND[t].noun).join(', ')}` : ''}. Change nothing.`;
  const f = FOUND[table];
  const primary = f.names[0]!;
  const given = args.name?.trim();
  const related = deps.policy.entities();
  const counts = f.related.filter(([t, c]) => related.includes(t) && deps.policy.canRead(t, c));
  const candidates = given
    ? `First the candidates: call query_entities on ${table} with where {"statecode": "${f.open}", "${f.named}": {"contains": ${JSON.stringify(given)}}}, select ${f.select}, orderBy "${f.order}" and top 50.\n`
    : `First the candidates: ${f.names
        .map(
          (n) =>
            `call aggregate_records on ${table} with where {"statecode": "${f.open}"${n === primary ? '' : `, "${n}": {"ne": null}`}}, groupBy "${n}", measures "count", orderBy "count desc" and top 25`,
        )
        .join('; then ')}: the values counted more than once are the candidates. ` +
      `Then read them: ${f.names
        .map(
          (n) =>
            `query_entities on ${table} with where {"statecode": "${f.open}", "${n}": {"in": [<the candidate ${n} values>]}}, select ${f.select}, orderBy "${n === primary ? f.order : `${n} asc`}" and top 50`,
        )
        .join('; then ')}.\n`;
  return (
    `Find duplicate ${f.noun} in Dynamics and help me merge them. Change nothing until I pick.\n` +
    candidates +
    `${f.same} are duplicates only if nothing says otherwise (${f.differ}): say which you take for the same and why, and which are not.\n` +
    (counts.length
      ? `For each pair, count what hangs from each: ${counts
          .map(
            ([t, c]) =>
              `aggregate_records on ${t} with where {"${c}": {"in": [<the pair's ids>]}}, groupBy "${c}" and measures "count"`,
          )
          .join('; ')}.\n`
      : '') +
    `Propose which of each pair to keep (the one with more related records, else the older), and show the columns where they differ: ${f.takes}.\n` +
    `Merge only the pairs I confirm, one call each: update_record with entity "${table}", the duplicate's id, and values {"masterid": "<id of the one kept>"}. The duplicate's related records (${relatedWords(table)}) move to the one kept and the duplicate is ${mergedWord(table)}${table === 'incident' ? ' as Merged' : ''}; Dynamics cannot undo a merge.`
  );
}
