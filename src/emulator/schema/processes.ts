import { date, entity, int, lookup, picklist, stateAndStatus, str } from './build.js';
import type { AttributeDef } from './types.js';

// Business process flows ("Work with business process flows using code"): a flow's definition is a workflow row
// (category 4), its stages are processstage rows, and each record running it has an instance in the flow's own
// table; for deals that is Opportunity Sales Process (opportunitysalesprocess), the bar across the top of the
// opportunity form. The instance's active stage and its traversed path (the stages visited, in order) are what the
// bar shows; moving the bar is an update of them.

/** A process definition (Process table reference), read only here: the emulator's one is the Opportunity Sales Process. */
export const workflow = entity({
  logicalName: 'workflow',
  entitySetName: 'workflows',
  schemaName: 'Workflow',
  displayName: 'Process',
  displayCollectionName: 'Processes',
  primaryName: 'name',
  ownershipType: 'UserOwned',
  objectTypeCode: 4703,
  retrieveOnly: true,
  attributes: [
    str('name', 'Process Name', 100, 'SystemRequired'),
    str('uniquename', 'Unique Name', 256),
    picklist('category', 'Category', [
      [0, 'Workflow'],
      [1, 'Dialog'],
      [2, 'Business Rule'],
      [3, 'Action'],
      [4, 'Business Process Flow'],
      [5, 'Modern Flow'],
    ]),
    str('primaryentity', 'Primary Entity', 100),
    ...stateAndStatus(
      [
        [0, 'Draft', 1],
        [1, 'Activated', 2],
      ],
      [
        [1, 'Draft', 0],
        [2, 'Activated', 1],
      ],
    ),
  ],
});

/** A stage of a process (ProcessStage table reference); its category is what a deal's Pipeline Phase is made of. */
export const processstage = entity({
  logicalName: 'processstage',
  entitySetName: 'processstages',
  schemaName: 'ProcessStage',
  displayName: 'Process Stage',
  displayCollectionName: 'Process Stages',
  primaryName: 'stagename',
  ownershipType: 'BusinessOwned',
  objectTypeCode: 4724,
  retrieveOnly: true,
  attributes: [
    str('stagename', 'Process Stage Name', 100),
    picklist('stagecategory', 'Stage Category', [
      [0, 'Qualify'],
      [1, 'Develop'],
      [2, 'Propose'],
      [3, 'Close'],
      [4, 'Identify'],
      [5, 'Research'],
      [6, 'Resolve'],
      [7, 'Approval'],
    ]),
    str('primaryentitytypecode', 'Primary Entity', 100),
    lookup('processid', 'Process', ['workflow']),
  ],
});

/**
 * A record's run of a process, in the process's own table (the OpportunitySalesProcess and
 * LeadToOpportunitySalesProcess table references): the records it runs on, its active stage, the stages it went
 * through (traversedpath, comma-separated processstage ids ending with the active one) and its state (Active;
 * Finished or Aborted, both Inactive, as the references' StatusCode options have them).
 */
function runTable(o: {
  logicalName: string;
  entitySetName: string;
  schemaName: string;
  displayName: string;
  objectTypeCode: number;
  /** the records it runs on: a deal, and for a lead's process the lead first */
  records: AttributeDef[];
}) {
  return entity({
    logicalName: o.logicalName,
    entitySetName: o.entitySetName,
    schemaName: o.schemaName,
    displayName: o.displayName,
    displayCollectionName: o.displayName,
    primaryName: 'name',
    ownershipType: 'OrganizationOwned',
    objectTypeCode: o.objectTypeCode,
    primaryId: 'businessprocessflowinstanceid',
    attributes: [
      str('name', 'Process Name', 200, 'ApplicationRequired'),
      ...o.records,
      lookup('processid', 'Process', ['workflow']),
      lookup('activestageid', 'Active Stage', ['processstage']),
      date('activestagestartedon', 'Active Stage Started On'),
      str('traversedpath', 'Traversed Path', 1250),
      date('completedon', 'Completed On'),
      { ...int('duration', 'Duration', 0), validForCreate: false, validForUpdate: false, format: 'Duration' },
      ...stateAndStatus(
        [
          [0, 'Active', 1],
          [1, 'Inactive', 2],
        ],
        [
          [1, 'Active', 0],
          [2, 'Finished', 1],
          [3, 'Aborted', 1],
        ],
      ),
    ],
  });
}

/** A deal's run of the Opportunity Sales Process. */
export const opportunitysalesprocess = runTable({
  logicalName: 'opportunitysalesprocess',
  entitySetName: 'opportunitysalesprocesses',
  schemaName: 'OpportunitySalesProcess',
  displayName: 'Opportunity Sales Process',
  objectTypeCode: 953,
  records: [lookup('opportunityid', 'Opportunity', ['opportunity'])],
});

/** A lead's run of the Lead to Opportunity Sales Process, which goes on on the deal its qualifying makes. */
export const leadtoopportunitysalesprocess = runTable({
  logicalName: 'leadtoopportunitysalesprocess',
  entitySetName: 'leadtoopportunitysalesprocesses',
  schemaName: 'LeadToOpportunitySalesProcess',
  displayName: 'Lead To Opportunity Sales Process',
  objectTypeCode: 954,
  records: [lookup('leadid', 'Lead', ['lead']), lookup('opportunityid', 'Opportunity', ['opportunity'])],
});
