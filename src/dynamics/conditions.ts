import { badInput, DynamicsMcpError, policyError } from '../errors.js';
import type { Expr } from '../odata/ast.js';
import {
  type CollectionNav,
  type ColumnModel,
  columnLabelled,
  type EntityModel,
  isLookupType,
  type ModelSource,
  navsOf,
  navToTable,
} from '../policy/model.js';
import { fromOtherSide } from '../policy/other-side.js';
import { closest } from '../policy/suggest.js';
import { columnOn, pathsAcrossTargets } from '../policy/targets.js';
import { isGuidText, type Scalar } from './coerce.js';
import {
  type ConditionOp,
  conditionAsMeant,
  flagAsMeant,
  type Leaf,
  monthsInWords,
  NEGATIONS,
  namesFiscalPeriod,
  periodAsWords,
  periodInWords,
  quarterInWords,
  wildcardsAsOperator,
} from './condition-words.js';
import { fiscalYear, type OrgCalendar } from './fiscal.js';
import { leafExpr, type Resolved } from './leaf-expr.js';
import { insideLambda, LIST_NEGATIONS } from './list-conditions.js';
import { negation, queryFunctionIn } from './negation.js';
import { callerTokens, ME, teamsMeant, theAppIsNotYou, theAppsTeamsAreNotYours } from './obo.js';
import { isPartyList, participation, partiesOf } from './party-lists.js';
import { periodsAsDays, spanConditions, utcSpan, wholeDays } from './utc-days.js';

export {
  CONDITION_OPS,
  type ConditionOp,
  isOperatorWord,
  likeAsMeant,
  operatorMeant,
  unknownOpHint,
} from './condition-words.js';

/** A due date's value as task lists say it: the date has passed */
const OVERDUE = /^(overdue|past due|past-due)$/i;

/** Operators that find a value: a lookup given a name with one of them is matched by the related record's name. */
const BY_NAME_OPS: ReadonlySet<ConditionOp> = new Set(['eq', 'in', 'contains', 'startswith', 'endswith']);

/** Periods that count from the organisation's first day of the week. */
const WEEK_OPS: ReadonlySet<unknown> = new Set(['thisWeek', 'lastWeek', 'nextWeek']);

/** Whether a value (or one of a list) names a period that needs the organisation's calendar: a quarter, a fiscal year, a week. */
function namesCalendarPeriod(value: unknown): boolean {
  return (Array.isArray(value) ? value : [value]).some(
    (v) => namesFiscalPeriod(v) || WEEK_OPS.has(periodInWords(v)?.op),
  );
}

export type Condition =
  | { column: string; op: ConditionOp; value?: Scalar | Scalar[] }
  | { and: Condition[] }
  | { or: Condition[] }
  | { not: Condition };

/** Every operator of the tree that takes no value, as meant (flagAsMeant), before lists, lookups and nots are read. */
function flagsAsMeant(c: Condition): Condition {
  if ('and' in c) return Array.isArray(c.and) ? { and: c.and.map(flagsAsMeant) } : c;
  if ('or' in c) return Array.isArray(c.or) ? { or: c.or.map(flagsAsMeant) } : c;
  if ('not' in c) return { not: flagsAsMeant(c.not) };
  return 'column' in c ? flagAsMeant(c) : c;
}

/** A condition on one column: a leaf of the tree. */
export type LeafCondition = Extract<Condition, { column: string }>;

/**
 * The conditions on columns that must hold for a row to be found: every leaf outside a "not" (under one, a
 * leaf says what is left out). Notes about an empty answer read these.
 */
export function leavesOutsideNot(c: Condition): LeafCondition[] {
  if ('and' in c) return c.and.flatMap(leavesOutsideNot);
  if ('or' in c) return c.or.flatMap(leavesOutsideNot);
  if ('not' in c) return [];
  return [c];
}

/** The operators that compare a column with named values: where a table's name is read as the table */
const TABLE_NAME_OPS: ReadonlySet<ConditionOp> = new Set(['eq', 'ne', 'in', 'notIn']);

const MAX_DEPTH = 8;
const MAX_CONDITIONS = 200;

/**
 * Structured conditions ({column, op, value} with and/or/not groups) → an OData expression tree, with every
 * literal typed from metadata: quotes doubled by the serialiser, GUIDs and dates unquoted, option-set labels
 * turned into their values. The tree then goes through the policy like any filter.
 */
export class ConditionBuilder {
  constructor(
    private readonly models: ModelSource,
    /** the fiscal year "this quarter" is a quarter of (org-calendar.ts); asked only when a quarter is named */
    private readonly fiscalYearOf: () => Promise<OrgCalendar> = async () => fiscalYear(1),
    /** the relationships the policy follows: a customer lookup followed to some of its tables only is refused */
    private readonly follows?: (entity: string, navigation: string) => boolean,
    /** the rows the policy shows of a table (Policy.rowsOf): a kind of activity it hides is said to be hidden */
    private readonly rowsOf?: (entity: string) => Promise<{ column: string; value: string[] } | undefined>,
    /** the tables the policy offers: a lookup matched by name reads its targets' names */
    private readonly offered?: (entity: string) => boolean,
  ) {}

  /**
   * One builder serves every call of a client, and builds wait on metadata: concurrent calls (sessions,
   * a query's expand items) each count their own conditions.
   */
  async build(c: Condition, entity: EntityModel): Promise<Expr> {
    return this.node(flagsAsMeant(c), entity, 0, false, { count: 0, lists: 0 });
  }

  private async node(
    c: Condition,
    entity: EntityModel,
    depth: number,
    negated: boolean,
    seen: { count: number; lists: number },
  ): Promise<Expr> {
    if (depth > MAX_DEPTH) throw badInput(`Conditions nest more than ${MAX_DEPTH} levels deep.`, 'Flatten the groups.');
    if (++seen.count > MAX_CONDITIONS)
      throw badInput(`More than ${MAX_CONDITIONS} conditions.`, 'Use the "in" operator for lists of values.');
    if ('and' in c || 'or' in c) {
      const kind = 'and' in c ? 'and' : 'or';
      const items = 'and' in c ? c.and : c.or;
      if (!Array.isArray(items) || items.length === 0)
        throw badInput(`An "${kind}" group needs at least one condition.`, 'Remove the empty group.');
      const operands: Expr[] = [];
      // conditions side by side through the same related list are about the same related row: "an active
      // case of high priority", not "an active case, and a high-priority one"
      const lists = new Map<CollectionNav, Leaf[]>();
      for (const i of items) {
        const list = 'column' in i ? this.listOf(entity, i.column) : undefined;
        if (list && 'column' in i) lists.set(list, [...(lists.get(list) ?? []), i]);
        else operands.push(await this.node(i, entity, depth + 1, negated, seen));
      }
      for (const [list, leaves] of lists)
        operands.push(await this.throughList(list, leaves, kind, entity, depth + 1, negated, seen));
      return operands.length === 1 ? operands[0]! : { kind, operands, pos: 0 };
    }
    if ('not' in c) {
      // "not against Nimbus CRM": a list given a name under the not, as below
      const not = ('column' in c.not ? await this.listByName(entity, c.not) : undefined) ?? c.not;
      // "not" around conditions through one related list: no related row meets them, all() of their negation
      const leaves = 'column' in not ? [not] : 'and' in not ? not.and : [];
      const lists = new Set(leaves.map((l) => ('column' in l ? this.listOf(entity, l.column) : undefined)));
      const [list] = lists;
      if (!negated && list && lists.size === 1 && leaves.every((l) => 'column' in l))
        return this.throughList(list, leaves as Leaf[], 'and', entity, depth + 1, false, seen, 'none');
      // "not to Nina Castillo": none of the call's parties is Nina as its To
      const party = !negated && 'column' in not ? this.throughParties(entity, not) : undefined;
      if (party) return this.throughList(party.list, party.leaves, 'and', entity, depth + 1, false, seen, 'none');
      // otherwise carried down to the conditions, where Dataverse has the opposites; the rest keep their not
      const pushed = negation(not);
      if (!('not' in pushed)) return this.node(pushed, entity, depth + 1, negated, seen);
      const operand = await this.node(pushed.not, entity, depth + 1, !negated, seen);
      const fn = queryFunctionIn(operand);
      // "not this month", "not on 20 November", "not in the last 30 days" (said with its operator): the days
      // outside it (ne), which Dataverse can say
      const words = 'column' in pushed.not ? periodAsWords(pushed.not.op, pushed.not.value) : undefined;
      const outside =
        'column' in pushed.not && (pushed.not.op === 'eq' || words)
          ? { ...pushed.not, op: 'ne' as const, ...(words ? { value: words } : {}) }
          : undefined;
      if (fn && outside) {
        // a period with no last day ("older than 30 days") has no outside to say: the refusal below stands
        const other = await this.node(outside, entity, depth + 1, negated, seen).catch((e: unknown) => {
          if (e instanceof DynamicsMcpError && e.kind === 'bad_input') return undefined;
          throw e;
        });
        if (other) return other;
      }
      if (fn)
        throw badInput(
          `Dataverse takes no "not" around its query functions, and this condition is sent as ${fn}.`,
          'Say the opposite period or value instead: e.g. for "not older than 30 days", {"ge": "last 30 days"} (on or after its first day).',
        );
      return { kind: 'not', operand, pos: 0 };
    }
    const named = await this.listByName(entity, c);
    if (named) return this.node(named, entity, depth, negated, seen);
    const list = this.listOf(entity, c.column);
    if (list) return this.throughList(list, [c], 'and', entity, depth, negated, seen);
    const party = this.throughParties(entity, c);
    if (party) return this.throughList(party.list, party.leaves, 'and', entity, depth, negated, seen);
    const whole = await this.wholeList(entity, c, negated, seen);
    if (whole) return whole;
    // "who am I": a user's own key given as "me" is the user the call runs as, as "me" is for an owner
    const me = this.userItself(c, entity);
    if (me) return this.node(me, entity, depth + 1, negated, seen);
    // "ownerid is Megan Bowen": a name given for a lookup means the related record's name
    const byName = negated ? undefined : await this.throughLookupByName(c, entity);
    if (byName) return this.node(byName, entity, depth + 1, false, seen);
    // under a "not", asking each table would hold through the absent relationship: not what was meant
    const across = negated ? undefined : await this.acrossTargets(c, entity);
    if (across) return this.node(across, entity, depth + 1, false, seen);
    return this.leaf(c, entity);
  }

  /**
   * systemuser's key compared with "me" ("who am I", "my user record"): the user the call runs as, Dataverse's
   * EqualUserId on the key, as {"ownerid": "me"} is; refused where that user is this server's application.
   */
  private userItself(c: Leaf, entity: EntityModel): Leaf | undefined {
    if (
      entity.logicalName !== 'systemuser' ||
      typeof c.column !== 'string' ||
      c.column.trim().toLowerCase() !== entity.primaryIdAttribute ||
      typeof c.value !== 'string' ||
      !ME.test(c.value.trim())
    )
      return undefined;
    const said = `systemuser.${entity.primaryIdAttribute} '${c.value.trim()}'`;
    if (!callerTokens.getStore()) throw theAppIsNotYou(said, '"me"', 'use its id');
    if (c.op !== 'eq')
      throw badInput(`${said}: only eq means the signed-in user.`, `Use {"${entity.primaryIdAttribute}": "me"}.`);
    return { column: entity.primaryIdAttribute, op: 'currentUser' };
  }

  /**
   * A lookup holds a record id, so text that is no id, given for one with an operator that finds a value
   * (eq, in, contains, startswith, endswith), can only be the related record's name: {"ownerid": "Megan
   * Bowen"} is ownerid/name, the user's full name, and through a customer lookup each table's name
   * (acrossTargets). Several records may have the name; the condition matches them all, as the words do.
   * Negations, and lists that mix ids and names, are left to leaf(), which refuses them with the condition
   * to write.
   */
  private async throughLookupByName(c: Leaf, entity: EntityModel): Promise<Condition | undefined> {
    if (!BY_NAME_OPS.has(c.op) || typeof c.column !== 'string') return undefined;
    const values = Array.isArray(c.value) ? c.value : [c.value];
    if (!values.length || !values.every((v) => typeof v === 'string' && v.trim() && !isGuidText(v))) return undefined;
    const r = await this.resolve(entity, c.column).catch(() => undefined);
    if (!r?.model || !isLookupType(r.column.type) || !r.column.targets?.length) return undefined;
    const prefix = c.column.split('/').slice(0, -1);
    // "my deals" ({"ownerid": "me"}) is the user the call runs as (EqualUserId), not a user named "me"; where
    // the server signs in as an application that user would be the application, so it is refused
    if (values.length === 1 && ME.test(String(values[0]).trim()) && r.column.targets.includes('systemuser')) {
      const said = `${r.entity}.${r.column.logicalName} '${String(values[0]).trim()}'`;
      if (!callerTokens.getStore()) throw theAppIsNotYou(said, '"me"', 'compare with its name or id');
      if (c.op !== 'eq')
        throw badInput(
          `${said}: only eq means the signed-in user.`,
          'Find your user with query_entities on systemuser (e.g. where fullname contains your name) and compare with its id.',
        );
      return { column: [...prefix, r.column.logicalName].join('/'), op: 'currentUser' };
    }
    // "my team's cases" ({"ownerid": "my team"}): the teams the signed-in user is on (EqualUserTeams), or that
    // user and their teams ("mine or my team's": EqualUserOrUserTeams); an owner's teams only, and not app-only
    const teams = values.length === 1 ? String(values[0]).trim() : '';
    if (teamsMeant(teams) && r.column.targets.includes('team')) {
      const said = `${r.entity}.${r.column.logicalName} '${teams}'`;
      if (!callerTokens.getStore()) throw theAppsTeamsAreNotYours(said);
      // (in a list of one, as eq)
      if (c.op !== 'eq' && c.op !== 'in')
        throw badInput(
          `${said}: only eq means the signed-in user's teams.`,
          `Use {"${c.column}": "${teams}"}, or name the teams: {"${c.column}": {"in": ["<team name>", …]}} (query_entities on team lists them).`,
        );
      return { column: [...prefix, r.column.logicalName].join('/'), op: 'currentUser', value: teams };
    }
    // by name is through the lookup, which the policy may not follow (an opportunity's originating lead): the
    // model can still find the record by name in its own table and compare with its id, so that is said
    const navs = navsOf(r.model, r.column.logicalName);
    const said = `${r.model.logicalName}.${r.column.logicalName} holds a record id; matching it by name ('${String(values[0])}')`;
    // nor where none of the tables it points at is offered (a policy of accounts and contacts alone has no users
    // to find an owner among): the id is in each record's value of it, {"id", "name"}
    const offered = navs.filter((n) => this.offered?.(n.target) ?? true);
    if (navs.length && !offered.length)
      throw policyError(
        `${said} reads ${[...new Set(navs.map((n) => n.target))].join(' and ')} records, which this server's policy does not offer.`,
        `Compare it with the record's id instead: {"${c.column}": "<its id>"}; a record's ${r.column.logicalName} value ({"id", "name"}) holds it.`,
      );
    if (this.follows && navs.length && !navs.some((n) => this.follows!(r.model!.logicalName, n.navigationProperty))) {
      const finds = await Promise.all(
        offered.map(async (n) => {
          const name = (await this.models.entity(n.target).catch(() => undefined))?.primaryNameAttribute || 'name';
          return `on ${n.target} with where {"${name}": ${JSON.stringify(values[0])}}`;
        }),
      );
      throw policyError(
        `${said} follows it, which this server's policy does not allow.`,
        `Find the record by name with query_entities ${finds.join(', or ')}, then compare with its id: {"${c.column}": "<its id>"}.`,
      );
    }
    return { ...c, column: [...prefix, r.column.logicalName, 'name'].join('/') };
  }

  /**
   * "The customer's name contains Contoso": a customer or owner lookup points at several tables, one
   * relationship each, and cannot be followed by itself. A condition on a column of the record it points at
   * means that column on whichever table it is, so it is asked of each relationship, any of them to hold
   * ("name" is each table's primary name: fullname for a contact). Only for operators that hold of a value
   * found: a negation (ne, notContains…) over an absent relationship is not what was meant, and is refused.
   */
  private async acrossTargets(c: Leaf, entity: EntityModel): Promise<Condition | undefined> {
    if (typeof c.column !== 'string' || NEGATIONS.has(c.op)) return undefined;
    const paths = await pathsAcrossTargets(
      this.models,
      entity,
      c.column.split('/').map((p) => p.trim()),
      (e, n, target) => (this.follows?.(e, n) ?? true) && (this.offered?.(target) ?? true),
    );
    return paths ? { or: paths.map((p) => ({ ...c, column: p.join('/') })) } : undefined;
  }

  /**
   * "Calls to Nina Castillo" ({"to": "Nina Castillo"}): a party list is no column but the activity's parties,
   * so the condition is that one of them plays that part (To: ParticipationTypeMask 2) and is that person (an
   * id or a name, as a lookup takes it). Only for the operators that find a person (eq, in); others reach
   * leaf(), whose refusal says where the people are.
   */
  private throughParties(entity: EntityModel, c: Leaf): { list: CollectionNav; leaves: Leaf[] } | undefined {
    if (typeof c.column !== 'string' || c.column.includes('/') || (c.op !== 'eq' && c.op !== 'in')) return undefined;
    const col = entity.columns.get(c.column.trim().toLowerCase()) ?? columnLabelled(entity, c.column);
    const mask = col && isPartyList(col) ? participation(col) : undefined;
    const nav = partiesOf(entity);
    const list = nav ? entity.collectionNavs.get(nav.toLowerCase()) : undefined;
    if (mask === undefined || !nav || !list) return undefined;
    return {
      list,
      leaves: [
        { column: `${nav}/partyid`, op: c.op, value: c.value },
        { column: `${nav}/participationtypemask`, op: 'eq', value: mask },
      ],
    };
  }

  /** The related list a column path starts with ("incident_customer_accounts/statecode"), if it does. */
  private listOf(entity: EntityModel, column: unknown): CollectionNav | undefined {
    if (typeof column !== 'string' || !column.includes('/')) return undefined;
    return entity.collectionNavs.get(column.slice(0, column.indexOf('/')).trim().toLowerCase());
  }

  /**
   * A related list given a record's name or id, as a lookup is ({"opportunitycompetitors_association": "Nimbus
   * CRM"}, "deals against Nimbus CRM"): the list has a row with that name (its table's primary name) or id, the
   * condition through the list (eq, in, or a name's contains, startswith, endswith). Anything else is left to
   * wholeList, which takes the null checks and refuses the rest.
   */
  private async listByName(entity: EntityModel, c: Leaf): Promise<Leaf | undefined> {
    if (typeof c.column !== 'string' || c.column.includes('/')) return undefined;
    const list = entity.collectionNavs.get(c.column.trim().toLowerCase());
    const values = Array.isArray(c.value) ? c.value : [c.value];
    const finds = ['eq', 'in', 'contains', 'startswith', 'endswith'].includes(c.op);
    if (!list || !finds || !values.length || !values.every((v) => typeof v === 'string' && v.trim())) return undefined;
    const target = await this.models.entity(list.referencingEntity);
    const ids = (c.op === 'eq' || c.op === 'in') && values.every((v) => isGuidText(String(v)));
    const column = ids ? target.primaryIdAttribute : target.primaryNameAttribute;
    if (!column) return undefined;
    return { ...c, column: `${list.navigationProperty}/${column}` };
  }

  /**
   * A related list named as a column, with the null checks: "accounts with contacts" (notNull) is any() over
   * the list, "accounts without contacts" (null) is all() over it of a condition no row meets (a row's own
   * id is never empty), which holds only of an empty list: both lambda forms Dataverse documents (§3.2).
   */
  private async wholeList(
    entity: EntityModel,
    given: Leaf,
    negated: boolean,
    seen: { lists: number },
  ): Promise<Expr | undefined> {
    const list =
      typeof given.column === 'string' ? entity.collectionNavs.get(given.column.trim().toLowerCase()) : undefined;
    if (!list) return undefined;
    // eq / ne null ({"contact_customer_accounts": {"not": null}}, Prisma's way) are the null checks
    const nullCheck = given.value === null && (given.op === 'eq' || given.op === 'ne');
    const c: Leaf = nullCheck ? { column: given.column, op: given.op === 'eq' ? 'null' : 'notNull' } : given;
    const relation = list.navigationProperty;
    if (c.op !== 'null' && c.op !== 'notNull')
      throw badInput(
        `'${c.column}' is a related list of ${entity.logicalName}, not a column: it takes a related record's name or id (eq, in, contains, startswith, endswith: a related row has it), "null" (no related rows) or "notNull" (at least one).`,
        `For records without such a row, put it under "not": {"not": {"${relation}": "<name or id>"}}. For another column of its rows, name it through the list, e.g. {"column": "${relation}/<column>", "op": "eq", "value": …}.`,
      );
    // not() around a lambda is not documented; the two checks say each other's negation without it
    if (negated)
      throw badInput(
        `'${relation}' under a negation: say it with the other check instead.`,
        `"null" is "has no related rows", "notNull" is "has at least one".`,
      );
    if (c.op === 'notNull') return { kind: 'lambda', op: 'any', path: [relation], pos: 0 };
    const target = await this.models.entity(list.referencingEntity);
    const noId: Expr = {
      kind: 'compare',
      op: 'eq',
      left: { kind: 'path', segments: [target.primaryIdAttribute], pos: 0 },
      right: { kind: 'literal', type: 'null', value: null, pos: 0 },
      pos: 0,
    };
    return this.lambda('all', relation, noId, seen);
  }

  /** `<relation>/<op>(rN: body)`, the body's paths read from rN: each list, nested ones too, has its own. */
  private lambda(op: 'any' | 'all', relation: string, body: Expr, seen: { lists: number }): Expr {
    seen.lists += 1;
    const variable = `r${seen.lists}`;
    return { kind: 'lambda', op, path: [relation], variable, body: insideLambda(body, variable, relation), pos: 0 };
  }

  /**
   * Conditions through one related list, as one any() over it (list-conditions.ts): built against the related
   * table like any others (labels, lookups, lists under it), then written inside the lambda.
   */
  private async throughList(
    list: CollectionNav,
    leaves: Leaf[],
    kind: 'and' | 'or',
    entity: EntityModel,
    depth: number,
    negated: boolean,
    seen: { count: number; lists: number },
    quantifier: 'any' | 'none' = 'any',
  ): Promise<Expr> {
    const relation = list.navigationProperty;
    // "no related row is …" (under a not) says which rows it means; a negation inside "some row" does not
    const negation = quantifier === 'any' ? leaves.find((l) => LIST_NEGATIONS.has(l.op)) : undefined;
    if (negated || negation)
      throw badInput(
        `A condition through the related list '${relation}' of ${entity.logicalName} holds when at least one related row meets it, so ${negation ? `'${negation.op}'` : 'a negation'} there would find records with some other related row, not records without matching ones.`,
        `For records with a matching related row, use a positive operator (eq, in, contains …). For records without one, put the positive condition under "not": {"not": {"column": "${relation}/<column>", "op": "eq", "value": …}}.`,
      );
    const target = await this.models.entity(list.referencingEntity);
    // the organisation's calendar is asked for only when a quarter, fiscal year or week is named (it may cost
    // a request)
    const calendarNeeded = (l: Leaf) => WEEK_OPS.has(conditionAsMeant(l).op) || namesCalendarPeriod(l.value);
    const fiscal = leaves.some(calendarNeeded) ? await this.fiscalYearOf() : fiscalYear(1);
    const columnOf = (name: string) => target.columns.get(name.trim().toLowerCase()) ?? columnLabelled(target, name);
    // a day or a period of a related row's date (Dataverse's date functions are not documented inside any()):
    // its UTC span as two comparisons (utc-days.ts)
    const inDays = (c: Condition): Condition => {
      if ('and' in c) return { and: c.and.map(inDays) };
      if ('or' in c) return { or: c.or.map(inDays) };
      if (!('column' in c)) return c;
      const column = columnOf(c.column);
      const span = column?.type === 'DateTime' ? utcSpan(c, fiscal) : undefined;
      if (!column || !span) return c;
      const bounds = spanConditions(column.logicalName, span, !!column.dateOnly);
      return bounds.length === 1 ? bounds[0]! : { and: bounds };
    };
    const inner = leaves
      .map((l): Condition => {
        const asMeant = conditionAsMeant({ ...l, column: l.column.slice(l.column.indexOf('/') + 1) });
        const c = columnOf(asMeant.column)?.type === 'DateTime' ? periodsAsDays(asMeant, fiscal) : asMeant;
        if ('or' in c) return c;
        const values = Array.isArray(c.value) ? c.value : [];
        // "in" and "between" are query functions in Dataverse, which are not documented inside any()
        if (c.op === 'in') return { or: values.map((value) => ({ column: c.column, op: 'eq', value })) };
        if (c.op === 'between' && values.length === 2)
          return {
            and: [
              { column: c.column, op: 'ge', value: values[0] },
              { column: c.column, op: 'le', value: values[1] },
            ],
          };
        return c;
      })
      .map(inDays);
    const body = await this.node(
      inner.length === 1 ? inner[0]! : kind === 'and' ? { and: inner } : { or: inner },
      target,
      depth + 1,
      false,
      seen,
    );
    return quantifier === 'none'
      ? this.lambda('all', relation, { kind: 'not', operand: body, pos: 0 }, seen)
      : this.lambda('any', relation, body, seen);
  }

  /** The lookups (by column) and, from the queried table, related lists a condition may follow from a table. */
  private followable(entity: EntityModel, withLists: boolean): string[] {
    const follows = (n: string) => this.follows?.(entity.logicalName, n) ?? true;
    const lookups = [...entity.singleNavs.values()]
      .filter((n) => follows(n.navigationProperty))
      .map((n) => n.attribute);
    const lists = withLists ? [...entity.collectionNavs.values()].map((n) => n.navigationProperty).filter(follows) : [];
    return [...new Set([...lookups, ...lists])];
  }

  private async resolve(entity: EntityModel, column: string): Promise<Resolved> {
    const parts = column.split('/').map((p) => p.trim());
    let current = entity;
    const segments: string[] = [];
    const lookups: string[] = [];
    for (const [i, p] of parts.slice(0, -1).entries()) {
      // (or the lookup and its table as one name: customerid_account, primarycontactid_contact)
      const nav = current.singleNavs.get(p.toLowerCase()) ?? navToTable(current, p);
      // a related list reached through a lookup (a contact's account's cases): Dataverse's any() and all() take
      // the queried table's own lists only (FILTER), so it is two queries, said as such
      const list = !nav && i > 0 ? current.collectionNavs.get(p.toLowerCase()) : undefined;
      if (list)
        throw badInput(
          `'${p}' is a related list of ${current.logicalName}, reached through ${lookups.join('/')}: Dynamics filters by the related lists of ${entity.logicalName} itself, not of a record it points at.`,
          `Ask in two steps: query_entities on ${current.logicalName} with where {"${p}": {"some": <the same conditions>}} for their ids, then on ${entity.logicalName} with {"${lookups[0]}": {"in": [<those ids>]}}.`,
        );
      if (!nav) {
        // a customer or owner lookup points at several tables, one relationship each (customerid →
        // customerid_account, customerid_contact): name them rather than send the model to look
        const rest = parts.slice(i + 1);
        const navs = navsOf(current, p);
        // only those the policy follows are offered: one it refuses would be the model's next dead end
        const via: string[] = [];
        for (const n of navs.filter((n) => this.follows?.(current.logicalName, n.navigationProperty) ?? true)) {
          const column =
            rest.length === 1 ? ((await columnOn(this.models, n.target, rest[0]!)) ?? rest[0]) : rest.join('/');
          via.push(`'${n.navigationProperty}/${column}' (${n.target})`);
        }
        const usable = this.followable(current, false);
        if (navs.length > 1)
          throw badInput(
            `'${p}' of ${current.logicalName} can point at ${navs.length} tables, so it cannot be followed by itself.`,
            via.length > 1
              ? `Follow one of its relationships: ${via.join(' or ')}; for either, group them with "or".`
              : via.length
                ? `Follow its relationship ${via[0]}, the one this server's policy follows.`
                : `This server's policy follows none of its relationships (${navs.map((n) => n.navigationProperty).join(', ')}); conditions on ${current.logicalName} can use its own columns${usable.length ? ` and ${usable.join(', ')}` : ''}.`,
          );
        // a misspelt or re-cased name ("account_activity_pointers"): the names it may have meant, of those the
        // policy follows (a related list only from the queried table, as above)
        const names = closest(p, this.followable(current, i === 0));
        // or named from the other table ("contact_customer_accounts" on a contact): the way from this one
        const other = await fromOtherSide(this.models, current, p, {
          offered: (t) => this.offered?.(t) ?? true,
          follows: (t, n) => this.follows?.(t, n) ?? true,
        });
        const named = other && (i === 0 || !other.navs.some((n) => current.collectionNavs.has(n.toLowerCase())));
        // one lookup from this table: the same relationship, read as it
        const meant = other?.navs.length === 1 ? current.singleNavs.get(other.navs[0]!.toLowerCase()) : undefined;
        if (meant) {
          segments.push(meant.navigationProperty);
          lookups.push(i === 0 ? meant.attribute : meant.navigationProperty);
          current = await this.models.entity(meant.target);
          continue;
        }
        throw badInput(
          `'${p}' is not a lookup${i === 0 ? ' or related list' : ''} of ${current.logicalName} that can be followed.`,
          named
            ? `${other.hint}${other.navs.length === 1 ? ` Write the path from ${current.logicalName}: '${other.navs[0]}/${rest.join('/')}'.` : ''}`
            : `${names.length ? `Did you mean: ${names.join(', ')}? ` : ''}Call describe_entity('${current.logicalName}') for its lookups${i === 0 ? ' and relationships' : ''}.`,
        );
      }
      segments.push(nav.navigationProperty);
      lookups.push(i === 0 ? nav.attribute : nav.navigationProperty);
      current = await this.models.entity(nav.target);
    }
    const last = parts[parts.length - 1]!;
    const m = /^_(.+)_value$/i.exec(last);
    const col =
      current.columns.get((m ? m[1]! : last).toLowerCase()) ??
      (m ? undefined : columnLabelled(current, last)) ??
      // "name" of a related record is its primary name where its table has no column of that name (a
      // user's, a contact's: fullname), as for a customer lookup's tables (targets.ts)
      (segments.length && last.toLowerCase() === 'name' && current.primaryNameAttribute
        ? current.columns.get(current.primaryNameAttribute)
        : undefined);
    // unknown names pass through unresolved: the policy check names the closest real columns
    if (!col)
      return {
        segments: [...segments, last],
        column: {
          logicalName: last,
          type: 'String',
          label: last,
          requiredLevel: 'None',
          validForCreate: true,
          validForRead: true,
          validForUpdate: true,
        },
        entity: current.logicalName,
      };
    segments.push(isLookupType(col.type) ? `_${col.logicalName}_value` : col.logicalName);
    return { segments, column: col, entity: current.logicalName, model: current };
  }

  /** `<lookup path>/<name column>` for each table a lookup can point at: parentaccountid/name. */
  private async namePaths(column: string, model: EntityModel, col: ColumnModel): Promise<string[]> {
    const prefix = column.split('/').slice(0, -1).join('/');
    const paths: string[] = [];
    for (const nav of navsOf(model, col.logicalName)) {
      const target = await this.models.entity(nav.target).catch(() => undefined);
      if (target?.primaryNameAttribute)
        paths.push([prefix, nav.navigationProperty, target.primaryNameAttribute].filter(Boolean).join('/'));
    }
    return paths;
  }

  /**
   * An EntityName column (ActivityPointer's activitytypecode) holds a table's logical name, and compared with
   * anything else it matches nothing, silently: "Phone Call" or "phonecalls" would count no calls. Each value
   * is read as the table it names (logical name, entity set, display name singular or plural); one that names
   * no table is refused.
   */
  private async tablesNamed(c: Leaf, r: Resolved): Promise<Leaf> {
    // the kinds the policy shows, asked once for the condition (a list of values shares them)
    const shown = c.op === 'eq' || c.op === 'in' ? await this.rowsOf?.(r.entity) : undefined;
    const one = async (v: Scalar): Promise<Scalar> => {
      if (typeof v !== 'string') return v;
      const called = (await this.models.tablesCalled?.(v).catch(() => [])) ?? [];
      const table =
        (await this.models.resolveEntityName(v).catch(() => undefined)) ??
        (called.length === 1 ? called[0]!.logicalName : undefined);
      if (table) {
        // "the letters on this account" where the policy shows no letters: said, rather than none found
        if (shown?.column === r.column.logicalName && !shown.value.includes(table))
          throw policyError(
            `${r.entity} shows only the kinds of activity this server's policy lets you read (${shown.value.join(', ')}); '${v}' (${table}) is not one of them.`,
            'Ask for one of those kinds; an administrator decides which tables the policy lists.',
          );
        return table;
      }
      throw badInput(
        `${r.entity}.${r.column.logicalName} holds a table's logical name (task, phonecall, email, appointment …); '${v}' names no table.`,
        'Use the logical name: a phone call is phonecall, a meeting appointment. describe_entity without arguments lists the tables.',
      );
    };
    const value = Array.isArray(c.value)
      ? await Promise.all(c.value.map(one))
      : c.value == null
        ? c.value
        : await one(c.value);
    return { ...c, value } as Leaf;
  }

  private async leaf(
    given: { column: string; op: ConditionOp; value?: Scalar | Scalar[] },
    entity: EntityModel,
  ): Promise<Expr> {
    let c = conditionAsMeant(given);
    if (typeof c.column !== 'string' || !c.column)
      throw badInput('A condition needs a "column".', 'e.g. { "column": "name", "op": "eq", "value": "Contoso" }.');
    const r = await this.resolve(entity, c.column);
    // SQL's and globs' wildcards with eq ("Contoso*", "%energy%"): the text operator they mean
    if (r.column.type === 'String' || r.column.type === 'Memo') c = wildcardsAsOperator(c);
    // an activity's kind (activitytypecode) by the table's name as people say it: "Phone Call" is phonecall
    if (r.column.type === 'EntityName' && TABLE_NAME_OPS.has(c.op)) c = await this.tablesNamed(c, r);
    // "closing before next month", "between this month and next quarter": a period's first or last day
    if (r.column.type === 'DateTime') {
      const calendar = namesCalendarPeriod(c.value) ? await this.fiscalYearOf() : fiscalYear(1);
      const meant = wholeDays(periodsAsDays(c, calendar), !!r.column.dateOnly);
      if ('or' in meant || 'and' in meant) {
        const [kind, items] = 'or' in meant ? (['or', meant.or] as const) : (['and', meant.and] as const);
        return { kind, operands: await Promise.all(items.map((l) => this.leaf(l, entity))), pos: 0 };
      }
      c = meant;
    }
    // "createdon is 'last 30 days'": a period in the words the date operators are named for
    const period = r.column.type === 'DateTime' && c.op === 'eq' ? periodInWords(c.value) : undefined;
    if (period) c = { ...c, ...period };
    // "due: overdue" ({"scheduledend": "overdue"}): before now, or before today for a column that holds a day
    if (r.column.type === 'DateTime' && c.op === 'eq' && typeof c.value === 'string' && OVERDUE.test(c.value.trim()))
      c = { ...c, op: 'lt', value: r.column.dateOnly ? 'today' : 'now' };
    // "closing this quarter", "created in the last 6 months": on or after the first day and on or before the
    // last, whole days as ge/le say them
    const quarter =
      r.column.type === 'DateTime' && c.op === 'eq'
        ? ((namesFiscalPeriod(c.value) ? quarterInWords(c.value, await this.fiscalYearOf()) : undefined) ??
          monthsInWords(c.value))
        : undefined;
    if (quarter)
      return {
        kind: 'and',
        operands: [
          await this.leaf({ column: c.column, op: 'ge', value: quarter.from }, entity),
          await this.leaf({ column: c.column, op: 'le', value: quarter.to }, entity),
        ],
        pos: 0,
      };
    // a lookup compared with a name instead of an id: say how to match by name through the lookup (the current
    // user's value is its words, "my team", which leafExpr reads)
    if (isLookupType(r.column.type) && r.model && c.op !== 'currentUser') {
      const text = (Array.isArray(c.value) ? c.value : [c.value]).find((v) => typeof v === 'string' && !isGuidText(v));
      const byName = text === undefined ? [] : await this.namePaths(c.column, r.model, r.column);
      if (byName.length)
        throw badInput(
          `${r.entity}.${r.column.logicalName} holds a record id, not a name; got '${String(text)}'.`,
          `To match by name, follow the lookup: {"column":"${byName[0]}","op":"${c.op}","value":${JSON.stringify(c.value)}}${byName.length > 1 ? ` (or ${byName.slice(1).join(', ')})` : ''}; or find the id with query_entities.`,
        );
    }
    return leafExpr(c, r);
  }
}
