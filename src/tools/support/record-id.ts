import { badInput } from '../../errors.js';
import type { ToolContext } from '../define.js';
import { guidOrUndefined } from './ids.js';
import { recordNamed } from './lookup-names.js';

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
): Promise<string> {
  const id = guidOrUndefined(given);
  if (id) return id;
  if (/^https?:\/\//i.test(given) || /^[0-9a-f-]{20,}$/i.test(given))
    throw badInput(
      `id '${given}' is not a record id: an id is a GUID of 32 hex digits (5b6b1d3c-8f9e-4a2b-9c0d-1e2f3a4b5c6d), in a link its id= part.`,
      "Pass the id as query_entities or get_record returned it, or the record's name.",
    );
  // the table is resolved only for a number or a name: an id, the common case, costs nothing here
  const logical = typeof table === 'string' ? table : await table();
  const number = NUMBER_COLUMN[logical];
  if (number && RECORD_NUMBER.test(given)) ctx.recordId = await numbered(ctx, logical, number, given);
  else {
    const named = await recordNamed(ctx, [logical], given, 'id');
    ctx.recordId = named.id.toLowerCase();
    ctx.recordName = named.name;
  }
  return ctx.recordId;
}

async function numbered(
  ctx: ToolContext,
  logical: string,
  number: { column: string; noun: string },
  given: string,
): Promise<string> {
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
  if (ids.length === 1) return ids[0]!;
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
