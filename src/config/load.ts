import { existsSync, readFileSync } from 'node:fs';
import { unknownSettings } from './known-keys.js';
import { ENV_VARS } from './reference.js';
import { type Config, configSchema } from './schema.js';

/** A configuration problem a person can act on: every message names the setting and the fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Configuration problem${problems.length > 1 ? 's' : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface ConfigSources {
  env: Record<string, string | undefined>;
  /** parsed CLI flags that override everything else */
  flags?: {
    readOnly?: boolean;
    policy?: string;
    logLevel?: string;
    config?: string;
    host?: string;
    port?: number;
    stateless?: boolean;
  };
  /** settings that an embedding mode (the demo) supplies; they sit between the file and the environment */
  overrides?: DeepPartial<Config>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

const bool = (name: string, v: string | undefined): boolean | undefined => {
  if (v === undefined || v === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError([`${name} must be true or false, got '${v}'.`]);
};

function merge(target: Record<string, unknown>, source: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!source) return target;
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined) continue;
    const cur = target[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur))
      target[k] = merge({ ...(cur as Record<string, unknown>) }, v as Record<string, unknown>);
    else target[k] = v;
  }
  return target;
}

function fromEnv(raw: ConfigSources['env']): Record<string, unknown> {
  // an empty variable is the same as an unset one (shells and .env files leave them behind)
  const env = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const useMi = bool('AZURE_USE_MANAGED_IDENTITY', env.AZURE_USE_MANAGED_IDENTITY);
  const authorityHost = (env.AZURE_AUTHORITY_HOST ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
  let auth: Record<string, unknown> | undefined;
  if (useMi) auth = { mode: 'managed-identity', clientId: env.AZURE_CLIENT_ID };
  else if (env.AZURE_CLIENT_CERTIFICATE_PATH)
    auth = {
      mode: 'certificate',
      tenantId: env.AZURE_TENANT_ID,
      clientId: env.AZURE_CLIENT_ID,
      certificatePath: env.AZURE_CLIENT_CERTIFICATE_PATH,
      authorityHost,
    };
  else if (env.AZURE_TENANT_ID || env.AZURE_CLIENT_ID || env.AZURE_CLIENT_SECRET)
    auth = {
      mode: 'secret',
      tenantId: env.AZURE_TENANT_ID,
      clientId: env.AZURE_CLIENT_ID,
      clientSecret: env.AZURE_CLIENT_SECRET,
      authorityHost,
    };
  const list = (v: string | undefined) =>
    v
      ?.split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const port = env.PORT ?? env.DYNAMICS_MCP_PORT;
  if (port !== undefined && !/^\d+$/.test(port)) throw new ConfigError([`PORT must be a port number, got '${port}'.`]);
  if (env.DYNAMICS_MCP_AUTH && env.DYNAMICS_MCP_AUTH.toLowerCase() !== 'none')
    throw new ConfigError([
      `DYNAMICS_MCP_AUTH only takes 'none' (to turn inbound authentication off on a loopback address), got '${env.DYNAMICS_MCP_AUTH}'.`,
    ]);
  return {
    http: {
      host: env.DYNAMICS_MCP_HOST,
      port: port === undefined ? undefined : Number(port),
      publicUrl: env.DYNAMICS_MCP_PUBLIC_URL,
      allowedHosts: list(env.DYNAMICS_MCP_ALLOWED_HOSTS),
      allowedOrigins: list(env.DYNAMICS_MCP_ALLOWED_ORIGINS),
    },
    inbound: {
      disabled: env.DYNAMICS_MCP_AUTH ? true : undefined,
      apiKeys: apiKeys(env.DYNAMICS_MCP_API_KEYS),
      readApiKeys: apiKeys(env.DYNAMICS_MCP_READ_API_KEYS),
      entraAudience: env.DYNAMICS_MCP_ENTRA_AUDIENCE,
      requiredScopes: list(env.DYNAMICS_MCP_REQUIRED_SCOPES),
      requiredRoles: list(env.DYNAMICS_MCP_REQUIRED_ROLES),
      readScopes: list(env.DYNAMICS_MCP_READ_SCOPES),
      readRoles: list(env.DYNAMICS_MCP_READ_ROLES),
      onBehalfOf: bool('DYNAMICS_MCP_ON_BEHALF_OF', env.DYNAMICS_MCP_ON_BEHALF_OF),
    },
    dynamics: {
      url: env.DYNAMICS_URL,
      allowHttpLoopback: bool('DYNAMICS_MCP_ALLOW_HTTP', env.DYNAMICS_MCP_ALLOW_HTTP),
    },
    auth,
    policy: { path: env.DYNAMICS_MCP_POLICY, readOnly: bool('DYNAMICS_MCP_READ_ONLY', env.DYNAMICS_MCP_READ_ONLY) },
    logLevel: env.LOG_LEVEL?.toLowerCase(),
    cursorKey: env.DYNAMICS_MCP_CURSOR_KEY,
    auditLog: env.DYNAMICS_MCP_AUDIT_LOG,
    // lower case first, as curl and undici read them
    proxy: {
      https: env.https_proxy ?? env.HTTPS_PROXY,
      http: env.http_proxy ?? env.HTTP_PROXY,
      noProxy: env.no_proxy ?? env.NO_PROXY,
    },
  };
}

/** DYNAMICS_MCP_API_KEYS (and _READ_API_KEYS): comma-separated keys, or the path of a file with one key per line. */
function apiKeys(v: string | undefined): string[] | undefined {
  if (!v) return undefined;
  if (!v.includes(',') && (v.startsWith('/') || v.startsWith('./')) && existsSync(v))
    return readFileSync(v, 'utf8')
      .split(/\r?\n/)
      .map((k) => k.trim())
      .filter((k) => k && !k.startsWith('#'));
  return v
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `Cannot read the config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
    ]);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError([`The config file ${path} is not valid JSON: ${(err as Error).message}.`]);
  }
}

/**
 * Variables named like ours that the server does not read: a misspelt one (DYNAMICS_MCP_READONLY) would
 * otherwise be ignored without a word, leaving the server writable while its environment says read-only.
 */
function unknownVariables(env: ConfigSources['env']): string[] {
  const known = new Set(ENV_VARS.map((v) => v.name));
  const squashed = (n: string) => n.replace(/_/g, '').toUpperCase();
  return Object.keys(env)
    .filter((n) => /^DYNAMICS_MCP_/i.test(n) && !known.has(n) && env[n] !== undefined)
    .map((n) => {
      const meant = [...known].find((k) => squashed(k) === squashed(n));
      return `${n} is not a setting of this server${meant ? `: did you mean ${meant}?` : ''} (the README's configuration table lists them).`;
    });
}

const NO_CREDENTIALS =
  'No credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_USE_MANAGED_IDENTITY=true), or run with --demo to use the built-in demo organisation.';

/** defaults < config file < overrides < environment < CLI flags; validated by zod; frozen. */
export function loadConfig(sources: ConfigSources): Readonly<Config> {
  const file = sources.flags?.config ?? sources.env.DYNAMICS_MCP_CONFIG;
  const layered: Record<string, unknown> = { dynamics: {}, policy: {} };
  if (file) {
    const settings = readFile(file);
    const unknown = unknownSettings(settings, configSchema);
    if (unknown.length)
      throw new ConfigError([
        `The config file ${file} has settings this server does not know: ${unknown.join(', ')}. Names are case-sensitive; correct or remove them (the README's "Config file" lists the settings).`,
      ]);
    merge(layered, settings);
  }
  merge(layered, sources.overrides as Record<string, unknown> | undefined);
  merge(layered, fromEnv(sources.env));
  const f = sources.flags ?? {};
  merge(layered, {
    policy: { readOnly: f.readOnly, path: f.policy },
    logLevel: f.logLevel,
    http: { host: f.host, port: f.port, stateless: f.stateless },
  });
  const parsed = configSchema.safeParse(layered);
  const strays = unknownVariables(sources.env);
  // every problem at once (a first run usually lacks the URL and the credentials): the person fixes them in
  // one go instead of one per start
  const problems = parsed.success
    ? []
    : parsed.error.issues.filter((i) => i.path[0] !== 'auth' || layered.auth).map(withSetting);
  if (!layered.auth) problems.unshift(NO_CREDENTIALS);
  problems.push(...strays);
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(parsed.data);
}

/**
 * Our messages name their variable (AZURE_TENANT_ID must be a GUID…); zod's own ("Too big: expected number to
 * be <=100000") do not say which setting they are about, so those get the setting's path in the config file.
 */
function withSetting(issue: { path: PropertyKey[]; message: string }): string {
  const path = issue.path.map(String).join('.');
  const named = /[A-Z][A-Z0-9]*_[A-Z0-9_]+|\bPORT\b|LOG_LEVEL/.test(issue.message) || issue.message.includes(path);
  return !path || named ? issue.message : `${path} in the configuration: ${issue.message}`;
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
