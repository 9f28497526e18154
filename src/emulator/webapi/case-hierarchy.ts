import { isLookupRef, type Row } from '../store/store.js';
import { DataverseError } from './errors.js';
import type { WriteContext } from './writes.js';

/**
 * Parent and child cases, as "Incident (case) hierarchies" says the platform enforces them: one level (a child
 * cannot be a parent, a parent cannot be a child), at most 100 children, and the organisation's closure
 * preference (cascadestatusupdate: a parent closed closes its active children; restrictstatusupdate: a parent
 * is not closed while any is active). The errors' numbers are that page's; their HTTP status (400, as other
 * refusals of a write) is a GUESS.
 */
const refuse = (code: number, message: string) => new DataverseError(400, `0x${(code >>> 0).toString(16)}`, message);

const MAX_CHILDREN = 100;

/** the active (or all) cases whose parent is `id` */
function childrenOf(ctx: WriteContext, id: string, activeOnly: boolean): string[] {
  const out: string[] = [];
  for (const [childId, c] of ctx.env.store.table('incident').rows)
    if (isLookupRef(c.parentcaseid) && c.parentcaseid.id === id && (!activeOnly || c.statecode === 0))
      out.push(childId);
  return out;
}

/** A case given a parent (made with one, or its parentcaseid changed): refused where the hierarchy forbids it. */
export function checkParentCase(ctx: WriteContext, id: string, row: Row, before?: Row): void {
  const parent = row.parentcaseid;
  if (!isLookupRef(parent)) return;
  if (isLookupRef(before?.parentcaseid) && before.parentcaseid.id === parent.id) return;
  const parentRow = ctx.env.store.table('incident').get(parent.id);
  if (parentRow && isLookupRef(parentRow.parentcaseid))
    throw refuse(-2147224493, "You can't create child cases for child cases.");
  if (parent.id === id || childrenOf(ctx, id, false).length)
    throw refuse(-2147224491, "You can't add a parent case as a child case.");
  if (childrenOf(ctx, parent.id, false).filter((c) => c !== id).length >= MAX_CHILDREN)
    throw refuse(
      -2147224492,
      'A Parent Case cannot have more than 100 child cases. Contact your administrator for more details.',
    );
}

/**
 * A case about to be resolved or canceled (statecode 0 → 1 or 2): refused while it has active children where
 * the organisation restricts that, or its active children closed the same way where it cascades (GUESS: with
 * the parent's status reason, and no Case Resolution of their own).
 */
export function closeChildCases(
  ctx: WriteContext,
  id: string,
  change: { statecode: number; statuscode: unknown },
  close: (childId: string, change: { statecode: number; statuscode: unknown }) => void,
): void {
  const active = childrenOf(ctx, id, true);
  if (!active.length) return;
  const org = ctx.env.store.table('organization').rows.values().next().value as Row | undefined;
  if (org?.restrictstatusupdate === true)
    throw refuse(-2147224495, `You can't resolve the parent case because it has ${active.length} active child cases.`);
  if (org?.cascadestatusupdate === true) for (const child of active) close(child, change);
}
