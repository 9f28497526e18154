import { isLookupRef, type Row } from '../store/store.js';
import { DataverseError } from './errors.js';
import type { WriteContext } from './writes.js';

/**
 * An account's Parent Account may not be the account itself or one below it in its hierarchy (its child, a
 * child's child …): ERRCODES AccountLoopBeingCreated, 0x80040507, "Creating this parental association would
 * create a loop in Accounts hierarchy." Its HTTP status (400, as other refusals of a write) is a GUESS. A parent
 * unchanged by the write is not looked at again.
 */
export function checkParentAccount(ctx: WriteContext, id: string, row: Row, before?: Row): void {
  const parent = row.parentaccountid;
  if (!isLookupRef(parent)) return;
  if (isLookupRef(before?.parentaccountid) && before.parentaccountid.id === parent.id) return;
  const accounts = ctx.env.store.table('account');
  // up from the new parent: reaching this account is a loop (a loop already there above it is not walked twice)
  const seen = new Set<string>();
  for (let at: string | undefined = parent.id; at && !seen.has(at); ) {
    if (at === id)
      throw new DataverseError(
        400,
        '0x80040507',
        'Creating this parental association would create a loop in Accounts hierarchy.',
      );
    seen.add(at);
    const above: Row[string] | undefined = accounts.get(at)?.parentaccountid;
    at = isLookupRef(above) ? above.id : undefined;
  }
}
