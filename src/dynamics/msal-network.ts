import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { Dispatcher } from 'undici';
import { describeBody } from './answers.js';

/**
 * MSAL's HTTP, over an undici dispatcher we own: the same TLS trust (an explicit CA for the emulator, or
 * NODE_EXTRA_CA_CERTS), the same pool and timeouts as the Dataverse client, and cancellation by timeout.
 */
export function createMsalNetworkClient(
  dispatcher: Dispatcher | (() => Promise<Dispatcher>),
  timeoutMs = 30_000,
): INetworkModule {
  const send = async <T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> => {
    const { request } = await import('undici');
    const res = await request(url, {
      method,
      dispatcher: typeof dispatcher === 'function' ? await dispatcher() : dispatcher,
      headers: options?.headers,
      body: method === 'POST' ? options?.body : undefined,
      signal: AbortSignal.timeout(timeout ?? timeoutMs),
    });
    const text = await res.body.text();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      body = undefined;
    }
    // MSAL turns a non-JSON body into token_parsing_error; hand it an AAD-shaped error it can report, and
    // mark a 5xx as the documented temporarily_unavailable so it is seen as transient
    if (!body || typeof body !== 'object' || (res.statusCode >= 400 && !('error' in body))) {
      body = {
        error: res.statusCode >= 500 ? 'temporarily_unavailable' : 'invalid_response',
        error_description: `The sign-in endpoint answered HTTP ${res.statusCode} with ${describeBody(headers, text)}, not a token or an error of its own.`,
      };
    }
    return { headers, body: body as T, status: res.statusCode };
  };
  return {
    sendGetRequestAsync: (url, options, timeout) => send('GET', url, options, timeout),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}
