import { createHash } from 'node:crypto';
import type { AttributeDef, AttributeType, EntityDef, OptionDef, RequiredLevel } from './types.js';

/** A stable GUID derived from a name, so metadata ids are the same on every start. */
export function stableGuid(name: string): string {
  const h = createHash('sha1').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

type AttrOptions = Partial<Omit<AttributeDef, 'logicalName' | 'displayName' | 'type'>>;

export function attr(logicalName: string, displayName: string, type: AttributeType, o: AttrOptions = {}): AttributeDef {
  return {
    logicalName,
    displayName,
    type,
    requiredLevel: o.requiredLevel ?? 'None',
    validForCreate: o.validForCreate ?? true,
    validForUpdate: o.validForUpdate ?? true,
    validForRead: o.validForRead ?? true,
    ...o,
  };
}

export const str = (name: string, display: string, maxLength: number, requiredLevel: RequiredLevel = 'None') =>
  attr(name, display, 'String', { maxLength, requiredLevel });
/** A String shown as an email address, a phone number or a link (its FormatName). */
export const formatted = (
  format: 'Email' | 'Phone' | 'Url',
  name: string,
  display: string,
  maxLength: number,
): AttributeDef => attr(name, display, 'String', { maxLength, format });
export const memo = (name: string, display: string, maxLength = 2000) => attr(name, display, 'Memo', { maxLength });
export const money = (name: string, display: string) =>
  attr(name, display, 'Money', { precision: 2, minValue: -1_000_000_000_000, maxValue: 1_000_000_000_000 });
export const int = (name: string, display: string, minValue = -2_147_483_648, maxValue = 2_147_483_647) =>
  attr(name, display, 'Integer', { minValue, maxValue });
/**
 * A whole number of minutes that Dynamics shows as a duration (IntegerAttributeMetadata.Format Duration): an
 * activity's duration, a Case Resolution's time spent.
 */
export const minutes = (name: string, display: string) =>
  attr(name, display, 'Integer', { minValue: 0, maxValue: 2_147_483_647, format: 'Duration' });
export const bool = (name: string, display: string, labels: [string, string] = ['No', 'Yes']) =>
  attr(name, display, 'Boolean', { booleanLabels: labels });
export const date = (name: string, display: string, dateOnly = false) => attr(name, display, 'DateTime', { dateOnly });
export const lookup = (name: string, display: string, targets: string[], requiredLevel: RequiredLevel = 'None') =>
  attr(name, display, targets.length > 1 ? 'Customer' : 'Lookup', { targets, requiredLevel });

export function picklist(name: string, display: string, options: [number, string][]): AttributeDef {
  return attr(name, display, 'Picklist', { options: options.map(([value, label]) => ({ value, label })) });
}

/**
 * Active (status Active) or Inactive (status Inactive): the states of the tables that have no others (a queue, a
 * queue item, a knowledge article's use on a case).
 */
export const activeOrInactive = () =>
  stateAndStatus(
    [
      [0, 'Active', 1],
      [1, 'Inactive', 2],
    ],
    [
      [1, 'Active', 0],
      [2, 'Inactive', 1],
    ],
  );

/** statecode (not valid for create, SystemRequired) and statuscode, as on the entity reference pages. */
export function stateAndStatus(
  states: [number, string, number][],
  statuses: [number, string, number][],
): AttributeDef[] {
  const stateOptions: OptionDef[] = states.map(([value, label, defaultStatus]) => ({ value, label, defaultStatus }));
  const statusOptions: OptionDef[] = statuses.map(([value, label, state]) => ({ value, label, state }));
  return [
    attr('statecode', 'Status', 'State', {
      options: stateOptions,
      requiredLevel: 'SystemRequired',
      validForCreate: false,
    }),
    attr('statuscode', 'Status Reason', 'Status', { options: statusOptions }),
  ];
}

/** Columns every table has: audit stamps, version number and (for user-owned tables) the owner. */
export function systemColumns(userOwned: boolean): AttributeDef[] {
  const cols = [
    date('createdon', 'Created On'),
    date('modifiedon', 'Modified On'),
    lookup('createdby', 'Created By', ['systemuser']),
    lookup('modifiedby', 'Modified By', ['systemuser']),
    attr('versionnumber', 'Version Number', 'BigInt', { validForCreate: false, validForUpdate: false }),
  ];
  for (const c of cols) {
    c.validForCreate = false;
    c.validForUpdate = false;
  }
  if (userOwned)
    cols.push(
      // a record's owner is a user or a team (the principal type); which of them is also in the read-only
      // owninguser or owningteam, and only those two are lookups a query can follow to the owner's columns
      attr('ownerid', 'Owner', 'Owner', { targets: ['systemuser', 'team'], requiredLevel: 'SystemRequired' }),
      attr('owninguser', 'Owning User', 'Lookup', {
        targets: ['systemuser'],
        validForCreate: false,
        validForUpdate: false,
      }),
      attr('owningteam', 'Owning Team', 'Lookup', { targets: ['team'], validForCreate: false, validForUpdate: false }),
    );
  return cols;
}

export interface EntitySpec {
  logicalName: string;
  entitySetName: string;
  schemaName: string;
  displayName: string;
  displayCollectionName: string;
  primaryName: string;
  ownershipType: EntityDef['ownershipType'];
  objectTypeCode: number;
  attributes: AttributeDef[];
  /** the primary key when it is not <logicalName>id: activities share activityid */
  primaryId?: string;
  /** IsDuplicateDetectionEnabled (default off; on for the tables with default rules: accounts, contacts, leads) */
  duplicateDetection?: boolean;
  /** an activity's party lists (EntityDef.partyLists) */
  partyLists?: AttributeDef[];
  /** EntityDef.retrieveOnly */
  retrieveOnly?: boolean;
  /** an intersect table of a many-to-many relationship: its two ids and versionnumber, no audit stamps or owner */
  intersect?: boolean;
}

/** People who may be an activity's party: the tables the emulator has of those a call's To lists. */
export const PARTY_TARGETS = ['account', 'contact', 'lead', 'systemuser'];
/** A PartyList attribute (a call's From): metadata only, see EntityDef.partyLists. */
export const partyList = (name: string, display: string): AttributeDef =>
  attr(name, display, 'PartyList', { targets: PARTY_TARGETS });

/**
 * What Dataverse adds to a table with money columns: for each, a read-only "<name>_base" column holding the
 * value in the organisation's base currency (value / exchangerate), and the record's exchange rate, set from
 * its currency (docs: Transaction Currency (currency) table, "creditlimit_base = creditlimit / exchangerate").
 */
function currencyColumns(attributes: AttributeDef[]): AttributeDef[] {
  const moneys = attributes.filter((a) => a.type === 'Money');
  if (!moneys.length) return [];
  return [
    ...moneys.map((m) =>
      attr(`${m.logicalName}_base`, `${m.displayName} (Base)`, 'Money', {
        precision: m.precision,
        minValue: m.minValue,
        maxValue: m.maxValue,
        validForCreate: false,
        validForUpdate: false,
      }),
    ),
    attr('exchangerate', 'Exchange Rate', 'Decimal', {
      precision: 10,
      minValue: 0.000000000001,
      maxValue: 100_000_000_000,
      validForCreate: false,
      validForUpdate: false,
    }),
  ];
}

export function entity(spec: EntitySpec): EntityDef {
  const primaryIdAttribute = spec.primaryId ?? `${spec.logicalName}id`;
  const id = attr(primaryIdAttribute, spec.displayName, 'Uniqueidentifier', { validForUpdate: false });
  return {
    logicalName: spec.logicalName,
    entitySetName: spec.entitySetName,
    schemaName: spec.schemaName,
    displayName: spec.displayName,
    displayCollectionName: spec.displayCollectionName,
    primaryIdAttribute,
    primaryNameAttribute: spec.primaryName,
    ownershipType: spec.ownershipType,
    objectTypeCode: spec.objectTypeCode,
    metadataId: stableGuid(`entity:${spec.logicalName}`),
    attributes: [
      id,
      ...spec.attributes,
      ...currencyColumns(spec.attributes),
      ...(spec.intersect
        ? systemColumns(false).filter((c) => c.logicalName === 'versionnumber')
        : systemColumns(spec.ownershipType === 'UserOwned')),
    ],
    partyLists: spec.partyLists ?? [],
    manyToOne: [],
    oneToMany: [],
    duplicateDetection: spec.duplicateDetection ?? false,
    retrieveOnly: spec.retrieveOnly ?? false,
    intersect: spec.intersect ?? false,
  };
}
