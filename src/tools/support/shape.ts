import type { Row } from '../../dynamics/client.js';
import {
  FileBlocks,
  FileGone,
  fileBodyOf,
  filesListedOf,
  fileText,
  isFileBody,
  markBlocks,
} from '../../dynamics/file-columns.js';
import { isPartyList } from '../../dynamics/party-lists.js';
import { CHOICE_TYPES, type ColumnModel, type EntityModel, isChoices, writtenColumn } from '../../policy/model.js';

/** The key suffix of a value's formatted form (a choice's label, a lookup's name) in a Web API row. */
export const FORMATTED = '@OData.Community.Display.V1.FormattedValue';
const LOGICAL = '@Microsoft.Dynamics.CRM.lookuplogicalname';

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
 * What to do with one key of a row, worked out once per table and key: every row of a page has the same
 * keys, and the regular expression, the annotation names and the column look-ups cost more than copying
 * the value (a 50-row page went from ~80 µs to ~23 µs).
 */
interface KeyPlan {
  /** an OData annotation, the etag, or the primary key (which goes first as `id`) */
  skip: boolean;
  /** the column the policy is asked about and the output is named after (`_x_value` → `x`) */
  column: string;
  lookup: boolean;
  /** a choice whose label reads "Label (value)" */
  labelled: boolean;
  /** a choices column (several options): its options, to read "1,9" as "Swimming (1); Camping (9)" */
  choices?: ColumnModel;
  /** the lookup names its table: polymorphic lookups (customer, owner) */
  namesTable: boolean;
  /** a file's Base64 (a note's documentbody), read as the text it holds: the column of its MIME type, if any */
  fileOf?: { mimetype: string };
  formattedKey: string;
  logicalKey: string;
}

const plans = new WeakMap<EntityModel, Map<string, KeyPlan>>();
/** Dataverse sends a bounded set of keys per table; a cap keeps a misbehaving service from growing the cache */
const MAX_PLANNED_KEYS = 4096;

function planKey(model: EntityModel, key: string): KeyPlan {
  let byKey = plans.get(model);
  if (!byKey) {
    byKey = new Map();
    plans.set(model, byKey);
  }
  const known = byKey.get(key);
  if (known) return known;
  const lookupOf = /^_(.+)_value$/.exec(key);
  const column = lookupOf ? lookupOf[1]! : key;
  const col = model.columns.get(column);
  const plan: KeyPlan = {
    skip: key.includes('@') || key === model.primaryIdAttribute,
    column,
    lookup: !!lookupOf,
    labelled: !lookupOf && !!col && (CHOICE_TYPES.has(col.type) || namedYesNo(col)),
    choices: !lookupOf && col && isChoices(col) ? col : undefined,
    namesTable: (col?.targets?.length ?? 0) !== 1,
    fileOf: !lookupOf && isFileBody(model.logicalName, key) ? fileBodyOf(model.logicalName) : undefined,
    formattedKey: `${key}${FORMATTED}`,
    logicalKey: `${key}${LOGICAL}`,
  };
  if (byKey.size < MAX_PLANNED_KEYS) byKey.set(key, plan);
  return plan;
}

/**
 * A yes/no column whose two values have names of their own (a call's Direction is Outgoing or Incoming):
 * `directioncode: true` does not say which, so it reads as a choice does, "Outgoing (true)". Plain Yes/No
 * columns stay true/false.
 */
function namedYesNo(col: ColumnModel): boolean {
  if (col.type !== 'Boolean' || col.options?.length !== 2) return false;
  const labels = col.options.map((o) => o.label.toLowerCase());
  return !(labels.includes('yes') && labels.includes('no'));
}

/** A column of the table that the policy lets the model read (a policy with "*" allows any name). */
const known = (model: EntityModel, key: string, readable: Readable) =>
  model.columns.has(key) && readable(model.logicalName, key);

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
  for (const key of Object.keys(row)) {
    const value = row[key];
    if (value === null || value === undefined) continue;
    const plan = planKey(model, key);
    if (plan.skip) continue;
    // a file too large to read whole: the part read, as text; or one deleted before it was read (file-reads.ts)
    if (value instanceof FileBlocks || value instanceof FileGone) {
      if (plan.fileOf && (!readable || readable(model.logicalName, plan.column))) {
        const { text, shown } = value.read(row[plan.fileOf.mimetype]);
        out[key] = text;
        if (shown) markBlocks(out, key, shown);
      }
      continue;
    }
    if (Array.isArray(value)) {
      const nav = model.collectionNavs.get(key.toLowerCase());
      const target = nav && resolveModel?.(nav.referencingEntity);
      if (target) out[key] = value.map((v) => compactRow(target, v as Row, resolveModel, readable));
      // under a policy, what is neither a relationship we know nor a readable column is not handed over
      else if (!readable || known(model, key, readable)) out[key] = value as CompactRow[];
      continue;
    }
    if (typeof value === 'object') {
      const nav = model.singleNavs.get(key.toLowerCase());
      const target = nav && resolveModel?.(nav.target);
      if (target) out[key] = compactRow(target, value as Row, resolveModel, readable);
      else if (!readable || known(model, key, readable)) out[key] = value as CompactRow;
      continue;
    }
    if (readable && !readable(model.logicalName, plan.column)) continue;
    if (plan.lookup) {
      const ref: { id: string; name?: string; entity?: string } = { id: String(value) };
      const name = row[plan.formattedKey];
      if (typeof name === 'string') ref.name = name;
      const entity = plan.namesTable ? row[plan.logicalKey] : undefined;
      if (typeof entity === 'string') ref.entity = entity;
      out[plan.column] = ref;
      continue;
    }
    if (plan.fileOf && typeof value === 'string') {
      out[key] = fileText(value, row[plan.fileOf.mimetype]);
      continue;
    }
    if (plan.choices && typeof value === 'string') {
      out[key] = choicesRead(plan.choices, value, row[plan.formattedKey]);
      continue;
    }
    if (plan.labelled && (typeof value === 'number' || typeof value === 'boolean')) {
      const label = row[plan.formattedKey];
      // the label for reading, the number for filtering or writing back, in one short string
      if (typeof label === 'string') {
        out[key] = `${label} (${value})`;
        continue;
      }
    }
    out[key] = value as string | number | boolean;
  }
  return out;
}

/**
 * A choices column's options as a choice reads, "Label (value)", separated as Dynamics formats them: "Swimming
 * (1); Camping (9)" says what each is and is what update_record takes back. A value the metadata does not list
 * (an option added since it was read) takes its label from the formatted value, where the two line up.
 */
function choicesRead(col: ColumnModel, value: string, formatted: unknown): string {
  const values = value.split(',').map((v) => v.trim());
  const labels = typeof formatted === 'string' ? formatted.split('; ') : [];
  return values
    .map((v, i) => {
      const label =
        col.options?.find((o) => String(o.value) === v)?.label ??
        (labels.length === values.length ? labels[i] : undefined);
      return label ? `${label} (${v})` : v;
    })
    .join('; ');
}

/**
 * The selected columns that no row has a value in, as a sentence (or ''). Rows leave empty columns out, so a
 * column asked for and missing would read as one the server kept back, and the model asks again or says it
 * cannot see it; a column the policy keeps back is refused before the query, never left out.
 */
export function emptySelectedNote(
  model: EntityModel,
  select: readonly string[] | undefined,
  rows: CompactRow[],
): string {
  if (!select?.length || !rows.length) return '';
  const empty = new Set<string>();
  for (const s of select) {
    // a related record's column ("parentaccountid/telephone1") is in its own object
    const col = s.includes('/') ? undefined : writtenColumn(model, s);
    // who was on a call ("to") is read as its parties, under their relationship: never a column of the row
    if (!col || col.logicalName === model.primaryIdAttribute || isPartyList(col)) continue;
    if (!rows.some((r) => r[col.logicalName] !== undefined)) empty.add(col.logicalName);
  }
  if (!empty.size) return '';
  const list = [...empty].join(', ');
  return rows.length === 1 ? ` Empty: ${list}.` : ` Empty in every row: ${list}.`;
}

/**
 * Records that carry a file, read without it (a file is read only when asked for: file-columns.ts), as a
 * sentence saying how to read it (or ''): "what did the customer send?" is answered from the file, not its
 * name. Only counted: a file's name is the record's data, which stays inside the fence. Not said where the
 * policy keeps the file itself back.
 */
export function unreadFilesNote(
  model: EntityModel,
  rows: CompactRow[],
  readable: Readable,
  follows: (entity: string, navigation: string) => boolean,
): string {
  const shown = (table: string) => {
    const file = fileBodyOf(table);
    return file && readable(table, file.body) ? file : undefined;
  };
  const file = shown(model.logicalName);
  const unreadIn = (list: CompactRow[], f: { body: string; filename: string }) =>
    list.filter((r) => r[f.body] === undefined && r[f.filename] !== undefined).length;
  const unread = file ? unreadIn(rows, file) : 0;
  if (file && unread) {
    const which = rows.length === 1 ? 'It has a file' : unread === 1 ? 'One has a file' : `${unread} have files`;
    return ` ${which}: select ${file.body} to read ${unread === 1 ? 'it' : 'them'} (a text file as its text).`;
  }
  // in a related list expanded (a case's notes): read through the list, or one at a time
  for (const [key, nav] of model.collectionNavs) {
    const listed = shown(nav.referencingEntity);
    if (!listed) continue;
    const lists = rows.map((r) => r[nav.navigationProperty] ?? r[key]).filter((l) => Array.isArray(l));
    const n = lists.reduce((sum, l) => sum + unreadIn(l as CompactRow[], listed), 0);
    if (n)
      return ` ${n === 1 ? 'One' : n} of the ${nav.navigationProperty} rows ${n === 1 ? 'has a file' : 'have files'}: to read ${n === 1 ? 'it' : 'them'}, give that expand item "select": ["${listed.body}"], or get_record the ${nav.referencingEntity} with that select.`;
  }
  // counted but not listed (an email's attachmentcount): where the files are, and how to read them with it
  const counted = filesListedOf(model.logicalName);
  const list = counted && model.collectionNavs.get(counted.list.toLowerCase());
  if (!counted || !list || !follows(model.logicalName, list.navigationProperty)) return '';
  const listed = shown(list.referencingEntity);
  const n = rows.filter((r) => Number(r[counted.count]) > 0 && r[list.navigationProperty] === undefined).length;
  if (!listed || !n) return '';
  const select = `["${listed.filename}", "${listed.body}"]`;
  if (rows.length === 1)
    return ` It has attached files: to read them, expand ${list.navigationProperty} with "select": ${select}.`;
  // several: their files in one query (five a page), not each email a page with its list (pageSizeReadingFiles)
  const which = n === 1 ? 'One has' : `${n} have`;
  const by = list.referencingAttribute;
  return readable(list.referencingEntity, by)
    ? ` ${which} attached files: to read them, query_entities on ${list.referencingEntity} with where {"${by}": {"in": [${n === 1 ? 'its id' : 'their ids'}]}} and select ${select}.`
    : ` ${which} attached files: to read them, expand ${list.navigationProperty} with "select": ${select}.`;
}

/** The record in the Dynamics web UI (model-driven app). */
export function recordUrl(dynamicsUrl: string, entity: string, id: string): string {
  return `${dynamicsUrl}/main.aspx?pagetype=entityrecord&etn=${encodeURIComponent(entity)}&id=${encodeURIComponent(id)}`;
}
