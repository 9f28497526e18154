import { z } from 'zod';
import { emailAsMeant, isEmailAddress, optionValue } from '../dynamics/coerce.js';
import { isValueFault } from '../dynamics/write-body.js';
import { badInput, DynamicsMcpError } from '../errors.js';
import { defineTool, type ToolContext } from './define.js';
import { withNames } from './support/aliases.js';
import { toolArgs } from './support/args.js';
import { createOnce, openWithinADay } from './support/dedupe.js';
import { guidOrUndefined } from './support/ids.js';
import { keptRecord, masterColumn, mergedOf, notMergedFirst } from './support/lookup-names.js';
import { withOtherValueFaults } from './support/lookups-by-name.js';
import { appOwnedNote } from './support/owner-note.js';
import { phoneDigits, phoned } from './support/phoned.js';
import { EMPTY, objectErrors } from './support/schemas.js';
import { FORMATTED, recordUrl } from './support/shape.js';
import { slaDueNote, slaReadBack, slaStanding, slaStandingColumns } from './support/sla-times.js';

/** Dynamics' Normal priority: a case opened without one has it, as the case form does */
const NORMAL = 2;
/** the rungs of the three Dynamics ships under other names: Medium is Normal */
const SHIPPED_AS: Record<string, string> = { medium: 'Normal' };

export const createCase = defineTool({
  name: 'create_case',
  title: 'Open a support case',
  description:
    'Open a case (incident) for an account or a contact, e.g. from a monitoring alert. With externalRef (the alert id), a case still open for it is returned instead of opening another.',
  inputSchema: toolArgs(
    'create_case',
    {
      title: z.string().trim().min(1, EMPTY).max(200).describe('Case title.'),
      description: z.string().max(2000).optional().describe('Details, e.g. the alert text.'),
      customer: z
        .preprocess(
          customerAsMeant,
          z.strictObject(
            {
              // the names say what each is; the description below says how they go together
              accountId: z.string().trim().max(40).optional(),
              accountName: z.string().trim().min(1, EMPTY).max(160).optional(),
              contactId: z.string().trim().max(160).optional(),
            },
            objectErrors(
              'customer is an object: {"accountName":"Contoso"}, {"accountId":"<GUID>"} or {"contactId":"<GUID>"}.',
              (keys) =>
                `customer names an account by accountId or accountName, a contact by contactId, or both, not ${keys}.`,
              'customer is required: the account or contact the case is for, {"accountName":"Contoso"}, {"accountId":"<GUID>"} or {"contactId":"<GUID>"}.',
            ),
          ),
        )
        .describe('An account (accountId or exact accountName), a contact (contactId), or an account and its contact.'),
      // an organisation's own priorities (Critical, P1) beside the three Dynamics ships: resolved against the
      // column's options when the case is opened; a number as text is that option
      priority: z
        .preprocess(
          (v) => (typeof v === 'number' ? String(v) : v),
          z.string({ error: 'priority is a label, e.g. "High", or its number.' }).trim().min(1, EMPTY).max(100),
        )
        .optional()
        .describe("High, Normal (the default), Low, or the organisation's own."),
      caseType: z
        .union([z.string().max(100), z.number().int()], {
          error: (i) =>
            i.code === 'invalid_union' ? 'caseType is one label or its number, e.g. "Problem".' : undefined,
        })
        .optional()
        .describe('Question, Problem or Request (or its number).'),
      origin: z
        .union([z.string().max(100), z.number().int()], {
          error: (i) => (i.code === 'invalid_union' ? 'origin is one label or its number, e.g. "Email".' : undefined),
        })
        .optional()
        .describe('Phone, Email, Web, … (or its number).'),
      externalRef: z
        .string()
        .trim()
        .min(1, EMPTY)
        .max(200)
        .optional()
        .describe('Id of the alert or ticket that raised it; makes repeats safe.'),
      // not described: the answer that returns the case just opened says when to pass it
      allowDuplicate: z.boolean().optional(),
    },
    {
      renamed: {
        // the customer named at the top level: customer's own keys (so an account and its contact both hold)
        accountId: ['customer', 'accountId'],
        accountName: ['customer', 'accountName'],
        contactId: ['customer', 'contactId'],
        // the case's Contact beside its account, as the case form and the Web API name it
        contact: ['customer', 'contactId'],
        primarycontactid: ['customer', 'contactId'],
        // an account's name or id, or a lookup copied from a result: as customer reads them
        account: 'customer',
        customerid: 'customer',
        subject: 'title',
        prioritycode: 'priority',
        casetypecode: 'caseType',
        type: 'caseType',
        caseorigincode: 'origin',
        source: 'origin',
        externalId: 'externalRef',
        alertId: 'externalRef',
        ticketId: 'externalRef',
        reference: 'externalRef',
      },
      meant: {
        // a case's severity is a column of its own in some organisations, not its priority
        severity: 'priority',
      },
      // a child case ("the same problem again: under CAS-01017"): made in two steps, not listed (tools/list's room)
      notes: Object.fromEntries(
        ['parentcaseid', 'parentCase', 'parentCaseId', 'parent', 'parentCaseNumber', 'childOf'].map((k) => [
          k,
          'A child case is made in two steps: create_case without it, then update_record the new case with {"parentcaseid": "<the parent\'s case number or id>"}.',
        ]),
      ),
    },
  ),
  outputSchema: z.object({
    id: z.string(),
    ticketNumber: z.string(),
    existing: z.boolean(),
    url: z.string(),
    customer: z.object({ id: z.string(), name: z.string(), entity: z.enum(['account', 'contact']) }),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  writes: true,
  audited: () => ({ entity: 'incident', action: 'create' }),
  async run(args, ctx) {
    // an account and a contact: the account's case, with the person who raised it as its Contact, as the
    // case form has them (Customer and Contact)
    const { contactId, ...account } = args.customer;
    const both = contactId !== undefined && (account.accountId !== undefined || account.accountName !== undefined);
    const given = {
      title: args.title,
      ...(args.description ? { description: args.description } : {}),
      ...(args.caseType !== undefined ? { casetypecode: args.caseType } : {}),
      ...(args.origin !== undefined ? { caseorigincode: args.origin } : {}),
    };
    // the customer, its contact and the priority looked up side by side, each tried before any is refused, so
    // that an account no one has and a priority the organisation lacks (and a case type beside them) are said
    // in one answer
    const [customer, person, priority] = await allOrFaults(ctx, given, [
      resolveCustomer(ctx, both ? account : args.customer),
      both ? contactGiven(ctx, contactId, 'customer.contactId') : Promise.resolve(undefined),
      priorityOf(ctx, args.priority),
    ] as const);
    const refColumn = ctx.config.cases.externalRefColumn;
    const values: Record<string, unknown> = {
      ...given,
      customerid: { entity: customer.entity, id: customer.id },
      ...(person ? { primarycontactid: { entity: 'contact', id: person.id } } : {}),
      ...priority,
    };
    if (!args.externalRef) {
      // the same call again (a model that lost the answer, or asked twice): the case it opened is returned.
      // Another problem with the same title is opened with allowDuplicate
      const readable = ['title', 'customerid', 'createdon'].every((c) => ctx.policy.canRead('incident', c));
      if (args.allowDuplicate || !readable) return open(ctx, values, customer, undefined, person);
      return createOnce(
        ctx,
        `case:${customer.id}:${args.title.toLowerCase()}`,
        async () => {
          const found = await sameTitleFor(ctx, customer, args.title);
          return { found: found.recent, count: found.total };
        },
        (id) => open(ctx, values, customer, id, person),
        (found) => existingResult(ctx, found, customer, 'title'),
      );
    }
    const ref = args.externalRef;
    const model = await ctx.client.metadata.entity('incident');
    if (!model.columns.has(refColumn.toLowerCase()))
      throw new DynamicsMcpError(
        'config',
        `Cases have no column '${refColumn}' to keep the external reference in.`,
        `An administrator can add a text column for it to the Case table, or set cases.externalRefColumn in the config file to an existing one. Without externalRef the case can still be opened.`,
      );
    values[refColumn] = ref;
    // the n-th case for this reference has a fixed id: concurrent alerts all aim at the same record
    return createOnce(
      ctx,
      `case:${ref}`,
      async () => {
        const found = await casesFor(ctx, refColumn, ref);
        return { found: found.open, count: found.total };
      },
      (id) => open(ctx, values, customer, id, person),
      (found) => existingResult(ctx, found, customer, 'reference'),
    );
  },
});

/**
 * The lookups a case needs, each awaited: their values, or every value fault among them (with those of the
 * case's other values, as the write would say them) in one answer. Anything else (a failed call) is thrown as is.
 */
async function allOrFaults<T extends readonly unknown[]>(
  ctx: ToolContext,
  values: Record<string, unknown>,
  lookups: { readonly [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  const settled = await Promise.allSettled(lookups);
  const failed = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (!failed.length) return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
  const other = failed.find((err) => !isValueFault(err));
  if (other) throw other;
  const model = await ctx.client.metadata.entity('incident', ctx.signal);
  throw await withOtherValueFaults(ctx, model, values, failed as DynamicsMcpError[], 'create');
}

/**
 * The case's prioritycode: an option of the organisation's column by label or number (optionValue: any casing,
 * a near spelling suggested), Normal when none is asked for. A word for more than High that the organisation
 * has no option for ("urgent") is refused with what to pass instead, rather than taken as High unsaid.
 */
async function priorityOf(ctx: ToolContext, asked: string | undefined): Promise<{ prioritycode?: number }> {
  const priorities = async () => (await ctx.client.metadata.entity('incident', ctx.signal)).columns.get('prioritycode');
  // none asked for: Normal, where the policy lets it be written (a policy that keeps priority from the model
  // still lets it open cases, which Dynamics then gives its own default)
  if (asked === undefined)
    return ctx.policy.canWrite('incident', 'prioritycode') &&
      (await priorities())?.options?.some((o) => o.value === NORMAL)
      ? { prioritycode: NORMAL }
      : {};
  // a priority the admin added since the server read the Case table is found by reading it again (client.ts)
  return ctx.client.withNewOptions(async () => {
    const column = await priorities();
    if (!column)
      throw badInput('Cases in this organisation have no priority column.', 'Call create_case again without priority.');
    const options = column.options ?? [];
    const shipped = SHIPPED_AS[asked.toLowerCase()];
    const has = (label: string) => options.some((o) => o.label.toLowerCase() === label.toLowerCase());
    try {
      return {
        prioritycode: optionValue(column, shipped && !has(asked) && has(shipped) ? shipped : asked, 'incident'),
      };
    } catch (err) {
      const high = options.find((o) => o.value === 1);
      if (err instanceof DynamicsMcpError && high && /^(urgent|critical|asap|p0|p1|highest|top)$/i.test(asked))
        throw new DynamicsMcpError(
          'bad_input',
          `This organisation has no '${asked}' priority.`,
          `Pass one of its priorities: ${options.map((o) => o.label).join(', ')} (Dynamics' top one is ${high.label}); the description can say how urgent it is.`,
          { ...err.details },
        );
      throw err;
    }
  }, ctx.signal);
}

/**
 * What models write for the customer, where it can mean one record: an account's name or an id as text (a
 * GUID is an id), {name}/{id}, or a lookup copied from a result ({id, name, entity}: a contact's is the
 * contact); an email address, or a contact's full name no account has. A name still has to match exactly one
 * record (resolveCustomer), so nothing is guessed.
 */
function customerAsMeant(v: unknown): unknown {
  if (typeof v === 'string') return guidOrUndefined(v) ? { accountId: v } : { accountName: v };
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const { entity, ...rest } = v as Record<string, unknown>;
    if (
      entity === 'contact' &&
      typeof rest.id === 'string' &&
      Object.keys(rest).every((k) => k === 'id' || k === 'name')
    )
      return { contactId: rest.id };
    if (entity === 'account') v = rest;
  }
  return withNames(v, [
    ['name', 'accountName'],
    ['id', 'accountId'],
    ['accountid', 'accountId'],
    ['contactid', 'contactId'],
    // the case's Contact beside its account, as the case form and the Web API name it
    ['contact', 'contactId'],
    ['primarycontactid', 'contactId'],
    // a contact by name or address, as accountName names an account: looked for among contacts alone
    ['contactName', 'contactId'],
    ['contactEmail', 'contactId'],
    ['fullname', 'contactId'],
    // an address is looked up among contacts (resolveCustomer), wherever it is written
    ['email', 'accountName'],
    ['emailaddress1', 'accountName'],
  ]);
}

type Customer = { id: string; name: string; entity: 'account' | 'contact' };

/** The record a case is for, by id (an account's, or a contact's) or by an account's exact name. */
async function resolveCustomer(
  ctx: ToolContext,
  c: { accountId?: string; accountName?: string; contactId?: string },
): Promise<Customer> {
  if ([c.accountId, c.accountName, c.contactId].filter(Boolean).length !== 1)
    throw badInput(
      c.accountId && c.accountName
        ? 'Name the account by accountId or by accountName, not both.'
        : 'Name the customer by one of accountId, accountName or contactId.',
      'e.g. "customer": {"accountName": "Contoso Ltd"}; an account and its contact: {"accountName": "Contoso Ltd", "contactId": "<GUID>"}.',
    );
  if (c.contactId) return contactGiven(ctx, c.contactId, 'contactId');
  if (c.accountId) {
    const id = guidOrUndefined(c.accountId);
    if (!id)
      throw badInput(
        `accountId '${c.accountId}' is not a record id (GUID).`,
        'Use the id from query_entities, or pass accountName.',
      );
    try {
      const { row } = await ctx.client.get('account', id, { select: ['name'], signal: ctx.signal });
      return { id, name: String(row.name ?? ''), entity: 'account' };
    } catch (err) {
      // an id names one record: a contact's id given as the customer (as text, say) is that contact
      if (!(err instanceof DynamicsMcpError) || err.kind !== 'not_found') throw err;
      return contact(ctx, id).catch((e) => {
        throw e instanceof DynamicsMcpError && e.kind === 'not_found'
          ? new DynamicsMcpError(
              'not_found',
              `No account or contact has the id ${id}.`,
              'Check the id; find the customer with query_entities, then use the id it returns.',
            )
          : e;
      });
    }
  }
  const name = c.accountName!;
  // an email address is a person: the contact with it (a case from a mail's sender)
  const address = emailAsMeant(name) as string;
  if (isEmailAddress(address)) {
    const sender = await contactWhere(ctx, 'emailaddress1', address);
    if (sender) return sender;
    throw new DynamicsMcpError(
      'not_found',
      `No contact has the email '${address}'.`,
      'Find the customer with query_entities (a contact by name, or an account), then pass its id.',
    );
  }
  // a phone number is the caller: the one contact or account with it (a case from a call), by its digits
  const digits = phoneDigits(name);
  if (digits) {
    const caller = await phoned(ctx, ['contact', 'account'], digits);
    if (caller) {
      return asCustomer(keptRecord(caller));
    }
  }
  const accounts = await ctx.client.metadata.entity('account');
  const exact = await ctx.client.query(
    {
      entity: 'account',
      select: ['name', 'address1_city', ...masterColumn(ctx, accounts)],
      where: { column: 'name', op: 'eq', value: name },
      top: 10,
    },
    { signal: ctx.signal, internal: true },
  );
  // an account merged into another keeps its name: the one in use is meant, or the one it was merged into
  const named = notMergedFirst(
    exact.rows.map((r) => ({
      r,
      entity: 'account',
      id: String(r.accountid),
      name: String(r.name),
      mergedInto: mergedOf(r),
    })),
  );
  // no record has the number, nor an account it as its name (one named with digits alone): refused as a number
  if (digits && !exact.rows.length)
    throw new DynamicsMcpError(
      'not_found',
      `No contact or account has the phone number '${name}' (compared by its digits).`,
      'Ask the caller who they are, find the customer by name with query_entities, then pass its id.',
    );
  const list = (rows: Record<string, unknown>[]) =>
    rows.map((r) => `${r.name}${r.address1_city ? ` (${r.address1_city})` : ''} — ${r.accountid}`).join('; ');
  if (named.length === 1) return asCustomer(keptRecord(named[0]!));
  if (named.length > 1)
    throw badInput(
      `${named.length} accounts are named '${name}': ${list(named.map((n) => n.r))}.`,
      'Pass customer.accountId with the right one.',
    );
  // no account has the name: a person's full name is that contact, where one contact has it exactly
  const person = await contactWhere(ctx, 'fullname', name).catch((err) => {
    if (err instanceof DynamicsMcpError && err.kind === 'policy') return undefined;
    throw err;
  });
  if (person) return person;
  // names that contain it, of accounts and of contacts (a case is as often for a person: "Nina" for Nina
  // Castillo), side by side; contacts only as far as the policy lets the model read their names
  const [near, people] = await Promise.all([
    ctx.client.query(
      {
        entity: 'account',
        select: ['name', 'address1_city'],
        where: { column: 'name', op: 'contains', value: name },
        top: 10,
      },
      { signal: ctx.signal, internal: true },
    ),
    ctx.policy.canRead('contact', 'fullname')
      ? ctx.client
          .query(
            {
              entity: 'contact',
              select: ['fullname', 'emailaddress1'],
              where: { column: 'fullname', op: 'contains', value: name },
              top: 10,
            },
            { signal: ctx.signal, internal: true },
          )
          .then((p) => p.rows)
      : [],
  ]);
  const contacts = people.map((r) => `${r.fullname}${r.emailaddress1 ? ` (${r.emailaddress1})` : ''} — ${r.contactid}`);
  const similar = [
    ...(near.rows.length ? [`accounts (customer.accountId): ${list(near.rows)}`] : []),
    ...(contacts.length ? [`contacts (customer.contactId): ${contacts.join('; ')}`] : []),
  ];
  throw new DynamicsMcpError(
    'not_found',
    `No account${ctx.policy.canRead('contact', 'fullname') ? ' or contact' : ''} is named '${name}'.`,
    similar.length
      ? `Similar names: ${similar.join('. ')}. Pass the id of the one meant.`
      : 'Find the account or contact with query_entities (e.g. contains on name or fullname) and pass its id.',
  );
}

/** The one contact whose `column` is `value`; several are refused, listed; none is undefined. */
async function contactWhere(ctx: ToolContext, column: 'emailaddress1' | 'fullname', value: string) {
  const contacts = await ctx.client.metadata.entity('contact');
  const page = await ctx.client.query(
    {
      entity: 'contact',
      select: ['fullname', 'emailaddress1', ...masterColumn(ctx, contacts)],
      where: { column, op: 'eq', value },
      top: 10,
    },
    { signal: ctx.signal, internal: true },
  );
  // a contact merged into another keeps its name and email: the one in use is meant, or the one it became
  const found = notMergedFirst(
    page.rows.map((r) => ({
      r,
      entity: 'contact',
      id: String(r.contactid),
      name: String(r.fullname ?? ''),
      mergedInto: mergedOf(r),
    })),
  );
  const [one, ...more] = found;
  if (!one) return undefined;
  if (more.length)
    throw badInput(
      `${found.length} contacts have ${column === 'fullname' ? 'the name' : 'the email'} '${value}': ${found
        .map(({ r }) => `${r.fullname}${r.emailaddress1 ? ` (${r.emailaddress1})` : ''} — ${r.contactid}`)
        .join('; ')}.`,
      'Pass customer.contactId with the right one.',
    );
  return asCustomer(keptRecord(one));
}

/** The customer a record found (or the one it was merged into: keptRecord) is */
const asCustomer = (r: { entity: string; id: string; name?: string }): Customer => ({
  id: r.id,
  name: r.name ?? '',
  entity: r.entity as Customer['entity'],
});

/**
 * The contact given as contactId: its id, or its full name or email (a cut or mangled id is said to be one).
 * `key` is the argument as the model wrote it, for the refusal.
 */
async function contactGiven(ctx: ToolContext, given: string, key: string): Promise<Customer> {
  const id = guidOrUndefined(given);
  if (id) return contact(ctx, id);
  if (!/^[\s{]*[0-9a-f]{8}-[0-9a-f-]*[}\s]*$/i.test(given)) return contactNamed(ctx, given);
  throw badInput(
    `${key} '${given}' is not a record id (GUID).`,
    'Use the id from query_entities, or pass accountName.',
  );
}

/** A contact given by its full name or email where its id was asked for ({"contactName": "Nina Castillo"}). */
async function contactNamed(ctx: ToolContext, given: string): Promise<Customer> {
  const address = emailAsMeant(given) as string;
  const email = isEmailAddress(address);
  const found = await contactWhere(ctx, email ? 'emailaddress1' : 'fullname', email ? address : given);
  if (found) return found;
  throw new DynamicsMcpError(
    'not_found',
    email ? `No contact has the email '${address}'.` : `No contact is named '${given}'.`,
    'Find the contact with query_entities (e.g. on contact where {"fullname": {"contains": "<part of the name>"}}), then pass its id as customer.contactId.',
  );
}

async function contact(ctx: ToolContext, id: string): Promise<Customer> {
  const { row } = await ctx.client.get('contact', id, { select: ['fullname'], signal: ctx.signal });
  return { id, name: String(row.fullname ?? ''), entity: 'contact' };
}

async function casesFor(ctx: ToolContext, column: string, ref: string) {
  const select = ['title', 'ticketnumber', 'statecode', column, ...slaStandingColumns(ctx.policy)];
  const master = masterColumn(ctx, await ctx.client.metadata.entity('incident'));
  const page = await ctx.client.query(
    {
      entity: 'incident',
      select: [...select, ...master],
      where: { column, op: 'eq', value: ref },
      orderBy: 'createdon desc',
      top: 100,
    },
    { signal: ctx.signal, internal: true },
  );
  const total = page.rows.length;
  const open = page.rows.find((r) => r.statecode === 0);
  if (open) return { open, total };
  // the reference's case merged into another (the same problem reported twice): the case kept, while it is
  // open, is the one for it (a merge copies no column of a case, so the reference stays with the one merged)
  const merged = page.rows.find((r) => mergedOf(r));
  if (!merged) return { open: undefined, total };
  const { row: kept } = await ctx.client.get('incident', mergedOf(merged)!.id, { select, signal: ctx.signal });
  return { open: kept.statecode === 0 ? { ...kept, mergedFrom: merged.ticketnumber } : undefined, total };
}

/**
 * The customer's cases with this title (Dataverse compares it without case): how many there are, and the one
 * opened within the last day that is still open, which a repeated call means.
 */
async function sameTitleFor(ctx: ToolContext, customer: Customer, title: string) {
  const page = await ctx.client.query(
    {
      entity: 'incident',
      select: ['title', 'ticketnumber', 'statecode', 'createdon', ...slaStandingColumns(ctx.policy)],
      where: {
        and: [
          { column: 'customerid', op: 'eq', value: customer.id },
          { column: 'title', op: 'eq', value: title },
        ],
      },
      orderBy: 'createdon desc',
      top: 100,
    },
    { signal: ctx.signal, internal: true },
  );
  return { recent: openWithinADay(page.rows), total: page.rows.length };
}

function existingResult(ctx: ToolContext, row: Record<string, unknown>, customer: Customer, by: 'reference' | 'title') {
  const id = String(row.incidentid);
  const structured = {
    id,
    ticketNumber: String(row.ticketnumber ?? ''),
    existing: true,
    url: recordUrl(ctx.config.dynamics.url, 'incident', id),
    customer,
  };
  return {
    structured,
    text:
      by === 'reference'
        ? `Case ${structured.ticketNumber} is already open for this reference${row.mergedFrom ? ` (its case, ${String(row.mergedFrom)}, was merged into it)` : ''}; no new case was opened: ${structured.url}.${slaStanding(row)}`
        : `Case ${structured.ticketNumber} "${String(row.title ?? '')}" was opened for ${customer.name} within the last day and is still open; no new case was opened: ${structured.url}.${slaStanding(row)} If this is another problem, call create_case again with allowDuplicate: true.`,
  };
}

async function open(
  ctx: ToolContext,
  values: Record<string, unknown>,
  customer: Customer,
  id: string | undefined,
  person?: Customer,
) {
  const r = await ctx.client.create('incident', values, { signal: ctx.signal, id });
  await ctx.audit.record({
    tool: 'create_case',
    entity: 'incident',
    id: r.id,
    action: 'create',
    columns: values,
    caller: ctx.caller,
  });
  // read back with what its SLA asks; where that cannot be read (a role without Read on SLA KPI instances
  // fails the whole read), the case number alone: the case is made, and its answer must not fail
  const sla = slaReadBack(ctx.policy);
  const readBack = (withSla: boolean) =>
    ctx.client.get('incident', r.id, {
      select: ['ticketnumber', ...(withSla ? sla.select : [])],
      expand: withSla ? sla.expand : undefined,
      signal: ctx.signal,
    });
  const { row } = await (sla.select.length || sla.expand
    ? readBack(true).catch((err: unknown) => {
        if (ctx.signal?.aborted) throw err;
        return readBack(false);
      })
    : readBack(false));
  const structured = {
    id: r.id,
    ticketNumber: String(row.ticketnumber ?? ''),
    existing: false,
    url: recordUrl(ctx.config.dynamics.url, 'incident', r.id),
    customer,
  };
  const contactSaid = person ? ` (contact ${person.name}${await elsewhereEmployed(ctx, person, customer)})` : '';
  return {
    structured,
    text: `Opened case ${structured.ticketNumber} for ${customer.name}${contactSaid}: ${structured.url}${slaDueNote(row)}${appOwnedNote(ctx, await ctx.client.checker.entity('incident'), values, false)}`,
  };
}

/**
 * Where the case's contact is a contact of another account than the case's, said beside its name (Dynamics
 * takes any contact, and a model may have picked a namesake): ", a contact of Fabrikam". Only where the
 * policy lets the model read whose contact it is.
 */
async function elsewhereEmployed(ctx: ToolContext, person: Customer, account: Customer): Promise<string> {
  if (!ctx.policy.canRead('contact', 'parentcustomerid')) return '';
  // read after the case is opened: a failure here leaves the answer without the remark, not the case unsaid
  const row = await ctx.client
    .get('contact', person.id, { select: ['parentcustomerid'], signal: ctx.signal })
    .then((r) => r.row)
    .catch(() => ({}) as Record<string, unknown>);
  const of = row._parentcustomerid_value;
  if (typeof of !== 'string' || of.toLowerCase() === account.id.toLowerCase()) return '';
  return `, a contact of ${String(row[`_parentcustomerid_value${FORMATTED}`] ?? of)}, not of ${account.name}`;
}
