/**
 * Scrubbing of secrets from any text that leaves the process (logs, tool results, error messages):
 * bearer tokens, JWTs, and the configured secret values themselves. Known values are registered at
 * start-up; patterns catch tokens we never saw (a token inside an upstream error message, say).
 */
export class SecretScrubber {
  private readonly values = new Set<string>();

  register(value: string | undefined): void {
    if (value && value.length >= 6) this.values.add(value);
  }

  scrub(text: string): string {
    let out = text
      // 16+ characters, the shortest inbound API key: "Bearer bonds" in a record's text is not a credential
      .replace(/\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/gi, 'Bearer [redacted]')
      .replace(/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]')
      .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[redacted-private-key]')
      .replace(/(client_secret|client_assertion|password|access_token|refresh_token)=[^&\s"]+/gi, '$1=[redacted]');
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('[redacted]');
    return out;
  }

  /**
   * A tool's structured result as it may leave the process: the same object when no string in it holds a
   * secret (one pass over its JSON, passed in when the caller has made it), else a copy with every string
   * scrubbed. Records are text typed by people, and people paste secrets into descriptions.
   */
  scrubResult<T>(value: T, json: string | undefined = JSON.stringify(value)): T {
    if (json === undefined) return value;
    // a known secret with a quote or backslash in it appears escaped in the JSON
    const escaped = [...this.values].some((v) => json.includes(JSON.stringify(v).slice(1, -1)));
    if (!escaped && this.scrub(json) === json) return value;
    // JSON.stringify succeeded, so the value is a finite tree: every level is scrubbed
    return this.scrubDeep(value, Number.POSITIVE_INFINITY);
  }

  /** Deep copy with every string scrubbed, down to `maxDepth` levels (log objects may be anything). */
  scrubDeep<T>(value: T, maxDepth = 8, depth = 0): T {
    if (typeof value === 'string') return this.scrub(value) as T;
    if (depth > maxDepth || value === null || typeof value !== 'object') return value;
    // an Error's name and message are not its own enumerable keys: copied key by key it would be {} (and the
    // log of an unexpected failure would say nothing); as the logger's err serializer keeps it
    if (value instanceof Error) {
      const code = (value as { code?: unknown }).code;
      return { type: value.name, message: this.scrub(value.message), ...(code !== undefined ? { code } : {}) } as T;
    }
    if (Array.isArray(value)) return value.map((v) => this.scrubDeep(v, maxDepth, depth + 1)) as T;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      out[k] = this.scrubDeep(v, maxDepth, depth + 1);
    return out as T;
  }
}
