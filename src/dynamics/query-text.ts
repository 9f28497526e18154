import { badInput, DynamicsMcpError } from '../errors.js';
import { ODataSyntaxError } from '../odata/errors.js';
import * as odata from '../odata/parser.js';
import { applyToOData, expandToOData, filterToOData, orderByToOData } from '../odata/serialize.js';
import type { QueryParts } from '../policy/check.js';
import { columnLabelled, type EntityModel } from '../policy/model.js';
import { sqlHabitAt } from './syntax-hints.js';

/**
 * Queries as OData text, both ways: what the client sends (its own serialisation of a checked query), and
 * what it reads back (the model's filter and sort text, the links Dynamics hands over).
 */

export const ANNOTATIONS =
  'odata.include-annotations="OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname,Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"';
/**
 * How the model's filter text is read: bounded, and OData 4.01's `in`, SQL's `like`, `=`, `<>`, `IS NULL` and
 * upper-case keywords, C's `&&`, `||`, `!` and `>=`, and text in double quotes, taken as what they mean
 */
export const FILTER_LIMITS = { maxLength: 16_000, maxDepth: 32, habits: true };
/**
 * A next link's filter is our own, echoed by Dynamics: as long as the query we sent, which may be past
 * FILTER_LIMITS (a long "in" list goes in a $batch, up to 65,536 characters) and is still checked.
 */
export const LINK_FILTER_LIMITS = { maxLength: 65_536, maxDepth: 32 };

export const LINK_OPTIONS = new Set([
  '$select',
  '$filter',
  '$orderby',
  '$expand',
  '$apply',
  '$top',
  '$count',
  '$skiptoken',
]);

/** The shared parser, with its syntax errors turned into errors a model can act on. */
function parsing<A extends unknown[], R>(what: string, fn: (...a: A) => R): (...a: A) => R {
  return (...a) => {
    try {
      return fn(...a);
    } catch (err) {
      if (!(err instanceof ODataSyntaxError)) throw err;
      const habit = sqlHabitAt(err.input, err.position);
      throw new DynamicsMcpError(
        'query_syntax',
        `The ${what} is not valid: ${err.message}`,
        (habit ? `${habit}. ` : '') +
          (what === 'filter'
            ? 'Fix the text at the position named, or use the structured "where" conditions instead.'
            : `Fix the ${what} at the position named.`),
        {
          position: err.position,
          retryable: false,
        },
      );
    }
  };
}
export const parseFilter = parsing('filter', odata.parseFilter);
export const parseOrderBy = parsing('orderBy', odata.parseOrderBy);
export const parseSelect = parsing('select', odata.parseSelect);
export const parseExpand = parsing('expand', odata.parseExpand);
export const parseApply = parsing('aggregation', odata.parseApply);

export const q = (s: string) => encodeURIComponent(s).replace(/%2C/g, ',').replace(/%2F/g, '/').replace(/%24/g, '$');

/** A checked query as OData query options, each value encoded; `extra` options go after them as they are. */
export function queryString(parts: QueryParts, extra: string[] = []): string {
  const out: string[] = [];
  if (parts.select?.length) out.push(`$select=${q(parts.select.join(','))}`);
  if (parts.filter) out.push(`$filter=${q(filterToOData(parts.filter))}`);
  if (parts.orderBy?.length) out.push(`$orderby=${q(orderByToOData(parts.orderBy))}`);
  if (parts.expand?.length) out.push(`$expand=${q(expandToOData(parts.expand))}`);
  if (parts.apply?.length) out.push(`$apply=${q(applyToOData(parts.apply))}`);
  return [...out, ...extra].join('&');
}

/**
 * SQL's NULLS FIRST / NULLS LAST, which OData's $orderby cannot say. Dataverse (SQL Server) sorts an empty value
 * before every other ascending and after every other descending, so "desc nulls last" and "asc nulls first" are
 * its own order and are sent without the words; the other two cannot be had, and are refused with the condition
 * that leaves the empty ones out (rather than sent as the opposite of what was asked).
 */
export function nullsInOrderBy(text: string): string {
  return text
    .split(',')
    .map((part) => {
      const m = /^(.*?)(?:\s+(asc|ascending|desc|descending))?\s+nulls\s+(first|last)\s*$/i.exec(part);
      if (!m) return part;
      const [, column, direction, nulls] = m;
      const desc = /^desc/i.test(direction ?? '');
      if (desc === (nulls!.toLowerCase() === 'last')) return `${column} ${desc ? 'desc' : 'asc'}`;
      const name = column!.trim();
      throw badInput(
        `Dynamics sorts empty values first ascending and last descending; '${part.trim()}' cannot be sent.`,
        `To leave out the records with no ${name}, add the condition {"${name}": {"notNull": true}} and sort by '${name} ${desc ? 'desc' : 'asc'}'.`,
      );
    })
    .join(',');
}

/**
 * Sort keys named by a label with spaces ("Annual Revenue desc"), which OData's syntax cannot hold: a label
 * that names one column is written as that column. Anything else is left for the parser to place.
 */
export function labelsInOrderBy(model: EntityModel, text: string): string {
  return text
    .split(',')
    .map((part) => {
      const m = /^\s*(.*?\s.*?)(\s+(?:asc|desc))?\s*$/i.exec(part);
      const col = m ? columnLabelled(model, m[1]!) : undefined;
      return col ? `${col.logicalName}${m![2] ?? ''}` : part;
    })
    .join(',');
}

// PAGE: Dataverse writes @odata.nextLink as the last property of a page
const TRAILING_NEXT_LINK = /,"@odata\.nextLink":("(?:[^"\\]|\\.)*")\s*\}\s*$/;

/** The @odata.nextLink at the very end of a page's JSON, read without parsing the (large) page. */
export function trailingNextLink(text: string): string | undefined {
  const m = TRAILING_NEXT_LINK.exec(text.slice(-16_384));
  if (!m) return undefined;
  try {
    const link: unknown = JSON.parse(m[1]!);
    return typeof link === 'string' ? link : undefined;
  } catch {
    return undefined;
  }
}

/** The raw (still URL-encoded) $skiptoken of a nextLink: all a cursor needs to carry. */
export function skipTokenOf(next: URL): string {
  const part = next.search
    .slice(1)
    .split('&')
    .find((p) => p.startsWith('$skiptoken=') || p.startsWith('%24skiptoken='));
  if (!part)
    throw new DynamicsMcpError(
      'server',
      'Dynamics returned a next page link without a paging cookie.',
      'Run the query again.',
    );
  return part.slice(part.indexOf('=') + 1);
}
