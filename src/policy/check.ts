import { labelledValue, optionValue, refuseChoiceOrderedByLabel } from '../dynamics/coerce.js';
import { fileBodyOf } from '../dynamics/file-columns.js';
import { participation } from '../dynamics/party-lists.js';
import { badInput, DynamicsMcpError, policyError } from '../errors.js';
import type { AggregateItem, ApplyStep, Compare, ExpandItem, Expr, OrderByItem, PathExpr } from '../odata/ast.js';
import { filterToOData } from '../odata/serialize.js';

type Call = Extract<Expr, { kind: 'call' }>;

import {
  CHOICE_TYPES,
  type ColumnModel,
  columnLabelled,
  type EntityModel,
  isChoices,
  isLookupType,
  type ModelSource,
} from './model.js';
import { fromOtherSide } from './other-side.js';
import type { Policy } from './policy.js';
import { rowsShown } from './rows-shown.js';
import { closest, closestColumns } from './suggest.js';
import { pathsAcrossTargets } from './targets.js';

/** Query functions a model may use: the documented Microsoft.Dynamics.CRM.* conditions that read one column. */
export const ALLOWED_FUNCTIONS = new Set([
  'In',
  'NotIn',
  'Between',
  'NotBetween',
  'On',
  'OnOrAfter',
  'OnOrBefore',
  'Today',
  'Yesterday',
  'Tomorrow',
  'Last7Days',
  'Next7Days',
  'LastXDays',
  'NextXDays',
  'LastXHours',
  'NextXHours',
  'OlderThanXDays',
  'ThisWeek',
  'LastWeek',
  'NextWeek',
  'ThisMonth',
  'LastMonth',
  'NextMonth',
  'ThisYear',
  'LastYear',
  'NextYear',
  'EqualUserId',
  'NotEqualUserId',
  // the teams the user is a member of, or the user and those teams (an owner's)
  'EqualUserTeams',
  'EqualUserOrUserTeams',
  // "Choices columns": whether a choices column has any of the values, or none of them
  'ContainValues',
  'DoesNotContainValues',
]);

export interface QueryParts {
  select?: string[];
  filter?: Expr;
  orderBy?: OrderByItem[];
  expand?: ExpandItem[];
  apply?: ApplyStep[];
}

const unknownColumn = (entity: EntityModel, name: string, readable: string[]) =>
  new DynamicsMcpError(
    'unknown_column',
    `'${name}' is not a column of ${entity.logicalName}.`,
    readable.length
      ? `Did you mean: ${readable.join(', ')}? Call describe_entity('${entity.logicalName}') for every column you may use.`
      : `Call describe_entity('${entity.logicalName}') for the columns you may use.`,
    { suggestions: readable, retryable: false, unknownColumn: { entity: entity.logicalName, column: name } },
  );

/**
 * The chokepoint for reads: every name in every part of a query is resolved against metadata (canonical
 * casing), checked against the policy, and written back canonical. What leaves here is what gets
 * serialised and sent; nothing the model wrote goes to Dataverse verbatim.
 */
/**
 * The error for a table name that is neither a logical nor an entity set name. When it is the display name of
 * a table the policy offers ("case" for incident), the error says which table that is: the list alone does
 * not tell a model that Dynamics stores cases as incidents.
 */
export async function unknownTable(name: string, policy: Policy, models: ModelSource): Promise<DynamicsMcpError> {
  const available = policy.entities();
  const meant = await offeredTablesCalled(name, policy, models);
  const words = tablesMeant(name, policy);
  return policyError(
    `There is no table '${name}' available.`,
    meant.length === 1
      ? `'${meant[0]!.displayName}' is what Dynamics shows for the table '${meant[0]!.logicalName}': use entity '${meant[0]!.logicalName}'.`
      : words.length > 1
        ? `Customers are kept in more than one table, ${words.map((t) => `'${t}'`).join(' and ')} (a Customer lookup points at either): use the one meant, or query each.`
        : `Tables you may use: ${available.join(', ')}. Call describe_entity without arguments to list them.`,
  );
}

/**
 * Words people use for Dynamics' standard tables that are not their display names: "deals" are Opportunities,
 * "tickets" Cases, "meetings" Appointments, "calls" Phone Calls, "companies" Accounts, "people" Contacts, a
 * deal's "lines" its Opportunity Products, a case's "resolutions" its Case Resolutions.
 * "customers" are two tables (a Customer lookup points at an account or a contact), named both, not guessed.
 */
// a Map, not an object: a word such as "constructor" must not find Object.prototype's
const TABLE_WORDS: ReadonlyMap<string, readonly string[]> = new Map(
  (
    [
      [['deal', 'deals'], ['opportunity']],
      [['ticket', 'tickets', 'support ticket', 'support tickets'], ['incident']],
      [['meeting', 'meetings'], ['appointment']],
      [['call', 'calls'], ['phonecall']],
      [['company', 'companies'], ['account']],
      [['person', 'people'], ['contact']],
      // a deal's lines (Opportunity Product), and a case's resolutions (Case Resolution, named with its table)
      [['line', 'lines', 'product line', 'product lines', 'line item', 'line items'], ['opportunityproduct']],
      [['resolution', 'resolutions'], ['incidentresolution']],
      [
        ['customer', 'customers'],
        ['account', 'contact'],
      ],
    ] as const
  ).flatMap(([words, tables]) => words.map((w) => [w, tables])),
);

/** The tables the policy offers that a word of TABLE_WORDS names */
const tablesMeant = (name: string, policy: Policy): readonly string[] =>
  (TABLE_WORDS.get(name.trim().toLowerCase().replace(/\s+/g, ' ')) ?? []).filter((t) => policy.entities().includes(t));

/** The tables the policy offers whose display name is `name` (singular or plural: "Case", "cases"). */
async function offeredTablesCalled(name: string, policy: Policy, models: ModelSource) {
  const available = policy.entities();
  const called = (await models.tablesCalled?.(name).catch(() => [])) ?? [];
  return called.filter((t) => available.includes(t.logicalName));
}

/**
 * A table's logical name from its logical or entity set name, or from the display name Dynamics shows when
 * exactly one table the policy offers has it ("cases" is incident: one meaning, so not refused), or from the
 * word people use for it ("deals"). Anything else is the unknown-table error, listing the tables offered.
 */
export async function resolveTable(name: string, policy: Policy, models: ModelSource): Promise<string> {
  return (await tableMeant(name, policy, models)) ?? Promise.reject(await unknownTable(name, policy, models));
}

/** The table a name means, as resolveTable finds it ("cases", "deals"), or undefined where it means none. */
export async function tableMeant(name: string, policy: Policy, models: ModelSource): Promise<string | undefined> {
  const logical = await models.resolveEntityName(name);
  if (logical) return logical;
  const meant = await offeredTablesCalled(name, policy, models);
  if (meant.length === 1) return meant[0]!.logicalName;
  const words = tablesMeant(name, policy);
  return words.length === 1 ? words[0]! : undefined;
}

/**
 * What a related row is read for beside its name, when an expand names no columns: in a related list, its
 * state (which of a customer's cases are open, which deals won: a list of names alone cannot say), and for a note, whose title (subject, its primary name) is most
 * often empty (Dynamics' timeline writes the text alone), its text, when it was written and the file it carries.
 */
const EXPAND_ALSO: Readonly<Record<string, readonly string[]>> = { annotation: ['notetext', 'createdon', 'filename'] };
const EXPAND_STATE = 'statecode';

/**
 * A condition, sort or group on a column holding a file (a note's documentbody) compares its Base64, not what
 * the file says: "notes whose log mentions a timeout" would find none and be answered "none". Refused, with
 * what does work (file-columns.ts).
 */
function refuseFileBody(table: EntityModel, column: string): void {
  const file = fileBodyOf(table.logicalName);
  if (file?.body !== column) return;
  throw new DynamicsMcpError(
    'bad_input',
    `${column} holds the ${table.displayName.toLowerCase()}'s file as Base64 text: a condition, sort or group on it would compare that, not what the file says.`,
    `For records with a file use ${[...(table.columns.has('isdocument') ? ['isdocument (true)'] : []), file.filename].join(', ')} or ${file.mimetype}; to look inside files, select ${column} on those records and read it.`,
    { retryable: false },
  );
}

export class ReadChecker {
  constructor(
    private readonly policy: Policy,
    private readonly models: ModelSource,
  ) {}

  async entity(name: string): Promise<EntityModel> {
    const logical = await resolveTable(name, this.policy, this.models);
    this.policy.assertEntityReadable(logical);
    return this.models.entity(logical);
  }

  private suggestions(entity: EntityModel, name: string): string[] {
    const readable = [...entity.columns.values()].filter((c) => this.policy.canRead(entity.logicalName, c.logicalName));
    return closestColumns(name, readable);
  }

  /** A column or `_lookup_value` name → its canonical output name and column, if readable. */
  column(entity: EntityModel, name: string): { name: string; column: ColumnModel } {
    const m = /^_(.+)_value$/i.exec(name);
    const col = entity.columns.get((m ? m[1]! : name).toLowerCase()) ?? (m ? undefined : columnLabelled(entity, name));
    if (!col || (m && !isLookupType(col.type))) {
      const nav = entity.singleNavs.get(name.toLowerCase());
      if (nav && !m)
        throw new DynamicsMcpError(
          'bad_input',
          `'${name}' is a lookup of ${entity.logicalName}; its value is read as '_${nav.attribute}_value'.`,
          `Select '_${nav.attribute}_value' for the related id (the result also carries the related record's name), or expand '${nav.navigationProperty}' for its columns.`,
        );
      // a lookup path (parentcustomerid/name) where a column belongs: the lookup already carries the name
      const lookup = name.includes('/') ? entity.columns.get(name.split('/')[0]!.trim().toLowerCase()) : undefined;
      // a lookup that may point at several tables (a contact's company, a case's customer): the path names
      // the table through its own navigation property (parentcustomerid_account/telephone1), as Dataverse's do
      const typed = lookup
        ? [...entity.singleNavs.values()].filter(
            (n) =>
              n.attribute === lookup.logicalName && this.policy.canFollow(entity.logicalName, n.navigationProperty),
          )
        : [];
      const rest = name.slice(name.indexOf('/') + 1).trim();
      if (lookup && isLookupType(lookup.type) && typed.length > 1)
        throw new DynamicsMcpError(
          'bad_input',
          `'${name}': ${lookup.logicalName} may point at ${typed.map((n) => `a${/^[aeiou]/.test(n.target) ? 'n' : ''} ${n.target}`).join(' or ')}, so the path names which.`,
          `Write ${typed.map((n) => `'${n.navigationProperty}/${rest}'`).join(' or ')} (both may be listed: a row has the one its ${lookup.logicalName} points at).`,
          { retryable: false },
        );
      if (lookup && isLookupType(lookup.type))
        throw new DynamicsMcpError(
          'bad_input',
          `'${name}' is a path through the lookup '${lookup.logicalName}'; here only columns of ${entity.logicalName} go.`,
          `Select '${lookup.logicalName}': a lookup comes back with the related record's name ({id, name}). For other columns of the related record, use "expand" (describe_entity('${entity.logicalName}') lists the relationships).`,
          { retryable: false },
        );
      throw unknownColumn(entity, name, this.suggestions(entity, name));
    }
    // Dataverse keeps a party list's people as the activity's parties, not in a column of its rows: where the
    // policy lets those be read, that is the answer to "select from/to", whether or not it lists the column
    const parties = `${entity.logicalName}_activity_parties`;
    const partyList =
      col.type === 'PartyList' &&
      (this.policy.canRead(entity.logicalName, col.logicalName) || this.policy.canFollow(entity.logicalName, parties));
    if (!partyList && !this.policy.canRead(entity.logicalName, col.logicalName))
      throw policyError(
        `The column '${col.logicalName}' of ${entity.logicalName} is not readable under this server's policy.`,
        `Readable columns of ${entity.logicalName}: ${this.policy.readableList(entity.logicalName).join(', ')}.`,
      );
    if (partyList) {
      // the part this list's people play: a meeting's required attendees are 5, not an email's To (2)
      const mask = participation(col);
      throw new DynamicsMcpError(
        'bad_input',
        `'${col.logicalName}' of ${entity.logicalName} is a list of people (${col.label}): it is read through the relationship '${parties}', not as a column.`,
        `Expand '${parties}': each party is a person (partyid) and the part they play (participationtypemask${mask === undefined ? '' : `, ${mask} for ${col.label}`}). To find records by a person, use where: {"${col.logicalName}": "<name or id>"} (eq or in).`,
        { retryable: false },
      );
    }
    const out = isLookupType(col.type) ? `_${col.logicalName}_value` : col.logicalName;
    return { name: out, column: col };
  }

  private async follow(
    entity: EntityModel,
    nav: string,
    collection: boolean,
  ): Promise<{ nav: string; target: EntityModel }> {
    const single = entity.singleNavs.get(nav.toLowerCase());
    const many = entity.collectionNavs.get(nav.toLowerCase());
    const found = collection ? many : single;
    if (!found) {
      const other = collection ? single : many;
      if (other)
        throw new DynamicsMcpError(
          'bad_input',
          `'${nav}' is a ${collection ? 'single-valued' : 'collection-valued'} relationship of ${entity.logicalName}.`,
          collection
            ? `Follow it as a path instead, e.g. '${nav}/<column>'.`
            : `Use '${nav}/any(x: x/<column> eq …)' to test its related records.`,
        );
      const navs = this.followableFrom(entity);
      // named from the other table ("opportunity_customer_accounts" on an opportunity): the way from this one
      const offered = new Set(this.policy.entities());
      const named = await fromOtherSide(this.models, entity, nav, {
        offered: (t) => offered.has(t),
        follows: (t, n) => this.policy.canFollow(t, n),
      });
      throw new DynamicsMcpError(
        'unknown_column',
        `'${nav}' is not a relationship of ${entity.logicalName}.`,
        named?.hint ??
          (navs.length
            ? `Relationships you may follow from ${entity.logicalName}: ${navs.join(', ')}.`
            : `No relationships of ${entity.logicalName} may be followed.`),
        { suggestions: named?.navs ?? closest(nav, navs), retryable: false },
      );
    }
    const canonical = found.navigationProperty;
    if (!this.policy.canFollow(entity.logicalName, canonical))
      throw policyError(
        `Following '${canonical}' from ${entity.logicalName} is not allowed under this server's policy.`,
        `Relationships you may follow from ${entity.logicalName}: ${this.followableFrom(entity).join(', ') || '(none)'}.`,
      );
    const targetName = 'target' in found ? found.target : found.referencingEntity;
    this.policy.assertEntityReadable(targetName);
    // the lookup column behind a single-valued navigation must itself be readable
    if ('attribute' in found && !this.policy.canRead(entity.logicalName, found.attribute))
      throw policyError(
        `The lookup '${found.attribute}' of ${entity.logicalName} is not readable under this server's policy.`,
        `Readable columns of ${entity.logicalName}: ${this.policy.readableList(entity.logicalName).join(', ')}.`,
      );
    return { nav: canonical, target: await this.models.entity(targetName) };
  }

  /**
   * The relationships of a table the policy follows into a table it offers: one into a table it does not
   * (a policy's owninguser where it offers no users) would be refused next, so it is not offered.
   */
  private followableFrom(entity: EntityModel): string[] {
    const offered = new Set(this.policy.entities());
    return [
      ...[...entity.singleNavs.values()].map((n) => ({ nav: n.navigationProperty, to: n.target })),
      ...[...entity.collectionNavs.values()].map((n) => ({ nav: n.navigationProperty, to: n.referencingEntity })),
    ]
      .filter((n) => offered.has(n.to) && this.policy.canFollow(entity.logicalName, n.nav))
      .map((n) => n.nav);
  }

  /** A path (lookup navigation, then a column), rewritten canonical. */
  private async path(entity: EntityModel, segments: string[], lambdaVars: Map<string, EntityModel>): Promise<string[]> {
    return (await this.resolvePath(entity, segments, lambdaVars)).segments;
  }

  private async resolvePath(
    entity: EntityModel,
    segments: string[],
    lambdaVars: Map<string, EntityModel>,
  ): Promise<{ segments: string[]; column: ColumnModel; table: EntityModel }> {
    let current = entity;
    let start = 0;
    const out: string[] = [];
    const bound = lambdaVars.get(segments[0]!);
    if (bound && segments.length > 1) {
      current = bound;
      start = 1;
      out.push(segments[0]!);
    }
    for (let i = start; i < segments.length - 1; i++) {
      const step = await this.follow(current, segments[i]!, false);
      out.push(step.nav);
      current = step.target;
    }
    let name = segments[segments.length - 1]!;
    // "name" after a lookup is the related table's primary name where it has no column of that name (a user's,
    // a contact's: fullname), as in where conditions and across a customer lookup's tables
    if (segments.length - start > 1 && name.toLowerCase() === 'name' && !current.columns.has('name'))
      name = current.primaryNameAttribute ?? name;
    const last = this.column(current, name);
    refuseFileBody(current, last.name);
    out.push(last.name);
    return { segments: out, column: last.column, table: current };
  }

  /**
   * contains(customerid/name,'Contoso'): a customer or owner lookup points at several tables, one relationship
   * each, and OData cannot follow it by itself. A comparison on a column of the record it points at means that
   * column on whichever table it is, so it becomes one comparison per relationship, any to hold ("name" is each
   * table's primary name: fullname for a contact). Not under a "not" or for ne, which would hold through the
   * absent relationship; each relationship is then checked against the policy like any path.
   */
  private async acrossTargets(entity: EntityModel, e: Compare | Call, vars: Map<string, EntityModel>) {
    const path = e.kind === 'compare' ? [e.left, e.right].find((x) => x.kind === 'path') : e.args[0];
    if (path?.kind !== 'path' || vars.has(path.segments[0]!)) return undefined;
    const paths = await pathsAcrossTargets(
      this.models,
      entity,
      path.segments,
      (t, n, target) => this.policy.canFollow(t, n) && this.policy.entities().includes(target),
    );
    if (!paths) return undefined;
    const operands: Expr[] = paths.map((segments) => {
      const via: PathExpr = { ...path, segments };
      return e.kind === 'call'
        ? { ...e, args: [via, ...e.args.slice(1)] }
        : { ...e, left: e.left === path ? via : e.left, right: e.right === path ? via : e.right };
    });
    return { kind: 'or', operands, pos: e.pos } as Expr;
  }

  /**
   * A comparison of a column with a value. A choice compared with its label in quotes (statecode eq 'Active')
   * is sent as its number, as the where conditions do: Dataverse refuses a text for a choice ("incompatible
   * types"). A value written without quotes (address1_city eq Seattle) reads as a column name; the error
   * then says how to write the value rather than only that no such column exists.
   */
  private async compare(entity: EntityModel, e: Compare, vars: Map<string, EntityModel>): Promise<Expr> {
    const sides = [e.left, e.right] as const;
    const at = sides.findIndex((x) => x.kind === 'path');
    const other = at < 0 ? undefined : sides[1 - at]!;
    if (!other || (other.kind !== 'path' && other.kind !== 'literal'))
      return { ...e, left: await this.filter(entity, e.left, vars), right: await this.filter(entity, e.right, vars) };
    const path = sides[at] as PathExpr;
    const resolved = await this.resolvePath(entity, path.segments, vars);
    const col = resolved.column;
    const choice = CHOICE_TYPES.has(col.type);
    let value: Expr;
    // "prioritycode gt 'Normal'" compares numbers, not meaning: refused as the structured condition is
    if (other.kind === 'literal' && at === 0 && choice)
      refuseChoiceOrderedByLabel({ column: path.segments.join('/'), op: e.op, value: other.value }, col);
    // a choices column's value is its options' numbers ("2,9"): compared with a label it matches nothing, silently
    if (
      other.kind === 'literal' &&
      isChoices(col) &&
      other.type !== 'null' &&
      !/^\d+(,\d+)*$/.test(String(other.value))
    )
      throw badInput(
        `${path.segments.join('/')} is a choices column (several options at once): ${e.op} compares its whole value, the numbers of the options chosen ("2,9"), which '${String(other.value)}' is not.`,
        `For records that have an option: Microsoft.Dynamics.CRM.ContainValues(PropertyName='${path.segments.join('/')}',PropertyValues=['${col.options?.[0]?.value ?? 1}']) (DoesNotContainValues: none of them), or the where condition {"${path.segments.join('/')}": "${col.options?.[0]?.label ?? 'label'}"}. Its options: ${(col.options ?? []).map((o) => `${o.value} (${o.label})`).join(', ')}.`,
      );
    if (other.kind === 'literal')
      value =
        choice && other.type === 'string'
          ? { ...other, type: 'number', value: optionValue(col, other.value as string, resolved.table.logicalName) }
          : other;
    else
      value = await this.filter(entity, other, vars).catch((err: unknown) => {
        const word = other.segments.join('/');
        if (!(err instanceof DynamicsMcpError) || err.kind !== 'unknown_column' || other.segments.length !== 1)
          throw err;
        const name = path.segments.join('/');
        // "prioritycode eq High": a choice's label written as a bare word (no column of that name) is that label,
        // as in quotes; a word that is no label keeps the refusal, which lists the values
        const label = choice ? labelledValue(col, word, resolved.table.logicalName) : undefined;
        if (label !== undefined) return { kind: 'literal', type: 'number', value: label, pos: other.pos } as Expr;
        throw new DynamicsMcpError(
          'bad_input',
          `'${word}' is not a column of ${resolved.table.logicalName}; if it is the value for ${name}, it needs writing as one.`,
          choice
            ? `${name} is a choice: compare it with its number or its label in quotes, e.g. ${name} eq ${col.options?.[0]?.value ?? 0}. Its values: ${(col.options ?? []).map((o) => `${o.value} (${o.label})`).join(', ')}.`
            : `Text goes in single quotes: ${name} ${e.op} '${word}'.`,
          { retryable: false },
        );
      });
    const checked = { ...path, segments: resolved.segments };
    return at === 0 ? { ...e, left: checked, right: value } : { ...e, left: value, right: checked };
  }

  /**
   * Walks a filter, checking and canonicalising every name; returns a new tree. `negated`: under a "not",
   * where a condition through a customer lookup is not asked of each table (see acrossTargets).
   */
  async filter(
    entity: EntityModel,
    e: Expr,
    vars: Map<string, EntityModel> = new Map(),
    negated = false,
  ): Promise<Expr> {
    if (!negated && (e.kind === 'call' || (e.kind === 'compare' && e.op !== 'ne'))) {
      const across = await this.acrossTargets(entity, e, vars);
      if (across) return this.filter(entity, across, vars, negated);
    }
    switch (e.kind) {
      case 'literal':
      case 'list':
        return e;
      case 'alias':
        throw policyError(
          `Parameter aliases (@${e.name}) are not accepted.`,
          'Write the value into the filter directly.',
        );
      case 'path':
        return { ...e, segments: await this.path(entity, e.segments, vars) };
      case 'and':
      case 'or': {
        const operands: Expr[] = [];
        for (const o of e.operands) operands.push(await this.filter(entity, o, vars, negated));
        return { ...e, operands };
      }
      case 'not':
        return { ...e, operand: await this.filter(entity, e.operand, vars, !negated) };
      case 'compare':
        return this.compare(entity, e, vars);
      case 'call': {
        const args: Expr[] = [];
        for (const a of e.args) args.push(await this.filter(entity, a, vars));
        return { ...e, args };
      }
      case 'function': {
        if (!ALLOWED_FUNCTIONS.has(e.name))
          throw policyError(
            `The query function Microsoft.Dynamics.CRM.${e.name} is not allowed.`,
            `Allowed query functions: ${[...ALLOWED_FUNCTIONS].join(', ')}.`,
          );
        const params: Record<string, Expr> = {};
        for (const [k, v] of Object.entries(e.params)) {
          if (v.kind === 'alias')
            throw policyError('Parameter aliases are not accepted.', 'Write the value into the filter directly.');
          if (k === 'PropertyName') {
            if (v.kind !== 'literal' || typeof v.value !== 'string')
              throw policyError('PropertyName must be a column name in quotes.', "e.g. PropertyName='createdon'.");
            const canonical = await this.path(entity, v.value.split('/'), vars);
            params[k] = { ...v, value: canonical.join('/') };
          } else if (!['PropertyValue', 'PropertyValues', 'PropertyValue1', 'PropertyValue2'].includes(k)) {
            throw policyError(
              `Unknown parameter '${k}' of Microsoft.Dynamics.CRM.${e.name}.`,
              'Use PropertyName and PropertyValue or PropertyValues.',
            );
          } else params[k] = v;
        }
        return { ...e, params };
      }
      case 'lambda': {
        let owner = entity;
        const segs = [...e.path];
        const out: string[] = [];
        const bound = vars.get(segs[0]!);
        if (bound && segs.length > 1) {
          owner = bound;
          out.push(segs.shift()!);
        }
        for (let i = 0; i < segs.length - 1; i++) {
          const step = await this.follow(owner, segs[i]!, false);
          out.push(step.nav);
          owner = step.target;
        }
        const step = await this.follow(owner, segs[segs.length - 1]!, true);
        out.push(step.nav);
        // a list of a table the policy shows only in part (activities of some kinds) would say, through any(),
        // whether a row of a hidden kind exists or matches ("accounts with no activity in 90 days"): it is
        // filtered through its shown rows only, their kinds written into the lambda
        const shown = await rowsShown(this.policy, this.models, step.target.logicalName);
        if (!e.variable || !e.body) {
          if (!shown) return { ...e, path: out };
          const variable = freeVariable(entity, vars);
          return { ...e, path: out, variable, body: kindIs(variable, shown) };
        }
        if (vars.has(e.variable) || entity.columns.has(e.variable.toLowerCase()))
          throw policyError(
            `The lambda variable '${e.variable}' hides another name.`,
            'Pick a variable name that is not a column, such as x or y.',
          );
        const inner = new Map(vars);
        inner.set(e.variable, step.target);
        const body = await this.filter(entity, e.body, inner);
        return { ...e, path: out, body: shown ? amongShown(e.op, e.variable, shown, body) : body };
      }
    }
  }

  /**
   * Every name a select lists that is no column is refused in one answer, each with its suggestion: one at a
   * time, "phone, city, industry" took three calls to put right.
   */
  async select(entity: EntityModel, select: string[]): Promise<string[]> {
    const names: string[] = [];
    const unknown: string[] = [];
    let first: unknown;
    for (const s of select) {
      try {
        names.push(this.column(entity, s).name);
      } catch (e) {
        // any other refusal (a column the policy hides, a path) is said as it is
        if (!(e instanceof DynamicsMcpError && e.kind === 'unknown_column')) throw e;
        first ??= e;
        unknown.push(s);
      }
    }
    if (unknown.length === 1) throw first;
    if (unknown.length > 1) {
      const each = unknown.map((u) => ({ name: u, meant: this.suggestions(entity, u) }));
      const meant = each.filter((e) => e.meant.length);
      throw new DynamicsMcpError(
        'unknown_column',
        `${unknown.map((u) => `'${u}'`).join(', ')} are not columns of ${entity.logicalName}.`,
        `${meant.length ? `Did you mean: ${meant.map((e) => `${e.name} → ${e.meant.join(' or ')}`).join('; ')}? ` : ''}Call describe_entity('${entity.logicalName}') for every column you may use.`,
        { suggestions: [...new Set(meant.flatMap((e) => e.meant))], retryable: false },
      );
    }
    return [...new Set(names)];
  }

  async orderBy(entity: EntityModel, items: OrderByItem[]): Promise<OrderByItem[]> {
    const out: OrderByItem[] = [];
    for (const o of items) {
      if (o.path.length !== 1)
        throw policyError(
          `Ordering by '${o.path.join('/')}' is not supported.`,
          'Order by columns of the table itself; a lookup (e.g. "parentaccountid") sorts by the related record\'s name.',
        );
      const { name } = this.column(entity, o.path[0]!);
      refuseFileBody(entity, name);
      out.push({ ...o, path: [name] });
    }
    return out;
  }

  async expand(entity: EntityModel, items: ExpandItem[], depth = 0): Promise<ExpandItem[]> {
    if (depth > 2) throw policyError('Expansions may nest at most two levels.', 'Query the related table separately.');
    const out: ExpandItem[] = [];
    for (const item of items) {
      const single = entity.singleNavs.has(item.property.toLowerCase());
      const { nav, target } = await this.follow(entity, item.property, !single);
      const select = item.select
        ? await this.select(target, item.select)
        : [this.column(target, target.primaryIdAttribute).name, ...this.defaultNames(target, !single)];
      out.push({
        ...item,
        property: nav,
        select,
        filter: item.filter ? await this.filter(target, item.filter) : undefined,
        orderBy: item.orderBy ? await this.orderBy(target, item.orderBy) : undefined,
        expand: item.expand ? await this.expand(target, item.expand, depth + 1) : undefined,
      });
    }
    return out;
  }

  /**
   * An expand without $select would return every column; ask for the primary name, and what a related row of
   * its table is read for (EXPAND_ALSO), of those the policy lets be read.
   */
  private defaultNames(target: EntityModel, list: boolean): string[] {
    const also = EXPAND_ALSO[target.logicalName] ?? (list ? [EXPAND_STATE] : []);
    return [target.primaryNameAttribute, ...also].filter(
      (c) => target.columns.has(c) && this.policy.canRead(target.logicalName, c),
    );
  }

  async apply(entity: EntityModel, steps: ApplyStep[]): Promise<ApplyStep[]> {
    const out: ApplyStep[] = [];
    const aggregate = async (items: AggregateItem[]): Promise<AggregateItem[]> => {
      const r: AggregateItem[] = [];
      for (const a of items) r.push({ ...a, path: a.path ? await this.path(entity, a.path, new Map()) : null });
      return r;
    };
    for (const s of steps) {
      if (s.kind === 'filter') out.push({ ...s, expr: await this.filter(entity, s.expr) });
      else if (s.kind === 'aggregate') out.push({ ...s, items: await aggregate(s.items) });
      else {
        const paths: string[][] = [];
        for (const p of s.paths) paths.push(await this.path(entity, p, new Map()));
        out.push({ ...s, paths, aggregate: s.aggregate ? await aggregate(s.aggregate) : undefined });
      }
    }
    return out;
  }

  /** All parts of a read, checked and canonical. */
  async query(entity: EntityModel, parts: QueryParts): Promise<QueryParts> {
    return {
      select: parts.select ? await this.select(entity, parts.select) : undefined,
      filter: parts.filter ? await this.filter(entity, parts.filter) : undefined,
      orderBy: parts.orderBy ? await this.orderBy(entity, parts.orderBy) : undefined,
      expand: parts.expand ? await this.expand(entity, parts.expand) : undefined,
      apply: parts.apply ? await this.apply(entity, parts.apply) : undefined,
    };
  }
}

type Shown = { column: string; value: string[] };

/** `v/<column> eq '<kind>' or …`: a row of a kind the policy shows; with ne, `… ne '<kind>' and …`, one it hides. */
function kindIs(variable: string, shown: Shown, op: 'eq' | 'ne' = 'eq'): Expr {
  const operands: Expr[] = shown.value.map((kind) => ({
    kind: 'compare',
    op,
    left: { kind: 'path', segments: [variable, shown.column], pos: 0 },
    right: { kind: 'literal', type: 'string', value: kind, pos: 0 },
    pos: 0,
  }));
  return operands.length === 1 ? operands[0]! : { kind: op === 'eq' ? 'or' : 'and', operands, pos: 0 };
}

/**
 * A lambda's body over the shown rows alone: any() of a shown row that meets it; all() of the rows, each
 * hidden or meeting it. Already so (a next page's filter, as Dataverse hands back the one sent), it stays.
 */
function amongShown(op: 'any' | 'all', variable: string, shown: Shown, body: Expr): Expr {
  const kinds = kindIs(variable, shown);
  if (op === 'any') {
    const first = body.kind === 'and' ? body.operands[0] : undefined;
    if (first && filterToOData(first) === filterToOData(kinds)) return body;
    return { kind: 'and', operands: [kinds, body], pos: 0 };
  }
  const hidden = kindIs(variable, shown, 'ne');
  const first = body.kind === 'or' ? body.operands[0] : undefined;
  if (first && filterToOData(first) === filterToOData(hidden)) return body;
  return { kind: 'or', operands: [hidden, body], pos: 0 };
}

/** A lambda variable that names no column of the table and no variable in scope. */
function freeVariable(entity: EntityModel, vars: Map<string, EntityModel>): string {
  for (let i = 0; ; i++) {
    const v = `k${i}`;
    if (!vars.has(v) && !entity.columns.has(v)) return v;
  }
}
