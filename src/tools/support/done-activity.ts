import type { WriteValues } from '../../dynamics/client.js';
import { DynamicsMcpError } from '../../errors.js';
import { type EntityModel, writtenColumn } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { compactRow } from './shape.js';
import { askedState, completedCallReason } from './state-change.js';

const STATE_COLUMNS = new Set(['statecode', 'statuscode']);

/**
 * An activity said to be done already ("log the call I just had", "a task I did this morning"): Dynamics makes
 * every record in its first state (StateCode is not valid for create), so a state (or status reason) asked on
 * create is taken out of the create and written after it; the first state alone is just left out. Other tables
 * keep it in the values, where the create refuses it with how to go on.
 */
export function stateAfterCreate(
  model: EntityModel,
  values: WriteValues,
): { values: WriteValues; state?: WriteValues; asked?: number } {
  if (model.primaryIdAttribute !== 'activityid') return { values };
  const isState = (k: string) => STATE_COLUMNS.has(writtenColumn(model, k)?.logicalName ?? '');
  const state = Object.fromEntries(Object.entries(values).filter(([k]) => isState(k)));
  const asked = Object.keys(state).length ? askedState(model, state, {})?.state : undefined;
  if (asked === undefined) return { values };
  const rest = Object.fromEntries(Object.entries(values).filter(([k]) => !isState(k)));
  // the first state alone is where every record starts: nothing to write after
  const reason = Object.keys(state).some((k) => writtenColumn(model, k)?.logicalName === 'statuscode');
  if (asked === 0 && !reason) return { values: rest };
  return { values: rest, state, asked };
}

/**
 * Writes the state asked on create to the activity made or found (as update_record does: a call completed
 * without a reason is Made, or Received if it came in), and says it as "Completed (1)". One already in that
 * state, asked again, is left as it is. A refusal says the record exists and how to finish it.
 */
export async function writeStateAfterCreate(
  ctx: ToolContext,
  model: EntityModel,
  id: string,
  state: WriteValues,
  asked: number,
  found: boolean,
): Promise<{ statecode?: unknown; statuscode?: unknown }> {
  const logical = model.logicalName;
  const said = (row: Record<string, unknown>) => {
    const shown = compactRow(model, row);
    return { statecode: shown.statecode, statuscode: shown.statuscode };
  };
  const current = () =>
    ctx.client
      .get(logical, id, { select: ['statecode', 'statuscode'], signal: ctx.signal })
      .then((r) => r.row)
      .catch(() => undefined);
  // found rather than made (a retry, the model repeating itself): done already, it is left as it is
  if (found) {
    const now = await current();
    if (now && now.statecode === asked) return said(now);
  }
  try {
    // a reason alone says its state: both are sent, as Dynamics asks ("always set the desired statuscode as well")
    const withState = Object.keys(state).some((k) => writtenColumn(model, k)?.logicalName === 'statecode')
      ? state
      : { ...state, statecode: asked };
    const changes = await completedCallReason(ctx, model, id, withState);
    const r = await ctx.client.update(logical, id, changes, { signal: ctx.signal });
    await ctx.audit.record({
      tool: 'create_record',
      entity: logical,
      id,
      action: 'update',
      columns: changes,
      caller: ctx.caller,
    });
    return said(r.row);
  } catch (err) {
    const now = await current();
    if (now && now.statecode === asked) return said(now);
    const why = err instanceof DynamicsMcpError ? err : undefined;
    throw new DynamicsMcpError(
      why?.kind ?? 'server',
      `The ${logical} is there (${id}), but its state was not set: ${why?.message ?? 'the update failed'}`,
      `Set it with update_record on ${logical} ${id} with ${JSON.stringify(state)}; do not create it again.`,
      why?.details ?? {},
    );
  }
}
