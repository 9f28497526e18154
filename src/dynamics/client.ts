import type { Config } from '../config/schema.js';
import { badInput, DynamicsMcpError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { ApplyStep, ExpandItem, OrderByItem } from '../odata/ast.js';
import { type QueryParts, ReadChecker } from '../policy/check.js';
import type { EntityModel } from '../policy/model.js';
import type { Policy } from '../policy/policy.js';
import { closest } from '../policy/suggest.js';
import { unmatchedKeyText, unmatchedTableKeys } from '../policy/table-keys.js';
import { pageOf, rowOf } from './answers.js';
import type { TokenProvider } from './auth.js';
import { guidValue } from './coerce.js';
import { type Condition, ConditionBuilder } from './conditions.js';
import type { BatchCreateResult, CreateManyOptions } from './create-many.js';
import { CursorCodec, fingerprint } from './cursor.js';
import { pageSizeReadingFiles } from './file-columns.js';
import { type FileIo, type FileSlot, readFiles, swapFileBodies, webApiFileIo } from './file-reads.js';
import { followPages } from './follow-pages.js';
import { isGuid, keySpans } from './key-ranges.js';
import type { LinkChange, LinkResult } from './links.js';
import { API, type EntitySummary, MetadataCache, OPTIONS_REREAD_AFTER_MS } from './metadata.js';
import { callerTokens } from './obo.js';
import { CalendarSource } from './org-calendar.js';
import { retrieveActivePath } from './process-paths.js';
import { QueryPlanner } from './query-planner.js';
import { ANNOTATIONS, parseApply, queryString, skipTokenOf } from './query-text.js';
import type { QueueMove } from './queue-moves.js';
import { RememberedQueries } from './remembered-queries.js';
import { readSpans } from './span-reads.js';
import type { Transport } from './transport.js';
import type { WriteValues } from './write-body.js';
import { type ClosingAction, type CreateOptions, type CreateResult, RecordWriter } from './writes.js';

export type Row = Record<string, unknown>;

export interface QuerySpec {
  entity: string;
  select?: string[];
  where?: Condition;
  /** OData $filter text; parsed, checked and re-written before it is sent */
  filter?: string;
  /** e.g. "name asc, createdon desc" */
  orderBy?: string;
  /** rows in this page */
  top?: number;
  /** related records; a related list (one-to-many) may be filtered, sorted and shortened (at most EXPANDED_ROWS) */
  expand?: { relation: string; select?: string[]; where?: Condition; orderBy?: string; top?: number }[];
  count?: boolean;
}

/** What makes a query besides its table and page size: a cursor passed without any continues its own query. */
const QUERY_KEYS = ['select', 'where', 'filter', 'orderBy', 'expand', 'count'] as const;

export interface QueryPage {
  /** the query this page answers: the one asked, or the one a cursor passed alone continues */
  spec: QuerySpec;
  entity: EntityModel;
  rows: Row[];
  hasMore: boolean;
  cursor?: string;
  totalCount?: number;
  /** true when Dataverse stopped counting at 5,000 */
  totalCountCapped?: boolean;
  /** the order sent, checked and resolved (a label read as its column) */
  orderBy?: OrderByItem[];
  /** the rows a page holds: the top asked for, the policy's maxRows, or fewer where files are read */
  top: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export { EXPANDED_ROWS } from './query-planner.js';
export type { WriteValues } from './write-body.js';
export type { CreateResult } from './writes.js';
export type PagesSpec = Omit<QuerySpec, 'top'> & {
  pageSize?: number;
  annotations?: boolean;
  /**
   * Read this many ranges of the primary key at once (unordered reads only; rows then come in no
   * particular order), cut between the query's first and last key (two one-row reads find them), and a
   * range that turns out to hold most of the rows split again when another is done (see readSpans).
   * Dataverse serves concurrent requests in parallel, so a long read goes about that many times faster, up
   * to the service's limits.
   */
  parallel?: number;
};

const MAX_PARALLEL_READS = 8;

/**
 * The one Dynamics client every tool calls. Every request passes the policy's ReadChecker or write checks
 * first — follow-up pages and cursors included — and what goes on the wire is our own serialisation.
 */
export class DynamicsClient {
  readonly metadata: MetadataCache;
  readonly checker: ReadChecker;
  private readonly conditions: ConditionBuilder;
  private readonly planner: QueryPlanner;
  /** the calendar quarters and weeks are counted by: the organisation's own, its fiscal year configurable (org-calendar.ts) */
  readonly calendar: CalendarSource;
  private readonly cursors: CursorCodec;
  private readonly writer: RecordWriter;
  /** the queries of cursors handed out lately: a cursor passed on its own continues its query */
  private readonly cursorQueries = new RememberedQueries<QuerySpec>();
  private readonly files: FileIo;
  private readonly origin: string;
  private readonly serviceRoot: string;

  constructor(
    readonly config: Readonly<Config>,
    readonly policy: Policy,
    readonly transport: Transport,
    private readonly log: Logger,
    readonly tokens: TokenProvider,
    private readonly closeAuthority: () => Promise<void> = async () => {},
  ) {
    this.origin = new URL(config.dynamics.url).origin;
    this.serviceRoot = `${this.origin}${API}`;
    this.metadata = new MetadataCache(
      transport,
      this.serviceRoot,
      config.dynamics.metadataTtlMs,
      log.child({ component: 'metadata' }),
      (model) => this.warnUnmatchedPolicyNames(model),
      (list) => this.warnUnmatchedPolicyTables(list),
    );
    this.checker = new ReadChecker(policy, this.metadata);
    this.calendar = new CalendarSource({
      configured: config.pipeline.fiscalYearStartMonth,
      ttlMs: config.dynamics.metadataTtlMs,
      policy,
      log,
      read: async (columns) =>
        (await this.query({ entity: 'organization', select: columns, top: 1 }, { internal: true })).rows[0],
    });
    this.conditions = new ConditionBuilder(
      this.metadata,
      () => this.calendar.get(),
      (e, n) => policy.canFollow(e, n),
      (e) => this.planner.rowsShown(e),
      (e) => policy.entities().includes(e),
    );
    this.cursors = new CursorCodec(config.cursorKey);
    this.planner = new QueryPlanner(policy, this.metadata, this.checker, this.conditions, this.origin);
    this.files = webApiFileIo({
      transport: this.transport,
      policy,
      model: (table) => this.checker.entity(table),
      parts: (model, spec) => this.planner.parts(model, spec),
      suggest: this.suggest,
    });
    this.writer = new RecordWriter({
      transport,
      policy,
      metadata: this.metadata,
      log,
      serviceRoot: this.serviceRoot,
      maxParallel: config.dynamics.maxConcurrency,
      suggest: this.suggest,
    });
  }

  /**
   * A policy name that matches nothing (a misspelt column) keeps that column from the model without a word
   * anywhere: said once per table when its metadata first arrives (`dynamics-mcp doctor` names the closest
   * real ones). The case reference column is left out: it is optional, and create_case says when it is missing.
   */
  private warnUnmatchedPolicyNames(model: EntityModel): void {
    const rule = this.policy.rule(model.logicalName);
    if (!rule) return;
    const optional = model.logicalName === 'incident' ? this.config.cases.externalRefColumn.toLowerCase() : '';
    // a many-to-many relationship in the write list is one whose records may be linked (links.ts)
    const linked = (c: string) => rule.write.has(c) && model.collectionNavs.get(c)?.referencingAttribute === '';
    const columns = [...new Set([...rule.read, ...rule.write, ...rule.sensitive])].filter(
      (c) => c !== optional && !model.columns.has(c) && !linked(c),
    );
    const navs = new Set([...model.singleNavs.keys(), ...model.collectionNavs.keys()].map((n) => n.toLowerCase()));
    const relationships = [...rule.expand].filter((n) => !navs.has(n));
    if (columns.length || relationships.length)
      this.log.warn(
        { entity: model.logicalName, columns, relationships },
        'the policy names columns or relationships this table does not have: they match nothing (run dynamics-mcp doctor for the closest names)',
      );
  }

  /**
   * A policy entry keyed by something other than a logical name ("contacts", the entity set name) keeps that
   * table from the model as silently: said once, when the list of tables first arrives.
   */
  private warnUnmatchedPolicyTables(list: readonly EntitySummary[]): void {
    const unmatched = unmatchedTableKeys(
      this.policy.entities(),
      list.map((t) => ({
        logicalName: t.logicalName,
        otherNames: { 'entity set name': t.entitySetName, 'display name': t.displayName },
      })),
    );
    if (unmatched.length)
      this.log.warn(
        { tables: unmatched.map(unmatchedKeyText) },
        'the policy names tables this environment does not have by those names: the model cannot use them (run dynamics-mcp doctor)',
      );
  }

  async close(): Promise<void> {
    await this.transport.close();
    await this.closeAuthority();
  }

  // ---------- reads ----------

  private suggest = (entity: string, column: string) => {
    const m = this.policy.readableList(entity);
    return closest(column, m);
  };

  /**
   * One page of a query: exactly `top` rows or fewer, with a cursor when there are more. With a cursor and no
   * query of its own (only the table), the page continues the query the cursor came from: models often pass
   * the cursor alone. That query is re-checked against the policy like any other. `internal`: the caller reads
   * the page itself (a duplicate check, a lookup by name) and hands no cursor on, so none is sealed or
   * remembered: the 1,000 queries remembered for cursors are the model's.
   */
  query(given: QuerySpec, opts: CallOptions & { cursor?: string; internal?: boolean } = {}): Promise<QueryPage> {
    return this.withNewOptions(() => this.queryOnce(given, opts), opts.signal);
  }

  private async queryOnce(
    given: QuerySpec,
    opts: CallOptions & { cursor?: string; internal?: boolean },
  ): Promise<QueryPage> {
    const c = opts.cursor ? this.cursors.open(opts.cursor) : undefined;
    if (c === null)
      throw badInput(
        'The cursor is not valid (altered, from another server, or expired).',
        'Run the query again without a cursor to start from the first page.',
      );
    const model = await this.checker.entity(given.entity);
    const bare = QUERY_KEYS.every((k) => given[k] === undefined);
    // the table as the query named it ("accounts", "Account") is compared by its logical name
    const remembered = c && bare && c.entity === model.logicalName ? this.cursorQueries.get(c.query) : undefined;
    const spec = remembered ?? (await this.planner.relationsMeant(model, given));
    const asked = Math.min(spec.top ?? 50, this.policy.maxRows);
    if (!Number.isInteger(asked) || asked < 1)
      throw badInput('"top" must be a whole number of at least 1.', `Use 1 to ${this.policy.maxRows}.`);
    const parts = await this.planner.parts(model, spec);
    const top = pageSizeReadingFiles(model, parts, asked);
    const print = fingerprint([model.logicalName, parts, top, !!spec.count]);
    const files = this.fileSizes(model, parts);
    let path: string;
    if (c) {
      if (c.entity !== model.logicalName || c.query !== print)
        throw badInput(
          c.entity !== model.logicalName
            ? `This cursor continues a query on ${c.entity}, not ${model.logicalName}.`
            : bare
              ? 'This server no longer holds the query this cursor continues (it restarted, or another server issued it).'
              : 'This cursor belongs to a different query.',
          'Pass the cursor with the same arguments as the call that returned it, or with the table and cursor alone.',
        );
      // the continuation is our own checked query plus the paging cookie Dataverse gave us
      if (!/^[^&#\s]+$/.test(c.link))
        throw badInput('The cursor is not valid.', 'Run the query again without a cursor.');
      path = `${API}/${model.entitySetName}?${queryString(files.parts, [`$skiptoken=${c.link}`])}`;
    } else {
      path = `${API}/${model.entitySetName}?${queryString(files.parts, spec.count ? ['$count=true'] : [])}`;
    }
    const r = await this.transport.send({
      method: 'GET',
      path,
      headers: { prefer: `odata.maxpagesize=${top},${ANNOTATIONS}` },
      idempotent: true,
      signal: opts.signal,
      context: { entity: model.logicalName, suggest: this.suggest },
    });
    const page = pageOf(r, `the query on ${model.entitySetName}`);
    await this.readFiles(page.rows, files.slots, opts.signal);
    const next = page.next ? new URL(page.next) : undefined;
    return {
      entity: model,
      rows: page.rows,
      hasMore: !!next,
      cursor: next && !opts.internal ? this.sealCursor(skipTokenOf(next), print, model.logicalName, spec) : undefined,
      totalCount: page.count,
      totalCountCapped: page.capped,
      spec,
      orderBy: parts.orderBy,
      top,
    };
  }

  private sealCursor(link: string, print: string, entity: string, spec: QuerySpec): string {
    this.cursorQueries.remember(print, { ...spec, entity });
    return this.cursors.seal({ link, query: print, entity, at: Date.now() });
  }

  /**
   * Every row of a query, page by page over @odata.nextLink, each link checked before it is followed
   * (follow-pages.ts: the next page is asked for while this one is handed over). With `parallel`, the key
   * space is read in ranges side by side (span-reads.ts).
   */
  async *pages(spec: PagesSpec, opts: CallOptions = {}): AsyncGenerator<Row[], void> {
    const model = await this.checker.entity(spec.entity);
    const parallel = Math.min(Math.max(1, Math.floor(spec.parallel ?? 1)), MAX_PARALLEL_READS);
    if (parallel > 1 && !spec.orderBy && this.policy.canRead(model.logicalName, model.primaryIdAttribute)) {
      const [first, last] = await Promise.all([
        this.keyEnd(model, spec, 'asc', opts),
        this.keyEnd(model, spec, 'desc', opts),
      ]);
      const spans = first && last ? keySpans(parallel, { first, last }) : [];
      if (first && last && spans.length) {
        const within = (range: Condition | undefined): PagesSpec => ({
          ...spec,
          parallel: 1,
          where: range && spec.where ? { and: [range, spec.where] } : (range ?? spec.where),
        });
        const io = {
          key: model.primaryIdAttribute,
          ends: { first, last },
          read: (range: Condition | undefined, signal: AbortSignal) => this.pages(within(range), { ...opts, signal }),
          lastKey: (range: Condition | undefined) => this.keyEnd(model, within(range), 'desc', opts),
        };
        // splits share out what is left when ids cluster; each costs a one-row read and a page read again
        yield* readSpans(io, spans, 4 * parallel, opts.signal);
        return;
      }
    }
    const parts = await this.planner.parts(model, spec);
    const pageSize = spec.pageSize ?? this.config.dynamics.pageSize;
    // raw exports can leave the labels out: fewer bytes, and less work for the server
    const prefer =
      spec.annotations === false ? `odata.maxpagesize=${pageSize}` : `odata.maxpagesize=${pageSize},${ANNOTATIONS}`;
    const follow = {
      transport: this.transport,
      checkLink: (l: string, m: EntityModel) => this.planner.checkLink(l, m),
      suggest: this.suggest,
    };
    yield* followPages(follow, model, `${API}/${model.entitySetName}?${queryString(parts)}`, prefer, opts.signal);
  }

  /**
   * The first (asc) or last (desc) key of a query's rows in key order, with a one-row read: where a read
   * in key ranges cuts them. Undefined when no row matches.
   */
  private async keyEnd(
    model: EntityModel,
    spec: PagesSpec,
    direction: 'asc' | 'desc',
    opts: CallOptions,
  ): Promise<string | undefined> {
    const key = model.primaryIdAttribute;
    const parts = await this.planner.parts(model, {
      ...spec,
      select: [key],
      orderBy: `${key} ${direction}`,
      expand: undefined,
    });
    const r = await this.transport.send({
      method: 'GET',
      path: `${API}/${model.entitySetName}?${queryString(parts, ['$top=1'])}`,
      headers: {},
      idempotent: true,
      signal: opts.signal,
      context: { entity: model.logicalName, suggest: this.suggest },
    });
    const id = pageOf(r, `the query on ${model.entitySetName}`).rows[0]?.[key];
    // anything but a GUID (never seen) cannot be cut: the read goes as one range
    return isGuid(id) ? id : undefined;
  }

  async get(
    entity: string,
    id: string,
    opts: CallOptions & { select?: string[]; expand?: QuerySpec['expand'] } = {},
  ): Promise<{ model: EntityModel; row: Row; expand?: QuerySpec['expand']; expanded?: ExpandItem[] }> {
    const model = await this.checker.entity(entity);
    const key = guidValue(id, `${model.logicalName} id`);
    const { select, expand } = await this.planner.relationsMeant(model, { select: opts.select, expand: opts.expand });
    const rows = await this.planner.rowsShown(model.logicalName);
    // a table whose rows the policy shows only in part: the kind is read with the record, to check it
    const asked = rows && select?.length && !select.includes('*') ? [...select, rows.column] : select;
    const parts = await this.planner.parts(model, { select: asked, expand }, { single: true });
    const files = this.fileSizes(model, parts);
    const r = await this.transport.send({
      method: 'GET',
      path: `${API}/${model.entitySetName}(${key})?${queryString(files.parts)}`,
      headers: { prefer: ANNOTATIONS },
      idempotent: true,
      signal: opts.signal,
      context: { entity: model.logicalName, id: key, suggest: this.suggest },
    });
    const row = rowOf(r, `the read of ${model.logicalName} ${key}`);
    if (rows && !rows.value.includes(String(row[rows.column]).toLowerCase()))
      throw new DynamicsMcpError(
        'not_found',
        `No ${model.logicalName} with the id ${key} that this server's policy lets you read.`,
        `It is of a kind (${String(row[rows.column])}) the policy does not list; read the ones it does: ${rows.value.join(', ')}.`,
      );
    await this.readFiles([row], files.slots, opts.signal);
    return { model, row, expand, expanded: parts.expand };
  }

  /**
   * A query's files asked for by their size instead, to be read after the page as their size allows
   * (file-reads.ts): a page of notes with large files is not hundreds of megabytes of Base64. The size is
   * read only where the policy lets it be.
   */
  private fileSizes(model: EntityModel, parts: QueryParts): { parts: QueryParts; slots: FileSlot[] } {
    return swapFileBodies(model, parts, (table, column) => this.policy.canRead(table, column));
  }

  private async readFiles(rows: Row[], slots: FileSlot[], signal?: AbortSignal): Promise<void> {
    if (slots.length) await readFiles(this.files, rows, slots, this.policy.maxResultBytes, signal);
  }

  /**
   * $apply aggregation (AGG), checked like any read; `where` (and `filter`, OData filter text as a query's)
   * become its leading filter() steps.
   */
  aggregate(
    entity: string,
    apply: ApplyStep[] | string,
    opts: CallOptions & { where?: Condition; filter?: string; annotations?: boolean } = {},
  ): Promise<Row[]> {
    return this.withNewOptions(() => this.aggregateOnce(entity, apply, opts), opts.signal);
  }

  private async aggregateOnce(
    entity: string,
    apply: ApplyStep[] | string,
    opts: CallOptions & { where?: Condition; filter?: string; annotations?: boolean },
  ): Promise<Row[]> {
    const model = await this.checker.entity(entity);
    const steps = typeof apply === 'string' ? parseApply(apply) : apply;
    // a related list by its table's name ("cases/statecode") as in query's conditions
    const where = opts.where && (await this.planner.relationsMeant(model, { where: opts.where })).where;
    if (where) steps.unshift({ kind: 'filter', expr: await this.conditions.build(where, model), pos: 0 });
    if (opts.filter?.trim())
      steps.unshift({ kind: 'filter', expr: await this.planner.filterOf(model, opts.filter), pos: 0 });
    // only the rows the policy shows of the table are counted (Policy.rowsOf)
    const only = await this.planner.withRows(model, undefined);
    if (only) steps.unshift({ kind: 'filter', expr: only, pos: 0 });
    const parts = await this.checker.query(model, { apply: steps });
    const r = await this.transport.send({
      method: 'GET',
      path: `${API}/${model.entitySetName}?${queryString(parts)}`,
      // labels are optional: a caller that has them from metadata spares the service formatting every group
      headers: opts.annotations === false ? {} : { prefer: ANNOTATIONS },
      idempotent: true,
      signal: opts.signal,
      context: { entity: model.logicalName },
    });
    const page = pageOf(r, `the aggregation on ${model.entitySetName}`);
    // groups past one answer would be dropped without a word: whoever asked cannot page an aggregation
    if (page.next)
      throw new DynamicsMcpError(
        'too_large',
        `Dynamics answered the aggregation on ${model.entitySetName} with more groups than one answer holds (${page.rows.length} and more).`,
        'Group by fewer or coarser columns (a choice rather than a name), or narrow the conditions.',
        { retryable: false },
      );
    return page.rows;
  }

  /**
   * The table a relationship of `entity` leads to, named as a model names it (an expand item's relation:
   * "contact_customer_accounts", "contacts"); undefined for a name that is no relationship of it.
   */
  async tableThrough(entity: string, relation: string): Promise<string | undefined> {
    return this.planner.tableThrough(await this.checker.entity(entity), relation);
  }

  /** Whether this call reaches Dataverse as a signed-in user (hosted, on-behalf-of) rather than as the app. */
  get asSignedInUser(): boolean {
    return callerTokens.getStore() !== undefined;
  }

  /**
   * A business process flow run's stages in the order its process gives them (RetrieveActivePath), each cut to
   * what the policy lets be read of processstage.
   */
  activePath(instanceId: string, opts: CallOptions = {}): Promise<Row[]> {
    return retrieveActivePath(this, instanceId, opts);
  }

  async whoAmI(opts: CallOptions = {}): Promise<{ UserId: string; BusinessUnitId: string; OrganizationId: string }> {
    const r = await this.transport.send({
      method: 'GET',
      path: `${API}/WhoAmI()`,
      idempotent: true,
      signal: opts.signal,
    });
    return rowOf(r, 'WhoAmI') as { UserId: string; BusinessUnitId: string; OrganizationId: string };
  }

  // ---------- writes (writes.ts); each is listed in WRITE_METHODS (read-only-client.ts) ----------

  /** Creates a record so that a retry can never make a second one. */
  create(entity: string, values: WriteValues, opts: CreateOptions = {}): Promise<CreateResult> {
    return this.withNewOptions(() => this.writer.create(entity, values, opts), opts.signal);
  }

  /** Many creates, in $batch requests of idempotent creates: a retried batch duplicates nothing. */
  createMany(entity: string, records: WriteValues[], opts: CreateManyOptions = {}): Promise<BatchCreateResult[]> {
    return this.writer.createMany(entity, records, opts);
  }

  /**
   * Closes a record with Dynamics' action for it: resolves a case (CloseIncident, with its Case Resolution's
   * columns), wins or loses an opportunity (WinOpportunity, LoseOpportunity, with its Opportunity Close's), with
   * the status reason's value.
   */
  closeRecord(
    action: ClosingAction,
    id: string,
    activity: WriteValues,
    status: number,
    opts: CallOptions = {},
  ): Promise<void> {
    return this.writer.closeRecord(action, id, activity, status, opts);
  }

  /**
   * Merges a record into another of its table (Dynamics' Merge): its related records moved to the target, which
   * takes `content`, and the record deactivated with its Master ID the target (writes.ts).
   */
  merge(entity: string, targetId: string, subordinateId: string, content: WriteValues, opts: CallOptions = {}) {
    return this.writer.merge(entity, targetId, subordinateId, content, opts);
  }

  /**
   * Puts a case or an activity in a queue with Dynamics' AddToQueue action (moved from the queue it is in, where
   * it is in one): the queue item it has there, whether one was added, and the item it had elsewhere.
   */
  putInQueue(
    record: { entity: string; id: string },
    queueId: string,
    opts: CallOptions = {},
  ): Promise<{ id: string; added: boolean; from?: Row }> {
    return this.writer.putInQueue(record, queueId, opts);
  }

  /**
   * Moves a queue item's record to another queue with Dynamics' AddToQueue action; the item it has there (a new
   * one where it moved), and the item as it was.
   */
  moveToQueue(itemId: string, queueId: string, opts: CallOptions = {}): Promise<QueueMove> {
    return this.writer.moveToQueue(itemId, queueId, opts);
  }

  /** Qualifies a lead (QualifyLead), making the records asked for; returns them. */
  qualifyLead(
    leadId: string,
    make: { account: boolean; contact: boolean; opportunity: boolean },
    status: number,
    opts: CallOptions & { customer?: { entity: 'account' | 'contact'; id: string } } = {},
  ): Promise<{ entity: string; id: string }[]> {
    return this.writer.qualifyLead(leadId, make, status, opts);
  }

  /**
   * Updates an existing record, never creating one; `name` is the record's primary name, where readable;
   * `before`, with readBefore, the columns written as they were just before (where the record may be read);
   * `alsoRead`, columns not written read beside them, before and after: what else the change moved.
   */
  update(
    entity: string,
    id: string,
    values: WriteValues,
    opts: CallOptions & { etag?: string; detectDuplicates?: boolean; readBefore?: boolean; alsoRead?: string[] } = {},
  ): Promise<{ model: EntityModel; row: Row; etag: string; name?: string; before?: Row }> {
    return this.withNewOptions(() => this.writer.update(entity, id, values, opts), opts.signal);
  }

  /**
   * A call refused for a choice value its table's options lack, made once more with the table's metadata read
   * again, where it was read over a minute ago: an admin who adds an option of the organisation's own (a
   * Critical priority) while the server runs would otherwise see it refused until the metadata's TTL (an hour)
   * is out. The value is refused as the query or the body is made, before anything is sent that writes, so
   * nothing is written twice.
   */
  async withNewOptions<T>(run: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await run();
    } catch (err) {
      const table = err instanceof DynamicsMcpError ? err.details.unknownOption : undefined;
      if (!table || !(await this.metadata.reread(table, OPTIONS_REREAD_AFTER_MS, signal))) throw err;
      return run();
    }
  }

  /**
   * Deletes a record where the policy allows it (its etag, where given, must still match); `deleted` is false
   * where there was no record to delete. A retry after a lost answer deletes nothing twice.
   */
  delete(
    entity: string,
    id: string,
    opts: CallOptions & { etag?: string } = {},
  ): Promise<{ model: EntityModel; deleted: boolean }> {
    return this.writer.delete(entity, id, opts);
  }

  /**
   * Links records of a many-to-many relationship to a record and unlinks others (links.ts), where the policy
   * lets that relationship be written; each link made or removed once, whatever is retried.
   */
  link(
    entity: string,
    id: string,
    navigation: string,
    change: LinkChange,
    opts: CallOptions = {},
  ): Promise<LinkResult> {
    return this.writer.link(entity, id, navigation, change, opts);
  }
}
