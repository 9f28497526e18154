import type { CompareOp, Expr } from '../odata/ast.js';
import {
  type ColumnModel,
  columnLabelled,
  type EntityModel,
  isLookupType,
  type ModelSource,
  NUMERIC_TYPES,
} from '../policy/model.js';
import type { Condition } from './conditions.js';

/** A comparison read from the other side: 'x' lt createdon is createdon gt 'x'. */
const FLIPPED: Record<CompareOp, CompareOp> = { eq: 'eq', ne: 'ne', gt: 'lt', ge: 'le', lt: 'gt', le: 'ge' };

const DAY_WORDS = /^(today|yesterday|tomorrow|now)$/i;

/** The columns Dataverse refuses to compare with text ("incompatible types"), which a where condition reads. */
const READ_AS_CONDITION = (c: ColumnModel) =>
  c.type === 'DateTime' || NUMERIC_TYPES.has(c.type) || isLookupType(c.type);

/**
 * A date, number or lookup column compared with text in the model's filter ("createdon ge '2026-11-01'",
 * "estimatedclosedate eq 'this quarter'", "scheduledend lt today", "revenue gt '5000000'", "customerid eq
 * 'Contoso Ltd'"): Dataverse refuses every such comparison ("incompatible types"), so nothing a query could mean
 * is lost by reading it as the where condition with that value does — a day, a period in words, a fiscal
 * quarter, an amount, a related record by its name — each worked out by the condition builder (conditions.ts).
 * Only the queried table's columns and those one lookup away; inside any()/all() a comparison is left as
 * written.
 */
export async function textComparedAsMeant(
  e: Expr,
  model: EntityModel,
  metadata: ModelSource,
  build: (c: Condition) => Promise<Expr>,
): Promise<Expr> {
  switch (e.kind) {
    case 'and':
    case 'or':
      return {
        ...e,
        operands: await Promise.all(e.operands.map((o) => textComparedAsMeant(o, model, metadata, build))),
      };
    case 'not':
      return { ...e, operand: await textComparedAsMeant(e.operand, model, metadata, build) };
    case 'compare': {
      const at = e.left.kind === 'path' ? 0 : e.right.kind === 'path' ? 1 : -1;
      const path = at === 0 ? e.left : e.right;
      const other = at === 0 ? e.right : e.left;
      if (at < 0 || path.kind !== 'path') return e;
      // "scheduledend lt today": the day's word without quotes, where the table has no column of that name
      const word =
        other.kind === 'path' &&
        other.segments.length === 1 &&
        DAY_WORDS.test(other.segments[0]!) &&
        !(await columnAt(model, other.segments, metadata))
          ? other.segments[0]!
          : undefined;
      const text = other.kind === 'literal' && other.type === 'string' ? String(other.value) : word;
      if (text === undefined) return e;
      const column = await columnAt(model, path.segments, metadata);
      if (!column || !READ_AS_CONDITION(column) || (word !== undefined && column.type !== 'DateTime')) return e;
      return build({ column: path.segments.join('/'), op: at === 0 ? e.op : FLIPPED[e.op], value: text });
    }
    default:
      return e;
  }
}

/** The column a path names, on the table or one lookup away; undefined for anything the check will place. */
async function columnAt(
  model: EntityModel,
  segments: string[],
  metadata: ModelSource,
): Promise<ColumnModel | undefined> {
  // a lookup as the Web API names its value (_customerid_value) is that lookup
  const own = (m: EntityModel, name: string) =>
    m.columns.get(name.toLowerCase().replace(/^_(.+)_value$/, '$1')) ?? columnLabelled(m, name);
  if (segments.length === 1) return own(model, segments[0]!);
  if (segments.length !== 2) return undefined;
  const nav = model.singleNavs.get(segments[0]!.toLowerCase());
  const target = nav ? await metadata.entity(nav.target).catch(() => undefined) : undefined;
  return target ? own(target, segments[1]!) : undefined;
}
