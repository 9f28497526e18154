import { getEventListeners, setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { linkedSignal } from '../../src/dynamics/signals.js';
import { reportWait, reportWaitsOf } from '../../src/dynamics/waits.js';

describe('linkedSignal: one request attempt, cancelled by its caller or its time limit', () => {
  it("aborts with the caller's reason when the caller cancels", () => {
    const caller = new AbortController();
    const link = linkedSignal(caller.signal, 60_000);
    caller.abort(new Error('user pressed stop'));
    expect(link.signal.aborted).toBe(true);
    expect((link.signal.reason as Error).message).toBe('user pressed stop');
    link.done();
  });

  it('aborts with a TimeoutError when the time runs out', async () => {
    const link = linkedSignal(undefined, 20);
    await sleep(60);
    expect(link.signal.aborted).toBe(true);
    expect((link.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it("once done, leaves nothing on a long-lived caller signal and never fires (a paged read's signal sees thousands of requests)", async () => {
    const caller = new AbortController();
    // a thousand at once on purpose: Node's leak warning is for accidents
    setMaxListeners(1000, caller.signal);
    const links = Array.from({ length: 1000 }, () => linkedSignal(caller.signal, 20));
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1000);
    for (const l of links) l.done();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    await sleep(60);
    caller.abort();
    expect(links.some((l) => l.signal.aborted)).toBe(false);
  });

  it('is aborted from the start when the caller already gave up; abort() stops it without touching the caller', () => {
    const gone = new AbortController();
    gone.abort('earlier');
    expect(linkedSignal(gone.signal).signal.reason).toBe('earlier');
    const caller = new AbortController();
    const link = linkedSignal(caller.signal);
    link.abort();
    expect(link.signal.aborted).toBe(true);
    expect(caller.signal.aborted).toBe(false);
    link.done();
  });
});

describe('waits reported to the call a signal belongs to', () => {
  it('a signal derived for an attempt or a page reports to the call; short waits and other calls do not', () => {
    const call = new AbortController();
    const heard: string[] = [];
    reportWaitsOf(call.signal, (m) => heard.push(m));
    const page = linkedSignal(call.signal);
    const attempt = linkedSignal(page.signal, 30_000);
    reportWait(attempt.signal, 2500, (s) => `waiting ${s} s`);
    reportWait(attempt.signal, 400, (s) => `waiting ${s} s`); // under a second: not worth a word
    reportWait(new AbortController().signal, 5000, (s) => `another call ${s} s`);
    reportWait(undefined, 5000, (s) => `no call ${s} s`);
    attempt.done();
    page.done();
    expect(heard).toEqual(['waiting 3 s']);
  });
});
