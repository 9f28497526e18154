import { env, report, token } from './common.js';

// The seed guide's fetchAll: fetch each page and concat its rows into one array until there is no nextLink.
const bearer = await token();
await report(async () => {
  let all: unknown[] = [];
  let url: string | undefined = `${env.url}/api/data/v9.2/accounts?$select=${env.select.join(',')}`;
  while (url) {
    const res = await fetch(url, {
      headers: {
        Authorization: `Bearer ${bearer}`,
        Accept: 'application/json',
        'OData-Version': '4.0',
        Prefer: `odata.maxpagesize=${env.pageSize}`,
      },
    });
    const json = (await res.json()) as { value: unknown[]; '@odata.nextLink'?: string };
    all = all.concat(json.value);
    url = json['@odata.nextLink'];
  }
  return all.length;
});
