import type { z } from 'zod';
import type { AuditEntry, AuditWriter } from '../audit.js';
import type { Config } from '../config/schema.js';
import type { DynamicsClient } from '../dynamics/client.js';
import type { Logger } from '../logging.js';
import type { Policy } from '../policy/policy.js';
import type { KeyedMutex } from './support/dedupe.js';

/** What a tool handler may use. Tools never build URLs or touch HTTP: they call the client. */
export interface ToolContext {
  client: DynamicsClient;
  policy: Policy;
  config: Readonly<Config>;
  log: Logger;
  /** the audit log, each entry naming this call */
  audit: AuditWriter;
  signal: AbortSignal;
  /** progress notifications, when the caller asked for them */
  progress(progress: number, total: number | undefined, message: string): Promise<void>;
  /** asks the user through MCP elicitation; 'unsupported' when the client cannot be asked */
  confirm(message: string): Promise<'accept' | 'decline' | 'cancel' | 'unsupported'>;
  /** who is calling: the authenticated user or app in hosted mode, 'local' over stdio */
  caller: string;
  /** per-key locks shared by all sessions of this server (check-then-create) */
  locks: KeyedMutex;
  /**
   * The record the call's `id` argument was found to be, where it was no id (a case number or a name looked
   * up): the audit of a write Dynamics refuses names the record, not the text as given. Set by recordIdOf.
   */
  recordId?: string;
  /** that record's name, where it was given by name: the answer says which record was taken */
  recordName?: string;
  /** that record's table, where no table was given and the record was found in one (recordAnywhere) */
  recordTable?: string;
}

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds tools of every input and output shape
export type AnyObject = z.ZodObject<any>;
/** A tool's arguments: an object schema, possibly behind a preprocessing step (see support/args.ts) */
export type AnyArgs = z.ZodType<Record<string, unknown>>;

export interface ToolDefinition<In extends AnyArgs = AnyArgs, Out extends AnyObject = AnyObject> {
  name: string;
  title: string;
  /** when to use it, and which tool supplies its inputs */
  description: string;
  inputSchema: In;
  outputSchema: Out;
  annotations: ToolAnnotations;
  /** write tools disappear in read-only mode */
  writes: boolean;
  /** listed only where this holds of the policy (delete_record: where some table may be deleted from) */
  offered?: (policy: Policy) => boolean;
  /**
   * For a write tool: the record a call writes, as its arguments name it, so that a write Dynamics refused (or
   * whose outcome is unknown) is audited too (server.ts), not only the writes made. `found` is what the call
   * found the record to be where its arguments did not say (the table of a record given without one).
   */
  audited?: (
    args: Record<string, unknown>,
    found: Pick<ToolContext, 'recordTable'>,
  ) => {
    entity: string;
    id?: string;
    action: AuditEntry['action'];
    columns?: Record<string, unknown>;
  };
  /** `json`: the structured result's JSON, when the tool has made it already (the boundary scans it for secrets) */
  run(args: z.infer<In>, ctx: ToolContext): Promise<{ structured: z.infer<Out>; text: string; json?: string }>;
}

export const defineTool = <In extends AnyArgs, Out extends AnyObject>(
  def: ToolDefinition<In, Out>,
): ToolDefinition<In, Out> => def;
