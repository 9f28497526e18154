import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { type Dispatcher, request } from 'undici';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging.js';

export interface Caller {
  /** who, for logs, rate limits and the audit log: key:<hash>, user:<oid>, app:<appid>, or anonymous */
  id: string;
  kind: 'api-key' | 'entra-user' | 'entra-app' | 'anonymous';
  /** the user's bearer token, for on-behalf-of */
  userToken?: string;
  scopes: string[];
  expiresAt?: number;
  /** its credentials grant reading only (a read API key, a read scope or role): its sessions list no write tool */
  readOnly: boolean;
}

export type AuthOutcome =
  | { ok: true; caller: Caller }
  | { ok: false; status: 401 | 403; error: string; description: string };

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Inbound authentication for hosted mode: static API keys (compared in constant time) and/or Entra ID access
 * tokens for our own API, validated against the tenant's JWKS (signature, issuer, audience, lifetime, and a
 * required scope or app role).
 */
export class InboundAuth {
  private readonly keys: Buffer[];
  private readonly readKeys: Buffer[];
  private jwks: { at: number; set: ReturnType<typeof createLocalJWKSet> } | null = null;
  private readonly issuers: string[];
  private readonly audiences: string[];

  constructor(
    private readonly config: Readonly<Config>,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
  ) {
    this.keys = config.inbound.apiKeys.map(digest);
    this.readKeys = config.inbound.readApiKeys.map(digest);
    const auth = config.auth;
    const tenant = 'tenantId' in auth ? auth.tenantId : '';
    const host = 'authorityHost' in auth ? auth.authorityHost : 'https://login.microsoftonline.com';
    this.issuers = [`${host}/${tenant}/v2.0`, `https://sts.windows.net/${tenant}/`];
    const aud = config.inbound.entraAudience;
    // an Application ID URI and the bare client id name the same API
    this.audiences = aud ? [aud, aud.replace(/^api:\/\//, ''), `api://${aud.replace(/^api:\/\//, '')}`] : [];
  }

  get disabled(): boolean {
    return this.config.inbound.disabled;
  }

  get entraEnabled(): boolean {
    return !!this.config.inbound.entraAudience;
  }

  get jwksUri(): string {
    const auth = this.config.auth;
    return 'tenantId' in auth ? `${auth.authorityHost}/${auth.tenantId}/discovery/v2.0/keys` : '';
  }

  get authorizationServer(): string {
    return this.issuers[0]!;
  }

  private async keySet(force = false) {
    if (!this.jwks || force || Date.now() - this.jwks.at > 3_600_000) {
      const r = await request(this.jwksUri, { dispatcher: this.dispatcher, signal: AbortSignal.timeout(10_000) });
      if (r.statusCode !== 200) throw new Error(`JWKS answered HTTP ${r.statusCode}`);
      this.jwks = { at: Date.now(), set: createLocalJWKSet((await r.body.json()) as JSONWebKeySet) };
    }
    return this.jwks.set;
  }

  async authenticate(req: IncomingMessage): Promise<AuthOutcome> {
    if (this.disabled)
      return {
        ok: true,
        caller: { id: `anonymous:${req.socket.remoteAddress ?? ''}`, kind: 'anonymous', scopes: [], readOnly: false },
      };
    const header = req.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m)
      return { ok: false, status: 401, error: 'invalid_token', description: 'Missing Authorization: Bearer header' };
    const token = m[1]!;
    if (this.keys.length || this.readKeys.length) {
      const d = digest(token);
      // every key compared, so the time taken does not tell which list a key is in
      const full = this.keys.reduce((hit, k) => timingSafeEqual(k, d) || hit, false);
      const read = this.readKeys.reduce((hit, k) => timingSafeEqual(k, d) || hit, false);
      if (full || read)
        return {
          ok: true,
          caller: { id: `key:${d.toString('hex').slice(0, 12)}`, kind: 'api-key', scopes: [], readOnly: !full },
        };
    }
    if (!this.entraEnabled || token.split('.').length !== 3)
      return { ok: false, status: 401, error: 'invalid_token', description: 'The bearer token is not valid' };
    let claims: JWTPayload;
    try {
      claims = await this.verify(token);
    } catch (err) {
      this.log.debug({ reason: (err as Error).message }, 'inbound token refused');
      return {
        ok: false,
        status: 401,
        error: 'invalid_token',
        description: `The access token is not valid: ${(err as Error).message}`,
      };
    }
    const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ') : [];
    const roles = Array.isArray(claims.roles) ? (claims.roles as string[]) : [];
    const isUser = scopes.length > 0 || claims.idtyp === 'user';
    const inbound = this.config.inbound;
    const need = isUser ? inbound.requiredScopes : inbound.requiredRoles;
    const toRead = isUser ? inbound.readScopes : inbound.readRoles;
    const have = isUser ? scopes : roles;
    const full = !need.length || need.some((n) => have.includes(n));
    if (!full && !toRead.some((n) => have.includes(n)))
      return {
        ok: false,
        status: 403,
        error: 'insufficient_scope',
        description: `The token needs ${isUser ? 'the scope' : 'the app role'} ${need.join(' or ')}${toRead.length ? ` (or ${toRead.join(' or ')} to read only)` : ''}`,
      };
    return {
      ok: true,
      caller: {
        id: isUser ? `user:${claims.oid ?? claims.sub}` : `app:${claims.appid ?? claims.azp ?? claims.sub}`,
        kind: isUser ? 'entra-user' : 'entra-app',
        userToken: isUser ? token : undefined,
        scopes: isUser ? scopes : roles,
        expiresAt: claims.exp,
        readOnly: !full,
      },
    };
  }

  private async verify(token: string): Promise<JWTPayload> {
    const opts = {
      issuer: this.issuers,
      audience: this.audiences,
      algorithms: ['RS256'],
      clockTolerance: 60,
      requiredClaims: ['exp'],
    };
    try {
      return (await jwtVerify(token, await this.keySet(), opts)).payload;
    } catch (err) {
      // a key we do not know yet: the tenant may have rolled its keys; fetch them once more
      if ((err as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY') throw err;
      return (await jwtVerify(token, await this.keySet(true), opts)).payload;
    }
  }
}
