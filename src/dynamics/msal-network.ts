import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { Dispatcher } from 'undici';
import { describeBody, flatHeaders } from './answers.js';

/**
 * MSAL's HTTP, over an undici dispatcher we own: the same TLS trust (an explicit CA for the emulator, or
 * NODE_EXTRA_CA_CERTS), the same pool and timeouts as the Dataverse client, and cancellation by timeout.
 */
export function createMsalNetworkClient(
  dispatcher: Dispatcher | (() => Promise<Dispatcher>),
  timeoutMs = 30_000,
): MsalNetwork {
  const send = async <T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> => {
    const { request } = await import('undici');
    network.lastProxyRefusal = undefined;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method,
        dispatcher: typeof dispatcher === 'function' ? await dispatcher() : dispatcher,
        headers: options?.headers,
        body: method === 'POST' ? options?.body : undefined,
        signal: AbortSignal.timeout(timeout ?? timeoutMs),
      });
    } catch (err) {
      // MSAL replaces a thrown error with a bare "network_error" or "endpoints_resolution_error": a proxy's
      // refusal is kept here, so mapMsalError can say which setting to change
      if (/Proxy response \(\d+\)/.test((err as Error).message ?? ''))
        network.lastProxyRefusal = (err as Error).message;
      throw err;
    }
    const text = await res.body.text();
    const headers = flatHeaders(res.headers);
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
  const network: MsalNetwork = {
    sendGetRequestAsync: (url, options, timeout) => send('GET', url, options, timeout),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
  return network;
}

export interface MsalNetwork extends INetworkModule {
  /** undici's message when the proxy refused the last request's tunnel */
  lastProxyRefusal?: string;
}
