import { emailAsMeant, isEmailAddress } from '../../dynamics/coerce.js';
import { sideBySide } from '../../dynamics/signals.js';
import { aTable, badInput, DynamicsMcpError } from '../../errors.js';
import type { ToolContext } from '../define.js';
import { guidOrUndefined } from './ids.js';
import {
  askEach,
  emailColumn,
  emailed,
  exactlyNamed,
  holdsId,
  LISTED,
  NoSuchName,
  namesContaining,
  orList,
  recordNamed,
  tableNoun,
} from './lookup-names.js';
import { phoneDigits, phoned } from './phoned.js';
import { NUMBER_COLUMN, numbered, numberedIn, numberReadable, numberTables, RECORD_NUMBER } from './record-numbers.js';

/**
 * The record id an `id` argument names: the id itself; for a case, its case number ("resolve CAS-01000-EYQG4V"
 * is how support says it); or the record's name ("get Contoso Pharma Co.", "add a note to the printer case"),
 * the one record of the table with that primary name, as a lookup given by name is (several are listed with
 * their ids, none with the names that contain it). Each is found with the query any model could make, through
 * the policy; text that is an id gone wrong (a cut GUID, a link without one) is refused as such.
 */
export async function recordIdOf(
  ctx: ToolContext,
  table: string | (() => Promise<string>),
  given: string,
  /** of several records with the name, the one open one is meant (resolve_case: only an open case resolves) */
  openOnly = false,
): Promise<string> {
  const id = guidOrUndefined(given);
  if (id) return id;
  notAnIdGoneWrong(given);
  // the table is resolved only for a number or a name: an id, the common case, costs nothing here
  const logical = typeof table === 'string' ? table : await table();
  const number = RECORD_NUMBER.test(given) ? NUMBER_COLUMN[logical] : undefined;
  // a table named by its number (a case) asks even where the policy hides the number, to say so
  const byNumber =
    number && (!number.orName || numberReadable(ctx, logical))
      ? await numbered(ctx, logical, number, given)
      : undefined;
  if (number && !number.orName && !byNumber)
    throw badInput(
      `No ${number.noun} has the number '${given}'.`,
      `Check the number, or find the ${number.noun} with query_entities (e.g. where {"title": {"contains": "<words from it>"}}) and pass its id.`,
    );
  // a phone number ("the contact on +1 555 678 4478"): the one record of the table with it, by its digits
  const digits = byNumber ? undefined : phoneDigits(given);
  const byPhone = digits ? await phoned(ctx, [logical], digits) : undefined;
  if (byNumber) {
    ctx.recordId = byNumber;
  } else if (isEmailAddress(String(emailAsMeant(given))) && (await emailColumn(ctx, logical))) {
    const address = String(emailAsMeant(given));
    const found = await emailed(ctx, [logical], address);
    if (!found) {
      const elsewhere = await emailed(
        ctx,
        (await searchedTables(ctx)).filter((t) => t !== logical),
        address,
      ).catch((e: unknown) => {
        if (ctx.signal.aborted) throw e;
        return undefined;
      });
      throw badInput(
        `No ${logical} has the email '${address}'.`,
        `${elsewhere ? `${aTable(elsewhere.entity).replace(/^a/, 'A')} has it (${elsewhere.name}, ${elsewhere.id}): if it is the record meant, call again with entity "${elsewhere.entity}" and that id. ` : ''}Check the address, or find the ${logical} with query_entities and pass its id.`,
      );
    }
    ctx.recordId = found.id;
    ctx.recordName = found.name;
  } else if (byPhone) {
    ctx.recordId = byPhone.id;
    ctx.recordName = byPhone.name;
  } else {
    const named = await recordNamed(ctx, [logical], given, 'id', undefined, openOnly).catch(async (e: unknown) => {
      // where the policy keeps this table's names from the model, the refusal says so and nothing else
      if (!(e instanceof NoSuchName) || !e.looked) throw e;
      throw new NoSuchName(e.message, `${await namedElsewhere(ctx, logical, given)}${e.hint}`, true);
    });
    ctx.recordId = named.id.toLowerCase();
    ctx.recordName = named.name;
  }
  return ctx.recordId;
}

/**
 * Where no record of the table named has the name, the records of the other searched tables that have it, as
 * the start of the hint: a contact taken for a lead is the commonest wrong table ("update the lead Nina
 * Castillo"). Asked only now that the name was not found, side by side; nothing when none has it.
 */
async function namedElsewhere(ctx: ToolContext, table: string, name: string): Promise<string> {
  // a help beside the refusal: if asking fails (throttled, timed out), the refusal goes without it
  const found = await searchedTables(ctx)
    .then((tables) =>
      exactlyNamed(
        ctx,
        tables.filter((t) => t !== table),
        name,
      ),
    )
    .then((r) => r.found)
    .catch((e: unknown) => {
      if (ctx.signal.aborted) throw e;
      return [];
    });
  if (!found.length) return '';
  const noun = (r: { entity: string }) => aTable(tableNoun(r.entity));
  if (found.length === 1)
    return `${noun(found[0]!).replace(/^a/, 'A')} has that name (${found[0]!.id}): if it is the record meant, call again with entity "${found[0]!.entity}" and that id. `;
  const listed = found.slice(0, 3).map((r) => `${noun(r)} (${r.id})`);
  return `Other tables have records of that name: ${listed.join(', ')}${found.length > 3 ? ', …' : ''}; if one is the record meant, call again with its entity and id. `;
}

/**
 * The tables a record is looked for in when no table is given, in this order: those whose records people call
 * by name (customers, deals, cases, colleagues, products, …) and the organisation's own tables (a publisher
 * prefix: new_project), as far as the policy shows them. Not activities (an activity is named by its subject,
 * asked only when none of these has the name: activityWithSubject), notes, or settings such as duplicate rules
 * and territories.
 */
const NAMED_TABLES = [
  'account',
  'contact',
  'lead',
  'opportunity',
  'incident',
  'systemuser',
  'team',
  'competitor',
  'product',
  'quote',
  'salesorder',
  'invoice',
  'contract',
  'campaign',
  'list',
];

async function searchedTables(ctx: ToolContext): Promise<string[]> {
  const shown = ctx.policy.entities();
  const custom = shown.filter((t) => t.includes('_') && !NAMED_TABLES.includes(t));
  const tables = [...NAMED_TABLES.filter((t) => shown.includes(t)), ...custom];
  // an organisation's own activity tables share activityid, as Dynamics' do
  const models = await Promise.all(tables.map((t) => ctx.client.metadata.entity(t).catch(() => undefined)));
  return tables.filter((_, i) => models[i] && models[i].primaryIdAttribute !== 'activityid');
}

/**
 * The record an `id` names when no table is given ("get Nina Castillo"): by id, the table of the policy's that
 * has it (activities and notes too: an id may come from a Regarding or a party); by a case number, that case;
 * by name, the one record of searchedTables with that primary name (several are listed with their tables and
 * ids, none with the names that contain it), as recordIdOf finds one in a given table; where none has it, the
 * one activity with that whole subject.
 */
export async function recordAnywhere(ctx: ToolContext, given: string): Promise<{ entity: string; id: string }> {
  const found = await anywhere(ctx, given);
  ctx.recordTable = found.entity;
  return found;
}

async function anywhere(ctx: ToolContext, given: string): Promise<{ entity: string; id: string }> {
  const id = guidOrUndefined(given);
  if (id) return { entity: await tableHolding(ctx, id), id };
  notAnIdGoneWrong(given);
  const tables = await searchedTables(ctx);
  if (!tables.length)
    throw badInput(
      `'${given}' is not a record id, and this server's policy shows no table whose records have names to find it by.`,
      'Pass entity (describe_entity lists the tables) and the record id.',
    );
  // an email address is the one record (a contact, a lead, a colleague) that has it
  const address = String(emailAsMeant(given));
  if (isEmailAddress(address)) {
    const found = await emailed(ctx, tables, address);
    if (!found)
      throw badInput(
        `No record this server may read has the email '${address}'.`,
        'Check the address, or find the record with query_entities (e.g. on contact where {"emailaddress1": {"contains": "<part of it>"}}) and pass its id.',
      );
    ctx.recordId = found.id;
    ctx.recordName = found.name;
    return { entity: found.entity, id: found.id };
  }
  // a phone number ("who is +1 555 678 4478?", a caller's number): the one record with it, by its digits;
  // none: it may still be a number of the organisation's (an account number of digits alone)
  const digits = phoneDigits(given);
  const byPhone = digits ? await phoned(ctx, tables, digits) : undefined;
  if (byPhone) {
    ctx.recordId = byPhone.id;
    ctx.recordName = byPhone.name;
    return { entity: byPhone.entity, id: byPhone.id };
  }
  // a case's or an account's number, in that order; no record with that number: then it is a name
  // ("ACME-Direct" looks like a number too)
  const numberedTables = numberTables(ctx, tables, given);
  const byNumber = await numberedIn(ctx, tables, given);
  if (byNumber) {
    ctx.recordId = byNumber.id;
    return { entity: byNumber.entity, id: byNumber.id };
  }
  const asNumber = numberedTables.length > 0;
  const nouns = orList(numberedTables.map((t) => NUMBER_COLUMN[t]!.noun));
  // asked once: a team of that name is weighed against the same tables' other names (customersAlsoCalled)
  const answered = await exactlyNamed(ctx, tables, given);
  const named = await recordNamed(ctx, tables, given, 'id', answered).catch(async (e: unknown) => {
    if (!(e instanceof NoSuchName)) throw e;
    if (digits)
      throw badInput(
        `No record this server may read has the phone number '${given}' (compared by its digits with each table's phone columns).`,
        'Check the number with the user, or find the record with query_entities (e.g. on contact where {"telephone1": {"contains": "<its last digits>"}}) and pass its id.',
      );
    // a name no record has may be an activity's whole subject ("mark Send proposal done"): the one activity
    // with it, of the table that holds it; several are listed as records of one name are
    const subject = e.hint.startsWith('Find it') && ctx.policy.canRead('activitypointer', 'subject');
    if (subject && !asNumber) {
      const activity = await activityWithSubject(ctx, given);
      if (activity) return activity;
    }
    const activities = subject
      ? ' An activity (a task, a call, an email) is found by its subject with query_entities on activitypointer, e.g. where {"subject": {"contains": "<words from it>"}}.'
      : '';
    if (asNumber)
      throw badInput(
        `No ${nouns} has the number '${given}', and ${e.message.replace(/^id /, 'the id ')}`,
        `Check the number (${numberedTables.map((t) => `${aTable(NUMBER_COLUMN[t]!.noun)}'s ${NUMBER_COLUMN[t]!.column}`).join(', ')}) with the user, or find the record with query_entities (e.g. on incident where {"title": {"contains": "<words from it>"}}).${e.hint.startsWith('Find it') ? '' : ` ${e.hint}`}`,
      );
    throw badInput(e.message, `${e.hint}${activities}`);
  });
  if (named.entity === 'team') await customersAlsoCalled(ctx, answered.asked, given, named);
  ctx.recordId = named.id.toLowerCase();
  ctx.recordName = named.name;
  return { entity: named.entity, id: ctx.recordId };
}

/**
 * A team named exactly so is seldom the record meant where customers' and deals' names hold the name too: the
 * root business unit's default team carries the organisation's name ("get Contoso" is the team Contoso, and
 * "Contoso Consulting Ltd" the account meant). Those records are listed beside the team, to choose by id,
 * rather than the team taken without a word (an update or a note would land on it). The tables are those the
 * exact name was asked of (the application user may read them); where none holds it, the team it is.
 */
async function customersAlsoCalled(
  ctx: ToolContext,
  asked: Awaited<ReturnType<typeof exactlyNamed>>['asked'],
  given: string,
  team: { id: string; name: string },
): Promise<void> {
  const others = asked.filter((q) => q.model.logicalName !== 'team' && q.model.logicalName !== 'systemuser');
  const names = await namesContaining(ctx, others, given);
  if (!names.length) return;
  throw badInput(
    `'${given}' is the name of a team (${team.name} — ${team.id}), and part of other records' names.`,
    `${names.length > LISTED ? `The first ${LISTED} of those` : 'Those'}: ${names.slice(0, LISTED).join('; ')}. Pass the id of the one you mean (the team's, if it is the team).`,
  );
}

/**
 * The one activity whose subject is `subject` (whole, as a record's name is), in the table that holds it (a
 * task, a phone call): undefined when none has it; several are refused with their due times and what they are
 * about (recordNamed), to choose by id.
 */
async function activityWithSubject(
  ctx: ToolContext,
  subject: string,
): Promise<{ entity: string; id: string; name: string } | undefined> {
  // a security role without Read on activities leaves the name unfound, as it was before activities were asked
  const answered = await exactlyNamed(ctx, ['activitypointer'], subject).catch((e: unknown) => {
    if (e instanceof DynamicsMcpError && e.kind === 'permission') return undefined;
    throw e;
  });
  if (!answered?.found.length) return undefined;
  // one is that activity; several are refused with their listing, from the same answer
  const one = await recordNamed(ctx, ['activitypointer'], subject, 'id', answered);
  const id = one.id.toLowerCase();
  return { entity: await tableHolding(ctx, id), id, name: one.name };
}

/**
 * The one table with a record of `id`: of those searched by name, the activities (not activitypointer, whose rows
 * are theirs) and notes, as the policy shows them; one request each, side by side.
 */
async function tableHolding(ctx: ToolContext, id: string): Promise<string> {
  const shown = ctx.policy.entities();
  const activities = shown.filter((t) => t !== 'activitypointer' && ctx.policy.canRead(t, 'activityid'));
  const tables = [
    ...(await searchedTables(ctx)),
    ...activities,
    ...(shown.includes('annotation') ? ['annotation'] : []),
  ];
  sideBySide(ctx.signal);
  const holding = (await askEach(tables, (table) => holdsId(ctx, table, id)))
    .filter((f) => f?.holds)
    .map((f) => f!.table);
  if (holding.length === 1) return holding[0]!;
  throw badInput(
    holding.length
      ? `The id ${id} is a record in ${holding.join(' and ')}.`
      : `No record this server may read has the id ${id}.`,
    holding.length
      ? 'Pass entity to say which.'
      : 'Check the id (query_entities or a lookup in a result gives it), or pass entity: the table it belongs to.',
  );
}

/** Text that is an id gone wrong (a cut GUID, a link without one) is refused as such, not looked for as a name. */
function notAnIdGoneWrong(given: string): void {
  // several ids in one text ("<id>, <id>"): a list sent as text, which no record's name is
  const ids = /^https?:\/\//i.test(given) ? null : given.match(/[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}/gi);
  if (ids && ids.length > 1)
    throw badInput(
      `id '${given}' holds ${ids.length} record ids; it names one record.`,
      `Pass them as a list, "id": ["${ids[0]}", "${ids[1]}"${ids.length > 2 ? ', …' : ''}], where the tool takes a list (update_record, delete_record and resolve_case: up to 50); otherwise call it once for each.`,
    );
  if (/^https?:\/\//i.test(given) || /^[0-9a-f-]{20,}$/i.test(given))
    throw badInput(
      `id '${given}' is not a record id: an id is a GUID of 32 hex digits (5b6b1d3c-8f9e-4a2b-9c0d-1e2f3a4b5c6d), in a link its id= part.`,
      "Pass the id as query_entities or get_record returned it, or the record's name.",
    );
}
