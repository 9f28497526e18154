import type { JWTPayload } from 'jose';
import type { TokenSigner } from './authority/signer.js';
import type { Schema } from './schema/index.js';
import type { Store } from './store/store.js';
import { DataverseError } from './webapi/errors.js';

/** Who a valid token speaks for: an application user (app-only tokens) or a user (delegated/OBO tokens). */
export interface TokenCaller {
  userId: string;
  claims: JWTPayload;
}

const unauthorized = (message: string, code: string, authorityUri: string, resource: string) =>
  new DataverseError(401, code, message, {
    // Dataverse answers 401 with a challenge naming the authority and its own resource id
    'WWW-Authenticate': `Bearer authorization_uri=${authorityUri}/oauth2/authorize, resource_id=${resource}/`,
  });

/**
 * COMPOSE 401s: missing, malformed, expired and wrong-audience bearer tokens; and a valid token whose
 * identity has no user in the organisation (the Power Platform application user is missing).
 */
export async function authenticateBearer(
  header: string | undefined,
  signer: TokenSigner,
  opts: { dynamicsUrl: string; authorityUri: string; store: Store; schema: Schema },
): Promise<TokenCaller> {
  const fail = (message: string, code: string) => unauthorized(message, code, opts.authorityUri, opts.dynamicsUrl);
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) throw fail('Bearer token is missing from the Authorization header.', '0x80072560');
  let claims: JWTPayload;
  try {
    claims = await signer.verify(m[1]!);
  } catch {
    throw fail('The access token is invalid: its signature could not be verified.', '0x80072560');
  }
  const now = Math.floor(Date.now() / 1000);
  if ((claims.exp ?? 0) <= now)
    throw fail('The requested resource requires authentication. The access token has expired.', '0x8005F101');
  if ((claims.nbf ?? 0) > now + 300) throw fail('The access token is not yet valid.', '0x80072560');
  const aud = String(claims.aud ?? '').replace(/\/+$/, '');
  if (aud !== opts.dynamicsUrl.replace(/\/+$/, ''))
    throw fail(
      `The access token's audience '${claims.aud}' is not this organization (${opts.dynamicsUrl}).`,
      '0x80072560',
    );
  const users = opts.store.table('systemuser');
  const oid = String(claims.oid ?? '').toLowerCase();
  const appid = String(claims.appid ?? claims.azp ?? '').toLowerCase();
  const isUser = claims.idtyp === 'user' || typeof claims.scp === 'string';
  for (const row of users.rows.values()) {
    if (row.isdisabled) continue;
    if (isUser ? row.azureactivedirectoryobjectid === oid : row.applicationid === appid)
      return { userId: String(row.systemuserid), claims };
  }
  throw fail(
    isUser
      ? `The user with object id ${oid} is not a member of the organization.`
      : `The application with id ${appid} has no application user in this organization. Add it as an application user in the Power Platform admin center.`,
    '0x80072560',
  );
}
