/**
 * Dataverse error bodies: `{"error":{"code":"0x…","message":"…"}}` with the documented status codes
 * (shared/reference/dataverse-webapi.md §2 and §7). Codes and messages are the documented ones; where the
 * docs only show an observed form, that form is used and the test that checks it says so.
 */
export class DataverseError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (logical: string, id: string) =>
  // UPDATE/COND: "account With Id = 0000… Does Not Exist" (code shown as "" in the docs; ERRCODES: 0x80040217)
  new DataverseError(404, '0x80040217', `${logical} With Id = ${id} Does Not Exist`);

export const resourceNotFound = (segment: string) =>
  new DataverseError(404, '0x8006088a', `Resource not found for the segment '${segment}'.`);

export const unknownProperty = (name: string, entity: string) =>
  // observed (formie#1185): "Could not find a property named 'fullname' on type 'Microsoft.Dynamics.CRM.campaign'."
  new DataverseError(
    400,
    '0x0',
    `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${entity}'.`,
  );

export const badRequest = (message: string, code = '0x0') => new DataverseError(400, code, message);

export const payloadError = (entity: string, inner: string) =>
  // ERRCODES 0x80048d19 ODataClientPayloadError
  new DataverseError(
    400,
    '0x80048d19',
    `Error identified in Payload provided by the user for Entity :'${entity}', For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ---->  InnerException : ${inner}`,
  );

export const validationError = (message: string) =>
  // BATCH example: 0x80044331 "A validation error occurred.  The length of the 'subject' attribute …"
  new DataverseError(400, '0x80044331', `A validation error occurred.  ${message}`);

export const concurrencyMismatch = () =>
  new DataverseError(
    412,
    '0x80060882',
    "The version of the existing record doesn't match the RowVersion property provided.",
  );

export const alreadyExists = () =>
  new DataverseError(412, '0x80040237', 'A record with matching key values already exists.');

export const duplicateKey = () =>
  // ERRCODES 0x80040237 DuplicateRecord; COMPOSE maps DuplicateRecord to 412
  new DataverseError(412, '0x80040237', 'Cannot insert duplicate key.');

export const aggregateLimit = () =>
  new DataverseError(400, '0x8004E023', 'The maximum record limit is exceeded. Reduce the number of records.');

export const notSupported = (what: string) =>
  new DataverseError(501, '0x80040219', `${what} is not implemented by the emulator.`);

export function errorBody(err: DataverseError): string {
  return JSON.stringify({ error: { code: err.code, message: err.message } });
}
