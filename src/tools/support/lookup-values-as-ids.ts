import { emailAsMeant, isEmailAddress, isGuidText, type Scalar } from '../../dynamics/coerce.js';
import type { Condition } from '../../dynamics/conditions.js';
import { ME, teamsMeant } from '../../dynamics/obo.js';
import { isPartyList } from '../../dynamics/party-lists.js';
import { badInput, DynamicsMcpError } from '../../errors.js';
import { isLookupType } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { emailColumn, emailMatches, exactlyNamed, orList, recordNamed, tableNoun, userNamed } from './lookup-names.js';
import { phoneDigits, phoneMatches } from './phoned.js';
import { NUMBER_COLUMN, numberedIn, numberTables, RECORD_NUMBER } from './record-numbers.js';

/** Addresses (or record numbers) one condition may name: each is a lookup of its own, made before the query. */
const MAX_ADDRESSES = 25;
/** The operators a lookup compared with an address keeps, as ids: one of them, or none of them. */
const AS_IDS: Readonly<Record<string, 'in' | 'notIn'>> = { eq: 'in', in: 'in', ne: 'notIn', notIn: 'notIn' };

/**
 * A lookup compared with an email address ({"customerid": "nina@…"}, "cases from this sender") is compared with
 * the records of its tables that have that address: where it would otherwise compare the related record's name
 * and find nothing. Every record with the address counts (two contacts sharing one are both the sender). Only
 * tables whose address the policy lets the model read are asked; a lookup none of whose tables is, keeps the
 * text (compared as a name, as a lookup's text is). An address no record has is refused, said so: an empty
 * answer would read as "no cases". A phone number likewise ({"customerid": "+1 555 678 4478"}: the caller's
 * cases), compared by its digits with the phone columns the policy lets the model read. A record's number (a case's) is its id alike, and so is a name under a
 * negation (namesAsIds); a name otherwise stays a name, matched through the lookup by the condition builder.
 */
export async function lookupValuesAsIds(ctx: ToolContext, entity: string, where: Condition): Promise<Condition> {
  const model = await ctx.client.checker.entity(entity);
  const walk = async (c: Condition, negated: boolean): Promise<Condition> => {
    if ('and' in c) return { and: await Promise.all(c.and.map((x) => walk(x, negated))) };
    if ('or' in c) return { or: await Promise.all(c.or.map((x) => walk(x, negated))) };
    if ('not' in c) return { not: await walk(c.not, !negated) };
    const op = AS_IDS[c.op];
    const column = typeof c.column === 'string' ? model.columns.get(c.column.trim().toLowerCase()) : undefined;
    const values = Array.isArray(c.value) ? c.value : [c.value];
    const addresses = values.map((v) => (typeof v === 'string' ? String(emailAsMeant(v)) : ''));
    // a call's To or From ({"to": "nina@…"}: the calls to her) is people as a lookup is
    const people = !!column && (isLookupType(column.type) || isPartyList(column));
    if (!op || !column || !people || !column.targets?.length) return c;
    if (values.length && values.every((v) => typeof v === 'string' && RECORD_NUMBER.test(v.trim())))
      return (await numbersAsIds(ctx, column.targets, values as string[], column.logicalName, op)) ?? c;
    if (
      (op === 'notIn' || negated) &&
      values.length &&
      values.every((v, i) => typeof v === 'string' && v.trim() && !isGuidText(v) && !isEmailAddress(addresses[i]!))
    )
      return (
        (await namesAsIds(ctx, column.targets, values as string[], model.logicalName, column.logicalName, op)) ?? c
      );
    // a phone number ({"customerid": "+1 555 678 4478"}, "this caller's cases"): the records with it, by digits
    const dialled = values.map((v) => (typeof v === 'string' ? phoneDigits(v) : undefined));
    if (values.length && dialled.every((d) => d !== undefined)) {
      if (dialled.length > MAX_ADDRESSES)
        throw badInput(
          `${model.logicalName}.${column.logicalName} is compared with ${dialled.length} phone numbers; one condition looks up at most ${MAX_ADDRESSES}.`,
          "Compare with the records' ids instead (query_entities on the related table finds them), or split the list.",
        );
      const ids: Scalar[] = [];
      for (const [i, digits] of dialled.entries()) {
        const found = await phoneMatches(ctx, column.targets, digits!);
        // none: a record named with digits alone ("2026-001") is compared by its name, as any name is
        if (!found.length && (await exactlyNamed(ctx, column.targets, String(values[i]).trim())).found.length) return c;
        if (!found.length)
          throw new DynamicsMcpError(
            'not_found',
            `No ${orList(column.targets.map(tableNoun))} this server may read has the phone number '${String(values[i])}' (${model.logicalName}.${column.logicalName}; compared by its digits).`,
            `Check the number, or find the record with query_entities (e.g. on ${column.targets[0]} by name) and compare with its id.`,
          );
        ids.push(...found.map((f) => f.id));
      }
      return { column: column.logicalName, op, value: ids };
    }
    if (!values.length || !addresses.every(isEmailAddress)) return c;
    if (addresses.length > MAX_ADDRESSES)
      throw badInput(
        `${model.logicalName}.${column.logicalName} is compared with ${addresses.length} email addresses; one condition looks up at most ${MAX_ADDRESSES}.`,
        "Compare with the records' ids instead (query_entities on the related table finds them), or split the list.",
      );
    const tables = (
      await Promise.all(column.targets.map(async (t) => ((await emailColumn(ctx, t)) ? [t] : [])))
    ).flat();
    if (!tables.length) return c;
    const ids: Scalar[] = [];
    for (const address of addresses) {
      const found = await emailMatches(ctx, tables, address);
      if (!found.length)
        throw new DynamicsMcpError(
          'not_found',
          `No ${orList(tables.map(tableNoun))} this server may read has the email '${address}' (${model.logicalName}.${column.logicalName}).`,
          `Check the address, or find the record with query_entities (e.g. on ${tables[0]} where its email contains part of it) and compare with its id.`,
        );
      ids.push(...found.map((f) => f.id));
    }
    return { column: column.logicalName, op, value: ids };
  };
  return walk(where, false);
}

/**
 * Expand items' conditions read as the top-level where is (lookupValuesAsIds), each against the table its
 * relationship leads to: "this account's cases not owned by Karin Olsen". An item whose relationship leads to
 * no table the policy offers is left as given, for the query to refuse as it would.
 */
export async function expandLookupsAsIds<T extends { relation: string; where?: Condition }>(
  ctx: ToolContext,
  entity: string,
  items: T[] | undefined,
): Promise<T[] | undefined> {
  if (!items?.some((i) => i.where)) return items;
  return Promise.all(
    items.map(async (item) => {
      if (!item.where) return item;
      const table = await ctx.client.tableThrough(entity, item.relation).catch(() => undefined);
      if (!table || !ctx.policy.entities().includes(table)) return item;
      return { ...item, where: await lookupValuesAsIds(ctx, table, item.where) };
    }),
  );
}

/**
 * A lookup that must not be a record named so ({"ownerid": {"ne": "Karin Olsen"}}, or eq under a "not"): not
 * any record of its tables with that primary name, compared by their ids. Through the lookup's name path
 * ("ownerid/fullname ne …") a negation would not hold where the relationship is absent (a case a team owns has
 * no owning user), and a mistyped name would leave everything in without a word; so each name is looked up
 * first, and one that no record has is refused with the names that contain it. Undefined where the policy
 * lets the model read none of the tables' names (the text then goes on, to be refused with the path to write).
 */
async function namesAsIds(
  ctx: ToolContext,
  targets: readonly string[],
  names: string[],
  entity: string,
  column: string,
  op: 'in' | 'notIn',
): Promise<Condition | undefined> {
  const what = `${entity}.${column}`;
  if (names.length > MAX_ADDRESSES)
    throw badInput(
      `${what} is compared with ${names.length} names; one condition looks up at most ${MAX_ADDRESSES}.`,
      "Compare with the records' ids instead (query_entities on the related table finds them), or split the list.",
    );
  const ids: Scalar[] = [];
  for (const name of names) {
    // "not mine": the user the call runs as, where that is the signed-in user; as an application it would be
    // the application, so refused as "me" is everywhere (userNamed)
    if (ME.test(name.trim()) && targets.includes('systemuser')) {
      ids.push(await userNamed(ctx, name, what));
      continue;
    }
    // "not my team's": Dataverse has no opposite of EqualUserTeams (and a query function takes no not)
    if (teamsMeant(name) && targets.includes('team'))
      throw badInput(
        `${what} '${name.trim()}' under a negation: Dataverse has no condition for what the user's teams do not own.`,
        `Name the teams left out: {"${column}": {"notIn": ["<team name>", …]}} (query_entities on team lists them).`,
      );
    const answered = await exactlyNamed(ctx, [...targets], name.trim());
    if (!answered.asked.length) return undefined;
    // none: refused with the names that contain it; more than one answer lists: not all of them could be left out
    if (!answered.found.length || answered.found.length > 5)
      await recordNamed(ctx, [...targets], name.trim(), what, answered);
    ids.push(...answered.found.map((f) => f.id));
  }
  return { column, op, value: ids };
}

/**
 * A lookup compared with a record's number ({"regardingobjectid": "CAS-01008-5NWY8V"}: what was done on that
 * case, as support quotes it) is compared with that record's id, as an id argument given a case number is. Only
 * where every value is the number of a record the lookup may point at; otherwise the text stays a name (an
 * account may be called "ACME-Direct").
 */
async function numbersAsIds(
  ctx: ToolContext,
  targets: readonly string[],
  values: string[],
  column: string,
  op: 'in' | 'notIn',
): Promise<Condition | undefined> {
  if (values.length > MAX_ADDRESSES) return undefined;
  const ids: Scalar[] = [];
  const missing: string[] = [];
  for (const v of values) {
    const found = await numberedIn(ctx, targets, v.trim());
    if (found) ids.push(found.id);
    else missing.push(v.trim());
  }
  if (!ids.length) return undefined;
  // some numbers found and some not: a mistyped one would otherwise drop out of the answer unsaid
  if (missing.length)
    throw new DynamicsMcpError(
      'not_found',
      `No ${orList(
        numberTables(ctx, targets, missing[0]!).map((t) => NUMBER_COLUMN[t]!.noun),
      )} has the number ${missing.map((m) => `'${m}'`).join(', ')} (${column}); the others given are records' numbers.`,
      'Check those numbers with the user, or leave them out.',
    );
  return { column, op, value: ids };
}
