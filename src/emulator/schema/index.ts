import { ALL_ENTITIES } from './all-entities.js';
import type { AttributeDef, EntityDef, OptionDef } from './types.js';

export * from './types.js';

/** Lookup of table definitions by logical name or entity set name (both as Dataverse spells them). */
export class Schema {
  readonly entities: readonly EntityDef[];
  private readonly byLogical = new Map<string, EntityDef>();
  private readonly bySet = new Map<string, EntityDef>();
  private readonly attrs = new Map<string, Map<string, AttributeDef>>();

  constructor(entities: readonly EntityDef[] = ALL_ENTITIES) {
    // each emulator's own option lists: InsertOptionValue adds to one organisation's, not every emulator's in
    // the process (the definitions are module constants)
    this.entities = entities.map((e) => ({
      ...e,
      attributes: e.attributes.map((a) => (a.options ? { ...a, options: [...a.options] } : a)),
    }));
    for (const e of this.entities) {
      this.byLogical.set(e.logicalName, e);
      this.bySet.set(e.entitySetName, e);
      this.attrs.set(e.logicalName, new Map(e.attributes.map((a) => [a.logicalName, a])));
    }
  }

  /** the option lists as defined, for restoreOptions: a reset organisation is the one it started as */
  private readonly definedOptions = new Map<OptionDef[], OptionDef[]>();

  /** InsertOptionValue: an option added to a local choice column of this organisation. */
  insertOption(attribute: AttributeDef, option: OptionDef): void {
    const options = attribute.options!;
    if (!this.definedOptions.has(options)) this.definedOptions.set(options, [...options]);
    options.push(option);
  }

  restoreOptions(): void {
    for (const [options, defined] of this.definedOptions) options.splice(0, options.length, ...defined);
    this.definedOptions.clear();
  }

  entity(logicalName: string): EntityDef | undefined {
    return this.byLogical.get(logicalName);
  }

  entityBySet(setName: string): EntityDef | undefined {
    return this.bySet.get(setName);
  }

  attribute(entity: EntityDef, name: string): AttributeDef | undefined {
    return this.attrs.get(entity.logicalName)?.get(name);
  }

  /** `_parentaccountid_value` → the parentaccountid lookup attribute */
  lookupFromValueName(entity: EntityDef, name: string): AttributeDef | undefined {
    const m = /^_(.+)_value$/.exec(name);
    if (!m) return undefined;
    const a = this.attribute(entity, m[1]!);
    return a && isLookup(a) ? a : undefined;
  }
}

export function isLookup(a: AttributeDef): boolean {
  return a.type === 'Lookup' || a.type === 'Customer' || a.type === 'Owner';
}
