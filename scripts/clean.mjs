// dist is made anew by each build: esbuild names its chunks by content hash and never removes the old ones,
// so without this a working copy's dist grew by every build's chunks (hundreds of MB), all of which
// `npm pack` would publish. (A server running from dist while it is rebuilt loses its lazily loaded chunks.)
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
