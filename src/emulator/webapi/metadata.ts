import type { Expr } from '../../odata/ast.js';
import { parseExpand, parseFilter, parseSelect } from '../../odata/parser.js';
import { stableGuid } from '../schema/build.js';
import type { Schema } from '../schema/index.js';
import { type AttributeDef, type AttributeType, type EntityDef, PRINCIPAL } from '../schema/types.js';
import { badRequest, DataverseError, resourceNotFound } from './errors.js';

// QMETA, RMETA, COLDEF, ATTRMETA: the JSON shapes of EntityDefinitions, attributes, option sets and relationships.

const label = (text: string, key: string) => {
  const l = {
    Label: text,
    LanguageCode: 1033,
    IsManaged: true,
    MetadataId: stableGuid(`label:${key}`),
    HasChanged: null,
  };
  return { LocalizedLabels: [l], UserLocalizedLabel: l };
};
const emptyLabel = () => ({ LocalizedLabels: [], UserLocalizedLabel: null });

const TYPE_NAME: Record<AttributeType, [odataType: string, typeName: string]> = {
  Uniqueidentifier: ['UniqueIdentifierAttributeMetadata', 'UniqueidentifierType'],
  String: ['StringAttributeMetadata', 'StringType'],
  Memo: ['MemoAttributeMetadata', 'MemoType'],
  Integer: ['IntegerAttributeMetadata', 'IntegerType'],
  BigInt: ['BigIntAttributeMetadata', 'BigIntType'],
  Decimal: ['DecimalAttributeMetadata', 'DecimalType'],
  Double: ['DoubleAttributeMetadata', 'DoubleType'],
  Money: ['MoneyAttributeMetadata', 'MoneyType'],
  Boolean: ['BooleanAttributeMetadata', 'BooleanType'],
  DateTime: ['DateTimeAttributeMetadata', 'DateTimeType'],
  Picklist: ['PicklistAttributeMetadata', 'PicklistType'],
  State: ['StateAttributeMetadata', 'StateType'],
  Status: ['StatusAttributeMetadata', 'StatusType'],
  Lookup: ['LookupAttributeMetadata', 'LookupType'],
  Customer: ['LookupAttributeMetadata', 'CustomerType'],
  Owner: ['LookupAttributeMetadata', 'OwnerType'],
  PartyList: ['LookupAttributeMetadata', 'PartyListType'],
  EntityName: ['EntityNameAttributeMetadata', 'EntityNameType'],
  MultiSelectPicklist: ['MultiSelectPicklistAttributeMetadata', 'MultiSelectPicklistType'],
};

/** Every attribute metadata lists: the columns, and the party lists rows do not carry. */
const listed = (e: EntityDef): AttributeDef[] => [...e.attributes, ...e.partyLists];

function optionJson(
  entity: EntityDef,
  a: AttributeDef,
  o: { value: number; label: string; state?: number; defaultStatus?: number },
) {
  return {
    Value: o.value,
    Color: null,
    IsManaged: true,
    ExternalValue: null,
    ParentValues: [],
    Tag: null,
    IsHidden: false,
    MetadataId: null,
    HasChanged: null,
    ...(o.state !== undefined ? { State: o.state } : {}),
    ...(o.defaultStatus !== undefined ? { DefaultStatus: o.defaultStatus } : {}),
    Label: label(o.label, `${entity.logicalName}.${a.logicalName}.${o.value}`),
    Description: emptyLabel(),
  };
}

export function attributeJson(entity: EntityDef, a: AttributeDef, expandOptionSet: boolean): Record<string, unknown> {
  const [odataType, typeName] = TYPE_NAME[a.type];
  const out: Record<string, unknown> = {
    '@odata.type': `#Microsoft.Dynamics.CRM.${odataType}`,
    MetadataId: stableGuid(`attr:${entity.logicalName}.${a.logicalName}`),
    LogicalName: a.logicalName,
    SchemaName: a.logicalName,
    EntityLogicalName: entity.logicalName,
    // ATTRMETA: the older AttributeType reports a choices column as Virtual; AttributeTypeName says which it is
    AttributeType: a.type === 'MultiSelectPicklist' ? 'Virtual' : a.type,
    AttributeTypeName: { Value: typeName },
    DisplayName: label(a.displayName, `${entity.logicalName}.${a.logicalName}`),
    Description: a.description ? label(a.description, `${entity.logicalName}.${a.logicalName}.d`) : emptyLabel(),
    RequiredLevel: {
      Value: a.requiredLevel,
      CanBeChanged: true,
      ManagedPropertyLogicalName: 'canmodifyrequirementlevelsettings',
    },
    IsPrimaryId: a.logicalName === entity.primaryIdAttribute,
    IsPrimaryName: a.logicalName === entity.primaryNameAttribute,
    IsCustomAttribute: /^(dmcp|sample)_/.test(a.logicalName),
    IsValidForCreate: a.validForCreate,
    IsValidForRead: a.validForRead,
    IsValidForUpdate: a.validForUpdate,
    IsValidForForm: true,
    IsRequiredForForm: a.requiredLevel === 'SystemRequired',
  };
  if (a.maxLength !== undefined) out.MaxLength = a.maxLength;
  // COLDEF's shape, "FormatName": {"Value": "Text"}; Format is its older, deprecated twin
  if (a.type === 'String') {
    out.FormatName = { Value: a.format ?? 'Text' };
    out.Format = a.format ?? 'Text';
  }
  // IntegerAttributeMetadata.Format (IntegerFormat): None, Duration, TimeZone, Language, Locale
  if (a.type === 'Integer') out.Format = a.format ?? 'None';
  if (a.minValue !== undefined) out.MinValue = a.minValue;
  if (a.maxValue !== undefined) out.MaxValue = a.maxValue;
  if (a.precision !== undefined) out.Precision = a.precision;
  if (a.type === 'DateTime') {
    // a UserLocal column may still be shown as a date (a case's Follow Up By: Format DateOnly)
    out.Format = a.dateOnly || a.format === 'DateOnly' ? 'DateOnly' : 'DateAndTime';
    out.DateTimeBehavior = { Value: a.dateOnly ? 'DateOnly' : 'UserLocal' };
  }
  // BooleanAttributeMetadata.DefaultValue: what a create that leaves the column out stores
  if (a.type === 'Boolean') out.DefaultValue = a.defaultValue === true;
  if (a.targets) out.Targets = a.targets;
  if (expandOptionSet && a.options)
    out.OptionSet = {
      MetadataId: stableGuid(`optionset:${entity.logicalName}.${a.logicalName}`),
      Name: `${entity.logicalName}_${a.logicalName}`,
      IsGlobal: false,
      // a choices column's options are a Picklist option set ("Choices columns": OptionSetType.Picklist)
      OptionSetType: a.type === 'MultiSelectPicklist' ? 'Picklist' : a.type,
      Options: a.options.map((o) => optionJson(entity, a, o)),
    };
  if (expandOptionSet && a.type === 'Boolean') {
    const [f, t] = a.booleanLabels ?? ['No', 'Yes'];
    out.OptionSet = {
      MetadataId: stableGuid(`optionset:${entity.logicalName}.${a.logicalName}`),
      OptionSetType: 'Boolean',
      TrueOption: optionJson(entity, a, { value: 1, label: t }),
      FalseOption: optionJson(entity, a, { value: 0, label: f }),
    };
  }
  return out;
}

function relationships(schema: Schema, entity: EntityDef, kind: 'ManyToOne' | 'OneToMany' | 'ManyToMany') {
  const rows: Record<string, unknown>[] = [];
  if (kind === 'ManyToMany') {
    // RMETA: ManyToManyRelationshipMetadata, entity 1's side first (the same relationship from either table)
    for (const o of entity.oneToMany) {
      if (!o.through) continue;
      const [one, two] = o.through.first
        ? [entity.logicalName, o.referencingEntity]
        : [o.referencingEntity, entity.logicalName];
      const [nav1, nav2] = o.through.first
        ? [o.navigationProperty, o.through.back]
        : [o.through.back, o.navigationProperty];
      const [attr1, attr2] = o.through.first ? [o.through.self, o.through.other] : [o.through.other, o.through.self];
      rows.push({
        '@odata.type': '#Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata',
        MetadataId: stableGuid(`rel:${o.schemaName}`),
        SchemaName: o.schemaName,
        RelationshipType: 'ManyToManyRelationship',
        Entity1LogicalName: one,
        Entity2LogicalName: two,
        Entity1NavigationPropertyName: nav1,
        Entity2NavigationPropertyName: nav2,
        IntersectEntityName: o.through.intersect,
        Entity1IntersectAttribute: attr1,
        Entity2IntersectAttribute: attr2,
      });
    }
    return rows;
  }
  const make = (
    referencing: EntityDef,
    attribute: string,
    referenced: string,
    nav1: string | null,
    navN: string | null,
  ) => ({
    '@odata.type': '#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata',
    MetadataId: stableGuid(`rel:${referencing.logicalName}.${attribute}.${referenced}`),
    SchemaName: navN ?? `${referencing.logicalName}_${attribute}_${referenced}`,
    RelationshipType: 'OneToManyRelationship',
    ReferencedEntity: referenced,
    ReferencedAttribute: referenced === PRINCIPAL ? 'ownerid' : `${referenced}id`,
    ReferencingEntity: referencing.logicalName,
    ReferencingAttribute: attribute,
    ReferencedEntityNavigationPropertyName: navN,
    ReferencingEntityNavigationPropertyName: nav1,
  });
  if (kind === 'ManyToOne') {
    for (const m of entity.manyToOne) {
      // the owner's relationship is named as the principal type's collection (owner_accounts)
      const back =
        m.target === PRINCIPAL
          ? m.schemaName
          : schema
              .entity(m.target)!
              .oneToMany.find(
                (o) => o.referencingEntity === entity.logicalName && o.referencingAttribute === m.attribute,
              )?.navigationProperty;
      rows.push(make(entity, m.attribute, m.target, m.navigationProperty, back ?? null));
    }
  } else {
    for (const o of entity.oneToMany) {
      if (o.through) continue; // listed as ManyToManyRelationships
      const child = schema.entity(o.referencingEntity)!;
      const fwd = child.manyToOne.find(
        (m) => m.attribute === o.referencingAttribute && m.target === entity.logicalName,
      );
      rows.push(
        make(child, o.referencingAttribute, entity.logicalName, fwd?.navigationProperty ?? null, o.navigationProperty),
      );
    }
  }
  return rows;
}

function entityJson(
  schema: Schema,
  e: EntityDef,
  expand: string[],
  concurrencyOff: ReadonlySet<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    MetadataId: e.metadataId,
    LogicalName: e.logicalName,
    SchemaName: e.schemaName,
    EntitySetName: e.entitySetName,
    LogicalCollectionName: e.entitySetName,
    PrimaryIdAttribute: e.primaryIdAttribute,
    // an intersect table (teammembership) has no name column
    PrimaryNameAttribute: e.primaryNameAttribute || null,
    DisplayName: label(e.displayName, e.logicalName),
    DisplayCollectionName: label(e.displayCollectionName, `${e.logicalName}.plural`),
    Description: emptyLabel(),
    OwnershipType: e.ownershipType,
    ObjectTypeCode: e.objectTypeCode,
    IsCustomEntity: false,
    // activities (tasks, Case Resolutions, Opportunity Closes) share activityid as their key
    IsActivity: e.primaryIdAttribute === 'activityid',
    // a BooleanManagedProperty, as the other managed settings of EntityMetadata
    IsDuplicateDetectionEnabled: {
      Value: e.duplicateDetection,
      CanBeChanged: true,
      ManagedPropertyLogicalName: 'canchangeduplicatedetectionsettings',
    },
    IsOptimisticConcurrencyEnabled: !concurrencyOff.has(e.logicalName),
    IsKnowledgeManagementEnabled: false,
  };
  if (expand.includes('Attributes')) out.Attributes = listed(e).map((a) => attributeJson(e, a, false));
  if (expand.includes('ManyToOneRelationships')) out.ManyToOneRelationships = relationships(schema, e, 'ManyToOne');
  if (expand.includes('OneToManyRelationships')) out.OneToManyRelationships = relationships(schema, e, 'OneToMany');
  return out;
}

/** `$filter` over metadata JSON: paths into the objects, enum literals compared by name (QMETA). */
function jsonPredicate(expr: Expr): (o: Record<string, unknown>) => boolean {
  const value = (e: Expr, o: Record<string, unknown>): unknown => {
    if (e.kind === 'literal') return e.value;
    if (e.kind === 'path')
      return e.segments.reduce<unknown>((v, s) => (v as Record<string, unknown> | undefined)?.[s], o);
    throw badRequest('Only comparisons of properties with literals are supported in metadata queries.');
  };
  const test = (e: Expr, o: Record<string, unknown>): boolean => {
    switch (e.kind) {
      case 'and':
        return e.operands.every((x) => test(x, o));
      case 'or':
        return e.operands.some((x) => test(x, o));
      case 'not':
        return !test(e.operand, o);
      case 'compare': {
        const a = value(e.left, o);
        const b = value(e.right, o);
        if (e.op === 'eq') return a === b;
        if (e.op === 'ne') return a !== b;
        throw badRequest(`The operator '${e.op}' is not supported in metadata queries.`);
      }
      default:
        throw badRequest('Unsupported expression in a metadata query.');
    }
  };
  return (o) => test(expr, o);
}

const selectFields = (o: Record<string, unknown>, select: string[] | undefined) => {
  if (!select) return o;
  const out: Record<string, unknown> = {};
  if (o['@odata.type']) out['@odata.type'] = o['@odata.type'];
  for (const k of select) if (k in o) out[k] = o[k];
  out.MetadataId = o.MetadataId;
  for (const k of ['Attributes', 'OptionSet', 'ManyToOneRelationships', 'OneToManyRelationships'])
    if (k in o) out[k] = o[k];
  return out;
};

export interface MetadataQuery {
  select?: string;
  filter?: string;
  expand?: string;
}

/**
 * GET EntityDefinitions[...]: the entity list, one entity by LogicalName or MetadataId, its Attributes
 * (optionally cast to a derived type, with OptionSet expanded), and its relationships. Not paged.
 */
export function handleMetadata(
  schema: Schema,
  path: string,
  q: MetadataQuery,
  root: string,
  concurrencyOff: ReadonlySet<string> = new Set(),
): { body: Record<string, unknown> } {
  // enum literals such as Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist' compare as their names
  const filterText = q.filter?.replace(/Microsoft\.Dynamics\.CRM\.[A-Za-z]+'([A-Za-z]+)'/g, "'$1'");
  const filter = filterText ? jsonPredicate(parseFilter(filterText)) : () => true;
  const select = q.select ? parseSelect(q.select) : undefined;
  const expand = q.expand ? parseExpand(q.expand).map((i) => i.property) : [];
  const m =
    /^EntityDefinitions(?:\((?:LogicalName='([a-z0-9_]+)'|([0-9a-f-]{36}))\))?(?:\/(Attributes|ManyToOneRelationships|OneToManyRelationships|ManyToManyRelationships)(?:\((?:LogicalName='([a-z0-9_]+)'|([0-9a-f-]{36}))\))?(?:\/Microsoft\.Dynamics\.CRM\.([A-Za-z]+AttributeMetadata))?(?:\/(OptionSet))?)?$/.exec(
      path,
    );
  if (!m) throw resourceNotFound(path);
  const [, logical, metaId, nav, attrLogical, attrId, cast, optionSetOnly] = m;
  if (!logical && !metaId) {
    if (nav) throw resourceNotFound(path);
    const value = schema.entities
      .map((e) => entityJson(schema, e, expand, concurrencyOff))
      .filter(filter)
      .map((o) => selectFields(o, select));
    return { body: { '@odata.context': `${root}/$metadata#EntityDefinitions`, value } };
  }
  const entity = logical ? schema.entity(logical) : schema.entities.find((e) => e.metadataId === metaId);
  if (!entity)
    throw new DataverseError(
      404,
      '0x80040217',
      `Could not find entity with ${logical ? `logical name '${logical}'` : `MetadataId '${metaId}'`}.`,
    );
  const key = logical ? `'${logical}'` : metaId!;
  if (!nav) {
    return {
      body: {
        '@odata.context': `${root}/$metadata#EntityDefinitions(${select?.join(',') ?? ''})/$entity`,
        ...selectFields(entityJson(schema, entity, expand, concurrencyOff), select),
      },
    };
  }
  if (nav !== 'Attributes') {
    return {
      body: {
        '@odata.context': `${root}/$metadata#EntityDefinitions(${key})/${nav}`,
        value: relationships(
          schema,
          entity,
          nav === 'ManyToOneRelationships'
            ? 'ManyToOne'
            : nav === 'ManyToManyRelationships'
              ? 'ManyToMany'
              : 'OneToMany',
        ).filter(filter),
      },
    };
  }
  const expandOptions = expand.includes('OptionSet') || expand.includes('GlobalOptionSet') || !!optionSetOnly;
  const castMatches = (a: AttributeDef) => !cast || TYPE_NAME[a.type][0] === cast;
  if (attrLogical || attrId) {
    const a = listed(entity).find((x) =>
      attrLogical
        ? x.logicalName === attrLogical
        : stableGuid(`attr:${entity.logicalName}.${x.logicalName}`) === attrId,
    );
    if (!a || !castMatches(a))
      throw new DataverseError(
        404,
        '0x80040217',
        `Could not find attribute '${attrLogical ?? attrId}' on '${entity.logicalName}'.`,
      );
    const json = attributeJson(entity, a, expandOptions);
    if (optionSetOnly) {
      const os = (json.OptionSet ?? {}) as Record<string, unknown>;
      return {
        body: {
          '@odata.context': `${root}/$metadata#EntityDefinitions(${key})/Attributes/OptionSet/$entity`,
          ...selectFields(os, select),
        },
      };
    }
    return {
      body: {
        '@odata.context': `${root}/$metadata#EntityDefinitions(${key})/Attributes/$entity`,
        ...selectFields(json, select),
      },
    };
  }
  const value = listed(entity)
    .filter(castMatches)
    .map((a) => attributeJson(entity, a, expandOptions))
    .filter(filter)
    .map((o) => selectFields(o, select));
  return { body: { '@odata.context': `${root}/$metadata#EntityDefinitions(${key})/Attributes`, value } };
}
