import { DynamicsMcpError } from '../errors.js';
import type { Logger } from '../logging.js';
import {
  CHOICES_TYPE,
  type CollectionNav,
  type ColumnModel,
  type EntityModel,
  type ModelSource,
  type OptionModel,
  type SingleNav,
} from '../policy/model.js';
import { jsonOf, pageOf } from './answers.js';
import { sendBatch } from './batch.js';
import { waitedFor } from './signals.js';
import { cancelled, type Transport } from './transport.js';

export const API = '/api/data/v9.2';

// biome-ignore lint/suspicious/noExplicitAny: metadata JSON is read field by field, each one checked where used
type Json = Record<string, any>;

export interface EntitySummary {
  logicalName: string;
  entitySetName: string;
  displayName: string;
  primaryIdAttribute: string;
  primaryNameAttribute: string;
}

type Label = { UserLocalizedLabel?: { Label?: string } | null } | undefined;
const label = (l: Label, fallback: string) => l?.UserLocalizedLabel?.Label ?? fallback;
// a status reason's option names the state it belongs to (StatusOptionMetadata.State), and a state its
// default status reason (StateOptionMetadata.DefaultStatus)
const options = (
  os: { Options?: { Value: number; Label?: Label; State?: number; DefaultStatus?: number }[] } | undefined,
): OptionModel[] | undefined =>
  os?.Options?.map((o) => ({
    value: o.Value,
    label: label(o.Label, String(o.Value)),
    ...(typeof o.State === 'number' ? { state: o.State } : {}),
    ...(typeof o.DefaultStatus === 'number' ? { defaultStatus: o.DefaultStatus } : {}),
  }));

/**
 * A table's lookups as relationships to follow, keyed by navigation property. An owner (ownerid) is a user or a
 * team, but its own relationship leads to the owner table (the principal type), through which nothing but the
 * owner's id can be read ("ownerid/fullname" is refused: principal has no fullname). Dataverse keeps the owner
 * again in owninguser or owningteam, and those relationships reach the user's and the team's columns: so they
 * are the owner's relationships here, one per table it may be, as a customer's are (owninguser/fullname,
 * owningteam/name), and the owner table's is left out.
 */
function ownersFollowed(columns: Map<string, ColumnModel>, navs: SingleNav[]): Map<string, SingleNav> {
  const owner = [...columns.values()].find((c) => c.type === 'Owner');
  const byOwner: Readonly<Record<string, string>> = { owninguser: 'systemuser', owningteam: 'team' };
  const out = new Map<string, SingleNav>();
  for (const n of navs) {
    if (owner && n.attribute === owner.logicalName && n.target === 'owner') continue;
    const ownedAs = owner ? byOwner[n.attribute.toLowerCase()] : undefined;
    out.set(n.navigationProperty.toLowerCase(), ownedAs === n.target ? { ...n, attribute: owner!.logicalName } : n);
  }
  return out;
}

/** how old a table's metadata must be before a value its options lack has it read again (MetadataCache.reread) */
export const OPTIONS_REREAD_AFTER_MS = 60_000;

/**
 * Entity metadata (QMETA, RMETA): the table list, then per table its attributes with types, required levels,
 * lengths, option sets, lookup targets and navigation properties, fetched in one $batch and cached with a
 * TTL. Used for name resolution, the policy's checks, type coercion, labels and suggestions.
 */
export class MetadataCache implements ModelSource {
  private list: { at: number; value: Promise<EntitySummary[]> } | null = null;
  private readonly models = new Map<string, { at: number; value: Promise<EntityModel> }>();

  constructor(
    private readonly transport: Transport,
    private readonly serviceRoot: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
    /** called with each table's model when it is first loaded */
    private readonly onFirstLoad: (model: EntityModel) => void = () => {},
    /** called with the list of tables the first time it is read */
    private readonly onFirstList: (list: readonly EntitySummary[]) => void = () => {},
  ) {}

  private listed = false;

  private fresh(at: number): boolean {
    return Date.now() - at < this.ttlMs;
  }

  entities(signal?: AbortSignal): Promise<EntitySummary[]> {
    if (this.list && this.fresh(this.list.at)) return waited(this.list.value, signal);
    // read for every caller: one caller's end (a cancelled call) ends its wait, not the read the others share
    const value = this.transport
      .send({
        method: 'GET',
        path: `${API}/EntityDefinitions?$select=LogicalName,EntitySetName,DisplayName,PrimaryIdAttribute,PrimaryNameAttribute`,
        idempotent: true,
      })
      .then((r) =>
        pageOf(r, 'the list of tables')
          .rows.filter((e) => e.EntitySetName)
          .map((e) => ({
            logicalName: String(e.LogicalName),
            entitySetName: String(e.EntitySetName),
            displayName: label(e.DisplayName as Label, String(e.LogicalName)),
            primaryIdAttribute: String(e.PrimaryIdAttribute),
            primaryNameAttribute: String(e.PrimaryNameAttribute ?? ''),
          })),
      );
    this.list = { at: Date.now(), value };
    value.then(
      (list) => {
        if (this.listed) return;
        this.listed = true;
        this.onFirstList(list);
      },
      // a failed read is not kept: the next call asks again
      () => {
        if (this.list?.value === value) this.list = null;
      },
    );
    return waited(value, signal);
  }

  async resolveEntityName(input: string): Promise<string | undefined> {
    const wanted = input.trim().toLowerCase();
    const list = await this.entities();
    return list.find((e) => e.logicalName.toLowerCase() === wanted || e.entitySetName.toLowerCase() === wanted)
      ?.logicalName;
  }

  async tablesCalled(input: string): Promise<EntitySummary[]> {
    const wanted = input.trim().toLowerCase();
    // the display name is singular ("Case", "Opportunity"); a model asking for "cases" means the same table
    const forms = new Set([wanted, wanted.replace(/s$/, ''), wanted.replace(/es$/, ''), wanted.replace(/ies$/, 'y')]);
    return (await this.entities()).filter((e) => forms.has(e.displayName.toLowerCase()));
  }

  entity(logicalName: string, signal?: AbortSignal): Promise<EntityModel> {
    const key = logicalName.toLowerCase();
    const hit = this.models.get(key);
    if (hit && this.fresh(hit.at)) return waited(hit.value, signal);
    const first = !hit;
    // read for every caller, as the list of tables is
    const value = this.load(key);
    if (first) void value.then(this.onFirstLoad, () => {});
    this.models.set(key, { at: Date.now(), value });
    value.catch(() => {
      if (this.models.get(key)?.value === value) this.models.delete(key);
    });
    return waited(value, signal);
  }

  /**
   * A table's model read again before its TTL is out, where the one kept was read at least `minAgeMs` ago:
   * for a value the kept options do not have, which an admin may have added since (an option of their own).
   * Whether it was read again; a model read more recently is kept, so refused values cannot make every call
   * read metadata. Two calls refused at once: one reads again, the other is refused as before.
   */
  async reread(logicalName: string, minAgeMs: number, signal?: AbortSignal): Promise<boolean> {
    const key = logicalName.toLowerCase();
    const hit = this.models.get(key);
    if (!hit || Date.now() - hit.at < minAgeMs) return false;
    // as if its TTL were out: read again, not loaded for the first time
    this.models.set(key, { ...hit, at: 0 });
    this.log.info({ entity: key }, 'table metadata read again: a value given has no option in the one kept');
    // one that cannot be read now leaves the refusal as it was
    return this.entity(key, signal).then(
      () => true,
      () => false,
    );
  }

  private async load(logicalName: string): Promise<EntityModel> {
    const e = `EntityDefinitions(LogicalName='${logicalName}')`;
    const cast = (t: string, q: string) => `${e}/Attributes/Microsoft.Dynamics.CRM.${t}?${q}`;
    // what only some columns and lists need (choices columns, many-to-many lists): a table is read without them
    // where the service refuses the request, rather than not at all
    const choicesUrl = cast(
      'MultiSelectPicklistAttributeMetadata',
      '$select=LogicalName&$expand=OptionSet($select=Options)',
    );
    const manyUrl = `${e}/ManyToManyRelationships?$select=Entity1LogicalName,Entity2LogicalName,Entity1NavigationPropertyName,Entity2NavigationPropertyName`;
    const optional = new Set([choicesUrl, manyUrl]);
    const urls = [
      `${e}?$select=LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,DisplayName,IsOptimisticConcurrencyEnabled`,
      `${e}/Attributes?$select=LogicalName,AttributeType,DisplayName,RequiredLevel,IsValidForCreate,IsValidForUpdate,IsValidForRead`,
      cast('StringAttributeMetadata', '$select=LogicalName,MaxLength,FormatName'),
      cast('MemoAttributeMetadata', '$select=LogicalName,MaxLength'),
      cast('LookupAttributeMetadata', '$select=LogicalName,Targets'),
      cast('PicklistAttributeMetadata', '$select=LogicalName&$expand=OptionSet($select=Options)'),
      cast('StateAttributeMetadata', '$select=LogicalName&$expand=OptionSet($select=Options)'),
      cast('StatusAttributeMetadata', '$select=LogicalName&$expand=OptionSet($select=Options)'),
      cast('BooleanAttributeMetadata', '$select=LogicalName&$expand=OptionSet($select=TrueOption,FalseOption)'),
      cast('IntegerAttributeMetadata', '$select=LogicalName,MinValue,MaxValue,Format'),
      cast('MoneyAttributeMetadata', '$select=LogicalName,MinValue,MaxValue,Precision'),
      cast('DateTimeAttributeMetadata', '$select=LogicalName,Format,DateTimeBehavior'),
      choicesUrl,
      `${e}/ManyToOneRelationships?$select=ReferencingAttribute,ReferencedEntity,ReferencingEntityNavigationPropertyName`,
      `${e}/OneToManyRelationships?$select=ReferencingEntity,ReferencingAttribute,ReferencedEntityNavigationPropertyName`,
      manyUrl,
    ];
    const { parts } = await sendBatch(
      this.transport,
      this.serviceRoot,
      urls.map((url) => ({ method: 'GET' as const, url })),
    );
    if (parts[0]?.status === 404)
      throw new DynamicsMcpError(
        'not_found',
        `There is no table '${logicalName}'.`,
        'Call describe_entity without arguments to list the tables you may use.',
      );
    const bodies = parts.map((p, i) => {
      // (the log says so)
      if ((p.status === 400 || p.status === 404) && optional.has(urls[i]!)) {
        this.log.warn(
          { entity: logicalName, request: urls[i]!.split('?')[0], status: p.status },
          'metadata part refused; the table is read without it',
        );
        return { value: [] } as Json;
      }
      if (p.status !== 200)
        throw new DynamicsMcpError(
          'server',
          `Reading metadata for ${logicalName} failed (${urls[i]!.split('?')[0]}: HTTP ${p.status}).`,
          'Try again in a minute.',
        );
      return jsonOf({ ...p, text: p.body }, `the metadata of ${logicalName}`) as Json;
    });
    const [head, base, str, memo, lookup, pick, state, status, bool, int, money, dt, choices, m2o, o2m, m2m] = bodies;
    const byName = <T>(rows: Json[] | undefined, f: (r: Json) => T) =>
      new Map((rows ?? []).map((r) => [String(r.LogicalName), f(r)]));
    const lengths = new Map([...byName(str!.value, (r) => r.MaxLength), ...byName(memo!.value, (r) => r.MaxLength)]);
    const targets = byName(lookup!.value, (r) => r.Targets as string[]);
    const opts = new Map([
      ...byName(pick!.value, (r) => options(r.OptionSet)),
      ...byName(state!.value, (r) => options(r.OptionSet)),
      ...byName(status!.value, (r) => options(r.OptionSet)),
      ...byName(choices!.value, (r) => options(r.OptionSet)),
      ...byName(bool!.value, (r) => [
        { value: 0, label: label(r.OptionSet?.FalseOption?.Label, 'No') },
        { value: 1, label: label(r.OptionSet?.TrueOption?.Label, 'Yes') },
      ]),
    ]);
    const choiceColumns = new Set(((choices!.value ?? []) as Json[]).map((r) => String(r.LogicalName)));
    const ranges = new Map([...byName(int!.value, (r) => r), ...byName(money!.value, (r) => r)]);
    const formats = byName(dt!.value, (r) => r.Format);
    const behaviours = byName(dt!.value, (r) => r.DateTimeBehavior?.Value as string | undefined);
    const textFormats = byName(str!.value, (r) => r.FormatName?.Value as string | undefined);
    // a whole number's Format (IntegerFormat): Duration is minutes, which coerce.ts reads from "1.5 hours"
    const intFormats = byName(int!.value, (r) => (r.Format && r.Format !== 'None' ? String(r.Format) : undefined));
    const columns = new Map<string, ColumnModel>();
    for (const a of base!.value as Json[]) {
      const name = String(a.LogicalName);
      const range = ranges.get(name);
      columns.set(name.toLowerCase(), {
        logicalName: name,
        // AttributeType says Virtual for a choices column (and an image): the choices cast lists the columns it is
        type: choiceColumns.has(name) ? CHOICES_TYPE : String(a.AttributeType),
        label: label(a.DisplayName, name),
        requiredLevel: String(a.RequiredLevel?.Value ?? 'None'),
        maxLength: lengths.get(name),
        minValue: range?.MinValue,
        maxValue: range?.MaxValue,
        dateOnly: formats.get(name) === 'DateOnly' ? true : undefined,
        timeZoneIndependent: behaviours.get(name) === 'TimeZoneIndependent' ? true : undefined,
        format: textFormats.get(name) ?? intFormats.get(name),
        targets: targets.get(name),
        options: opts.get(name),
        validForCreate: a.IsValidForCreate !== false,
        validForUpdate: a.IsValidForUpdate !== false,
        validForRead: a.IsValidForRead !== false,
      });
    }
    const model: EntityModel = {
      logicalName: String(head!.LogicalName),
      entitySetName: String(head!.EntitySetName),
      primaryIdAttribute: String(head!.PrimaryIdAttribute),
      primaryNameAttribute: String(head!.PrimaryNameAttribute ?? ''),
      displayName: label(head!.DisplayName, logicalName),
      optimisticConcurrency: head!.IsOptimisticConcurrencyEnabled === true,
      columns,
      singleNavs: ownersFollowed(
        columns,
        (m2o!.value as Json[])
          .filter((x) => x.ReferencingEntityNavigationPropertyName)
          .map((x) => ({
            navigationProperty: String(x.ReferencingEntityNavigationPropertyName),
            attribute: String(x.ReferencingAttribute),
            target: String(x.ReferencedEntity),
          })),
      ),
      collectionNavs: new Map([
        ...(o2m!.value as Json[])
          .filter((x) => x.ReferencedEntityNavigationPropertyName)
          .map((x): [string, CollectionNav] => [
            String(x.ReferencedEntityNavigationPropertyName).toLowerCase(),
            {
              navigationProperty: String(x.ReferencedEntityNavigationPropertyName),
              referencingEntity: String(x.ReferencingEntity),
              referencingAttribute: String(x.ReferencingAttribute),
            },
          ]),
        ...manyToMany(logicalName, (m2m!.value ?? []) as Json[]),
      ]),
    };
    this.log.debug({ entity: logicalName, columns: columns.size }, 'metadata loaded');
    return model;
  }
}

/**
 * A table's side of its many-to-many relationships (team members, a deal's competitors): a list each, named by
 * the table's own navigation property (Entity1NavigationPropertyName where it is entity 1), its rows in the
 * other table, which reaches back through its own. A relationship of a table with itself is listed from both
 * sides, each a list.
 */
function manyToMany(logicalName: string, rows: Json[]): [string, CollectionNav][] {
  const out: [string, CollectionNav][] = [];
  for (const r of rows)
    for (const [me, other] of [
      ['1', '2'],
      ['2', '1'],
    ] as const) {
      const nav = r[`Entity${me}NavigationPropertyName`];
      if (String(r[`Entity${me}LogicalName`]) !== logicalName || !nav) continue;
      out.push([
        String(nav).toLowerCase(),
        {
          navigationProperty: String(nav),
          referencingEntity: String(r[`Entity${other}LogicalName`]),
          referencingAttribute: '',
          back: String(r[`Entity${other}NavigationPropertyName`] ?? ''),
        },
      ]);
    }
  return out;
}

/** One caller's wait on a read every caller shares: its end is said as any cancelled call is */
const waited = <T>(shared: Promise<T>, signal: AbortSignal | undefined) => waitedFor(shared, signal, cancelled);
