import { createRequire } from 'node:module';

/**
 * FetchXML, as Dynamics people write queries (Advanced Find's "Download FetchXML", a view's definition, XrmToolBox's
 * FetchXML Builder), read as query_entities' own arguments: the table, its columns, the conditions as where takes
 * them, the sort, the row count. Every part then goes through the same checks as any query (the policy, the
 * columns' types, the conditions' values) — nothing of the XML is sent as it is. What has no equal here is
 * refused naming it: aggregates (aggregate_records), paging (the cursor), a related list's rows (a where
 * condition on the list).
 */

/** query_entities' arguments as FetchXML gives them. */
export interface FetchXmlQuery {
  entity: string;
  select?: string[];
  where?: Record<string, unknown>;
  orderBy?: string;
  top?: number;
  count?: boolean;
}

type Node = Record<string, unknown>;

/** Elements that may repeat: read as lists whether one is given or several. */
const REPEATED = new Set(['attribute', 'order', 'filter', 'condition', 'value', 'link-entity']);
/** FetchXML is short; a page of it is a mistake or an attack. */
export const FETCH_XML_MAX = 16_000;

export class FetchXmlError extends Error {}

/**
 * FetchXML's condition operators (Microsoft Learn, "Filter rows using FetchXml": the operator list) as where's,
 * for those with an equal there. The period operators are the same periods; x-operators take their count.
 */
const SAME: Record<string, string> = {
  eq: 'eq',
  ne: 'ne',
  neq: 'ne',
  gt: 'gt',
  ge: 'ge',
  lt: 'lt',
  le: 'le',
  in: 'in',
  'not-in': 'notIn',
  between: 'between',
  'not-between': 'notBetween',
  null: 'null',
  'not-null': 'notNull',
  'begins-with': 'startswith',
  'ends-with': 'endswith',
  on: 'on',
  'on-or-after': 'onOrAfter',
  'on-or-before': 'onOrBefore',
  today: 'today',
  yesterday: 'yesterday',
  tomorrow: 'tomorrow',
  'this-week': 'thisWeek',
  'last-week': 'lastWeek',
  'next-week': 'nextWeek',
  'this-month': 'thisMonth',
  'last-month': 'lastMonth',
  'next-month': 'nextMonth',
  'this-year': 'thisYear',
  'last-year': 'lastYear',
  'next-year': 'nextYear',
  'last-x-days': 'lastXDays',
  'next-x-days': 'nextXDays',
  'olderthan-x-days': 'olderThanXDays',
  'eq-userid': 'currentUser',
};
/** Operators that are a period in words with their count ("last-x-weeks" 2: "last 2 weeks"). */
const COUNTED_PERIODS = /^(last|next)-x-(weeks|months|years)$/;
/** The fiscal periods, as where's words name them. */
const FISCAL: Record<string, string> = {
  'this-fiscal-year': 'this fiscal year',
  'last-fiscal-year': 'last fiscal year',
  'next-fiscal-year': 'next fiscal year',
};

/** The XML read, or a FetchXmlError saying where it is not well-formed. */
function parsed(xml: string): Node {
  if (xml.length > FETCH_XML_MAX)
    throw new FetchXmlError(`The FetchXML is ${xml.length} characters; at most ${FETCH_XML_MAX} are read.`);
  // FetchXML declares nothing: a DOCTYPE can only define entities, which are not expanded here
  if (/<!DOCTYPE/i.test(xml)) throw new FetchXmlError('The FetchXML has a DOCTYPE, which FetchXML never has.');
  // loaded when FetchXML is given, not at every start (stdio cold start)
  const { XMLParser, XMLValidator } = createRequire(import.meta.url)(
    'fast-xml-parser',
  ) as typeof import('fast-xml-parser');
  const valid = XMLValidator.validate(xml);
  if (valid !== true)
    throw new FetchXmlError(`The FetchXML is not well-formed: ${valid.err.msg} (line ${valid.err.line}).`);
  return new XMLParser({
    ignoreAttributes: false,
    // (a condition's value="…" and its <value> children are apart only with a prefix)
    attributeNamePrefix: '@',
    parseAttributeValue: false,
    parseTagValue: false,
    processEntities: true,
    htmlEntities: false,
    isArray: (name, _path, _leaf, isAttribute) => !isAttribute && REPEATED.has(name),
  }).parse(xml) as Node;
}

const list = (v: unknown): Node[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]) as Node[];
const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'object' && v !== null ? ((v as Node)['#text'] as string) : undefined;

/** query_entities' arguments from FetchXML text; a FetchXmlError for what cannot be read or has no equal. */
export function fetchXmlQuery(xml: string): FetchXmlQuery {
  const fetch = parsed(xml.trim()).fetch as Node | undefined;
  if (typeof fetch !== 'object' || fetch === null)
    throw new FetchXmlError('FetchXML starts with <fetch>, holding one <entity name="…">.');
  if (fetch['@aggregate'] === 'true')
    throw new FetchXmlError(
      'An aggregate FetchXML (aggregate="true") is a count, sum or average by group: aggregate_records answers it, with groupBy and measures.',
    );
  if (fetch['@page'] !== undefined || fetch['@paging-cookie'] !== undefined)
    throw new FetchXmlError(
      'page and paging-cookie are not read: the rows after a page come with the cursor the answer gives (hasMore true).',
    );
  const entity = fetch.entity as Node | undefined;
  if (typeof entity !== 'object' || entity === null || Array.isArray(entity) || typeof entity['@name'] !== 'string')
    throw new FetchXmlError('FetchXML names its table in one <entity name="…"> inside <fetch>.');
  const out: FetchXmlQuery = { entity: entity['@name'] as string };
  const top = fetch['@top'] ?? fetch['@count'];
  if (top !== undefined) {
    const n = Number(top);
    if (!Number.isInteger(n) || n < 0) throw new FetchXmlError(`top="${String(top)}" is not a number of rows.`);
    out.top = n;
  }
  if (fetch['@returntotalrecordcount'] === 'true') out.count = true;
  const select: string[] = [];
  const orderBy: string[] = [];
  const conditions: Node[] = [];
  readEntity(entity, entity['@name'] as string, '', select, orderBy, conditions);
  if (select.length && entity['all-attributes'] === undefined) out.select = select;
  if (orderBy.length) out.orderBy = orderBy.join(', ');
  if (conditions.length) out.where = conditions.length === 1 ? conditions[0]! : { and: conditions };
  return out;
}

/**
 * An entity or link-entity's columns, sort and conditions, its columns named from the queried table: a
 * link-entity to a record a lookup points at ("to" the lookup, "from" its table's key) is that lookup's path
 * (parentcustomerid/name), as select and where write a related record's column.
 */
function readEntity(e: Node, table: string, prefix: string, select: string[], orderBy: string[], conditions: Node[]) {
  const root = prefix === '';
  for (const a of list(e.attribute)) {
    if (typeof a['@name'] !== 'string') throw new FetchXmlError('Each <attribute> has a name.');
    if (a['@alias'] !== undefined && a['@alias'] !== a['@name'])
      throw new FetchXmlError(
        `<attribute alias="${String(a['@alias'])}">: columns keep their names here; leave the alias out.`,
      );
    select.push(prefix + (a['@name'] as string));
  }
  for (const o of list(e.order)) {
    if (!root) throw new FetchXmlError("A link-entity's <order>: sort by the table's own columns.");
    if (typeof o['@attribute'] !== 'string') throw new FetchXmlError('Each <order> names its attribute.');
    orderBy.push(`${o['@attribute']} ${o['@descending'] === 'true' ? 'desc' : 'asc'}`);
  }
  for (const f of list(e.filter)) conditions.push(filterOf(f, prefix));
  for (const l of list(e['link-entity'])) {
    const [name, from, to] = [l['@name'], l['@from'], l['@to']];
    if (typeof name !== 'string' || typeof from !== 'string' || typeof to !== 'string')
      throw new FetchXmlError('Each <link-entity> has name, from and to.');
    const outer = l['@link-type'] === 'outer';
    // to a record a lookup ("to") points at ("from" its key): the lookup's path, as select and where write a
    // related record's column (parentcustomerid/name)
    if (from === `${name}id`) {
      if (outer && list(l.filter).length)
        throw new FetchXmlError(
          `An outer <link-entity name="${name}"> with a filter: write the conditions as where does, with "or" and null checks on '${prefix}${to}/…'.`,
        );
      readEntity(l, name, `${prefix}${to}/`, select, orderBy, conditions);
      continue;
    }
    // from this record's key ("to") to a lookup on the linked table ("from"): the rows of it that point at
    // the record, a related list, which where asks through the list (one row meeting the conditions)
    if (root && to === `${table}id`) {
      relatedList(l, name, from, outer, conditions);
      continue;
    }
    throw new FetchXmlError(
      `<link-entity name="${name}" from="${from}" to="${to}">: a link is read from a lookup to the record it points at (from="${name}id"), or from the queried table's key to the records pointing at it (to="${table}id").`,
    );
  }
}

/**
 * A one-to-many link-entity: its conditions as the related list's (the relationship by its "from" lookup),
 * one related row meeting them; an inner link without conditions is "has at least one". Its columns would be
 * a row per related record: an expansion of the list gives them.
 */
function relatedList(l: Node, name: string, from: string, outer: boolean, conditions: Node[]) {
  // the relationship by that lookup, which the query planner names (relationMeant)
  const rows = `${name}(${from})`;
  if (list(l.attribute).length || list(l['link-entity']).length)
    throw new FetchXmlError(
      `<link-entity name="${name}" from="${from}"> with columns: each record would come once per ${name}; ask for them as an expansion, "expand": [{"relation": "${rows}", "select": [...]}].`,
    );
  const inner: Node[] = list(l.filter).map((f) => filterOf(f, `${rows}/`));
  if (outer) {
    if (inner.length)
      throw new FetchXmlError(
        `An outer <link-entity name="${name}"> with a filter keeps every record: leave the filter out, or make the link inner (records with a matching ${name}).`,
      );
    return;
  }
  conditions.push(...(inner.length ? inner : [{ column: `${rows}/${from}`, op: 'notNull' }]));
}

function filterOf(f: Node, prefix: string): Node {
  const type = f['@type'] === 'or' ? 'or' : 'and';
  const items = [
    ...list(f.condition).map((c) => conditionOf(c, prefix)),
    ...list(f.filter).map((x) => filterOf(x, prefix)),
  ];
  if (!items.length) throw new FetchXmlError('A <filter> holds at least one <condition> or <filter>.');
  return items.length === 1 ? items[0]! : { [type]: items };
}

function conditionOf(c: Node, prefix: string): Node {
  const attribute = c['@attribute'];
  const operator = typeof c['@operator'] === 'string' ? c['@operator'].toLowerCase() : undefined;
  if (typeof attribute !== 'string' || !operator)
    throw new FetchXmlError('Each <condition> has attribute and operator.');
  if (c['@entityname'] !== undefined)
    throw new FetchXmlError(
      `<condition entityname="${String(c['@entityname'])}">: put the condition in that link-entity's own <filter>.`,
    );
  const column = prefix + attribute;
  const values = list(c.value).map(text);
  const value = typeof c['@value'] === 'string' ? c['@value'] : values.length === 1 ? values[0] : undefined;
  const op = SAME[operator];
  if (op === 'in' || op === 'notIn' || op === 'between' || op === 'notBetween')
    return { column, op, value: values.length ? values : [value] };
  if (op) return value === undefined ? { column, op } : { column, op, value };
  // like '%x%', 'x%', '%x': the text function it means (Dataverse's LIKE otherwise), as where reads it
  if (operator === 'like' || operator === 'not-like') {
    const leaf = { column, op: 'eq', value: value ?? '' };
    return operator === 'like' ? leaf : { not: leaf };
  }
  if (operator === 'not-begin-with' || operator === 'not-end-with')
    return { not: { column, op: operator === 'not-begin-with' ? 'startswith' : 'endswith', value } };
  if (operator === 'last-seven-days' || operator === 'next-seven-days')
    return { column, op: operator === 'last-seven-days' ? 'lastXDays' : 'nextXDays', value: 7 };
  const counted = COUNTED_PERIODS.exec(operator);
  if (counted) return { column, op: 'eq', value: `${counted[1]} ${value} ${counted[2]}` };
  if (FISCAL[operator]) return { column, op: 'eq', value: FISCAL[operator] };
  throw new FetchXmlError(
    `The FetchXML operator '${operator}' (on ${column}) has no equal here; where's operators: eq, ne, gt, ge, lt, le, contains, startswith, endswith, in, between, null, notNull, on, lastXDays, today, thisMonth … (a period in words: "last 2 weeks", "this fiscal year").`,
  );
}

/**
 * query_entities' arguments with FetchXML in them read as its own: "fetchXml" (any casing, or "fetch"), or a
 * <fetch> or <filter> written as where or filter text. A whole <fetch> is the whole query: beside it only
 * top, count and cursor are taken (a select or condition beside it would be two queries in one call). A
 * <filter> alone is the where of the entity given.
 */
export function fetchXmlArgs(args: Record<string, unknown>): Record<string, unknown> {
  const key = Object.keys(args).find((k) => /^fetch(xml)?$/i.test(k));
  const text = (k: string) => (typeof args[k] === 'string' ? (args[k] as string).trim() : '');
  const inText = ['where', 'filter'].find((k) => /^<(fetch|filter)\b/i.test(text(k)));
  if (key === undefined && inText === undefined) return args;
  const xml = key !== undefined ? args[key] : text(inText!);
  if (typeof xml !== 'string') throw new FetchXmlError(`${key} takes FetchXML text, starting with <fetch>.`);
  const from = key ?? inText!;
  const { [from]: _xml, ...rest } = args;
  if (/^<filter\b/i.test(xml.trim())) {
    if (typeof rest.entity !== 'string')
      throw new FetchXmlError('A FetchXML <filter> alone needs the entity it filters: give "entity" beside it.');
    const where = fetchXmlQuery(`<fetch><entity name="${rest.entity.replace(/"/g, '')}">${xml}</entity></fetch>`).where;
    if (rest.where !== undefined) return { ...rest, where: { and: [rest.where, where] } };
    return { ...rest, where };
  }
  const query = fetchXmlQuery(xml);
  const beside = Object.keys(rest).filter((k) => !['entity', 'top', 'count', 'cursor'].includes(k));
  if (beside.length)
    throw new FetchXmlError(
      `The FetchXML is the whole query: ${beside.map((k) => `'${k}'`).join(', ')} beside it would make two; put ${beside.length > 1 ? 'them' : 'it'} in the FetchXML, or give the query as query_entities' arguments alone.`,
    );
  if (typeof rest.entity === 'string' && rest.entity.trim().toLowerCase() !== query.entity.toLowerCase())
    throw new FetchXmlError(`entity is '${rest.entity}' but the FetchXML's <entity> is '${query.entity}': give one.`);
  return {
    ...query,
    ...(rest.top !== undefined ? { top: rest.top } : {}),
    ...(rest.count !== undefined ? { count: rest.count } : {}),
    ...(rest.cursor !== undefined ? { cursor: rest.cursor } : {}),
  };
}
