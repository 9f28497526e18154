import type { WriteValues } from '../../dynamics/client.js';
import { emailAsMeant, isEmailAddress } from '../../dynamics/coerce.js';
import { ME, teamsMeant, theAppIsNotYou, theAppsTeamsAreNotYours } from '../../dynamics/obo.js';
import { isPartyList } from '../../dynamics/party-lists.js';
import { sideBySide } from '../../dynamics/signals.js';
import { allFaults, faultsOf, isValueFault, writeBody } from '../../dynamics/write-body.js';
import { badInput, DynamicsMcpError } from '../../errors.js';
import { type EntityModel, isLookupType, writtenColumn } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { guidOrUndefined } from './ids.js';
import { phoneDigits, phoned } from './phoned.js';
import { numberedIn } from './record-numbers.js';
import { FORMATTED } from './shape.js';

/** A name that no record of the tables asked has: callers may look further (other tables, a case number). */
export class NoSuchName extends DynamicsMcpError {
  constructor(
    message: string,
    hint: string,
    /** whether the names were looked for: false where the policy keeps every table's names from the model */
    readonly looked: boolean,
  ) {
    super('bad_input', message, hint, { retryable: false });
  }
}

/** Tables as a refusal names them where the logical name is not a word (an activity of any kind, a user). */
const TABLE_NOUNS: Readonly<Record<string, string>> = { systemuser: 'user', activitypointer: 'activity' };
export const tableNoun = (table: string) => TABLE_NOUNS[table] ?? table;
/** "account", "account or contact", "account, contact, lead or incident" */
export const orList = (words: string[]) =>
  words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : (words[0] ?? '');
/** Primary name columns said as what they are: a person's full name, an activity's subject. */
const COLUMN_WORDS: Readonly<Record<string, string>> = { fullname: 'full name', subject: 'subject' };

/** How many records with the name are listed when it names several. */
export const LISTED = 5;
/**
 * What tells records of the same name apart in that list: of these, the columns a table has and the model may
 * read (a city, an email; a case's number, as cases share titles such as "Printer jam"; an activity's due
 * time, as tasks share subjects such as "Follow-up call"; a deal's close date, as deals are named for what is
 * sold to whom: "Data platform for Woodgrove" twice), the first whose values differ between them (two contacts
 * without a city, told apart by their emails), else the first that any of them has. A date is said with what
 * it is.
 */
const TELLING: readonly { column: string; word?: string }[] = [
  { column: 'address1_city' },
  { column: 'emailaddress1' },
  { column: 'internalemailaddress' },
  { column: 'ticketnumber' },
  { column: 'scheduledend', word: 'due' },
  { column: 'estimatedclosedate', word: 'closing' },
];
/**
 * Said of records that nothing else above tells apart (no city on either account, two open deals closing the
 * same day): when each was made, which every table has.
 */
const MADE = 'createdon';
/**
 * What a record is about, named beside it in that list: an activity's Regarding (tasks called "Send pricing" are
 * told apart by their deals), a deal's product by its deal (every deal's travel line is "Travel and expenses").
 */
const ABOUT: readonly { column: string; word: string }[] = [
  { column: 'regardingobjectid', word: 'about' },
  { column: 'opportunityid', word: 'on' },
];

/**
 * The user a text names: an id, "me" when the call reaches Dataverse as the signed-in user (hosted,
 * on-behalf-of; otherwise it is refused: the server signs in as an application, so the user it would find is
 * that application, not the person asking), or the full name of exactly one user.
 */
export async function userNamed(ctx: ToolContext, given: string, what: string): Promise<string> {
  const id = guidOrUndefined(given);
  if (id) return id;
  const name = given.trim();
  if (ME.test(name)) {
    if (ctx.client.asSignedInUser) return (await ctx.client.whoAmI({ signal: ctx.signal })).UserId.toLowerCase();
    throw theAppIsNotYou(`${what} '${name}'`, '"me"', 'pass its id');
  }
  return (await recordNamed(ctx, ['systemuser'], name, what)).id;
}

/**
 * An owner a text names: a user as userNamed finds one, or a team by its name (a record's owner is either: a
 * sales team's pipeline is asked for by the team's name). Its id; or "my team" as given, for the condition.
 */
export async function ownerNamed(ctx: ToolContext, given: string, what: string): Promise<string> {
  if (guidOrUndefined(given) || ME.test(given.trim())) return userNamed(ctx, given, what);
  // "my team" is no one record: the words go to the condition on ownerid, which says them (EqualUserTeams)
  if (teamsMeant(given)) return given.trim();
  return (await recordNamed(ctx, ['systemuser', 'team'], given.trim(), what)).id;
}

/**
 * The one record of `tables` whose primary name is `name` (Dataverse compares text without case). Several
 * are refused, listed with their ids; none is refused, saying how to look for it. Read through the policy
 * like any query: only tables whose primary name the model may read are asked, unless the caller has asked
 * them already (`answered`: exactlyNamed's answer, not asked again).
 */
export async function recordNamed(
  ctx: ToolContext,
  tables: string[],
  name: string,
  what: string,
  answered?: Awaited<ReturnType<typeof exactlyNamed>>,
): Promise<{ entity: string; id: string; name: string }> {
  const { asked, found } = answered ?? (await exactlyNamed(ctx, tables, name));
  if (found.length === 1) {
    const { entity, id, name: named } = found[0]!;
    return { entity, id, name: named };
  }
  const nouns = tables.map(tableNoun);
  // "an account or contact id"; past two tables, "a record id … the name of a record in account, contact, …"
  const many = nouns.length > 2;
  const noun = many ? 'record' : nouns.join(' or ');
  const a = /^[aeio]/.test(noun) ? 'an' : 'a';
  const where = many ? ` in ${orList(nouns)}` : '';
  const first = asked[0];
  // each table asked, with the column its names are in ("contact (fullname)"), when there are several
  const others = asked.slice(1).map((q) => `${q.model.logicalName} (${q.column})`);
  const look = first
    ? `Find it with query_entities on ${first.model.logicalName} (e.g. where {"${first.column}": {"contains": "<part of the name>"}})${others.length ? `, or on ${others.join(', ')} alike,` : ''} and pass its id.`
    : `Pass the ${noun}'s id: this server may not read ${noun} names.`;
  if (!found.length) {
    // names that contain it ("Megan" for Megan Bowen), to choose from: read only now, after the exact one failed
    const near = await namesContaining(ctx, asked, name);
    // each table gives at most LISTED: that many may leave others out, which the model is told
    const more = near.length >= LISTED;
    throw new NoSuchName(
      `${what} '${name}' is neither ${a} ${noun} id (GUID) nor the ${COLUMN_WORDS[asked[0]?.column ?? ''] && asked.every((q) => q.column === asked[0]!.column) ? COLUMN_WORDS[asked[0]!.column] : 'name'} of ${a} ${noun}${where}.`,
      near.length
        ? `${more ? `The first ${LISTED} names that contain it` : 'Names that contain it'}: ${near.slice(0, LISTED).join('; ')}. Pass the id of the one you mean${more ? ', or more of the name' : ''}.`
        : look,
      asked.length > 0,
    );
  }
  // their states, where a table's differ ("resolve the Shipment delayed case": two open, one cancelled)
  const statesDiffer = (entity: string) =>
    new Set(found.filter((r) => r.entity === entity).map((r) => r.state)).size > 1;
  const telling = tellingOf(found);
  const said = found.map((r, i) =>
    [
      r.entity,
      telling[i],
      r.about ? `${r.about.word} ${r.about.name}` : undefined,
      statesDiffer(r.entity) ? r.state : undefined,
    ]
      .filter((x) => x !== undefined && x !== null && x !== '')
      .join(', '),
  );
  // a record said as another is: when it was made tells them apart
  const list = found
    .slice(0, LISTED)
    .map((r, i) => {
      const twin = said.some((s, j) => j !== i && s === said[i]);
      return `${r.name} (${said[i]}${twin && r.made ? `, created ${r.made}` : ''}) — ${r.id}`;
    })
    .join('; ');
  // past those listed, the query that lists them all, in the first table with more of them than were shown
  const shown = found.slice(0, LISTED);
  const fuller = asked.find(
    (q) =>
      found.filter((r) => r.entity === q.model.logicalName).length >
      shown.filter((r) => r.entity === q.model.logicalName).length,
  );
  throw badInput(
    `${what} '${name}': ${found.length > LISTED ? `more than ${LISTED}` : found.length} records have that name: ${list}.`,
    fuller
      ? `Pass the id of the one you mean, or list them all with query_entities on ${fuller.model.logicalName} (where {${JSON.stringify(fuller.column)}: ${JSON.stringify(name)}}) and the columns that tell them apart.`
      : 'Pass the id of the one you mean.',
  );
}

/**
 * The names that contain `name` in each table asked (at most LISTED each), as "<name> (<table>) — <id>", to
 * choose from: "Megan" for Megan Bowen, or the accounts beside a team of that very name.
 */
export async function namesContaining(
  ctx: ToolContext,
  asked: readonly { model: EntityModel; column: string }[],
  name: string,
): Promise<string[]> {
  const each = await Promise.all(
    asked.map(async ({ model, column }) => {
      const page = await ctx.client.query(
        { entity: model.logicalName, select: [column], where: { column, op: 'contains', value: name }, top: LISTED },
        { signal: ctx.signal, internal: true },
      );
      return page.rows.map(
        (r) => `${String(r[column])} (${model.logicalName}) — ${String(r[model.primaryIdAttribute])}`,
      );
    }),
  );
  return each.flat();
}

/**
 * `ask` of each table, side by side, where several are searched for one record: a table whose records Dynamics
 * does not let the application user read (its security role lacks prvRead on it) is answered undefined rather
 * than failing the search for a record of another (an account is found by name without Read on contact).
 * `ask` answers undefined for a table it did not ask (the policy keeps its column from the model); refused on
 * every table it did ask, the first refusal stands, rather than reading as "no record has it". Any other
 * error fails the search.
 */
export async function askEach<T, R>(
  tables: readonly T[],
  ask: (table: T) => Promise<R | undefined>,
): Promise<(R | undefined)[]> {
  const answers = await Promise.all(
    tables.map(async (table) => {
      try {
        return { answer: await ask(table) };
      } catch (err) {
        if (tables.length > 1 && err instanceof DynamicsMcpError && err.kind === 'permission') return { denied: err };
        throw err;
      }
    }),
  );
  const denied = answers.filter((a) => a.denied);
  const asked = answers.filter((a) => a.denied || a.answer !== undefined);
  if (denied.length && denied.length === asked.length) throw denied[0]!.denied;
  return answers.map((a) => a.answer);
}

/**
 * The records of `tables` whose primary name is `name` (at most LISTED + 1 of each, in the order of `tables`),
 * and the tables asked: those whose primary name the policy lets the model read (and Dynamics lets the
 * application user read: askEach).
 */
export async function exactlyNamed(ctx: ToolContext, tables: string[], name: string) {
  // the tables are asked side by side (a name given for a record of any table asks half a dozen), and their
  // answers kept in the order of `tables`
  sideBySide(ctx.signal);
  const readable = (
    await Promise.all(
      tables.map(async (table) => {
        const model = await ctx.client.metadata.entity(table).catch(() => undefined);
        const column = model?.primaryNameAttribute;
        return model && column && ctx.policy.canRead(model.logicalName, column) ? [{ model, column }] : [];
      }),
    )
  ).flat();
  const answers = await askEach(readable, async ({ model, column }) => {
    const tellings = TELLING.filter(
      (t) => model.columns.has(t.column) && ctx.policy.canRead(model.logicalName, t.column),
    );
    const made = model.columns.has(MADE) && ctx.policy.canRead(model.logicalName, MADE);
    const state = model.columns.has('statecode') && ctx.policy.canRead(model.logicalName, 'statecode');
    // and what it is about: an activity's record, a product's deal
    // (a lookup: an opportunity's own key is opportunityid too)
    const about = ABOUT.find(
      (a) => isLookupType(model.columns.get(a.column)?.type ?? '') && ctx.policy.canRead(model.logicalName, a.column),
    );
    const page = await ctx.client.query(
      {
        entity: model.logicalName,
        select: [
          column,
          ...tellings.map((t) => t.column),
          ...(state ? ['statecode'] : []),
          ...(about ? [about.column] : []),
          ...(made ? [MADE] : []),
        ],
        where: { column, op: 'eq', value: name },
        top: LISTED + 1,
      },
      { signal: ctx.signal, internal: true },
    );
    return page.rows.map((r) => ({
      entity: model.logicalName,
      id: String(r[model.primaryIdAttribute]),
      name: String(r[column]),
      tells: tellings.map((t) => toldAs(t.word, r[t.column])),
      made: made && typeof r[MADE] === 'string' ? r[MADE] : undefined,
      state: state ? (r[`statecode${FORMATTED}`] ?? r.statecode) : undefined,
      about: about ? aboutName(about.word, r[`_${about.column}_value${FORMATTED}`]) : undefined,
    }));
  });
  const asked = readable.filter((_, i) => answers[i] !== undefined);
  return { asked, found: answers.flatMap((a) => a ?? []) };
}

/**
 * Of each record's telling values (exactlyNamed's `tells`), the one said beside it: of the column, among its
 * table's, whose values differ between the records of that table found, else the first any of them has.
 */
function tellingOf(found: readonly { entity: string; tells: unknown[] }[]): unknown[] {
  const column = new Map<string, number>();
  for (const entity of new Set(found.map((r) => r.entity))) {
    const rows = found.filter((r) => r.entity === entity);
    const columns = [...Array(rows[0]?.tells.length ?? 0).keys()];
    const differs = columns.find((k) => new Set(rows.map((r) => JSON.stringify(r.tells[k] ?? null))).size > 1);
    column.set(entity, differs ?? columns.find((k) => rows.some((r) => r.tells[k] !== undefined)) ?? -1);
  }
  return found.map((r) => r.tells[column.get(r.entity)!]);
}

/** A telling value, with its word where it has one ("due 2027-02-01T09:00:00Z"); nothing for an empty one. */
const toldAs = (word: string | undefined, value: unknown) =>
  value === undefined || value === null || value === '' ? undefined : word ? `${word} ${String(value)}` : value;

const aboutName = (word: string, name: unknown) => (typeof name === 'string' && name ? { word, name } : undefined);

/** The columns that hold the address people write to: an account's, contact's or lead's, and a user's. */
const EMAIL_COLUMNS = ['emailaddress1', 'internalemailaddress'];

/**
 * The column of `table` that holds its records' email address, where the policy lets the model read it and the
 * record's id; undefined otherwise (a table without one, or whose addresses the model may not read, is not
 * looked in: the text is then taken for a name, and refused as one).
 */
export async function emailColumn(ctx: ToolContext, table: string): Promise<string | undefined> {
  const model = await ctx.client.metadata.entity(table).catch(() => undefined);
  if (!model || !ctx.policy.canRead(table, model.primaryIdAttribute)) return undefined;
  return EMAIL_COLUMNS.find((c) => model.columns.has(c) && ctx.policy.canRead(table, c));
}

/**
 * The one record of `tables` whose email is `address` (Dataverse compares text without case), side by side,
 * through the policy: only tables whose email column the model may read are asked. Several are refused,
 * listed; none is undefined.
 */
export async function emailed(
  ctx: ToolContext,
  tables: string[],
  address: string,
): Promise<{ entity: string; id: string; name: string } | undefined> {
  return theOneWith(await emailMatches(ctx, tables, address), `the email '${address}'`);
}

/**
 * Of the records found by what identifies a person (an email, a phone number), the one: none is undefined,
 * several are refused, listed (five at most), to choose by id.
 */
export function theOneWith<R extends { entity: string; id: string; name: string }>(
  found: R[],
  what: string,
): R | undefined {
  if (found.length <= 1) return found[0];
  throw badInput(
    `${found.length > 5 ? 'More than 5' : found.length} records have ${what}: ${found
      .slice(0, 5)
      .map((r) => `${r.name} (${r.entity}) — ${r.id}`)
      .join('; ')}.`,
    'Pass the id of the one you mean (and entity, its table).',
  );
}

/** The records of `tables` whose email is `address` (up to 6 of each), as `emailed` asks for them. */
export async function emailMatches(
  ctx: ToolContext,
  tables: string[],
  address: string,
): Promise<{ entity: string; id: string; name: string }[]> {
  sideBySide(ctx.signal);
  return (
    await askEach(tables, async (table) => {
      const model = await ctx.client.metadata.entity(table).catch(() => undefined);
      const column = model && (await emailColumn(ctx, table));
      if (!model || !column) return undefined;
      const name = model.primaryNameAttribute;
      const named = !!name && ctx.policy.canRead(table, name);
      const page = await ctx.client.query(
        {
          entity: table,
          select: named ? [column, name] : [column],
          where: { column, op: 'eq', value: address },
          top: 6,
        },
        { signal: ctx.signal, internal: true },
      );
      return page.rows.map((r) => ({
        entity: table,
        id: String(r[model.primaryIdAttribute]).toLowerCase(),
        name: String((named && r[name]) || address),
      }));
    })
  ).flatMap((rows) => rows ?? []);
}

/**
 * Lookups written as the related record's name, as people say them ("ownerid": "Alex Wilber",
 * "parentaccountid": "Contoso Ltd"; update_record reads {"name": "…"} as its text): the one record the
 * lookup may point at with that primary name, as {entity, id, name}. Ids, references (/accounts(<id>)) and
 * anything else go on as they are, to be checked by the write.
 */
export async function lookupsByName(
  ctx: ToolContext,
  model: EntityModel,
  values: WriteValues,
  mode: 'create' | 'update' = 'create',
): Promise<WriteValues> {
  const out: WriteValues = { ...values };
  // each lookup is tried before any is refused, so that two names gone wrong are said in one answer
  const faults: DynamicsMcpError[] = [];
  const failed = new Set<string>();
  for (const [key, value] of Object.entries(values)) {
    try {
      const found = await lookedUp(ctx, model, key, value);
      if (found !== undefined) out[key] = found;
    } catch (err) {
      if (!isValueFault(err)) throw err;
      faults.push(orElse(ctx, model, key, err));
      failed.add(key);
    }
  }
  if (!faults.length) return out;
  // and with them, what is wrong with the other values ("1.2m" beside a name no record has), as the write
  // would say it; anything else it would refuse (the policy) is left for the write itself to say, and so is a
  // state, which the tools handle before writing (a task made done, a deal closed by its action)
  const stateful = (k: string) => /^(State|Status)$/.test(writtenColumn(model, k)?.type ?? '');
  const rest = Object.fromEntries(Object.entries(out).filter(([k]) => !failed.has(k) && !stateful(k)));
  const more = await writeBody(model, rest, mode, { policy: ctx.policy, metadata: ctx.client.metadata }).then(
    () => [],
    (err: unknown) => (isValueFault(err) ? faultsOf(err) : []),
  );
  throw allFaults(model, [...faults, ...more]);
}

/**
 * A name no record has, where the table takes the thing named another way: a product not in the catalogue goes
 * on a deal as a write-in (its name and price typed in), as Dynamics' Add Product form offers beside the lookup.
 */
const OR_ELSE: Readonly<Record<string, { writes: string; hint: string }>> = {
  'opportunityproduct.productid': {
    writes: 'productdescription',
    hint: 'If it is not in the catalogue, add it as a write-in instead: productdescription (its name) and priceperunit, without productid.',
  },
};

function orElse(ctx: ToolContext, model: EntityModel, key: string, err: DynamicsMcpError): DynamicsMcpError {
  const other = OR_ELSE[`${model.logicalName}.${writtenColumn(model, key)?.logicalName}`];
  if (!(err instanceof NoSuchName) || !other || !ctx.policy.canWrite(model.logicalName, other.writes)) return err;
  return new NoSuchName(err.message, `${err.hint} ${other.hint}`, err.looked);
}

/** One value of a write with the records its names give, or undefined where it is not a lookup to look up. */
async function lookedUp(ctx: ToolContext, model: EntityModel, key: string, value: unknown): Promise<unknown> {
  if (key.includes('@')) return undefined;
  const col = writtenColumn(model, key);
  const what = `${model.logicalName}.${col?.logicalName}`;
  // a party list (a call's To) is people, one or several, each by name as a lookup is
  if (col && isPartyList(col) && col.targets?.length && ctx.policy.canWrite(model.logicalName, col.logicalName)) {
    const people = Array.isArray(value) ? value : [value];
    return Promise.all(
      people.map(async (p) => {
        const name = nameGiven(p);
        if (name) return personNamed(ctx, col.targets!, name, what);
        const ref = await refNamed(ctx, col.targets!, p);
        return ref ? personNamed(ctx, ref.targets, ref.name, what) : tableOfId(ctx, col.targets!, p, what);
      }),
    );
  }
  // a column the model may not write is refused by the write itself, with the ones it may: nothing to look up
  if (
    !col ||
    !isLookupType(col.type) ||
    !col.targets?.length ||
    !ctx.policy.canWrite(model.logicalName, col.logicalName)
  )
    return undefined;
  const name = nameGiven(value);
  if (name) return personNamed(ctx, col.targets, name, what);
  const ref = await refNamed(ctx, col.targets, value);
  if (ref) return personNamed(ctx, ref.targets, ref.name, what);
  return col.targets.length > 1 ? tableOfId(ctx, col.targets, value, what) : undefined;
}

/**
 * A lookup object with a name where its id goes ({"entity": "systemuser", "id": "Leila Gupta"}), as a model
 * writes the shape it was shown for a record it has no id for: the name, to be looked for in the table it names
 * (the table narrows a lookup that may point at several: a user, not a team, of that name). A table the
 * column cannot point at goes on as it is, for the write to refuse with the tables it can.
 */
async function refNamed(
  ctx: ToolContext,
  targets: string[],
  value: unknown,
): Promise<{ targets: string[]; name: string } | undefined> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { entity, id } = value as { entity?: unknown; id?: unknown };
  const name = nameGiven(id);
  if (!name) return undefined;
  if (entity === undefined) return { targets, name };
  if (typeof entity !== 'string') return undefined;
  const table = (await ctx.client.metadata.resolveEntityName(entity).catch(() => undefined)) ?? entity;
  return targets.includes(table) ? { targets: [table], name } : undefined;
}

/**
 * A bare id where the column may point at several tables (a task's Regarding, a call's To), as models pass the
 * id a result gave them: the one table of those whose record has it, as {entity, id}; refused when none of them
 * has it. Anything else (a reference, {entity, id}; an id where the model may read none of the tables) goes on
 * as it is, for the write to check and refuse.
 */
async function tableOfId(ctx: ToolContext, targets: string[], value: unknown, what: string): Promise<unknown> {
  const id = typeof value === 'string' ? guidOrUndefined(value) : undefined;
  if (!id) return value;
  const asked: string[] = [];
  for (const table of targets) {
    const found = await holdsId(ctx, table, id);
    if (found === undefined) continue;
    if (found.holds) return { entity: found.table, id };
    asked.push(found.table);
  }
  if (!asked.length) return value;
  const nouns = asked.map(tableNoun);
  const either = orList(nouns);
  throw badInput(
    `${what}: no ${either} has the id ${id}.`,
    'Find the record with query_entities (or pass its name) and use the id it gives.',
  );
}

/**
 * Whether `table` has a record with this id, asked through the policy (its key must be readable); undefined
 * when the table cannot be asked.
 */
export async function holdsId(
  ctx: ToolContext,
  table: string,
  id: string,
): Promise<{ table: string; holds: boolean } | undefined> {
  const model = await ctx.client.metadata.entity(table).catch(() => undefined);
  const key = model?.primaryIdAttribute;
  if (!model || !key || !ctx.policy.canRead(model.logicalName, key)) return undefined;
  const page = await ctx.client.query(
    { entity: model.logicalName, select: [key], where: { column: key, op: 'eq', value: id }, top: 1 },
    { signal: ctx.signal, internal: true },
  );
  return { table: model.logicalName, holds: page.rows.length > 0 };
}

/**
 * The one record of `targets` a name gives ("me" being the signed-in user where a user may be meant), or an
 * email address (a Regarding or a primary contact given as the address a mail came from): the one record of
 * those tables with it, where the policy lets the model read their addresses; a phone number likewise (a
 * call's To given as the number dialled); otherwise it is taken for a name.
 */
async function personNamed(
  ctx: ToolContext,
  targets: string[],
  name: string,
  what: string,
): Promise<{ entity: string; id: string; name?: string }> {
  if (targets.includes('systemuser') && ME.test(name))
    return { entity: 'systemuser', id: await userNamed(ctx, name, what) };
  // "give it to my team": the teams the user is on are no one owner (as "me" is, app-only they are the
  // application's); the team is named
  if (targets.includes('team') && teamsMeant(name)) {
    if (!ctx.client.asSignedInUser) throw theAppsTeamsAreNotYours(`${what} '${name}'`);
    throw badInput(
      `${what} '${name}': a record has one owner, and "my team" is every team you are on.`,
      `Name the team: {"${what.split('.').pop()}": "<team name>"} (query_entities on team with where {"teammembership_association/fullname": "<your name>"} lists yours).`,
    );
  }
  const currency =
    targets.length === 1 && targets[0] === 'transactioncurrency' ? await currencyCoded(ctx, name) : undefined;
  if (currency) return currency;
  const address = String(emailAsMeant(name));
  const looked = isEmailAddress(address)
    ? (await Promise.all(targets.map((t) => emailColumn(ctx, t)))).some(Boolean)
    : false;
  // a phone number (a call's To, the caller's account as a Regarding): the one record with it, by its digits
  const digits = looked ? undefined : phoneDigits(name);
  if (digits) {
    const called = await phoned(ctx, targets, digits);
    if (called) return called;
    // none: an organisation's number of digits alone, or a name of digits ("2026-001"); else refused as a number
    const numbered = await numberedIn(ctx, targets, name);
    if (numbered) return numbered;
    return recordNamed(ctx, targets, name, what).catch((e: unknown) => {
      if (!(e instanceof NoSuchName)) throw e;
      throw badInput(
        `${what} '${name}': no ${orList(targets.map(tableNoun))} this server may read has that phone number (compared by its digits).`,
        `Check the number, or find the record with query_entities (e.g. on ${targets[0]} by name) and pass its id.`,
      );
    });
  }
  if (!looked) return (await numberedIn(ctx, targets, name)) ?? recordNamed(ctx, targets, name, what);
  const found = await emailed(ctx, targets, address);
  if (found) return found;
  throw badInput(
    `${what} '${address}': no ${orList(targets.map(tableNoun))} this server may read has that email.`,
    `Check the address, or find the record with query_entities (e.g. on ${targets[0]} where its email contains part of it) and pass its id.`,
  );
}

/**
 * A currency given by its ISO code ("EUR"), as people write it more often than the name Dynamics shows ("Euro"):
 * the one currency of the organisation with that code, where the policy lets the code be read; undefined
 * otherwise, for the name to be looked for as any name is.
 */
async function currencyCoded(
  ctx: ToolContext,
  code: string,
): Promise<{ entity: string; id: string; name?: string } | undefined> {
  const readable = ['transactioncurrencyid', 'currencyname', 'isocurrencycode'].every((c) =>
    ctx.policy.canRead('transactioncurrency', c),
  );
  if (!readable || !/^[A-Za-z]{3}$/.test(code.trim())) return undefined;
  const page = await ctx.client.query(
    {
      entity: 'transactioncurrency',
      select: ['currencyname', 'isocurrencycode'],
      where: { column: 'isocurrencycode', op: 'eq', value: code.trim().toUpperCase() },
      top: 2,
    },
    { signal: ctx.signal, internal: true },
  );
  const [one, other] = page.rows;
  if (!one || other) return undefined;
  const name = typeof one.currencyname === 'string' ? one.currencyname : undefined;
  return { entity: 'transactioncurrency', id: String(one.transactioncurrencyid), ...(name ? { name } : {}) };
}

/** The name a lookup value gives instead of an id: a text that is no id or reference ("/contacts(<id>)"). */
function nameGiven(v: unknown): string | undefined {
  const t = typeof v === 'string' ? v.trim() : '';
  return t && !guidOrUndefined(t) && !t.startsWith('/') ? t : undefined;
}

/**
 * What each name given for a lookup was matched to ("Company Name: Litware Retail BV (account)", "Call To:
 * Nina Castillo"): a name that found the wrong record or person shows here, where the user reads it. A lookup
 * given by id says nothing; a person on a call given by id is said as table and id.
 */
export function namesTaken(model: EntityModel, values: WriteValues): string {
  const said = Object.entries(values).flatMap(([key, v]) => {
    const col = writtenColumn(model, key);
    if (!col) return [];
    if (!isPartyList(col)) {
      const ref = v as { entity?: string; name?: unknown } | null;
      return isLookupType(col.type) && ref && typeof ref === 'object' && typeof ref.name === 'string'
        ? [`${col.label}: ${ref.name}${ref.entity ? ` (${ref.entity})` : ''}`]
        : [];
    }
    const people = (Array.isArray(v) ? v : [v]).flatMap((p) => {
      const ref = p as { entity?: string; id?: string; name?: string } | null;
      return ref && typeof ref === 'object' ? [ref.name ?? `${ref.entity} ${ref.id}`] : [];
    });
    return people.length ? [`${col.label}: ${people.join(', ')}`] : [];
  });
  // a name that ends the sentence with its own full stop ("… Co.") is not given a second
  const all = said.join('; ');
  return said.length ? ` ${all}${all.endsWith('.') ? '' : '.'}` : '';
}
