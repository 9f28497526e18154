import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { closest } from '../policy/suggest.js';
import type { ServerDeps } from '../server.js';
import { createServer } from '../server.js';

export interface CallOutcome {
  ok: boolean;
  /** what to print: the structured result as JSON, or the error text */
  output: string;
}

/** Runs one tool through a real MCP client and server in this process: `dynamics-mcp call <tool> '<json>'`. */
export async function callTool(
  deps: ServerDeps,
  tool: string,
  argsJson: string | undefined,
  onProgress: (message: string) => void = () => {},
): Promise<CallOutcome> {
  let args: Record<string, unknown> = {};
  if (argsJson?.trim()) {
    try {
      const parsed = JSON.parse(argsJson) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      args = parsed as Record<string, unknown>;
    } catch (err) {
      return {
        ok: false,
        output: `The arguments must be a JSON object, e.g. '{"entity":"account","top":3}' (${(err as Error).message}).`,
      };
    }
  }
  const server = createServer(deps, { caller: 'cli' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'dynamics-mcp-cli', version: '1' });
  await server.connect(a);
  await client.connect(b);
  try {
    const { tools } = await client.listTools();
    if (!tools.some((t) => t.name === tool)) {
      const meant = closest(
        tool,
        tools.map((t) => t.name),
        1,
      )[0];
      return {
        ok: false,
        output: `No tool '${tool}'${meant ? ` (did you mean ${meant}?)` : ''}. Tools: ${tools.map((t) => t.name).join(', ')}.`,
      };
    }
    const r = (await client.callTool({ name: tool, arguments: args }, undefined, {
      onprogress: (p) => onProgress(`${p.message ?? ''} (${p.progress}${p.total ? `/${p.total}` : ''})`),
      resetTimeoutOnProgress: true,
      timeout: 600_000,
    })) as {
      isError?: boolean;
      structuredContent?: unknown;
      content: { type: string; text?: string }[];
    };
    if (r.isError) return { ok: false, output: r.content.map((c) => c.text ?? '').join('\n') };
    return { ok: true, output: JSON.stringify(r.structuredContent ?? r.content, null, 2) };
  } finally {
    await client.close();
    await server.close();
  }
}
