import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type { SecretScrubber } from './secrets.js';

export type { Logger } from 'pino';

const REDACT = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'clientSecret',
  '*.clientSecret',
  'client_secret',
  '*.client_secret',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'token',
  '*.token',
  'password',
  '*.password',
];

/**
 * Logs go to stderr (fd 2) only: stdout belongs to JSON-RPC when serving stdio. Pretty on a terminal,
 * JSON lines otherwise. Known secret fields are redacted by path, and every string is passed through the
 * scrubber so a token inside an upstream message never reaches the log.
 */
export function createLogger(
  level: string,
  scrubber: SecretScrubber,
  opts: { pretty?: boolean; destination?: NodeJS.WritableStream } = {},
): Logger {
  const wantPretty = opts.pretty ?? process.stderr.isTTY === true;
  const stream = opts.destination
    ? opts.destination
    : wantPretty
      ? (createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty'))({
          destination: 2,
          sync: true,
          colorize: true,
          translateTime: 'HH:MM:ss.l',
          ignore: 'pid,hostname',
        })
      : pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { log: (obj) => scrubber.scrubDeep(obj) },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrubber.scrub(a) : a)) as Parameters<typeof method>,
          );
        },
      },
      serializers: {
        err: (e: unknown) => {
          // the log formatter runs first and has already made an Error its type, message and code
          if (!(e instanceof Error)) return e;
          const s = pino.stdSerializers.err(e);
          return scrubber.scrubDeep({ type: s.type, message: s.message, code: (s as { code?: unknown }).code });
        },
      },
    },
    stream as pino.DestinationStream,
  );
}
