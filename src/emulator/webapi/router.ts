import type { ExpandItem } from '../../odata/ast.js';
import { ODataSyntaxError } from '../../odata/errors.js';
import { parseApply, parseExpand, parseFilter, parseOrderBy, parseSelect } from '../../odata/parser.js';
import type { Schema } from '../schema/index.js';
import { type EntityDef, PRINCIPAL } from '../schema/types.js';
import { isLookupRef, type Row, type Store } from '../store/store.js';
import { actionParams, closeIncident, closeOpportunity, qualifyLead } from './actions.js';
import { runApply } from './apply.js';
import { collectionRef } from './associate.js';
import type { DuplicateRule } from './duplicate-rules.js';
import { QueryEnv } from './env.js';
import {
  badRequest,
  DataverseError,
  errorBody,
  notFound,
  notSupported,
  resourceNotFound,
  unknownProperty,
} from './errors.js';
import { BlockDownloads, isBlocksDownload } from './file-blocks.js';
import { merge } from './merge.js';
import { handleMetadata } from './metadata.js';
import { insertOptionValue } from './option-values.js';
import { encodeSkipToken } from './paging.js';
import { USER_PRIVILEGE_PATH, userPrivilegeByName } from './privileges.js';
import { MAX_PAGE, runCollectionQuery } from './query.js';
import { addToQueue } from './queue-actions.js';
import { API_PREFIX, type ApiRequest, type ApiResponse, parseQuery } from './request.js';
import { activePath } from './sales-process.js';
import { assertExpandReadable, assertPrivilege, type SecurityRole } from './security.js';
import { annotationFilter, etagOf, resolveSelect, type ShapeContext, shapeRow } from './shape.js';
import { SlaTimer } from './sla-clocks.js';
import { formatValue } from './values.js';
import { createRow, deleteRow, patchRow, setColumn, type WriteContext } from './writes.js';

export interface Caller {
  userId: string;
  role: SecurityRole;
}

export interface ApiContext {
  schema: Schema;
  store: Store;
  now: () => Date;
  nextTicket: () => number;
  aggregateLimit: number;
  organizationId: string;
  businessUnitId: string;
  /** a user's security role (the caller's comes with the request) */
  roleOf: (userId: string) => SecurityRole;
  /** the organisation's published duplicate detection rules */
  duplicateRules: readonly DuplicateRule[];
  /** tables without optimistic concurrency (IsOptimisticConcurrencyEnabled false) */
  concurrencyOff: ReadonlySet<string>;
  /** whether SLA clocks move when their warning and failure times come (SlaTimer) */
  slaTimer: boolean;
  /** the user the SLA's own changes are made as: its owner ("The SLA is applied in context to the permissions
   * that the owner of the SLA has"), the organisation's administrator */
  slaOwnerId: string;
}

const JSON_TYPE = 'application/json; odata.metadata=minimal';
const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const ENTITY_PATH = new RegExp(
  `^([A-Za-z_][A-Za-z0-9_]*)(?:\\((${GUID})\\))?(?:/([A-Za-z_$][A-Za-z0-9_]*)(?:\\((${GUID})\\))?)?(?:/(\\$ref))?$`,
);
// $id: the record DELETE …/<collection>/$ref?$id=<url> disassociates (ASSOC)
const SUPPORTED = new Set([
  '$select',
  '$filter',
  '$orderby',
  '$top',
  '$expand',
  '$count',
  '$apply',
  '$skiptoken',
  '$id',
]);
// COMPOSE: $skip, $search and $format are not supported; option names are case-sensitive
const UNSUPPORTED = new Set(['$skip', '$search', '$format', '$levels', '$compute']);

function json(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'Content-Type': JSON_TYPE, ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(err: unknown): ApiResponse {
  if (err instanceof DataverseError)
    return { status: err.status, headers: { 'Content-Type': JSON_TYPE, ...err.headers }, body: errorBody(err) };
  if (err instanceof ODataSyntaxError) return errorResponse(badRequest(err.message));
  return errorResponse(
    new DataverseError(500, '0x80040216', `An unexpected error occurred: ${(err as Error).message}`),
  );
}

/** `$skiptoken` in a nextLink: `<`, `>`, `"`, space and `%` encoded, `=` and `/` left as the PAGE example shows. */
const encodeSkipTokenForUrl = (t: string) =>
  t.replace(/[%<>" ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

interface Parsed {
  select?: string[];
  expand?: ExpandItem[];
}

function contextUrl(root: string, set: string, p: Parsed): string {
  const cols = (sel: string[] | undefined, exp: ExpandItem[] | undefined): string => {
    const parts = [...(sel ?? []), ...(exp ?? []).map((e) => `${e.property}(${cols(e.select, e.expand)})`)];
    return parts.join(',');
  };
  const inner = cols(p.select, p.expand);
  return `${root}/$metadata#${set}${inner ? `(${inner})` : ''}`;
}

function countExpands(items: ExpandItem[] | undefined): number {
  return (items ?? []).reduce((n, i) => n + 1 + countExpands(i.expand), 0);
}

export class WebApi {
  private readonly downloads: BlockDownloads;
  /** the SLA's clocks moving as their times come, before each request sees them */
  readonly timer = new SlaTimer();

  constructor(private readonly ctx: ApiContext) {
    this.downloads = new BlockDownloads(ctx.schema, ctx.store);
  }

  handle(req: ApiRequest, caller: Caller, writeExtras: Partial<WriteContext> = {}): ApiResponse {
    try {
      return this.route(req, caller, writeExtras);
    } catch (err) {
      return errorResponse(err);
    }
  }

  /**
   * The SLA's clocks whose time has come, moved (SlaTimer): called once as each request arrives, before it is
   * handled, never inside a $batch change set (whose rollback would undo the moves the timer has counted as
   * made). The SLA's own writes: no caller's privileges checked, as the SLA's owner makes them.
   */
  moveClocks(): void {
    // nothing is built for a request that comes before the next clock's time: this runs on every request
    const now = this.ctx.now();
    if (!this.ctx.slaTimer || !this.timer.due(now.getTime())) return;
    const { schema } = this.ctx;
    const env = new QueryEnv(schema, this.ctx.store, now, this.ctx.slaOwnerId, new Map());
    const ctx: WriteContext = { env, nextTicket: this.ctx.nextTicket, clockWritten: (r) => this.timer.written(r) };
    this.timer.advance(
      env,
      (id, change) => patchRow(ctx, schema.entity('slakpiinstance')!, id, change, {}, true),
      (id, change) => patchRow(ctx, schema.entity('incident')!, id, change, {}, true),
    );
  }

  private env(caller: Caller, aliases: ReadonlyMap<string, string> = new Map()): QueryEnv {
    return new QueryEnv(this.ctx.schema, this.ctx.store, this.ctx.now(), caller.userId, aliases);
  }

  /** What a write needs: the query environment, ticket numbers, and the caller's privileges to check. */
  private writeContext(env: QueryEnv, caller: Caller, writeExtras: Partial<WriteContext>): WriteContext {
    return {
      env,
      nextTicket: this.ctx.nextTicket,
      concurrencyOff: this.ctx.concurrencyOff,
      clockWritten: (r) => this.timer.written(r),
      assert: (e, p) => assertPrivilege(caller.role, e, p, caller.userId),
      ...writeExtras,
    };
  }

  private route(req: ApiRequest, caller: Caller, writeExtras: Partial<WriteContext>): ApiResponse {
    const path = req.url.pathname;
    if (!path.startsWith(API_PREFIX)) throw resourceNotFound(path);
    const rest = decodeURIComponent(path.slice(API_PREFIX.length).replace(/^\//, ''));
    const root = `${req.url.protocol}//${req.url.host}${API_PREFIX}`;
    let query: ReturnType<typeof parseQuery>;
    try {
      query = parseQuery(req.url.search);
    } catch (err) {
      throw badRequest((err as Error).message);
    }
    const { options } = query;
    for (const k of options.keys()) {
      if (UNSUPPORTED.has(k)) throw badRequest(`The query parameter ${k} is not supported`);
      if (k.startsWith('$') && !SUPPORTED.has(k)) throw badRequest(`The query parameter ${k} is not supported`);
    }
    if (options.has('fetchXml')) throw notSupported('FetchXML');

    if (rest === '' && req.method === 'GET') {
      const value = this.ctx.schema.entities.map((e) => ({
        name: e.entitySetName,
        kind: 'EntitySet',
        url: e.entitySetName,
      }));
      return json(200, { '@odata.context': `${root}/$metadata`, value });
    }
    if (rest === 'WhoAmI()' || rest === 'WhoAmI') {
      if (req.method !== 'GET') throw new DataverseError(405, '0x80040315', 'This action is not supported.');
      return json(200, {
        '@odata.context': `${root}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
        BusinessUnitId: this.ctx.businessUnitId,
        UserId: caller.userId,
        OrganizationId: this.ctx.organizationId,
      });
    }
    const qualify = new RegExp(`^leads\\((${GUID})\\)/Microsoft\\.Dynamics\\.CRM\\.QualifyLead$`, 'i').exec(rest);
    if (qualify) {
      if (req.method !== 'POST') throw new DataverseError(405, '0x80040315', 'This action is not supported.');
      const { value } = qualifyLead(
        this.writeContext(this.env(caller), caller, writeExtras),
        caller.role,
        caller.userId,
        qualify[1]!.toLowerCase(),
        req.body,
      );
      return json(200, {
        '@odata.context': `${root}/$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)`,
        value: value.map((r) => ({
          '@odata.type': `#Microsoft.Dynamics.CRM.${r.entity}`,
          [this.ctx.schema.entity(r.entity)!.primaryIdAttribute]: r.id,
        })),
      });
    }
    const enqueue = new RegExp(`^queues\\((${GUID})\\)/Microsoft\\.Dynamics\\.CRM\\.AddToQueue$`, 'i').exec(rest);
    if (enqueue) {
      if (req.method !== 'POST') throw new DataverseError(405, '0x80040315', 'This action is not supported.');
      const wctx = this.writeContext(this.env(caller), caller, writeExtras);
      const item = addToQueue(wctx, caller.role, caller.userId, enqueue[1]!.toLowerCase(), req.body);
      return json(200, {
        '@odata.context': `${root}/$metadata#Microsoft.Dynamics.CRM.AddToQueueResponse`,
        QueueItemId: item,
      });
    }
    if (rest === 'Merge') {
      if (req.method !== 'POST') throw new DataverseError(405, '0x80040315', 'This action is not supported.');
      merge(this.writeContext(this.env(caller), caller, writeExtras), caller.role, caller.userId, req.body);
      return { status: 204, headers: {} };
    }
    if (rest === 'CloseIncident' || rest === 'WinOpportunity' || rest === 'LoseOpportunity') {
      if (req.method !== 'POST') throw new DataverseError(405, '0x80040315', 'This action is not supported.');
      const wctx = this.writeContext(this.env(caller), caller, writeExtras);
      if (rest === 'CloseIncident') closeIncident(wctx, caller.role, caller.userId, req.body);
      else closeOpportunity(wctx, caller.role, caller.userId, req.body, rest === 'WinOpportunity' ? 'won' : 'lost');
      return { status: 204, headers: {} };
    }
    if (isBlocksDownload(rest)) {
      if (req.method !== 'POST') throw new DataverseError(405, '0x80040315', 'This action is not supported.');
      const params = actionParams(req.body);
      const answer =
        rest === 'DownloadBlock'
          ? this.downloads.block(params)
          : this.downloads.begin(rest, caller.role, caller.userId, params);
      return json(200, { '@odata.context': `${root}/$metadata#Microsoft.Dynamics.CRM.${rest}Response`, ...answer });
    }
    if (rest === 'InsertOptionValue') {
      if (req.method !== 'POST') throw new DataverseError(405, '0x80040315', 'This action is not supported.');
      return json(200, {
        '@odata.context': `${root}/$metadata#Microsoft.Dynamics.CRM.InsertOptionValueResponse`,
        ...insertOptionValue(this.ctx.schema, req.body),
      });
    }
    if (rest.startsWith('EntityDefinitions')) {
      if (req.method !== 'GET') throw notSupported(`${req.method} on metadata`);
      const { body } = handleMetadata(
        this.ctx.schema,
        rest,
        { select: options.get('$select'), filter: options.get('$filter'), expand: options.get('$expand') },
        root,
        this.ctx.concurrencyOff,
      );
      return json(200, body);
    }
    if (rest === '$metadata') throw notSupported('The CSDL $metadata document');

    const pathOf = /^RetrieveActivePath\(ProcessInstanceId=([^)]*)\)$/.exec(rest);
    if (pathOf) {
      if (req.method !== 'GET') throw new DataverseError(405, '0x80040315', 'This action is not supported.');
      // a parameter given inline or as an alias (RetrieveActivePath(ProcessInstanceId=@p)?@p=<id>)
      const given = pathOf[1]!.startsWith('@') ? (options.get(pathOf[1]!) ?? '') : pathOf[1]!;
      const instance = given.trim().toLowerCase();
      if (!new RegExp(`^${GUID}$`, 'i').test(instance))
        throw badRequest(`ProcessInstanceId must be the id of a business process flow instance, not '${given}'.`);
      const stages = this.ctx.schema.entity('processstage')!;
      assertPrivilege(caller.role, stages, 'read', caller.userId);
      const env = this.env(caller);
      const sc: ShapeContext = {
        env,
        annotations: annotationFilter(req.headers.prefer),
        serviceRoot: root,
        expandLinks: false,
      };
      const columns = resolveSelect(env, stages, undefined);
      return json(200, {
        '@odata.context': `${root}/$metadata#processstages`,
        value: activePath(env, instance).map((r) => shapeRow(sc, stages, r, columns, undefined, true)),
      });
    }
    const privilege = USER_PRIVILEGE_PATH.exec(rest);
    if (privilege) {
      if (req.method !== 'GET') throw new DataverseError(405, '0x80040315', 'This action is not supported.');
      const aliases = new Map([...options].filter(([k]) => k.startsWith('@')));
      return json(200, {
        '@odata.context': `${root}/$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeNameResponse`,
        ...userPrivilegeByName(this.ctx, caller, this.ctx.roleOf, privilege, aliases),
      });
    }
    const m = ENTITY_PATH.exec(rest);
    if (!m) throw resourceNotFound(rest);
    const [, setName, rawId, member, rawMemberId, ref] = m;
    const entity = this.ctx.schema.entityBySet(setName!);
    if (!entity) throw resourceNotFound(setName!);
    const id = rawId?.toLowerCase();
    const method = req.method;
    const prefer = req.headers.prefer ?? '';
    const annotations = annotationFilter(prefer);
    const aliases = new Map([...options].filter(([k]) => k.startsWith('@')));
    const env = this.env(caller, aliases);
    const wctx = this.writeContext(env, caller, writeExtras);
    // DUP: a create or update of a record applies the rules only when asked to (the Web API's default is off)
    if (req.headers['mscrm.suppressduplicatedetection']?.trim().toLowerCase() === 'false')
      wctx.duplicateRules = this.ctx.duplicateRules;
    const shapeCtx = (expandLinks: boolean, maxPageSize?: number): ShapeContext => ({
      env,
      annotations,
      serviceRoot: root,
      expandLinks,
      maxPageSize,
    });
    const applied: string[] = [];
    const includeAnn = /odata\.include-annotations="?[^";]*"?/.exec(prefer);
    if (includeAnn) applied.push(includeAnn[0]);
    const returnRep = /return=representation/.test(prefer);
    const parsed: Parsed = {
      select: options.has('$select') ? parseSelect(options.get('$select')!) : undefined,
      expand: options.has('$expand') ? parseExpand(options.get('$expand')!) : undefined,
    };
    // JOIN: at most 15 $expand options per query
    if (countExpands(parsed.expand) > 15) throw badRequest('The number of $expand options exceeds the limit of 15.');

    const many = id && member ? entity.oneToMany.find((o) => o.navigationProperty === member) : undefined;
    // ----- a link through a list: POST …/<collection nav>/$ref, DELETE …/<collection nav>(<id>)/$ref -----
    if (ref && many && (method === 'POST' || method === 'DELETE')) {
      collectionRef(wctx, caller.role, caller.userId, {
        method,
        entity,
        id: id!,
        nav: many,
        memberId: rawMemberId?.toLowerCase(),
        idOption: options.get('$id'),
        body: method === 'POST' ? this.readJson(req, entity) : undefined,
      });
      return { status: 204, headers: {} };
    }
    if (rawMemberId) throw resourceNotFound(rest);
    // $id names the record DELETE …/$ref unlinks: anywhere else it is an option the Web API does not take here
    if (options.has('$id')) throw badRequest('The query parameter $id is not supported');

    // ----- collection: /accounts, /accounts/$count, /accounts(<id>)/<collection nav> -----
    let source: Row[] | undefined;
    let collectionEntity: EntityDef = entity;
    let collectionSet = entity.entitySetName;
    if (id && member && !ref) {
      if (many) {
        assertPrivilege(caller.role, entity, 'read', caller.userId);
        if (!this.ctx.store.table(entity.logicalName).get(id)) throw notFound(entity.logicalName, id);
        collectionEntity = this.ctx.schema.entity(many.referencingEntity)!;
        collectionSet = collectionEntity.entitySetName;
        source = env.listOf(many, collectionEntity, id);
      }
    }
    if ((!id && (!member || member === '$count')) || source) {
      if (method === 'POST' && !source && !member) {
        if (entity.retrieveOnly) throw retrieveOnly(entity, 'Create');
        return this.create(req, caller, entity, wctx, shapeCtx(false), parsed, returnRep, applied);
      }
      if (method !== 'GET')
        throw new DataverseError(405, '0x80040315', `The ${method} method is not supported on a collection.`);
      assertPrivilege(caller.role, collectionEntity, 'read', caller.userId);
      assertExpandReadable(caller.role, this.ctx.schema, collectionEntity, parsed.expand, caller.userId);
      if (member === '$count') {
        // COUNT: GET /accounts/$count returns a bare number as text/plain
        const n = Math.min(this.ctx.store.table(entity.logicalName).rows.size, MAX_PAGE);
        return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: String(n) };
      }
      if (options.has('$apply')) {
        const steps = parseApply(options.get('$apply')!);
        const value = runApply(env, collectionEntity, steps, annotations, this.ctx.aggregateLimit);
        return json(
          200,
          { '@odata.context': `${root}/$metadata#${collectionSet}`, value },
          this.preferenceApplied(applied),
        );
      }
      const maxPage = /odata\.maxpagesize=(\d+)/.exec(prefer);
      const maxPageSize = maxPage ? Math.max(1, Number(maxPage[1])) : undefined;
      if (maxPage) applied.unshift(`odata.maxpagesize=${Math.min(maxPageSize!, MAX_PAGE)}`);
      const top = options.has('$top') ? Number(options.get('$top')) : undefined;
      if (top !== undefined && (!Number.isInteger(top) || top < 0))
        throw badRequest(`Invalid value '${options.get('$top')}' for $top.`);
      const countRequested = options.get('$count') === 'true';
      const result = runCollectionQuery(env, {
        entity: collectionEntity,
        filter: options.has('$filter') ? parseFilter(options.get('$filter')!) : undefined,
        orderBy: options.has('$orderby') ? parseOrderBy(options.get('$orderby')!) : undefined,
        top,
        expand: parsed.expand,
        count: countRequested,
        skipToken: options.get('$skiptoken'),
        maxPageSize,
        source,
      });
      const cols = resolveSelect(env, collectionEntity, parsed.select);
      const sc = shapeCtx(true, maxPageSize);
      const body: Record<string, unknown> = { '@odata.context': contextUrl(root, collectionSet, parsed) };
      if (result.count !== undefined) {
        body['@odata.count'] = result.count;
        // COUNT: totalrecordcount / totalrecordcountlimitexceeded annotations
        if (annotations('Microsoft.Dynamics.CRM.totalrecordcount'))
          body['@Microsoft.Dynamics.CRM.totalrecordcount'] = result.count;
        if (annotations('Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded'))
          body['@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded'] = result.count >= MAX_PAGE;
      } else if (annotations('Microsoft.Dynamics.CRM.totalrecordcount'))
        body['@Microsoft.Dynamics.CRM.totalrecordcount'] = -1;
      body.value = result.rows.map((r) => shapeRow(sc, collectionEntity, r, cols, parsed.expand, true));
      if (result.next) {
        // PAGE: the original URL, $count dropped, plus &$skiptoken=<cookie>; built from the request's own scheme and Host
        const kept = query.raw.filter((p) => p.key !== '$skiptoken' && p.key !== '$count').map((p) => p.part);
        const token = encodeSkipTokenForUrl(encodeSkipToken(result.next, collectionEntity.primaryIdAttribute));
        kept.push(`$skiptoken=${token}`);
        body['@odata.nextLink'] = `${req.url.protocol}//${req.url.host}${req.url.pathname}?${kept.join('&')}`;
      }
      return json(200, body, this.preferenceApplied(applied));
    }

    // ----- single record and its members -----
    if (!id) throw resourceNotFound(rest);
    const table = this.ctx.store.table(entity.logicalName);
    const pre = { ifMatch: req.headers['if-match'], ifNoneMatch: req.headers['if-none-match'] };
    if (!member) {
      switch (method) {
        case 'GET': {
          assertPrivilege(caller.role, entity, 'read', caller.userId);
          assertExpandReadable(caller.role, this.ctx.schema, entity, parsed.expand, caller.userId);
          const row = table.get(id);
          if (!row) throw notFound(entity.logicalName, id);
          const etag = etagOf(row);
          // COND: If-None-Match with the current etag gives 304, except with $expand or include-annotations
          if (
            pre.ifNoneMatch &&
            pre.ifNoneMatch !== 'null' &&
            pre.ifNoneMatch === etag &&
            !parsed.expand &&
            !includeAnn
          )
            return { status: 304, headers: { ETag: etag } };
          const body = shapeRow(
            shapeCtx(false),
            entity,
            row,
            resolveSelect(env, entity, parsed.select),
            parsed.expand,
            true,
          );
          return json(
            200,
            { '@odata.context': `${contextUrl(root, entity.entitySetName, parsed)}/$entity`, ...body },
            {
              ETag: etag,
              ...this.preferenceApplied(applied),
            },
          );
        }
        case 'PATCH': {
          const exists = !!table.get(id);
          if (entity.retrieveOnly) throw retrieveOnly(entity, exists ? 'Update' : 'Create');
          assertPrivilege(caller.role, entity, exists || pre.ifMatch ? 'write' : 'create', caller.userId);
          const body = this.readJson(req, entity);
          // an upsert that creates may carry a deep insert (an activity's parties): all of it or nothing
          const { row } = this.ctx.store.atomically(() => patchRow(wctx, entity, id, body, pre));
          const entityId = `${root}/${entity.entitySetName}(${id})`;
          if (returnRep) {
            applied.push('return=representation');
            // UPDATE: PATCH with return=representation gives 200 with the $select-ed columns ($expand ignored)
            const shaped = shapeRow(
              shapeCtx(false),
              entity,
              row,
              resolveSelect(env, entity, parsed.select),
              undefined,
              true,
            );
            return json(
              200,
              { '@odata.context': `${root}/$metadata#${entity.entitySetName}/$entity`, ...shaped },
              {
                ETag: etagOf(row),
                ...this.preferenceApplied(applied),
              },
            );
          }
          return { status: 204, headers: { 'OData-EntityId': entityId, ETag: etagOf(row) } };
        }
        case 'DELETE':
          if (entity.retrieveOnly) throw retrieveOnly(entity, 'Delete');
          assertPrivilege(caller.role, entity, 'delete', caller.userId);
          deleteRow(wctx, entity, id, pre);
          return { status: 204, headers: {} };
        default:
          throw new DataverseError(405, '0x80040315', `The ${method} method is not supported on a record.`);
      }
    }

    // /accounts(<id>)/<column or single-valued nav>[/$ref]
    const single = entity.manyToOne.find((m2o) => m2o.navigationProperty === member);
    if (single) {
      if (ref && method === 'DELETE') {
        assertPrivilege(caller.role, entity, 'write', caller.userId);
        patchRow(wctx, entity, id, { [`${member}@odata.bind`]: null }, { ifMatch: '*' });
        return { status: 204, headers: {} };
      }
      if (ref && method === 'PUT') {
        assertPrivilege(caller.role, entity, 'write', caller.userId);
        const body = this.readJson(req, entity);
        patchRow(wctx, entity, id, { [`${member}@odata.bind`]: body['@odata.id'] }, { ifMatch: '*' });
        return { status: 204, headers: {} };
      }
      if (method !== 'GET' || ref) throw new DataverseError(405, '0x80040315', 'This action is not supported.');
      assertPrivilege(caller.role, entity, 'read', caller.userId);
      const row = table.get(id);
      if (!row) throw notFound(entity.logicalName, id);
      // the owner is the user or team row itself (the principal type's derived types)
      const value = row[single.attribute];
      const targetName = single.target === PRINCIPAL && isLookupRef(value) ? value.entity : single.target;
      const target = this.ctx.schema.entity(targetName);
      const related = env.related(value, targetName);
      if (!target || !related) return { status: 204, headers: {} };
      const body = shapeRow(
        shapeCtx(false),
        target,
        related,
        resolveSelect(env, target, parsed.select),
        parsed.expand,
        true,
      );
      return json(200, { '@odata.context': `${root}/$metadata#${target.entitySetName}/$entity`, ...body });
    }
    const attr = this.ctx.schema.attribute(entity, member!);
    if (!attr || ref) throw unknownProperty(member!, entity.logicalName);
    if (method === 'GET') {
      assertPrivilege(caller.role, entity, 'read', caller.userId);
      const row = table.get(id);
      if (!row) throw notFound(entity.logicalName, id);
      const value = row[member!] ?? null;
      const out: Record<string, unknown> = {
        '@odata.context': `${root}/$metadata#${entity.entitySetName}(${id})/${member}`,
      };
      const f = annotations('OData.Community.Display.V1.FormattedValue') ? formatValue(attr, value) : undefined;
      if (f !== undefined) out['value@OData.Community.Display.V1.FormattedValue'] = f;
      out.value = value;
      return json(200, out);
    }
    if (method === 'PUT' || method === 'DELETE') {
      assertPrivilege(caller.role, entity, 'write', caller.userId);
      const value = method === 'PUT' ? this.readJson(req, entity).value : null;
      setColumn(wctx, entity, id, member!, value ?? null);
      return { status: 204, headers: {} };
    }
    throw new DataverseError(405, '0x80040315', 'This action is not supported.');
  }

  private preferenceApplied(applied: string[]): Record<string, string> {
    return applied.length ? { 'Preference-Applied': applied.join(',') } : {};
  }

  private readJson(req: ApiRequest, entity: EntityDef): Record<string, unknown> {
    let body: unknown;
    try {
      body = JSON.parse(req.body || '{}');
    } catch (err) {
      throw badRequest(
        `The request body is not valid JSON for entity '${entity.logicalName}': ${(err as Error).message}`,
        '0x80048d19',
      );
    }
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badRequest(`The request body for entity '${entity.logicalName}' must be a JSON object.`, '0x80048d19');
    return body as Record<string, unknown>;
  }

  private create(
    req: ApiRequest,
    caller: Caller,
    entity: EntityDef,
    wctx: WriteContext,
    sc: ShapeContext,
    parsed: Parsed,
    returnRep: boolean,
    applied: string[],
  ): ApiResponse {
    assertPrivilege(caller.role, entity, 'create', caller.userId);
    const body = this.readJson(req, entity);
    const row = this.ctx.store.atomically(() => createRow(wctx, entity, body)); // deep insert is atomic (BASICSAMPLE)
    const id = String(row[entity.primaryIdAttribute]);
    const entityId = `${sc.serviceRoot}/${entity.entitySetName}(${id})`;
    if (returnRep) {
      // CREATE: 201 with the record; OData-EntityId is NOT returned in this mode
      applied.push('return=representation');
      const shaped = shapeRow(sc, entity, row, resolveSelect(sc.env, entity, parsed.select), parsed.expand, true);
      return json(
        201,
        { '@odata.context': `${sc.serviceRoot}/$metadata#${entity.entitySetName}/$entity`, ...shaped },
        {
          ETag: etagOf(row),
          ...this.preferenceApplied(applied),
        },
      );
    }
    // CREATE: 204 No Content with OData-EntityId
    return { status: 204, headers: { 'OData-EntityId': entityId } };
  }
}

/**
 * A table that supports RetrieveMultiple only (ActivityParty: parties are made with their activity). The
 * message is the platform's ("The 'Create' method does not support entities of type 'activityparty'");
 * GUESS: the error code, which no source gives.
 */
const retrieveOnly = (entity: EntityDef, method: string) =>
  badRequest(`The '${method}' method does not support entities of type '${entity.logicalName}'.`);
