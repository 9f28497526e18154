import { Writable } from 'node:stream';
import { type Dispatcher, request } from 'undici';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { describeBody, flatHeaders, redirectTarget } from '../dynamics/answers.js';
import { createTokenProvider } from '../dynamics/auth.js';
import { DEFAULT_NO_PROXY, outboundDispatcher, proxyForDisplay, proxyRefusal } from '../dynamics/dispatcher.js';
import { readErrorBody } from '../dynamics/errors.js';
import { createMsalNetworkClient } from '../dynamics/msal-network.js';
import { DynamicsMcpError } from '../errors.js';
import { createLogger } from '../logging.js';
import { Policy } from '../policy/policy.js';
import { unmatchedKeyText, unmatchedTableKeys } from '../policy/table-keys.js';
import { SecretScrubber } from '../secrets.js';
import type { TableDef, WebApiGet } from './doctor-api.js';
import { assignmentCheck } from './doctor-assignment.js';
import { calendarCheck } from './doctor-calendar.js';
import { duplicateDetectionCheck } from './doctor-duplicates.js';
import { policyNameChecks } from './doctor-policy.js';
import { writePrivilegeChecks } from './doctor-writes.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** what to do when it failed, or could not be checked */
  fix?: string;
  /** worth knowing, not a failure (could not be checked, or an optional part is missing): shown with '!' */
  warning?: boolean;
}

const API = '/api/data/v9.2';
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function parsedObject(text: string): Record<string, unknown> | undefined {
  try {
    const j: unknown = JSON.parse(text);
    return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function networkFix(err: unknown, host: string): { detail: string; fix: string } {
  const refused = proxyRefusal(err, host);
  if (refused) return { detail: refused.message, fix: refused.hint };
  const code =
    (err as { code?: string; cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code ?? '';
  if (TLS_CODES.has(code))
    return {
      detail: `TLS certificate of ${host} is not trusted (${code}).`,
      fix: 'If a corporate proxy inspects TLS, set NODE_EXTRA_CA_CERTS to a PEM file with its CA certificate, then run doctor again.',
    };
  return {
    detail: `Cannot reach ${host} (${code || (err as Error).message}).`,
    fix: `Check the network, proxy and firewall: this machine must reach ${host} over HTTPS.`,
  };
}

/**
 * The seed guide's setup and troubleshooting as checks, each with its fix: configuration, authority and TLS,
 * token (AADSTS codes explained), WhoAmI (application user), read privilege per table in the policy, clock,
 * the names the policy uses (doctor-policy.ts) and the privileges the write tools need (doctor-writes.ts).
 */
/** Tables the built-in policy reads for the server's own use, and what it costs when they cannot be read. */
const READ_FOR_THE_SERVER: Readonly<Record<string, string>> = {
  duplicaterule:
    "a create the organisation's duplicate detection rules refuse is answered without the record they matched",
  duplicaterulecondition:
    "a create the organisation's duplicate detection rules refuse is answered without the record they matched",
};

export async function runDoctor(
  env: Record<string, string | undefined>,
  opts: { ca?: string; flags?: Parameters<typeof loadConfig>[0]['flags'] } = {},
): Promise<Check[]> {
  const checks: Check[] = [];
  let config: Readonly<Config>;
  try {
    config = loadConfig({ env, flags: opts.flags });
    checks.push({
      name: 'Configuration',
      ok: true,
      detail: `DYNAMICS_URL ${config.dynamics.url}; credential: ${config.auth.mode}.`,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems)
      checks.push({
        name: 'Configuration',
        ok: false,
        detail: p,
        fix: 'Fix the variable named, then run doctor again.',
      });
    return checks;
  }
  let policy: Policy;
  try {
    policy = Policy.load(config.policy.path, config.policy.readOnly);
  } catch (err) {
    checks.push({
      name: 'Policy',
      ok: false,
      detail: (err as DynamicsMcpError).message,
      fix: (err as DynamicsMcpError).hint,
    });
    return checks;
  }
  const agent: Dispatcher = await outboundDispatcher(config.proxy, { ca: opts.ca });
  const proxy = config.proxy.https ?? config.proxy.http;
  if (proxy)
    checks.push({
      name: 'Proxy',
      ok: true,
      detail: `Requests go through ${proxyForDisplay(proxy)} (except ${config.proxy.noProxy ?? DEFAULT_NO_PROXY}).`,
    });
  const log = createLogger('silent', new SecretScrubber(), {
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  try {
    // authority reachable, TLS trusted, tenant known
    if (config.auth.mode !== 'managed-identity') {
      const { authorityHost, tenantId } = config.auth;
      const host = new URL(authorityHost).host;
      try {
        const r = await request(`${authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`, {
          dispatcher: agent,
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await r.body.json().catch(() => ({}))) as { error_codes?: number[] };
        if (r.statusCode === 200)
          checks.push({
            name: 'Authority',
            ok: true,
            detail: `${host} reachable, TLS trusted, tenant ${tenantId} found.`,
          });
        else if (body.error_codes?.includes(90002))
          checks.push({
            name: 'Authority',
            ok: false,
            detail: `AADSTS90002: tenant ${tenantId} was not found.`,
            fix: 'Copy the Directory (tenant) ID from Entra ID → Overview into AZURE_TENANT_ID; check AZURE_AUTHORITY_HOST for sovereign clouds.',
          });
        else
          checks.push({
            name: 'Authority',
            ok: false,
            detail: `${host} answered HTTP ${r.statusCode}.`,
            fix: 'Check AZURE_AUTHORITY_HOST and AZURE_TENANT_ID.',
          });
      } catch (err) {
        checks.push({ name: 'Authority', ok: false, ...networkFix(err, host) });
      }
      if (!checks.at(-1)!.ok) return checks;
    }
    // token
    const tokens = createTokenProvider(config.auth, {
      dynamicsUrl: config.dynamics.url,
      network: createMsalNetworkClient(agent),
      logger: log,
    });
    let token: string;
    try {
      token = await tokens.getToken(AbortSignal.timeout(30_000));
      checks.push({
        name: 'Token',
        ok: true,
        detail: `Got an access token for ${config.dynamics.url} (${tokens.description}).`,
      });
    } catch (err) {
      const e = err instanceof DynamicsMcpError ? err : new DynamicsMcpError('auth', String(err), 'Run doctor again.');
      checks.push({ name: 'Token', ok: false, detail: e.message, fix: e.hint });
      return checks;
    }
    // WhoAmI, with the server clock read off the answer
    const dynHost = new URL(config.dynamics.url).host;
    let whoAmI: { UserId?: string } = {};
    try {
      const r = await request(`${config.dynamics.url}${API}/WhoAmI()`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(30_000),
      });
      const text = await r.body.text();
      const headers = flatHeaders(r.headers);
      const date = Date.parse(String(r.headers.date ?? ''));
      const answer = r.statusCode === 200 ? parsedObject(text) : undefined;
      if (typeof answer?.UserId === 'string') {
        whoAmI = answer;
        checks.push({
          name: 'WhoAmI',
          ok: true,
          detail: `Dynamics accepts the token: application user ${whoAmI.UserId}.`,
        });
      } else if (r.statusCode === 200)
        checks.push({
          name: 'WhoAmI',
          ok: false,
          detail: `${dynHost} answered WhoAmI with ${describeBody(headers, text)}, not Dataverse's answer.`,
          fix: `Something between this machine and Dynamics (a proxy, gateway or sign-in page) answered instead: set HTTPS_PROXY if this network needs a proxy, or ask for ${dynHost} to be let through.`,
        });
      else if (r.statusCode >= 300 && r.statusCode < 400)
        checks.push({
          name: 'WhoAmI',
          ok: false,
          detail: `Dynamics answered with a redirect (HTTP ${r.statusCode}) to ${redirectTarget(headers.location)}.`,
          fix: 'Set DYNAMICS_URL to the Environment URL shown in the Power Platform admin center; a redirect to a sign-in page means a proxy wants its own sign-in.',
        });
      else if (r.statusCode === 401)
        checks.push({
          name: 'WhoAmI',
          ok: false,
          detail: 'Dynamics refused a valid token (401).',
          fix: 'The app has no application user in this environment: Power Platform admin center → Environments → your environment → Settings → Users + permissions → Application users → New app user; pick the app (AZURE_CLIENT_ID) and a security role.',
        });
      else
        checks.push({
          name: 'WhoAmI',
          ok: false,
          detail: `Dynamics answered HTTP ${r.statusCode}: ${readErrorBody(text)?.message ?? describeBody(headers, text)}`,
          fix: 'Check DYNAMICS_URL: it must be the environment URL, e.g. https://contoso.crm.dynamics.com.',
        });
      if (Number.isFinite(date)) {
        const skew = Math.round((Date.now() - date) / 1000);
        if (Math.abs(skew) > 300)
          checks.push({
            name: 'Clock',
            ok: false,
            detail: `This machine's clock differs from Dynamics by ${skew} s.`,
            fix: 'Synchronise the clock (NTP): tokens are time-limited and a skewed clock makes them look expired or not yet valid.',
          });
        else checks.push({ name: 'Clock', ok: true, detail: `Clock within ${Math.abs(skew)} s of Dynamics.` });
      }
    } catch (err) {
      checks.push({ name: 'WhoAmI', ok: false, ...networkFix(err, dynHost) });
      return checks;
    }
    if (!whoAmI.UserId) return checks;
    // read privilege for each table the policy exposes
    const get: WebApiGet = async (path) => {
      const r = await request(`${config.dynamics.url}${API}${path}`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(30_000),
      });
      return { status: r.statusCode, text: await r.body.text() };
    };
    const list = await get(
      '/EntityDefinitions?$select=LogicalName,SchemaName,EntitySetName,DisplayName,PrimaryIdAttribute,IsDuplicateDetectionEnabled',
    );
    const defs = parsedObject(list.text)?.value as TableDef[] | undefined;
    if (list.status !== 200 || !Array.isArray(defs)) {
      checks.push({
        name: 'Tables',
        ok: false,
        detail: `The list of tables (EntityDefinitions) could not be read: HTTP ${list.status}, ${readErrorBody(list.text)?.message ?? list.text.slice(0, 200)}`,
        fix: 'Something other than Dataverse may have answered (see the text); check DYNAMICS_URL and the proxy, then run doctor again.',
      });
      return checks;
    }
    const unmatched = unmatchedTableKeys(
      policy.entities(),
      defs.map((d) => ({
        logicalName: d.LogicalName,
        otherNames: {
          'entity set name': d.EntitySetName,
          'schema name': d.SchemaName,
          'display name': d.DisplayName?.UserLocalizedLabel?.Label ?? '',
        },
      })),
    );
    for (const entity of policy.entities()) {
      const d = defs.find((x) => x.LogicalName === entity);
      if (!d) {
        const u = unmatched.find((x) => x.key === entity)!;
        checks.push({
          name: `Read ${entity}`,
          ok: false,
          detail: `In the policy, ${unmatchedKeyText(u)}.`,
          fix: u.meant
            ? `Rename the policy entry '${entity}' to '${u.meant.logicalName}'.`
            : `Rename the entry to the table's logical name${u.closest.length ? ` (${u.closest.join(', ')}?)` : ''}, which Power Apps shows under Tables → the table → Properties, or remove it.`,
        });
        continue;
      }
      const r = await get(`/${d.EntitySetName}?$select=${d.PrimaryIdAttribute}&$top=1`);
      const text = r.text;
      if (r.status === 200)
        checks.push({ name: `Read ${entity}`, ok: true, detail: 'The application user can read it.' });
      else if (r.status === 403) {
        const prv = /missing (prv\w+) privilege/.exec(text)?.[1] ?? 'a read privilege';
        const cost = READ_FOR_THE_SERVER[entity];
        checks.push({
          name: `Read ${entity}`,
          // a table the server reads for itself costs a convenience, not the tools: said, not failed
          ok: !!cost,
          ...(cost ? { warning: true } : {}),
          detail: `Missing ${prv}${cost ? `: ${cost}` : ''}.`,
          fix: `Add ${prv} (organisation or business-unit level) to the application user's security role, or remove '${entity}' from the policy.`,
        });
      } else
        checks.push({
          name: `Read ${entity}`,
          ok: false,
          detail: `HTTP ${r.status}: ${text.slice(0, 200)}`,
          fix: 'Try again; if it persists, check the environment.',
        });
    }
    checks.push(
      ...(await policyNameChecks(get, policy, defs, {
        incident: {
          [config.cases.externalRefColumn]: {
            cost: 'create_case cannot look up the case already open for an alert (externalRef); cases open without it',
            fix: `Add a text column ${config.cases.externalRefColumn} to the Case table, or set cases.externalRefColumn in the config file to an existing one.`,
          },
        },
      })),
    );
    if (!policy.readOnly) checks.push(...(await writePrivilegeChecks(get, policy, defs, whoAmI.UserId)));
    const duplicates = await duplicateDetectionCheck(get, policy, defs);
    if (duplicates) checks.push(duplicates);
    checks.push(await calendarCheck(get, config, policy));
    const assignment = await assignmentCheck(get, config);
    if (assignment) checks.push(assignment);
    if (config.inbound.onBehalfOf)
      checks.push({
        name: 'On-behalf-of',
        ok: true,
        warning: true,
        detail:
          "Hosted calls run as each signed-in user, under their own security roles; the privileges above are the application user's.",
        fix: 'A user whose role lacks a privilege gets a refusal naming it; doctor cannot check signed-in users.',
      });
    return checks;
  } finally {
    await agent.close();
  }
}

export function printChecklist(checks: Check[], out: NodeJS.WritableStream): void {
  for (const c of checks) {
    out.write(`${c.warning ? '!' : c.ok ? '✔' : '✘'} ${c.name}: ${c.detail}\n`);
    if ((!c.ok || c.warning) && c.fix) out.write(`    ${c.ok ? 'note' : 'fix'}: ${c.fix}\n`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  const warnings = checks.filter((c) => c.warning).length;
  const noted = warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''}, marked !)` : '';
  out.write(failed ? `\n${failed} check${failed > 1 ? 's' : ''} failed${noted}.\n` : `\nAll checks passed${noted}.\n`);
}
