import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface EventStoreLimits {
  /** JSON kept per session, in characters (about bytes); the newest event is kept whatever its size */
  maxBytes: number;
  /** how long a missed event can still be replayed */
  maxAgeMs: number;
  maxEvents: number;
}

/**
 * A session holds 1 MiB of recent messages for at most five minutes: a reconnect after a dropped connection
 * comes within seconds, while a count alone let one session keep 1,000 results of up to ~400 KB each.
 */
export const DEFAULT_EVENT_LIMITS: EventStoreLimits = { maxBytes: 1 << 20, maxAgeMs: 5 * 60_000, maxEvents: 1000 };

interface StoredEvent {
  id: string;
  streamId: string;
  /** the message as JSON: a third or less of the memory of the object it came from */
  json: string;
  at: number;
}

/**
 * Resumable streams for one session: recent events, so a client that lost its SSE connection can reconnect
 * with Last-Event-ID and receive what it missed. Bounded in bytes, age and count; dropped with the session.
 */
export class SessionEventStore implements EventStore {
  private readonly events: StoredEvent[] = [];
  private bytes = 0;
  private seq = 0;

  constructor(
    private readonly limits: EventStoreLimits = DEFAULT_EVENT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}_${++this.seq}`;
    const json = JSON.stringify(message);
    this.events.push({ id, streamId, json, at: this.now() });
    this.bytes += json.length;
    this.trim();
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    this.trim();
    return this.events.find((e) => e.id === eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    this.trim();
    const i = this.events.findIndex((e) => e.id === lastEventId);
    if (i < 0) throw new Error('That event is no longer available; start a new request.');
    const streamId = this.events[i]!.streamId;
    for (const e of this.events.slice(i + 1))
      if (e.streamId === streamId) await send(e.id, JSON.parse(e.json) as JSONRPCMessage);
    return streamId;
  }

  /** events held and their JSON size (for tests and diagnostics) */
  size(): { events: number; bytes: number } {
    return { events: this.events.length, bytes: this.bytes };
  }

  private trim(): void {
    const { maxBytes, maxAgeMs, maxEvents } = this.limits;
    const oldest = this.now() - maxAgeMs;
    while (
      this.events.length > 0 &&
      (this.events.length > maxEvents ||
        this.events[0]!.at < oldest ||
        (this.bytes > maxBytes && this.events.length > 1))
    )
      this.bytes -= this.events.shift()!.json.length;
  }
}
