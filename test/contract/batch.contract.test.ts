import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchBody, getPart, postPart } from '../helpers/batch-body.js';
import { type ContractTarget, targets } from './target.js';

describe.each(targets)('batch contract: $name', ({ open, skip }) => {
  let t: ContractTarget;
  beforeAll(async () => {
    if (!skip) t = await open();
  });
  afterAll(async () => t?.close());
  const send = (body: string, boundary: string, headers: Record<string, string> = {}) =>
    t.api('POST', '$batch', {
      headers: { 'content-type': `multipart/mixed; boundary="${boundary}"`, ...headers },
      body,
    });

  it.skipIf(skip)(
    'BATCH: a change set with Content-ID references in bodies commits all parts (sample batch-changeset-reference-content-id-in-body)',
    async () => {
      const tag = `batch-${Date.now()}`;
      const body = batchBody('batch_AAA123', [
        {
          changeset: 'changeset_dd81ccab',
          parts: [
            postPart('/api/data/v9.2/leads', { firstname: 'first name', lastname: tag }, '1'),
            postPart(`${t.dynamicsUrl}/api/data/v9.2/contacts`, { firstname: 'first name', lastname: tag }, '2'),
            postPart('/api/data/v9.2/accounts', { name: tag, 'primarycontactid@odata.bind': '$2' }, '3'),
          ],
        },
        getPart(
          `/api/data/v9.2/accounts?$select=name,_primarycontactid_value&$filter=${encodeURIComponent(`name eq '${tag}'`)}`,
        ),
      ]);
      const r = await send(body, 'batch_AAA123');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^multipart\/mixed; boundary=batchresponse_/);
      expect(r.text).toMatch(/Content-Type: multipart\/mixed; boundary=changesetresponse_/);
      expect(r.text.match(/HTTP\/1\.1 204 No Content/g)).toHaveLength(3);
      expect(r.text).toMatch(/Content-ID: 3\r\n\r\nHTTP\/1\.1 204 No Content\r\nOData-Version: 4\.0\r\n/);
      expect(r.text).toMatch(/Location: .*\/accounts\([0-9a-f-]{36}\)/);
      const acc = JSON.parse(r.text.slice(r.text.indexOf('{"@odata.context"')).split('\r\n')[0]!).value[0];
      const contact = (await t.api('GET', `contacts(${acc._primarycontactid_value})?$select=lastname`)).json();
      expect(contact.lastname).toBe(tag);
    },
  );

  it.skipIf(skip)(
    'BATCH: a failing part rolls back its whole change set and stops the batch (400 outer status)',
    async () => {
      const tag = `rollback-${Date.now()}`;
      const body = batchBody('batch_x', [
        {
          changeset: 'changeset_y',
          parts: [
            postPart('/api/data/v9.2/accounts', { name: tag }, '1'),
            postPart('/api/data/v9.2/accounts', { name: 'x'.repeat(500) }, '2'),
          ],
        },
        postPart('/api/data/v9.2/accounts', { name: `${tag}-after` }),
      ]);
      const r = await send(body, 'batch_x');
      expect(r.status).toBe(400);
      expect(r.text).toContain('HTTP/1.1 400 Bad Request');
      expect(r.text).toMatch(/REQ_ID: [0-9a-f-]{36}/);
      expect(r.text).toContain('"code":"0x80044331"');
      const left = (await t.api('GET', `accounts?$select=name&$filter=startswith(name,'${tag}')`)).json().value;
      expect(left).toEqual([]);
    },
  );

  it.skipIf(skip)('BATCH: with odata.continue-on-error every part answers and the outer status is 200', async () => {
    const tag = `continue-${Date.now()}`;
    const body = batchBody('batch_c', [
      postPart('/api/data/v9.2/accounts', { name: 'x'.repeat(500) }),
      postPart('/api/data/v9.2/accounts', { name: tag }),
    ]);
    const r = await send(body, 'batch_c', { prefer: 'odata.continue-on-error' });
    expect(r.status).toBe(200);
    expect(r.text).toContain('HTTP/1.1 400 Bad Request');
    expect(r.text).toContain('HTTP/1.1 204 No Content');
    const made = (await t.api('GET', `accounts?$select=accountid&$filter=name eq '${tag}'`)).json().value;
    expect(made).toHaveLength(1);
    await t.api('DELETE', `accounts(${made[0].accountid})`);
  });

  it.skipIf(skip)('BATCH: GET inside a change set and forward Content-ID references are refused', async () => {
    const r = await send(
      batchBody('b1', [{ changeset: 'c1', parts: [getPart('/api/data/v9.2/accounts?$top=1')] }]),
      'b1',
    );
    expect(r.status).toBe(400);
    const fwd = await send(
      batchBody('b2', [
        {
          changeset: 'c2',
          parts: [postPart('/api/data/v9.2/accounts', { name: 'fwd', 'primarycontactid@odata.bind': '$9' }, '1')],
        },
      ]),
      'b2',
    );
    expect(fwd.status).toBe(400);
    expect(fwd.text).toContain("Content-ID Reference: '$9' does not exist in the batch context.");
  });

  it.skipIf(skip)('BATCH: more than 1,000 requests are refused', async () => {
    const parts = Array.from({ length: 1001 }, () => getPart('/api/data/v9.2/WhoAmI()'));
    const r = await send(batchBody('big', parts), 'big');
    expect(r.status).toBe(400);
    expect(r.text).toContain('limit is 1000');
  });
});
