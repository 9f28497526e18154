import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// "Once a day" (a note, a logged call) is the UTC day. A call whose answer is lost at 23:59:50 and that is sent
// again at 00:01 must find what the first attempt made, not make it again: just after midnight, the last
// minutes of the day before count too. The clock is moved with vitest's fake Date (timers stay real); the
// emulator, in this process, stamps createdon with the same clock.
describe('a write sent again across midnight (UTC) is made once', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  // the coming midnight, so that tokens and certificates stay as fresh as the real clock's
  const midnight = Math.ceil(Date.now() / 86_400_000) * 86_400_000;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    h = await connectInMemory(emu);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });
  const at = (ms: number) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(ms);
  };

  it("add_note: the note sent at 23:59:50 and again at 00:01 is one note; at 01:00, the next day's", async () => {
    const acc = emu.rows('account')[0]!;
    const note = { entity: 'account', id: String(acc.accountid), text: 'Sent the renewal terms' };
    const mine = () => emu.rows('annotation').filter((n) => n.notetext === note.text);
    at(midnight - 10_000);
    const first = await h.call('add_note', note);
    expect(first.isError, textOf(first)).toBeFalsy();
    at(midnight + 60_000);
    const again = await h.call('add_note', note);
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(again.structuredContent).toMatchObject({ id: first.structuredContent.id, existing: true });
    expect(mine()).toHaveLength(1);
    at(midnight + 3_600_000);
    const later = await h.call('add_note', note);
    expect(later.structuredContent.existing).toBe(false);
    expect(mine()).toHaveLength(2);
  });

  it('create_record: a call logged at 23:59:50 and again at 00:01 is one call; at 01:00, another', async () => {
    const deal = emu.rows('opportunity')[0]!;
    const call = {
      entity: 'phonecall',
      values: { subject: 'Renewal terms agreed', regardingobjectid: { entity: 'opportunity', id: deal.opportunityid } },
    };
    const mine = () => emu.rows('phonecall').filter((c) => c.subject === call.values.subject);
    at(midnight - 10_000);
    const first = await h.call('create_record', call);
    expect(first.isError, textOf(first)).toBeFalsy();
    at(midnight + 60_000);
    const again = await h.call('create_record', call);
    expect(again.structuredContent).toMatchObject({ id: first.structuredContent.id, duplicate: true });
    expect(mine()).toHaveLength(1);
    at(midnight + 3_600_000);
    const later = await h.call('create_record', call);
    expect(later.isError, textOf(later)).toBeFalsy();
    expect(later.structuredContent.duplicate).toBeFalsy();
    expect(mine()).toHaveLength(2);
  });
});
