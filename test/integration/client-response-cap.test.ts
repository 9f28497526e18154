import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamicsMcpError } from '../../src/errors.js';
import { type ContractTarget, openEmulatorTarget } from '../contract/target.js';
import { clientFor } from '../helpers/client.js';

// An answer larger than the server can hold (a page of long texts: a note's text holds up to 100,000 characters,
// fifty a page, an email's body a million; files are read by their size, file-reads.ts, save where a policy keeps
// the size from being read) is refused with what to ask for instead, once it passes dynamics.maxResponseMb, not read
// whole and not retried; the next request is answered.
describe('answers larger than the server reads at once', () => {
  let t: ContractTarget;
  beforeAll(async () => {
    t = await openEmulatorTarget({ scale: 20 });
    // 25 notes of 99,000 characters each: about 2.5 MB in the answer that reads them
    for (let i = 0; i < 25; i++) {
      const r = await t.api('POST', 'annotations', {
        body: { subject: 'Full export', notetext: 'a,b,c\n'.repeat(16_500) },
      });
      expect(r.status).toBe(204);
    }
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
        select: ['subject', 'notetext'],
        where: { column: 'subject', op: 'eq', value: 'Full export' },
      });
      await expect(read).rejects.toThrow(DynamicsMcpError);
      const err = (await read.catch((e: unknown) => e)) as DynamicsMcpError;
      expect(err.kind).toBe('too_large');
      expect(err.message).toMatch(
        /^Dynamics' answer is (over 2 MB|\d+ MB), more than this server reads at once \(dynamics\.maxResponseMb\)\.$/,
      );
      expect(err.hint).toBe(
        "Ask for fewer rows or fewer columns: long texts (a note's, an email's) and files one record at a time (top 1).",
      );
      // not retried: the same request would get the same answer
      expect(
        emu
          .requests()
          .slice(before)
          .filter((q) => q.url.includes('/annotations?')),
      ).toHaveLength(1);
      // the connection and the request slot are free for what comes next
      const next = await client.query({ entity: 'annotation', select: ['subject'], top: 5 });
      expect(next.rows.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
    // under the default limit the same notes are read
    const { client: wide } = clientFor(emu);
    try {
      const page = await wide.query({
        entity: 'annotation',
        select: ['subject', 'notetext'],
        where: { column: 'subject', op: 'eq', value: 'Full export' },
      });
      expect(page.rows).toHaveLength(25);
    } finally {
      await wide.close();
    }
  });
});
