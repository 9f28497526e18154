import { AsyncLocalStorage } from 'node:async_hooks';

/** Told, in words, when the call it belongs to is about to wait on Dynamics. */
export type WaitListener = (message: string, ms: number) => void;

const listeners = new AsyncLocalStorage<WaitListener>();

/**
 * Runs `fn` (a tool call) with a listener for the waits of every request it makes. Throttling can hold a
 * call for up to two minutes; without a word the user sees a hung call, and a client whose request timeout
 * is shorter gives up on a call that was about to succeed. The tool boundary turns each wait into a
 * progress notification (which also restarts such a client's timeout when it asked for that) and a log
 * message to the client.
 */
export const reportingWaits = <T>(listener: WaitListener, fn: () => Promise<T>): Promise<T> =>
  listeners.run(listener, fn);

/** Reports a wait a person would notice (a second or more) to the current call's listener, if any. */
export function reportWait(ms: number, message: (seconds: number) => string): void {
  if (ms < 1000) return;
  listeners.getStore()?.(message(Math.ceil(ms / 1000)), ms);
}
