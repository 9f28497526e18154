import { badInput } from '../../errors.js';
import type { ToolContext } from '../define.js';
import { guidOrUndefined } from './ids.js';

/**
 * Text that may be a record's number as people quote it: a case's "CAS-01000-EYQG4V" (Dynamics' default
 * autonumber format, CAS-{SEQNUM:5}-{RANDSTRING:6}; organisations change the prefix and the parts, so any
 * letters, a dash and letters, digits and dashes after it).
 */
export const RECORD_NUMBER = /^[A-Za-z][A-Za-z0-9]{0,9}-[A-Za-z0-9][A-Za-z0-9-]{0,60}$/;

/** The tables whose records people name by a number of their own, and the column that holds it. */
const NUMBER_COLUMN: Readonly<Record<string, { column: string; noun: string }>> = {
  incident: { column: 'ticketnumber', noun: 'case' },
};

/**
 * The record id an `id` argument names: the id itself, or, for a case, its case number ("resolve
 * CAS-01000-EYQG4V" is how support says it), found with the query any model could make, through the policy.
 * A number for another table, or one no case has, is refused with how to find the id.
 */
export async function recordIdOf(
  ctx: ToolContext,
  table: string | (() => Promise<string>),
  given: string,
): Promise<string> {
  const id = guidOrUndefined(given);
  if (id) return id;
  // the table is resolved only for a number: an id, the common case, costs nothing here
  const logical = typeof table === 'string' ? table : await table();
  const number = NUMBER_COLUMN[logical];
  if (!number)
    throw badInput(
      `id must be a record id (GUID); '${given}' is not one (a number is taken for cases alone: their case number).`,
      `Find the ${logical} with query_entities and pass the id it gives.`,
    );
  if (!ctx.policy.canRead(logical, number.column) || !ctx.policy.canRead(logical, `${logical}id`))
    throw badInput(
      `'${given}' is not a record id, and this server's policy does not let it read ${logical}.${number.column} to find the ${number.noun} by its number.`,
      'Pass the record id (GUID) of the case.',
    );
  const page = await ctx.client.query(
    {
      entity: logical,
      select: [number.column],
      where: { column: number.column, op: 'eq', value: given },
      top: 2,
    },
    { signal: ctx.signal, internal: true },
  );
  const ids = page.rows.map((r) => String(r[`${logical}id`]).toLowerCase());
  if (ids.length === 1) {
    ctx.recordId = ids[0]!;
    return ids[0]!;
  }
  if (!ids.length)
    throw badInput(
      `No ${number.noun} has the number '${given}'.`,
      `Check the number, or find the ${number.noun} with query_entities (e.g. where {"title": {"contains": "<words from it>"}}) and pass its id.`,
    );
  throw badInput(
    `${ids.length} ${number.noun}s have the number '${given}': ${ids.join(', ')}.`,
    'Pass the id of the one you mean.',
  );
}
