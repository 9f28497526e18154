import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

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

/**
 * Opaque continuation tokens: AES-256-GCM sealed, so a model can neither read nor forge one; a cursor is
 * only ever a link this server received. The key is random per process unless DYNAMICS_MCP_CURSOR_KEY
 * is shared by replicas.
 */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret?: string) {
    this.key = secret ? createHash('sha256').update(secret).digest() : randomBytes(32);
  }

  seal(p: CursorPayload): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(JSON.stringify(p), 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
  }

  /** The payload, or null when the token was not sealed by this key, was altered, or has expired. */
  open(token: string): CursorPayload | null {
    try {
      const raw = Buffer.from(token, 'base64url');
      if (raw.length < 29) return null;
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      const p = JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8')) as CursorPayload;
      if (typeof p.link !== 'string' || typeof p.query !== 'string' || Date.now() - p.at > TTL_MS) return null;
      return p;
    } catch {
      return null;
    }
  }
}

export const fingerprint = (parts: unknown): string =>
  createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
