import type { EntityDef } from '../schema/index.js';
import { RecordIds } from './ids.js';

/** A lookup value as stored: the related row's id and table. */
export interface LookupRef {
  id: string;
  entity: string;
}

export type Value = string | number | boolean | null | LookupRef;
export type Row = Record<string, Value>;

/**
 * A GUID as SQL Server orders uniqueidentifier values (Dataverse's store): the last six bytes are the
 * most significant, then bytes 8–9, 6–7, 4–5 and 0–3, with the first three groups stored little-endian.
 * Sorting these keys as strings gives that order; it is what primary-key order and GUID comparisons use.
 */
export function guidKey(id: string): string {
  const g = id.toLowerCase();
  if (g.length !== 36) return g;
  return `${g.slice(24, 36)}${g.slice(19, 23)}${g.slice(16, 18)}${g.slice(14, 16)}${g.slice(11, 13)}${g.slice(9, 11)}${g.slice(6, 8)}${g.slice(4, 6)}${g.slice(2, 4)}${g.slice(0, 2)}`;
}

/** SQL Server's byte groups of a GUID, most significant first (the order guidKey() writes them in). */
const GUID_ORDER = [
  24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 19, 20, 21, 22, 16, 17, 14, 15, 11, 12, 9, 10, 6, 7, 4, 5, 2, 3, 0, 1,
];

/**
 * compares two GUIDs in uniqueidentifier order, like comparing their guidKey()s but without building
 * strings: sorting tens of thousands of rows calls this for every tie.
 */
export function compareGuids(a: string, b: string): number {
  if (a.length !== 36 || b.length !== 36) {
    const x = guidKey(a);
    const y = guidKey(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  for (const i of GUID_ORDER) {
    // hex digits: `| 0x20` folds A–F to a–f and leaves 0–9 as they are
    const x = a.charCodeAt(i) | 0x20;
    const y = b.charCodeAt(i) | 0x20;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function isLookupRef(v: unknown): v is LookupRef {
  return typeof v === 'object' && v !== null && 'id' in v && 'entity' in v;
}

/**
 * A record's owner is a user or a team (ownerid); Dataverse keeps which in owninguser or owningteam, the other
 * empty, and a query reaches the owner's name only through them. Set wherever a row is written, so no write
 * (a create, an assignment, the seed) can leave them behind ownerid.
 */
function ownedBy(row: Row): void {
  const owner = row.ownerid;
  row.owninguser = isLookupRef(owner) && owner.entity === 'systemuser' ? owner : null;
  row.owningteam = isLookupRef(owner) && owner.entity === 'team' ? owner : null;
}

/**
 * One table's rows. Keeps a lazily rebuilt sorted id list so that paging a large table in primary-key
 * order (the default order) costs a binary search per page rather than a sort.
 */
export class Table {
  readonly rows = new Map<string, Row>();
  private sorted: string[] | null = null;
  /** the rows in the order of `sorted`, rebuilt after any write (a replaced row is a new object) */
  private sortedRowList: Row[] | null = null;

  /** whether rows carry owninguser and owningteam beside ownerid (the user-owned tables) */
  private readonly owned: boolean;

  constructor(readonly def: EntityDef) {
    this.owned = def.attributes.some((a) => a.logicalName === 'owningteam');
  }

  get(id: string): Row | undefined {
    return this.rows.get(id);
  }

  put(id: string, row: Row): void {
    if (this.owned) ownedBy(row);
    if (!this.rows.has(id)) this.sorted = null;
    this.sortedRowList = null;
    this.rows.set(id, row);
  }

  remove(id: string): boolean {
    const had = this.rows.delete(id);
    if (had) {
      this.sorted = null;
      this.sortedRowList = null;
    }
    return had;
  }

  clear(): void {
    this.rows.clear();
    this.sorted = null;
    this.sortedRowList = null;
  }

  sortedIds(): string[] {
    if (!this.sorted) {
      const keyed = [...this.rows.keys()].map((id) => [guidKey(id), id] as const);
      keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      this.sorted = keyed.map((k) => k[1]);
    }
    return this.sorted;
  }

  /** The rows in primary-key order: a 5,000-row page reads them off an array, not 5,000 Map lookups. */
  sortedRows(): Row[] {
    if (!this.sortedRowList) this.sortedRowList = this.sortedIds().map((id) => this.rows.get(id)!);
    return this.sortedRowList;
  }
}

/**
 * A table kept as a projection of others (ActivityPointer: one row per activity of any kind): every
 * write to a source table is written to the target in the same step, and undone with it.
 */
export interface Derived {
  target: string;
  sources: ReadonlySet<string>;
  project(source: string, row: Row): Row;
}

interface JournalEntry {
  table: Table;
  id: string;
  before: Row | undefined;
}

/**
 * All tables, plus the row-version counter behind @odata.etag and an undo journal that makes a
 * $batch change set atomic (BATCH: "any failure rolls back the whole set").
 */
export class Store {
  private readonly tables = new Map<string, Table>();
  /** ids for records created without one (seeded, or POSTed without a key) */
  readonly ids = new RecordIds();
  private version = 1_000_000;
  private journal: JournalEntry[] | null = null;

  constructor(
    entities: readonly EntityDef[],
    private readonly derived: readonly Derived[] = [],
  ) {
    for (const e of entities) this.tables.set(e.logicalName, new Table(e));
  }

  table(logicalName: string): Table {
    const t = this.tables.get(logicalName);
    if (!t) throw new Error(`no table ${logicalName}`);
    return t;
  }

  nextVersion(): number {
    return ++this.version;
  }

  private remember(table: Table, id: string): void {
    if (this.journal) this.journal.push({ table, id, before: table.get(id) });
  }

  insert(table: Table, id: string, row: Row): void {
    this.remember(table, id);
    table.put(id, row);
    this.project(table, id, row);
  }

  replace(table: Table, id: string, row: Row): void {
    this.remember(table, id);
    table.put(id, row);
    this.project(table, id, row);
  }

  delete(table: Table, id: string): boolean {
    this.remember(table, id);
    this.project(table, id, undefined);
    return table.remove(id);
  }

  /** A source row's projection written (or removed) with it, through the journal: a change set undoes both. */
  private project(table: Table, id: string, row: Row | undefined): void {
    for (const d of this.derived) {
      if (!d.sources.has(table.def.logicalName) || !this.tables.has(d.target)) continue;
      const target = this.table(d.target);
      this.remember(target, id);
      if (row) target.put(id, d.project(table.def.logicalName, row));
      else target.remove(id);
    }
  }

  /** Every derived table made again from its sources: after seeding, which writes tables directly. */
  rebuildDerived(): void {
    for (const d of this.derived) {
      if (!this.tables.has(d.target)) continue;
      const target = this.table(d.target);
      target.clear();
      for (const source of d.sources)
        if (this.tables.has(source))
          for (const [id, row] of this.table(source).rows) target.put(id, d.project(source, row));
    }
  }

  /**
   * Runs `fn` so that either all of its writes stay or none do. Synchronous on purpose: no other
   * request can interleave with a change set, so the journal holds only the change set's own writes.
   */
  atomically<T>(fn: () => T): T {
    if (this.journal) return fn();
    this.journal = [];
    try {
      const result = fn();
      this.journal = null;
      return result;
    } catch (err) {
      const journal = this.journal ?? [];
      this.journal = null;
      for (let i = journal.length - 1; i >= 0; i--) {
        const { table, id, before } = journal[i]!;
        if (before) table.put(id, before);
        else table.remove(id);
      }
      throw err;
    }
  }

  clear(): void {
    for (const t of this.tables.values()) t.clear();
    this.ids.reset();
  }
}
