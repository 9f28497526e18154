/** The emulator's own description of tables, from which it serves EntityDefinitions and checks writes. */

export type AttributeType =
  | 'Uniqueidentifier'
  | 'String'
  | 'Memo'
  | 'Integer'
  | 'BigInt'
  | 'Decimal'
  | 'Double'
  | 'Money'
  | 'Boolean'
  | 'DateTime'
  | 'Picklist'
  | 'State'
  | 'Status'
  | 'Lookup'
  | 'Customer'
  | 'Owner'
  /** an activity's list of people (a call's From and To): in metadata, never a property of the Web API's rows */
  | 'PartyList'
  /** a table's logical name as a value (ActivityPointer.ActivityTypeCode: "task", "phonecall"; Edm.String) */
  | 'EntityName'
  /**
   * a choices column (several options at once; "Choices columns" in the docs): an Edm.String of the chosen
   * values, "1,9", whose formatted value is their labels, "Swimming; Camping"; its AttributeType is Virtual
   */
  | 'MultiSelectPicklist';

/** ATTRMETA: RequiredLevel values; only SystemRequired is enforced by the platform (§6.3). */
export type RequiredLevel = 'None' | 'SystemRequired' | 'ApplicationRequired' | 'Recommended';

export interface OptionDef {
  value: number;
  label: string;
  /** for Status options: the State value they belong to */
  state?: number;
  /** for State options: the default Status value */
  defaultStatus?: number;
}

export interface AttributeDef {
  logicalName: string;
  displayName: string;
  type: AttributeType;
  requiredLevel: RequiredLevel;
  maxLength?: number;
  minValue?: number;
  maxValue?: number;
  precision?: number;
  /** DateTime with DateOnly behaviour (e.g. opportunity.estimatedclosedate) */
  dateOnly?: boolean;
  /**
   * a String's StringFormatName (Email, Phone, Url …; Text when absent): how apps show it, not a check; an
   * Integer's IntegerFormat (Duration: minutes; None when absent); a UserLocal DateTime's Format (DateOnly: shown
   * as a date, kept as a time; DateAndTime when absent)
   */
  format?: string;
  options?: OptionDef[];
  /** labels for Boolean false/true */
  booleanLabels?: [string, string];
  /** lookup targets (logical names) */
  targets?: string[];
  /**
   * what a polymorphic lookup's typed navigation properties end with after the target: activities name them
   * for their own table too (a task's regardingobjectid_account_task; a note's objectid_account has none)
   */
  navigationSuffix?: string;
  /** what a create that leaves the column out stores (a Boolean's DefaultValue: a phone call is Outgoing) */
  defaultValue?: boolean | number | string;
  validForCreate: boolean;
  validForUpdate: boolean;
  validForRead: boolean;
  description?: string;
}

/**
 * The owner table a record's ownerid points at (ReferencedEntity "owner"): in the Web API its type is principal,
 * whose only property is ownerid; the emulator holds no rows of it (a record's owner row is its user or team).
 */
export const PRINCIPAL = 'owner';

/** A lookup seen from the referencing side: the single-valued navigation property. */
export interface ManyToOne {
  navigationProperty: string;
  /** the lookup attribute holding the id */
  attribute: string;
  target: string;
  schemaName: string;
}

/** A 1:N relationship seen from the referenced side: the collection-valued navigation property. */
export interface OneToMany {
  navigationProperty: string;
  referencingEntity: string;
  /** the lookup on the related rows that points here ('' for a many-to-many relationship) */
  referencingAttribute: string;
  schemaName: string;
  /**
   * A many-to-many relationship's side (ManyToManyRelationshipMetadata): the related rows are those its intersect
   * table pairs with this row, `self` holding this row's id and `other` theirs; `back` is the related table's
   * navigation property to this one. Pairs are added and removed through $ref (webapi/associate.ts).
   */
  through?: { intersect: string; self: string; other: string; back: string; first: boolean };
}

export interface EntityDef {
  logicalName: string;
  entitySetName: string;
  schemaName: string;
  displayName: string;
  displayCollectionName: string;
  primaryIdAttribute: string;
  primaryNameAttribute: string;
  ownershipType: 'UserOwned' | 'OrganizationOwned' | 'BusinessOwned' | 'None';
  objectTypeCode: number;
  metadataId: string;
  attributes: AttributeDef[];
  /**
   * An activity's party lists (PartyList attributes: a call's from and to). Dataverse lists them with the
   * attributes in metadata, but the Web API's rows have no such property: they are written and read as the
   * activity's <table>_activity_parties records. Kept apart so that nothing but metadata sees them.
   */
  partyLists: AttributeDef[];
  manyToOne: ManyToOne[];
  oneToMany: OneToMany[];
  /** EntityMetadata.IsDuplicateDetectionEnabled: whether the organisation's rules apply to this table */
  duplicateDetection: boolean;
  /**
   * The table reference's "Operations supported: GET (RetrieveMultiple only)" (ActivityParty): its records are
   * made with another (a deep insert), never created, changed or deleted on their own
   */
  retrieveOnly: boolean;
  /** an intersect table of a many-to-many relationship (teammembership): its two ids and versionnumber only */
  intersect: boolean;
}
