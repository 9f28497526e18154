import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** What a cursor carries: the nextLink Dataverse gave us and the query it belongs to. */
export interface CursorPayload {
  /** the paging cookie ($skiptoken) of the nextLink, as Dynamics encoded it */
  link: string;
  /** fingerprint of the canonical query */
  query: string;
  entity: string;
  /** issued at, epoch ms */
  at: number;
}

const TTL_MS = 24 * 3_600_000;
/** format 1: deflate (with DICTIONARY) then AES-256-GCM; the byte is authenticated as associated data */
const FORMAT = Buffer.from([1]);
/**
 * What every paging cookie shares (Dataverse's documented $skiptoken: URL-encoded XML holding a
 * URL-encoded cookie; shared/reference/dataverse-webapi.md §3.4): with it as a preset dictionary a cursor's payload
 * shrinks from ~500 to ~160 bytes, so the model carries ~250 characters instead of ~700. Changing it
 * needs a new FORMAT.
 */
export const DICTIONARY = Buffer.from(
  '{"link":"%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%253c' +
    '%2520last%253d%2522%257b%257d%2522%2520first%253d%2522%257b%257d%2522%2520%252f%253e%253c%252fcookie%253e' +
    '%22%20istracking=%22False%22%20/%3E","query":"","entity":"","at":1',
);
/** a payload is a link and a few names: anything larger was not sealed by us */
const MAX_PAYLOAD = 64 * 1024;

/**
 * Opaque continuation tokens: compressed, then AES-256-GCM sealed, so a model can neither read nor forge
 * one; a cursor is only ever a link this server received. The key is random per process unless
 * DYNAMICS_MCP_CURSOR_KEY is shared by replicas.
 */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret?: string) {
    this.key = secret ? createHash('sha256').update(secret).digest() : randomBytes(32);
  }

  seal(p: CursorPayload): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(FORMAT);
    // a payload is a few hundred bytes: a 2 KB window and a small hash table compress it exactly as well as
    // the defaults, which set up ~256 KB of state on every call; any inflater reads the result
    const plain = deflateRawSync(Buffer.from(JSON.stringify(p), 'utf8'), {
      dictionary: DICTIONARY,
      windowBits: 11,
      memLevel: 2,
    });
    const body = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([FORMAT, iv, c.getAuthTag(), body]).toString('base64url');
  }

  /** The payload, or null when the token was not sealed by this key, was altered, or has expired. */
  open(token: string): CursorPayload | null {
    try {
      const raw = Buffer.from(token, 'base64url');
      if (raw.length < 30 || raw[0] !== FORMAT[0]) return null;
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(1, 13));
      d.setAAD(FORMAT);
      d.setAuthTag(raw.subarray(13, 29));
      const plain = Buffer.concat([d.update(raw.subarray(29)), d.final()]);
      const json = inflateRawSync(plain, { dictionary: DICTIONARY, maxOutputLength: MAX_PAYLOAD }).toString('utf8');
      const p = JSON.parse(json) as CursorPayload;
      if (typeof p.link !== 'string' || typeof p.query !== 'string' || Date.now() - p.at > TTL_MS) return null;
      return p;
    } catch {
      return null;
    }
  }
}

export const fingerprint = (parts: unknown): string =>
  createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
