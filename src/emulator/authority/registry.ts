import { createHash, X509Certificate } from 'node:crypto';

/** An app registration in the emulated tenant. */
export interface AppRegistration {
  clientId: string;
  /** the service principal's object id (the `oid` of its app-only tokens) */
  objectId: string;
  displayName: string;
  secrets: { value: string; expiresAt: Date }[];
  certificates: { pem: string; thumbprintSha1: string; thumbprintSha256: string }[];
  /** app roles granted to this app on the MCP server's own API (hosted mode) */
  apiRoles: string[];
}

/** A user who can sign in with a password (for delegated tokens and on-behalf-of tests). */
export interface TestUser {
  username: string;
  password: string;
  objectId: string;
  name: string;
  /** delegated scopes the user consents to on the MCP server's API */
  scopes: string[];
}

export function certificateEntry(pem: string): AppRegistration['certificates'][number] {
  const cert = new X509Certificate(pem);
  const der = cert.raw;
  return {
    pem,
    thumbprintSha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}

/** base64url of a hex thumbprint, as it appears in a JWT's x5t / x5t#S256 header. */
export const thumbprintB64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
