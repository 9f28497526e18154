import type { Schema } from '../schema/index.js';
import type { EntityDef, OneToMany } from '../schema/types.js';
import { isLookupRef, type Row, type Store, type Value } from '../store/store.js';
import { normalise } from './filter-values.js';

/** What a query needs besides its own text: the data, the clock, the caller, and per-query caches. */
export class QueryEnv {
  private readonly childIndexes = new Map<string, Map<string, Row[]>>();

  constructor(
    readonly schema: Schema,
    readonly store: Store,
    readonly now: Date,
    readonly callerId: string,
    /** parameter aliases from the query string (`@p1=…`), raw text */
    readonly aliases: ReadonlyMap<string, string> = new Map(),
  ) {}

  /** The organisation's first day of the week (weekstartdaycode: 0 Sunday … 6 Saturday), from its one row. */
  get weekStart(): number {
    const org = this.store.table('organization').rows.values().next().value;
    const code = org?.weekstartdaycode;
    return typeof code === 'number' && code >= 0 && code <= 6 ? code : 0;
  }

  private teams?: Set<string>;
  /** The teams the caller is a member of (teammembership), as normalised GUID keys; read once per query. */
  callerTeams(): Set<string> {
    if (!this.teams) {
      const me = normalise(this.callerId, 'guid');
      this.teams = new Set();
      for (const m of this.store.table('teammembership').rows.values())
        if (normalise(m.systemuserid as string, 'guid') === me)
          this.teams.add(normalise(m.teamid as string, 'guid') as string);
    }
    return this.teams;
  }

  /** The row a lookup value points at, if it exists. */
  related(v: Value | undefined, target?: string): Row | undefined {
    if (!isLookupRef(v) || (target && v.entity !== target)) return undefined;
    if (!this.schema.entity(v.entity)) return undefined;
    return this.store.table(v.entity).get(v.id);
  }

  /** Primary name of the row a lookup points at: the lookup's formatted value and its sort key. */
  relatedName(v: Value | undefined): string | undefined {
    if (!isLookupRef(v)) return undefined;
    const def = this.schema.entity(v.entity);
    const row = this.related(v);
    const name = def && row ? row[def.primaryNameAttribute] : undefined;
    return typeof name === 'string' ? name : undefined;
  }

  /**
   * The rows a collection-valued navigation property leads to from a parent: those whose lookup points at it,
   * or, through a many-to-many relationship, those its intersect table pairs with it.
   */
  listOf(nav: OneToMany, child: EntityDef, parentId: string): Row[] {
    if (!nav.through) return this.children(child, nav.referencingAttribute, parentId);
    const { intersect, self, other } = nav.through;
    const rows = this.store.table(child.logicalName);
    return this.children(this.schema.entity(intersect)!, self, parentId)
      .map((pair) => rows.get(String(pair[other])))
      .filter((r): r is Row => !!r);
  }

  /** Rows of `child` whose `attribute` points at each parent id; built once per query and relationship. */
  children(child: EntityDef, attribute: string, parentId: string): Row[] {
    const key = `${child.logicalName}.${attribute}`;
    let index = this.childIndexes.get(key);
    if (!index) {
      index = new Map();
      for (const row of this.store.table(child.logicalName).rows.values()) {
        // a lookup, or an intersect table's plain id column (teammembership.teamid)
        const ref = row[attribute];
        const id = isLookupRef(ref) ? ref.id : typeof ref === 'string' ? ref : undefined;
        if (!id) continue;
        let list = index.get(id);
        if (!list) {
          list = [];
          index.set(id, list);
        }
        list.push(row);
      }
      this.childIndexes.set(key, index);
    }
    return index.get(parentId) ?? [];
  }
}
