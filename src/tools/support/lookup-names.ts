import { ME, teamsMeant, theAppIsNotYou } from '../../dynamics/obo.js';
import { sideBySide } from '../../dynamics/signals.js';
import { badInput, DynamicsMcpError } from '../../errors.js';
import { type EntityModel, isLookupType } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { guidOrUndefined } from './ids.js';
import { FORMATTED } from './shape.js';
import { inCurrentVersion } from './versions.js';

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
/** "account", "account or contact", "account, contact, lead or incident" (`last` "and": "… lead and incident") */
export const orList = (words: readonly string[], last: 'or' | 'and' = 'or') =>
  words.length > 1 ? `${words.slice(0, -1).join(', ')} ${last} ${words.at(-1)}` : (words[0] ?? '');
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
 * told apart by their deals), a deal's product by its deal (every deal's travel line is "Travel and expenses"),
 * a case or a deal by its customer (every customer's portal case is "Cannot log in to portal").
 */
const ABOUT: readonly { column: string; word: string }[] = [
  { column: 'regardingobjectid', word: 'about' },
  { column: 'opportunityid', word: 'on' },
  { column: 'customerid', word: 'for' },
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
  /**
   * Where several records have the name, the one that alone is open (statecode 0) is meant: "resolve the VPN
   * down case" when the earlier VPN down cases are resolved can mean only the open one.
   */
  openOnly = false,
): Promise<{ entity: string; id: string; name: string; mergedInto?: Merged }> {
  const { asked, found: all } = answered ?? (await exactlyNamed(ctx, tables, name));
  const found = notMergedFirst(all);
  const open = openOnly && found.length > 1 ? found.filter((r) => r.stateCode === 0) : [];
  if (found.length === 1 || open.length === 1) {
    const { entity, id, name: named, mergedInto } = open[0] ?? found[0]!;
    return { entity, id, name: named, ...(mergedInto ? { mergedInto } : {}) };
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
  // what each is about, where that tells them apart (two deals of one customer are not told apart by it)
  const aboutDiffers = (entity: string) =>
    new Set(found.filter((r) => r.entity === entity).map((r) => r.about?.name)).size > 1;
  const telling = tellingOf(found);
  const said = found.map((r, i) =>
    [
      r.entity,
      telling[i],
      r.about && aboutDiffers(r.entity) ? `${r.about.word} ${r.about.name}` : undefined,
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
    // whether it was merged into another (merge-records.ts), and into which
    const master = masterColumn(ctx, model);
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
          ...master,
        ],
        // a table of versions: the name is the version in use's
        where: inCurrentVersion(ctx, model.logicalName, { column, op: 'eq', value: name }),
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
      stateCode: state && typeof r.statecode === 'number' ? r.statecode : undefined,
      about: about ? aboutName(about.word, r[`_${about.column}_value${FORMATTED}`]) : undefined,
      mergedInto: mergedOf(r),
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

/** A record a duplicate was merged into: its id, and its name where Dynamics gave it */
export type Merged = { id: string; name?: string };
const MASTER = 'masterid';
/** The record a row read with masterColumn was merged into, if it was */
export const mergedOf = (r: Record<string, unknown>): Merged | undefined => {
  const id = r[`_${MASTER}_value`];
  const name = r[`_${MASTER}_value${FORMATTED}`];
  return typeof id === 'string' ? { id, ...(typeof name === 'string' ? { name } : {}) } : undefined;
};

/**
 * A record a name, email or phone found, or, where it was merged into another, the record kept, with
 * `mergedFrom` the name of the one found: what a write that names it is meant to point at.
 */
export function keptRecord<R extends { entity: string; id: string; name?: string; mergedInto?: Merged }>(
  found: R,
): Omit<R, 'mergedInto'> & { mergedFrom?: string } {
  const { mergedInto, ...record } = found;
  if (!mergedInto) return record;
  return {
    ...record,
    id: mergedInto.id,
    name: mergedInto.name ?? mergedInto.id,
    mergedFrom: record.name ?? record.id,
  };
}

/** The table's masterid, where it has one the policy reads: selected beside a name to tell a record merged */
export const masterColumn = (ctx: Pick<ToolContext, 'policy'>, model: EntityModel): string[] =>
  model.columns.has(MASTER) && ctx.policy.canRead(model.logicalName, MASTER) ? [MASTER] : [];

/**
 * Of records a name or an email found, those it means: the ones not merged into another (a duplicate merged keeps
 * its name and email: two accounts of one name, merged, are two still), where any is; else the merged ones, one
 * for each record they were merged into, for the caller to follow to the one kept or to say.
 */
export function notMergedFirst<R extends { mergedInto?: Merged }>(found: R[]): R[] {
  const inUse = found.filter((r) => !r.mergedInto);
  if (inUse.length) return inUse;
  return found.filter((r, i) => found.findIndex((o) => o.mergedInto?.id === r.mergedInto?.id) === i);
}

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
): Promise<{ entity: string; id: string; name: string; mergedInto?: Merged } | undefined> {
  return theOneWith(notMergedFirst(await emailMatches(ctx, tables, address)), `the email '${address}'`);
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
): Promise<{ entity: string; id: string; name: string; mergedInto?: Merged }[]> {
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
          select: [column, ...(named ? [name] : []), ...masterColumn(ctx, model)],
          where: { column, op: 'eq', value: address },
          top: 6,
        },
        { signal: ctx.signal, internal: true },
      );
      return page.rows.map((r) => {
        const mergedInto = mergedOf(r);
        return {
          entity: table,
          id: String(r[model.primaryIdAttribute]).toLowerCase(),
          name: String((named && r[name]) || address),
          ...(mergedInto ? { mergedInto } : {}),
        };
      });
    })
  ).flatMap((rows) => rows ?? []);
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
