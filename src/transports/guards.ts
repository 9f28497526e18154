import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from '../config/schema.js';

/** DNS-rebinding protection: the Host must name this server; an Origin, when sent, must be allowed. */
export class HostOriginGuard {
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;

  constructor(bindHost: string, allowedHosts: string[], allowedOrigins: string[]) {
    this.hosts = new Set(allowedHosts.map((h) => h.toLowerCase()));
    if (!['0.0.0.0', '::'].includes(bindHost)) this.hosts.add(bindHost.toLowerCase());
    this.origins = new Set(allowedOrigins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  }

  check(req: IncomingMessage): string | null {
    const host = req.headers.host;
    if (!host) return 'Missing Host header';
    const hostname = host
      .replace(/:\d+$/, '')
      .replace(/^\[(.*)\]$/, '$1')
      .toLowerCase();
    if (!isLoopbackHost(hostname) && !this.hosts.has(hostname)) return `Host '${hostname}' is not allowed`;
    const origin = req.headers.origin;
    if (origin && origin !== 'null') {
      let o: URL;
      try {
        o = new URL(origin);
      } catch {
        return 'Malformed Origin header';
      }
      if (!isLoopbackHost(o.hostname) && !this.origins.has(o.origin.toLowerCase()))
        return `Origin '${o.origin}' is not allowed`;
    } else if (origin === 'null') return "Origin 'null' is not allowed";
    return null;
  }
}

/** Token buckets per caller: `perMinute` requests a minute, refilled continuously. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number) {}

  /** 0 when allowed; otherwise the seconds to wait. */
  take(key: string, now = Date.now()): number {
    const rate = this.perMinute / 60_000;
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.perMinute, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.perMinute, b.tokens + (now - b.at) * rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    if (this.buckets.size > 50_000) this.sweep(now);
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }

  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (now - b.at > 120_000) this.buckets.delete(k);
  }
}

/** Reads a request body up to `limit` bytes; null when it is larger. */
export function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
