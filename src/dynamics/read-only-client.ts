import { DynamicsMcpError } from '../errors.js';
import type { DynamicsClient } from './client.js';

/** The client's methods that write (each hands its work to writes.ts). */
export const WRITE_METHODS = [
  'create',
  'createMany',
  'closeRecord',
  'qualifyLead',
  'merge',
  'moveToQueue',
  'putInQueue',
  'update',
  'link',
  'delete',
] as const;

/**
 * The shared client as a hosted session opened with read-only credentials uses it: reads go through, every
 * write method refuses before anything is sent. Its write tools are not even listed; this is the second
 * layer, as a read-only server's policy is for the whole process (writes.ts), so that a tool that writes can
 * never write from such a session, whatever registers it.
 */
export function readOnlyClient(client: DynamicsClient): DynamicsClient {
  const refuse = (method: string) => () =>
    Promise.reject(
      new DynamicsMcpError(
        'read_only',
        `${method} is not allowed: this session's credentials grant reading only.`,
        'Only read tools are available here; a client with write access (its API key, or the required scope or app role) can write.',
        { retryable: false },
      ),
    );
  const writes = new Set<string>(WRITE_METHODS);
  return new Proxy(client, {
    get(target, prop) {
      if (typeof prop === 'string' && writes.has(prop)) return refuse(prop);
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
