import { z } from 'zod';
import { boundUnlisted } from '../list-cache.js';
import { pathMeant } from './where-as-meant.js';

// the column may be a label of several words ("Annual Revenue descending"), read as a label later
const SORT_KEY =
  /^(-)?\s*([A-Za-z_][^,]*?)(?:\s+(asc|ascending|desc|descending|newest|latest|most recent|highest|largest|biggest|oldest|earliest|lowest|smallest)(?:\s+first)?)?$/i;
/** The end wanted first in time, said alone ("newest first"): of when records were made, Dataverse's createdon */
const BY_AGE = /^(newest|latest|most recent|recent|oldest|earliest)(?:\s+first)?$/i;
/** Directions in words: which end comes first */
const LAST_FIRST = /^(desc|descending|newest|latest|most recent|highest|largest|biggest)$/i;
/**
 * Sort keys as models write them from SQL and REST habits, where each can mean one thing: a list of keys
 * (["name asc", "createdon desc"]) in that order, DESC / descending for desc, "-revenue" for revenue desc, and
 * the end wanted first in words ("createdon newest first", "revenue highest", "createdon oldest"; "newest
 * first" alone is by createdon, which every table has), after SQL's ORDER BY where it is written too.
 * OData itself only takes lower-case asc/desc after the column; anything else is left for its parser to refuse.
 */
function sortAsMeant(v: unknown): unknown {
  const keys = (Array.isArray(v) ? v : [v]).map(sortKeyText);
  const text =
    keys.every((k) => typeof k === 'string') && (Array.isArray(v) || typeof v === 'object') ? keys.join(',') : v;
  if (typeof text !== 'string') return text;
  // SQL's clause written out ("ORDER BY revenue DESC", "sort by name"): the keys after it
  return text
    .replace(/^\s*(?:order|sort)(?:ed)?\s+by\s+/i, '')
    .split(',')
    .map((part) => {
      const age = BY_AGE.exec(part.trim())?.[1];
      if (age) return `createdon ${/^(oldest|earliest)$/i.test(age) ? 'asc' : 'desc'}`;
      const m = SORT_KEY.exec(part.trim());
      // "-revenue asc" contradicts itself: the parser's refusal says where
      if (!m || (m[1] && m[3])) return part.trim();
      const desc = m[1] === '-' || LAST_FIRST.test(m[3] ?? '');
      const column = pathMeant(m[2]!);
      return m[1] || m[3] ? `${column} ${desc ? 'desc' : 'asc'}` : column;
    })
    .join(', ');
}

const DIRECTIONS = new Map<unknown, string>([
  ['asc', 'asc'],
  ['ascending', 'asc'],
  ['desc', 'desc'],
  ['descending', 'desc'],
  [1, 'asc'],
  [-1, 'desc'],
]);
/**
 * One sort key as text: a string as it is; {column, direction} (and field/attribute, order/dir), or
 * {revenue: "desc"} as Prisma and MongoDB write it ({revenue: -1}). Anything else is left for the refusal.
 */
function sortKeyText(k: unknown): unknown {
  if (typeof k === 'string' || typeof k !== 'object' || k === null || Array.isArray(k)) return k;
  const o = k as Record<string, unknown>;
  const column = o.column ?? o.field ?? o.attribute;
  const dirOf = (d: unknown) => DIRECTIONS.get(typeof d === 'string' ? d.trim().toLowerCase() : d);
  if (typeof column === 'string') {
    const given = o.direction ?? o.order ?? o.dir;
    const dir = given === undefined ? 'asc' : dirOf(given);
    return dir && Object.keys(o).length <= 2 ? `${column} ${dir}` : k;
  }
  const entries = Object.entries(o);
  const dir = entries.length === 1 ? dirOf(entries[0]![1]) : undefined;
  return dir ? `${entries[0]![0]} ${dir}` : k;
}

/** Sort keys as text (OData's "name asc, createdon desc"), from any of the forms sortAsMeant reads. */
export const orderByParam = z.preprocess(
  sortAsMeant,
  boundUnlisted(
    z
      .string({
        error: (issue) =>
          issue.code === 'invalid_type'
            ? 'orderBy is text: a column and asc or desc, e.g. "name asc, createdon desc".'
            : undefined,
      })
      .max(500),
  ),
);
