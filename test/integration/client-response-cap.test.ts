import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamicsMcpError } from '../../src/errors.js';
import { type ContractTarget, openEmulatorTarget } from '../contract/target.js';
import { clientFor } from '../helpers/client.js';

// An answer larger than the server can hold (a page of notes' files where an organisation raised Dataverse's
// 5 MB file limit toward 128 MB: five a page is past V8's longest string) is refused with what to ask for
// instead, once it passes dynamics.maxResponseMb, not read whole and not retried; the next request is answered.
describe('answers larger than the server reads at once', () => {
  let t: ContractTarget;
  beforeAll(async () => {
    t = await openEmulatorTarget({ scale: 20 });
    // a note with a 3 MB text file: about 4 MB of Base64 in the answer that reads it
    const caseId = String(t.emulator!.rows('incident')[0]!.incidentid);
    const r = await t.api('POST', 'annotations', {
      body: {
        subject: 'Full export',
        isdocument: true,
        filename: 'export.csv',
        mimetype: 'text/csv',
        documentbody: Buffer.alloc(3 * 1024 * 1024, 'a,b,c\n').toString('base64'),
        'objectid_incident@odata.bind': `/incidents(${caseId})`,
      },
    });
    expect(r.status).toBe(204);
  });
  afterAll(async () => {
    await t.close();
  });

  it('is refused as too large, saying what to ask for instead, sent once; the next request is answered', async () => {
    const emu = t.emulator!;
    const { client } = clientFor(emu, { overrides: { dynamics: { maxResponseMb: 2 } } as never });
    try {
      const before = emu.requests().length;
      const read = client.query({
        entity: 'annotation',
        select: ['filename', 'documentbody'],
        where: { column: 'filename', op: 'eq', value: 'export.csv' },
      });
      await expect(read).rejects.toThrow(DynamicsMcpError);
      const err = (await read.catch((e: unknown) => e)) as DynamicsMcpError;
      expect(err.kind).toBe('too_large');
      expect(err.message).toMatch(
        /^Dynamics' answer is (over 2 MB|\d+ MB), more than this server reads at once \(dynamics\.maxResponseMb\)\.$/,
      );
      expect(err.hint).toBe(
        "Ask for fewer rows or fewer columns; read files (a note's documentbody, an attachment's body) one record at a time (top 1).",
      );
      // not retried: the same request would get the same answer
      expect(
        emu
          .requests()
          .slice(before)
          .filter((q) => q.url.includes('/annotations?')),
      ).toHaveLength(1);
      // the connection and the request slot are free for what comes next
      const next = await client.query({ entity: 'annotation', select: ['filename'], top: 5 });
      expect(next.rows.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
    // under the default limit the same file is read
    const { client: wide } = clientFor(emu);
    try {
      const page = await wide.query({
        entity: 'annotation',
        select: ['filename', 'documentbody'],
        where: { column: 'filename', op: 'eq', value: 'export.csv' },
      });
      expect(page.rows).toHaveLength(1);
    } finally {
      await wide.close();
    }
  });
});
