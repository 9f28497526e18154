import type { Derived, Row } from './store.js';

/**
 * The activity tables the emulator has: each of their rows is also an ActivityPointer row. A Case Resolution
 * and an Opportunity Close are activities too (written by the closing actions); what they close is their
 * incidentid / opportunityid, not a Regarding, so theirs is empty.
 */
const ACTIVITIES = new Set(['task', 'phonecall', 'email', 'appointment', 'incidentresolution', 'opportunityclose']);

/**
 * ActivityPointer as Dataverse keeps it: one row per activity, with the same ActivityId and the activity's
 * table as ActivityTypeCode ("Whenever you create an activity record … a corresponding activity pointer record
 * is created"). Values are the activity's own (shared, not copied: a string or lookup object is one object).
 */
export const ACTIVITY_POINTERS: Derived = {
  target: 'activitypointer',
  sources: ACTIVITIES,
  // the columns an ActivityPointer row shares with its activity (the rest are the activity's own), in one literal:
  // a row built by a store per column, with the owner's owninguser and owningteam too, took ~140 MB more for the
  // seeded organisation's activities than one whose properties V8 lays out together
  project(source: string, row: Row): Row {
    return {
      activityid: row.activityid ?? null,
      activitytypecode: source,
      subject: row.subject ?? null,
      description: row.description ?? null,
      scheduledstart: row.scheduledstart ?? null,
      scheduledend: row.scheduledend ?? null,
      actualend: row.actualend ?? null,
      actualdurationminutes: row.actualdurationminutes ?? null,
      prioritycode: row.prioritycode ?? null,
      regardingobjectid: row.regardingobjectid ?? null,
      statecode: row.statecode ?? null,
      createdon: row.createdon ?? null,
      modifiedon: row.modifiedon ?? null,
      createdby: row.createdby ?? null,
      modifiedby: row.modifiedby ?? null,
      ownerid: row.ownerid ?? null,
      owninguser: row.owninguser ?? null,
      owningteam: row.owningteam ?? null,
      versionnumber: row.versionnumber ?? null,
    };
  },
};
