/**
 * The secrets scan: every secret a test creates (client secrets, certificate keys) and every log line and
 * tool output the harnesses capture are collected here; test/setup/secrets-scan.ts checks, after each test
 * file, that no secret and no bearer token appears in any of them.
 */
const secrets = new Set<string>();
const sources: { name: string; read: () => string[] }[] = [];

export function watchSecret(value: string | undefined): void {
  if (value && value.length >= 8) secrets.add(value);
}

export function watchTexts(name: string, read: () => string[]): void {
  sources.push({ name, read });
}

const JWT = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/;

export function findLeaks(): string[] {
  const leaks: string[] = [];
  for (const s of sources)
    for (const text of s.read()) {
      for (const secret of secrets)
        if (text.includes(secret)) leaks.push(`${s.name}: contains a secret (${secret.slice(0, 4)}…)`);
      if (JWT.test(text)) leaks.push(`${s.name}: contains a bearer token`);
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) leaks.push(`${s.name}: contains a private key`);
    }
  return leaks;
}
