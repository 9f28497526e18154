import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AuthConfig } from '../config/schema.js';
import { authError, DynamicsMcpError } from '../errors.js';
import type { Logger } from '../logging.js';
import { proxyRefusal } from './dispatcher.js';
import { sleep } from './limiter.js';
import type { MsalNetwork } from './msal-network.js';
import { backoff, DEFAULT_RETRY } from './retry.js';
import { waitedFor } from './signals.js';

export interface TokenProvider {
  /** a bearer token for Dataverse; one request to the authority however many callers wait */
  getToken(signal?: AbortSignal): Promise<string>;
  /** drop a token Dataverse refused (401), so the next call fetches a new one */
  invalidate(token: string): void;
  readonly description: string;
  /**
   * Who the requests run as, for service protection (counted per user): providers with the same object share
   * one window. Without it, the provider is its own (the server's identity, or one user token's).
   */
  readonly principal?: object;
}

interface Acquired {
  token: string;
  expiresOn: number;
}

const MICROSOFT_AUTHORITIES = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
  'login.microsoftonline.de',
]);

/** How an MSAL failure reads to a person: the AADSTS code's fix, or what could not be reached. */
export function mapMsalError(err: unknown, authorityHost: string, network?: MsalNetwork): DynamicsMcpError {
  if (err instanceof DynamicsMcpError) return err;
  const e = err as { errorCode?: string; errorMessage?: string; message?: string };
  const text = e.errorMessage ?? e.message ?? String(err);
  const refused = proxyRefusal({ message: network?.lastProxyRefusal ?? text }, new URL(authorityHost).host);
  if (refused) return refused;
  const aadsts = /AADSTS(\d+)/.exec(text)?.[1];
  if (aadsts) return authError(`The token request was refused: ${text.split('\n')[0]!.slice(0, 400)}`, aadsts);
  if (e.errorCode === 'invalid_response')
    // our network client's stand-in for an answer that was not the authority's (msal-network.ts)
    return new DynamicsMcpError(
      'auth',
      `Could not get a token: ${/Description: (.*?) - Correlation ID/s.exec(text)?.[1] ?? text.slice(0, 400)}`,
      `Something between this server and ${authorityHost} (a proxy or firewall) may have answered instead of it. Check AZURE_AUTHORITY_HOST and the network path; \`dynamics-mcp doctor\` checks both.`,
      { retryable: false },
    );
  if (e.errorCode === 'endpoints_resolution_error')
    return new DynamicsMcpError(
      'auth',
      `Could not read the tenant's sign-in metadata from ${authorityHost}.`,
      `Check AZURE_TENANT_ID (a wrong tenant answers AADSTS90002) and AZURE_AUTHORITY_HOST, that this machine can reach ${authorityHost}, and that its TLS certificate is trusted (NODE_EXTRA_CA_CERTS for a corporate proxy). Run \`dynamics-mcp doctor\`.`,
      { retryable: false },
    );
  return new DynamicsMcpError(
    'auth',
    `Could not get a token: ${text.slice(0, 400)}`,
    'Run `dynamics-mcp doctor` to check the credentials step by step.',
    {
      retryable: isTransientMsal(err),
    },
  );
}

/** MSAL's result as a token we can send: an answer without one is the authority's fault, not Dataverse's. */
function acquired(r: { accessToken?: string; expiresOn?: Date | null } | null): Acquired {
  if (!r || typeof r.accessToken !== 'string' || !r.accessToken)
    throw new DynamicsMcpError(
      'auth',
      'The sign-in endpoint answered without an access token.',
      'Something between this server and Entra ID (a proxy) may have answered instead of it. Check AZURE_AUTHORITY_HOST and the network path; `dynamics-mcp doctor` checks both.',
      { retryable: false },
    );
  return { token: r.accessToken, expiresOn: r.expiresOn?.getTime() ?? Date.now() + 3_000_000 };
}

function isTransientMsal(err: unknown): boolean {
  const e = err as { errorCode?: string; errorMessage?: string };
  return (
    [
      'temporarily_unavailable',
      'network_error',
      'network_request_failed',
      '90000',
      'service_unavailable',
      'request_timeout',
    ].includes(e.errorCode ?? '') || /HTTP 5\d\d|ECONNRESET|ECONNREFUSED|fetch failed/.test(e.errorMessage ?? '')
  );
}

/**
 * Token acquisition through @azure/msal-node (client secret, certificate or managed identity), wrapped with
 * what MSAL does not do itself: single-flight (MSAL sends one request per concurrent cold caller), early
 * refresh in the background, serving a still-valid token when a refresh fails, and a forced refresh after
 * Dataverse refuses a token.
 */
export function createTokenProvider(
  auth: AuthConfig,
  opts: { dynamicsUrl: string; network: MsalNetwork; logger: Logger; refreshMarginMs?: number },
): TokenProvider {
  const scope = `${opts.dynamicsUrl}/.default`;
  const margin = opts.refreshMarginMs ?? 5 * 60_000;
  const log = opts.logger.child({ component: 'auth' });
  let description: string;
  const authorityHost = 'authorityHost' in auth ? auth.authorityHost : 'managed identity endpoint';
  // MSAL itself is loaded on the first token request, not at start-up (it is a large module)
  let init: () => Promise<{ acquire: (force: boolean) => Promise<Acquired>; clear: () => Promise<void> }>;

  if (auth.mode === 'managed-identity') {
    description = auth.clientId
      ? `managed identity (user-assigned ${auth.clientId})`
      : 'managed identity (system-assigned)';
    init = async () => {
      const { ManagedIdentityApplication } = await import('@azure/msal-node');
      const mi = new ManagedIdentityApplication({
        ...(auth.clientId ? { managedIdentityIdParams: { userAssignedClientId: auth.clientId } } : {}),
        system: { networkClient: opts.network },
      });
      return {
        acquire: async (force) => {
          return acquired(await mi.acquireToken({ resource: opts.dynamicsUrl, forceRefresh: force }));
        },
        clear: async () => {},
      };
    };
  } else {
    const host = new URL(auth.authorityHost).host;
    let credential:
      | { clientSecret: string }
      | { clientCertificate: { thumbprintSha256: string; privateKey: string; x5c: string } };
    if (auth.mode === 'secret') {
      credential = { clientSecret: auth.clientSecret };
      description = `client secret for app ${auth.clientId}`;
    } else {
      let pem: string;
      try {
        pem = readFileSync(auth.certificatePath, 'utf8');
      } catch (err) {
        throw new DynamicsMcpError(
          'config',
          `Cannot read AZURE_CLIENT_CERTIFICATE_PATH (${auth.certificatePath}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
          'Point AZURE_CLIENT_CERTIFICATE_PATH at a PEM file holding the private key and the certificate.',
        );
      }
      const key = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(
        pem,
      )?.[0];
      const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
      if (!key || !cert)
        throw new DynamicsMcpError(
          'config',
          `${auth.certificatePath} must hold both the private key and the certificate in PEM form.`,
          'Concatenate the key and certificate PEM blocks into one file (e.g. cat key.pem cert.pem > app.pem).',
        );
      const thumbprintSha256 = new X509Certificate(cert).fingerprint256.replace(/:/g, '');
      credential = { clientCertificate: { thumbprintSha256, privateKey: key, x5c: cert } };
      description = `certificate ${thumbprintSha256.slice(0, 8)}… for app ${auth.clientId}`;
    }
    init = async () => {
      const { ConfidentialClientApplication } = await import('@azure/msal-node');
      const cca = new ConfidentialClientApplication({
        auth: {
          clientId: auth.clientId,
          authority: `${auth.authorityHost}/${auth.tenantId}`,
          // a non-Microsoft authority (sovereign proxy, the emulator) is trusted as given: no instance discovery
          ...(MICROSOFT_AUTHORITIES.has(new URL(auth.authorityHost).hostname) ? {} : { knownAuthorities: [host] }),
          ...credential,
        },
        system: { networkClient: opts.network },
      });
      return {
        acquire: async (force) => {
          return acquired(await cca.acquireTokenByClientCredential({ scopes: [scope], skipCache: force }));
        },
        // MSAL throttles a request locally for 60 s after a 429/5xx from the authority; clearing its cache lifts that
        clear: async () => cca.clearCache(),
      };
    };
  }
  let app: ReturnType<typeof init> | null = null;
  const client = () => {
    app ??= init();
    return app;
  };
  const acquireOnce = async (force: boolean) => (await client()).acquire(force);
  const clear = async () => (await client()).clear();

  let current: Acquired | null = null;
  let inflight: Promise<Acquired> | null = null;
  let forceNext = false;

  const acquireWithRetry = async (force: boolean): Promise<Acquired> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const got = await acquireOnce(force);
        log.debug({ expiresInSec: Math.round((got.expiresOn - Date.now()) / 1000), attempt }, 'token acquired');
        return got;
      } catch (err) {
        const mapped = mapMsalError(err, authorityHost, opts.network);
        if (!mapped.details.retryable || attempt >= 3) throw mapped;
        const wait = backoff(attempt, DEFAULT_RETRY);
        log.debug({ attempt, waitMs: wait, reason: mapped.message }, 'token request failed transiently; retrying');
        await clear();
        await sleep(wait);
      }
    }
  };

  const refresh = (early = false): Promise<Acquired> => {
    if (!inflight) {
      // an early refresh must get past MSAL's cache, which keeps serving a token until 5 minutes before expiry
      const force = forceNext || early;
      forceNext = false;
      inflight = acquireWithRetry(force)
        .then((a) => {
          current = a;
          return a;
        })
        .finally(() => {
          inflight = null;
        });
    }
    return inflight;
  };

  return {
    description,
    async getToken(signal) {
      const now = Date.now();
      if (current && current.expiresOn - now > margin) return current.token;
      if (current && current.expiresOn - now > 30_000) {
        // still valid: refresh in the background, keep serving this one if the refresh fails
        refresh(true).catch((err: unknown) =>
          log.warn({ err }, 'background token refresh failed; still serving the current token'),
        );
        return current.token;
      }
      // the refresh is every caller's: this one's signal ends its own wait
      return (await waitedFor(refresh(), signal)).token;
    },
    invalidate(token) {
      if (current?.token === token) {
        current = null;
        forceNext = true;
        log.debug('token refused by Dataverse; the next call fetches a new one');
      }
    },
  };
}
