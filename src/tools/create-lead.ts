import { z } from 'zod';
import type { Row } from '../dynamics/client.js';
import { emailAsMeant, isEmailAddress } from '../dynamics/coerce.js';
import type { Condition } from '../dynamics/conditions.js';
import { writeBody } from '../dynamics/write-body.js';
import { badInput } from '../errors.js';
import { type EntityModel, writtenColumn } from '../policy/model.js';
import { defineTool, type ToolContext } from './define.js';
import { type Elsewhere, toolArgs } from './support/args.js';
import { createOnce, createUnderRules, openWithinADay } from './support/dedupe.js';
import { lookupsByName, namesTaken } from './support/lookups-by-name.js';
import { captureLeads, leadsOf, MOST_LEADS } from './support/many-leads.js';
import { recordInUse } from './support/merge-records.js';
import { appOwnedNote } from './support/owner-note.js';
import { samePersonText, samePersonUpdate } from './support/same-person.js';
import { EMPTY } from './support/schemas.js';
import { compactRow, FORMATTED, recordUrl } from './support/shape.js';

const text = (max: number, what: string) => z.string().trim().min(1, EMPTY).max(max).describe(what);

/** The lead columns this tool sets from its own arguments, and which argument each is. */
const OWN_ARGUMENTS: Record<string, string> = {
  lastname: 'lastName',
  firstname: 'firstName',
  emailaddress1: 'email',
  telephone1: 'phone',
  companyname: 'company',
  subject: 'subject',
  description: 'description',
  leadsourcecode: 'source',
};

/** One lead's arguments, at the top level of a call or as one of its "leads". */
const LEAD = {
  firstName: text(50, 'First name.').optional(),
  // required of every lead, but not in the schema: with "leads", the top level has none (checked in leadsOf)
  lastName: text(50, 'Last name (required).').optional(),
  // checked with the lead's other values (capture), so that a bad address and a bad source are one answer
  email: z
    .preprocess(emailAsMeant, z.string({ error: 'email is text: one email address.' }).max(100))
    .optional()
    .describe('Email address; used to find duplicates.'),
  phone: text(50, 'Phone number.').optional(),
  company: text(100, 'Company name.').optional(),
  subject: text(300, 'Topic of the enquiry (default: "Web enquiry").').optional(),
  description: z.string().max(2000).optional().describe('Free text, e.g. the form message.'),
  source: z
    .union([z.string().max(100), z.number().int()], {
      error: (issue) =>
        issue.code === 'invalid_union' ? 'source is a label such as "Web", or its number.' : undefined,
    })
    .optional()
    .describe('Lead source: a label such as "Web", "Trade Show", "Partner", or its number.'),
  extra: z
    .record(
      z.string(),
      z.union([z.string().max(4000), z.number(), z.boolean(), z.null()], {
        error: (issue) =>
          issue.code === 'invalid_union' ? 'each extra value is text, a number, true/false or null.' : undefined,
      }),
    )
    .optional()
    .describe('Other writable lead columns, e.g. {"address1_postalcode": "98101", "jobtitle": "CTO"}.'),
  allowDuplicate: z.boolean().default(false).describe('Create even when a lead with this email exists.'),
};

/** The names models give a lead's arguments instead (at the top level and in each of "leads"). */
const LEAD_NAMES: {
  renamed: Record<string, LeadArg>;
  meant: Record<string, LeadArg | LeadArg[]>;
  elsewhere: Elsewhere<LeadArg>;
} = {
  renamed: {
    emailaddress1: 'email',
    emailAddress: 'email',
    telephone1: 'phone',
    phoneNumber: 'phone',
    companyname: 'company',
    leadsourcecode: 'source',
    leadSource: 'source',
    // the lead form's label for subject
    topic: 'subject',
    // what the person wrote on the form
    notes: 'description',
    message: 'description',
    comments: 'description',
  },
  meant: {
    // a lead's mobile phone is a column of its own, not its business phone: shown in "extra", not as phone
    mobilephone: [],
    // a whole name is not split here: which part is the family name depends on the person
    name: ['firstName', 'lastName'],
    fullName: ['firstName', 'lastName'],
    contactName: ['firstName', 'lastName'],
  },
  elsewhere: { into: 'extra', what: 'Other lead columns', example: '{"extra": {"jobtitle": "CTO"}}' },
};
type LeadArg = keyof typeof LEAD;

/** One of "leads", checked as the top-level arguments are (its own words in a refusal of a name it lacks). */
const ONE_LEAD = toolArgs('This lead', LEAD, LEAD_NAMES);

export type LeadArgs = z.infer<typeof ONE_LEAD>;

export const createLead = defineTool({
  name: 'create_lead',
  title: 'Create a lead',
  description:
    'Capture a lead (e.g. from a web form), or several in "leads". A lead with the same email is returned (duplicate: true) instead of created again, unless allowDuplicate. ' +
    'Other writable lead columns go in "extra".',
  inputSchema: toolArgs(
    'create_lead',
    {
      ...LEAD,
      leads: z
        .array(z.unknown())
        .max(MOST_LEADS, `leads takes at most ${MOST_LEADS} a call: send the rest in another call.`)
        .optional()
        .describe('Several leads, each of the arguments above; those beside it apply to all.'),
    },
    { ...LEAD_NAMES, meant: { ...LEAD_NAMES.meant, people: 'leads', contacts: 'leads', records: 'leads' } },
  ).transform((args, zc) => leadsOf(args, ONE_LEAD, zc)),
  // one lead: its id (or the one found) and link; several: each one's id, or why it was not created
  outputSchema: z.object({
    id: z.string().optional(),
    duplicate: z.boolean().optional(),
    url: z.string().optional(),
    ownerId: z.string().optional(),
    existing: z.record(z.string(), z.unknown()).optional(),
    leads: z
      .array(z.object({ id: z.string().optional(), duplicate: z.boolean().optional(), error: z.string().optional() }))
      .optional(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  writes: true,
  audited: () => ({ entity: 'lead', action: 'create' }),
  run: (args, ctx) =>
    args.leads ? captureLeads(ctx, args.leads, (lead) => capture(lead, ctx, true)) : capture(args, ctx),
});

/**
 * One lead: found by its email (or, without one, its name that day) or created. `many`: one of a call's
 * "leads", whose answer says once for them all what each single answer would repeat.
 */
async function capture(args: LeadArgs, ctx: ToolContext, many = false) {
  const values: Record<string, unknown> = {
    lastname: args.lastName,
    // a lead's Topic, which Dynamics' form asks for: the one given, or 'Web enquiry' where the policy lets the
    // tool write it (a policy that keeps Topic from the model still lets it capture leads)
    ...(args.subject !== undefined
      ? { subject: args.subject }
      : ctx.policy.canWrite('lead', 'subject')
        ? { subject: 'Web enquiry' }
        : {}),
    ...(args.firstName ? { firstname: args.firstName } : {}),
    ...(args.email ? { emailaddress1: args.email } : {}),
    ...(args.phone ? { telephone1: args.phone } : {}),
    ...(args.company ? { companyname: args.company } : {}),
    ...(args.description ? { description: args.description } : {}),
    ...(args.source !== undefined ? { leadsourcecode: args.source } : {}),
  };
  const extra = Object.entries(args.extra ?? {});
  const model = extra.length ? await ctx.client.metadata.entity('lead') : undefined;
  let emailGiven = args.email;
  for (const [k, v] of extra) {
    // by its logical name or its label ("Email"): a column with an argument of its own is that argument (an
    // email is checked for duplicates, as the argument is); given both ways, the two must agree
    const column = (model && writtenColumn(model, k))?.logicalName ?? k.toLowerCase();
    const own = OWN_ARGUMENTS[column];
    const argument = own ? (args as Record<string, unknown>)[own] : undefined;
    if (own && argument !== undefined && argument !== v)
      throw badInput(
        `"extra" has '${k}' (${JSON.stringify(v)}), and the argument '${own}' says ${JSON.stringify(argument)}.`,
        `Give it once, as "${own}".`,
      );
    if (own === 'email' && typeof v === 'string') emailGiven = String(emailAsMeant(v));
    values[column] = v;
  }
  // a lookup in "extra" written as the related record's name is the one record with it
  if (model) Object.assign(values, await lookupsByName(ctx, model, values));
  const postal =
    typeof values.address1_postalcode === 'string'
      ? values.address1_postalcode.replace(/\s+/g, '').toUpperCase()
      : undefined;
  // a rule gives the lead an owner only where the call gave none: the owner said wins, and the answer must not
  // name the rule's
  const rule =
    postal && values.ownerid === undefined
      ? ctx.config.leads.assignment.find((r) => postal.startsWith(r.postalCodePrefix.replace(/\s+/g, '').toUpperCase()))
      : undefined;
  // a rule's owner is a user or a team (web leads from a region often go to a sales team's queue)
  const owner = rule ? await ruleOwner(ctx, rule.ownerId) : undefined;
  if (owner) values.ownerid = { entity: owner.entity, id: owner.id };
  // every value checked before the lead is looked for: a column leads lack, or a value one cannot take, is
  // refused as the create would refuse it, not dropped where the same lead is found already
  await writeBody(await ctx.client.checker.entity('lead'), values, 'create', {
    policy: ctx.policy,
    metadata: ctx.client.metadata,
  });
  // (writeBody refuses an address that is none where the column is formatted Email, as a lead's is, beside
  // any other value it refuses; an organisation whose column is not is held to the same here)
  if (emailGiven && !isEmailAddress(emailGiven))
    throw badInput(
      `email is an email address; '${emailGiven}' is not one.`,
      'Pass one address alone, e.g. ana@example.com.',
    );
  const email = emailGiven?.toLowerCase();
  const said: Said = { model, rule, owner, many };
  if (args.allowDuplicate) return create(ctx, values, undefined, said, true);
  // the same lead asked for again without an email: the same name (and company) made within the last day, still
  // open (a model that lost the answer, or asked twice). With an email no lead has, the same person's lead made
  // that day without one (taken by phone, then the web form): theirs, for the email to be added to it
  const byName = ['firstname', 'lastname', 'companyname', 'createdon'].every((c) => ctx.policy.canRead('lead', c));
  if (!email && !byName) return create(ctx, values, undefined, said, false);
  // (with an email, only where the policy lets the model see that the lead has none)
  const unmailed = byName && ctx.policy.canRead('lead', 'emailaddress1');
  const named: Condition = {
    and: (['firstname', 'lastname', 'companyname'] as const).map((c) =>
      typeof values[c] === 'string' ? { column: c, op: 'eq', value: values[c] as string } : { column: c, op: 'null' },
    ),
  };
  // one check-then-create per email (or name) at a time in this process; across processes the name-based id decides
  return createOnce(
    ctx,
    email
      ? `lead:${email}`
      : `lead-name:${[values.firstname, values.lastname, values.companyname].join('|').toLowerCase()}`,
    async () => {
      const looked = email ? await byEmail(ctx, email, unmailed ? named : undefined) : await existing(ctx, named, true);
      // the email's closed lead, for the new one's answer to name
      said.earlier = 'earlier' in looked ? looked.earlier : undefined;
      return looked;
    },
    (id) => create(ctx, values, id, said, false),
    async (found) => {
      await ctx.audit.record({
        tool: 'create_lead',
        entity: 'lead',
        id: String(found.id),
        action: 'create',
        columns: {},
        caller: ctx.caller,
        outcome: 'duplicate: existing lead returned',
      });
      // asked for without an email: by the name; with one: by it, or (where the policy lets the model see that
      // the lead has none) by the name of a lead without one
      if (!email) return duplicateResult(ctx, found, 'name', many);
      return !(unmailed && !found.emailaddress1)
        ? duplicateResult(ctx, found, 'email', many)
        : duplicateResult(ctx, found, 'name', many, {
            emailaddress1: email,
            // the subject given, not the default; an owner a postal-code rule gave, not what the call said
            ...samePersonUpdate({ ...values, subject: args.subject, ...(rule ? { ownerid: undefined } : {}) }, [
              'firstname',
              'lastname',
              'companyname',
              'emailaddress1',
            ]),
          });
    },
  );
}

/**
 * The leads the condition finds, newest first: the one to return (with an email, the newest; by name, only an
 * open one made within the last day) and how many there are (the n-th's id is fixed: dedupe.ts).
 */
async function existing(ctx: ToolContext, where: Condition, recentOnly: boolean) {
  const page = await ctx.client.query(
    { entity: 'lead', select: leadColumns(ctx), where, orderBy: 'createdon desc', top: 50 },
    { signal: ctx.signal, internal: true },
  );
  if (recentOnly) {
    const row = openWithinADay(page.rows);
    return { found: row ? compactRow(page.entity, row) : undefined, count: page.rows.length };
  }
  return { ...(await sameEmailLead(ctx, page.entity, page.rows)), count: page.rows.length };
}

/** What a lead found as the one asked for again is read with: whether it was merged, where the policy shows it */
const leadColumns = (ctx: ToolContext) => [
  'fullname',
  'companyname',
  'emailaddress1',
  'statecode',
  'createdon',
  ...(ctx.policy.canRead('lead', 'masterid') ? ['masterid'] : []),
];

/**
 * Of one email's leads (newest first), the one a new lead with it is: an open one (of two leads merged, the one
 * kept, not the newer duplicate, which Dynamics disqualifies), with `merged` the lead found where it was merged
 * into that one. Only an open lead is the same lead, as Dynamics' own rule for leads leaves out inactive ones: a
 * person whose lead was qualified (a customer now) or disqualified who writes again is a new enquiry, and the lead
 * before it is `earlier`, for the answer to name.
 */
async function sameEmailLead(
  ctx: ToolContext,
  model: EntityModel,
  rows: readonly Row[],
): Promise<{ found?: Record<string, unknown>; earlier?: Earlier }> {
  const open = rows.filter((r) => r.statecode === 0);
  const inUse = await recordInUse(ctx, model, [...open, ...rows.filter((r) => !open.includes(r))], leadColumns(ctx));
  if (!inUse) return {};
  const { row, merged } = inUse;
  if (row.statecode === 0) return { found: { ...compactRow(model, row), ...(merged ? { merged } : {}) } };
  const state = row[`statecode${FORMATTED}`] ?? row.statecode;
  return { earlier: { id: String(row.leadid), name: String(row.fullname ?? ''), state: String(state) } };
}

/** An email's lead before a new one: closed (qualified or disqualified), named in the new one's answer */
type Earlier = { id: string; name: string; state: string };

/**
 * The lead with this email, newest first; else, where `named` is given, an open lead of the same name without an
 * email made within the last day (one search: the email's leads or that name's). The count is the email's
 * leads alone: the id of the next one is fixed by it (dedupe.ts).
 */
async function byEmail(ctx: ToolContext, email: string, named: Condition | undefined) {
  const mailed: Condition = { column: 'emailaddress1', op: 'eq', value: email };
  if (!named) return existing(ctx, mailed, false);
  const unmailed: Condition = { and: [named, { column: 'emailaddress1', op: 'null' }] };
  const page = await ctx.client.query(
    { entity: 'lead', select: leadColumns(ctx), where: { or: [mailed, unmailed] }, orderBy: 'createdon desc', top: 50 },
    { signal: ctx.signal, internal: true },
  );
  // Dataverse compares text without regard to case
  const withEmail = page.rows.filter((r) => String(r.emailaddress1 ?? '').toLowerCase() === email);
  const same = withEmail.length ? await sameEmailLead(ctx, page.entity, withEmail) : {};
  if (same.found) return { found: same.found, count: withEmail.length };
  const row = openWithinADay(page.rows.filter((r) => !r.emailaddress1));
  return { found: row ? compactRow(page.entity, row) : undefined, count: withEmail.length, earlier: same.earlier };
}

/** `update`: what this call gives (its email first), which the lead found by its name lacks */
function duplicateResult(
  ctx: ToolContext,
  lead: Record<string, unknown>,
  by: 'email' | 'name',
  many: boolean,
  update?: Record<string, unknown>,
) {
  const { merged, ...existing } = lead;
  const id = String(lead.id);
  const structured = { id, duplicate: true, url: recordUrl(ctx.config.dynamics.url, 'lead', id), existing };
  const which =
    by === 'email'
      ? merged
        ? `The lead with this email (${String(merged)}) was merged into another, which is the one in use`
        : 'A lead with this email already exists'
      : `A lead named ${String(lead.fullname ?? '')}${lead.companyname ? ` at ${String(lead.companyname)}` : ''}, without an email, was created within the last day and is still open`;
  // the same person's lead without the email this call gives: what the call says is the user's to add to it
  const text = update
    ? samePersonText(which, id, update)
    : `${which} (${id}); it was not created again.${many ? '' : ' Pass allowDuplicate: true to create another.'}`;
  return { structured, text };
}

/** What the answer says beside the lead: the lead's columns (lookups given by name), the assignment rule applied */
type Said = {
  model?: EntityModel;
  rule?: { postalCodePrefix: string; ownerId: string };
  owner?: RuleOwner;
  /** one of several leads: who owns it is said once, for them all (many-leads.ts) */
  many: boolean;
  /** the email's lead before this one, closed: a new enquiry from someone known */
  earlier?: Earlier;
};

async function create(
  ctx: ToolContext,
  values: Record<string, unknown>,
  id: string | undefined,
  said: Said,
  allowDuplicate: boolean,
) {
  const ownerId = said.rule?.ownerId;
  const model = await ctx.client.checker.entity('lead');
  const outcome = await createUnderRules(ctx, 'create_lead', model, values, () =>
    ctx.client.create('lead', values, { signal: ctx.signal, id, allowDuplicate }),
  );
  if ('matched' in outcome) {
    const { id: existingId, url, existing, text } = outcome.matched;
    return { structured: { id: existingId, duplicate: true, url, existing }, text };
  }
  const r = outcome.made;
  await ctx.audit.record({
    tool: 'create_lead',
    entity: 'lead',
    id: r.id,
    action: 'create',
    columns: values,
    caller: ctx.caller,
  });
  const structured = {
    id: r.id,
    duplicate: false,
    url: recordUrl(ctx.config.dynamics.url, 'lead', r.id),
    ...(ownerId ? { ownerId } : {}),
  };
  const owned = appOwnedNote(ctx, model, values);
  const taken = said.model ? namesTaken(said.model, values) : '';
  const name = [values.firstname, values.lastname].filter((v) => typeof v === 'string' && v.trim()).join(' ');
  const assigned =
    said.rule && said.owner
      ? `, assigned to ${said.owner.said} by the rule for postal codes ${said.rule.postalCodePrefix}…`
      : '';
  const before = said.earlier
    ? ` This email's earlier lead${said.earlier.name ? `, "${said.earlier.name}"` : ''} (${said.earlier.id}), is ${said.earlier.state}: this one is a new enquiry.`
    : '';
  return {
    structured,
    text: `Created lead ${name ? `"${name}" (${r.id})` : r.id}${assigned}${said.many ? '.' : `: ${structured.url}`}${said.many ? '' : `${taken}${owned}`}${before}`,
    appOwned: owned !== '',
    taken,
  };
}

/** The owner an assignment rule names: its table, and how the answer says who it is. */
type RuleOwner = { entity: 'systemuser' | 'team'; id: string; said: string };

/**
 * The user or team an assignment rule's id is (the configuration takes either), and its name for the answer to
 * say who the rule gave the lead to (an id tells the user nothing). A user where neither is found, or the
 * policy keeps both tables' names from the model: the lead is then bound as before, and Dynamics says if no user
 * has the id.
 */
async function ruleOwner(ctx: ToolContext, id: string): Promise<RuleOwner> {
  const named = async (entity: 'systemuser' | 'team', name: string) => {
    if (!ctx.policy.canRead(entity, name) || !ctx.policy.canRead(entity, `${entity}id`)) return undefined;
    const page = await ctx.client
      .query(
        { entity, select: [name], where: { column: `${entity}id`, op: 'eq', value: id }, top: 1 },
        { signal: ctx.signal, internal: true },
      )
      .catch(() => undefined);
    const row = page?.rows[0];
    return row ? String(row[name] ?? '') : undefined;
  };
  const user = await named('systemuser', 'fullname');
  if (user !== undefined) return { entity: 'systemuser', id, said: user ? `${user} (${id})` : `the user ${id}` };
  const team = await named('team', 'name');
  if (team !== undefined) return { entity: 'team', id, said: `the team ${team || id}${team ? ` (${id})` : ''}` };
  return { entity: 'systemuser', id, said: `the user ${id}` };
}
