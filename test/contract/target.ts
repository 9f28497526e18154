import { ConfidentialClientApplication } from '@azure/msal-node';
import { request } from 'undici';
import type { EmulatorHandle, EmulatorOptions } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';

/**
 * Where a contract test runs: the emulator always, and a real Dataverse org as well when
 * DYNAMICS_CONTRACT_URL, AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are set. Tests that need
 * the emulator's knobs (faults, limits, roles) run only there (`t.emulator`).
 * Token acquisition is the unmodified MSAL client-credentials flow; TLS trust comes from NODE_EXTRA_CA_CERTS.
 */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: () => any;
}

export interface ContractTarget {
  name: string;
  dynamicsUrl: string;
  emulator?: EmulatorHandle;
  token(): Promise<string>;
  api(
    method: string,
    path: string,
    init?: { headers?: Record<string, string>; body?: unknown; token?: string | null },
  ): Promise<Reply>;
  close(): Promise<void>;
}

const real = {
  url: process.env.DYNAMICS_CONTRACT_URL,
  tenantId: process.env.AZURE_TENANT_ID,
  clientId: process.env.AZURE_CLIENT_ID,
  clientSecret: process.env.AZURE_CLIENT_SECRET,
};
export const realOrgConfigured = !!(real.url && real.tenantId && real.clientId && real.clientSecret);

function makeTarget(
  name: string,
  dynamicsUrl: string,
  cca: ConfidentialClientApplication,
  emulator: EmulatorHandle | undefined,
): ContractTarget {
  const token = async () => {
    const r = await cca.acquireTokenByClientCredential({ scopes: [`${dynamicsUrl}/.default`] });
    if (!r) throw new Error('no token');
    return r.accessToken;
  };
  return {
    name,
    dynamicsUrl,
    emulator,
    token,
    async api(method, path, init = {}) {
      const bearer = init.token === null ? undefined : (init.token ?? (await token()));
      const body =
        init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      const url = /^https?:/.test(path) ? path : `${dynamicsUrl}/api/data/v9.2/${path.replace(/^\//, '')}`;
      const res = await request(url, {
        method: method as 'GET',
        headers: {
          accept: 'application/json',
          'odata-version': '4.0',
          'odata-maxversion': '4.0',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
          ...init.headers,
        },
        body,
      });
      const text = await res.body.text();
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers))
        if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      return { status: res.statusCode, headers, text, json: () => JSON.parse(text) };
    },
    async close() {
      await emulator?.close();
    },
  };
}

export async function openEmulatorTarget(options: EmulatorOptions = {}): Promise<ContractTarget> {
  const emu = await startTestEmulator(options);
  const cca = new ConfidentialClientApplication({
    auth: {
      clientId: emu.clientId,
      clientSecret: emu.clientSecret,
      authority: `${emu.authorityHost}/${emu.tenantId}`,
      knownAuthorities: [new URL(emu.authorityHost).host],
    },
  });
  return makeTarget('emulator', emu.dynamicsUrl, cca, emu);
}

export async function openRealTarget(): Promise<ContractTarget> {
  const cca = new ConfidentialClientApplication({
    auth: {
      clientId: real.clientId!,
      clientSecret: real.clientSecret!,
      authority: `https://login.microsoftonline.com/${real.tenantId}`,
    },
  });
  return makeTarget('dataverse', real.url!.replace(/\/+$/, ''), cca, undefined);
}

/** The targets to run a contract suite against, for describe.each. */
export const targets: { name: string; open: () => Promise<ContractTarget>; skip: boolean }[] = [
  { name: 'emulator', open: () => openEmulatorTarget(), skip: false },
  { name: 'real Dataverse org', open: openRealTarget, skip: !realOrgConfigured },
];

/** The id a create answered with, from its OData-EntityId header (…/incidents(<id>)). */
export function createdId(r: Reply): string {
  const id = /\(([0-9a-f-]{36})\)$/.exec(r.headers['odata-entityid'] ?? '')?.[1];
  if (!id) throw new Error(`no record id in the create's answer (${r.status}): ${r.text}`);
  return id;
}

/** A new open case, for the first account, titled as given: what a contract test works on. */
export async function openCase(t: ContractTarget, title: string): Promise<string> {
  const account = (await t.api('GET', 'accounts?$select=accountid&$top=1')).json().value[0].accountid;
  return createdId(
    await t.api('POST', 'incidents', { body: { title, 'customerid_account@odata.bind': `/accounts(${account})` } }),
  );
}
