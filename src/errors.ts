/**
 * The error taxonomy. Everything the server can fail with is a DynamicsMcpError with a kind, a plain
 * message, and a hint that tells the model (or the person) how to recover. Turned into an MCP result in
 * exactly one place (tools/support/result.ts); never serialised raw, never with a stack trace.
 */
export type ErrorKind =
  | 'config'
  | 'auth'
  | 'bad_input'
  | 'policy'
  | 'read_only'
  | 'not_found'
  | 'permission'
  | 'unknown_column'
  | 'query_syntax'
  | 'throttled'
  | 'concurrency'
  | 'duplicate'
  | 'validation'
  | 'too_large'
  | 'server'
  | 'network'
  | 'timeout'
  | 'cancelled';

export interface ErrorDetails {
  status?: number;
  /** the Dataverse error code (0x8004…) or AADSTS code */
  code?: string;
  retryAfterMs?: number;
  /** for unknown columns: the closest real ones */
  suggestions?: string[];
  /** for syntax errors: 0-based position */
  position?: number;
  /** whether the same call may succeed if repeated unchanged */
  retryable?: boolean;
  /**
   * for a choice value the table's options do not have: the table, whose options an admin may have added to
   * since its metadata was read (client.ts reads it again once)
   */
  unknownOption?: string;
  /**
   * for a name that is no column of the table: the table and the name, for the error boundary to say which
   * related table has a column of that name (tools/support/related-column.ts)
   */
  unknownColumn?: { entity: string; column: string; write?: boolean };
}

export class DynamicsMcpError extends Error {
  override readonly name = 'DynamicsMcpError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly hint: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }
}

/** AADSTS codes from the token endpoint, mapped to the fix (the seed guide's troubleshooting, in our words). */
const AADSTS_FIXES: Record<string, string> = {
  '700016':
    "The app (AZURE_CLIENT_ID) was not found in the tenant (AZURE_TENANT_ID). Check that AZURE_CLIENT_ID is the Application (client) ID from the app registration's Overview page, and that AZURE_TENANT_ID is the Directory (tenant) ID of the tenant where the app is registered.",
  '7000215':
    "The client secret is wrong. Use the secret's Value (shown once, when it is created), not its Secret ID. Create a new secret under App registrations → Certificates & secrets if you no longer have the Value.",
  '7000222':
    'The client secret has expired. Create a new secret under App registrations → Certificates & secrets and update AZURE_CLIENT_SECRET.',
  '90002':
    'The tenant (AZURE_TENANT_ID) was not found. Copy the Directory (tenant) ID from the Entra ID Overview page, and check AZURE_AUTHORITY_HOST for sovereign clouds.',
  '500011':
    'The Dynamics environment (DYNAMICS_URL) is not known in this tenant. Check the environment URL in the Power Platform admin center and that the environment belongs to this tenant.',
  '70011': 'The requested scope is invalid. The server asks for "<DYNAMICS_URL>/.default"; check DYNAMICS_URL.',
  '700027':
    'The certificate is not registered on the app. Upload the certificate (public part) under App registrations → Certificates & secrets, and point AZURE_CLIENT_CERTIFICATE_PATH at the PEM with its private key.',
  '7000218': 'No credential was sent: set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH.',
  '50126': 'The user name or password is wrong.',
  '65001': "Consent has not been granted: an administrator must grant admin consent for the app's API permissions.",
};

export function authError(message: string, aadsts?: string): DynamicsMcpError {
  const fix = aadsts ? AADSTS_FIXES[aadsts] : undefined;
  return new DynamicsMcpError(
    'auth',
    message,
    fix ??
      'Check AZURE_TENANT_ID, AZURE_CLIENT_ID and the credential; run `dynamics-mcp doctor` for a step-by-step check.',
    { code: aadsts ? `AADSTS${aadsts}` : undefined, retryable: false },
  );
}

export const applicationUserMissing = (detail: string) =>
  new DynamicsMcpError(
    'auth',
    `Dataverse refused a valid token (401): ${detail}`,
    'The app has a token but no user in this Dynamics environment. In the Power Platform admin center, open the environment → Settings → Users + permissions → Application users, add the app (AZURE_CLIENT_ID) and give it a security role.',
    { status: 401, retryable: false },
  );

export const policyError = (message: string, hint: string) =>
  new DynamicsMcpError('policy', message, hint, { retryable: false });

export const readOnlyError = (what: string) =>
  new DynamicsMcpError(
    'read_only',
    `${what} is not allowed: the server runs in read-only mode.`,
    'Only read tools are available. Ask an administrator to turn read-only mode off (DYNAMICS_MCP_READ_ONLY) if writes are intended.',
    {
      retryable: false,
    },
  );

/**
 * "an account", "a contact", "a user": a table named in a sentence (logical names are lower case; a u said as
 * "you", as in user or unit, takes "a").
 */
export const aTable = (name: string) => `${/^([aeio]|u(?!s|ni))/i.test(name) ? 'an' : 'a'} ${name}`;

export const badInput = (message: string, hint: string) =>
  new DynamicsMcpError('bad_input', message, hint, { retryable: false });
