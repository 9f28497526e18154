import { randomUUID } from 'node:crypto';

/**
 * AAD-shaped error bodies (TOKEN, AADERR): error, "AADSTS<code>: …" description with trace and correlation
 * ids and a timestamp appended after \r\n, error_codes, timestamp "YYYY-MM-DD HH:MM:SSZ", trace_id,
 * correlation_id, error_uri. The docs show 400 for these errors; the emulator uses 400 throughout.
 */
export interface AadErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

export class AadError extends Error {
  constructor(
    readonly error: string,
    readonly code: number,
    readonly description: string,
    readonly status = 400,
  ) {
    super(`AADSTS${code}: ${description}`);
  }

  body(correlationId: string = randomUUID()): AadErrorBody {
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d{3}Z$/, 'Z');
    const traceId = randomUUID();
    return {
      error: this.error,
      error_description: `AADSTS${this.code}: ${this.description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [this.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${this.code}`,
    };
  }
}

export const tenantNotFound = (tenant: string) =>
  new AadError(
    'invalid_request',
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  );
export const appNotFound = (clientId: string, tenant: string) =>
  new AadError(
    'unauthorized_client',
    700016,
    `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
  );
export const wrongSecret = (clientId: string) =>
  new AadError(
    'invalid_client',
    7000215,
    `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
  );
export const expiredSecret = (clientId: string) =>
  new AadError('invalid_client', 7000222, `The provided client secret keys for app '${clientId}' are expired.`);
export const missingCredential = () =>
  new AadError(
    'invalid_client',
    7000218,
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  );
export const missingParameter = (name: string) =>
  new AadError('invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
export const invalidScope = (scope: string) =>
  new AadError(
    'invalid_scope',
    70011,
    `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid: '${scope}'.`,
  );
export const resourceNotFound = (resource: string, tenant: string) =>
  new AadError(
    'invalid_resource',
    500011,
    `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
  );
export const badAssertion = (why: string) =>
  new AadError('invalid_client', 700027, `Client assertion failed signature validation. ${why}`);
export const invalidGrant = (code: number, why: string) => new AadError('invalid_grant', code, why);
export const unsupportedGrant = (grant: string) =>
  new AadError('unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
