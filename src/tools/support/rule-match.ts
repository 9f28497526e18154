import type { Condition } from '../../dynamics/conditions.js';
import { type EntityModel, writtenColumn } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { compactRow } from './shape.js';

/** DuplicateRuleCondition.OperatorCode: Exact Match, the one compared here */
const EXACT_MATCH = 0;

/**
 * The record an organisation's duplicate detection rule matched, when Dynamics refused a create for it (500,
 * 0x80040333, which names none): the published rules for the table (DuplicateRule, Active) whose conditions
 * all compare a field with itself by Exact Match are each looked for with the values the create gave, and
 * the first record found is the one. Rules of other kinds, values not given, or columns the policy keeps from
 * the model are passed over; undefined when none finds a record (the refusal then stands as it is).
 */
export async function recordMatchedByRule(
  ctx: Pick<ToolContext, 'client' | 'policy' | 'signal'>,
  model: EntityModel,
  values: Record<string, unknown>,
): Promise<{ rule: string; found: Record<string, unknown> } | undefined> {
  const readable = (e: string, cols: string[]) => cols.every((c) => ctx.policy.canRead(e, c));
  if (
    !readable('duplicaterule', ['duplicateruleid', 'name', 'baseentityname', 'matchingentityname', 'statecode']) ||
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
      select: ['duplicateruleid', 'name', 'excludeinactiverecords'].filter((c) =>
        ctx.policy.canRead('duplicaterule', c),
      ),
      where: {
        and: [
          { column: 'baseentityname', op: 'eq', value: model.logicalName },
          { column: 'matchingentityname', op: 'eq', value: model.logicalName },
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
      select: ['baseattributename', 'matchingattributename', 'operatorcode', 'regardingobjectid'],
      where: { column: 'regardingobjectid', op: 'in', value: rules.rows.map((r) => String(r.duplicateruleid)) },
      top: 500,
    },
    opts,
  );
  // the values given, by the column each key names (a logical name or a label)
  const given = new Map<string, unknown>();
  for (const [k, v] of Object.entries(values)) {
    const column = writtenColumn(model, k);
    if (column && (typeof v === 'string' ? v.trim() : typeof v === 'number')) given.set(column.logicalName, v);
  }
  for (const rule of rules.rows) {
    const own = conditions.rows.filter((c) => c._regardingobjectid_value === rule.duplicateruleid);
    const columns = own.map((c) => String(c.baseattributename));
    if (
      !own.length ||
      own.some((c) => c.operatorcode !== EXACT_MATCH || c.matchingattributename !== c.baseattributename) ||
      !columns.every((c) => given.has(c) && ctx.policy.canRead(model.logicalName, c))
    )
      continue;
    const where: Condition[] = columns.map((c) => ({ column: c, op: 'eq', value: given.get(c) as string | number }));
    if (rule.excludeinactiverecords === true && ctx.policy.canRead(model.logicalName, 'statecode'))
      where.push({ column: 'statecode', op: 'eq', value: 0 });
    const page = await ctx.client.query(
      {
        entity: model.logicalName,
        select: [model.primaryNameAttribute, ...columns].filter(
          (c, i, all) => c && all.indexOf(c) === i && ctx.policy.canRead(model.logicalName, c),
        ),
        where: { and: where },
        top: 1,
      },
      opts,
    );
    if (page.rows[0]) return { rule: String(rule.name), found: compactRow(model, page.rows[0]) };
  }
  return undefined;
}
