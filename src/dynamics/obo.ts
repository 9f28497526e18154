import { AsyncLocalStorage } from 'node:async_hooks';
import type { ConfidentialClientApplication } from '@azure/msal-node';
import type { AuthConfig } from '../config/schema.js';
import { DynamicsMcpError } from '../errors.js';
import { mapMsalError, type TokenProvider } from './auth.js';
import type { MsalNetwork } from './msal-network.js';

/**
 * The token provider for the current call. Hosted mode with on-behalf-of runs each tool call inside
 * `asCaller(provider, …)`, so the shared client sends that user's token and Dataverse applies that user's
 * security; everything else uses the server's own identity.
 */
export const callerTokens = new AsyncLocalStorage<TokenProvider>();

export function asCaller<T>(provider: TokenProvider, fn: () => Promise<T>): Promise<T> {
  return callerTokens.run(provider, fn);
}

/** Words for the user the call runs as ("my deals", "not mine"), not a user's name. */
export const ME = /^(me|myself|i|current user|my)$/i;
/** The teams of the user the call runs as ("my team's cases"): Dataverse's EqualUserTeams. */
const MY_TEAMS = /^(my|our) teams?('?s)?$/i;
/** That user or their teams ("mine or my team's"): Dataverse's EqualUserOrUserTeams. */
const ME_OR_MY_TEAMS = /^(me|mine|myself|my) (or|and|&|\+) (my|our) teams?('?s)?$/i;

/** The Dataverse function words for the caller's teams stand for ("my team", "me or my team"), if they are such. */
export function teamsMeant(text: unknown): 'EqualUserTeams' | 'EqualUserOrUserTeams' | undefined {
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  return MY_TEAMS.test(t) ? 'EqualUserTeams' : ME_OR_MY_TEAMS.test(t) ? 'EqualUserOrUserTeams' : undefined;
}

/**
 * "Mine" where this call reaches Dataverse as the application: the user a request runs as (Dataverse's
 * EqualUserId, and whoever "me" would find) is then the application user, whose records are the ones this
 * server made or was given, not the person the model is helping. Answered, "my open tasks" comes back with
 * none and is taken for "you have none", so it is refused with the way to name the person. `you` is how
 * the model said it ('"me"', 'the current user'); `fix` what to do with the user once found.
 */
export function theAppIsNotYou(said: string, you: string, fix: string): DynamicsMcpError {
  return new DynamicsMcpError(
    'bad_input',
    `${said}: this server signs in to Dynamics as an application, so ${you} would be that application, not you.`,
    `Find your user with query_entities on systemuser (e.g. where fullname contains your name) and ${fix}.`,
    { retryable: false },
  );
}

/** "My team's" where this call reaches Dataverse as the application: its teams, not the person's (as above). */
export function theAppsTeamsAreNotYours(said: string): DynamicsMcpError {
  return new DynamicsMcpError(
    'bad_input',
    `${said}: this server signs in to Dynamics as an application, so "my team" would be the application's teams, not yours.`,
    'Name the team: {"ownerid": "<team name>"} (query_entities on team lists them).',
    { retryable: false },
  );
}

/**
 * On-behalf-of (MSAL acquireTokenOnBehalfOf): exchanges a user's token for our API into a Dataverse token
 * for the same user. MSAL caches per assertion; we keep one provider per user token.
 */
export function createOboFactory(
  auth: AuthConfig,
  opts: { dynamicsUrl: string; network: MsalNetwork },
): (userToken: string, principal?: object) => TokenProvider {
  if (auth.mode === 'managed-identity')
    throw new DynamicsMcpError(
      'config',
      "On-behalf-of needs the app registration's own credential (secret or certificate), not a managed identity.",
      'Set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, or turn DYNAMICS_MCP_ON_BEHALF_OF off.',
    );
  if (auth.mode !== 'secret')
    throw new DynamicsMcpError(
      'config',
      'On-behalf-of is supported with a client secret in this version.',
      "Set AZURE_CLIENT_SECRET for the MCP server's app registration.",
    );
  let ccaPromise: Promise<ConfidentialClientApplication> | null = null;
  const cca = () =>
    (ccaPromise ??= import('@azure/msal-node').then(
      ({ ConfidentialClientApplication }) =>
        new ConfidentialClientApplication({
          auth: {
            clientId: auth.clientId,
            clientSecret: auth.clientSecret,
            authority: `${auth.authorityHost}/${auth.tenantId}`,
            ...(new URL(auth.authorityHost).hostname.endsWith('microsoftonline.com')
              ? {}
              : { knownAuthorities: [new URL(auth.authorityHost).host] }),
          },
          system: { networkClient: opts.network },
        }),
    ));
  return (userToken, principal) => {
    let inflight: Promise<string> | null = null;
    return {
      description: 'on behalf of the signed-in user',
      principal,
      getToken() {
        inflight ??= cca()
          .then((app) =>
            app.acquireTokenOnBehalfOf({ oboAssertion: userToken, scopes: [`${opts.dynamicsUrl}/.default`] }),
          )
          .then((r) => {
            if (!r?.accessToken)
              throw new DynamicsMcpError(
                'auth',
                'The on-behalf-of exchange answered without an access token.',
                'Sign in again; if it repeats, check AZURE_AUTHORITY_HOST and the network path (`dynamics-mcp doctor`).',
              );
            return r.accessToken;
          })
          .catch((err: unknown) => {
            throw mapMsalError(err, auth.authorityHost, opts.network);
          })
          .finally(() => {
            inflight = null;
          });
        return inflight;
      },
      invalidate() {},
    };
  };
}
