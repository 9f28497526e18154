import { z } from 'zod';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
export const isLoopbackHost = (host: string) => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

const guid = (name: string, where: string) =>
  z
    .string({ error: `${name} is missing: set it to the ${where}.` })
    .trim()
    .regex(GUID, { error: `${name} must be a GUID like 00000000-0000-0000-0000-000000000000 (the ${where}).` });

/**
 * The tenant as its GUID. Entra also signs in by a verified domain ("contoso.onmicrosoft.com"), but a hosted
 * server checks its callers' tokens against the tenant's issuer, which names the GUID: a domain is refused
 * with where its GUID is shown, rather than accepted for one direction and failing the other.
 */
const tenantId = () =>
  z
    .string({ error: 'AZURE_TENANT_ID is missing: set it to the Directory (tenant) ID of your Entra ID tenant.' })
    .trim()
    .superRefine((v, ctx) => {
      if (GUID.test(v)) return;
      const domain = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(v);
      ctx.addIssue({
        code: 'custom',
        message: domain
          ? `AZURE_TENANT_ID is a domain ('${v}'); the tenant's ID, a GUID, is needed: the Microsoft Entra admin center shows it as Tenant ID on its Overview page, and https://login.microsoftonline.com/${v}/v2.0/.well-known/openid-configuration gives it inside "issuer".`
          : 'AZURE_TENANT_ID must be a GUID like 00000000-0000-0000-0000-000000000000 (the Directory (tenant) ID of your Entra ID tenant).',
      });
    });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The whole configuration, after layering (defaults < config file < environment < CLI flags).
 * Parsed once at start-up and frozen; nothing else reads process.env.
 */
/**
 * The environment URL from what people paste: the address bar of a Dynamics page
 * (https://contoso.crm.dynamics.com/main.aspx?appid=...) or the Web API endpoint from Developer resources
 * (.../api/data/v9.2) both mean https://contoso.crm.dynamics.com. Another path is kept (a local proxy).
 */
function environmentUrl(u: string): string {
  const url = new URL(u);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/(main\.aspx|api\/data\/v\d+(\.\d+)?)$/i, '');
  return `${url.origin}${path}`;
}

export const configSchema = z
  .object({
    dynamics: z.object({
      /** DYNAMICS_URL: https://<org>.crm.dynamics.com */
      url: z
        .string({
          error: 'DYNAMICS_URL is missing: set it to your environment URL, e.g. https://contoso.crm.dynamics.com.',
        })
        .trim()
        // a bare host name (contoso.crm.dynamics.com) means https
        .transform((u) =>
          /^[a-z][a-z0-9+.-]*:\/\//i.test(u) || !/^[\w.-]+(:\d+)?(\/.*)?$/.test(u) ? u : `https://${u}`,
        )
        .pipe(z.url({ error: 'DYNAMICS_URL must be a URL such as https://contoso.crm.dynamics.com.' }))
        .transform(environmentUrl),
      /** DYNAMICS_MCP_ALLOW_HTTP: accept http:// for a loopback Dynamics URL (local emulators and proxies only) */
      allowHttpLoopback: z.boolean().default(false),
      /** per-request timeout (connect, headers and body), ms */
      timeoutMs: z.number().int().min(1000).max(600_000).default(30_000),
      /**
       * bound on one request to Dynamics, retries and waits included, ms. Under the 60 s after which clients
       * built on the MCP TypeScript SDK stop waiting by default: the model hears why (say, how long Dynamics
       * asked to wait) instead of a bare client timeout while the server keeps working.
       */
      deadlineMs: z.number().int().min(1000).max(3_600_000).default(55_000),
      /** parallel requests to Dataverse; kept below the service-protection limit of 52 */
      maxConcurrency: z.number().int().min(1).max(50).default(16),
      maxRetries: z.number().int().min(0).max(10).default(4),
      /**
       * the most one answer from Dynamics may hold, MB: past it the answer is refused with what to ask for instead
       * (a page of files, where an organisation raised Dataverse's 5 MB file limit), not read past what the
       * server can hold (V8's longest string is about 512 MB)
       */
      maxResponseMb: z.number().int().min(1).max(400).default(200),
      /** rows per page requested with Prefer: odata.maxpagesize */
      pageSize: z.number().int().min(1).max(5000).default(500),
      /** how long entity metadata is cached, ms */
      metadataTtlMs: z.number().int().min(0).default(3_600_000),
    }),
    auth: z.discriminatedUnion('mode', [
      z.object({
        mode: z.literal('secret'),
        tenantId: tenantId(),
        clientId: guid('AZURE_CLIENT_ID', 'Application (client) ID of your app registration'),
        clientSecret: z
          .string({
            error:
              'AZURE_CLIENT_SECRET is missing: set the client secret Value (or use AZURE_CLIENT_CERTIFICATE_PATH).',
          })
          .min(1, { error: 'AZURE_CLIENT_SECRET is empty.' })
          .refine((s) => !GUID.test(s.trim()), {
            error:
              'AZURE_CLIENT_SECRET looks like a GUID: that is almost certainly the secret\'s "Secret ID", not its "Value". In the Azure portal (App registrations → Certificates & secrets) copy the Value column — it is shown only once, right after the secret is created; create a new secret if you no longer have it.',
          }),
        authorityHost: z.string().url(),
      }),
      z.object({
        mode: z.literal('certificate'),
        tenantId: tenantId(),
        clientId: guid('AZURE_CLIENT_ID', 'Application (client) ID of your app registration'),
        certificatePath: z.string().min(1),
        authorityHost: z.string().url(),
      }),
      z.object({
        mode: z.literal('managed-identity'),
        /** user-assigned identity's client id; absent for system-assigned */
        clientId: guid('AZURE_CLIENT_ID', 'client ID of the user-assigned managed identity').optional(),
      }),
    ]),
    policy: z.object({
      /** DYNAMICS_MCP_POLICY: path of a policy JSON file (default: the built-in policy) */
      path: z.string().optional(),
      /** DYNAMICS_MCP_READ_ONLY */
      readOnly: z.boolean().default(false),
    }),
    logLevel: z
      .enum(LOG_LEVELS, { error: `LOG_LEVEL (or --log-level) must be one of ${LOG_LEVELS.join(', ')}.` })
      .default('info'),
    /** DYNAMICS_MCP_CURSOR_KEY: 32+ characters shared by replicas so cursors survive a hop; random per process otherwise */
    cursorKey: z.string().min(32).optional(),
    /** DYNAMICS_MCP_AUDIT_LOG: file that receives one JSON line per write (default: stderr log only) */
    auditLog: z.string().optional(),
    /** create_lead: owner assignment by postal code (first matching prefix wins) */
    leads: z
      .object({
        assignment: z
          .array(
            z.object({
              postalCodePrefix: z.string().trim().min(1),
              ownerId: z.guid({
                // an administrator writes the person's name: say where the id is
                error: (issue) =>
                  `leads.assignment[].ownerId must be a user's or a team's id (a GUID), not ${JSON.stringify(issue.input)}: it is the id= in the address of the user's (or team's) record in Dynamics, or \`dynamics-mcp call query_entities '{"entity":"systemuser","where":{"fullname":{"contains":"<name>"}}}'\` lists it.`,
              }),
            }),
          )
          .default([]),
      })
      .prefault({}),
    /** create_case: the text column that holds a monitoring system's alert id */
    cases: z.object({ externalRefColumn: z.string().trim().min(1).default('dmcp_externalref') }).prefault({}),
    /** Streamable HTTP (hosted mode) */
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(3000),
        /** a fresh server per request (replicas behind a load balancer); sessions otherwise */
        stateless: z.boolean().default(false),
        /** the URL clients use, when a proxy sits in front (for protected-resource metadata) */
        publicUrl: z.string().url().optional(),
        /** DNS-rebinding protection: Host names (and Origins) accepted besides loopback */
        allowedHosts: z.array(z.string()).default([]),
        allowedOrigins: z.array(z.string()).default([]),
        bodyLimitBytes: z.number().int().min(1024).max(50_000_000).default(1_000_000),
        /** requests per minute per caller */
        rateLimitPerMinute: z.number().int().min(1).max(100_000).default(600),
        maxSessions: z.number().int().min(1).max(100_000).default(1000),
        sessionIdleMs: z
          .number()
          .int()
          .min(1000)
          .default(30 * 60_000),
      })
      .prefault({}),
    /** inbound authentication of hosted mode */
    inbound: z
      .object({
        /** DYNAMICS_MCP_AUTH=none turns it off (loopback binds only) */
        disabled: z.boolean().default(false),
        apiKeys: z.array(z.string().min(16, { error: 'API keys must be at least 16 characters.' })).default([]),
        /** DYNAMICS_MCP_READ_API_KEYS: keys whose sessions may only read */
        readApiKeys: z.array(z.string().min(16, { error: 'API keys must be at least 16 characters.' })).default([]),
        /** DYNAMICS_MCP_ENTRA_AUDIENCE: the MCP server's Application ID URI or client id */
        entraAudience: z.string().optional(),
        /** a delegated token needs one of these scopes, an app token one of these roles */
        requiredScopes: z.array(z.string()).default(['mcp.tools']),
        requiredRoles: z.array(z.string()).default(['Mcp.Tools']),
        /** a token with one of these (and none of the above) gets a read-only session */
        readScopes: z.array(z.string()).default(['mcp.read']),
        readRoles: z.array(z.string()).default(['Mcp.Read']),
        /** DYNAMICS_MCP_ON_BEHALF_OF: call Dataverse as the signed-in user */
        onBehalfOf: z.boolean().default(false),
      })
      .prefault({}),
    /**
     * Outbound proxy for Dataverse and Entra ID: HTTPS_PROXY / HTTP_PROXY / NO_PROXY (either case), as curl and
     * most tools read them. NO_PROXY defaults to the loopback addresses.
     */
    proxy: z
      .object({
        https: z.string().url({ error: 'HTTPS_PROXY must be a URL such as http://proxy.contoso.com:8080.' }).optional(),
        http: z.string().url({ error: 'HTTP_PROXY must be a URL such as http://proxy.contoso.com:8080.' }).optional(),
        noProxy: z.string().optional(),
      })
      .prefault({}),
    /** month the fiscal year starts (1 = January); unset: the organisation's own fiscal year settings */
    pipeline: z.object({ fiscalYearStartMonth: z.number().int().min(1).max(12).optional() }).prefault({}),
  })
  .superRefine((c, ctx) => {
    let url: URL;
    try {
      url = new URL(c.dynamics.url);
    } catch {
      return; // the url check above has said what is wrong
    }
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && isLoopbackHost(url.hostname) && c.dynamics.allowHttpLoopback) return;
    ctx.addIssue({
      code: 'custom',
      path: ['dynamics', 'url'],
      message:
        url.protocol === 'http:' && isLoopbackHost(url.hostname)
          ? 'DYNAMICS_URL uses http://: set DYNAMICS_MCP_ALLOW_HTTP=true to allow plain HTTP to a loopback address.'
          : 'DYNAMICS_URL must start with https:// (Dataverse is only served over HTTPS).',
    });
  });

export type Config = z.infer<typeof configSchema>;
export type AuthConfig = Config['auth'];
