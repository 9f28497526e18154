import { z } from 'zod';
import type { WriteValues } from '../dynamics/client.js';
import { emailAsMeant, guidValue, isGuidText } from '../dynamics/coerce.js';
import type { Condition } from '../dynamics/conditions.js';
import { assertLinkable } from '../dynamics/links.js';
import { isPartyList } from '../dynamics/party-lists.js';
import { allFaults, faultsOf, isValueFault, REQUIRED, writeBody } from '../dynamics/write-body.js';
import { aTable, badInput, policyError } from '../errors.js';
import { resolveTable } from '../policy/check.js';
import { columnSetBy, type EntityModel, writtenColumn } from '../policy/model.js';
import { defineTool, type ToolContext } from './define.js';
import { listedAs } from './list-cache.js';
import { toolArgs } from './support/args.js';
import { edgesAsDays } from './support/date-words.js';
import { newDealMoved, stageWritten } from './support/deal-stage.js';
import { createOnce, createUnderRules, sameDaySince, utcDay } from './support/dedupe.js';
import { stateAfterCreate, writeStateAfterCreate } from './support/done-activity.js';
import { type LinksNamed, linkAll, linkAskText, linksAsked, linksNamed } from './support/links.js';
import { masterColumn } from './support/lookup-names.js';
import { lookupsByName, namesTaken } from './support/lookups-by-name.js';
import { createEach, EACH_RECORD, MOST_RECORDS, oneOrMany } from './support/many-records.js';
import { recordInUse } from './support/merge-records.js';
import { appOwnedNote } from './support/owner-note.js';
import { phoneDigits } from './support/phoned.js';
import { givenId, LINE, lineAsMeant, lineText } from './support/product-line.js';
import { putRecordInQueue } from './support/queue-move.js';
import { samePersonText, samePersonUpdate } from './support/same-person.js';
import { entityParam } from './support/schemas.js';
import { compactRow, recordUrl } from './support/shape.js';
import { declinedByUser, stateNamedAsReason } from './support/state-change.js';
import { createValuesParam } from './support/write-values.js';

/**
 * Tables whose records are made by a tool of their own, which checks what a plain create would not (a lead's
 * email, a case's alert, a note's day) or which Dynamics makes through an action.
 */
const OWN_TOOL: Readonly<Record<string, string>> = {
  lead: 'create_lead (it finds a lead with the same email first)',
  incident: 'create_case (it finds a case still open for the same alert first)',
  annotation: 'add_note',
  incidentresolution: 'resolve_case (Dynamics writes a Case Resolution when it resolves a case)',
  opportunityclose: 'update_record with statecode "Won" or "Lost" (Dynamics writes an Opportunity Close then)',
};

/**
 * A deal's Potential Customer (customerid), which Dynamics' opportunity forms no longer show: they fill it from
 * the Account given, else the Contact (so a model that names only the account is not sent back for it).
 */
const CUSTOMER_FROM: Readonly<Record<string, { column: string; from: readonly [string, string][] }>> = {
  opportunity: {
    column: 'customerid',
    from: [
      ['parentaccountid', 'account'],
      ['parentcontactid', 'contact'],
    ],
  },
};

/**
 * Tables where only an open record is the same one: activities, done or canceled, are history; an email sent or
 * received with the subject a reply repeats ("RE: …") is not the draft of that reply
 */
const OPEN_ONLY = new Set(['task', 'email']);
/**
 * Tables where a record is the same one only on the day it was made, whatever its state: a call is logged, then
 * completed, so a model repeating itself that day means the call already logged; another day, another call.
 */
const ONCE_A_DAY = new Set(['phonecall']);
/**
 * Tables where a record is the same one only at the same start: a meeting called "Renewal review" about an
 * account every Monday is a meeting a week, and the same start time is the one already booked.
 */
const SAME_START = new Set(['appointment']);
const todayUtc = () => utcDay(Date.now());

function customerFromParents(ctx: ToolContext, model: EntityModel, values: WriteValues): WriteValues {
  const rule = CUSTOMER_FROM[model.logicalName];
  if (!rule || !ctx.policy.canWrite(model.logicalName, rule.column)) return values;
  const setBy = (k: string) => columnSetBy(model, k);
  const keys = Object.keys(values);
  if (keys.some((k) => setBy(k) === rule.column)) return values;
  for (const [column, table] of rule.from) {
    const v = values[keys.find((k) => setBy(k) === column && !k.includes('@')) ?? ''];
    const id = typeof v === 'string' ? v : (v as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && isGuidText(id))
      return { ...values, [rule.column]: { entity: table, id: guidValue(id, `${model.logicalName}.${column}`) } };
  }
  return values;
}

/** What a create answers: the record made or found, in words and as structured content */
type Made = {
  structured: {
    entity: string;
    id?: string;
    duplicate: boolean;
    url?: string;
    existing?: Record<string, unknown>;
    state?: string;
  };
  text: string;
};

/**
 * Set by Dynamics on create whatever is sent: the owner (the caller), the state and its reason; and never left
 * without a value: a yes/no column, which takes its default where none is sent, as a form shows it (a use of a
 * knowledge article is not Sent To Customer until someone says so).
 */
const SET_BY_DYNAMICS = new Set(['Owner', 'State', 'Status', 'Boolean']);

/** A create as the audit log has it */
const CREATE = {
  name: 'create_record',
  audited: (a: Record<string, unknown>) => ({ entity: String(a.entity), action: 'create' as const }),
};

export const createRecord = defineTool({
  name: 'create_record',
  title: 'Create a Dynamics record',
  description:
    'Create a record in a table describe_entity marks create: true, e.g. an account, contact, opportunity, task or phonecall (leads, cases and notes have their own tools). "values" as in update_record; a task or call already done takes statecode "Completed"; a call\'s from and to take names. ' +
    'A record with the same email, or else name, is returned (duplicate: true) instead, unless allowDuplicate.',
  inputSchema: toolArgs(
    'create_record',
    {
      entity: entityParam,
      // listed as an object (or a list of them): update_record lists the values it takes in full
      values: listedAs(
        z.unknown().transform((v, zc) => oneOrMany('values', createValuesParam, v, zc)),
        {
          description: `Column → value, as update_record takes them, e.g. {"name": "Contoso"}; a list of those (up to ${MOST_RECORDS}) makes several.`,
          anyOf: [{ type: 'object' }, { type: 'array', maxItems: MOST_RECORDS, items: { type: 'object' } }],
        },
      ),
      allowDuplicate: z.boolean().default(false).describe('Create even when one exists.'),
    },
    {
      renamed: {
        fields: 'values',
        data: 'values',
        attributes: 'values',
        record: 'values',
        // several records' values
        records: 'values',
        items: 'values',
        table: 'entity',
      },
      elsewhere: { into: 'values', what: 'Columns', example: '{"values": {"name": "Contoso"}}' },
    },
  ),
  // one record: its id (or the one found); several: each one's outcome (records)
  outputSchema: z.object({
    entity: z.string().optional(),
    id: z.string().optional(),
    duplicate: z.boolean().optional(),
    url: z.string().optional(),
    existing: z.record(z.string(), z.unknown()).optional(),
    state: z.string().optional(),
    records: EACH_RECORD.optional(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  writes: true,
  audited: CREATE.audited,
  run: (args, ctx) =>
    Array.isArray(args.values)
      ? createEach(
          ctx,
          args.values as WriteValues[],
          (values) => ({ ...args, values }),
          CREATE,
          (values, own) => createOne({ ...args, values }, own),
        )
      : createOne({ ...args, values: args.values as WriteValues }, ctx),
});

/** One record's create: the whole of create_record for one set of values. */
async function createOne(args: { entity: string; values: WriteValues; allowDuplicate: boolean }, ctx: ToolContext) {
  const logical = await resolveTable(args.entity, ctx.policy, ctx.client.metadata);
  const own = OWN_TOOL[logical];
  if (own) throw badInput(`New ${logical} records are made with ${own}.`, `Call ${own.split(' ')[0]} instead.`);
  if (!ctx.policy.canCreate(logical))
    throw policyError(
      `Creating ${logical} records is not allowed under this server's policy.`,
      ctx.policy.creatable().length
        ? `Tables you may create records in: ${ctx.policy.creatable().join(', ')}.`
        : 'This server creates no records of that kind; leads, cases and notes have their own tools.',
    );
  const model = await ctx.client.checker.entity(logical);
  // records to link through a many-to-many relationship ("a deal against Nimbus CRM"): named and allowed before
  // anything is made, linked once it is
  const { columns, links: linkAsks } = linksAsked(model, args.values);
  const links: LinksNamed[] = [];
  for (const l of linkAsks) {
    assertLinkable(ctx.policy, model, l.nav);
    if (l.remove.length)
      throw badInput(
        `values.${l.nav.navigationProperty}: a new ${logical} has nothing to unlink.`,
        `Name the ${l.nav.referencingEntity} records to link: {"${l.nav.navigationProperty}": ["<name or id>"]}.`,
      );
    links.push(await linksNamed(ctx, l));
  }
  // a lookup written as the related record's name ("parentcustomerid": "Contoso Ltd") is the one record with it
  // a date-only column given a period's edge ("end of next quarter"): that day, said in the answer
  const dated = await edgesAsDays(ctx, model, columns);
  // a product on a deal: its unit, write-in and pricing as Dynamics' Add Product form fills them
  const line = await lineAsMeant(
    ctx,
    model,
    customerFromParents(ctx, model, await lookupsByName(ctx, model, numberDialled(ctx, model, dated.values))),
  );
  const given = draftFrom(ctx, model, line.values);
  // a case or an activity put in a queue: Dynamics' AddToQueue, which moves it from the queue it is in
  if (logical === 'queueitem') return putRecordInQueue(ctx, model, given);
  // an activity already done ("log the call I just had"): made first, then given the state asked
  // a deal made at a stage: its Sales Stage with its Pipeline Phase, and its Sales Process bar moved there once made
  const { values, state, asked } = stateAfterCreate(model, stageWritten(ctx, model, stateNamedAsReason(model, given)));
  // refused before anything is made, rather than made and left open
  if (state && !ctx.policy.canWrite(logical, 'statecode'))
    throw policyError(
      `${logical}.statecode is not writable under this server's policy, so a ${logical} cannot be made done.`,
      `Leave statecode out to make it open; describe_entity('${logical}') lists the columns you may write.`,
    );
  // a record that pairs two others is nothing without both (Dataverse would take it; nobody could use it)
  const pair = PAIRED[logical];
  if (pair) {
    const set = new Set(
      Object.entries(values)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k]) => columnSetBy(model, k)),
    );
    const missing = [pair.item, pair.on].filter((c) => !set.has(c));
    if (missing.length)
      throw badInput(
        `A ${logical} records ${aTable(tableOf(model, pair.item))} used on ${aTable(tableOf(model, pair.on))}: it needs ${missing.join(' and ')}.`,
        `Pass {"${pair.item}": "<${tableOf(model, pair.item)} id or name>", "${pair.on}": "<${tableOf(model, pair.on)} id or number>"}.`,
      );
  }
  await assertRequired(ctx, model, values);
  // every value checked before the record is looked for: a column the table lacks, or a value it cannot take,
  // is refused as the create would refuse it, not dropped where the same record is found already
  await writeBody(model, values, 'create', { policy: ctx.policy, metadata: ctx.client.metadata });
  const done = async (found: Made): Promise<Made> => {
    const made = await linkedAfterCreate(ctx, model, found, links);
    const worked = [...dated.worked, ...line.said];
    // a product added to a deal: what Dynamics priced and summed it to, and what that did to the deal's value
    const priced =
      logical === LINE.table && made.structured.id && !made.structured.duplicate
        ? await lineText(ctx, made.structured.id)
        : '';
    // an email made through the Web API is a draft: said, so that nobody takes it for sent
    const drafted =
      logical === 'email' && made.structured.id && !made.structured.duplicate
        ? ` It is a draft${sender(model, values) ? '' : ' with no From, which whoever sends it sets in Dynamics'}: Dynamics sends it only when a person sends it there (this server sends no email).`
        : '';
    const staged =
      logical === 'opportunity' && made.structured.id && !made.structured.duplicate
        ? await newDealMoved(ctx, model, made.structured.id, values)
        : '';
    const r =
      worked.length && !made.structured.duplicate
        ? { ...made, text: `${made.text} ${worked.join('; ')}.${priced}${drafted}${staged}` }
        : { ...made, text: `${made.text}${priced}${drafted}${staged}` };
    if (!state || asked === undefined || !r.structured.id) return r;
    const now = await writeStateAfterCreate(ctx, model, r.structured.id, state, asked, r.structured.duplicate);
    const shown = [now.statecode, now.statuscode].filter((v) => typeof v === 'string').join(', ');
    return { structured: { ...r.structured, state: shown }, text: `${r.text} It is ${shown}.` };
  };
  // a record can be looked for only by what the policy lets the model read
  const key = duplicateKey(model, values, (c) => ctx.policy.canRead(logical, c));
  if (!key || args.allowDuplicate) return done(await create(ctx, model, values, undefined, args.allowDuplicate));
  // one check-then-create per key at a time in this process; across processes the name-based id decides
  const day = ONCE_A_DAY.has(logical) ? `:${todayUtc()}` : '';
  const said = `${logical}:${key.match.map((m) => `${m.column}:${m.value.toLowerCase()}`).join(':')}:${key.customer?.id ?? ''}${day}`;
  return done(
    await createOnce(
      ctx,
      said,
      () => existing(ctx, model, key),
      (id) => create(ctx, model, values, id, false),
      (found) => duplicate(ctx, model, found, values),
    ),
  );
}

/**
 * A draft email given to a user (ownerid) without a From: from that user, who is to send it. Dynamics' email form
 * fills From with the user who writes it; an email made through the Web API is given none.
 */
function draftFrom(ctx: ToolContext, model: EntityModel, values: WriteValues): WriteValues {
  if (model.logicalName !== 'email' || !ctx.policy.canWrite('email', 'from') || sender(model, values)) return values;
  const owner = Object.entries(values).find(([k]) => writtenColumn(model, k)?.logicalName === 'ownerid')?.[1];
  const user = owner && typeof owner === 'object' && (owner as { entity?: unknown }).entity === 'systemuser';
  return user ? { ...values, from: [owner] } : values;
}

/** Whether an email's values give it a From */
const sender = (model: EntityModel, values: WriteValues): boolean => {
  const from = Object.entries(values).find(([k]) => writtenColumn(model, k)?.logicalName === 'from')?.[1];
  return Array.isArray(from) ? from.length > 0 : from !== undefined && from !== null;
};

/**
 * A new record linked to the records named for its many-to-many relationships (update_record's form). A record
 * found instead (a duplicate) is not changed: the user asked for a new one, and said so.
 */
async function linkedAfterCreate(ctx: ToolContext, model: EntityModel, made: Made, links: LinksNamed[]): Promise<Made> {
  const id = made.structured.id;
  if (!links.length || !id) return made;
  if (made.structured.duplicate)
    return {
      ...made,
      text: `${made.text} Nothing was linked to it (${links.map(linkAskText).join('; ')}): it is an existing record; if it is the one meant, link them with update_record.`,
    };
  const linked = await linkAll(ctx, 'create_record', model, id, links);
  // said in the text: the output schema, which tools/list carries to every model, is at its budget
  return { ...made, text: `${made.text}${linked.text}` };
}

/**
 * The columns Dynamics' forms require that the model may write, each with a value: a record made here is one
 * a person could have saved (the Web API alone would take an account without a name). Refused with whatever
 * else is wrong with the values (a column of another name, a label no choice has), so that one call corrects all.
 */
async function assertRequired(ctx: ToolContext, model: EntityModel, values: WriteValues): Promise<void> {
  const given = new Set(
    Object.entries(values)
      // blank text is no value: an account named "   " is an account without a name; a lookup bound as the
      // Web API binds it sets its column too
      .filter(([k, v]) => k.includes('@') || (v !== null && (typeof v !== 'string' || v.trim() !== '')))
      .map(([k]) => columnSetBy(model, k)),
  );
  const missing = [...model.columns.values()].filter(
    (c) =>
      REQUIRED.has(c.requiredLevel) &&
      !SET_BY_DYNAMICS.has(c.type) &&
      c.validForCreate &&
      ctx.policy.canWrite(model.logicalName, c.logicalName) &&
      !given.has(c.logicalName),
  );
  if (!missing.length) return;
  // a contact's fullname is Dynamics' own, made from the name's parts: say so where it was sent instead, and
  // where the name given has two words, which is which (the model passes them; a longer one is not guessed)
  const primary = model.columns.get(model.primaryNameAttribute.toLowerCase());
  const parts = ['firstname', 'lastname'].every((c) => ctx.policy.canWrite(model.logicalName, c));
  const sent = Object.entries(values).find(
    ([k]) => (primary && columnSetBy(model, k) === primary.logicalName) || (parts && k.trim().toLowerCase() === 'name'),
  )?.[1];
  const derived =
    primary && sent !== undefined && !ctx.policy.canWrite(model.logicalName, primary.logicalName)
      ? `; ${primary.logicalName} is not written but made by Dynamics from ${parts ? 'firstname and lastname' : 'other columns'}`
      : '';
  const words = typeof sent === 'string' ? sent.trim().split(/\s+/) : [];
  const split =
    parts && words.length === 2
      ? ` For '${words.join(' ')}': "firstname": "${words[0]}", "lastname": "${words[1]}".`
      : '';
  const needs = badInput(
    `A new ${model.logicalName} needs ${missing.map((c) => `${c.logicalName} (${c.label})`).join(', ')}${derived}.`,
    `Add ${missing.length === 1 ? 'it' : 'them'} to "values"; describe_entity('${model.logicalName}') lists the columns.${split}`,
  );
  const others = await writeBody(model, values, 'create', { policy: ctx.policy, metadata: ctx.client.metadata }).then(
    () => [],
    (err: unknown) => (isValueFault(err) ? faultsOf(err) : []),
  );
  throw allFaults(model, [needs, ...others]);
}

/**
 * A call whose From or To is given as a phone number ("to": "+1 555 678 4478"): the person is the record with
 * that number (lookupsByName), and the number itself is the call's Phone Number where none is given and the
 * policy lets it be written, as the call's form fills it from the person chosen; the number is not lost.
 */
function numberDialled(ctx: ToolContext, model: EntityModel, values: WriteValues): WriteValues {
  const phone = model.columns.get('phonenumber');
  if (phone?.format !== 'Phone' || !ctx.policy.canWrite(model.logicalName, phone.logicalName)) return values;
  if (Object.keys(values).some((k) => writtenColumn(model, k)?.logicalName === phone.logicalName)) return values;
  const dialled = Object.entries(values)
    .filter(([k]) => {
      const c = writtenColumn(model, k);
      return !!c && isPartyList(c);
    })
    .flatMap(([, v]) => (Array.isArray(v) ? v : [v]))
    .find((v): v is string => typeof v === 'string' && phoneDigits(v) !== undefined);
  return dialled ? { ...values, [phone.logicalName]: dialled.trim() } : values;
}

/** Tables whose record pairs two others: the one used (`item`) and the one it was used on (`on`). */
const PAIRED: Readonly<Record<string, { item: string; on: string }>> = {
  knowledgearticleincident: { item: 'knowledgearticleid', on: 'incidentid' },
};

/** the table a lookup column of `model` points to (its first), said in place of the column */
const tableOf = (model: EntityModel, column: string) => model.columns.get(column)?.targets?.[0] ?? column;

/** the columns that make a record the same one (each equal), and what it hangs from, where given */
type Key = {
  match: { column: string; value: string }[];
  customer?: { column: string; id: string };
  /**
   * With an email no record has: the same person (first and last name at the same company) without one, whose
   * email this call knows (the column and the address, for the answer to give back)
   */
  unmailed?: { person: Key; email: { column: string; value: string } };
};

/**
 * What makes a second record the same one here, looked for before anything is sent: an email column's address
 * (a contact), else the primary name (an account), for the same customer or regarding record where one is
 * given (two deals called "Renewal" for two customers are two deals; a "Follow-up call" task on two deals, two
 * tasks). The organisation's own rules apply to the create as well.
 */
function duplicateKey(model: EntityModel, values: WriteValues, readable: (column: string) => boolean): Key | undefined {
  const entries = Object.entries(values)
    .map(([k, v]) => [writtenColumn(model, k), v] as const)
    .filter(([c]) => c && readable(c.logicalName));
  const email = entries.find(([c, v]) => c?.format === 'Email' && typeof v === 'string' && v.trim());
  const text = (column: string) => {
    const v = entries.find(([c, v]) => c?.logicalName === column && typeof v === 'string')?.[1];
    return typeof v === 'string' && v.trim() ? { column, value: v.trim() } : undefined;
  };
  if (email) {
    const mailed = { column: email[0]!.logicalName, value: String(emailAsMeant(email[1])).toLowerCase() };
    const rest = Object.fromEntries(entries.filter(([c]) => c !== email[0]).map(([c, v]) => [c!.logicalName, v]));
    const person = duplicateKey(model, rest as WriteValues, readable);
    // only a person's key (not an account's name: another address may be another branch), and only where the
    // policy lets the model see that the record has no email
    const samePerson =
      person && model.primaryNameAttribute === 'fullname' && person.customer && readable(mailed.column);
    return {
      match: [mailed],
      ...(samePerson ? { unmailed: { person: person!, email: mailed } } : {}),
    };
  }
  // a product on a deal: the same product (or write-in) on the same deal is the line already there; more of
  // it is a change of its quantity, and allowDuplicate adds a second line
  if (model.logicalName === LINE.table) {
    const value = (column: string) => entries.find(([c]) => c?.logicalName === column)?.[1];
    const deal = givenId(value(LINE.parent));
    const product = givenId(value(LINE.product));
    const writeIn = value(LINE.writeIn);
    const item = product
      ? { column: LINE.product, value: product }
      : typeof writeIn === 'string' && writeIn.trim()
        ? { column: LINE.writeIn, value: writeIn.trim() }
        : undefined;
    return deal && item ? { match: [item], customer: { column: LINE.parent, id: deal } } : undefined;
  }
  // a record that says one record was used on another (a knowledge article on a case): the same pair is the
  // record already there; how it was used, or that it was sent, is changed on it with update_record
  const pair = PAIRED[model.logicalName];
  if (pair) {
    const value = (column: string) => givenId(entries.find(([c]) => c?.logicalName === column)?.[1]);
    const item = value(pair.item);
    const on = value(pair.on);
    return item && on
      ? { match: [{ column: pair.item, value: item }], customer: { column: pair.on, id: on } }
      : undefined;
  }
  // what the record hangs from: a customer, or what an activity is regarding (a lookup of several tables)
  const customer = entries.find(
    ([c, v]) =>
      (c?.type === 'Customer' || (c?.type === 'Lookup' && (c.targets?.length ?? 0) > 1)) &&
      typeof (v as { id?: unknown })?.id === 'string',
  );
  const id = customer ? String((customer[1] as { id: string }).id) : undefined;
  const named = text(model.primaryNameAttribute);
  // a person without an email, whose full name Dynamics makes from the parts (in the organisation's format):
  // the same first and last name at the same company is the same person; without a company, not known
  const person =
    !named && model.primaryNameAttribute === 'fullname' && id
      ? [text('firstname'), text('lastname')].filter((m) => m !== undefined)
      : [];
  const match = named ? [named] : person.length === 2 ? person : [];
  if (!match.length) return undefined;
  if (SAME_START.has(model.logicalName)) {
    // as the moment it is, whatever its spelling (…T10:00:00.000Z, …T11:00:00+01:00); no start, no key
    const start = text('scheduledstart');
    const at = start ? Date.parse(start.value) : Number.NaN;
    if (Number.isNaN(at)) return undefined;
    match.push({ column: 'scheduledstart', value: new Date(at).toISOString().replace(/\.000Z$/, 'Z') });
  }
  return { match, ...(id ? { customer: { column: customer![0]!.logicalName, id } } : {}) };
}

const described = (k: Key) =>
  `${k.match.map((m) => `${m.column} '${m.value}'`).join(' and ')}${k.customer ? ` for the same ${k.customer.column}` : ''}`;

/**
 * what a create found already there: the record, by which key, the email the call gives that it lacks, and the
 * record the key found where that one was merged into this
 */
type Found = { row: Record<string, unknown>; by: Key; email?: { column: string; value: string }; merged?: string };

/** A record the key finds; else, where the key allows, the same person's without an email (its count: the key's) */
async function existing(ctx: ToolContext, model: EntityModel, key: Key): Promise<{ found?: Found; count: number }> {
  const own = await lookFor(ctx, model, key);
  if (own.found || !key.unmailed) return { found: own.found && { ...own.found, by: key }, count: own.count };
  const { person, email } = key.unmailed;
  const theirs = await lookFor(ctx, model, person, { column: email.column, op: 'null' });
  return { found: theirs.found && { ...theirs.found, by: person, email }, count: own.count };
}

async function lookFor(ctx: ToolContext, model: EntityModel, key: Key, also?: Condition) {
  // a task done is not the next one: only an open one is the same (all count for the next one's id, which
  // must differ from theirs)
  const openOnly = OPEN_ONLY.has(model.logicalName) && ctx.policy.canRead(model.logicalName, 'statecode');
  // made today (UTC, as the id's key counts), compared as a moment: from midnight, or from a few minutes
  // before it just after it (a call retried across midnight is the one it made before)
  const today =
    ONCE_A_DAY.has(model.logicalName) && ctx.policy.canRead(model.logicalName, 'createdon')
      ? [
          {
            column: 'createdon',
            op: 'ge' as const,
            value: new Date(sameDaySince()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          },
        ]
      : [];
  const columns = [
    model.primaryNameAttribute,
    ...key.match.map((m) => m.column),
    'createdon',
    ...(openOnly ? ['statecode'] : []),
    ...masterColumn(ctx, model),
  ].filter((c, i, all) => c && all.indexOf(c) === i && ctx.policy.canRead(model.logicalName, c));
  const page = await ctx.client.query(
    {
      entity: model.logicalName,
      select: columns,
      where: {
        and: [
          ...key.match.map((m) => ({ column: m.column, op: 'eq' as const, value: m.value })),
          ...(key.customer ? [{ column: key.customer.column, op: 'eq' as const, value: key.customer.id }] : []),
          ...today,
          ...(also ? [also] : []),
        ],
      },
      orderBy: ctx.policy.canRead(model.logicalName, 'createdon') ? 'createdon desc' : undefined,
      top: 50,
    },
    { signal: ctx.signal, internal: true },
  );
  // of two records merged, the one kept: a duplicate merged is newer, and deactivated
  const same = await recordInUse(
    ctx,
    model,
    page.rows.filter((r) => !openOnly || r.statecode === 0),
    columns,
  );
  return {
    found: same && { row: compactRow(model, same.row), ...(same.merged ? { merged: same.merged } : {}) },
    count: page.rows.length,
  };
}

async function duplicate(
  ctx: ToolContext,
  model: EntityModel,
  { row: found, by: key, email, merged }: Found,
  values: WriteValues,
) {
  const id = String(found.id);
  await ctx.audit.record({
    tool: 'create_record',
    entity: model.logicalName,
    id,
    action: 'create',
    columns: {},
    caller: ctx.caller,
    outcome: 'duplicate: existing record returned',
  });
  const url = recordUrl(ctx.config.dynamics.url, model.logicalName, id);
  const pair = PAIRED[model.logicalName];
  return {
    structured: { entity: model.logicalName, id, duplicate: true, url, existing: found },
    // the same person without the email this call gives: theirs, for the user to add it to
    text: email
      ? samePersonText(
          `${/^[aeiou]/.test(model.logicalName) ? 'An' : 'A'} ${model.logicalName} with ${described(key)}, without an email, already exists`,
          id,
          {
            [email.column]: email.value,
            // by their logical names, as the key's columns are
            ...samePersonUpdate(
              Object.fromEntries(
                Object.entries(values).map(([k, v]) => [writtenColumn(model, k)?.logicalName ?? k, v]),
              ),
              [email.column, ...key.match.map((m) => m.column), ...(key.customer ? [key.customer.column] : [])],
            ),
          },
        )
      : model.logicalName === LINE.table
        ? `That opportunity already has this product on it (line ${id}); it was not added again. To sell more or fewer, update_record its quantity; allowDuplicate: true adds a second line.`
        : pair
          ? `That ${tableOf(model, pair.on)} already has this ${tableOf(model, pair.item)} on it (${model.logicalName} ${id}, as it is in "existing"); it was not added again. To change it (how it was used, whether it was sent), update_record ${id}.`
          : merged
            ? `The ${model.logicalName} with ${described(key)} (${merged}) was merged into another, which is the one in use (${id}); it was not created again. Pass allowDuplicate: true to create another.`
            : `${/^[aeiou]/.test(model.logicalName) ? 'An' : 'A'} ${model.logicalName} with ${described(key)} already exists${ONCE_A_DAY.has(model.logicalName) ? ', made today' : ''} (${id}); it was not created again. Pass allowDuplicate: true to create another.`,
  };
}

async function create(
  ctx: ToolContext,
  model: EntityModel,
  values: WriteValues,
  id: string | undefined,
  allowDuplicate: boolean,
) {
  const logical = model.logicalName;
  const declined = await declinedByUser(
    ctx,
    ctx.policy.confirmWrites(logical),
    () =>
      `Create ${logical}: ${Object.entries(values)
        .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
        .join(', ')}?`,
    { tool: 'create_record', entity: logical, id: id ?? '', action: 'create', notDone: 'not created' },
  );
  if (declined)
    return {
      structured: { entity: logical, duplicate: false },
      text: `Not created: the user chose "${declined}".`,
    };
  const outcome = await createUnderRules(ctx, 'create_record', model, values, () =>
    ctx.client.create(logical, values, { signal: ctx.signal, id, allowDuplicate }),
  );
  if ('matched' in outcome) {
    const { id: existingId, url, existing, text } = outcome.matched;
    return { structured: { entity: logical, id: existingId, duplicate: true, url, existing }, text };
  }
  const r = outcome.made;
  await ctx.audit.record({
    tool: 'create_record',
    entity: logical,
    id: r.id,
    action: 'create',
    columns: values,
    caller: ctx.caller,
  });
  const url = recordUrl(ctx.config.dynamics.url, logical, r.id);
  const given = (column: string) => {
    const v = Object.entries(values).find(([k]) => writtenColumn(model, k)?.logicalName === column)?.[1];
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  };
  // a person's full name is Dynamics' own, made from the parts given
  const name =
    given(model.primaryNameAttribute) ??
    ([given('firstname'), given('lastname')].filter(Boolean).join(' ') || undefined);
  return {
    structured: { entity: logical, id: r.id, duplicate: false, url },
    text: `Created ${logical} ${typeof name === 'string' ? `"${name}" (${r.id})` : r.id}: ${url}${namesTaken(model, values)}${appOwnedNote(ctx, model, values)}`,
  };
}
