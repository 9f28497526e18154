import { isLookupRef, type Store } from '../store/store.js';
import { DataverseError } from './errors.js';

/**
 * The states in which an activity is still to be done: Open, and an appointment's Scheduled (ActivityPointer's
 * statecode: 0 Open, 1 Completed, 2 Canceled, 3 Scheduled). GUESS: that Scheduled counts as open for this rule;
 * the error names "open activities" without saying which states.
 */
const OPEN = new Set([0, 3]);

/**
 * A case is closed only once its activities are: resolving one with an activity still open regarding it is
 * refused (ERRCODES 0x8004440a unManagedidsincidentcannotclose, "The incident can not be closed because there
 * are open activities for this incident."), and so is cancelling one (0x8004440e IncidentCannotCancel; the
 * Customer Service guide: "All case activities must be closed before you can cancel a case"). Dynamics' Resolve
 * Case dialog asks the user and cancels them first; an API caller must close them itself.
 */
export function assertNoOpenActivities(store: Store, incidentId: string, closing: 'resolve' | 'cancel'): void {
  for (const a of store.table('activitypointer').rows.values()) {
    const regarding = a.regardingobjectid;
    if (!isLookupRef(regarding) || regarding.id !== incidentId || !OPEN.has(a.statecode as number)) continue;
    throw closing === 'resolve'
      ? new DataverseError(
          400,
          '0x8004440a',
          'The incident can not be closed because there are open activities for this incident.',
        )
      : new DataverseError(
          400,
          '0x8004440e',
          'The incident can not be cancelled because there are open activities for this incident.',
        );
  }
}
