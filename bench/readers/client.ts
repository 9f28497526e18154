import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { createDynamicsClient } from '../../src/dynamics/create-client.js';
import { createLogger } from '../../src/logging.js';
import { Policy } from '../../src/policy/policy.js';
import { SecretScrubber } from '../../src/secrets.js';
import { env, report } from './common.js';

// Our client: the async page iterator over key ranges read side by side (BENCH_PARALLEL, default 3:
// on this 2-core machine 2 and 3 read about as fast, 4 is slower, as the emulator serves on one thread),
// each page handled and dropped (here: counted).
const config = loadConfig({
  env: { ...process.env, LOG_LEVEL: 'warn' },
  overrides: { dynamics: { pageSize: env.pageSize } } as never,
});
const logger = createLogger('warn', new SecretScrubber(), {
  pretty: false,
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});
const policy = Policy.fromInput({ entities: { account: { read: ['accountid', ...env.select] } } });
const client = createDynamicsClient(config, policy, logger);
await client.whoAmI(); // token and connection warm, as for the other readers
await client.metadata.entity('account');
await report(async () => {
  let n = 0;
  for await (const rows of client.pages({
    entity: 'account',
    select: env.select,
    annotations: false,
    parallel: Number(process.env.BENCH_PARALLEL ?? 3),
  }))
    n += rows.length;
  return n;
});
await client.close();
