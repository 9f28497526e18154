import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { SessionEventStore } from '../../src/transports/event-store.js';

const result = (id: number, text = 'x') =>
  ({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } }) as JSONRPCMessage;

async function replay(store: SessionEventStore, after: string): Promise<{ id: string; message: JSONRPCMessage }[]> {
  const sent: { id: string; message: JSONRPCMessage }[] = [];
  await store.replayEventsAfter(after, {
    send: async (id, message) => {
      sent.push({ id, message });
    },
  });
  return sent;
}

describe('resumable streams: the events a session keeps for a client that reconnects', () => {
  it('replays, in order, exactly the messages after the last one the client saw, on that stream only', async () => {
    const store = new SessionEventStore();
    const a1 = await store.storeEvent('a', result(1));
    await store.storeEvent('b', result(2));
    const a3 = await store.storeEvent('a', result(3, 'ünïcode ✓'));
    const a4 = await store.storeEvent('a', result(4));
    expect(await store.getStreamIdForEventId(a3)).toBe('a');
    const sent = await replay(store, a1);
    expect(sent).toEqual([
      { id: a3, message: result(3, 'ünïcode ✓') },
      { id: a4, message: result(4) },
    ]);
  });

  it('keeps at most maxBytes of JSON, dropping the oldest first, but always the newest event', async () => {
    const store = new SessionEventStore({ maxBytes: 1000, maxAgeMs: 60_000, maxEvents: 100 });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await store.storeEvent('s', result(i, 'y'.repeat(200))));
    expect(store.size().bytes).toBeLessThanOrEqual(1000);
    expect(store.size().events).toBe(3);
    await expect(replay(store, ids[0]!)).rejects.toThrow(/no longer available; start a new request/);
    expect((await replay(store, ids[7]!)).map((e) => e.id)).toEqual([ids[8], ids[9]]);
    // one event larger than the whole budget is still kept until the next one arrives
    const big = await store.storeEvent('s', result(99, 'z'.repeat(5000)));
    expect(store.size().events).toBe(1);
    expect(await store.getStreamIdForEventId(big)).toBe('s');
  });

  it('forgets events older than maxAgeMs', async () => {
    let t = 1_000_000;
    const store = new SessionEventStore({ maxBytes: 1 << 20, maxAgeMs: 60_000, maxEvents: 100 }, () => t);
    const first = await store.storeEvent('s', result(1));
    const second = await store.storeEvent('s', result(2));
    t += 30_000;
    expect((await replay(store, first)).map((e) => e.id)).toEqual([second]);
    t += 31_000;
    expect(await store.getStreamIdForEventId(first)).toBeUndefined();
    await expect(replay(store, first)).rejects.toThrow(/no longer available/);
    expect(store.size()).toEqual({ events: 0, bytes: 0 });
  });

  it('keeps at most maxEvents', async () => {
    const store = new SessionEventStore({ maxBytes: 1 << 20, maxAgeMs: 60_000, maxEvents: 5 });
    for (let i = 0; i < 12; i++) await store.storeEvent('s', result(i));
    expect(store.size().events).toBe(5);
  });
});
