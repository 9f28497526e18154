import { describe, expect, it } from 'vitest';
import { SecretScrubber } from '../../src/secrets.js';

describe('SecretScrubber.scrubResult: structured results as they leave the process', () => {
  const scrubber = new SecretScrubber();
  scrubber.register('abc8Q~client-secret-value');
  scrubber.register('a cursor key with "quotes" and \\ in it');

  it('hands back the very same object when nothing in it is secret (no copy per call)', () => {
    // "Bearer" followed by an ordinary word is text, not a credential
    const clean = {
      records: [{ id: '1', name: 'Contoso', note: 'Bearer bonds, bearer of good news' }],
      hasMore: false,
    };
    expect(scrubber.scrubResult(clean)).toBe(clean);
  });

  it('redacts known secrets, bearer tokens and JWTs at any depth, leaving the rest as it was', () => {
    let deep: Record<string, unknown> = { leaf: 'login: abc8Q~client-secret-value' };
    for (let i = 0; i < 12; i++) deep = { level: i, child: deep };
    const value = {
      records: [
        { id: '1', description: 'use Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl please' },
        { id: '3', description: 'api key: Bearer k3y-0f-s1xteen-chars-or-more' },
        { id: '2', nested: deep, n: 5, ok: true, none: null },
      ],
    };
    const out = scrubber.scrubResult(value);
    expect(out).not.toBe(value);
    const text = JSON.stringify(out);
    expect(text).not.toContain('abc8Q~client-secret-value');
    expect(text).not.toContain('eyJhbGciOi');
    expect(text).not.toContain('k3y-0f-s1xteen');
    expect(text).toContain('login: [redacted]');
    expect(out.records[2]).toMatchObject({ id: '2', n: 5, ok: true, none: null });
    // the input is not changed
    expect(JSON.stringify(value)).toContain('abc8Q~client-secret-value');
  });

  it('finds a known secret whose characters JSON escapes', () => {
    const out = scrubber.scrubResult({ note: 'key: a cursor key with "quotes" and \\ in it' });
    expect(out.note).toBe('key: [redacted]');
  });
});

describe('SecretScrubber.scrub: credentials we never registered', () => {
  const scrubber = new SecretScrubber();
  // every pattern, in any case, at the start or end of the text, after any whitespace
  it.each([
    ['BEARER\tabcdefghijklmnop0123', 'abcdefghijklmnop0123'],
    ['header authorization: bearer abcdefghijklmnop0123', 'abcdefghijklmnop0123'],
    ['eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'eyJhbGciOiJSUzI1NiJ9'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----', 'MIIEow'],
    ['grant_type=client_credentials&CLIENT_SECRET=s3cr3t&scope=x', 's3cr3t'],
    ['Password=hunter22', 'hunter22'],
    ['?access_token=abc.def', 'abc.def'],
  ])('%j loses %j', (text, secret) => {
    expect(scrubber.scrub(text)).not.toContain(secret);
  });

  it('leaves text without credentials as it was', () => {
    const text = 'Bearer bonds; a password policy; key=value; eyJ alone';
    expect(scrubber.scrub(text)).toBe(text);
  });
});

describe('the logger: an error logged says what failed, its secrets scrubbed', () => {
  it('logs an Error as its type, message and code (not {}), with a known secret redacted', async () => {
    const { createLogger } = await import('../../src/logging.js');
    const { Writable } = await import('node:stream');
    const scrubber = new SecretScrubber();
    scrubber.register('abc8Q~client-secret-value');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger('info', scrubber, { pretty: false, destination: sink });
    const err = Object.assign(new TypeError('token abc8Q~client-secret-value was undefined'), { code: 'E_X' });
    log.error({ ref: 'r1', err }, 'unexpected error');
    const entry = JSON.parse(lines[0]!);
    expect(entry.err).toEqual({ type: 'TypeError', message: 'token [redacted] was undefined', code: 'E_X' });
  });
});
