/**
 * What the policy needs to know about tables, read from Dataverse metadata by the client. Maps are keyed by
 * lower-cased name so the model's casing does not matter; the values carry the canonical names we send.
 */
export interface OptionModel {
  value: number;
  label: string;
  /** a status reason's state (statuscode options: Problem Solved belongs to Resolved) */
  state?: number;
  /** a state's default status reason (statecode options: Completed's is Completed) */
  defaultStatus?: number;
}

export interface ColumnModel {
  logicalName: string;
  /** AttributeType: String, Memo, Integer, BigInt, Decimal, Double, Money, Boolean, DateTime, Picklist, State, Status, Lookup, Customer, Owner, Uniqueidentifier, …; a choices column's is MultiSelectPicklist (CHOICES_TYPE) */
  type: string;
  label: string;
  requiredLevel: string;
  maxLength?: number;
  minValue?: number;
  maxValue?: number;
  dateOnly?: boolean;
  /** a DateTime shown as stored, whatever the user's time zone (DateTimeBehavior TimeZoneIndependent) */
  timeZoneIndependent?: boolean;
  /**
   * a String's FormatName (Email, Phone, Url, Text …): Dataverse shows it so, and checks nothing; a whole
   * number's Format where it is not None (Duration: minutes)
   */
  format?: string;
  targets?: string[];
  options?: OptionModel[];
  validForCreate: boolean;
  validForUpdate: boolean;
  validForRead: boolean;
}

/** A whole number Dataverse formats as a duration (IntegerAttributeMetadata.Format Duration): minutes. */
export const isDuration = (c: ColumnModel): boolean => c.type === 'Integer' && c.format === 'Duration';

export interface SingleNav {
  navigationProperty: string;
  attribute: string;
  target: string;
}

/**
 * The relationships a lookup column is followed through: one, or one per table a customer or owner lookup
 * points at (customerid_account and customerid_contact; an owner's owninguser and owningteam, ownersFollowed).
 */
export const navsOf = (model: EntityModel, attribute: string): SingleNav[] =>
  [...model.singleNavs.values()].filter((n) => n.attribute.toLowerCase() === attribute.toLowerCase());

/**
 * A lookup and the table it points at, written as one name ("customerid_account", "primarycontactid_contact",
 * as a FetchXML link names them: to="customerid", name="account"): that lookup's one relationship to that
 * table, whatever Dataverse named it (a single-table lookup's is the lookup's own name; an activity's
 * Regarding's carries the activity's too: regardingobjectid_account_task). Undefined where none or several.
 */
export function navToTable(model: EntityModel, name: string): SingleNav | undefined {
  const key = name.toLowerCase();
  const found = [...model.singleNavs.values()].filter((n) => `${n.attribute}_${n.target}`.toLowerCase() === key);
  return found.length === 1 ? found[0] : undefined;
}

export interface CollectionNav {
  navigationProperty: string;
  /** the table the list's rows are in */
  referencingEntity: string;
  /** the lookup on those rows that points back here; '' for a many-to-many relationship */
  referencingAttribute: string;
  /** a many-to-many relationship: the related table's navigation property back to this one */
  back?: string;
}

export interface EntityModel {
  logicalName: string;
  entitySetName: string;
  primaryIdAttribute: string;
  primaryNameAttribute: string;
  displayName: string;
  /** IsOptimisticConcurrencyEnabled: Dynamics checks an etag in If-Match on this table's writes */
  optimisticConcurrency?: boolean;
  columns: Map<string, ColumnModel>;
  singleNavs: Map<string, SingleNav>;
  collectionNavs: Map<string, CollectionNav>;
}

export interface ModelSource {
  /** the model of a table by logical name (loaded and cached by the client) */
  entity(logicalName: string): Promise<EntityModel>;
  /** logical name for a logical name or entity set name in any casing; undefined when there is no such table */
  resolveEntityName(input: string): Promise<string | undefined>;
  /** tables whose display name is `input` (singular or plural, any casing): "cases" → incident */
  tablesCalled?(input: string): Promise<{ logicalName: string; displayName: string }[]>;
}

export const isLookupType = (t: string) => t === 'Lookup' || t === 'Customer' || t === 'Owner';
/** The column types that hold numbers (summed, averaged, compared as numbers). */
export const NUMERIC_TYPES: ReadonlySet<string> = new Set(['Integer', 'BigInt', 'Decimal', 'Double', 'Money']);
/** Columns whose values are numbered options with labels: a choice, a state, a status reason. */
export const CHOICE_TYPES: ReadonlySet<string> = new Set(['Picklist', 'State', 'Status']);
/**
 * A choices column: several of its options at once ("Choices columns"; AttributeTypeName MultiSelectPicklistType,
 * AttributeType Virtual), sent and read as their values separated by commas ("1,9").
 */
export const CHOICES_TYPE = 'MultiSelectPicklist';
export const isChoices = (c: ColumnModel): boolean => c.type === CHOICES_TYPE;

/**
 * The column a write's key names: its logical name in any casing (a lookup also as _<name>_value, as results
 * carry it) or its label.
 */
export function writtenColumn(model: EntityModel, key: string): ColumnModel | undefined {
  return model.columns.get(key.replace(/^_(.+)_value$/, '$1').toLowerCase()) ?? columnLabelled(model, key);
}

/**
 * The column a values key sets: a column by logical name or label, or a lookup bound as the Web API binds it
 * ("parentcustomerid_account@odata.bind").
 */
export function columnSetBy(model: EntityModel, key: string): string | undefined {
  return key.includes('@')
    ? model.singleNavs.get(key.split('@')[0]!.toLowerCase())?.attribute
    : writtenColumn(model, key)?.logicalName;
}

/**
 * The one column whose label (what Dynamics shows: "Main Phone", "Annual Revenue") is `name`, in any casing;
 * undefined when none or several have it. People say labels and models pass them on: a label that names one
 * column means that column, and the policy then applies to it as to its logical name.
 */
export function columnLabelled(model: EntityModel, name: string): ColumnModel | undefined {
  const wanted = name.trim().toLowerCase();
  let hit: ColumnModel | undefined;
  for (const c of model.columns.values())
    if (c.label.toLowerCase() === wanted) {
      if (hit) return undefined;
      hit = c;
    }
  return hit;
}
