import { DynamicsMcpError } from '../errors.js';
import type { ServerDeps } from '../server.js';
/**
 * What every first tool call would otherwise wait for, done before anyone asks: a token from Entra ID (MSAL
 * loaded, the authority discovered) and a connection to Dynamics, with WhoAmI, the lightest request there is.
 * About 0.3 s against the demo organisation, more against a tenant. A failure is logged (early, where an admin
 * reading the log sees it) and is not fatal: each tool call asks again and answers with the reason.
 */
export async function warmUp(deps: ServerDeps, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  try {
    await deps.client.whoAmI({ signal });
    deps.log.info({ ms: Math.round(performance.now() - started) }, 'signed in to Dynamics');
  } catch (err) {
    if (signal.aborted) return;
    // with what to do about it, as a tool call would say it
    const hint = err instanceof DynamicsMcpError && err.hint ? { hint: err.hint } : {};
    deps.log.warn({ err, ...hint }, 'Dynamics could not be reached at start-up; each tool call will try again');
  }
}
