import type { AuditWriter } from '../../audit.js';
import { DynamicsMcpError } from '../../errors.js';
import type { ToolContext, ToolDefinition } from '../define.js';

/**
 * A write that reached Dynamics and was refused (a missing privilege, a duplicate rule, a closed record) or
 * whose outcome is unknown (the connection failed, the deadline passed) is audited as such: an administrator
 * reading the audit log sees what the assistant tried, not only what it managed. Input refused before anything
 * was sent is the model's slip, answered to it, and not a write.
 */
/**
 * Errors whose writes were audited one by one already: a list whose every record Dynamics refused alike is
 * answered as one error (eachOf), which the call's error boundary must not audit again as a record with the
 * list's ids run together.
 */
const auditedEach = new WeakSet<Error>();
export const auditedItemByItem = <E extends Error>(err: E): E => {
  auditedEach.add(err);
  return err;
};

export async function auditRefusal(
  audit: AuditWriter,
  tool: Pick<ToolDefinition, 'name' | 'audited'>,
  args: Record<string, unknown>,
  ctx: Pick<ToolContext, 'caller' | 'recordId' | 'recordTable'>,
  err: unknown,
): Promise<void> {
  if (!tool.audited || !(err instanceof DynamicsMcpError) || auditedEach.has(err)) return;
  const unknown = err.kind === 'network' || err.kind === 'timeout';
  if (err.details.status === undefined && !unknown) return;
  const what = tool.audited(args, ctx);
  await audit.record({
    tool: tool.name,
    entity: what.entity,
    // a case given by its number is audited as the case it was found to be
    id: (what.id && ctx.recordId) || (what.id ?? ''),
    action: what.action,
    columns: what.columns ?? {},
    caller: ctx.caller,
    outcome: `${unknown ? 'outcome unknown' : 'refused by Dynamics'} (${err.kind}${err.details.code ? ` ${err.details.code}` : ''}): ${err.message}`,
  });
}
