import { type CallToolResult, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { DynamicsMcpError } from '../../errors.js';
import type { Logger } from '../../logging.js';
import type { SecretScrubber } from '../../secrets.js';

/** The words a failure is told in: what went wrong and how to recover; never a stack or a secret. */
function explain(
  err: unknown,
  what: string,
  log: Logger,
  scrubber: SecretScrubber,
): { text: string; known?: DynamicsMcpError } {
  if (err instanceof DynamicsMcpError) {
    log.info({ what, kind: err.kind, status: err.details.status, code: err.details.code }, 'call failed');
    const lines = [`Error (${err.kind}): ${err.message}`, `How to fix: ${err.hint}`];
    // said once: most hints name the closest names already ("Did you mean: industrycode?")
    const names = err.details.suggestions ?? [];
    if (names.length && !names.every((n) => err.hint.includes(n))) lines.push(`Closest names: ${names.join(', ')}`);
    if (err.details.retryAfterMs) lines.push(`Retry after: ${Math.ceil(err.details.retryAfterMs / 1000)} seconds`);
    return { text: scrubber.scrub(lines.join('\n')), known: err };
  }
  const ref = Math.random().toString(36).slice(2, 10);
  log.error({ what, ref, err }, 'unexpected error');
  return {
    text: `Error (internal): dynamics-mcp failed unexpectedly (reference ${ref}). How to fix: try again; if it repeats, report the reference to the administrator.`,
  };
}

/**
 * The single error boundary: any failure → an MCP tool result with isError, a plain message and a hint that
 * tells the model how to recover. Never a stack trace, never a raw error object, never a secret.
 */
export function toToolResult(err: unknown, tool: string, log: Logger, scrubber: SecretScrubber): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: explain(err, tool, log, scrubber).text }] };
}

/** Kinds that mean "no such thing for you here": a resource not found, Invalid Params per SEP-2164. */
const NOT_FOUND: ReadonlySet<string> = new Set(['not_found', 'policy', 'bad_input', 'unknown_column']);

/**
 * The same boundary for requests that can only fail with a JSON-RPC error (resources/read): the same words;
 * a table that does not exist or the policy does not offer is Invalid Params, the code SEP-2164 settles on
 * for a resource not found (and the SDK uses for URIs no template matches).
 */
export function toRpcError(
  err: unknown,
  what: string,
  log: Logger,
  scrubber: SecretScrubber,
): Error & { code: number } {
  const { text, known } = explain(err, what, log, scrubber);
  // not McpError: its constructor prefixes "MCP error <code>:", and the client's McpError adds the prefix
  // again; the SDK sends any thrown error's code and message as they are
  return Object.assign(new Error(text), {
    code: known && NOT_FOUND.has(known.kind) ? ErrorCode.InvalidParams : ErrorCode.InternalError,
  });
}

export function toolSuccess(structured: Record<string, unknown>, text: string): CallToolResult {
  return { structuredContent: structured, content: [{ type: 'text', text }] };
}

/** How zod names the types it expected and received, in the words the rest of our messages use. */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

/**
 * One refused argument in words: our schemas' messages name their argument already; zod's own ("Invalid input:
 * expected number, received string") do not, and say types as TypeScript does: "top takes a number, not text".
 * `path` is where in the arguments (top, where.and.0.column).
 */
export function issueText(message: string, path: string): string {
  const type = /^Invalid input: expected (\w+), received (\w+)$/.exec(message);
  if (path && type) {
    const [, expected, received] = type as unknown as [string, string, string];
    // zod's word for an argument left out is a type error on undefined: say that it is required
    if (received === 'undefined') return `${path} is required.`;
    const want = TYPE_WORDS[expected] ?? expected;
    // a number with a fraction where a whole one is wanted: "not a number" would be wrong
    return expected === 'int'
      ? `${path} takes ${want}.`
      : `${path} takes ${want}, not ${TYPE_WORDS[received] ?? received}.`;
  }
  // zod's bounds ("Too big: expected string to have <=100 characters"): what the argument takes, in words
  const bound = /^Too (big|small): expected (\w+) to (?:have|be) ([<>]=?)(-?[\d.]+)(?: (\w+))?$/.exec(message);
  if (path && bound) {
    const [, , kind, op, n, unit] = bound as unknown as [string, string, string, string, string, string?];
    const most = op.startsWith('<');
    const limit = `${op.length === 1 ? (most ? 'less than' : 'more than') : most ? 'at most' : 'at least'} ${Number(n).toLocaleString('en-US')}`;
    if (kind === 'string') return `${path} takes ${limit} characters.`;
    if (kind === 'array' || kind === 'set') return `${path} takes ${limit} ${unit ?? 'items'}.`;
    return `${path} is ${limit}.`;
  }
  if (path && /^Invalid input\.?$/.test(message))
    return `${path} is not of a type it takes (its input schema in tools/list says which).`;
  const named = !path || message.startsWith(path.split(/[.[]/)[0]!);
  return `${named ? '' : `${path}: `}${message}${/[.)]$/.test(message) ? '' : '.'}`;
}

const ARGUMENTS_REFUSED = /^MCP error -32602: Input validation error: Invalid arguments for tool (\S+): ([\s\S]*)$/;
const NO_SUCH_TOOL = /^MCP error -32602: Tool (.+) not found$/;

/**
 * What the SDK answers itself, before a tool runs (McpServer.createToolError): arguments the tool's schema
 * refuses ("MCP error -32602: Input validation error: Invalid arguments for tool x: <issue> at <path>", one
 * line per issue) and a tool that does not exist, said as every other refusal is: "Error (bad_input): …" and
 * how to fix it. Anything else is undefined, for the caller to answer as an unexpected failure.
 */
export function sdkToolError(
  message: string,
  tools: readonly string[],
  readOnly?: { writers: readonly string[]; why: string },
): CallToolResult | undefined {
  const text = (lines: string[]) => ({ isError: true, content: [{ type: 'text' as const, text: lines.join('\n') }] });
  const refused = ARGUMENTS_REFUSED.exec(message);
  if (refused) {
    const [, tool, issues] = refused as unknown as [string, string, string];
    // one cause an argument: zod may add a check's message to a type error ([] as text: "not a list", then "empty")
    const paths = new Set<string>();
    const said = issues.split('\n').flatMap((line) => {
      const at = / at ([\w.[\]]+)$/.exec(line);
      const path = at?.[1] ?? '';
      if (path && paths.has(path)) return [];
      paths.add(path);
      return [issueText(at ? line.slice(0, at.index) : line, path)];
    });
    return text([
      `Error (bad_input): ${said.join(' ')}`,
      `How to fix: Call ${tool} again with ${said.length > 1 ? 'those arguments' : 'that argument'} corrected; its input schema (tools/list) says what each one takes.`,
    ]);
  }
  const missing = NO_SUCH_TOOL.exec(message);
  // a write tool in a read-only server or session: not listed, so the SDK says it does not exist
  if (missing && readOnly?.writers.includes(missing[1]!))
    return text([
      `Error (read_only): ${missing[1]} writes, and ${readOnly.why}: nothing can be written here.`,
      `How to fix: Tell the user what you would have written; use ${tools.join(', ')} to read.`,
    ]);
  if (missing)
    return text([
      `Error (bad_input): There is no tool '${missing[1]}'.`,
      `How to fix: Use one of this server's tools: ${tools.join(', ')}.`,
    ]);
  // anything else failed where the tool's own error boundary does not reach (a check inside an argument's
  // schema that threw, a result that did not match the output schema): the caller answers it as unexpected
  return undefined;
}
