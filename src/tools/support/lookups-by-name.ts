import type { WriteValues } from '../../dynamics/client.js';
import { emailAsMeant, isEmailAddress } from '../../dynamics/coerce.js';
import { ME, teamsMeant, theAppsTeamsAreNotYours } from '../../dynamics/obo.js';
import { isPartyList } from '../../dynamics/party-lists.js';
import { allFaults, faultsOf, isValueFault, writeBody } from '../../dynamics/write-body.js';
import { badInput, type DynamicsMcpError } from '../../errors.js';
import { type EntityModel, isLookupType, writtenColumn } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { guidOrUndefined } from './ids.js';
import {
  emailColumn,
  emailed,
  holdsId,
  keptRecord,
  type Merged,
  NoSuchName,
  orList,
  recordNamed,
  tableNoun,
  userNamed,
} from './lookup-names.js';
import { phoneDigits, phoned } from './phoned.js';
import { numberedIn } from './record-numbers.js';

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
  throw await withOtherValueFaults(
    ctx,
    model,
    Object.fromEntries(Object.entries(out).filter(([k]) => !failed.has(k))),
    faults,
    mode,
  );
}

/**
 * Faults already found (a name no record has, a record to change that is not there), with what is wrong with
 * the other values ("1.2m" beside them), as the write would say it, in one answer; anything else the write
 * would refuse (the policy) is left for the write itself to say, and so is a state, which the tools handle
 * before writing (a task made done, a deal closed by its action).
 */
export async function withOtherValueFaults(
  ctx: ToolContext,
  model: EntityModel,
  values: WriteValues,
  faults: DynamicsMcpError[],
  mode: 'create' | 'update',
): Promise<DynamicsMcpError> {
  const stateful = (k: string) => /^(State|Status)$/.test(writtenColumn(model, k)?.type ?? '');
  const rest = Object.fromEntries(Object.entries(values).filter(([k]) => !stateful(k)));
  const more = await writeBody(model, rest, mode, { policy: ctx.policy, metadata: ctx.client.metadata }).then(
    () => [],
    (err: unknown) => (isValueFault(err) ? faultsOf(err) : []),
  );
  return allFaults(model, [...faults, ...more]);
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
): Promise<{ entity: string; id: string; name?: string; mergedFrom?: string }> {
  // a duplicate merged into another (the name only it has): the record kept is the one a lookup is meant to point
  // at (a deal for "Contoso Limited", merged into Contoso Ltd, is Contoso Ltd's), the name given said beside it
  return keptRecord(await personFound(ctx, targets, name, what));
}

async function personFound(
  ctx: ToolContext,
  targets: string[],
  name: string,
  what: string,
): Promise<{ entity: string; id: string; name?: string; mergedInto?: Merged }> {
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
      const ref = v as { entity?: string; name?: unknown; mergedFrom?: string } | null;
      return isLookupType(col.type) && ref && typeof ref === 'object' && typeof ref.name === 'string'
        ? [`${col.label}: ${ref.name}${ref.entity ? ` (${ref.entity}${mergedNote(ref)})` : ''}`]
        : [];
    }
    const people = (Array.isArray(v) ? v : [v]).flatMap((p) => {
      const ref = p as { entity?: string; id?: string; name?: string; mergedFrom?: string } | null;
      return ref && typeof ref === 'object'
        ? [`${ref.name ?? `${ref.entity} ${ref.id}`}${ref.mergedFrom ? ` (${mergedNote(ref).slice(2)})` : ''}`]
        : [];
    });
    return people.length ? [`${col.label}: ${people.join(', ')}`] : [];
  });
  // a name that ends the sentence with its own full stop ("… Co.") is not given a second
  const all = said.join('; ');
  return said.length ? ` ${all}${all.endsWith('.') ? '' : '.'}` : '';
}

/** "; "Contoso Limited" was merged into it": a name that found a duplicate merged into the record taken */
const mergedNote = (ref: { mergedFrom?: string }) => (ref.mergedFrom ? `; "${ref.mergedFrom}" was merged into it` : '');
