import type { JWTPayload } from 'jose';
import type { TestUser } from './authority/registry.js';
import type { FaultSpec } from './faults.js';
import type { LoggedRequest } from './request-log.js';
import type { Row } from './store/store.js';
import type { TlsMaterial } from './tls.js';
import type { DuplicateRule } from './webapi/duplicate-rules.js';
import type { SecurityRole } from './webapi/security.js';
import type { ServiceProtectionLimits } from './webapi/throttle.js';

/** What startEmulator takes and hands back: the emulator's surface for tests, benchmarks and the CLI. */

export interface EmulatorOptions {
  host?: string;
  /** port of the Dataverse Web API (0: any free port) */
  port?: number;
  /** port of the authority (0: any free port) */
  authorityPort?: number;
  seed?: number;
  /** number of accounts in the seeded organisation */
  scale?: number;
  /** added to every Web API request */
  latencyMs?: number;
  /** seeded dates are spread around this day (default: today) */
  anchorDate?: Date;
  tokenLifetimeSec?: number;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  limits?: Partial<ServiceProtectionLimits>;
  /** AGG: aggregate functions are limited to 50,000 records */
  aggregateLimit?: number;
  /** the MCP server's own API, for hosted-mode tokens */
  apiClientId?: string;
  /** TLS certificate and key to serve with (default: a new self-signed one for 127.0.0.1 and localhost) */
  tls?: TlsMaterial;
  /** whether SLA clocks move when their warning and failure times come (default: true) */
  slaTimer?: boolean;
}

export interface EmulatorStats {
  tokenRequests: number;
  managedIdentityRequests: number;
  apiRequests: number;
  batchRequests: number;
  throttled: number;
  faultsInjected: number;
  inFlight: number;
  peakInFlight: number;
  /** bytes of Web API response bodies sent */
  bytesOut: number;
}

/** Live-adjustable settings, via `configure()` or POST /_emulator/config. */
export interface EmulatorConfigPatch {
  latencyMs?: number;
  tokenLifetimeSec?: number;
  limits?: Partial<ServiceProtectionLimits>;
  aggregateLimit?: number;
  /** replace the published duplicate detection rules (default: DEFAULT_DUPLICATE_RULES; [] unpublishes all) */
  duplicateRules?: readonly DuplicateRule[];
  /** replace a systemuser's security role (default: the application user) */
  role?: { userId?: string; privileges: SecurityRole };
  /** expire (or renew) the default app's client secret */
  secretExpired?: boolean;
  /** remove (or restore) the default app's application user in Dataverse */
  applicationUserMissing?: boolean;
  /** shift the Date header of Web API answers (a server whose clock differs from the client's) */
  clockSkewMs?: number;
  /**
   * tables whose IsOptimisticConcurrencyEnabled is false (every table has it on until then): a write sent with
   * an etag in If-Match is refused with 0x8006088D, OptimisticConcurrencyNotEnabled
   */
  optimisticConcurrencyOff?: readonly string[];
  /** start or stop the SLA's timer (clocks moving when their warning and failure times come) */
  slaTimer?: boolean;
  /**
   * add a stage to a business process flow (the Opportunity Sales Process's id, or the Lead to Opportunity's),
   * after the stage `after`, as an administrator adds one in the designer: RetrieveActivePath and stage moves
   * follow the new order
   */
  processStage?: {
    processid: string;
    after: string;
    stagename: string;
    stagecategory: number;
    processstageid?: string;
  };
  /** change the organisation's calendar settings (its organization row) */
  organization?: {
    fiscalcalendarstart?: string | null;
    fiscalyeardisplaycode?: number | null;
    weekstartdaycode?: number | null;
    isduplicatedetectionenabled?: boolean;
    isduplicatedetectionenabledforonlinecreateupdate?: boolean;
  };
}

export interface EmulatorHandle {
  dynamicsUrl: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** the variables a user sets to point dynamics-mcp at this emulator (client-secret sign-in) */
  env: Readonly<
    Record<
      'DYNAMICS_URL' | 'AZURE_AUTHORITY_HOST' | 'AZURE_TENANT_ID' | 'AZURE_CLIENT_ID' | 'AZURE_CLIENT_SECRET',
      string
    >
  >;
  /** PEM of the emulator's TLS certificate: trust it as a CA */
  ca: string;
  /** application user (systemuser id) of the default app */
  applicationUserId: string;
  /** App Service managed identity: IDENTITY_ENDPOINT, IDENTITY_HEADER and the identities assigned */
  identityEndpoint: string;
  identityHeader: string;
  managedIdentity: { systemAssignedClientId: string; userAssignedClientId: string };
  /** the MCP server's own app (hosted mode): audience of its tokens, client id and secret (for on-behalf-of) */
  api: { audience: string; clientId: string; clientSecret: string };
  /** users who can sign in with a password (delegated tokens) and who exist in Dataverse */
  users: (TestUser & { systemuserid: string })[];
  reset(): Promise<void>;
  close(): Promise<void>;
  stats(): EmulatorStats;
  requests(): LoggedRequest[];
  addFault(spec: FaultSpec): void;
  clearFaults(): void;
  configure(patch: EmulatorConfigPatch): void;
  /** a new certificate credential for an app (default: the default app); PEM with private key and certificate */
  createClientCertificate(clientId?: string): Promise<string>;
  /** registers another app, optionally with an application user in Dataverse */
  registerApp(app: { clientId: string; secret: string; apiRoles?: string[]; applicationUser?: boolean }): void;
  /** signs an arbitrary access token (tests: expired, wrong audience, wrong issuer …) */
  mintToken(claims: JWTPayload, lifetimeSec?: number): Promise<string>;
  /** copies of the rows of a table, for assertions */
  rows(logicalName: string): Row[];
}
