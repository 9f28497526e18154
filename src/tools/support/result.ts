import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { DynamicsMcpError } from '../../errors.js';
import type { Logger } from '../../logging.js';
import type { SecretScrubber } from '../../secrets.js';

/**
 * The single error boundary: any failure → an MCP tool result with isError, a plain message and a hint that
 * tells the model how to recover. Never a stack trace, never a raw error object, never a secret.
 */
export function toToolResult(err: unknown, tool: string, log: Logger, scrubber: SecretScrubber): CallToolResult {
  if (err instanceof DynamicsMcpError) {
    log.info({ tool, kind: err.kind, status: err.details.status, code: err.details.code }, 'tool failed');
    const lines = [`Error (${err.kind}): ${err.message}`, `How to fix: ${err.hint}`];
    if (err.details.suggestions?.length) lines.push(`Closest names: ${err.details.suggestions.join(', ')}`);
    if (err.details.retryAfterMs) lines.push(`Retry after: ${Math.ceil(err.details.retryAfterMs / 1000)} seconds`);
    return { isError: true, content: [{ type: 'text', text: scrubber.scrub(lines.join('\n')) }] };
  }
  const ref = Math.random().toString(36).slice(2, 10);
  log.error({ tool, ref, err }, 'unexpected error in tool');
  return {
    isError: true,
    content: [
      {
        type: 'text',
        text: `Error (internal): dynamics-mcp failed unexpectedly (reference ${ref}). How to fix: try again; if it repeats, report the reference to the administrator.`,
      },
    ],
  };
}

export function toolSuccess(structured: Record<string, unknown>, text: string): CallToolResult {
  return { structuredContent: structured, content: [{ type: 'text', text }] };
}
