import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CursorCodec, type CursorPayload, DICTIONARY } from '../../src/dynamics/cursor.js';

// a paging cookie in the documented $skiptoken format (shared/reference/dataverse-webapi.md §3.4), ordered
// by a text column: the inner cookie names the sort column and the primary key, each with last and first
const link =
  '%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%253cname%2520last%253d%2522adatum%2520manufacturing%2520inc.%2522%2520first%253d%2522adatum%2520energy%2520inc.%2522%2520%252f%253e%253caccountid%2520last%253d%2522%257b5FEA12C0-AF7A-B34E-0AE1-B7118788E70D%257d%2522%2520first%253d%2522%257bB407DA09-A30E-E5F3-1AB3-0C52E05DCA9E%257d%2522%2520%252f%253e%253c%252fcookie%253e%22%20istracking=%22False%22%20/%3E';
const payload = (over: Partial<CursorPayload> = {}): CursorPayload => ({
  link,
  query: 'kq3vQ0S7mKQy9V1n8xL2Aa',
  entity: 'account',
  at: Date.now(),
  ...over,
});

describe('cursors: what the model carries from one page to the next', () => {
  it('opens to exactly what was sealed', () => {
    const codec = new CursorCodec('a shared key of at least thirty-two characters');
    const p = payload();
    expect(codec.open(codec.seal(p))).toEqual(p);
    // replicas sharing DYNAMICS_MCP_CURSOR_KEY read each other's cursors
    expect(new CursorCodec('a shared key of at least thirty-two characters').open(codec.seal(p))).toEqual(p);
  });

  it('is short: a 500-character paging cookie travels in under 300 characters', () => {
    const codec = new CursorCodec();
    const token = codec.seal(payload());
    expect(JSON.stringify(payload()).length).toBeGreaterThan(500);
    expect(token.length).toBeLessThan(300);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("opens cursors sealed with zlib's default window (as before it was made smaller), at the same size", () => {
    const secret = 'a shared key of at least thirty-two characters';
    const codec = new CursorCodec(secret);
    // what seal() made with deflate's defaults; the key is derived as the codec derives it
    const key = createHash('sha256').update(secret).digest();
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(Buffer.from([1]));
    const p = payload();
    const plain = deflateRawSync(Buffer.from(JSON.stringify(p), 'utf8'), { dictionary: DICTIONARY });
    const body = Buffer.concat([c.update(plain), c.final()]);
    const old = Buffer.concat([Buffer.from([1]), iv, c.getAuthTag(), body]).toString('base64url');
    expect(codec.open(old)).toEqual(p);
    expect(codec.seal(p).length).toBeLessThanOrEqual(old.length);
  });

  it('still round-trips a cookie unlike the usual shape (other encodings, long values)', () => {
    const codec = new CursorCodec();
    const odd = payload({ link: `${'x%25'.repeat(2000)}é☃`, entity: 'new_custom' });
    expect(codec.open(codec.seal(odd))).toEqual(odd);
  });

  it('refuses a token that was altered anywhere, sealed by another key, expired, or is not a cursor', () => {
    const codec = new CursorCodec();
    const token = codec.seal(payload());
    const raw = Buffer.from(token, 'base64url');
    for (const at of [0, 1, 13, 29, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[at]! ^= 1;
      expect(codec.open(bad.toString('base64url')), `byte ${at} flipped`).toBeNull();
    }
    expect(new CursorCodec().open(token)).toBeNull();
    expect(codec.open(codec.seal(payload({ at: Date.now() - 25 * 3_600_000 })))).toBeNull();
    for (const junk of ['', 'not-a-cursor', 'A'.repeat(40), Buffer.alloc(64).toString('base64url')])
      expect(codec.open(junk)).toBeNull();
  });
});
