import { readFileSync } from 'node:fs';
import { DynamicsMcpError, policyError, readOnlyError } from '../errors.js';
import { DEFAULT_POLICY } from './default.js';
import { type PolicyDocument, type PolicyInput, policySchema } from './schema.js';

interface Rule {
  read: Set<string>;
  write: Set<string>;
  expand: Set<string>;
  confirmWrites: boolean;
  create: boolean;
  delete: boolean;
  sensitive: Set<string>;
}

/**
 * A policy's "ownerid" among the relationships it follows is the owner, user or team: followed through
 * owninguser and owningteam, the relationships that reach their columns (ownerid's own leads to the principal
 * type, which has only an id), as an administrator who names the owner means.
 */
function ownersAsFollowed(names: Set<string>): Set<string> {
  if (!names.delete('ownerid')) return names;
  return new Set([...names, 'owninguser', 'owningteam']);
}

const lower = (xs: string[]) => new Set(xs.map((x) => x.toLowerCase()));

/**
 * The allowlist, deny by default. Entries are keyed by logical name; lookups take any casing. Column sets
 * hold lower-cased logical names; navigation sets hold lower-cased navigation property names.
 */
/**
 * How Dynamics closes these records: won/lost opportunities, resolved cases and qualified leads go through
 * their own actions, not an update of statecode (Web API actions reference)
 */
const STATUS_ACTIONS: ReadonlyMap<string, string> = new Map([
  ['incident', 'Dynamics resolves a case through its CloseIncident action: use resolve_case.'],
  [
    'opportunity',
    'statecode "Won" or "Lost" closes an opportunity (Dynamics\' WinOpportunity or LoseOpportunity action); reopening one ("Open") is an update of statecode, which this server\'s policy does not allow here.',
  ],
  [
    'lead',
    'statecode "Qualified" qualifies a lead (Dynamics\' QualifyLead action, which makes its account, contact and opportunity) and "Disqualified" disqualifies it, where the policy lets lead\'s statecode and statuscode be written.',
  ],
]);

/** The table of every activity, whose rows the model sees only for the kinds it may read (rowsOf). */
const ACTIVITY_POINTER = 'activitypointer';

export class Policy {
  readonly readOnly: boolean;
  readonly maxRows: number;
  readonly maxResultBytes: number;
  private readonly rules = new Map<string, Rule>();
  private readOnlyCopy?: Policy;

  constructor(
    private readonly doc: PolicyDocument,
    readOnlyOverride = false,
  ) {
    this.readOnly = doc.readOnly || readOnlyOverride;
    this.maxRows = doc.maxRows;
    this.maxResultBytes = doc.maxResultBytes;
    for (const [name, r] of Object.entries(doc.entities)) {
      this.rules.set(name.toLowerCase(), {
        read: lower(r.read),
        write: lower(r.write),
        expand: ownersAsFollowed(lower(r.expand)),
        confirmWrites: r.confirmWrites,
        create: r.create,
        delete: r.delete,
        sensitive: lower(r.sensitive),
      });
    }
    // the activities are told apart by their kind: without it readable, or without a kind to show, the list
    // would show every kind of activity or none
    if (this.rules.get(ACTIVITY_POINTER)?.read.size) {
      if (!this.canRead(ACTIVITY_POINTER, 'activitytypecode') || !this.activityKinds().length)
        throw new DynamicsMcpError(
          'config',
          'The policy lets activitypointer be read without activitytypecode readable or without an activity table to show (one whose activityid is readable, such as task or phonecall).',
          "Add activitytypecode to activitypointer's read list and the activity tables whose records it may list (with activityid readable), or leave activitypointer out.",
        );
    }
  }

  /**
   * The rows of a table the model may see, where a table holds other tables' records: ActivityPointer has a row
   * for every activity of every kind (letters, faxes, an organisation's own activity tables), so the model sees
   * only the kinds whose own table the policy lets it read (their key, activityid). Applied to every query,
   * related list and aggregation of it; a list of it cannot be filtered through (check.ts).
   */
  rowsOf(entity: string): { column: string; op: 'in'; value: string[] } | undefined {
    if (entity.toLowerCase() !== ACTIVITY_POINTER || !this.rules.has(ACTIVITY_POINTER)) return undefined;
    return { column: 'activitytypecode', op: 'in', value: this.activityKinds() };
  }

  private activityKinds(): string[] {
    return this.entities().filter((e) => e !== ACTIVITY_POINTER && this.canRead(e, 'activityid'));
  }

  /**
   * The same policy with nothing writable: what a hosted session opened with read-only credentials sees (its
   * write tools are not listed, describe_entity marks no column writable). Made once.
   */
  readOnlyView(): Policy {
    if (this.readOnly) return this;
    this.readOnlyCopy ??= new Policy(this.doc, true);
    return this.readOnlyCopy;
  }

  static fromInput(input: PolicyInput, readOnlyOverride = false): Policy {
    return new Policy(policySchema.parse(input), readOnlyOverride);
  }

  /** The policy file at `path`, or the built-in policy. Errors say which entry is wrong. */
  static load(path: string | undefined, readOnlyOverride = false): Policy {
    if (!path) return Policy.fromInput(DEFAULT_POLICY, readOnlyOverride);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new DynamicsMcpError(
        'config',
        `Cannot read the policy file ${path}: ${(err as Error).message}`,
        'Fix DYNAMICS_MCP_POLICY: it must name a JSON file like {"entities": {"account": {"read": ["accountid", "name"]}}}.',
      );
    }
    const parsed = policySchema.safeParse(raw);
    if (!parsed.success)
      throw new DynamicsMcpError(
        'config',
        `The policy file ${path} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        'Each entity entry takes "read", "write" and "expand" arrays of names, and optional "create", "delete", "confirmWrites" and "sensitive".',
      );
    return new Policy(parsed.data, readOnlyOverride);
  }

  /** Logical names of the tables the model may use at all. */
  entities(): string[] {
    return [...this.rules.entries()].filter(([, r]) => r.read.size || r.write.size).map(([n]) => n);
  }

  rule(entity: string): Rule | undefined {
    return this.rules.get(entity.toLowerCase());
  }

  canRead(entity: string, column: string): boolean {
    return this.rule(entity)?.read.has(column.toLowerCase()) ?? false;
  }

  canWrite(entity: string, column: string): boolean {
    return !this.readOnly && (this.rule(entity)?.write.has(column.toLowerCase()) ?? false);
  }

  canFollow(entity: string, navigation: string): boolean {
    return this.rule(entity)?.expand.has(navigation.toLowerCase()) ?? false;
  }

  isSensitive(entity: string, column: string): boolean {
    return this.rule(entity)?.sensitive.has(column.toLowerCase()) ?? false;
  }

  /** Whether create_record may make records of this table (its policy entry says "create": true). */
  canCreate(entity: string): boolean {
    return !this.readOnly && (this.rule(entity)?.create ?? false) && (this.rule(entity)?.write.size ?? 0) > 0;
  }

  /** The tables create_record may make records of. */
  creatable(): string[] {
    return this.entities().filter((e) => this.canCreate(e));
  }

  /**
   * Whether delete_record may delete records of this table (its policy entry says "delete": true, and the table
   * may be read: a record is read before it is deleted, for the answer and the audit to say what it was).
   */
  canDelete(entity: string): boolean {
    return !this.readOnly && (this.rule(entity)?.delete ?? false) && (this.rule(entity)?.read.size ?? 0) > 0;
  }

  /** The tables delete_record may delete records of. */
  deletable(): string[] {
    return this.entities().filter((e) => this.canDelete(e));
  }

  /** Refuses a delete the policy does not allow, naming the tables it allows one in. */
  assertDeletable(entity: string): void {
    if (this.readOnly) throw readOnlyError(`Deleting a ${entity}`);
    if (this.canDelete(entity)) return;
    const tables = this.deletable();
    throw policyError(
      `Deleting ${entity} records is not allowed under this server's policy.`,
      tables.length
        ? `Records can be deleted only from: ${tables.join(', ')}. To change this record instead, use update_record.`
        : 'No table allows deleting here; use update_record to change the record instead (e.g. its status).',
    );
  }

  confirmWrites(entity: string): boolean {
    return this.rule(entity)?.confirmWrites ?? false;
  }

  assertEntityReadable(entity: string): void {
    const r = this.rule(entity);
    if (!r || r.read.size === 0)
      throw policyError(
        `The table '${entity}' is not available under this server's policy.`,
        `Tables you may read: ${this.entities().join(', ') || '(none)'}. Call describe_entity without arguments to list them.`,
      );
  }

  assertWritable(entity: string, columns: string[], action: string): void {
    if (this.readOnly) throw readOnlyError(action);
    const r = this.rule(entity);
    if (!r || r.write.size === 0) {
      // a table the policy reads is for the read tools; one it does not offer at all is no table to turn to
      const writable = this.entities().filter((e) => (this.rule(e)?.write.size ?? 0) > 0);
      throw policyError(
        `Writing to '${entity}' is not allowed under this server's policy.`,
        r?.read.size
          ? 'Only read tools can be used on this table.'
          : `The policy does not offer the table. Tables that may be written: ${writable.join(', ') || '(none)'}.`,
      );
    }
    const refused = columns.filter((c) => !r.write.has(c.toLowerCase()));
    if (refused.length) {
      // "close this case", "mark the deal won": a model reaches for statecode
      const status = refused.some((c) => /^(statecode|statuscode)$/i.test(c)) ? STATUS_ACTIONS.get(entity) : undefined;
      throw policyError(
        `Column${refused.length > 1 ? 's' : ''} ${refused.map((c) => `'${c}'`).join(', ')} of '${entity}' cannot be written under this server's policy.`,
        (status ? `${status} ` : '') +
          `Writable columns of ${entity}: ${[...r.write].join(', ')}. See describe_entity('${entity}').`,
      );
    }
  }

  readableList(entity: string): string[] {
    return [...(this.rule(entity)?.read ?? [])];
  }
}
