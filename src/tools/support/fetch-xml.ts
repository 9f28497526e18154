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
  expand?: Record<string, unknown>[];
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

/** An XML Schema boolean, as FetchXML's are typed: "true" or "1" (any spacing or casing), else false. */
const yes = (v: unknown) => typeof v === 'string' && /^\s*(true|1)\s*$/i.test(v);
const xmlAttribute = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
const list = (v: unknown): Node[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]) as Node[];
const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'object' && v !== null ? ((v as Node)['#text'] as string) : undefined;

/**
 * FetchXML's elements each hold only these (the fetch schema): anything else, a misspelt <atribute> or a
 * <condition> outside a <filter>, is refused rather than left out with what it asked.
 */
const CHILDREN: Readonly<Record<string, readonly string[]>> = {
  fetch: ['entity'],
  entity: ['attribute', 'all-attributes', 'order', 'filter', 'link-entity'],
  'link-entity': ['attribute', 'all-attributes', 'order', 'filter', 'link-entity'],
  filter: ['condition', 'filter', 'link-entity'],
  condition: ['value'],
};

function onlyKnown(node: Node, element: string): void {
  const allowed = CHILDREN[element] ?? [];
  for (const key of Object.keys(node)) {
    if (key.startsWith('@') || key === '#text' || allowed.includes(key)) continue;
    throw new FetchXmlError(
      `<${key}> inside <${element}> is not FetchXML${allowed.length ? `: <${element}> holds ${allowed.map((a) => `<${a}>`).join(', ')}` : ''}.`,
    );
  }
  for (const child of allowed)
    for (const c of list(node[child])) if (typeof c === 'object' && c !== null) onlyKnown(c, child);
}

/** The <fetch> and its <entity>, read; a FetchXmlError where either is missing. */
function fetchOf(xml: string): { fetch: Node; entity: Node; name: string } {
  const fetch = parsed(xml.trim()).fetch as Node | undefined;
  if (typeof fetch !== 'object' || fetch === null)
    throw new FetchXmlError('FetchXML starts with <fetch>, holding one <entity name="…">.');
  // page="1", as FetchXML Builder writes every query, is the first page: the query itself
  if ((fetch['@page'] !== undefined && String(fetch['@page']).trim() !== '1') || fetch['@paging-cookie'] !== undefined)
    throw new FetchXmlError(
      'page (past the first) and paging-cookie are not read: the rows after a page come with the cursor the answer gives (hasMore true).',
    );
  const entity = fetch.entity as Node | undefined;
  if (typeof entity !== 'object' || entity === null || Array.isArray(entity) || typeof entity['@name'] !== 'string')
    throw new FetchXmlError('FetchXML names its table in one <entity name="…"> inside <fetch>.');
  onlyKnown(fetch, 'fetch');
  // long-term retention's rows (datasource="retained": "the query is for retained rows only", fetch
  // reference), which no OData query reads (Long-term data retention): translated here, the answer would be
  // the live rows, unsaid
  const source = fetch['@datasource'];
  if (source !== undefined && String(source).trim().toLowerCase() !== 'live')
    throw new FetchXmlError(
      `datasource="${String(source)}": retained (long-term retention) data is not read here; leave datasource out for the live rows.`,
    );
  return { fetch, entity, name: entity['@name'] as string };
}

/** <fetch top="…"> (or count, its page size): the rows or groups asked for, at least `least`. */
function topOf(fetch: Node, least: number, what: string): number | undefined {
  const top = fetch['@top'] ?? fetch['@count'];
  if (top === undefined) return undefined;
  const n = Number(top);
  if (!Number.isInteger(n) || n < least) throw new FetchXmlError(`top="${String(top)}" is not a number of ${what}.`);
  return n;
}

const whereOf = (conditions: Node[]) => (conditions.length === 1 ? conditions[0]! : { and: conditions });

/** query_entities' arguments from FetchXML text; a FetchXmlError for what cannot be read or has no equal. */
export function fetchXmlQuery(xml: string): FetchXmlQuery {
  const { fetch, entity, name } = fetchOf(xml);
  if (yes(fetch['@aggregate']))
    throw new FetchXmlError(
      'An aggregate FetchXML (aggregate="true") is a count, sum or average by group: give it to aggregate_records (as its fetchXml), which answers it.',
    );
  const out: FetchXmlQuery = { entity: name };
  const top = topOf(fetch, 0, 'rows');
  if (top !== undefined) out.top = top;
  if (yes(fetch['@returntotalrecordcount'])) out.count = true;
  const select: string[] = [];
  const orderBy: string[] = [];
  const conditions: Node[] = [];
  const expand: Node[] = [];
  readEntity(entity, name, '', select, orderBy, conditions, expand);
  if (expand.length) out.expand = expand;
  if (select.length && entity['all-attributes'] === undefined) out.select = select;
  if (orderBy.length) out.orderBy = orderBy.join(', ');
  if (conditions.length) out.where = whereOf(conditions);
  return out;
}

/** aggregate_records' arguments as an aggregate FetchXML gives them. */
export interface FetchXmlAggregate {
  entity: string;
  groupBy?: string[];
  measures?: { op: string; column?: string }[];
  where?: Record<string, unknown>;
  orderBy?: string;
  top?: number;
}

/** FetchXML's aggregate functions as aggregate_records' measures. */
const MEASURES: Record<string, string> = {
  count: 'count',
  countcolumn: 'count',
  sum: 'sum',
  avg: 'avg',
  min: 'min',
  max: 'max',
};
const DATE_GROUPINGS = new Set(['day', 'week', 'month', 'quarter', 'year']);

/**
 * aggregate_records' arguments from an aggregate FetchXML (Aggregate data using FetchXml, Microsoft Learn):
 * each groupby attribute a group (a dategrouping its period), each aggregate one a measure (countcolumn with
 * distinct="true" countDistinct), the filters its where, an order by an alias the measure or group it names.
 */
export function fetchXmlAggregate(xml: string): FetchXmlAggregate {
  const { fetch, entity, name } = fetchOf(xml);
  if (!yes(fetch['@aggregate']))
    throw new FetchXmlError(
      'This FetchXML reads rows (no aggregate="true"): query_entities takes it, as its fetchXml.',
    );
  const out: FetchXmlAggregate = { entity: name };
  const groupBy: string[] = [];
  const measures: { op: string; column?: string }[] = [];
  // what each alias names, for an order by it: the group's column, or the measure's key in the answer
  const aliases = new Map<string, string>();
  // countcolumn's column: its rows with a value, a condition the other measures would share
  let counted: string | undefined;
  for (const a of list(entity.attribute)) {
    const column = a['@name'];
    if (typeof column !== 'string') throw new FetchXmlError('Each <attribute> has a name.');
    const alias = typeof a['@alias'] === 'string' ? a['@alias'] : column;
    if (yes(a['@groupby'])) {
      const period = a['@dategrouping'];
      if (period !== undefined && !DATE_GROUPINGS.has(String(period)))
        throw new FetchXmlError(
          `dategrouping="${String(period)}" on ${column}: group by day, week, month, quarter or year ("${column} by quarter").`,
        );
      groupBy.push(period === undefined ? column : `${column} by ${String(period)}`);
      aliases.set(alias, column);
      continue;
    }
    const fn = typeof a['@aggregate'] === 'string' ? a['@aggregate'].toLowerCase() : undefined;
    const op = fn === 'countcolumn' && yes(a['@distinct']) ? 'countDistinct' : fn ? MEASURES[fn] : undefined;
    if (!op)
      throw new FetchXmlError(
        `<attribute name="${column}"> in an aggregate FetchXML is a group (groupby="true") or a measure (aggregate="count", "countcolumn", "sum", "avg", "min" or "max").`,
      );
    // count is of rows, whichever column it names; countcolumn of the rows with a value there
    const measure = op === 'count' ? { op } : { op, column };
    if (fn === 'countcolumn' && op === 'count') counted = column;
    measures.push(measure);
    aliases.set(alias, op === 'count' ? 'count' : `${op}_${column}`);
  }
  // a related record's column as a group or measure: the lookup groups by the record, naming it
  const linkedColumn = (l: Node, prefix: string): string | undefined => {
    const path = `${prefix}${String(l['@to'])}/`;
    const own = list(l.attribute)[0]?.['@name'];
    return own !== undefined
      ? path + String(own)
      : list(l['link-entity'])
          .map((x) => linkedColumn(x, path))
          .find(Boolean);
  };
  const linked = list(entity['link-entity'])
    .map((l) => linkedColumn(l, ''))
    .find(Boolean);
  if (linked)
    throw new FetchXmlError(
      `A link-entity's <attribute> (${linked}) in an aggregate FetchXML: group by the lookup itself (${linked.split('/')[0]}), whose groups carry the related record's name.`,
    );
  // countcolumn alone counts the rows with that column: those rows' count; beside other measures, the condition
  // would change theirs too
  if (counted !== undefined && measures.length > 1)
    throw new FetchXmlError(
      `aggregate="countcolumn" on ${counted} beside other measures: the rows with a ${counted} are a condition that would hold for all of them; ask for that count alone, or use count.`,
    );
  const conditions: Node[] = counted === undefined ? [] : [{ column: counted, op: 'notNull' }];
  readEntity({ filter: entity.filter, 'link-entity': entity['link-entity'] }, name, '', [], [], conditions);
  const orders = list(entity.order).map((o) => {
    const alias = o['@alias'];
    const key = typeof alias === 'string' ? aliases.get(alias) : undefined;
    if (!key)
      throw new FetchXmlError(
        `An aggregate FetchXML orders by an attribute's alias (<order alias="…" />), which names a group or a measure${typeof alias === 'string' ? `; '${alias}' names none` : ''}.`,
      );
    return `${key} ${yes(o['@descending']) ? 'desc' : 'asc'}`;
  });
  if (groupBy.length) out.groupBy = groupBy;
  if (measures.length) out.measures = measures;
  if (conditions.length) out.where = whereOf(conditions);
  if (orders.length) out.orderBy = orders.join(', ');
  const top = topOf(fetch, 1, 'groups');
  if (top !== undefined) out.top = top;
  return out;
}

/**
 * An entity or link-entity's columns, sort and conditions, its columns named from the queried table: a
 * link-entity to a record a lookup points at ("to" the lookup, "from" its table's key) is that lookup's path
 * (parentcustomerid/name), as select and where write a related record's column.
 */
function readEntity(
  e: Node,
  table: string,
  prefix: string,
  select: string[],
  orderBy: string[],
  conditions: Node[],
  expand?: Node[],
  where = prefix,
) {
  const root = prefix === '';
  for (const a of list(e.attribute)) {
    if (typeof a['@name'] !== 'string') throw new FetchXmlError('Each <attribute> has a name.');
    // a measure or group in a query of rows: read as a column, it would answer rows where a total was asked
    if (a['@aggregate'] !== undefined || yes(a['@groupby']))
      throw new FetchXmlError(
        `<attribute name="${a['@name']}" ${a['@aggregate'] !== undefined ? `aggregate="${String(a['@aggregate'])}"` : 'groupby="true"'}> belongs to an aggregate FetchXML: add aggregate="true" to <fetch> and give it to aggregate_records.`,
      );
    if (a['@alias'] !== undefined && a['@alias'] !== a['@name'])
      throw new FetchXmlError(
        `<attribute alias="${String(a['@alias'])}">: columns keep their names here; leave the alias out.`,
      );
    select.push(prefix + (a['@name'] as string));
  }
  for (const o of list(e.order)) {
    // (an order naming a link by its alias, entityname, would otherwise sort by the table's own column of that name)
    if (!root || o['@entityname'] !== undefined)
      throw new FetchXmlError("A link-entity's <order>: sort by the table's own columns.");
    if (typeof o['@attribute'] !== 'string') throw new FetchXmlError('Each <order> names its attribute.');
    orderBy.push(`${o['@attribute']} ${yes(o['@descending']) ? 'desc' : 'asc'}`);
  }
  // conditions on a linked table by its alias (entityname="…"), as FetchXML writes "records without one"
  const aliases = root ? aliasesOf(e, table, '', new Map()) : undefined;
  for (const f of list(e.filter)) {
    const c = filterOf(f, where, aliases, root ? table : undefined);
    if (c) conditions.push(c);
  }
  for (const l of list(e['link-entity'])) {
    const [name, from, to] = [l['@name'], l['@from'], l['@to']];
    if (typeof name !== 'string' || typeof from !== 'string' || typeof to !== 'string')
      throw new FetchXmlError('Each <link-entity> has name, from and to.');
    // (read as no columns at all, the linked record's would be left out unsaid)
    if (l['all-attributes'] !== undefined)
      throw new FetchXmlError(
        `<all-attributes /> in <link-entity name="${name}">: name its columns with <attribute name="…" />, or ask for the related record with "expand" (describe_entity lists the relationships).`,
      );
    const type = linkTypeOf(l);
    // any, not any, all: a condition on the record, as within a filter
    if (type === 'any' || type === 'not any' || type === 'all') {
      conditions.push(linkCondition(l, table, where));
      continue;
    }
    const outer = type === 'outer';
    // to a record a lookup ("to") points at ("from" its key): the lookup's path, as select and where write a
    // related record's column (parentcustomerid/name). Its conditions name the table the link joins
    // (parentcustomerid_account/…): a customer lookup's path alone would ask both of its tables. An inner link
    // keeps only the records whose lookup points at a record of that table, as FetchXML's join does.
    if (from === `${name}id`) {
      if (outer && list(l.filter).length)
        throw new FetchXmlError(
          `An outer <link-entity name="${name}"> with a filter: write the conditions as where does, with "or" and null checks on '${prefix}${to}/…'.`,
        );
      const typed = `${where}${to}_${name}/`;
      if (!outer) conditions.push({ column: `${typed}${from}`, op: 'notNull' });
      readEntity(l, name, `${prefix}${to}/`, select, orderBy, conditions, expand, typed);
      continue;
    }
    // from this record's key ("to") to a lookup on the linked table ("from"): the rows of it that point at
    // the record, a related list, which where asks through the list (one row meeting the conditions)
    if (root && to === `${table}id`) {
      const named = typeof l['@alias'] === 'string' ? aliases?.get(l['@alias']) : undefined;
      relatedList(l, name, from, outer, conditions, expand, !!(named && 'rows' in named && named.used));
      continue;
    }
    throw new FetchXmlError(
      `<link-entity name="${name}" from="${from}" to="${to}">: a link is read from a lookup to the record it points at (from="${name}id"), or from the queried table's key to the records pointing at it (to="${table}id").`,
    );
  }
}

/**
 * FetchXML's link types (link-entity reference, "link-type"): inner is the default; exists, in and
 * matchfirstrowusingcrossapply are inner's variants; any, not any and all make the link a condition on the
 * record (used within a filter), and "not all" is any, "despite the name". Anything else is refused, not
 * read as inner: "not any" read as inner would answer the opposite.
 */
const LINK_TYPES: Readonly<Record<string, 'inner' | 'outer' | 'any' | 'not any' | 'all'>> = {
  inner: 'inner',
  outer: 'outer',
  exists: 'inner',
  in: 'inner',
  matchfirstrowusingcrossapply: 'inner',
  any: 'any',
  'not all': 'any',
  'not any': 'not any',
  all: 'all',
};

function linkTypeOf(l: Node): 'inner' | 'outer' | 'any' | 'not any' | 'all' {
  const given = l['@link-type'];
  if (given === undefined) return 'inner';
  const type = LINK_TYPES[String(given).trim().toLowerCase().replace(/\s+/g, ' ')];
  if (!type)
    throw new FetchXmlError(
      `link-type="${String(given)}" on <link-entity name="${String(l['@name'])}">: FetchXML's link types are inner, outer, any, not any, all, not all, exists, in and matchfirstrowusingcrossapply.`,
    );
  return type;
}

/**
 * A link-entity of type any, not any or all (under the entity or within a filter): a condition on the
 * record, never columns. To a related list: some row meeting the link's filter (any; without a filter, some
 * row at all), none (not any), or rows, none of them meeting it (all, as FetchXML defines it). To a lookup's
 * record: any is its conditions on the lookup's path, as an inner link reads; not any and all are refused with
 * the where form, which says what happens to records without one.
 */
function linkCondition(l: Node, table: string, prefix: string): Node {
  const [name, from, to] = [l['@name'], l['@from'], l['@to']];
  if (typeof name !== 'string' || typeof from !== 'string' || typeof to !== 'string')
    throw new FetchXmlError('Each <link-entity> has name, from and to.');
  const type = linkTypeOf(l);
  const said = String(l['@link-type'] ?? 'inner');
  if (type === 'inner' || type === 'outer')
    throw new FetchXmlError(
      `<link-entity name="${name}" link-type="${said}"> inside a <filter>: a link there is a condition, link-type any, not any, all or not all; a link that joins goes under the <entity>.`,
    );
  if (list(l.attribute).length)
    throw new FetchXmlError(
      `<link-entity name="${name}" link-type="${said}"> is a condition on the ${table} and returns no columns: read the ${name}'s columns with an inner or outer link under the <entity>.`,
    );
  if (from === `${name}id`) {
    const path = `${prefix}${to}_${name}/`;
    if (type !== 'any')
      throw new FetchXmlError(
        `<link-entity name="${name}" link-type="${said}"> to the record '${prefix}${to}' points at: write it as where does, {"not": {"${path}<column>": …}}, with {"${prefix}${to}": null} in an "or" for the records without one.`,
      );
    // (the record's key not null: a record of that table, as an inner link reads)
    const conditions: Node[] = [{ column: `${path}${from}`, op: 'notNull' }];
    readEntity(l, name, path, [], [], conditions, undefined, path);
    return whereOf(conditions);
  }
  if (prefix !== '' || to !== `${table}id`)
    throw new FetchXmlError(
      `<link-entity name="${name}" from="${from}" to="${to}" link-type="${said}">: a condition link is read from the queried table's key to the records pointing at it (to="${table}id"), or from a lookup to its record (from="${name}id").`,
    );
  if (list(l['link-entity']).length)
    throw new FetchXmlError(
      `<link-entity name="${name}" link-type="${said}"> with links of its own: put conditions on the ${name}'s own columns in its <filter>.`,
    );
  const rows = `${name}(${from})`;
  const through = filtersOf(l, `${rows}/`);
  const some = { column: `${rows}/${from}`, op: 'notNull' };
  const meeting = through.length ? whereOf(through) : some;
  if (type === 'any') return meeting;
  if (type === 'not any') return { not: meeting };
  if (!through.length)
    throw new FetchXmlError(
      `<link-entity name="${name}" link-type="all"> without a <filter>: all is the records with ${name} rows, none of them meeting its filter; give the filter, or use any for records with one.`,
    );
  return { and: [some, { not: meeting }] };
}

/** What a link-entity's alias names: the path to a lookup's record, or a related list (the linked table, by its lookup). */
type Aliases = Map<
  string,
  | { prefix: string }
  | {
      rows: string;
      from: string;
      name: string;
      /** the link's own filter, through the list: which rows the join takes (an outer link's "with one") */
      through?: Node;
      /** named by a condition (entityname): an outer link's filter then says which rows count */
      used?: boolean;
    }
>;

function aliasesOf(e: Node, table: string, prefix: string, into: Aliases): Aliases {
  for (const l of list(e['link-entity'])) {
    const [name, from, to, alias] = [l['@name'], l['@from'], l['@to'], l['@alias']];
    if (typeof name !== 'string' || typeof from !== 'string' || typeof to !== 'string') continue;
    if (from === `${name}id`) {
      if (typeof alias === 'string') into.set(alias, { prefix: `${prefix}${to}_${name}/` });
      aliasesOf(l, name, `${prefix}${to}_${name}/`, into);
    } else if (prefix === '' && to === `${table}id` && typeof alias === 'string') {
      const rows = `${name}(${from})`;
      const through = filtersOf(l, `${rows}/`);
      into.set(alias, { rows, from, name, ...(through.length ? { through: whereOf(through) } : {}) });
    }
  }
  return into;
}

/**
 * A one-to-many link-entity (the relationship by its "from" lookup, which the query planner names): an inner
 * one is the records with a related row meeting its conditions (without any: with a related row at all). Its
 * columns, a row per related record in FetchXML, are the related rows each record brings in an expansion of
 * the list, those meeting the conditions (an outer link's conditions choose those rows alone, as its join).
 */
function relatedList(
  l: Node,
  name: string,
  from: string,
  outer: boolean,
  conditions: Node[],
  expand: Node[] | undefined,
  named: boolean,
) {
  const rows = `${name}(${from})`;
  const columns = list(l.attribute).map((a) => a['@name']);
  if (list(l['link-entity']).length || (columns.length && !expand))
    throw new FetchXmlError(
      `<link-entity name="${name}" from="${from}"> with columns or links of its own: ask for its rows as an expansion, "expand": [{"relation": "${rows}", "select": [...]}].`,
    );
  if (columns.some((c) => typeof c !== 'string')) throw new FetchXmlError('Each <attribute> has a name.');
  const own = filtersOf(l, '');
  const where = own.length === 1 ? own[0] : own.length ? { and: own } : undefined;
  if (columns.length) expand!.push({ relation: rows, select: columns, ...(where ? { where } : {}) });
  if (outer) {
    // (a condition on the link's alias reads its filter itself: conditionOf)
    if (where && !columns.length && !named)
      throw new FetchXmlError(
        `An outer <link-entity name="${name}"> with a filter and no columns keeps every record and shows none of its rows: leave the filter out, or make the link inner (records with a matching ${name}).`,
      );
    return;
  }
  // the same conditions, through the list: one related row meeting them
  const through = filtersOf(l, `${rows}/`);
  conditions.push(...(through.length ? through : [{ column: `${rows}/${from}`, op: 'notNull' }]));
}

/** A link-entity's filters, each as a condition on the path given (a related list's rows: `table(lookup)/`). */
const filtersOf = (l: Node, prefix: string): Node[] =>
  list(l.filter).flatMap((f): Node[] => {
    const c = filterOf(f, prefix);
    return c ? [c] : [];
  });

/**
 * A <filter>'s conditions, as where's and/or; an empty one (as views save them) is no condition. A link-entity
 * within it (any, not any, all) is one of its conditions, read where the filter's table is known (`table`).
 */
function filterOf(f: Node, prefix: string, aliases?: Aliases, table?: string): Node | undefined {
  // and (the default) or or, in any casing; another word is refused, not read as and
  const given = f['@type'] === undefined ? 'and' : String(f['@type']).trim().toLowerCase();
  if (given !== 'and' && given !== 'or')
    throw new FetchXmlError(`<filter type="${String(f['@type'])}">: a filter's type is and or or.`);
  const type = given;
  const links = list(f['link-entity']);
  if (links.length && table === undefined)
    throw new FetchXmlError(
      `<link-entity name="${String(links[0]!['@name'])}"> within a linked table's <filter>: such conditions are read in the queried table's own filter.`,
    );
  const items = [
    ...list(f.condition).map((c) => conditionOf(c, prefix, aliases)),
    ...list(f.filter).flatMap((x): Node[] => {
      const c = filterOf(x, prefix, aliases, table);
      return c ? [c] : [];
    }),
    ...links.map((l) => linkCondition(l, table!, prefix)),
  ];
  if (!items.length) return undefined;
  return items.length === 1 ? items[0]! : { [type]: items };
}

function conditionOf(c: Node, prefix: string, aliases?: Aliases): Node {
  const attribute = c['@attribute'];
  const operator = typeof c['@operator'] === 'string' ? c['@operator'].toLowerCase() : undefined;
  if (typeof attribute !== 'string' || !operator)
    throw new FetchXmlError('Each <condition> has attribute and operator.');
  const alias = c['@entityname'];
  const linked = alias === undefined ? undefined : aliases?.get(String(alias));
  if (alias !== undefined && !linked)
    throw new FetchXmlError(
      `<condition entityname="${String(alias)}">: no <link-entity alias="${String(alias)}"> is read here (a link to a lookup's record, or from the table's key).`,
    );
  if (linked && 'rows' in linked) {
    // a related list's row: "no row" (null on its key or its lookup, with an outer link: the records without
    // one), "some row" (not-null), or some row meeting the condition
    const key = attribute === `${linked.name}id` || attribute === linked.from;
    // a row the link joins: one meeting the link's own filter, where it has one ("accounts without an open
    // case": an outer link to cases filtered on their state, and the case's key null)
    linked.used = true;
    const any = linked.through ?? { column: `${linked.rows}/${linked.from}`, op: 'notNull' };
    if (key && operator === 'null') return { not: any };
    if (key && operator === 'not-null') return any;
    if (operator === 'null')
      throw new FetchXmlError(
        `<condition entityname="${String(alias)}" attribute="${attribute}" operator="null">: for records without a ${linked.name}, compare its key (${linked.name}id) with null; for those with one whose ${attribute} is empty, put the condition in the link-entity's own <filter>.`,
      );
  }
  const column = (linked ? ('rows' in linked ? `${linked.rows}/` : linked.prefix) : prefix) + attribute;
  // column comparison: without this, the condition would be read as one without its value
  if (c['@valueof'] !== undefined)
    throw new FetchXmlError(
      `<condition attribute="${attribute}" valueof="${String(c['@valueof'])}">: a column compared with another column has no equal here; compare ${attribute} with a value.`,
    );
  const values = list(c.value).map(text);
  const value = typeof c['@value'] === 'string' ? c['@value'] : values.length === 1 ? values[0] : undefined;
  const op = SAME[operator];
  if (op === 'in' || op === 'notIn' || op === 'between' || op === 'notBetween')
    return { column, op, value: values.length ? values : [value] };
  if (op) return value === undefined ? { column, op } : { column, op, value };
  // like '%x%', 'x%', '%x': the text function it means (Dataverse's LIKE otherwise), as where reads it
  if (operator === 'like' || operator === 'not-like') {
    // (without a value, eq '' would be the null check: said instead)
    if (!value) throw new FetchXmlError(`<condition attribute="${column}" operator="${operator}"> needs its value.`);
    // as like, not eq: a wildcard inside the text ('%a%b%') is then refused, where eq would look for it as
    // written and answer none
    const leaf = { column, op: 'like', value };
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
 * A tool's arguments with FetchXML in them read as its own: "fetchXml" (any casing, or "fetch"), or a <fetch>
 * or <filter> written as where or filter text. A whole <fetch> is the whole query: beside it only the
 * arguments named in `beside` are taken (a select or condition beside it would be two queries in one call).
 * A <filter> alone is the where of the entity given.
 */
function fetchXmlArgsWith(
  translate: (xml: string) => { entity: string } & Record<string, unknown>,
  beside: readonly string[],
): (args: Record<string, unknown>) => Record<string, unknown> {
  return (args) => {
    const key = Object.keys(args).find((k) => /^fetch(xml)?$/i.test(k));
    // (not the module's text(), which reads an XML node's)
    const given = (k: string) => (typeof args[k] === 'string' ? (args[k] as string).trim() : '');
    const inText = ['where', 'filter'].find((k) => /^<(fetch|filter)\b/i.test(given(k)));
    if (key === undefined && inText === undefined) return args;
    const xml = key !== undefined ? args[key] : given(inText!);
    if (typeof xml !== 'string') throw new FetchXmlError(`${key} takes FetchXML text, starting with <fetch>.`);
    const from = key ?? inText!;
    const { [from]: _xml, ...rest } = args;
    if (/^<filter\b/i.test(xml.trim())) {
      if (typeof rest.entity !== 'string')
        throw new FetchXmlError('A FetchXML <filter> alone needs the entity it filters: give "entity" beside it.');
      const where = fetchXmlQuery(`<fetch><entity name="${xmlAttribute(rest.entity)}">${xml}</entity></fetch>`).where;
      return { ...rest, where: rest.where === undefined ? where : { and: [rest.where, where] } };
    }
    const query = translate(xml);
    const extra = Object.keys(rest).filter((k) => k !== 'entity' && !beside.includes(k));
    if (extra.length)
      throw new FetchXmlError(
        `The FetchXML is the whole query: ${extra.map((k) => `'${k}'`).join(', ')} beside it would make two; put ${extra.length > 1 ? 'them' : 'it'} in the FetchXML, or give the query as the tool's arguments alone.`,
      );
    if (typeof rest.entity === 'string' && rest.entity.trim().toLowerCase() !== query.entity.toLowerCase())
      throw new FetchXmlError(`entity is '${rest.entity}' but the FetchXML's <entity> is '${query.entity}': give one.`);
    return { ...query, ...Object.fromEntries(beside.filter((k) => rest[k] !== undefined).map((k) => [k, rest[k]])) };
  };
}

/** query_entities' arguments with FetchXML read (fetchXmlQuery); top, count and cursor taken beside it. */
export const fetchXmlArgs = fetchXmlArgsWith(
  (xml) => fetchXmlQuery(xml) as FetchXmlQuery & Record<string, unknown>,
  ['top', 'count', 'cursor'],
);

/** aggregate_records' arguments with an aggregate FetchXML read (fetchXmlAggregate); top taken beside it. */
export const fetchXmlAggregateArgs = fetchXmlArgsWith(
  (xml) => fetchXmlAggregate(xml) as FetchXmlAggregate & Record<string, unknown>,
  ['top'],
);
