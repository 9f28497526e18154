import type { Condition } from '../../dynamics/conditions.js';
import { type EntityModel, writtenColumn } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { compactRow } from './shape.js';

/**
 * DuplicateRuleCondition.OperatorCode (its option set), as a condition on the matching table: Exact Match (0),
 * Same First Characters (1) and Same Last Characters (2), the latter two of OperatorParam characters, Same Date
 * (3), Same Date and Time (4), Exact Match of a choice's label (5) or of its value (6).
 */
const OPERATORS: Readonly<Record<number, 'eq' | 'startswith' | 'endswith' | 'on' | 'label' | 'value'>> = {
  0: 'eq',
  1: 'startswith',
  2: 'endswith',
  3: 'on',
  4: 'eq',
  5: 'label',
  6: 'value',
};

/** The record a rule matched, in the rule's matching table (the created one's, or another: a lead's contact). */
export interface RuleHit {
  rule: string;
  entity: EntityModel;
  found: Record<string, unknown>;
}

/**
 * The record an organisation's duplicate detection rule matched, when Dynamics refused a create for it (500,
 * 0x80040333, which names none): the published rules whose base table is the created one's (DuplicateRule,
 * Active) are each looked for in their matching table with the values the create gave, compared as the rule's
 * conditions say, and the first record found is the one. Rules of other kinds, values not given, or columns
 * the policy keeps from the model are passed over; undefined when none finds a record (the refusal then stands
 * as it is).
 */
export async function recordMatchedByRule(
  ctx: Pick<ToolContext, 'client' | 'policy' | 'signal'>,
  model: EntityModel,
  values: Record<string, unknown>,
  /** the record being updated, which its own values match */
  exceptId?: string,
): Promise<RuleHit | undefined> {
  const readable = (e: string, cols: string[]) => cols.every((c) => ctx.policy.canRead(e, c));
  if (
    !readable('duplicaterule', ['duplicateruleid', 'name', 'baseentityname', 'statecode']) ||
    !readable('duplicaterulecondition', [
      'baseattributename',
      'matchingattributename',
      'operatorcode',
      'regardingobjectid',
    ])
  )
    return undefined;
  const opts = { signal: ctx.signal, internal: true };
  const rules = await ctx.client.query(
    {
      entity: 'duplicaterule',
      select: ['duplicateruleid', 'name', 'matchingentityname', 'excludeinactiverecords'].filter((c) =>
        ctx.policy.canRead('duplicaterule', c),
      ),
      where: {
        and: [
          { column: 'baseentityname', op: 'eq', value: model.logicalName },
          { column: 'statecode', op: 'eq', value: 1 },
        ],
      },
      top: 50,
    },
    opts,
  );
  if (!rules.rows.length) return undefined;
  const conditions = await ctx.client.query(
    {
      entity: 'duplicaterulecondition',
      select: [
        'baseattributename',
        'matchingattributename',
        'operatorcode',
        'operatorparam',
        'regardingobjectid',
      ].filter((c) => ctx.policy.canRead('duplicaterulecondition', c)),
      where: { column: 'regardingobjectid', op: 'in', value: rules.rows.map((r) => String(r.duplicateruleid)) },
      top: 500,
    },
    opts,
  );
  // the values given, by the column each key names (a logical name or a label)
  const given = new Map<string, string | number>();
  for (const [k, v] of Object.entries(values)) {
    const column = writtenColumn(model, k);
    if (column && typeof v === 'string' && v.trim()) given.set(column.logicalName, v.trim());
    else if (column && typeof v === 'number') given.set(column.logicalName, v);
  }
  for (const rule of rules.rows) {
    const matching = typeof rule.matchingentityname === 'string' ? rule.matchingentityname : model.logicalName;
    const target =
      matching === model.logicalName ? model : await ctx.client.checker.entity(matching).catch(() => undefined);
    const own = conditions.rows.filter((c) => c._regardingobjectid_value === rule.duplicateruleid);
    const where = target && own.length ? own.map((c) => conditionFor(c, given, model)) : [];
    if (
      !target ||
      !where.length ||
      !where.every((w): w is Condition & { column: string } => !!w && ctx.policy.canRead(target.logicalName, w.column))
    )
      continue;
    if (rule.excludeinactiverecords === true && ctx.policy.canRead(target.logicalName, 'statecode'))
      where.push({ column: 'statecode', op: 'eq', value: 0 });
    if (exceptId && target.logicalName === model.logicalName)
      where.push({ column: model.primaryIdAttribute, op: 'ne', value: exceptId });
    const columns = where.map((w) => w.column);
    const page = await ctx.client.query(
      {
        entity: target.logicalName,
        select: [target.primaryNameAttribute, ...columns].filter(
          (c, i, all) => c && all.indexOf(c) === i && ctx.policy.canRead(target.logicalName, c),
        ),
        where: { and: where },
        top: 1,
      },
      opts,
    );
    if (page.rows[0]) return { rule: String(rule.name), entity: target, found: compactRow(target, page.rows[0]) };
  }
  return undefined;
}

/** One rule condition as a condition on the matching table, with the value the create gave; undefined if it cannot be. */
function conditionFor(
  c: Record<string, unknown>,
  given: ReadonlyMap<string, string | number>,
  model: EntityModel,
): (Condition & { column: string }) | undefined {
  const op = OPERATORS[Number(c.operatorcode)];
  const value = given.get(String(c.baseattributename));
  const column = c.matchingattributename;
  if (!op || value === undefined || typeof column !== 'string' || !column) return undefined;
  if (op === 'eq') return { column, op, value };
  if (op === 'on') {
    // the day the create gave, as the emulator compares it (a date, or the UTC day of a date and time)
    const t = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    return Number.isNaN(t) ? undefined : { column, op, value: new Date(t).toISOString().slice(0, 10) };
  }
  if (op === 'label' || op === 'value') {
    // a choice given by label or number, compared by the one the rule says: the matching table's own labels
    // (or numbers) are what its column is compared with
    const options = model.columns.get(String(c.baseattributename))?.options ?? [];
    const option =
      typeof value === 'number'
        ? options.find((o) => o.value === value)
        : options.find((o) => o.label.toLowerCase() === value.toLowerCase());
    if (!option) return undefined;
    return { column, op: 'eq', value: op === 'label' ? option.label : option.value };
  }
  // the first or last characters: how many is the condition's OperatorParam, which must be read to be known
  const n = Number(c.operatorparam);
  if (!Number.isInteger(n) || n < 1) return undefined;
  const text = String(value);
  // a value shorter than that is compared whole, as its first (or last) characters are all of it
  if (text.length <= n) return { column, op: 'eq', value: text };
  return { column, op, value: op === 'startswith' ? text.slice(0, n) : text.slice(-n) };
}
