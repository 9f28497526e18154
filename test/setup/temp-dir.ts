import { rmSync } from 'node:fs';

/**
 * Runs in vitest's main process: when the run ends, remove the directory vitest.config.ts made for it (the
 * test certificate and every file the tests wrote under TMPDIR).
 */
export default function setup(): () => void {
  return () => {
    const dir = process.env.DMCP_TEST_TLS_DIR;
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}
