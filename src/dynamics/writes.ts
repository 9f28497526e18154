import { badInput } from '../errors.js';
import type { Logger } from '../logging.js';
import { resolveTable } from '../policy/check.js';
import { columnSetBy, type EntityModel, isLookupType } from '../policy/model.js';
import type { Policy } from '../policy/policy.js';
import { foreignAnswer, jsonOf, rowOf } from './answers.js';
import type { CallOptions, Row } from './client.js';
import { guidValue } from './coerce.js';
import { type BatchCreateResult, type CreateManyOptions, createInBatches } from './create-many.js';
import { mapDataverseError } from './errors.js';
import { changeLinks, type LinkChange } from './links.js';
import { API, type MetadataCache } from './metadata.js';
import { ANNOTATIONS, q } from './query-text.js';
import { moveToQueue, putInQueue, type QueueMove } from './queue-moves.js';
import { RecordIdMaker } from './record-ids.js';
import type { Transport } from './transport.js';
import { duplicateDetection, type WriteValues, writeBody } from './write-body.js';

/**
 * Columns the policy lets a tool write when it creates a record, which an update must not change: what a
 * record hangs from. A note moved to another record would vanish from the one it was written on, and a Case
 * Resolution or an Opportunity Close belongs to the record its action closed.
 */
const SET_ONCE: Readonly<Record<string, { columns: string[]; why: (c: string) => string; fix: string }>> = {
  annotation: {
    columns: ['objectid'],
    why: () => "A note's record (objectid) is set when the note is added and is not changed here.",
    fix: 'Add the note to the other record with add_note instead.',
  },
  incidentresolution: {
    columns: ['subject', 'description', 'incidentid', 'timespent'],
    why: (c) => `A Case Resolution is written with its case by resolve_case; its ${c} is not changed here.`,
    fix: 'Add what changed to the case as a note (add_note) instead.',
  },
  opportunityclose: {
    columns: ['subject', 'description', 'opportunityid', 'actualrevenue', 'actualend', 'competitorid'],
    why: (c) =>
      `An Opportunity Close is written with its opportunity when it is won or lost; its ${c} is not changed here.`,
    fix: 'Add what changed to the opportunity as a note (add_note) instead.',
  },
  queueitem: {
    columns: ['objectid'],
    why: () => "A queue item's record (objectid) is the one put in the queue; it is not changed here.",
    fix: 'Put the other record in the queue with create_record on queueitem ({"objectid", "queueid"}), and take this one out with delete_record if it should leave.',
  },
};

/** Dynamics' closing actions: the table each closes, the activity written with it, and what to say about it. */
const CLOSINGS = {
  CloseIncident: {
    entity: 'incident',
    activity: 'incidentresolution',
    param: 'IncidentResolution',
    lookup: 'incidentid',
    doing: 'Resolving a case',
    done: 'resolution of case',
    again: 'Whether the case was resolved shows on the case: resolve_case again resolves it only if it is still open.',
  },
  WinOpportunity: {
    entity: 'opportunity',
    activity: 'opportunityclose',
    param: 'OpportunityClose',
    lookup: 'opportunityid',
    doing: 'Closing an opportunity',
    done: 'win of opportunity',
    again: 'Whether it was closed shows on the opportunity: the same update closes it only if it is still open.',
  },
  LoseOpportunity: {
    entity: 'opportunity',
    activity: 'opportunityclose',
    param: 'OpportunityClose',
    lookup: 'opportunityid',
    doing: 'Closing an opportunity',
    done: 'loss of opportunity',
    again: 'Whether it was closed shows on the opportunity: the same update closes it only if it is still open.',
  },
} as const;
export type ClosingAction = keyof typeof CLOSINGS;

export interface CreateOptions extends CallOptions {
  /** the record's id (a name-based one, so that a second attempt meets the first) */
  id?: string;
  /** the user confirmed a second record like one already there: the organisation's rules are not applied */
  allowDuplicate?: boolean;
}

export interface CreateResult {
  id: string;
  /** false when a retry found the record already created by this call's earlier attempt */
  created: boolean;
}

export interface WriterDeps {
  transport: Transport;
  policy: Policy;
  metadata: MetadataCache;
  log: Logger;
  serviceRoot: string;
  maxParallel: number;
  /** the closest readable column names, for errors about a misspelt column */
  suggest: (entity: string, column: string) => string[];
}

/**
 * The client's writes: creates that a retry can never duplicate, and updates that never create. Every
 * write passes the policy's write checks (and read-only mode) before anything is sent.
 */
export class RecordWriter {
  /** ids for creates: ours, so a retry finds the record; rising, so Dataverse's index is appended to */
  private readonly ids = new RecordIdMaker();

  constructor(private readonly deps: WriterDeps) {}

  private async writeModel(entity: string, action: string): Promise<EntityModel> {
    if (this.deps.policy.readOnly) this.deps.policy.assertWritable(entity, [], action);
    const logical = await resolveTable(entity, this.deps.policy, this.deps.metadata);
    return this.deps.metadata.entity(logical);
  }

  /**
   * Creates a record so that a retry can never make a second one (COND, UPDATE): the id is ours, and the
   * write is a PATCH with If-None-Match: * — a retry after a lost response finds the record and stops (412).
   * The organisation's duplicate detection rules apply unless `allowDuplicate` (see duplicateDetection).
   */
  async create(entity: string, values: WriteValues, opts: CreateOptions = {}): Promise<CreateResult> {
    const model = await this.writeModel(entity, `Creating a ${entity}`);
    const { body, columns } = await writeBody(model, values, 'create', this.deps);
    this.deps.policy.assertWritable(model.logicalName, columns, `Creating a ${model.logicalName}`);
    const id = opts.id ? guidValue(opts.id, `${model.logicalName} id`) : this.ids.next();
    const r = await this.deps.transport.send({
      method: 'PATCH',
      path: `${API}/${model.entitySetName}(${id})`,
      headers: { 'if-none-match': '*', ...duplicateDetection(opts) },
      body: JSON.stringify(body),
      idempotent: true,
      accept: [412],
      signal: opts.signal,
      context: { entity: model.logicalName, id, suggest: this.deps.suggest },
    });
    if (r.status === 412) {
      // our own earlier attempt committed and its answer was lost; with a fresh id nothing else can collide
      if (r.attempts > 1 && !opts.id) {
        this.deps.log.debug(
          { entity: model.logicalName, id },
          'create retried after a lost response: the record exists',
        );
        return { id, created: false };
      }
      throw mapDataverseError(r.status, r.headers, r.text, { entity: model.logicalName, id });
    }
    // Dataverse answers a create by upsert with 204 (201 with a representation); any other success came from
    // something in between, which may or may not have passed the write on: the record itself says which
    if (r.status !== 204 && r.status !== 201) await this.confirmCreated(model, id, r, opts.signal);
    return { id, created: true };
  }

  private async confirmCreated(
    model: EntityModel,
    id: string,
    answer: { status: number; headers: Record<string, string>; text: string },
    signal?: AbortSignal,
  ): Promise<void> {
    const what = `the create of ${model.logicalName} ${id}`;
    let found: boolean;
    try {
      const r = await this.deps.transport.send({
        method: 'GET',
        path: `${API}/${model.entitySetName}(${id})?$select=${model.primaryIdAttribute}`,
        idempotent: true,
        accept: [404],
        signal,
      });
      found = r.status !== 404 && rowOf(r, what)[model.primaryIdAttribute] !== undefined;
    } catch {
      throw foreignAnswer(
        answer,
        what,
        'not as Dataverse does',
        `Whether ${id} was created is unknown: look for it (get_record) before trying again.`,
      );
    }
    if (!found) throw foreignAnswer(answer, what, 'did not create it', 'Nothing was created, so trying again is safe.');
  }

  /**
   * Closes a record with one of Dynamics' closing actions (reference §6.2: a case is resolved, an opportunity
   * won or lost by its action, not by an update): the activity written with it (Case Resolution, Opportunity
   * Close) and the record's new status go together, checked against the policy's write list for the
   * activity's table. A POST, so not retried once it may have been processed: the caller reads the record to
   * learn whether an attempt whose answer was lost went through.
   */
  async closeRecord(
    action: ClosingAction,
    recordId: string,
    activity: WriteValues,
    status: number,
    opts: CallOptions = {},
  ): Promise<void> {
    const c = CLOSINGS[action];
    const model = await this.writeModel(c.activity, c.doing);
    const id = guidValue(recordId, `${c.entity} id`);
    const values = { ...activity, [c.lookup]: { entity: c.entity, id } };
    const { body, columns } = await writeBody(model, values, 'create', this.deps);
    this.deps.policy.assertWritable(model.logicalName, columns, c.doing);
    const r = await this.deps.transport.send({
      method: 'POST',
      path: `${API}/${action}`,
      body: JSON.stringify({ [c.param]: body, Status: status }),
      idempotent: false,
      signal: opts.signal,
      context: { entity: c.entity, id, suggest: this.deps.suggest },
    });
    // the action returns no value: 204 (Web API actions). Any other success came from something in between
    if (r.status !== 204)
      throw foreignAnswer(r, `the ${c.done} ${id}`, 'not as Dataverse does (204, no content)', c.again);
  }

  /**
   * Merges a record into another of its table with Dynamics' Merge action: the records related to `subordinateId`
   * are moved to `targetId`, which is given `content` (UpdateContent), and the subordinate is deactivated with
   * its Master ID the target. Checked against the policy first: the table's masterid writable (the switch for
   * merging) and each column of `content`. A POST, never sent again once it may have been processed: a merge
   * that went through leaves the subordinate merged, which the caller reads to know.
   */
  async merge(
    entity: string,
    targetId: string,
    subordinateId: string,
    content: WriteValues,
    opts: CallOptions = {},
  ): Promise<void> {
    const doing = `Merging ${entity} records`;
    const model = await this.writeModel(entity, doing);
    const target = guidValue(targetId, `${model.logicalName} id`);
    const subordinate = guidValue(subordinateId, `${model.logicalName} id`);
    const { body, columns } = await writeBody(model, content, 'update', this.deps);
    this.deps.policy.assertWritable(model.logicalName, ['masterid', ...columns], doing);
    const type = `Microsoft.Dynamics.CRM.${model.logicalName}`;
    const key = model.primaryIdAttribute;
    const r = await this.deps.transport.send({
      method: 'POST',
      path: `${API}/Merge`,
      body: JSON.stringify({
        Target: { [key]: target, '@odata.type': type },
        Subordinate: { [key]: subordinate, '@odata.type': type },
        UpdateContent: { ...body, '@odata.type': type },
        PerformParentingChecks: false,
      }),
      idempotent: false,
      signal: opts.signal,
      context: { entity: model.logicalName, id: subordinate, suggest: this.deps.suggest },
    });
    if (r.status !== 204)
      throw foreignAnswer(
        r,
        `the merge of ${model.logicalName} ${subordinate}`,
        'not as Dataverse does (204, no content)',
        `Read ${model.logicalName} ${subordinate}: a Master ID on it means it was merged.`,
      );
  }

  /** Puts a case or an activity in a queue, moving it from the one it is in (AddToQueue: queue-moves.ts). */
  putInQueue(
    record: { entity: string; id: string },
    queueId: string,
    opts: CallOptions = {},
  ): Promise<{ id: string; added: boolean; from?: Row }> {
    return putInQueue(this.deps, record, queueId, opts);
  }

  /** Moves a queue item's record to another queue (AddToQueue: queue-moves.ts). */
  moveToQueue(itemId: string, queueId: string, opts: CallOptions = {}): Promise<QueueMove> {
    return moveToQueue(this.deps, itemId, queueId, opts);
  }

  /**
   * Qualifies a lead with Dynamics' QualifyLead action, which makes the account, contact and opportunity asked
   * for, links them to the lead and leaves it Qualified (its status reason `status`). Checked against the
   * policy first: the lead's statecode and statuscode writable, and each table a record is made in writable.
   * A POST, so never sent again once it may have been processed. Returns the records Dynamics made.
   */
  async qualifyLead(
    leadId: string,
    make: { account: boolean; contact: boolean; opportunity: boolean },
    status: number,
    opts: CallOptions & { customer?: { entity: 'account' | 'contact'; id: string } } = {},
  ): Promise<{ entity: string; id: string }[]> {
    const doing = 'Qualifying a lead';
    await this.writeModel('lead', doing);
    const id = guidValue(leadId, 'lead id');
    this.deps.policy.assertWritable('lead', ['statecode', 'statuscode'], doing);
    for (const table of ['account', 'contact', 'opportunity'] as const)
      if (make[table])
        this.deps.policy.assertWritable(table, [], `${doing} (it makes ${table === 'account' ? 'an' : 'a'} ${table})`);
    const r = await this.deps.transport.send({
      method: 'POST',
      path: `${API}/leads(${id})/Microsoft.Dynamics.CRM.QualifyLead`,
      body: JSON.stringify({
        CreateAccount: make.account,
        CreateContact: make.contact,
        CreateOpportunity: make.opportunity,
        Status: status,
        // the opportunity's customer, where it is not the account or contact made (or the lead's own)
        ...(opts.customer
          ? {
              OpportunityCustomerId: {
                '@odata.type': `Microsoft.Dynamics.CRM.${opts.customer.entity}`,
                [`${opts.customer.entity}id`]: guidValue(opts.customer.id, `${opts.customer.entity} id`),
              },
            }
          : {}),
      }),
      idempotent: false,
      signal: opts.signal,
      context: { entity: 'lead', id, suggest: this.deps.suggest },
    });
    const again = 'Whether it was qualified shows on the lead: the same update qualifies it only if it is still open.';
    // the action returns the records it made (Collection(crmbaseentity)): each with its type and key
    const made =
      r.status === 200 ? (jsonOf(r, `the qualification of lead ${id}`) as { value?: unknown }).value : undefined;
    if (!Array.isArray(made))
      throw foreignAnswer(r, `the qualification of lead ${id}`, 'not with the records it made', again);
    return made.flatMap((m) => {
      const type = /^#?Microsoft\.Dynamics\.CRM\.(\w+)$/.exec(String((m as Row)['@odata.type']))?.[1];
      const key = type ? (m as Row)[`${type}id`] : undefined;
      return type && typeof key === 'string' ? [{ entity: type, id: key.toLowerCase() }] : [];
    });
  }

  /**
   * Deletes a record where the policy allows it (DELETE, If-Match: the caller's etag where given). A DELETE is
   * idempotent, so the transport may send it again after a lost answer: a retry that finds the record gone
   * (404) found this call's own delete done. `deleted` is false only where the first attempt found no record:
   * someone else deleted it first, or it never was.
   */
  async delete(
    entity: string,
    id: string,
    opts: CallOptions & { etag?: string } = {},
  ): Promise<{ model: EntityModel; deleted: boolean }> {
    const model = await this.writeModel(entity, `Deleting a ${entity}`);
    this.deps.policy.assertDeletable(model.logicalName);
    const key = guidValue(id, `${model.logicalName} id`);
    if (opts.etag && model.optimisticConcurrency === false)
      throw badInput(
        `Dynamics does not check versions of ${model.logicalName} records (optimistic concurrency is off for the table), so the etag cannot guard this delete.`,
        'Call delete_record again without etag.',
      );
    const path = `${API}/${model.entitySetName}(${key})`;
    const r = await this.deps.transport.send({
      method: 'DELETE',
      path,
      headers: opts.etag ? { 'if-match': opts.etag } : {},
      idempotent: true,
      accept: [404],
      signal: opts.signal,
      context: { entity: model.logicalName, id: key, suggest: this.deps.suggest },
    });
    if (r.status === 204) return { model, deleted: true };
    if (r.status === 404) return { model, deleted: r.attempts > 1 };
    // Dataverse answers a delete with 204; any other success came from something in between: the record says
    const what = `the delete of ${model.logicalName} ${key}`;
    const after = await this.deps.transport
      .send({ method: 'GET', path: `${path}?$select=${model.primaryIdAttribute}`, idempotent: true, accept: [404] })
      .catch(() => {
        throw foreignAnswer(
          r,
          what,
          'not as Dataverse does',
          `Whether ${key} was deleted is unknown: look for it (get_record).`,
        );
      });
    if (after.status === 404) return { model, deleted: true };
    throw foreignAnswer(r, what, 'did not delete it', 'Nothing was deleted, so trying again is safe.');
  }

  /** Links and unlinks records of a many-to-many relationship (links.ts). */
  async link(entity: string, id: string, navigation: string, change: LinkChange, opts: CallOptions = {}) {
    const model = await this.writeModel(entity, `Linking ${entity} records`);
    return changeLinks(this.deps, model, id, navigation, change, opts);
  }

  /** Many creates, in $batch requests of idempotent creates (create-many.ts): a retried batch duplicates nothing. */
  async createMany(entity: string, records: WriteValues[], opts: CreateManyOptions = {}): Promise<BatchCreateResult[]> {
    const model = await this.writeModel(entity, `Creating ${entity} records`);
    return createInBatches({ ...this.deps, nextId: () => this.ids.next() }, model, records, opts);
  }

  /**
   * Updates an existing record, never creating one (If-Match: * or the caller's etag). A retry after a lost
   * answer that meets 412 re-reads the record: if it already holds our values, the update happened.
   * `detectDuplicates`: the organisation's duplicate detection rules apply, as Dynamics applies them when a
   * user saves a changed record (refused with 0x80040333).
   */
  async update(
    entity: string,
    id: string,
    values: WriteValues,
    opts: CallOptions & { etag?: string; detectDuplicates?: boolean; readBefore?: boolean; alsoRead?: string[] } = {},
  ): Promise<{ model: EntityModel; row: Row; etag: string; name?: string; before?: Row }> {
    const model = await this.writeModel(entity, `Updating a ${entity}`);
    const key = guidValue(id, `${model.logicalName} id`);
    if (Object.keys(values).length === 0)
      throw badInput('No values to update.', 'Pass at least one column in "values".');
    // what a record hangs from is refused as such, before a column Dynamics never updates is refused as that
    const setOnce = SET_ONCE[model.logicalName];
    const fixed = Object.keys(values)
      .map((k) => columnSetBy(model, k) ?? k.toLowerCase())
      .find((c) => setOnce?.columns.includes(c));
    if (fixed) throw badInput(setOnce!.why(fixed), setOnce!.fix);
    const { body, columns } = await writeBody(model, values, 'update', this.deps);
    this.deps.policy.assertWritable(model.logicalName, columns, `Updating a ${model.logicalName}`);
    // a version cannot guard a write to a table whose versions Dynamics does not check: said before sending
    if (opts.etag && model.optimisticConcurrency === false)
      throw badInput(
        `Dynamics does not check versions of ${model.logicalName} records (optimistic concurrency is off for the table), so the etag cannot guard this update.`,
        'Call update_record again without etag.',
      );
    // the record's name comes back beside the columns changed, for the answer to say which record it was (an
    // update by id names it too); it is taken out of the row, which holds what changed
    const primary = model.primaryNameAttribute;
    const naming = !!primary && !columns.includes(primary) && this.deps.policy.canRead(model.logicalName, primary);
    // the columns written that the model may read: what the answer shows, before and after
    // (and those asked for beside them, for what else the change moved: a case's hold moving its SLA)
    const shown = [...new Set([...columns, ...(opts.alsoRead ?? [])])]
      .filter((c) => model.columns.has(c))
      .map((c) => (isLookupType(model.columns.get(c)!.type) ? `_${c}_value` : c))
      .filter((c) => this.deps.policy.canRead(model.logicalName, c.replace(/^_(.+)_value$/, '$1')));
    // never without $select, which would bring back every column: the key where nothing else may be read
    const select = shown.length || naming ? shown.concat(naming ? [primary] : []) : [model.primaryIdAttribute];
    const named = (row: Row) => {
      const name = row[primary];
      if (naming) delete row[primary];
      return typeof name === 'string' ? name : undefined;
    };
    const path = `${API}/${model.entitySetName}(${key})?$select=${q(select.join(','))}`;
    // the columns as they are, read just before the change, for the answer and the audit to say what each was:
    // a user sees a wrong change at once, and can have it put back. A record gone is said as the update would
    // say it; a role that may write but not read the record costs the old values only, and columns the policy
    // lets be written but not read are not read before either
    const readBefore = async () =>
      opts.readBefore && shown.length
        ? await this.deps.transport
            .send({
              method: 'GET',
              path,
              headers: { prefer: ANNOTATIONS },
              idempotent: true,
              accept: [403],
              signal: opts.signal,
              context: { entity: model.logicalName, id: key },
            })
            .then((b) => (b.status === 403 ? undefined : rowOf(b, `the read of ${model.logicalName} ${key}`)))
        : undefined;
    for (let round = 1; ; round++) {
      const before = await readBefore();
      // the write is made only over the version just read, so that what the answer says it was is what it was;
      // someone else's change in between is read again, up to three times (the caller's etag stands as given).
      // A table whose versions Dynamics does not check refuses any etag: there the write is unconditional
      const read = model.optimisticConcurrency && before?.['@odata.etag'];
      const ifMatch = opts.etag ?? (typeof read === 'string' ? read : '*');
      const r = await this.deps.transport.send({
        method: 'PATCH',
        path,
        headers: {
          'if-match': ifMatch,
          prefer: `return=representation,${ANNOTATIONS}`,
          // DUP: a PATCH is checked against the duplicate detection rules only when asked, as a create is
          ...(opts.detectDuplicates ? duplicateDetection({}) : {}),
        },
        body: JSON.stringify(body),
        idempotent: true,
        accept: [412],
        signal: opts.signal,
        context: { entity: model.logicalName, id: key, suggest: this.deps.suggest },
      });
      if (r.status === 412) {
        // a retry after a lost answer meets its own change: if the record holds our values, the update happened
        if (r.attempts > 1 && ifMatch !== '*') {
          const current = await this.deps.transport.send({
            method: 'GET',
            path,
            headers: { prefer: ANNOTATIONS },
            idempotent: true,
            signal: opts.signal,
          });
          const row = rowOf(current, `the read of ${model.logicalName} ${key}`);
          const applied = Object.entries(body).every(([k, v]) => k.includes('@') || row[k] === v);
          if (applied) return { model, row, etag: String(row['@odata.etag'] ?? ''), name: named(row), before };
        }
        if (!opts.etag && before && round < 3) continue;
        throw mapDataverseError(r.status, r.headers, r.text, { entity: model.logicalName, id: key });
      }
      const row = rowOf(r, `the update of ${model.logicalName} ${key}`);
      if (before) named(before);
      return { model, row, etag: String(row['@odata.etag'] ?? r.headers.etag ?? ''), name: named(row), before };
    }
  }
}
