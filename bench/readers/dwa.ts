import { DynamicsWebApi } from 'dynamics-web-api';
import { env, report, token } from './common.js';

// dynamics-web-api's retrieveAll: follows every nextLink and returns all rows in memory.
const bearer = await token();
const api = new DynamicsWebApi({ serverUrl: env.url, onTokenRefresh: async () => bearer });
await report(async () => {
  const all = await api.retrieveAll({ collection: 'accounts', select: env.select, maxPageSize: env.pageSize });
  return all.value.length;
});
