import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  const dir = join(tmpdir(), `dynamics-mcp-test-${process.pid}`);
  mkdirSync(dir, { recursive: true });
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
  delete process.env.MSAL_FORCE_REGION;
  return {
    test: {
      pool: 'forks',
      include: ['test/**/*.test.ts'],
      setupFiles: ['test/setup/secrets-scan.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      maxWorkers: 2,
    },
  };
});
