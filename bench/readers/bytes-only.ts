import { request } from 'undici';
import { env, report, token } from './common.js';

// The floor under P2's memory: the same pages over HTTPS, following each nextLink, every byte received and
// dropped: no JSON parsed, no row kept (rows are counted by their key's name in the bytes). Whatever this grows
// by, any reader in a fresh Node process grows by.
const bearer = await token();
const KEY = Buffer.from('"accountid"');
const TAIL = 4096; // the nextLink sits in the last bytes of a page
await report(async () => {
  let records = 0;
  let url: string | undefined = `${env.url}/api/data/v9.2/accounts?$select=${env.select.join(',')}`;
  while (url) {
    const res = await request(url, {
      headers: {
        Authorization: `Bearer ${bearer}`,
        Accept: 'application/json',
        'OData-Version': '4.0',
        Prefer: `odata.maxpagesize=${env.pageSize}`,
      },
    });
    let tail = Buffer.alloc(0);
    for await (const chunk of res.body) {
      // the key may be cut between two chunks: search from the previous chunk's last bytes
      const seen = Buffer.concat([tail.subarray(-(KEY.length - 1)), chunk as Buffer]);
      for (let at = seen.indexOf(KEY); at >= 0; at = seen.indexOf(KEY, at + KEY.length)) records++;
      tail = Buffer.concat([tail, chunk as Buffer]).subarray(-TAIL);
    }
    const link = /"@odata\.nextLink":"([^"]+)"/.exec(tail.toString('utf8'))?.[1];
    url = link ? JSON.parse(`"${link}"`) : undefined;
  }
  return records;
});
