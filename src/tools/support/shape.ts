import type { Row } from '../../dynamics/client.js';
import type { EntityModel } from '../../policy/model.js';

const FORMATTED = '@OData.Community.Display.V1.FormattedValue';
const LOGICAL = '@Microsoft.Dynamics.CRM.lookuplogicalname';
const LABELLED = new Set(['Picklist', 'State', 'Status']);

export type CompactValue =
  | string
  | number
  | boolean
  | { id: string; name?: string; entity?: string }
  | CompactRow[]
  | CompactRow;
export interface CompactRow {
  [column: string]: CompactValue | undefined;
}

export type Readable = (entity: string, column: string) => boolean;

/**
 * A Web API row as the model should see it: `id` first, the selected columns, choices as "Label (value)",
 * lookups as {id, name[, entity]}; OData annotations, etags and empty columns dropped. Columns the policy
 * does not let the model read (Dataverse adds some on its own, such as the currency of a money column)
 * are dropped too.
 */
export function compactRow(
  model: EntityModel,
  row: Row,
  resolveModel?: (logical: string) => EntityModel | undefined,
  readable?: Readable,
): CompactRow {
  const out: CompactRow = {};
  const pk = row[model.primaryIdAttribute];
  if (typeof pk === 'string') out.id = pk;
  for (const [key, value] of Object.entries(row)) {
    if (key.includes('@') || key === model.primaryIdAttribute || value === null || value === undefined) continue;
    const lookup = /^_(.+)_value$/.exec(key);
    if (Array.isArray(value)) {
      const nav = model.collectionNavs.get(key.toLowerCase());
      const target = nav && resolveModel?.(nav.referencingEntity);
      out[key] = target
        ? value.map((v) => compactRow(target, v as Row, resolveModel, readable))
        : (value as CompactRow[]);
      continue;
    }
    if (typeof value === 'object') {
      const nav = model.singleNavs.get(key.toLowerCase());
      const target = nav && resolveModel?.(nav.target);
      out[key] = target ? compactRow(target, value as Row, resolveModel, readable) : (value as CompactRow);
      continue;
    }
    const column = lookup ? lookup[1]! : key;
    if (readable && !readable(model.logicalName, column)) continue;
    if (lookup) {
      const col = model.columns.get(column);
      const ref: { id: string; name?: string; entity?: string } = { id: String(value) };
      const name = row[`${key}${FORMATTED}`];
      if (typeof name === 'string') ref.name = name;
      // a polymorphic lookup (customer, owner) says which table it points at
      const entity = row[`${key}${LOGICAL}`];
      if (typeof entity === 'string' && (col?.targets?.length ?? 0) !== 1) ref.entity = entity;
      out[column] = ref;
      continue;
    }
    const col = model.columns.get(key);
    const label = row[`${key}${FORMATTED}`];
    if (col && LABELLED.has(col.type) && typeof label === 'string' && typeof value === 'number') {
      // the label for reading, the number for filtering or writing back, in one short string
      out[key] = `${label} (${value})`;
      continue;
    }
    out[key] = value as string | number | boolean;
  }
  return out;
}

/** The record in the Dynamics web UI (model-driven app). */
export function recordUrl(dynamicsUrl: string, entity: string, id: string): string {
  return `${dynamicsUrl}/main.aspx?pagetype=entityrecord&etn=${encodeURIComponent(entity)}&id=${encodeURIComponent(id)}`;
}
