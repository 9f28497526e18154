import type { Schema } from '../schema/index.js';
import type { EntityDef } from '../schema/types.js';
import type { Row, Store, Value } from '../store/store.js';
import { DataverseError } from './errors.js';
import { foldText } from './filter-values.js';

/**
 * Duplicate detection (DUP, "Detect duplicate data using the Web API"): a create or update sent with
 * `MSCRM.SuppressDuplicateDetection: false` is refused when a published rule finds a matching record; without
 * the header (the Web API's default) rules are not applied. "Dataverse includes default duplicate detection
 * rules for accounts, contacts, and leads": the page's example is a lead with the same emailaddress1.
 */
export interface DuplicateRule {
  /** what an administrator sees in the list of rules (default: "<entity> with the same <columns>") */
  name?: string;
  /** the table a new or changed record belongs to (the rule's Base Record Type) */
  entity: string;
  /** the table looked in (Matching Record Type): the same one unless given ("leads matching contacts") */
  matchingEntity?: string;
  /** every one must match (a rule's conditions are AND-ed); a blank value matches nothing. A name alone is
   * an Exact Match of that column on both tables */
  columns: (string | RuleCondition)[];
  /** IsCaseSensitive: off by default, as on a new rule */
  caseSensitive?: boolean;
  /** ExcludeInactiveRecords: on here, so a qualified lead or a deactivated contact does not block a new one */
  excludeInactive?: boolean;
}

/**
 * One condition of a rule (DuplicateRuleCondition): a column of the new record, the column of the matching
 * table it is compared with, and how (OperatorCode: Exact Match, Same First Characters, Same Last Characters,
 * the latter two with OperatorParam characters; Same Date, Same Date and Time; Exact Match of a choice's label
 * or of its value).
 */
export interface RuleCondition {
  column: string;
  /** the matching table's column (default: the same name) */
  matching?: string;
  operator?: keyof typeof OPERATOR_CODES;
  characters?: number;
}

/** DuplicateRuleCondition.OperatorCode's options (its OptionSet: 0 Exact Match … 6 Exact Match (Pick List Value)) */
const OPERATOR_CODES = {
  exact: 0,
  firstCharacters: 1,
  lastCharacters: 2,
  sameDate: 3,
  sameDateAndTime: 4,
  pickListLabel: 5,
  pickListValue: 6,
} as const;

const conditionOf = (
  c: string | RuleCondition,
): Required<Omit<RuleCondition, 'characters'>> & { characters?: number } =>
  typeof c === 'string'
    ? { column: c, matching: c, operator: 'exact' }
    : { ...c, matching: c.matching ?? c.column, operator: c.operator ?? 'exact' };

/** The emulator's published rules, after the defaults named on the page (same email; an account's same name). */
export const DEFAULT_DUPLICATE_RULES: readonly DuplicateRule[] = [
  { name: 'Leads with the same email address', entity: 'lead', columns: ['emailaddress1'], excludeInactive: true },
  {
    name: 'Contacts with the same email address',
    entity: 'contact',
    columns: ['emailaddress1'],
    excludeInactive: true,
  },
  { name: 'Accounts with the same Account Name', entity: 'account', columns: ['name'], excludeInactive: true },
];

/**
 * The rules as rows of the DuplicateRule table, Active and Published (what doctor reads to name them); the
 * emulator evaluates the rules themselves, so the rows are written anew whenever they change.
 */
export function writeRuleRows(store: Store, rules: readonly DuplicateRule[]): void {
  const table = store.table('duplicaterule');
  const conditions = store.table('duplicaterulecondition');
  table.clear();
  conditions.clear();
  for (const [i, r] of rules.entries()) {
    const id = `d0d0d0d0-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
    for (const [j, given] of r.columns.entries()) {
      const c = conditionOf(given);
      const conditionId = `d1d1d1d1-0000-4000-8000-${String(i + 1).padStart(6, '0')}${String(j + 1).padStart(6, '0')}`;
      store.insert(conditions, conditionId, {
        duplicateruleconditionid: conditionId,
        baseattributename: c.column,
        matchingattributename: c.matching,
        operatorcode: OPERATOR_CODES[c.operator],
        // "If you set the OperatorCode attribute to ExactMatch, don't set the OperatorParam attribute"; only the
        // character counts have one
        operatorparam: c.operator === 'firstCharacters' || c.operator === 'lastCharacters' ? (c.characters ?? 1) : null,
        ignoreblankvalues: true,
        regardingobjectid: { id, entity: 'duplicaterule' },
        createdon: null,
        modifiedon: null,
        createdby: null,
        modifiedby: null,
        versionnumber: store.nextVersion(),
      });
    }
    store.insert(table, id, {
      duplicateruleid: id,
      name: r.name ?? `${r.entity} with the same ${r.columns.map((c) => conditionOf(c).column).join(' and ')}`,
      description: null,
      baseentityname: r.entity,
      matchingentityname: r.matchingEntity ?? r.entity,
      iscasesensitive: !!r.caseSensitive,
      excludeinactiverecords: !!r.excludeInactive,
      statecode: 1,
      statuscode: 2,
      createdon: null,
      modifiedon: null,
      createdby: null,
      modifiedby: null,
      ownerid: null,
      versionnumber: store.nextVersion(),
    });
  }
}

// DUP: the documented answer, 500 with DuplicateRecordsFound
export const duplicateFound = () =>
  new DataverseError(
    500,
    '0x80040333',
    'A record was not created or updated because a duplicate of the current record already exists.',
  );

function comparable(v: Value | undefined, caseSensitive: boolean): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'object') return v.id.toLowerCase();
  const s = String(v).trim();
  if (s === '') return undefined;
  // a rule that is not case-sensitive matches as the organisation's collation compares (Language collations:
  // English and most languages are _CI_AI, so "Café Ltd" is "Cafe Ltd"), as its filters do
  return caseSensitive ? s : foldText(s);
}

/**
 * "Enable and disable duplicate detection": rules apply only where detection is on for the organisation
 * (Organization.IsDuplicateDetectionEnabled), for creates and updates (IsDuplicateDetectionEnabledForOnline
 * CreateUpdate) and for the table (EntityMetadata.IsDuplicateDetectionEnabled).
 */
function detectionOn(store: Store, entity: EntityDef): boolean {
  const org = store.table('organization').rows.values().next().value;
  return (
    entity.duplicateDetection &&
    org?.isduplicatedetectionenabled === true &&
    org?.isduplicatedetectionenabledforonlinecreateupdate === true
  );
}

/**
 * What a condition compares of a value: all of it, its first or last characters, its day (GUESS: the UTC day
 * of a date and time; the documentation does not say in whose time zone), the moment, or a choice's label (in
 * its own table: a lead's and a contact's option sets may differ) or number.
 */
function key(
  v: Value | undefined,
  c: ReturnType<typeof conditionOf>,
  caseSensitive: boolean,
  label: (value: Value) => string | undefined,
): string | undefined {
  if (c.operator === 'pickListLabel') return v === null || v === undefined ? undefined : label(v)?.toLowerCase();
  const s = comparable(v, caseSensitive);
  if (s === undefined) return s;
  switch (c.operator) {
    case 'firstCharacters':
      return s.slice(0, c.characters ?? 1);
    case 'lastCharacters':
      return s.slice(-(c.characters ?? 1));
    case 'sameDate':
    case 'sameDateAndTime': {
      const t = Date.parse(s);
      if (Number.isNaN(t)) return undefined;
      const iso = new Date(t).toISOString();
      return c.operator === 'sameDate' ? iso.slice(0, 10) : iso;
    }
    default:
      return s;
  }
}

/** A choice column's label for a value, in that table. */
const labelIn = (schema: Schema, table: string, column: string) => (v: Value) => {
  const def = schema.entity(table);
  const attr = def && schema.attribute(def, column);
  return attr?.options?.find((o) => o.value === v)?.label;
};

/**
 * Refuses `row` (500, 0x80040333) when a rule whose base table is its table finds another record with the
 * same values in the rule's matching table (the same one, or another: "a lead is a duplicate of a contact").
 */
export function assertNoDuplicate(
  store: Store,
  schema: Schema,
  entity: EntityDef,
  id: string,
  row: Row,
  rules: readonly DuplicateRule[],
): void {
  if (!detectionOn(store, entity)) return;
  for (const rule of rules) {
    if (rule.entity !== entity.logicalName) continue;
    const conditions = rule.columns.map(conditionOf);
    const matching = rule.matchingEntity ?? entity.logicalName;
    const wanted = conditions.map((c) =>
      key(row[c.column], c, !!rule.caseSensitive, labelIn(schema, entity.logicalName, c.column)),
    );
    if (wanted.some((w) => w === undefined)) continue;
    const theirs = conditions.map((c) => labelIn(schema, matching, c.matching));
    for (const [otherId, other] of store.table(matching).rows) {
      if (otherId === id && matching === entity.logicalName) continue;
      if (rule.excludeInactive && typeof other.statecode === 'number' && other.statecode !== 0) continue;
      if (conditions.every((c, i) => key(other[c.matching], c, !!rule.caseSensitive, theirs[i]!) === wanted[i]))
        throw duplicateFound();
    }
  }
}
