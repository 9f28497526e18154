import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { createServerCertificate } from './src/emulator/tls.js';

/**
 * One TLS certificate for every emulator the tests start, trusted the way users trust a corporate CA:
 * through NODE_EXTRA_CA_CERTS (a bundle with any CA already configured). It is set here, in the main
 * process, before the forked workers start, because Node reads it once at process start (msal-notes §4).
 */
export default defineConfig(async () => {
  // One directory per run holds the certificate and, through TMPDIR (which os.tmpdir() reads on each call, in
  // the forked workers and the servers they spawn), every file a test writes; test/setup/temp-dir.ts removes
  // it when the run ends, so runs do not pile up files (a test key among them) in /tmp.
  const dir = mkdtempSync(join(tmpdir(), 'dynamics-mcp-test-'));
  mkdirSync(join(dir, 'tmp'));
  const tls = await createServerCertificate('127.0.0.1');
  writeFileSync(join(dir, 'cert.pem'), tls.cert);
  writeFileSync(join(dir, 'key.pem'), tls.key);
  const existing = process.env.NODE_EXTRA_CA_CERTS;
  let bundle = tls.cert;
  if (existing) {
    try {
      bundle = `${readFileSync(existing, 'utf8')}\n${tls.cert}`;
    } catch {
      // an unreadable existing bundle is not ours to fix; trust our certificate alone
    }
  }
  writeFileSync(join(dir, 'bundle.pem'), bundle);
  process.env.NODE_EXTRA_CA_CERTS = join(dir, 'bundle.pem');
  process.env.DMCP_TEST_TLS_DIR = dir;
  process.env.TMPDIR = join(dir, 'tmp');
  delete process.env.MSAL_FORCE_REGION;
  return {
    test: {
      pool: 'forks',
      include: ['test/**/*.test.ts'],
      setupFiles: ['test/setup/secrets-scan.ts'],
      globalSetup: ['test/setup/temp-dir.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      maxWorkers: 2,
    },
  };
});
