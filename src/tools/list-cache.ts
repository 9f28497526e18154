import { toJsonSchemaCompat } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js';
import type { ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolDefinition } from './define.js';

/**
 * The tools/list answer, built once per process and mode. The SDK converts every zod schema to JSON Schema
 * on every tools/list; with a server per session (or per request, stateless), hundreds of clients
 * connecting at once would each pay for that conversion. The shape matches the SDK's own answer (the
 * schema snapshots in test/tools/__toolsnaps__ would show any difference).
 */
export function buildToolList(tools: ToolDefinition[]): ListToolsResult {
  return {
    tools: tools.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: toJsonSchemaCompat(t.inputSchema, {
        strictUnions: true,
        pipeStrategy: 'input',
      }) as ListToolsResult['tools'][number]['inputSchema'],
      annotations: t.annotations,
      execution: { taskSupport: 'forbidden' },
      outputSchema: toJsonSchemaCompat(t.outputSchema, {
        strictUnions: true,
        pipeStrategy: 'output',
      }) as ListToolsResult['tools'][number]['outputSchema'],
    })),
  };
}
