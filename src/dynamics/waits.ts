/** Told, in words, when the call it belongs to is about to wait on Dynamics. */
export type WaitListener = (message: string, ms: number) => void;

/**
 * Listeners by the tool call's AbortSignal, which every request of the call already carries down to the
 * transport. Throttling can hold a call for most of a minute; without a word the user sees a hung call, and
 * a client whose timeout is shorter gives up on a call about to succeed. The tool boundary turns each wait
 * into a progress notification and a log message to the client. (AsyncLocalStorage would find the call as
 * well, but on Node 20 it turns on promise hooks for the whole process: ~0.1 ms more CPU per tool call.)
 */
const listeners = new WeakMap<AbortSignal, WaitListener>();

export function reportWaitsOf(signal: AbortSignal, listener: WaitListener): void {
  listeners.set(signal, listener);
}

/** A signal made for part of a call (one attempt, one page) reports to the call's listener. */
export function sameCall(parent: AbortSignal | undefined, child: AbortSignal): void {
  const listener = parent && listeners.get(parent);
  if (listener) listeners.set(child, listener);
}

/** Reports a wait a person would notice (a second or more) to the listener of the call `signal` belongs to. */
export function reportWait(signal: AbortSignal | undefined, ms: number, message: (seconds: number) => string): void {
  if (ms < 1000 || !signal) return;
  listeners.get(signal)?.(message(Math.ceil(ms / 1000)), ms);
}
