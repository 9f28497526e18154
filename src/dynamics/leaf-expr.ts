import { badInput } from '../errors.js';
import type { Expr, Literal } from '../odata/ast.js';
import { type ColumnModel, type EntityModel, isChoices, NUMERIC_TYPES } from '../policy/model.js';
import { choicesValues, refuseChoiceOrderedByLabel, type Scalar, toLiteral } from './coerce.js';
import { type ConditionOp, escapeLike, type Leaf, unknownOpHint } from './condition-words.js';
import { callerTokens, teamsMeant, theAppIsNotYou } from './obo.js';

const DATE_FUNCTIONS: Partial<Record<ConditionOp, string>> = {
  on: 'On',
  onOrAfter: 'OnOrAfter',
  onOrBefore: 'OnOrBefore',
  lastXDays: 'LastXDays',
  nextXDays: 'NextXDays',
  olderThanXDays: 'OlderThanXDays',
  today: 'Today',
  yesterday: 'Yesterday',
  tomorrow: 'Tomorrow',
  thisWeek: 'ThisWeek',
  lastWeek: 'LastWeek',
  nextWeek: 'NextWeek',
  thisMonth: 'ThisMonth',
  lastMonth: 'LastMonth',
  nextMonth: 'NextMonth',
  thisYear: 'ThisYear',
  lastYear: 'LastYear',
  nextYear: 'NextYear',
};

/** Two ends of a range, written as a value of the column's type is. */
function rangeExample(type: string): string {
  if (type === 'DateTime') return '["2026-01-01", "2026-03-31"]';
  return NUMERIC_TYPES.has(type) ? '[10, 20]' : '["A", "C"]';
}

/** FUNC: a query function's PropertyValues, written as strings in the documented JSON form (['2']). */
function asStrings(values: (Literal | number)[]): Expr {
  return {
    kind: 'list',
    items: values.map((v) => ({
      kind: 'literal',
      type: 'string',
      value: String(typeof v === 'number' ? v : v.value),
      pos: typeof v === 'number' ? 0 : v.pos,
    })),
    pos: 0,
  };
}

/** A condition's column, resolved against metadata: the path sent, and the column it ends at. */
export interface Resolved {
  segments: string[];
  column: ColumnModel;
  entity: string;
  /** the table that holds the column (absent for a name that is no column: the policy check names it) */
  model?: EntityModel;
}

/**
 * One condition as OData, its column resolved: the comparison, string function or Dataverse query function its
 * operator names, with every literal typed for the column (toLiteral). The words around it (periods, quarters,
 * names for lookups) are read before this, by the ConditionBuilder.
 */
export function leafExpr(c: Leaf, r: Resolved): Expr {
  const path: Expr = { kind: 'path', segments: r.segments, pos: 0 };
  // a query function names a column by its logical name, a lookup as itself (ownerid, not _ownerid_value), as
  // FetchXML's condition attribute does: its PropertyName is not an OData property path
  const name = r.segments.length === 1 ? r.column.logicalName : r.segments.join('/');
  const literal = (v: Scalar): Literal => toLiteral(r.column, v, r.entity);
  const one = (): Literal => {
    if (Array.isArray(c.value) && c.value.length === 2 && ['gt', 'ge', 'lt', 'le'].includes(c.op))
      throw badInput(
        `"${c.op}" on ${c.column} takes one value, not a list of 2.`,
        `For a range: {"${c.column}": {"between": ${JSON.stringify(c.value)}}} (both ends included), or {"${c.column}": {"ge": …, "lt": …}}.`,
      );
    if (Array.isArray(c.value) && c.value.length > 1) {
      // {"contains": ["printer", "invoice"]}: any of them, or all of them, said as the groups that ask it
      const each = c.value
        .slice(0, 3)
        .map((v) => JSON.stringify({ [c.column]: { [c.op]: v } }))
        .join(', ');
      const more = c.value.length > 3 ? ', …' : '';
      throw badInput(
        `"${c.op}" on ${c.column} takes one value, not a list of ${c.value.length}.`,
        `For any of them: {"or": [${each}${more}]}; for all of them, the same under "and".`,
      );
    }
    if (c.value === undefined || Array.isArray(c.value))
      throw badInput(`"${c.op}" on ${c.column} needs a single "value".`, 'Pass one value.');
    return literal(c.value);
  };
  const many = (n?: number): Literal[] => {
    if (!Array.isArray(c.value) || c.value.length === 0 || (n !== undefined && c.value.length !== n))
      throw badInput(
        `"${c.op}" on ${c.column} needs a list of ${n ?? 'one or more'} values.`,
        `e.g. {"column": "${c.column}", "op": "${c.op}", "value": ${n === 2 ? rangeExample(r.column.type) : '["a", "b"]'}}.`,
      );
    return c.value.map(literal);
  };
  const fn = (fname: string, params: Record<string, Expr>): Expr => ({
    kind: 'function',
    name: fname,
    params: { PropertyName: { kind: 'literal', type: 'string', value: name, pos: 0 }, ...params },
    pos: 0,
  });
  const eachOf = (kind: 'and' | 'or', op: 'eq' | 'ne', values: Literal[]): Expr => {
    const each = values.map((v): Expr => ({ kind: 'compare', op, left: path, right: v, pos: 0 }));
    return each.length === 1 ? each[0]! : { kind, operands: each, pos: 0 };
  };
  if (isChoices(r.column)) return choicesExpr(c, r, path, fn);
  switch (c.op) {
    case 'eq':
    case 'ne':
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      refuseChoiceOrderedByLabel(c, r.column);
      const value = one();
      // gt null is no comparison Dataverse can make: nothing would be found, and the model told nothing
      if (value.type === 'null' && c.op !== 'eq' && c.op !== 'ne')
        throw badInput(
          `"${c.op}" on ${c.column} compares with a value, and null is none.`,
          `For records with a value: {"${c.column}": {"notNull": true}}; with none: {"${c.column}": null}.`,
        );
      // a day compared with a date and time means the whole day: "created on 2026-11-20" (eq) is every
      // record of that day, not only those stamped exactly at midnight, and le includes the day. Said
      // with Dataverse's day functions (On, OnOrAfter, OnOrBefore), which compare whole days and cannot
      // be negated ("Not operator along with the Custom Named Condition operators is not allowed"): the
      // day before and the day after say gt, lt and ne
      if (value.type === 'date' && r.column.type === 'DateTime' && !r.column.dateOnly) {
        const shift = (days: number): Literal => {
          const d = new Date(`${String(value.value)}T00:00:00Z`);
          d.setUTCDate(d.getUTCDate() + days);
          return { ...value, value: d.toISOString().slice(0, 10) };
        };
        const day = (f: string, v: Literal = value) => fn(f, { PropertyValue: v });
        const ops: Record<typeof c.op, () => Expr> = {
          eq: () => day('On'),
          ge: () => day('OnOrAfter'),
          le: () => day('OnOrBefore'),
          gt: () => day('OnOrAfter', shift(1)),
          lt: () => day('OnOrBefore', shift(-1)),
          ne: () => ({ kind: 'or', operands: [day('OnOrBefore', shift(-1)), day('OnOrAfter', shift(1))], pos: 0 }),
        };
        return ops[c.op]();
      }
      return { kind: 'compare', op: c.op, left: path, right: value, pos: 0 };
    }
    case 'null':
    case 'notNull':
      return {
        kind: 'compare',
        op: c.op === 'null' ? 'eq' : 'ne',
        left: path,
        right: { kind: 'literal', type: 'null', value: null, pos: 0 },
        pos: 0,
      };
    case 'contains':
    case 'notContains':
    case 'startswith':
    case 'endswith': {
      if (r.column.type !== 'String' && r.column.type !== 'Memo')
        throw badInput(
          `"${c.op}" works on text columns; ${c.column} is ${r.column.type}.`,
          'Use eq or in for other types.',
        );
      const v = escapeLike(String(one().value));
      const call: Expr = {
        kind: 'call',
        name: c.op === 'notContains' ? 'contains' : c.op,
        args: [path, { kind: 'literal', type: 'string', value: v, pos: 0 }],
        pos: 0,
      };
      return c.op === 'notContains' ? { kind: 'not', operand: call, pos: 0 } : call;
    }
    // Dataverse's query functions name a column of the table (PropertyName); through a lookup
    // (parentaccountid/name) that is not documented, so a list there is one comparison per value
    case 'in':
      return r.segments.length > 1 ? eachOf('or', 'eq', many()) : fn('In', { PropertyValues: asStrings(many()) });
    case 'notIn':
      return r.segments.length > 1 ? eachOf('and', 'ne', many()) : fn('NotIn', { PropertyValues: asStrings(many()) });
    case 'between':
      return fn('Between', { PropertyValues: asStrings(many(2)) });
    case 'notBetween':
      return fn('NotBetween', { PropertyValues: asStrings(many(2)) });
    case 'currentUser':
      // as "me" is: where this server signs in as an application, the current user is that application
      if (!callerTokens.getStore())
        throw theAppIsNotYou(
          `"currentUser" on ${c.column}`,
          'the current user',
          `compare with its name: {"${c.column}": "<full name>"}`,
        );
      // "my team" / "me or my team" (conditions.ts): the user's teams, or the user and their teams
      return fn(teamsMeant(c.value) ?? 'EqualUserId', {});
    default: {
      const f = DATE_FUNCTIONS[c.op];
      if (!f) throw badInput(`Unknown operator '${c.op}'.`, unknownOpHint(String(c.op)));
      if (r.column.type !== 'DateTime')
        throw badInput(
          `"${c.op}" works on date columns; ${c.column} is ${r.column.type}.`,
          'Use eq, gt or lt for other types.',
        );
      if (['on', 'onOrAfter', 'onOrBefore'].includes(c.op)) return fn(f, { PropertyValue: one() });
      if (c.op.endsWith('XDays')) {
        // a count given as a number or its digits: Number() reads true as 1, and false, null and "" as 0
        const given = typeof c.value === 'number' || (typeof c.value === 'string' && c.value.trim() !== '');
        const n = given ? Number(c.value) : Number.NaN;
        if (!Number.isInteger(n) || n < 0)
          throw badInput(
            `"${c.op}" needs a whole number of days as "value"; ${c.value === undefined || c.value === null ? 'none was given' : `${typeof c.value === 'string' ? `'${c.value}'` : JSON.stringify(c.value)} is not one`}.`,
            c.op === 'olderThanXDays'
              ? 'e.g. "value": 30; for months or years, {"lt": "6 months ago"}.'
              : `e.g. "value": 30; for months, op eq with "${c.op === 'nextXDays' ? 'next' : 'last'} 6 months".`,
          );
        return fn(f, { PropertyValue: { kind: 'literal', type: 'number', value: n, pos: 0 } });
      }
      return fn(f, {});
    }
  }
}

/**
 * A condition on a choices column (several options at once), in the query functions "Choices columns"
 * documents: ContainValues (has any of the values) and DoesNotContainValues (has none of them). eq and contains
 * take one option (has it), ne and notContains one (lacks it), in a list (has any), notIn a list (has none), so
 * that each one's negation is another of them; "has each of these" is an "and" of eqs, said in the refusal.
 */
function choicesExpr(c: Leaf, r: Resolved, path: Expr, fn: (name: string, params: Record<string, Expr>) => Expr): Expr {
  const where = `${r.entity}.${r.column.logicalName}`;
  if (c.op === 'null' || c.op === 'notNull' || ((c.op === 'eq' || c.op === 'ne') && c.value === null)) {
    const op = c.op === 'null' || c.op === 'eq' ? 'eq' : 'ne';
    const none: Literal = { kind: 'literal', type: 'null', value: null, pos: 0 };
    return { kind: 'compare', op, left: path, right: none, pos: 0 };
  }
  const has = ['eq', 'contains', 'in'].includes(c.op);
  if (!has && !['ne', 'notContains', 'notIn'].includes(c.op))
    throw badInput(
      `"${c.op}" does not apply to ${where}, a choices column (several of its options at once).`,
      'Use eq (has the option), ne (lacks it), in (has any of a list), notIn (has none of them), or null.',
    );
  // the documented query functions name a column of the table queried; through a lookup or a related list
  // (parentcustomerid/…, any()) their PropertyName is not documented
  if (r.segments.length > 1)
    throw badInput(
      `${c.column} is a choices column of ${r.entity}, compared only on its own table.`,
      `Query ${r.entity} with the condition, then use the records it returns.`,
    );
  const values = choicesValues(r.column, c.value, r.entity);
  if (!values.length) throw badInput(`"${c.op}" on ${c.column} needs an option.`, 'Pass a label or its number.');
  if (values.length > 1 && c.op !== 'in' && c.op !== 'notIn') {
    const labels = values.map((v) => r.column.options?.find((o) => o.value === v)?.label ?? v);
    const each = labels.map((v) => JSON.stringify({ [c.column]: { [c.op]: v } })).join(', ');
    throw badInput(
      `"${c.op}" on ${c.column} takes one option, not ${values.length}.`,
      `Records with each of them: {"and": [${each}]}; with any of them: {"${c.column}": {"in": ${JSON.stringify(labels)}}}; with none: notIn.`,
    );
  }
  return fn(has ? 'ContainValues' : 'DoesNotContainValues', { PropertyValues: asStrings(values) });
}
