import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { ALL_TOOLS } from '../../src/tools/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness } from '../helpers/mcp.js';

// Practice 1–2 of DESIGN.md: every tool has complete, consistent hints, a description that says when to use
// it, an object input schema (no top-level union), and a JSON-schema snapshot so any change to what the model
// sees shows up in review.
describe('tool registry', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 5 });
    h = await connectInMemory(emu);
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  it('lists exactly the contract tools', async () => {
    const { tools } = await h.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        'create_case',
        'create_lead',
        'describe_entity',
        'get_record',
        'pipeline_summary',
        'query_entities',
        'update_record',
      ].sort(),
    );
  });

  it.each(ALL_TOOLS.map((t) => [t.name, t] as const))('%s: hints, description and schema shape', async (name, def) => {
    const { tools } = await h.client.listTools();
    const t = tools.find((x) => x.name === name)!;
    const a = t.annotations!;
    for (const k of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const)
      expect(typeof a[k]).toBe('boolean');
    if (a.readOnlyHint) expect(a.destructiveHint).toBe(false);
    expect(a.readOnlyHint).toBe(!def.writes);
    expect(a.openWorldHint).toBe(true);
    expect(t.description!.length).toBeGreaterThan(80);
    expect(t.description!.length).toBeLessThan(600);
    expect(t.inputSchema.type).toBe('object');
    expect(t.inputSchema).not.toHaveProperty('anyOf');
    expect(t.outputSchema?.type).toBe('object');
    expect(t.title).toBeTruthy();
    await expect(
      JSON.stringify(
        {
          name: t.name,
          title: t.title,
          description: t.description,
          inputSchema: t.inputSchema,
          outputSchema: t.outputSchema,
          annotations: t.annotations,
        },
        null,
        2,
      ),
    ).toMatchFileSnapshot(`./__toolsnaps__/${name}.json`);
  });

  it('read-only mode lists no write tools', async () => {
    const ro = await connectInMemory(emu, { env: { DYNAMICS_MCP_READ_ONLY: 'true' } });
    const { tools } = await ro.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'describe_entity',
      'get_record',
      'pipeline_summary',
      'query_entities',
    ]);
    expect(tools.every((t) => t.annotations?.readOnlyHint)).toBe(true);
    const r = await ro.call('create_lead', { lastName: 'x' });
    expect(r.isError).toBe(true);
    await ro.close();
  });
});
