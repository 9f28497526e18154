import { badInput, DynamicsMcpError, policyError } from '../errors.js';
import type { ExpandItem, Expr, OrderByItem } from '../odata/ast.js';
import { type QueryParts, type ReadChecker, tableMeant } from '../policy/check.js';
import { type EntityModel, isLookupType, type ModelSource, navsOf } from '../policy/model.js';
import { fromOtherSide } from '../policy/other-side.js';
import type { Policy } from '../policy/policy.js';
import { rowsShown } from '../policy/rows-shown.js';
import { columnOn } from '../policy/targets.js';
import type { QuerySpec } from './client.js';
import { withCompanions } from './companion-columns.js';
import type { Condition, ConditionBuilder } from './conditions.js';
import { isFileBody } from './file-columns.js';
import { API, type MetadataCache } from './metadata.js';
import { userFunctionIn } from './negation.js';
import { callerTokens, theAppIsNotYou } from './obo.js';
import { isPartyList, partiesOf } from './party-lists.js';
import {
  FILTER_LIMITS,
  LINK_FILTER_LIMITS,
  LINK_OPTIONS,
  labelsInOrderBy,
  nullsInOrderBy,
  parseApply,
  parseExpand,
  parseFilter,
  parseOrderBy,
  parseSelect,
} from './query-text.js';
import { textComparedAsMeant } from './text-compared.js';

/**
 * The model's own OData filter text, read. The user a request runs as (Microsoft.Dynamics.CRM.EqualUserId) is
 * refused where that is this server's application, as {"currentUser": true} in "where" is (theAppIsNotYou).
 */
export function filterText(text: string): Expr {
  const e = parseFilter(text, FILTER_LIMITS);
  const f = callerTokens.getStore() ? undefined : userFunctionIn(e);
  if (f) {
    const p = f.params.PropertyName;
    const column = p?.kind === 'literal' ? String(p.value) : 'ownerid';
    throw theAppIsNotYou(
      `Microsoft.Dynamics.CRM.${f.name} in the filter`,
      'the current user',
      `compare with its name or id: ${column}/name eq '<full name>', or ${column} eq <id>`,
    );
  }
  return e;
}

/**
 * Related records returned per record and expanded list. Dataverse returns up to 5,000 per list unpaged
 * (shared/reference/dataverse-webapi.md §3.6); one account's contacts could fill a model's context. The
 * client asks for one more, so a caller can tell a full list from a cut one.
 */
export const EXPANDED_ROWS = 25;

/**
 * What a query becomes before it is sent: the tool's spec (columns, conditions, order, related records) or a
 * continuation link, turned into OData parts that have passed the policy's ReadChecker. Every read the
 * client makes goes through here, so nothing reaches the Web API unchecked.
 */
/** the table of an SLA's clocks on a record (SLA KPI Instance) */
const SLA_CLOCK = 'slakpiinstance';

export class QueryPlanner {
  constructor(
    private readonly policy: Policy,
    private readonly metadata: MetadataCache,
    private readonly checker: ReadChecker,
    private readonly conditions: ConditionBuilder,
    private readonly origin: string,
  ) {}

  private readonly follows = (entity: string, navigation: string) => this.policy.canFollow(entity, navigation);
  private readonly offered = (table: string) => this.policy.entities().includes(table);

  /**
   * Default columns: what the policy lets the model read that the table has (party lists are no column to
   * select; a note's file is megabytes of Base64, read only when asked for: file-columns.ts; a case's SLA
   * clocks are named alike on every case, "Resolve By KPI", while its SLA statuses and resolveby say where it
   * stands: a clock is read when asked for, or through it, "resolvebykpiid/warningtime").
   */
  private readableColumns(model: EntityModel): string[] {
    return [...model.columns.values()]
      .filter(
        (c) =>
          c.validForRead &&
          !isPartyList(c) &&
          !isFileBody(model.logicalName, c.logicalName) &&
          !c.targets?.includes(SLA_CLOCK) &&
          this.policy.canRead(model.logicalName, c.logicalName),
      )
      .map((c) => (isLookupType(c.type) ? `_${c.logicalName}_value` : c.logicalName));
  }

  /**
   * A query's relationships as Dataverse names them, before it is planned: an expand item, or a path's first
   * step in select or where, that names the related table ("contacts", "cases", "notes") rather than a
   * relationship is the one relationship of that kind the policy follows from this table to it (a plural name
   * is a related list, a singular one a lookup); several are refused, named; none leaves the name as written,
   * for the policy check to list the relationships there are. Columns through a relationship in select become
   * expansions (pathsAsExpands), so the caller's shaping of the answer sees every expansion that is read.
   */
  async relationsMeant<T extends Pick<QuerySpec, 'expand' | 'where' | 'select'>>(
    model: EntityModel,
    spec: T,
  ): Promise<T> {
    const expand = spec.expand?.length
      ? oneItemEach(
          (
            await Promise.all(
              spec.expand.map(
                async (e) =>
                  (await this.lookupExpanded(model, e)) ?? [
                    { ...e, relation: await this.relationMeant(model, e.relation) },
                  ],
              ),
            )
          ).flat(),
        )
      : spec.expand;
    // the same names as a path's first step ("contacts/fullname"), in conditions and in select, where a
    // related list named alone ("contacts") is read in an expansion of it (pathsAsExpands)
    const where = spec.where ? await this.conditionMeant(model, spec.where) : spec.where;
    const select = spec.select?.length
      ? await Promise.all(spec.select.map((s) => this.pathMeant(model, s)))
      : spec.select;
    // and columns through a relationship as expansions, so the answer's shaping sees every one that is read
    return {
      ...spec,
      where,
      ...(await pathsAsExpands(this.metadata, model, select, expand, this.follows, this.offered)),
    };
  }

  /**
   * An expand item that names a lookup column rather than a relationship ("customerid", "parentcustomerid",
   * "ownerid", as the column appears in a record): Dataverse reaches a customer's or an owner's record through
   * one relationship per table it may be (customerid_account and customerid_contact; owninguser and
   * owningteam), and "customerid" alone is no relationship to expand. Each one the policy follows is expanded
   * (a record shows the one its lookup points at); the item's columns are read on each table that has them
   * ("name" is a contact's fullname, columnOn), a table with none of them shows its record's name, and a column
   * no table has stays, for the policy check to refuse with the columns there are. Undefined for anything else.
   */
  private async lookupExpanded<T extends { relation: string; select?: string[] }>(
    model: EntityModel,
    item: T,
  ): Promise<T[] | undefined> {
    const key = item.relation.trim().toLowerCase();
    if (model.singleNavs.has(key) || model.collectionNavs.has(key)) return undefined;
    if (!isLookupType(model.columns.get(key)?.type ?? '')) return undefined;
    const navs = navsOf(model, key).filter((n) => this.policy.canFollow(model.logicalName, n.navigationProperty));
    if (!navs.length) return undefined;
    const asked = item.select?.length ? item.select : undefined;
    if (!asked) return navs.map((n) => ({ ...item, relation: n.navigationProperty }));
    const onEach = await Promise.all(
      navs.map((n) => Promise.all(asked.map((c) => columnOn(this.metadata, n.target, c)))),
    );
    const onNone = asked.filter((_, i) => onEach.every((columns) => !columns[i]));
    return Promise.all(
      navs.map(async (n, t) => {
        const found = onEach[t]!.filter((c): c is string => !!c);
        // a table not loaded is refused by the policy check, as the relationship is
        const name = (await this.metadata.entity(n.target).catch(() => undefined))?.primaryNameAttribute;
        const select = found.length || onNone.length || !name ? [...found, ...onNone] : [name];
        return { ...item, relation: n.navigationProperty, select };
      }),
    );
  }

  private async conditionMeant(model: EntityModel, c: Condition): Promise<Condition> {
    if ('and' in c) return { and: await Promise.all(c.and.map((x) => this.conditionMeant(model, x))) };
    if ('or' in c) return { or: await Promise.all(c.or.map((x) => this.conditionMeant(model, x))) };
    if ('not' in c) return { not: await this.conditionMeant(model, c.not) };
    return typeof c.column === 'string' && c.column.includes('/')
      ? { ...c, column: await this.pathMeant(model, c.column) }
      : c;
  }

  private async pathMeant(model: EntityModel, path: string): Promise<string> {
    const [head, ...rest] = path.split('/');
    const key = head!.trim().toLowerCase();
    // who was on a call ("to", "from"): no column but the activity's parties, each with the part they played,
    // read as its related list is (get_record's activities come with them too)
    const column = rest.length ? undefined : model.columns.get(key);
    const parties = column && isPartyList(column) ? partiesOf(model) : undefined;
    if (parties && this.policy.canFollow(model.logicalName, parties)) return parties;
    if (!rest.length && (model.columns.has(key) || !/^[a-z][a-z ]*$/.test(key))) return path;
    const relation = await this.relationMeant(model, head!.trim());
    if (!rest.length) return model.collectionNavs.has(relation.toLowerCase()) ? relation : path;
    return [relation, ...rest].join('/');
  }

  /**
   * "A deal's products": no related list of the table named, but the one list whose records each point at one
   * of its records through a lookup of that table alone (the deal's product lines, opportunityproduct, each with
   * its productid). Undefined where there is none, or several; only lists the policy follows into tables it
   * offers are looked at.
   */
  private async listPointingAt(model: EntityModel, table: string): Promise<string | undefined> {
    const offered = new Set(this.policy.entities());
    const lists = [...model.collectionNavs.values()].filter(
      (n) =>
        n.referencingEntity !== table &&
        offered.has(n.referencingEntity) &&
        this.policy.canFollow(model.logicalName, n.navigationProperty),
    );
    const pointing = await Promise.all(
      lists.map(async (n) => {
        const rows = await this.metadata.entity(n.referencingEntity).catch(() => undefined);
        // by a lookup to that table alone (a line's productid), not one that may point at many (a note's
        // objectid, an activity's regarding), which would make any list a list "of" anything
        const pointsAt = [...(rows?.columns.values() ?? [])].some(
          (c) => isLookupType(c.type) && c.targets?.length === 1 && c.targets[0] === table,
        );
        return pointsAt ? n.navigationProperty : [];
      }),
    );
    const found = pointing.flat();
    return found.length === 1 ? found[0] : undefined;
  }

  /** The table a relationship named as the model names it (expand's relation, a path's head) leads to. */
  async tableThrough(model: EntityModel, name: string): Promise<string | undefined> {
    const key = (await this.relationMeant(model, name)).toLowerCase();
    return model.collectionNavs.get(key)?.referencingEntity ?? model.singleNavs.get(key)?.target;
  }

  private async relationMeant(model: EntityModel, name: string): Promise<string> {
    const key = name.trim().toLowerCase();
    if (model.singleNavs.has(key) || model.collectionNavs.has(key)) return name;
    // "contact(parentcustomerid)": a table's rows that point here by that lookup, the one relationship that is
    // (FetchXML's link-entity from a record's key, fetch-xml.ts)
    const by = /^(\w+)\((\w+)\)$/.exec(key);
    if (by) {
      const nav = [...model.collectionNavs.values()].find(
        (n) => n.referencingEntity === by[1] && n.referencingAttribute === by[2],
      );
      if (!nav)
        throw badInput(
          `${model.logicalName} has no relationship from ${by[1]} by its ${by[2]}.`,
          `describe_entity('${model.logicalName}') lists its relationships, each with the table and column it goes by.`,
        );
      return nav.navigationProperty;
    }
    // by its name, its display name ("cases") or the word people use for it ("deals", "calls"), as a table is
    const table = await tableMeant(name, this.policy, this.metadata).catch(() => undefined);
    if (!table) return name;
    const navs =
      key !== table && key.endsWith('s')
        ? [...model.collectionNavs.values()].filter((n) => n.referencingEntity === table)
        : [...model.singleNavs.values()].filter((n) => n.target === table);
    const followed = navs
      .filter((n) => this.policy.canFollow(model.logicalName, n.navigationProperty))
      .map((n) => n.navigationProperty);
    if (!followed.length && key !== table && key.endsWith('s')) {
      const lines = await this.listPointingAt(model, table);
      if (lines) return lines;
    }
    if (followed.length > 1)
      throw badInput(
        `'${name}' is the table ${table}, and ${model.logicalName} reaches it through ${followed.join(' and ')}.`,
        `Name the relationship meant (describe_entity('${model.logicalName}') says what each is).`,
      );
    return followed[0] ?? name;
  }

  /**
   * A sort by a lookup's name ("parentaccountid/name", "ownerid/fullname") is a sort by the lookup: Dataverse
   * orders a lookup by the related record's primary name (Web API "Order rows": lookup columns), where a path
   * through a lookup is no $orderby Dataverse takes.
   */
  private async lookupsByName(model: EntityModel, items: OrderByItem[]): Promise<OrderByItem[]> {
    return Promise.all(
      items.map(async (o) => {
        if (o.path.length !== 2) return o;
        const [head, leaf] = o.path.map((p) => p.toLowerCase()) as [string, string];
        const all = [...model.singleNavs.values()];
        const nav = all.find((n) => n.navigationProperty.toLowerCase() === head || n.attribute.toLowerCase() === head);
        if (!nav) return o;
        const navs = all.filter((n) => n.attribute === nav.attribute);
        // a customer lookup's navigation to one table (customerid_account) is not the lookup: sorted by the
        // lookup, the other table's records would be among them by their names
        if (navs.length > 1 && nav.attribute.toLowerCase() !== head) return o;
        const names = await Promise.all(
          navs.map(async (n) => (await this.metadata.entity(n.target).catch(() => undefined))?.primaryNameAttribute),
        );
        // an owner's "fullname" is its name whether a user or a team owns the record (a team's is name)
        return leaf === 'name' || names.some((n) => n?.toLowerCase() === leaf) ? { ...o, path: [nav.attribute] } : o;
      }),
    );
  }

  async parts(
    model: EntityModel,
    spec: Omit<QuerySpec, 'entity' | 'top' | 'count'>,
    opts: { single?: boolean } = {},
  ): Promise<QueryParts> {
    let filter: Expr | undefined;
    if (spec.where) filter = await this.conditions.build(spec.where, model);
    if (spec.filter?.trim()) {
      const parsed = await this.filterOf(model, spec.filter);
      filter = filter ? { kind: 'and', operands: [filter, parsed], pos: 0 } : parsed;
    }
    // the rows the policy shows of a table of other tables' records (activities of the kinds it may read); a
    // record read by its id is checked when it comes back (client.get), as a $filter there is no option
    if (!opts.single) filter = await this.withRows(model, filter);
    let orderBy: OrderByItem[] | undefined;
    if (spec.orderBy?.trim())
      orderBy = await this.lookupsByName(model, parseOrderBy(labelsInOrderBy(model, nullsInOrderBy(spec.orderBy))));
    const joined = await pathsAsExpands(this.metadata, model, spec.select, spec.expand, this.follows, this.offered);
    const expand: ExpandItem[] | undefined = joined.expand?.length
      ? await Promise.all(joined.expand.map((e) => this.expandItem(model, e)))
      : undefined;
    // "*" ($select's habit) is what no select means here: every column the policy lets the model read
    const select =
      joined.select?.length && !joined.select.includes('*')
        ? withCompanions(this.policy, model, joined.select)
        : this.readableColumns(model);
    return this.checker.query(model, { select, filter, orderBy, expand });
  }

  /**
   * The model's filter text on a table, read (filterText), with its dates, numbers and lookups compared with
   * text taken as the where condition takes them (text-compared.ts); checked later with the rest of the query.
   */
  async filterOf(model: EntityModel, text: string): Promise<Expr> {
    return textComparedAsMeant(filterText(text), model, this.metadata, (c) => this.conditions.build(c, model));
  }

  /** The rows the policy shows of a table (rows-shown.ts). */
  rowsShown(entity: string): Promise<{ column: string; op: 'in'; value: string[] } | undefined> {
    return rowsShown(this.policy, this.metadata, entity);
  }

  /** A filter and the rows the policy shows of the table (rowsShown), both to hold. */
  async withRows(model: EntityModel, filter: Expr | undefined): Promise<Expr | undefined> {
    const rows = await this.rowsShown(model.logicalName);
    if (!rows) return filter;
    const only = await this.conditions.build(rows, model);
    return filter ? { kind: 'and', operands: [filter, only], pos: 0 } : only;
  }

  /**
   * One expand item. A related list asks Dynamics for one row more than it will show, to know whether it was
   * cut (tools/support/related.ts); its conditions, order and length are for lists only: Dataverse takes
   * $filter, $orderby and $top in a collection's $expand alone (reference §3.6; 0x80060888 otherwise), so
   * that is said here, with the fix. The policy checks the rest, the conditions' columns included.
   */
  private async expandItem(model: EntityModel, e: NonNullable<QuerySpec['expand']>[number]): Promise<ExpandItem> {
    const list = model.collectionNavs.get(e.relation.toLowerCase());
    const single = list ? undefined : model.singleNavs.get(e.relation.toLowerCase());
    const reached = list?.referencingEntity ?? single?.target;
    // an unknown relationship is named by the policy check, with the ones there are
    const target = reached ? await this.metadata.entity(reached) : undefined;
    if (single && target && (e.where || e.orderBy || e.top !== undefined))
      throw badInput(
        `'${e.relation}' is one related record: "where", "orderBy" and "top" in an expand item are for related lists.`,
        `Leave them out of the '${e.relation}' item. To choose ${model.logicalName} records by it, put the condition in the top-level where, e.g. {"column": "${single.attribute}/${target.primaryNameAttribute}", "op": "contains", "value": "…"}.`,
      );
    const orderBy =
      list && target && e.orderBy?.trim()
        ? parseOrderBy(labelsInOrderBy(target, nullsInOrderBy(e.orderBy)))
        : undefined;
    // an activity's parties say who (partyid, or the address an email went to where no record has it) and as
    // what (From, To); their own name column says neither
    const parties =
      target?.logicalName === 'activityparty'
        ? ['partyid', 'participationtypemask', 'addressused'].filter((c) => this.policy.canRead('activityparty', c))
        : [];
    return {
      property: e.relation,
      ref: false,
      // as at the top level: no columns named is the default ones (the id and name), "*" every readable one
      select:
        e.select?.includes('*') && target
          ? this.readableColumns(target)
          : e.select?.length
            ? target
              ? withCompanions(this.policy, target, e.select)
              : e.select
            : parties.length
              ? parties
              : undefined,
      filter:
        list && target
          ? await this.withRows(target, e.where ? await this.conditions.build(e.where, target) : undefined)
          : undefined,
      orderBy,
      top: list ? Math.min(e.top ?? EXPANDED_ROWS, EXPANDED_ROWS) + 1 : undefined,
      pos: 0,
    };
  }

  /**
   * A link to follow: ours only if it is on our origin and service root, for the same table, and its query
   * passes the policy again (a cursor is checked exactly like a new query).
   */
  async checkLink(link: string, model: EntityModel): Promise<string> {
    let url: URL;
    try {
      url = new URL(link, this.origin);
    } catch {
      throw policyError('The continuation link is not a URL.', 'Run the query again without a cursor.');
    }
    if (url.origin !== this.origin || url.pathname !== `${API}/${model.entitySetName}`)
      throw policyError(
        'The continuation link does not belong to this query.',
        'Run the query again without a cursor.',
      );
    const parts: QueryParts = {};
    for (const piece of url.search.slice(1).split('&')) {
      if (!piece) continue;
      const eq = piece.indexOf('=');
      const key = decodeURIComponent(eq < 0 ? piece : piece.slice(0, eq));
      const value = decodeURIComponent((eq < 0 ? '' : piece.slice(eq + 1)).replace(/\+/g, ' '));
      if (!LINK_OPTIONS.has(key))
        throw policyError(
          `The continuation link carries '${key}', which is not allowed.`,
          'Run the query again without a cursor.',
        );
      if (key === '$select') parts.select = parseSelect(value);
      else if (key === '$filter') parts.filter = parseFilter(value, LINK_FILTER_LIMITS);
      else if (key === '$orderby') parts.orderBy = parseOrderBy(value);
      else if (key === '$expand') parts.expand = parseExpand(value);
      else if (key === '$apply') parts.apply = parseApply(value);
    }
    await this.checker.query(model, parts);
    return `${url.pathname}${url.search}`;
  }
}

/**
 * Columns of a related record selected as paths, as SQL joins write them ("parentaccountid/telephone1"):
 * $select takes the table's own columns only. The related record's name ("parentaccountid/name",
 * "ownerid/fullname", "customerid/name") is the lookup itself, which comes back as {id, name}; another column,
 * through a lookup that points at one table, becomes a column of an expansion of it (merged into one the
 * query already has); through a customer's or an owner's lookup ("customerid/telephone1"), a column of an
 * expansion of each relationship whose table has it (a row shows the one its lookup points at), where `follows`
 * (the policy's) lets every one be followed. A related list ("contact_customer_accounts") or a column of its rows
 * ("contact_customer_accounts/fullname") is an expansion of the list. Anything else stays in the select, where
 * the policy check says what to write. A select of related columns alone keeps the record's own name beside them.
 */
export async function pathsAsExpands(
  models: ModelSource,
  model: EntityModel,
  select: QuerySpec['select'],
  expand: QuerySpec['expand'],
  follows: (entity: string, navigation: string) => boolean = () => true,
  offered: (table: string) => boolean = () => true,
): Promise<{ select: QuerySpec['select']; expand: QuerySpec['expand'] }> {
  const list = (name: string) => model.collectionNavs.get(name.trim().toLowerCase());
  if (!select?.some((s) => s.includes('/') || list(s))) return { select, expand };
  const items = (expand ?? []).map((e) => ({ ...e, select: e.select ? [...e.select] : undefined }));
  const own: string[] = [];
  const names: { attribute: string; relation?: string; primary?: string }[] = [];
  const add = (item: { select?: string[] }, column: string) => {
    // an expansion of the default columns (no select) already holds it
    if (item.select && !item.select.includes(column)) item.select.push(column);
  };
  for (const s of select) {
    const [head, ...rest] = s.split('/').map((p) => p.trim());
    const column = rest[0];
    // a related list, or a column of its rows: an expansion of the list (with that column)
    const many = rest.length <= 1 ? list(head!) : undefined;
    if (many) {
      const item = items.find((e) => e.relation.toLowerCase() === many.navigationProperty.toLowerCase());
      if (item && column) add(item, column);
      else if (!item) items.push({ relation: many.navigationProperty, select: column ? [column] : undefined });
      continue;
    }
    let navs = [...model.singleNavs.values()].filter(
      (n) => n.navigationProperty.toLowerCase() === head!.toLowerCase() || n.attribute === head!.toLowerCase(),
    );
    if (!navs.length && rest.length === 1 && column) {
      // named from the other table ("contact_customer_accounts/name" on a contact): where that is one lookup
      // of this table, the same relationship, read as it (as a where path is); otherwise the way from here
      const other = await fromOtherSide(models, model, head!, { offered, follows });
      const meant = other?.navs.length === 1 ? model.singleNavs.get(other.navs[0]!.toLowerCase()) : undefined;
      if (meant) navs = [meant];
      else if (other)
        throw new DynamicsMcpError('unknown_column', `'${s}' is not a column of ${model.logicalName}.`, other.hint, {
          suggestions: other.navs.length === 1 ? [`${other.navs[0]}/${column}`] : other.navs,
          retryable: false,
        });
    }
    if (rest.length !== 1 || !column || !navs.length) {
      own.push(s);
      continue;
    }
    const targets = await Promise.all(navs.map((n) => models.entity(n.target).catch(() => undefined)));
    // the name of any table the lookup points at is the related record's name ("ownerid/fullname" of a case a
    // team owns is the team's name): the lookup comes back with it, whichever table the record is in
    if (column.toLowerCase() === 'name' || targets.some((t) => column.toLowerCase() === t?.primaryNameAttribute)) {
      const one = navs.length === 1 ? navs[0]! : undefined;
      names.push({
        attribute: navs[0]!.attribute,
        relation: one?.navigationProperty,
        primary: targets[0]?.primaryNameAttribute,
      });
      continue;
    }
    if (navs.length !== 1) {
      // each table the lookup may point at that has the column; where the policy keeps one of them, as
      // written, for the policy check to name the paths it follows
      const on = await Promise.all(navs.map((n) => columnOn(models, n.target, column)));
      const all = navs.every((n) => follows(model.logicalName, n.navigationProperty));
      if (all && !on.some(Boolean))
        throw new DynamicsMcpError(
          'unknown_column',
          `'${s}': '${column}' is a column of none of the tables ${head} may point at (${navs.map((n) => n.target).join(', ')}).`,
          `describe_entity on ${navs.map((n) => `'${n.target}'`).join(' or ')} lists their columns.`,
          { retryable: false },
        );
      if (!all) {
        own.push(s);
        continue;
      }
      navs.forEach((n, i) => {
        if (!on[i]) return;
        const item = items.find((e) => e.relation.toLowerCase() === n.navigationProperty.toLowerCase());
        if (item) add(item, on[i]);
        else
          items.push({
            relation: n.navigationProperty,
            select: [on[i], targets[i]?.primaryNameAttribute].filter((c): c is string => !!c),
          });
      });
      continue;
    }
    const relation = navs[0]!.navigationProperty;
    const item = items.find((e) => e.relation.toLowerCase() === relation.toLowerCase());
    if (item) add(item, column);
    else items.push({ relation, select: [column, targets[0]?.primaryNameAttribute].filter((c): c is string => !!c) });
  }
  for (const n of names) {
    // the lookup comes back with the related record's name; where that record is expanded, the expansion
    // (under the same name in the answer) carries it instead
    const item = n.relation ? items.find((e) => e.relation.toLowerCase() === n.relation!.toLowerCase()) : undefined;
    if (item && n.primary) add(item, n.primary);
    else if (!own.includes(n.attribute)) own.push(n.attribute);
  }
  return { select: own.length ? own : [model.primaryNameAttribute].filter(Boolean), expand: items };
}

/**
 * One expand item per relationship: "customerid" beside "customerid_account" is that one once, and two items
 * of one relationship read the columns of both (Dataverse takes a navigation property once in $expand; the
 * second item's columns would otherwise replace the first's without a word). Items that differ in what they
 * keep or in order are refused, as no one expansion answers both.
 */
function oneItemEach<
  T extends { relation: string; select?: string[]; where?: unknown; orderBy?: string; top?: number },
>(items: T[]): T[] {
  const out: T[] = [];
  for (const item of items) {
    const at = out.findIndex((o) => o.relation.toLowerCase() === item.relation.toLowerCase());
    const first = out[at];
    if (!first) {
      out.push(item);
      continue;
    }
    const rest = (i: T) => JSON.stringify([i.where ?? null, i.orderBy ?? null, i.top ?? null]);
    if (rest(first) !== rest(item))
      throw badInput(
        `'${first.relation}' is expanded twice, with different conditions, order or top.`,
        'Expand it once: both conditions in one where (with "or"), one orderBy and one top.',
      );
    // no select is every column the policy lets the model read, which holds the other's
    const { select: _, ...merged } = first;
    out[at] = (
      first.select && item.select ? { ...merged, select: [...new Set([...first.select, ...item.select])] } : merged
    ) as T;
  }
  return out;
}
