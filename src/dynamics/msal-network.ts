import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { type Dispatcher, request } from 'undici';

/**
 * MSAL's HTTP, over an undici dispatcher we own: the same TLS trust (an explicit CA for the emulator, or
 * NODE_EXTRA_CA_CERTS), the same pool and timeouts as the Dataverse client, and cancellation by timeout.
 */
export function createMsalNetworkClient(dispatcher: Dispatcher, timeoutMs = 30_000): INetworkModule {
  const send = async <T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> => {
    const res = await request(url, {
      method,
      dispatcher,
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
      // MSAL turns a non-JSON body into token_parsing_error; hand it something it can report
      body = {
        error: 'invalid_response',
        error_description: `The authority answered ${res.statusCode} with a body that is not JSON.`,
      };
    }
    return { headers, body: body as T, status: res.statusCode };
  };
  return {
    sendGetRequestAsync: (url, options, timeout) => send('GET', url, options, timeout),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}
