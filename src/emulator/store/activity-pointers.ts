import type { Derived, Row } from './store.js';

/**
 * The activity tables the emulator has: each of their rows is also an ActivityPointer row. A Case Resolution
 * and an Opportunity Close are activities too (written by the closing actions); what they close is their
 * incidentid / opportunityid, not a Regarding, so theirs is empty.
 */
const ACTIVITIES = new Set(['task', 'phonecall', 'email', 'appointment', 'incidentresolution', 'opportunityclose']);

/** The columns an ActivityPointer row shares with its activity (the rest are the activity's own). */
const SHARED = [
  'subject',
  'description',
  'scheduledstart',
  'scheduledend',
  'actualend',
  'actualdurationminutes',
  'prioritycode',
  'regardingobjectid',
  'statecode',
  'createdon',
  'modifiedon',
  'createdby',
  'modifiedby',
  'ownerid',
  'owninguser',
  'owningteam',
  'versionnumber',
] as const;

/**
 * ActivityPointer as Dataverse keeps it: one row per activity, with the same ActivityId and the activity's
 * table as ActivityTypeCode ("Whenever you create an activity record … a corresponding activity pointer record
 * is created"). Values are the activity's own (shared, not copied: a string or lookup object is one object).
 */
export const ACTIVITY_POINTERS: Derived = {
  target: 'activitypointer',
  sources: ACTIVITIES,
  project(source: string, row: Row): Row {
    const out: Row = { activityid: row.activityid ?? null, activitytypecode: source };
    for (const c of SHARED) out[c] = row[c] ?? null;
    return out;
  },
};
