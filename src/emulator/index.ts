import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Authority } from './authority/authority.js';
import { certificateEntry } from './authority/registry.js';
import { TokenSigner } from './authority/signer.js';
import { authenticateBearer } from './bearer.js';
import { handleControl } from './control.js';
import { applicationUser, buildDirectory, seedStoreUser } from './directory.js';
import { FaultTable } from './faults.js';
import type { EmulatorConfigPatch, EmulatorHandle, EmulatorOptions, EmulatorStats } from './handle.js';
import { RequestLog } from './request-log.js';
import { stableGuid } from './schema/build.js';
import { Schema } from './schema/index.js';
import { seedOrganization } from './seed/organization.js';
import { addProcessStage } from './seed/sales-process.js';
import { firstFreeTicketSequence, type SeedUser, seedStore } from './seed/seed.js';
import { ACTIVITY_POINTERS } from './store/activity-pointers.js';
import { type Row, Store } from './store/store.js';
import { createClientCertificate, createServerCertificate } from './tls.js';
import { handleBatch } from './webapi/batch.js';
import { DEFAULT_DUPLICATE_RULES, type DuplicateRule, writeRuleRows } from './webapi/duplicate-rules.js';
import { DataverseError } from './webapi/errors.js';
import { API_PREFIX, type ApiResponse, MAX_URL_LENGTH, urlTooLong } from './webapi/request.js';
import { errorResponse, WebApi } from './webapi/router.js';
import { fullRole, type SecurityRole } from './webapi/security.js';
import { DATAVERSE_LIMITS, ServiceProtection } from './webapi/throttle.js';

export type { FaultSpec } from './faults.js';

export type { LoggedRequest } from './request-log.js';
export type { SecurityRole } from './webapi/security.js';
export type { ServiceProtectionLimits } from './webapi/throttle.js';
export type { EmulatorConfigPatch, EmulatorHandle, EmulatorOptions, EmulatorStats };

const MAX_BODY = 64 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) h[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return h;
}

/** Writes the response; returns the body's size in bytes (encoded once: pages run to megabytes). */
function send(res: ServerResponse, r: ApiResponse): number {
  const empty = r.status === 204 || r.status === 304;
  const bytes = empty ? undefined : Buffer.from(r.body ?? '');
  res.writeHead(r.status, {
    'OData-Version': '4.0',
    ...r.headers,
    ...(bytes ? { 'Content-Length': bytes.length } : {}),
  });
  res.end(bytes);
  return bytes?.length ?? 0;
}

async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Starts a local Dataverse: an HTTPS Web API and an Entra-like authority (two origins, like the real
 * services), with seeded data, fault injection and a control API under /_emulator/ on the Web API origin.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const host = options.host ?? '127.0.0.1';
  const seed = options.seed ?? 42;
  const scale = options.scale ?? 50;
  const tenantId = options.tenantId ?? stableGuid(`tenant:${seed}`);
  const clientId = (options.clientId ?? stableGuid(`app:${seed}`)).toLowerCase();
  const clientSecret = options.clientSecret ?? `emu~${randomUUID().replace(/-/g, '').slice(0, 30)}`;
  const apiClientId = (options.apiClientId ?? stableGuid(`mcp-api:${seed}`)).toLowerCase();
  const apiSecret = `api~${randomUUID().replace(/-/g, '').slice(0, 30)}`;
  const identityHeader = randomUUID();
  const miSystem = stableGuid(`mi-system:${seed}`);
  const miUser = stableGuid(`mi-user:${seed}`);
  const anchor = options.anchorDate ?? new Date();

  const [tls, signer] = await Promise.all([options.tls ?? createServerCertificate(host), TokenSigner.create()]);
  // room for the longest URL Dataverse accepts inside a $batch and more: the limits are checked below, with
  // Dataverse's answer, instead of Node's 431 at its default 16 KB
  const webServer = createServer({ cert: tls.cert, key: tls.key, maxHeaderSize: 128 * 1024 });
  const authServer = createServer({ cert: tls.cert, key: tls.key });
  webServer.keepAliveTimeout = 30_000;
  authServer.keepAliveTimeout = 30_000;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const webPort = await listen(webServer, host, options.port ?? 0);
  const authPort = await listen(authServer, host, options.authorityPort ?? 0);
  const dynamicsUrl = `https://${urlHost}:${webPort}`;
  const authorityHost = `https://${urlHost}:${authPort}`;

  const schema = new Schema();
  const store = new Store(schema.entities, [ACTIVITY_POINTERS]);
  const { appUserId, seedUsers, testUsers, apps, register } = buildDirectory({
    seed,
    clientId,
    clientSecret,
    apiClientId,
    apiSecret,
    miSystem,
    miUser,
  });

  const authority = new Authority(
    {
      tenantId,
      authorityHost,
      dynamicsUrl,
      apiAudience: `api://${apiClientId}`,
      tokenLifetimeSec: options.tokenLifetimeSec ?? 3599,
      apps,
      users: testUsers,
      managedIdentity: { header: identityHeader, systemAssignedClientId: miSystem, userAssignedClientIds: [miUser] },
    },
    signer,
  );

  let latencyMs = options.latencyMs ?? 0;
  let clockSkewMs = 0;
  let aggregateLimit = options.aggregateLimit ?? 50_000;
  let duplicateRules: readonly DuplicateRule[] = DEFAULT_DUPLICATE_RULES;
  let concurrencyOff: ReadonlySet<string> = new Set();
  let slaTimer = options.slaTimer ?? true;
  let ticket = firstFreeTicketSequence(scale);
  const roles = new Map<string, SecurityRole>();
  const roleOf = (userId: string) => roles.get(userId) ?? fullRole(schema.entities);
  const protection = new ServiceProtection({ ...DATAVERSE_LIMITS, ...options.limits });
  const faults = new FaultTable();
  const log = new RequestLog();
  const stats: EmulatorStats = {
    tokenRequests: 0,
    managedIdentityRequests: 0,
    apiRequests: 0,
    batchRequests: 0,
    throttled: 0,
    faultsInjected: 0,
    inFlight: 0,
    peakInFlight: 0,
    bytesOut: 0,
  };
  const organizationId = stableGuid(`org:${seed}`);
  const api = new WebApi({
    schema,
    store,
    now: () => new Date(),
    nextTicket: () => ticket++,
    get aggregateLimit() {
      return aggregateLimit;
    },
    get duplicateRules() {
      return duplicateRules;
    },
    get concurrencyOff() {
      return concurrencyOff;
    },
    get slaTimer() {
      return slaTimer;
    },
    slaOwnerId: seedUsers[0]!.systemuserid,
    organizationId,
    businessUnitId: stableGuid(`bu:${seed}`),
    roleOf,
  });

  // apps registered later get their application users after the seeded ones, so the seed stays deterministic
  const extraAppUsers: SeedUser[] = [];
  const reseed = () => {
    store.clear();
    seedStore(store, schema, { seed, scale, anchor, users: seedUsers });
    for (const u of extraAppUsers) seedStoreUser(store, u);
    seedOrganization(store, organizationId);
    writeRuleRows(store, duplicateRules);
    store.rebuildDerived();
    ticket = firstFreeTicketSequence(scale);
  };
  reseed();
  let removedAppUser: Row | null = null;

  /** Applies a fault if one matches; returns true when the request was fully handled by it. */
  const applyFault = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<'reset-after' | boolean> => {
    const fault = faults.take(req.method ?? 'GET', path);
    if (!fault) return false;
    stats.faultsInjected++;
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.action === 'reset') {
      req.socket.destroy();
      return true;
    }
    if (fault.action === 'reset-after') return 'reset-after';
    if (fault.response) {
      const { status, headers = {}, body } = fault.response;
      const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
      send(res, { status, headers: { 'Content-Type': 'application/json', ...headers }, body: text });
      return true;
    }
    return false;
  };

  const handleWeb = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `https://${req.headers.host ?? `${urlHost}:${webPort}`}`);
    const body = await readBody(req);
    if (url.pathname.startsWith('/_emulator/')) {
      const r = await handleControl(control, req.method ?? 'GET', url, body ?? '');
      send(res, r);
      return;
    }
    const entry = {
      method: req.method ?? 'GET',
      url: `${url.pathname}${url.search}`,
      status: 0,
      service: 'webapi' as const,
      userId: undefined as string | undefined,
      at: Date.now(),
    };
    log.add(entry);
    stats.apiRequests++;
    stats.inFlight++;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    res.on('close', () => {
      stats.inFlight--;
    });
    const respond = (r: ApiResponse) => {
      entry.status = r.status;
      stats.bytesOut += send(res, {
        ...r,
        headers: { Date: new Date(Date.now() + clockSkewMs).toUTCString(), ...r.headers },
      });
    };
    if (body === null)
      return respond(errorResponse(new DataverseError(413, '0x80040216', 'The request is too large.')));
    if (dynamicsUrl.length + (req.url ?? '').length > MAX_URL_LENGTH) return respond(urlTooLong());
    const fault = await applyFault(req, res, url.pathname);
    if (fault === true) {
      entry.status = res.headersSent ? res.statusCode : -1;
      return;
    }
    let admitted: ReturnType<ServiceProtection['admit']> | undefined;
    try {
      const caller = await authenticateBearer(req.headers.authorization, signer, {
        dynamicsUrl,
        authorityUri: `${authorityHost}/${tenantId}`,
        store,
        schema,
      });
      entry.userId = caller.userId;
      admitted = protection.admit(caller.userId);
      // the simulated service time counts towards concurrency and execution time, as real processing does
      if (latencyMs > 0) await sleep(latencyMs);
      const role = roleOf(caller.userId);
      const headers = lowerHeaders(req);
      const apiReq = { method: req.method ?? 'GET', url, headers, body };
      const isBatch = url.pathname === `${API_PREFIX}/$batch`;
      if (isBatch) stats.batchRequests++;
      api.moveClocks();
      const r =
        isBatch && req.method === 'POST'
          ? handleBatch(api, store, apiReq, { userId: caller.userId, role }, (m, p) => {
              const f = faults.take(m, p, true);
              if (f) stats.faultsInjected++;
              return f?.response;
            })
          : api.handle(apiReq, { userId: caller.userId, role });
      r.headers = { ...admitted.headers, ...r.headers };
      if (fault === 'reset-after') {
        // the write is committed; the client never hears back
        entry.status = -1;
        req.socket.destroy();
        return;
      }
      respond(r);
    } catch (err) {
      if (err instanceof DataverseError && err.status === 429) stats.throttled++;
      respond(errorResponse(err));
    } finally {
      admitted?.done();
    }
  };

  const handleAuth = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', authorityHost);
    const body = (await readBody(req)) ?? '';
    const service = url.pathname === '/msi/token' ? ('identity' as const) : ('authority' as const);
    const entry = { method: req.method ?? 'GET', url: `${url.pathname}${url.search}`, status: 0, service };
    log.add(entry);
    if (service === 'identity') stats.managedIdentityRequests++;
    else if (req.method === 'POST' && url.pathname.endsWith('/oauth2/v2.0/token')) stats.tokenRequests++;
    const fault = await applyFault(req, res, url.pathname);
    if (fault === true) {
      entry.status = res.headersSent ? res.statusCode : -1;
      return;
    }
    const answer = await authority.handle(req.method ?? 'GET', url, lowerHeaders(req), body);
    const r = answer ?? {
      status: 404,
      body: { error: 'not_found', error_description: `No such endpoint: ${url.pathname}` },
    };
    entry.status = r.status;
    if (fault === 'reset-after') {
      req.socket.destroy();
      return;
    }
    send(res, {
      status: r.status,
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...r.headers },
      body: JSON.stringify(r.body),
    });
  };

  const guard =
    (fn: (req: IncomingMessage, res: ServerResponse) => Promise<void>) =>
    (req: IncomingMessage, res: ServerResponse) => {
      fn(req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, errorResponse(err));
        else res.destroy();
      });
    };
  webServer.on('request', guard(handleWeb));
  authServer.on('request', guard(handleAuth));
  const sockets = new Set<Socket>();
  for (const s of [webServer, authServer])
    s.on('secureConnection', (sock: Socket) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });

  const control: EmulatorHandle = {
    dynamicsUrl,
    authorityHost,
    tenantId,
    clientId,
    clientSecret,
    env: {
      DYNAMICS_URL: dynamicsUrl,
      AZURE_AUTHORITY_HOST: authorityHost,
      AZURE_TENANT_ID: tenantId,
      AZURE_CLIENT_ID: clientId,
      AZURE_CLIENT_SECRET: clientSecret,
    },
    ca: tls.cert,
    applicationUserId: appUserId,
    identityEndpoint: `${authorityHost}/msi/token`,
    identityHeader,
    managedIdentity: { systemAssignedClientId: miSystem, userAssignedClientId: miUser },
    api: { audience: `api://${apiClientId}`, clientId: apiClientId, clientSecret: apiSecret },
    users: testUsers.map(({ first: _f, last: _l, ...u }) => u),
    async reset() {
      reseed();
      api.timer.reset();
      slaTimer = options.slaTimer ?? true;
      schema.restoreOptions();
      removedAppUser = null;
      faults.clear();
      log.clear();
      protection.reset();
      roles.clear();
      duplicateRules = DEFAULT_DUPLICATE_RULES;
      writeRuleRows(store, duplicateRules);
      concurrencyOff = new Set();
      for (const k of Object.keys(stats) as (keyof EmulatorStats)[]) if (k !== 'inFlight') stats[k] = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(
        [webServer, authServer].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
    stats: () => ({ ...stats }),
    requests: () => log.list(),
    addFault: (spec) => faults.add(spec),
    clearFaults: () => faults.clear(),
    configure(patch) {
      if (patch.latencyMs !== undefined) latencyMs = patch.latencyMs;
      if (patch.clockSkewMs !== undefined) clockSkewMs = patch.clockSkewMs;
      if (patch.tokenLifetimeSec !== undefined) authority.config.tokenLifetimeSec = patch.tokenLifetimeSec;
      if (patch.limits) protection.limits = { ...protection.limits, ...patch.limits };
      if (patch.aggregateLimit !== undefined) aggregateLimit = patch.aggregateLimit;
      if (patch.duplicateRules) {
        duplicateRules = patch.duplicateRules;
        writeRuleRows(store, duplicateRules);
      }
      if (patch.optimisticConcurrencyOff) concurrencyOff = new Set(patch.optimisticConcurrencyOff);
      if (patch.slaTimer !== undefined) slaTimer = patch.slaTimer;
      if (patch.organization) {
        const org = store.table('organization').get(organizationId)!;
        store
          .table('organization')
          .put(organizationId, { ...org, ...patch.organization, versionnumber: store.nextVersion() });
      }
      if (patch.processStage) addProcessStage(store, patch.processStage);
      if (patch.role) roles.set(patch.role.userId ?? appUserId, patch.role.privileges);
      if (patch.secretExpired !== undefined) {
        const app = apps.get(clientId)!;
        app.secrets[0]!.expiresAt = new Date(Date.now() + (patch.secretExpired ? -86_400_000 : 365 * 86_400_000));
      }
      if (patch.applicationUserMissing !== undefined) {
        const users = store.table('systemuser');
        if (patch.applicationUserMissing && !removedAppUser) {
          removedAppUser = users.get(appUserId) ?? null;
          users.remove(appUserId);
        } else if (!patch.applicationUserMissing && removedAppUser) {
          users.put(appUserId, removedAppUser);
          removedAppUser = null;
        }
      }
    },
    async createClientCertificate(forClient = clientId) {
      const app = apps.get(forClient.toLowerCase());
      if (!app) throw new Error(`No app registration ${forClient}`);
      const { pem, cert } = await createClientCertificate(`dynamics-mcp ${forClient}`);
      app.certificates.push(certificateEntry(cert));
      return pem;
    },
    registerApp(app) {
      const id = app.clientId.toLowerCase();
      register(id, id, app.secret, app.apiRoles ?? []);
      if (app.applicationUser) {
        const user = applicationUser(id);
        extraAppUsers.push(user);
        seedStoreUser(store, user);
      }
    },
    mintToken: (claims, lifetimeSec) => authority.mint(claims, lifetimeSec),
    rows: (logicalName) => [...store.table(logicalName).rows.values()].map((r) => structuredClone(r)),
  };
  return control;
}
