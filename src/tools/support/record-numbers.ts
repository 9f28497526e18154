import { badInput } from '../../errors.js';
import type { ToolContext } from '../define.js';
import { inCurrentVersion } from './versions.js';

/**
 * Text that may be a record's number as people quote it: a case's "CAS-01000-EYQG4V" (Dynamics' default
 * autonumber format, CAS-{SEQNUM:5}-{RANDSTRING:6}; organisations change the prefix and the parts, so any
 * letters, a dash and letters, digits and dashes after it).
 */
export const RECORD_NUMBER = /^[A-Za-z][A-Za-z0-9]{0,9}-[A-Za-z0-9][A-Za-z0-9-]{0,60}$/;

/**
 * The tables whose records people name by a number of their own, and the column that holds it, in the order
 * they are asked when no table is given. `orName`: the table's names look like numbers too ("ACME-Direct"), so
 * text that no record has as its number is then looked for as a name; a case is named by its number.
 */
export const NUMBER_COLUMN: Readonly<Record<string, { column: string; noun: string; orName?: boolean }>> = {
  incident: { column: 'ticketnumber', noun: 'case' },
  account: { column: 'accountnumber', noun: 'account', orName: true },
  // a product's Product ID ("HW-TRK-100"), as price lists and order forms quote it
  product: { column: 'productnumber', noun: 'product', orName: true },
  // a knowledge article's public number ("KA-01002"), as agents quote it to customers (its latest version)
  knowledgearticle: { column: 'articlepublicnumber', noun: 'article', orName: true },
};

/**
 * Of `tables`, those a text that looks like a record number is looked for in (NUMBER_COLUMN's order), as far as
 * the policy lets their numbers be read; none for text that is no number.
 */
export const numberTables = (ctx: ToolContext, tables: readonly string[], given: string): string[] =>
  RECORD_NUMBER.test(given)
    ? Object.keys(NUMBER_COLUMN).filter((t) => tables.includes(t) && numberReadable(ctx, t))
    : [];

/** Whether the policy lets a table's number be read to find a record by it. */
export const numberReadable = (ctx: ToolContext, logical: string) => {
  const number = NUMBER_COLUMN[logical];
  return !!number && ctx.policy.canRead(logical, number.column) && ctx.policy.canRead(logical, `${logical}id`);
};

/**
 * The one record of `logical` with the number `given`, or whose number begins with it up to a dash; undefined
 * when none has. Several are refused with their numbers and ids.
 */
export async function numbered(
  ctx: ToolContext,
  logical: string,
  number: { column: string; noun: string },
  given: string,
): Promise<string | undefined> {
  return (await numberedRow(ctx, logical, number, given))?.id;
}

/** As numbered: the record, with its whole number and, where the policy lets it be read, its name. */
async function numberedRow(
  ctx: ToolContext,
  logical: string,
  number: { column: string; noun: string },
  given: string,
): Promise<{ id: string; number: string; name?: string } | undefined> {
  if (!ctx.policy.canRead(logical, number.column) || !ctx.policy.canRead(logical, `${logical}id`))
    throw badInput(
      `'${given}' is not a record id, and this server's policy does not let it read ${logical}.${number.column} to find the ${number.noun} by its number.`,
      'Pass the record id (GUID) of the case.',
    );
  // "CAS-01001" is how people quote CAS-01001-XTBAQ9 when the random part is not said: the number is the
  // sequence, so a number that is the start of one (up to a dash) is that one, as long as only one begins so
  const primary = (await ctx.client.metadata.entity(logical)).primaryNameAttribute;
  const named = !!primary && primary !== number.column && ctx.policy.canRead(logical, primary);
  const page = await ctx.client.query(
    {
      entity: logical,
      select: [number.column, ...(named ? [primary] : [])],
      where: inCurrentVersion(ctx, logical, {
        or: [
          { column: number.column, op: 'eq', value: given },
          { column: number.column, op: 'startswith', value: `${given}-` },
        ],
      }),
      orderBy: number.column,
      top: 6,
    },
    { signal: ctx.signal, internal: true },
  );
  const rows = page.rows.map((r) => ({
    id: String(r[`${logical}id`]).toLowerCase(),
    number: String(r[number.column] ?? ''),
    name: named && typeof r[primary] === 'string' ? (r[primary] as string) : undefined,
  }));
  const exact = rows.filter((r) => r.number.toLowerCase() === given.toLowerCase());
  const found = exact.length ? exact : rows;
  if (found.length === 1) return found[0];
  if (!found.length) return undefined;
  if (exact.length)
    throw badInput(
      `${exact.length} ${number.noun}s have the number '${given}': ${exact.map((r) => r.id).join(', ')}.`,
      'Pass the id of the one you mean.',
    );
  const more = page.hasMore || rows.length > 5;
  throw badInput(
    `${more ? 'More than 5' : rows.length} ${number.noun}s have a number that begins '${given}': ${rows
      .slice(0, 5)
      .map((r) => `${r.number} (${r.id})`)
      .join(', ')}${more ? ', …' : ''}.`,
    `Pass the whole number or the id of the one you mean.`,
  );
}

/**
 * The record a lookup given as a number points at ("regardingobjectid": "CAS-01008-5NWY8V", a case as support
 * quotes it): of `targets`, the tables named by a number the policy lets be read, in NUMBER_COLUMN's order, the
 * first with a record of that number; undefined when the text is no number or none has it (it is then a name).
 */
export async function numberedIn(
  ctx: ToolContext,
  targets: readonly string[],
  given: string,
): Promise<{ entity: string; id: string; name: string } | undefined> {
  for (const table of numberTables(ctx, targets, given)) {
    const row = await numberedRow(ctx, table, NUMBER_COLUMN[table]!, given);
    // named as Dynamics shows it, with the number it was given by ("Telematics tracker, HW-TRK-100")
    if (row) return { entity: table, id: row.id, name: row.name ? `${row.name}, ${row.number}` : row.number };
  }
  return undefined;
}
