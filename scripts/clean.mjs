// dist is made anew by each build: nothing of an earlier one stays to be loaded or published (esbuild's chunks,
// named by content hash, once grew a working copy's dist by hundreds of MB; a code cache is named for its bundle).
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
