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
      .replace(/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]')
      .replace(/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]')
      .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[redacted-private-key]')
      .replace(/(client_secret|client_assertion|password|access_token|refresh_token)=[^&\s"]+/gi, '$1=[redacted]');
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('[redacted]');
    return out;
  }

  /** Deep copy with every string scrubbed. */
  scrubDeep<T>(value: T, depth = 0): T {
    if (typeof value === 'string') return this.scrub(value) as T;
    if (depth > 8 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.scrubDeep(v, depth + 1)) as T;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = this.scrubDeep(v, depth + 1);
    return out as T;
  }
}
