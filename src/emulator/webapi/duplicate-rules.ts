import type { EntityDef } from '../schema/types.js';
import type { Row, Store, Value } from '../store/store.js';
import { DataverseError } from './errors.js';

/**
 * Duplicate detection (DUP, "Detect duplicate data using the Web API"): a create or update sent with
 * `MSCRM.SuppressDuplicateDetection: false` is refused when a published rule finds a matching record; without
 * the header (the Web API's default) rules are not applied. "Dataverse includes default duplicate detection
 * rules for accounts, contacts, and leads": the page's example is a lead with the same emailaddress1.
 */
export interface DuplicateRule {
  /** the table a new or changed record belongs to (the rule's base and matching record type) */
  entity: string;
  /** every one must match exactly (a rule's conditions are AND-ed); a blank value matches nothing */
  columns: string[];
  /** IsCaseSensitive: off by default, as on a new rule */
  caseSensitive?: boolean;
  /** ExcludeInactiveRecords: on here, so a qualified lead or a deactivated contact does not block a new one */
  excludeInactive?: boolean;
}

/** The emulator's published rules, after the defaults named on the page (same email; an account's same name). */
export const DEFAULT_DUPLICATE_RULES: readonly DuplicateRule[] = [
  { entity: 'lead', columns: ['emailaddress1'], excludeInactive: true },
  { entity: 'contact', columns: ['emailaddress1'], excludeInactive: true },
  { entity: 'account', columns: ['name'], excludeInactive: true },
];

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
  return caseSensitive ? s : s.toLowerCase();
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

/** Refuses `row` (500, 0x80040333) when a rule for its table finds another record with the same values. */
export function assertNoDuplicate(
  store: Store,
  entity: EntityDef,
  id: string,
  row: Row,
  rules: readonly DuplicateRule[],
): void {
  if (!detectionOn(store, entity)) return;
  for (const rule of rules) {
    if (rule.entity !== entity.logicalName) continue;
    const wanted = rule.columns.map((c) => comparable(row[c], !!rule.caseSensitive));
    if (wanted.some((w) => w === undefined)) continue;
    for (const [otherId, other] of store.table(entity.logicalName).rows) {
      if (otherId === id) continue;
      if (rule.excludeInactive && typeof other.statecode === 'number' && other.statecode !== 0) continue;
      if (rule.columns.every((c, i) => comparable(other[c], !!rule.caseSensitive) === wanted[i]))
        throw duplicateFound();
    }
  }
}
