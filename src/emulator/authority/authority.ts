import { createPublicKey, randomUUID, timingSafeEqual } from 'node:crypto';
import { decodeProtectedHeader, type JWTPayload, jwtVerify } from 'jose';
import {
  AadError,
  appNotFound,
  badAssertion,
  expiredSecret,
  invalidGrant,
  invalidScope,
  missingCredential,
  missingParameter,
  resourceNotFound,
  tenantNotFound,
  unsupportedGrant,
  wrongSecret,
} from './errors.js';
import { type AppRegistration, type TestUser, thumbprintB64 } from './registry.js';
import type { TokenSigner } from './signer.js';

export interface AuthorityConfig {
  tenantId: string;
  /** https://127.0.0.1:<port> */
  authorityHost: string;
  /** the Dataverse resource (audience of its tokens), no trailing slash */
  dynamicsUrl: string;
  /** the MCP server's own API (hosted mode): its Application ID URI */
  apiAudience: string;
  tokenLifetimeSec: number;
  apps: Map<string, AppRegistration>;
  users: TestUser[];
  managedIdentity: { header: string; systemAssignedClientId: string; userAssignedClientIds: string[] };
}

export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

const ok = (body: unknown): HttpAnswer => ({ status: 200, body });
const trimSlash = (s: string) => s.replace(/\/+$/, '');

/**
 * An Entra-ID-like authority, enough for the unmodified @azure/msal-node code path (msal-notes.md §6):
 * OpenID configuration, instance discovery, JWKS, the v2.0 token endpoint (client credentials with a
 * secret or a certificate assertion, resource-owner password, on-behalf-of) and an App Service style
 * managed-identity endpoint.
 */
export class Authority {
  constructor(
    readonly config: AuthorityConfig,
    readonly signer: TokenSigner,
  ) {}

  get issuer(): string {
    return `${this.config.authorityHost}/${this.config.tenantId}/v2.0`;
  }

  private knownTenant(t: string): boolean {
    return t.toLowerCase() === this.config.tenantId.toLowerCase();
  }

  async handle(method: string, url: URL, headers: Record<string, string>, body: string): Promise<HttpAnswer | null> {
    const parts = url.pathname.split('/').filter(Boolean);
    try {
      if (method === 'GET' && url.pathname === '/msi/token') return await this.managedIdentity(url, headers);
      const [tenant, ...rest] = parts;
      if (!tenant) return null;
      const tail = rest.join('/');
      if (method === 'GET' && (tail === 'discovery/instance' || tail === 'discovery/v2.0/instance'))
        return ok(this.instanceDiscovery());
      if (method === 'GET' && (tail === 'discovery/v2.0/keys' || tail === 'discovery/keys'))
        return ok(this.signer.jwks());
      if (tenant === 'common' || tenant === 'organizations') return null;
      if (!this.knownTenant(tenant)) throw tenantNotFound(tenant);
      if (
        method === 'GET' &&
        (tail === 'v2.0/.well-known/openid-configuration' || tail === '.well-known/openid-configuration')
      )
        return ok(this.openIdConfiguration());
      if (method === 'POST' && tail === 'oauth2/v2.0/token') {
        return ok(await this.token(new URLSearchParams(body), url));
      }
      return null;
    } catch (err) {
      if (err instanceof AadError)
        return { status: err.status, body: err.body(headers['client-request-id'] ?? randomUUID()) };
      throw err;
    }
  }

  openIdConfiguration(): Record<string, unknown> {
    const base = `${this.config.authorityHost}/${this.config.tenantId}`;
    return {
      issuer: this.issuer,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      tenant_region_scope: 'NA',
      cloud_instance_name: 'emulator',
    };
  }

  instanceDiscovery(): Record<string, unknown> {
    const host = new URL(this.config.authorityHost).host;
    return {
      tenant_discovery_endpoint: `${this.config.authorityHost}/${this.config.tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    };
  }

  /** The audiences this tenant can issue tokens for: the Dataverse URL and the MCP server's API, with or without a scope suffix. */
  private resolveResource(scope: string): { audience: string; kind: 'dynamics' | 'api' } | null {
    const base = trimSlash(scope.endsWith('/.default') ? scope.slice(0, -'/.default'.length) : scope);
    const dyn = trimSlash(this.config.dynamicsUrl);
    if (base === dyn || base.startsWith(`${dyn}/`)) return { audience: dyn, kind: 'dynamics' };
    const api = trimSlash(this.config.apiAudience);
    if (base === api || base.startsWith(`${api}/`)) return { audience: api, kind: 'api' };
    return null;
  }

  private async authenticate(form: URLSearchParams, tokenUrl: URL): Promise<AppRegistration> {
    const clientId = form.get('client_id');
    if (!clientId) throw missingParameter('client_id');
    const app = this.config.apps.get(clientId.toLowerCase());
    if (!app) throw appNotFound(clientId, this.config.tenantId);
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      const given = Buffer.from(secret);
      const match = app.secrets.find((s) => {
        const b = Buffer.from(s.value);
        return b.length === given.length && timingSafeEqual(b, given);
      });
      if (!match) throw wrongSecret(clientId);
      if (match.expiresAt.getTime() <= Date.now()) throw expiredSecret(clientId);
      return app;
    }
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
        throw missingParameter('client_assertion_type');
      await this.verifyAssertion(app, assertion, tokenUrl);
      return app;
    }
    throw missingCredential();
  }

  /** A certificate credential: a JWT signed with a registered certificate's key (x5t / x5t#S256 header). */
  private async verifyAssertion(app: AppRegistration, assertion: string, tokenUrl: URL): Promise<void> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw badAssertion('The assertion is not a JWT.');
    }
    const x5tS256 = header['x5t#S256'] as string | undefined;
    const cert = app.certificates.find((c) =>
      x5tS256
        ? thumbprintB64(c.thumbprintSha256) === x5tS256
        : header.x5t
          ? thumbprintB64(c.thumbprintSha1) === header.x5t
          : false,
    );
    if (!cert)
      throw new AadError(
        'invalid_client',
        700027,
        `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${x5tS256 ?? header.x5t ?? ''}']`,
      );
    const key = createPublicKey(cert.pem);
    const audience = `${tokenUrl.origin}${tokenUrl.pathname}`;
    let payload: JWTPayload;
    try {
      // Entra tolerates five minutes of clock skew on assertions
      ({ payload } = await jwtVerify(assertion, key, {
        algorithms: ['RS256', 'PS256'],
        audience,
        clockTolerance: 300,
      }));
    } catch (err) {
      throw badAssertion((err as Error).message);
    }
    if (payload.iss !== app.clientId || payload.sub !== app.clientId)
      throw badAssertion('The iss and sub claims must be the client id.');
  }

  private async token(form: URLSearchParams, tokenUrl: URL): Promise<Record<string, unknown>> {
    const grant = form.get('grant_type');
    if (!grant) throw missingParameter('grant_type');
    const scope = form.get('scope');
    if (grant === 'client_credentials') {
      const app = await this.authenticate(form, tokenUrl);
      if (!scope) throw missingParameter('scope');
      const scopes = scope.split(' ').filter(Boolean);
      // TOKEN: the scope is the resource's App ID URI with /.default, one resource only
      if (scopes.length !== 1 || !scopes[0]!.endsWith('/.default')) throw invalidScope(scope);
      const res = this.resolveResource(scopes[0]!);
      if (!res) throw resourceNotFound(scopes[0]!.replace(/\/\.default$/, ''), this.config.tenantId);
      return this.issue({
        aud: res.audience,
        oid: app.objectId,
        sub: app.objectId,
        appid: app.clientId,
        azp: app.clientId,
        idtyp: 'app',
        ...(res.kind === 'api' && app.apiRoles.length ? { roles: app.apiRoles } : {}),
      });
    }
    if (grant === 'password') {
      const username = form.get('username');
      const password = form.get('password');
      const clientId = form.get('client_id');
      if (!clientId) throw missingParameter('client_id');
      if (!this.config.apps.get(clientId.toLowerCase())) throw appNotFound(clientId, this.config.tenantId);
      if (!username) throw missingParameter('username');
      const user = this.config.users.find((u) => u.username.toLowerCase() === username.toLowerCase());
      if (!user || user.password !== password)
        throw invalidGrant(50126, 'Error validating credentials due to invalid username or password.');
      if (!scope) throw missingParameter('scope');
      // OpenID Connect scopes (MSAL adds them) are not resource scopes
      const OIDC = new Set(['openid', 'profile', 'offline_access', 'email']);
      return this.userToken(
        user,
        clientId,
        scope.split(' ').filter((s) => s && !OIDC.has(s)),
      );
    }
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      if (form.get('requested_token_use') !== 'on_behalf_of') throw missingParameter('requested_token_use');
      const app = await this.authenticate(form, tokenUrl);
      const assertion = form.get('assertion');
      if (!assertion) throw missingParameter('assertion');
      let incoming: JWTPayload;
      try {
        incoming = await this.signer.verify(assertion);
      } catch {
        throw invalidGrant(50013, 'Assertion failed signature validation.');
      }
      if ((incoming.exp ?? 0) * 1000 <= Date.now())
        throw invalidGrant(500133, 'Assertion is not within its valid time range.');
      const api = trimSlash(this.config.apiAudience);
      if (incoming.aud !== api && incoming.aud !== app.clientId)
        throw invalidGrant(50013, `Assertion audience does not match the client app presenting the assertion.`);
      if (incoming.idtyp === 'app' || !incoming.scp)
        throw invalidGrant(50013, 'On-behalf-of needs a delegated (user) token.');
      if (!scope) throw missingParameter('scope');
      const res = this.resolveResource(scope.split(' ')[0]!);
      if (!res) throw resourceNotFound(scope, this.config.tenantId);
      return this.issue({
        aud: res.audience,
        oid: incoming.oid,
        sub: incoming.sub,
        upn: incoming.upn,
        name: incoming.name,
        azp: app.clientId,
        appid: app.clientId,
        scp: 'user_impersonation',
        idtyp: 'user',
      });
    }
    throw unsupportedGrant(grant);
  }

  private async userToken(user: TestUser, clientId: string, scopes: string[]): Promise<Record<string, unknown>> {
    const api = trimSlash(this.config.apiAudience);
    const dyn = trimSlash(this.config.dynamicsUrl);
    const first = scopes[0] ?? '';
    if (first.startsWith(`${dyn}/`)) {
      return this.issue({
        aud: dyn,
        oid: user.objectId,
        sub: user.objectId,
        upn: user.username,
        name: user.name,
        azp: clientId,
        appid: clientId,
        scp: 'user_impersonation',
        idtyp: 'user',
      });
    }
    if (!first.startsWith(`${api}/`)) throw resourceNotFound(first, this.config.tenantId);
    const requested = scopes.map((s) => s.slice(api.length + 1)).filter((s) => s !== '.default');
    const granted = requested.length ? requested.filter((s) => user.scopes.includes(s)) : user.scopes;
    if (requested.some((s) => !user.scopes.includes(s)))
      throw invalidGrant(
        65001,
        `The user or administrator has not consented to use the application with ID '${clientId}'.`,
      );
    return this.issue({
      aud: api,
      oid: user.objectId,
      sub: user.objectId,
      upn: user.username,
      preferred_username: user.username,
      name: user.name,
      azp: clientId,
      appid: clientId,
      scp: granted.join(' '),
      idtyp: 'user',
    });
  }

  /** Mints a signed access token; `overrides` lets tests make expired, foreign-audience or foreign-issuer ones. */
  async mint(claims: JWTPayload, lifetimeSec = this.config.tokenLifetimeSec): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return this.signer.sign({
      iss: this.issuer,
      iat: now,
      nbf: now,
      exp: now + lifetimeSec,
      tid: this.config.tenantId,
      ver: '2.0',
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ...claims,
    });
  }

  private async issue(claims: JWTPayload): Promise<Record<string, unknown>> {
    const lifetime = this.config.tokenLifetimeSec;
    return {
      token_type: 'Bearer',
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: await this.mint(claims, lifetime),
    };
  }

  /** App Service managed identity (2019-08-01): GET IDENTITY_ENDPOINT?resource=…[&client_id=…] + X-IDENTITY-HEADER. */
  private async managedIdentity(url: URL, headers: Record<string, string>): Promise<HttpAnswer> {
    const mi = this.config.managedIdentity;
    if (headers['x-identity-header'] !== mi.header)
      return {
        status: 401,
        body: { statusCode: 401, message: 'Unauthorized: the X-IDENTITY-HEADER is missing or wrong.' },
      };
    const resource = url.searchParams.get('resource');
    if (!resource)
      return { status: 400, body: { statusCode: 400, message: "Required query variable 'resource' is missing." } };
    const res = this.resolveResource(resource.endsWith('/.default') ? resource : `${trimSlash(resource)}/.default`);
    if (!res)
      return {
        status: 400,
        body: { statusCode: 400, message: `The resource '${resource}' is not known to this tenant.` },
      };
    const clientId = url.searchParams.get('client_id') ?? mi.systemAssignedClientId;
    if (clientId !== mi.systemAssignedClientId && !mi.userAssignedClientIds.includes(clientId))
      return {
        status: 400,
        body: {
          statusCode: 400,
          message: `No user-assigned identity with client id '${clientId}' is assigned to this resource.`,
        },
      };
    const app = this.config.apps.get(clientId.toLowerCase());
    const oid = app?.objectId ?? clientId;
    const lifetime = this.config.tokenLifetimeSec;
    const token = await this.mint(
      { aud: res.audience, oid, sub: oid, appid: clientId, azp: clientId, idtyp: 'app' },
      lifetime,
    );
    return {
      status: 200,
      body: {
        access_token: token,
        expires_on: String(Math.floor(Date.now() / 1000) + lifetime),
        resource,
        token_type: 'Bearer',
        client_id: clientId,
      },
    };
  }
}
