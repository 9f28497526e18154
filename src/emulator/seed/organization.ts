import type { Store } from '../store/store.js';

/**
 * The organisation's row. Its fiscal year is the calendar year, entered at midnight UTC, named by the year it
 * starts in, and its weeks start on Sunday: the settings of a new organisation left as they come. Tests change them with
 * configure({ organization }).
 */
export function seedOrganization(store: Store, organizationId: string): void {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  store.table('organization').put(organizationId, {
    organizationid: organizationId,
    name: 'Contoso',
    fiscalcalendarstart: '2020-01-01T00:00:00Z',
    fiscalyeardisplaycode: 1,
    weekstartdaycode: 0,
    isduplicatedetectionenabled: true,
    isduplicatedetectionenabledforonlinecreateupdate: true,
    // no closure preference for parent and child cases (GUESS: the setting's default is unselected)
    cascadestatusupdate: false,
    restrictstatusupdate: false,
    createdon: now,
    modifiedon: now,
    createdby: null,
    modifiedby: null,
    versionnumber: store.nextVersion(),
  });
}
