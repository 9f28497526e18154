import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  InitializeRequestSchema,
  type JSONRPCErrorResponse,
  JSONRPCRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  PingRequestSchema,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  keys?: string[];
}
interface Checker {
  safeParse(value: unknown): { success: true } | { success: false; error: { issues: Issue[] } };
}

/**
 * The schemas the SDK parses each method's request with before any handler runs: the same schemas, so a
 * request passes here exactly when it would pass there. Methods we do not serve are left to the SDK (-32601).
 */
const METHODS = new Map<string, Checker>(
  (
    [
      ['initialize', InitializeRequestSchema],
      ['ping', PingRequestSchema],
      ['tools/list', ListToolsRequestSchema],
      ['tools/call', CallToolRequestSchema],
      ['resources/list', ListResourcesRequestSchema],
      ['resources/templates/list', ListResourceTemplatesRequestSchema],
      ['resources/read', ReadResourceRequestSchema],
      ['prompts/list', ListPromptsRequestSchema],
      ['prompts/get', GetPromptRequestSchema],
      ['logging/setLevel', SetLevelRequestSchema],
      ['completion/complete', CompleteRequestSchema],
    ] as const
  ).map(([method, schema]) => [method, schema as unknown as Checker]),
);
const ENVELOPE = JSONRPCRequestSchema as unknown as Checker;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
// any JSON-RPC id we can echo (MCP wants integers, so 1.5 is answered as malformed rather than left waiting)
const isId = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

/**
 * The answer to a request the SDK cannot use, or undefined when the message is fine (or is not a request we
 * could answer: no method or no usable id). Without this, the SDK answers a request with params of the wrong
 * shape with -32603 "internal error" and zod's issue list as the message, and a request whose envelope is
 * wrong (say `_meta` as a string, or an unknown top-level member) with nothing at all: the client waits for
 * ever. The MCP specification counts "malformed requests that fail to satisfy the request schema (e.g.
 * CallToolRequest)" among protocol errors (server/tools, Error Handling), so this answers -32602, or -32600
 * for the envelope, with what was wrong in words.
 */
export function malformedRequestAnswer(message: unknown): JSONRPCErrorResponse | undefined {
  const envelope = invalidEnvelopeAnswer(message);
  if (envelope || !isRecord(message) || typeof message.method !== 'string' || !isId(message.id)) return envelope;
  const checked = METHODS.get(message.method)?.safeParse(message);
  if (!checked || checked.success) return undefined;
  return errorAnswer(
    message,
    ErrorCode.InvalidParams,
    `Invalid params for ${message.method}: ${describe(checked.error.issues, message)}.`,
  );
}

/**
 * The -32600 answer for a request whose JSON-RPC envelope is wrong (see above), or undefined. On its own for
 * HTTP, where the SDK's transport parses the envelope before any handler and would answer only
 * "Invalid JSON-RPC message"; the params are checked per request once the server has the message.
 */
export function invalidEnvelopeAnswer(message: unknown): JSONRPCErrorResponse | undefined {
  if (!isRecord(message) || typeof message.method !== 'string' || !isId(message.id)) return undefined;
  const envelope = ENVELOPE.safeParse(message);
  if (envelope.success) return undefined;
  return errorAnswer(
    message,
    ErrorCode.InvalidRequest,
    `Invalid request: ${describe(envelope.error.issues, message)}.`,
  );
}

function errorAnswer(message: Record<string, unknown>, code: number, text: string): JSONRPCErrorResponse {
  return { jsonrpc: '2.0', id: message.id as string | number, error: { code, message: text } };
}

/** Connects the server, then answers malformed requests before the SDK sees them (see above). */
export async function connectServer(server: McpServer, transport: Transport): Promise<void> {
  await server.connect(transport);
  const deliver = transport.onmessage;
  if (!deliver) return;
  transport.onmessage = (message, extra) => {
    const answer = malformedRequestAnswer(message);
    if (!answer) return deliver(message, extra);
    transport.send(answer).catch((err: Error) => transport.onerror?.(err));
  };
}

const TYPE_NAMES: Record<string, string> = {
  record: 'an object',
  object: 'an object',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
};

function kindOf(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v = root;
  for (const key of path) v = isRecord(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** JSON text where an object belongs: the usual slip of a client that forwards a model's raw tool call. */
function holdsJsonObject(v: unknown): boolean {
  if (typeof v !== 'string' || !v.trimStart().startsWith('{')) return false;
  try {
    return isRecord(JSON.parse(v));
  } catch {
    return false;
  }
}

function describe(issues: Issue[], root: unknown): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'the message';
      if (issue.code === 'unrecognized_keys' && issue.keys)
        return `${where} has members a JSON-RPC request cannot have: ${issue.keys.join(', ')}`;
      if (issue.code !== 'invalid_type' || !issue.expected) return `${where} is not valid (${issue.message})`;
      const got = valueAt(root, issue.path);
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      const hint = holdsJsonObject(got) ? ' (it holds JSON text: send the object itself, not a string)' : '';
      return got === undefined ? `${where} is required` : `${where} must be ${expected}, not ${kindOf(got)}${hint}`;
    })
    .join('; ');
}
