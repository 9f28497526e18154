import type { AppRegistration } from './authority/registry.js';
import { stableGuid } from './schema/build.js';
import type { SeedUser } from './seed/seed.js';
import type { Store } from './store/store.js';

/** The ids and secrets the emulator's directory is built from (stable for a seed, secrets fresh per start). */
export interface DirectoryIds {
  seed: number;
  clientId: string;
  clientSecret: string;
  apiClientId: string;
  apiSecret: string;
  miSystem: string;
  miUser: string;
}

/**
 * The tenant's people and apps: the organisation's users (an administrator, the application users of our app
 * and of both managed identities, two signed-in test users), and the app registrations the authority knows
 * (ours with its secret, the hosted API's, the managed identities'). `register` adds one more.
 */
export function buildDirectory(ids: DirectoryIds) {
  const { seed, clientId, clientSecret, apiClientId, apiSecret, miSystem, miUser } = ids;
  const appUserId = stableGuid(`appuser:${clientId}`);
  const seedUsers: SeedUser[] = [
    {
      systemuserid: stableGuid(`sysadmin:${seed}`),
      firstname: 'System',
      lastname: 'Administrator',
      email: 'admin@contoso.example',
      objectId: stableGuid(`sysadmin-oid:${seed}`),
    },
    {
      systemuserid: appUserId,
      firstname: 'dynamics-mcp',
      lastname: '(application)',
      email: `${clientId}@application.example`,
      objectId: stableGuid(`sp:${clientId}`),
      applicationId: clientId,
    },
    {
      systemuserid: stableGuid(`miuser:${miSystem}`),
      firstname: 'Managed identity',
      lastname: '(system-assigned)',
      email: `${miSystem}@application.example`,
      objectId: stableGuid(`sp:${miSystem}`),
      applicationId: miSystem,
    },
    {
      systemuserid: stableGuid(`miuser:${miUser}`),
      firstname: 'Managed identity',
      lastname: '(user-assigned)',
      email: `${miUser}@application.example`,
      objectId: stableGuid(`sp:${miUser}`),
      applicationId: miUser,
    },
  ];
  const testUsers = [
    { first: 'Alex', last: 'Wilber', username: 'alex@contoso.example', scopes: ['mcp.tools', 'mcp.read'] },
    { first: 'Megan', last: 'Bowen', username: 'megan@contoso.example', scopes: ['mcp.read'] },
  ].map((u) => ({
    username: u.username,
    password: `Pa55-${u.first}-${seed}`,
    objectId: stableGuid(`user-oid:${u.username}`),
    name: `${u.first} ${u.last}`,
    scopes: u.scopes,
    systemuserid: stableGuid(`user:${u.username}`),
    first: u.first,
    last: u.last,
  }));
  for (const u of testUsers)
    seedUsers.push({
      systemuserid: u.systemuserid,
      firstname: u.first,
      lastname: u.last,
      email: u.username,
      objectId: u.objectId,
    });

  const apps = new Map<string, AppRegistration>();
  const register = (id: string, name: string, secret: string | null, apiRoles: string[] = []) =>
    apps.set(id, {
      clientId: id,
      objectId: stableGuid(`sp:${id}`),
      displayName: name,
      secrets: secret ? [{ value: secret, expiresAt: new Date(Date.now() + 365 * 86_400_000) }] : [],
      certificates: [],
      apiRoles,
    });
  register(clientId, 'dynamics-mcp', clientSecret, ['Mcp.Tools']);
  register(apiClientId, 'dynamics-mcp API', apiSecret);
  register(miSystem, 'managed identity (system)', null);
  register(miUser, 'managed identity (user-assigned)', null);

  return { appUserId, seedUsers, testUsers, apps, register };
}

/** The application user Dataverse would hold for an app registration. */
export function applicationUser(clientId: string): SeedUser {
  return {
    systemuserid: stableGuid(`appuser:${clientId}`),
    firstname: clientId,
    lastname: '(application)',
    email: `${clientId}@application.example`,
    objectId: stableGuid(`sp:${clientId}`),
    applicationId: clientId,
  };
}

export function seedStoreUser(store: Store, u: SeedUser): void {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  store.table('systemuser').put(u.systemuserid, {
    systemuserid: u.systemuserid,
    firstname: u.firstname,
    lastname: u.lastname,
    fullname: `${u.firstname} ${u.lastname}`,
    internalemailaddress: u.email,
    domainname: u.email,
    title: 'Application user',
    isdisabled: false,
    applicationid: u.applicationId ?? null,
    azureactivedirectoryobjectid: u.objectId,
    territoryid: null,
    createdon: now,
    modifiedon: now,
    createdby: null,
    modifiedby: null,
    versionnumber: store.nextVersion(),
  });
}
