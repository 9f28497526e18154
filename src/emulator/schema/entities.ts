import {
  attr,
  bool,
  date,
  entity,
  formatted,
  int,
  lookup,
  memo,
  minutes,
  money,
  PARTY_TARGETS,
  partyList,
  picklist,
  stateAndStatus,
  str,
} from './build.js';
import type { AttributeDef } from './types.js';

// Columns, option values and required levels follow the entity reference pages summarised in
// shared/reference/dataverse-webapi.md §11 (ENT-* sources); ApplicationRequired is recorded but not enforced.

const industry = picklist('industrycode', 'Industry', [
  [1, 'Accounting'],
  [2, 'Agriculture and Non-petrol Natural Resource Extraction'],
  [3, 'Broadcasting Printing and Publishing'],
  [4, 'Brokers'],
  [6, 'Business Services'],
  [7, 'Consulting'],
  [8, 'Consumer Services'],
  [9, 'Design, Direction and Creative Management'],
  [12, 'Financial'],
  [14, 'Food and Tobacco Processing'],
  [17, 'Insurance'],
  [19, 'Manufacturing'],
  [25, 'Retail'],
  [27, 'Transportation'],
  [33, 'Wholesale'],
]);

const address = (prefix = 'address1') => [
  str(`${prefix}_line1`, 'Street 1', 250),
  str(`${prefix}_city`, 'City', 80),
  str(`${prefix}_stateorprovince`, 'State/Province', 50),
  str(`${prefix}_postalcode`, 'ZIP/Postal Code', 20),
  str(`${prefix}_country`, 'Country/Region', 80),
];

/** Master ID: the record of the same table a merged record was merged into ("Unique identifier of the master …") */
const masterOf = (table: string): AttributeDef =>
  attr('masterid', 'Master ID', 'Lookup', { targets: [table], validForCreate: false, validForUpdate: false });

const fullname = () =>
  attr('fullname', 'Full Name', 'String', { maxLength: 160, validForCreate: false, validForUpdate: false });

export const account = entity({
  logicalName: 'account',
  duplicateDetection: true,
  entitySetName: 'accounts',
  schemaName: 'Account',
  displayName: 'Account',
  displayCollectionName: 'Accounts',
  primaryName: 'name',
  ownershipType: 'UserOwned',
  objectTypeCode: 1,
  attributes: [
    str('name', 'Account Name', 160, 'ApplicationRequired'),
    str('accountnumber', 'Account Number', 20),
    formatted('Phone', 'telephone1', 'Main Phone', 50),
    formatted('Email', 'emailaddress1', 'Email', 100),
    formatted('Url', 'websiteurl', 'Website', 200),
    ...address(),
    industry,
    picklist('accountcategorycode', 'Category', [
      [1, 'Preferred Customer'],
      [2, 'Standard'],
    ]),
    picklist('customertypecode', 'Relationship Type', [
      [1, 'Competitor'],
      [2, 'Consultant'],
      [3, 'Customer'],
      [5, 'Influencer'],
      [6, 'Investor'],
      [7, 'Partner'],
      [11, 'Prospect'],
      [12, 'Reseller'],
      [14, 'Vendor'],
    ]),
    money('revenue', 'Annual Revenue'),
    money('creditlimit', 'Credit Limit'),
    bool('creditonhold', 'Credit Hold'),
    int('numberofemployees', 'Number of Employees', 0, 1_000_000_000),
    memo('description', 'Description'),
    lookup('primarycontactid', 'Primary Contact', ['contact']),
    lookup('parentaccountid', 'Parent Account', ['account']),
    lookup('territoryid', 'Territory', ['territory']),
    lookup('transactioncurrencyid', 'Currency', ['transactioncurrency']),
    // the lead this account was qualified from (QualifyLead: "linked to the originating lead record")
    lookup('originatingleadid', 'Originating Lead', ['lead']),
    // the account this one was merged into (set by Merge, never by a write)
    masterOf('account'),
    ...stateAndStatus(
      [
        [0, 'Active', 1],
        [1, 'Inactive', 2],
      ],
      [
        [1, 'Active', 0],
        [2, 'Inactive', 1],
      ],
    ),
  ],
});

/** "Choices columns": sample_outdooractivities' options, valued 1 to 9 in this order */
export const OUTDOOR_ACTIVITIES = [
  'Swimming',
  'Hiking',
  'Mountain Climbing',
  'Fishing',
  'Hunting',
  'Running',
  'Boating',
  'Skiing',
  'Camping',
];

export const contact = entity({
  logicalName: 'contact',
  duplicateDetection: true,
  entitySetName: 'contacts',
  schemaName: 'Contact',
  displayName: 'Contact',
  displayCollectionName: 'Contacts',
  primaryName: 'fullname',
  ownershipType: 'UserOwned',
  objectTypeCode: 2,
  attributes: [
    str('firstname', 'First Name', 50),
    str('lastname', 'Last Name', 50, 'ApplicationRequired'),
    fullname(),
    formatted('Email', 'emailaddress1', 'Email', 100),
    formatted('Phone', 'telephone1', 'Business Phone', 50),
    formatted('Phone', 'mobilephone', 'Mobile Phone', 50),
    str('jobtitle', 'Job Title', 100),
    ...address(),
    lookup('parentcustomerid', 'Company Name', ['account', 'contact']),
    lookup('originatingleadid', 'Originating Lead', ['lead']),
    // the contact this one was merged into (set by Merge, never by a write)
    masterOf('contact'),
    money('annualincome', 'Annual Income'),
    date('birthdate', 'Birthday', true),
    bool('donotemail', 'Do not allow Emails', ['Allow', 'Do Not Allow']),
    memo('description', 'Description'),
    // a choices column (several options at once), as an organisation's customiser adds one: Microsoft's own
    // example in "Choices columns", with its options and description
    attr('sample_outdooractivities', 'Outdoor activities', 'MultiSelectPicklist', {
      description: 'Outdoor activities that the contact likes.',
      options: OUTDOOR_ACTIVITIES.map((label, i) => ({ value: i + 1, label })),
    }),
    lookup('transactioncurrencyid', 'Currency', ['transactioncurrency']),
    ...stateAndStatus(
      [
        [0, 'Active', 1],
        [1, 'Inactive', 2],
      ],
      [
        [1, 'Active', 0],
        [2, 'Inactive', 1],
      ],
    ),
  ],
});

export const lead = entity({
  logicalName: 'lead',
  duplicateDetection: true,
  entitySetName: 'leads',
  schemaName: 'Lead',
  displayName: 'Lead',
  displayCollectionName: 'Leads',
  primaryName: 'fullname',
  ownershipType: 'UserOwned',
  objectTypeCode: 4,
  attributes: [
    str('subject', 'Topic', 300, 'ApplicationRequired'),
    str('firstname', 'First Name', 50),
    str('lastname', 'Last Name', 50, 'ApplicationRequired'),
    fullname(),
    str('companyname', 'Company Name', 100),
    str('jobtitle', 'Job Title', 100),
    formatted('Email', 'emailaddress1', 'Email', 100),
    formatted('Phone', 'telephone1', 'Business Phone', 50),
    formatted('Phone', 'mobilephone', 'Mobile Phone', 20),
    formatted('Url', 'websiteurl', 'Website', 200),
    ...address(),
    industry,
    picklist('leadsourcecode', 'Lead Source', [
      [1, 'Advertisement'],
      [2, 'Employee Referral'],
      [3, 'External Referral'],
      [4, 'Partner'],
      [5, 'Public Relations'],
      [6, 'Seminar'],
      [7, 'Trade Show'],
      [8, 'Web'],
      [9, 'Word of Mouth'],
      [10, 'Other'],
    ]),
    picklist('leadqualitycode', 'Rating', [
      [1, 'Hot'],
      [2, 'Warm'],
      [3, 'Cold'],
    ]),
    money('estimatedvalue', 'Est. Value'),
    // the company's size and what the sale hangs on (budget, need, timeframe, process), as the lead form's
    // qualify step asks them: Lead entity reference (Dynamics 365 Customer Engagement developer guide)
    int('numberofemployees', 'No. of Employees', 0, 1_000_000),
    money('revenue', 'Annual Revenue'),
    money('budgetamount', 'Budget Amount'),
    picklist('need', 'Need', [
      [0, 'Must have'],
      [1, 'Should have'],
      [2, 'Good to have'],
      [3, 'No need'],
    ]),
    picklist('purchasetimeframe', 'Purchase Timeframe', [
      [0, 'Immediate'],
      [1, 'This Quarter'],
      [2, 'Next Quarter'],
      [3, 'This Year'],
      [4, 'Unknown'],
    ]),
    picklist('purchaseprocess', 'Purchase Process', [
      [0, 'Individual'],
      [1, 'Committee'],
      [2, 'Unknown'],
    ]),
    memo('description', 'Description'),
    lookup('parentaccountid', 'Parent Account for lead', ['account']),
    lookup('parentcontactid', 'Parent Contact for lead', ['contact']),
    lookup('qualifyingopportunityid', 'Qualifying Opportunity', ['opportunity']),
    lookup('transactioncurrencyid', 'Currency', ['transactioncurrency']),
    // the lead this one was merged into (set by Merge, never by a write)
    masterOf('lead'),
    ...stateAndStatus(
      [
        [0, 'Open', 1],
        [1, 'Qualified', 3],
        [2, 'Disqualified', 4],
      ],
      [
        [1, 'New', 0],
        [2, 'Contacted', 0],
        [3, 'Qualified', 1],
        [4, 'Lost', 2],
        [5, 'Cannot Contact', 2],
        [6, 'No Longer Interested', 2],
        [7, 'Canceled', 2],
      ],
    ),
  ],
});

export const opportunity = entity({
  logicalName: 'opportunity',
  entitySetName: 'opportunities',
  schemaName: 'Opportunity',
  displayName: 'Opportunity',
  displayCollectionName: 'Opportunities',
  primaryName: 'name',
  ownershipType: 'UserOwned',
  objectTypeCode: 3,
  attributes: [
    str('name', 'Topic', 300, 'ApplicationRequired'),
    lookup('customerid', 'Potential Customer', ['account', 'contact'], 'ApplicationRequired'),
    lookup('parentaccountid', 'Account', ['account']),
    lookup('parentcontactid', 'Contact', ['contact']),
    money('estimatedvalue', 'Est. Revenue'),
    money('actualvalue', 'Actual Revenue'),
    date('estimatedclosedate', 'Est. Close Date', true),
    date('actualclosedate', 'Actual Close Date', true),
    int('closeprobability', 'Probability', 0, 100),
    str('stepname', 'Pipeline Phase', 200),
    picklist('salesstage', 'Sales Stage', [
      [0, 'Qualify'],
      [1, 'Develop'],
      [2, 'Propose'],
      [3, 'Close'],
    ]),
    picklist('salesstagecode', 'Process Code', [[1, 'Default Value']]),
    picklist('opportunityratingcode', 'Rating', [
      [1, 'Hot'],
      [2, 'Warm'],
      [3, 'Cold'],
    ]),
    picklist('prioritycode', 'Priority', [[1, 'Default Value']]),
    memo('description', 'Description'),
    lookup('transactioncurrencyid', 'Currency', ['transactioncurrency']),
    lookup('originatingleadid', 'Originating Lead', ['lead']),
    // the price list its products are priced from, and whether Est. Revenue is the products' total (System
    // Calculated) or typed in (User Provided): "Opportunity table/entity reference"
    lookup('pricelevelid', 'Price List', ['pricelevel']),
    bool('isrevenuesystemcalculated', 'Revenue', ['User Provided', 'System Calculated']),
    ...stateAndStatus(
      [
        [0, 'Open', 1],
        [1, 'Won', 3],
        [2, 'Lost', 4],
      ],
      [
        [1, 'In Progress', 0],
        [2, 'On Hold', 0],
        [3, 'Won', 1],
        [4, 'Canceled', 2],
        [5, 'Out-Sold', 2],
      ],
    ),
  ],
});

export const incident = entity({
  logicalName: 'incident',
  entitySetName: 'incidents',
  schemaName: 'Incident',
  displayName: 'Case',
  displayCollectionName: 'Cases',
  primaryName: 'title',
  ownershipType: 'UserOwned',
  objectTypeCode: 112,
  attributes: [
    str('title', 'Case Title', 200, 'ApplicationRequired'),
    attr('ticketnumber', 'Case Number', 'String', { maxLength: 100, validForUpdate: false }),
    lookup('customerid', 'Customer', ['account', 'contact'], 'SystemRequired'),
    lookup('primarycontactid', 'Contact', ['contact']),
    memo('description', 'Description'),
    picklist('prioritycode', 'Priority', [
      [1, 'High'],
      [2, 'Normal'],
      [3, 'Low'],
    ]),
    picklist('casetypecode', 'Case Type', [
      [1, 'Question'],
      [2, 'Problem'],
      [3, 'Request'],
    ]),
    picklist('caseorigincode', 'Origin', [
      [1, 'Phone'],
      [2, 'Email'],
      [3, 'Web'],
      [2483, 'Facebook'],
      [3986, 'Twitter'],
    ]),
    picklist('severitycode', 'Severity', [[1, 'Default Value']]),
    picklist('servicestage', 'Service Stage', [
      [0, 'Identify'],
      [1, 'Research'],
      [2, 'Resolve'],
    ]),
    // what a support team works a queue by (Incident entity reference): whether it was escalated, the day to
    // follow up with the customer by (UserLocal, shown as a date: Format DateOnly), and how satisfied they were
    attr('isescalated', 'Is Escalated', 'Boolean', { booleanLabels: ['No', 'Yes'], defaultValue: false }),
    // "the date and time when the case was escalated" (EscalatedOn); GUESS: stamped when Is Escalated turns Yes
    // without one given, as the escalation it records
    date('escalatedon', 'Escalated On'),
    attr('followupby', 'Follow Up By', 'DateTime', { format: 'DateOnly' }),
    picklist('customersatisfactioncode', 'Satisfaction', [
      [1, 'Very Dissatisfied'],
      [2, 'Dissatisfied'],
      [3, 'Neutral'],
      [4, 'Satisfied'],
      [5, 'Very Satisfied'],
    ]),
    // the case this one is a child of ("Incident (case) hierarchies": one level, through incident_parent_incident)
    lookup('parentcaseid', 'Parent Case', ['incident']),
    // the case this one was merged into (set by Merge, never by a write)
    masterOf('incident'),
    // the service level agreement's clocks on the case (Incident table reference): its first response and
    // resolution KPI instances (slakpiinstance_incident_firstresponsebykpi / _resolvebykpi; set by the SLA, not
    // by a client: NotEditable) and their statuses, 1 In Progress, 2 Nearing Noncompliance, 3 Succeeded,
    // 4 Noncompliant; resolveby "the date by when the case must be resolved"; firstresponsesent
    ...(['firstresponsebykpiid', 'resolvebykpiid'] as const).map((name) =>
      attr(name, name === 'resolvebykpiid' ? 'Resolve By KPI' : 'First Response By KPI', 'Lookup', {
        targets: ['slakpiinstance'],
        validForCreate: false,
        validForUpdate: false,
      }),
    ),
    ...(['firstresponseslastatus', 'resolvebyslastatus'] as const).map((name) =>
      picklist(name, name === 'resolvebyslastatus' ? 'Resolve By SLA Status' : 'First Response SLA Status', [
        [1, 'In Progress'],
        [2, 'Nearing Noncompliance'],
        [3, 'Succeeded'],
        [4, 'Noncompliant'],
      ]),
    ),
    date('resolveby', 'Resolve By'),
    bool('firstresponsesent', 'First Response Sent'),
    // when the case last went on hold, and how long in all it has waited there (minutes), set as its SLA is
    // paused and resumed (Incident reference: LastOnHoldTime, OnHoldTime; GUESS: neither written by a client)
    attr('lastonholdtime', 'Last On Hold Time', 'DateTime', { validForCreate: false, validForUpdate: false }),
    attr('onholdtime', 'On Hold Time (Minutes)', 'Integer', {
      minValue: 0,
      maxValue: 2_147_483_647,
      validForCreate: false,
      validForUpdate: false,
    }),
    // A custom text column for the id a monitoring system gives an alert (a real org adds such a column
    // to its solution); custom columns carry a publisher prefix.
    str('dmcp_externalref', 'External Reference', 200),
    ...stateAndStatus(
      [
        [0, 'Active', 1],
        [1, 'Resolved', 5],
        [2, 'Canceled', 6],
      ],
      [
        [1, 'In Progress', 0],
        [2, 'On Hold', 0],
        [3, 'Waiting for Details', 0],
        [4, 'Researching', 0],
        [5, 'Problem Solved', 1],
        [1000, 'Information Provided', 1],
        [6, 'Cancelled', 2],
        [2000, 'Merged', 2],
      ],
    ),
  ],
});

// One clock of a service level agreement on a case (SLAKPIInstance table reference): when it warns and fails,
// its status (0 In Progress, 1 Noncompliant, 2 Nearing Noncompliance, 3 Paused, 4 Succeeded, 5 Canceled) and
// when it succeeded. The case names its instances (resolvebykpiid, firstresponsebykpiid); the SLA engine that
// makes and moves them is not emulated, its effects are (sla-clocks.ts): they are seeded, a case created gets its
// default SLA's, a case on hold pauses them, their times move them, and a case resolved in time succeeds its clock.
export const slakpiinstance = entity({
  logicalName: 'slakpiinstance',
  entitySetName: 'slakpiinstances',
  schemaName: 'SLAKPIInstance',
  displayName: 'SLA KPI Instance',
  displayCollectionName: 'SLA KPI Instances',
  primaryName: 'name',
  ownershipType: 'UserOwned',
  objectTypeCode: 9752,
  attributes: [
    str('name', 'Name', 100),
    picklist('status', 'Status', [
      [0, 'In Progress'],
      [1, 'Noncompliant'],
      [2, 'Nearing Noncompliance'],
      [3, 'Paused'],
      [4, 'Succeeded'],
      [5, 'Canceled'],
    ]),
    date('warningtime', 'Warning Time'),
    date('failuretime', 'Failure Time'),
    date('succeededon', 'Succeeded On'),
    // how long the clock has been paused, in minutes (its warning and failure times moved on by as much)
    attr('elapsedtime', 'Elapsed Time (min)', 'Integer', { minValue: 0, maxValue: 2_147_483_647 }),
  ],
});

/**
 * The columns a note and an attachment keep a file in, alike in both references: its name and type, its bytes
 * as Base64 in a String (TextArea, MaxLength 1073741823), and its read-only size (worked out on writes).
 */
const fileColumns = (body: string, label: string) => [
  str('filename', 'File Name', 255),
  str('mimetype', 'Mime Type', 256),
  attr(body, label, 'String', { maxLength: 1_073_741_823, format: 'TextArea' }),
  attr('filesize', 'File Size (Bytes)', 'Integer', {
    minValue: 0,
    maxValue: 1_000_000_000,
    validForCreate: false,
    validForUpdate: false,
  }),
];

// Notes (the Note (Annotation) table): a subject and text attached to one record of many tables through
// objectid, a lookup with one typed navigation property per table (objectid_account@odata.bind), as
// activities' regardingobjectid. A note may carry one file ("Use file data with Attachment and Note records"):
// its bytes Base64-encoded in documentbody (a String, TextArea, MaxLength 1073741823), with filename and
// mimetype beside it; filesize is read-only (the Note (Annotation) table reference), what the bytes come to.
export const annotation = entity({
  logicalName: 'annotation',
  entitySetName: 'annotations',
  schemaName: 'Annotation',
  displayName: 'Note',
  displayCollectionName: 'Notes',
  primaryName: 'subject',
  ownershipType: 'UserOwned',
  objectTypeCode: 5,
  attributes: [
    str('subject', 'Title', 500),
    memo('notetext', 'Description', 100_000),
    attr('objectid', 'Regarding', 'Lookup', { targets: ['account', 'contact', 'lead', 'opportunity', 'incident'] }),
    attr('isdocument', 'Is Document', 'Boolean', {
      booleanLabels: ['No', 'Yes'],
      requiredLevel: 'SystemRequired',
      defaultValue: false,
    }),
    ...fileColumns('documentbody', 'Document'),
  ],
});

// An email's (or a meeting's) attached file (the Attachment (ActivityMimeAttachment) table reference: no owner,
// primary name filename): its bytes Base64-encoded in body (a String, TextArea, MaxLength 1073741823), as a
// note's are in documentbody, with filename, mimetype and a read-only filesize. objectid (Item, SystemRequired)
// points at the activity, through one navigation property per activity table (objectid_email, the partner of
// the email's email_activity_mime_attachment list); objecttypecode (Entity, SystemRequired) says which.
export const activitymimeattachment = entity({
  logicalName: 'activitymimeattachment',
  entitySetName: 'activitymimeattachments',
  schemaName: 'ActivityMimeAttachment',
  displayName: 'Attachment',
  displayCollectionName: 'Attachments',
  primaryName: 'filename',
  ownershipType: 'None',
  objectTypeCode: 1001,
  attributes: [
    str('subject', 'Subject', 2000),
    ...fileColumns('body', 'Body'),
    attr('objectid', 'Item', 'Lookup', { targets: ['email', 'appointment'], requiredLevel: 'SystemRequired' }),
    attr('objecttypecode', 'Entity', 'EntityName', { requiredLevel: 'SystemRequired' }),
  ],
});

// A case's resolution (Case Resolution, an activity: its key is activityid): what the CloseIncident action
// writes beside the case it resolves (reference §6.2: cases are closed with the action).
export const incidentresolution = entity({
  logicalName: 'incidentresolution',
  entitySetName: 'incidentresolutions',
  schemaName: 'IncidentResolution',
  displayName: 'Case Resolution',
  displayCollectionName: 'Case Resolutions',
  primaryName: 'subject',
  primaryId: 'activityid',
  ownershipType: 'UserOwned',
  objectTypeCode: 4206,
  attributes: [
    str('subject', 'Resolution', 200),
    memo('description', 'Description'),
    lookup('incidentid', 'Case', ['incident']),
    minutes('timespent', 'Time Spent'),
    // Microsoft's "Default status and status reason values": Case Resolution is Open (Open), Completed
    // (Closed) or Canceled (Canceled)
    ...stateAndStatus(
      [
        [0, 'Open', 1],
        [1, 'Completed', 2],
        [2, 'Canceled', 3],
      ],
      [
        [1, 'Open', 0],
        [2, 'Closed', 1],
        [3, 'Canceled', 2],
      ],
    ),
  ],
});

// An opportunity's close (Opportunity Close, an activity: its key is activityid): what the WinOpportunity and
// LoseOpportunity actions write beside the opportunity they close ("opportunityclose EntityType": primary name
// subject; actualrevenue, actualend "Closed On" (date only), the opportunity it closes)
export const opportunityclose = entity({
  logicalName: 'opportunityclose',
  entitySetName: 'opportunitycloses',
  schemaName: 'OpportunityClose',
  displayName: 'Opportunity Close',
  displayCollectionName: 'Opportunity Closes',
  primaryName: 'subject',
  primaryId: 'activityid',
  ownershipType: 'UserOwned',
  objectTypeCode: 4208,
  attributes: [
    str('subject', 'Subject', 200),
    memo('description', 'Description'),
    lookup('opportunityid', 'Opportunity', ['opportunity']),
    money('actualrevenue', 'Actual Revenue'),
    date('actualend', 'Closed On', true),
    // whom a lost deal went to (Close Opportunity's Competitor, OpportunityClose table reference)
    lookup('competitorid', 'Competitor', ['competitor']),
    // "OpportunityClose Activity Entity OptionSet Attribute Metadata": Open, Completed or Canceled, each with
    // the status reason of its name
    ...stateAndStatus(
      [
        [0, 'Open', 1],
        [1, 'Completed', 2],
        [2, 'Canceled', 3],
      ],
      [
        [1, 'Open', 0],
        [2, 'Completed', 1],
        [3, 'Canceled', 2],
      ],
    ),
  ],
});

/**
 * What the activity tables here share: their Priority, and the record they are Regarding, whose typed navigation
 * properties end with the activity's own table (regardingobjectid_account_task, …_account_phonecall).
 */
const activityColumns = (table?: string): AttributeDef[] => [
  picklist('prioritycode', 'Priority', [
    [0, 'Low'],
    [1, 'Normal'],
    [2, 'High'],
  ]),
  attr('regardingobjectid', 'Regarding', 'Lookup', {
    targets: ['account', 'contact', 'lead', 'opportunity', 'incident'],
    // ActivityPointer's (no table) have no suffix: regardingobjectid_account
    ...(table ? { navigationSuffix: `_${table}` } : {}),
  }),
];

// A task (an activity: its key is activityid), regarding one record of many tables through regardingobjectid,
// whose typed navigation properties carry the activity's table (regardingobjectid_account_task: reference §5,
// BATCH); subject at most 200 characters (the BATCH sample's validation error). Open, Completed or Canceled.
export const task = entity({
  logicalName: 'task',
  entitySetName: 'tasks',
  schemaName: 'Task',
  displayName: 'Task',
  displayCollectionName: 'Tasks',
  primaryName: 'subject',
  primaryId: 'activityid',
  ownershipType: 'UserOwned',
  objectTypeCode: 4212,
  attributes: [
    str('subject', 'Subject', 200, 'ApplicationRequired'),
    memo('description', 'Description'),
    date('scheduledstart', 'Start Date'),
    date('scheduledend', 'Due Date'),
    date('actualend', 'Actual End'),
    minutes('actualdurationminutes', 'Duration'),
    int('percentcomplete', 'Percent Complete', 0, 100),
    ...activityColumns('task'),
    ...stateAndStatus(
      [
        [0, 'Open', 2],
        [1, 'Completed', 5],
        [2, 'Canceled', 6],
      ],
      [
        [2, 'Not Started', 0],
        [3, 'In Progress', 0],
        [4, 'Waiting on someone else', 0],
        [7, 'Deferred', 0],
        [5, 'Completed', 1],
        [6, 'Canceled', 2],
      ],
    ),
  ],
});

// A phone call logged against a record ("PhoneCall entity reference"): Subject (200, ApplicationRequired),
// Direction (Boolean: 1 Outgoing, the default; 0 Incoming), Phone Number (200), Duration, Due, Regarding;
// Open (status Open), Completed (Made or Received) or Canceled, the last two read-only. StateCode is not valid
// for create: a call is logged, then completed. Call From and Call To are party lists (activityparty).
export const phonecall = entity({
  logicalName: 'phonecall',
  entitySetName: 'phonecalls',
  schemaName: 'PhoneCall',
  displayName: 'Phone Call',
  displayCollectionName: 'Phone Calls',
  primaryName: 'subject',
  primaryId: 'activityid',
  ownershipType: 'UserOwned',
  objectTypeCode: 4210,
  partyLists: [partyList('from', 'Call From'), partyList('to', 'Call To')],
  attributes: [
    str('subject', 'Subject', 200, 'ApplicationRequired'),
    memo('description', 'Description', 2000),
    { ...bool('directioncode', 'Direction', ['Incoming', 'Outgoing']), defaultValue: true },
    formatted('Phone', 'phonenumber', 'Phone Number', 200),
    date('scheduledend', 'Due'),
    date('actualend', 'Actual End'),
    minutes('actualdurationminutes', 'Duration'),
    ...activityColumns('phonecall'),
    ...stateAndStatus(
      [
        [0, 'Open', 1],
        [1, 'Completed', 2],
        [2, 'Canceled', 3],
      ],
      [
        [1, 'Open', 0],
        [2, 'Made', 1],
        [4, 'Received', 1],
        [3, 'Canceled', 2],
      ],
    ),
  ],
});

// An email tracked against a record ("Email table/entity reference"), as server-side sync or Outlook files it:
// Subject (800), Description (the body, HTML), Direction (1 Outgoing, the default; 0 Incoming), From (sender,
// the address as text), To Recipients, Date Sent, Regarding; Open (Draft, Failed), Completed (Completed, Sent,
// Received, Pending Send, Sending) or Canceled, the last two read-only. Its party lists (From, To, Cc, Bcc) are
// in metadata, their people in email_activity_parties (seeded: the owner and the deal's contact, at the
// addresses sender and torecipients give).
export const email = entity({
  logicalName: 'email',
  entitySetName: 'emails',
  schemaName: 'Email',
  displayName: 'Email',
  displayCollectionName: 'Email Messages',
  primaryName: 'subject',
  primaryId: 'activityid',
  ownershipType: 'UserOwned',
  objectTypeCode: 4202,
  partyLists: [partyList('from', 'From'), partyList('to', 'To'), partyList('cc', 'Cc'), partyList('bcc', 'Bcc')],
  attributes: [
    str('subject', 'Subject', 800),
    memo('description', 'Description', 1_048_576),
    { ...bool('directioncode', 'Direction', ['Incoming', 'Outgoing']), defaultValue: true },
    str('sender', 'From', 250),
    str('torecipients', 'To Recipients', 500),
    attr('senton', 'Date Sent', 'DateTime', { validForCreate: false, validForUpdate: false }),
    date('actualend', 'Actual End'),
    // how many files came with it (Email reference: AttachmentCount, read-only), its attachments counted
    attr('attachmentcount', 'Attachment Count', 'Integer', {
      minValue: 0,
      maxValue: 2_147_483_647,
      validForCreate: false,
      validForUpdate: false,
    }),
    ...activityColumns('email'),
    ...stateAndStatus(
      [
        [0, 'Open', 1],
        [1, 'Completed', 2],
        [2, 'Canceled', 5],
      ],
      [
        [1, 'Draft', 0],
        [8, 'Failed', 0],
        [2, 'Completed', 1],
        [3, 'Sent', 1],
        [4, 'Received', 1],
        [6, 'Pending Send', 1],
        [7, 'Sending', 1],
        [5, 'Canceled', 2],
      ],
    ),
  ],
});

// A meeting in a user's calendar about a record ("Appointment table/entity reference"): Subject (200), Start
// Time and End Time (ApplicationRequired), Duration, Location, All Day Event, Regarding; Open (Free, Tentative),
// Completed, Canceled or Scheduled (Busy, Out of Office), completed and canceled read-only. Its attendee party
// lists are in metadata, their people in appointment_activity_parties (seeded: the owner as organizer, the
// deal's contact as a required attendee).
export const appointment = entity({
  logicalName: 'appointment',
  entitySetName: 'appointments',
  schemaName: 'Appointment',
  displayName: 'Appointment',
  displayCollectionName: 'Appointments',
  primaryName: 'subject',
  primaryId: 'activityid',
  ownershipType: 'UserOwned',
  objectTypeCode: 4201,
  partyLists: [
    partyList('organizer', 'Organizer'),
    partyList('requiredattendees', 'Required Attendees'),
    partyList('optionalattendees', 'Optional Attendees'),
  ],
  attributes: [
    str('subject', 'Subject', 200, 'ApplicationRequired'),
    memo('description', 'Description'),
    str('location', 'Location', 200),
    { ...date('scheduledstart', 'Start Time'), requiredLevel: 'ApplicationRequired' },
    { ...date('scheduledend', 'End Time'), requiredLevel: 'ApplicationRequired' },
    minutes('scheduleddurationminutes', 'Duration'),
    { ...bool('isalldayevent', 'All Day Event'), defaultValue: false },
    date('actualend', 'Actual End'),
    ...activityColumns('appointment'),
    ...stateAndStatus(
      [
        [0, 'Open', 1],
        [1, 'Completed', 3],
        [2, 'Canceled', 4],
        [3, 'Scheduled', 5],
      ],
      [
        [1, 'Free', 0],
        [2, 'Tentative', 0],
        [3, 'Completed', 1],
        [4, 'Canceled', 2],
        [5, 'Busy', 3],
        [6, 'Out of Office', 3],
      ],
    ),
  ],
});

// Every activity as one ("Activity (ActivityPointer) table/entity reference"): whenever an activity is made,
// Dataverse makes an ActivityPointer row with the same ActivityId ("ActivityPointer (activity) entity"), so a
// record's tasks, calls, emails and meetings are read in one query, GET /activitypointers (Retrieve and
// RetrieveMultiple only; "Operations supported: GET"). ActivityTypeCode (EntityName, Edm.String) is each
// one's table. Its rows are the activity tables' own, projected (activity-pointers.ts). Its Status Reason is
// left out: each activity keeps its own table's reasons, which the pointer's option set does not list.
export const activitypointer = entity({
  logicalName: 'activitypointer',
  entitySetName: 'activitypointers',
  schemaName: 'ActivityPointer',
  displayName: 'Activity',
  displayCollectionName: 'Activities',
  primaryName: 'subject',
  primaryId: 'activityid',
  ownershipType: 'UserOwned',
  objectTypeCode: 4200,
  retrieveOnly: true,
  attributes: [
    attr('activitytypecode', 'Activity Type', 'EntityName', { validForCreate: false, validForUpdate: false }),
    str('subject', 'Subject', 400),
    memo('description', 'Description'),
    date('scheduledstart', 'Start Date'),
    date('scheduledend', 'Due Date'),
    date('actualend', 'Actual End'),
    minutes('actualdurationminutes', 'Actual Duration'),
    ...activityColumns(),
    attr('statecode', 'Activity Status', 'State', {
      options: [
        { value: 0, label: 'Open' },
        { value: 1, label: 'Completed' },
        { value: 2, label: 'Canceled' },
        { value: 3, label: 'Scheduled' },
      ],
      requiredLevel: 'SystemRequired',
      validForCreate: false,
    }),
  ],
});

// The organisation's duplicate detection rules ("Duplicate Detection Rule (DuplicateRule) table/entity
// reference": name, base and matching record types, case sensitivity, inactive records; Active/Published when
// they apply). The emulator writes a row per rule it applies, and one per condition (webapi/duplicate-rules.ts).
export const duplicaterule = entity({
  logicalName: 'duplicaterule',
  entitySetName: 'duplicaterules',
  schemaName: 'DuplicateRule',
  displayName: 'Duplicate Detection Rule',
  displayCollectionName: 'Duplicate Detection Rules',
  primaryName: 'name',
  ownershipType: 'UserOwned',
  objectTypeCode: 4414,
  attributes: [
    str('name', 'Name', 160, 'SystemRequired'),
    memo('description', 'Description'),
    str('baseentityname', 'Base Record Type', 160, 'ApplicationRequired'),
    str('matchingentityname', 'Matching Record Type', 160, 'ApplicationRequired'),
    bool('iscasesensitive', 'Case Sensitive'),
    bool('excludeinactiverecords', 'Exclude Inactive Matching Records'),
    ...stateAndStatus(
      [
        [0, 'Inactive', 0],
        [1, 'Active', 2],
      ],
      [
        [0, 'Unpublished', 0],
        [1, 'Publishing', 0],
        [2, 'Published', 1],
      ],
    ),
  ],
});

// A rule's conditions ("Duplicate Rule Condition (DuplicateRuleCondition) table/entity reference": owned by its
// rule, no primary name; the field compared on the new record and on the others, and how). The emulator's
// rules compare with Exact Match alone.
export const duplicaterulecondition = entity({
  logicalName: 'duplicaterulecondition',
  entitySetName: 'duplicateruleconditions',
  schemaName: 'DuplicateRuleCondition',
  displayName: 'Duplicate Rule Condition',
  displayCollectionName: 'Duplicate Rule Conditions',
  primaryName: '',
  ownershipType: 'None',
  objectTypeCode: 4415,
  attributes: [
    str('baseattributename', 'Base Field', 100),
    str('matchingattributename', 'Matching Field', 100),
    picklist('operatorcode', 'Match Type', [
      [0, 'Exact Match'],
      [1, 'Same First Characters'],
      [2, 'Same Last Characters'],
      [3, 'Same Date'],
      [4, 'Same Date and Time'],
      [5, 'Exact Match (Pick List Label)'],
      [6, 'Exact Match (Pick List Value)'],
    ]),
    int('operatorparam', 'Operator Parameter', 0),
    bool('ignoreblankvalues', 'Ignore Blank Values'),
    lookup('regardingobjectid', 'Regarding', ['duplicaterule']),
  ],
});

export const systemuser = entity({
  logicalName: 'systemuser',
  entitySetName: 'systemusers',
  schemaName: 'SystemUser',
  displayName: 'User',
  displayCollectionName: 'Users',
  primaryName: 'fullname',
  ownershipType: 'BusinessOwned',
  objectTypeCode: 8,
  attributes: [
    str('firstname', 'First Name', 64),
    str('lastname', 'Last Name', 64, 'ApplicationRequired'),
    fullname(),
    formatted('Email', 'internalemailaddress', 'Primary Email', 100),
    str('domainname', 'User Name', 1024),
    str('title', 'Title', 128),
    lookup('territoryid', 'Territory', ['territory']),
    bool('isdisabled', 'Status', ['Enabled', 'Disabled']),
    attr('applicationid', 'Application ID', 'Uniqueidentifier'),
    attr('azureactivedirectoryobjectid', 'Azure AD Object ID', 'Uniqueidentifier'),
  ],
});

/**
 * Teams ("Team table/entity reference"): a group of users that can own records as a user does, so a record's
 * owner (ownerid) is a user or a team. Every business unit has a default team named after it (isdefault); an
 * owner team (teamtype 0) is what owns records in sales and service queues.
 */
export const team = entity({
  logicalName: 'team',
  entitySetName: 'teams',
  schemaName: 'Team',
  displayName: 'Team',
  displayCollectionName: 'Teams',
  primaryName: 'name',
  ownershipType: 'BusinessOwned',
  objectTypeCode: 9,
  attributes: [
    str('name', 'Team Name', 160, 'SystemRequired'),
    picklist('teamtype', 'Team Type', [
      [0, 'Owner'],
      [1, 'Access'],
      [2, 'Microsoft Entra ID Security Group'],
      [3, 'Microsoft Entra ID Office Group'],
    ]),
    bool('isdefault', 'Is Default'),
    memo('description', 'Description'),
    lookup('businessunitid', 'Business Unit', ['businessunit'], 'SystemRequired'),
  ],
});

// Who is on which team ("teammembership EntityType": an intersect table of systemuserid and teamid, no name of its
// own, only read as a table; members are added with the AddMembersTeam action, not modelled). Every user is a
// member of their business unit's default team. Dataverse's EqualUserTeams and EqualUserOrUserTeams read it.
export const teammembership = entity({
  logicalName: 'teammembership',
  entitySetName: 'teammemberships',
  schemaName: 'TeamMembership',
  displayName: 'Team Membership',
  displayCollectionName: 'Team Memberships',
  primaryName: '',
  ownershipType: 'None',
  objectTypeCode: 23,
  retrieveOnly: true,
  intersect: true,
  attributes: [
    attr('systemuserid', 'User', 'Uniqueidentifier', { validForUpdate: false }),
    attr('teamid', 'Team', 'Uniqueidentifier', { validForUpdate: false }),
  ],
});

/**
 * Another company that sells what the organisation sells ("Competitor table/entity reference"): one or many are
 * linked to an opportunity through opportunitycompetitors_association, which is how salespeople track whom a
 * deal is against and management its win/loss record against each.
 */
export const competitor = entity({
  logicalName: 'competitor',
  entitySetName: 'competitors',
  schemaName: 'Competitor',
  displayName: 'Competitor',
  displayCollectionName: 'Competitors',
  primaryName: 'name',
  ownershipType: 'OrganizationOwned',
  objectTypeCode: 123,
  attributes: [
    str('name', 'Name', 100, 'ApplicationRequired'),
    formatted('Url', 'websiteurl', 'Website', 200),
    memo('overview', 'Overview', 100_000),
    memo('strengths', 'Strengths', 100_000),
    memo('weaknesses', 'Weaknesses', 100_000),
  ],
});

// Which competitors an opportunity is against ("OpportunityCompetitors table/entity reference": an intersect
// table, entity set opportunitycompetitorscollection, whose rows are made and removed by Associate and
// Disassociate through opportunitycompetitors_association, not written as a table)
export const opportunitycompetitors = entity({
  logicalName: 'opportunitycompetitors',
  entitySetName: 'opportunitycompetitorscollection',
  schemaName: 'OpportunityCompetitors',
  displayName: 'OpportunityCompetitors',
  displayCollectionName: 'OpportunityCompetitors',
  primaryName: '',
  ownershipType: 'None',
  objectTypeCode: 1129,
  retrieveOnly: true,
  intersect: true,
  attributes: [
    attr('opportunityid', 'Opportunity', 'Uniqueidentifier', { validForUpdate: false }),
    attr('competitorid', 'Competitor', 'Uniqueidentifier', { validForUpdate: false }),
  ],
});

/**
 * What the organisation sells ("Product table/entity reference"): its name, number, list price and default unit;
 * Active, Retired, Draft or Under Revision. Organisation-owned, as the product catalogue is.
 */
export const product = entity({
  logicalName: 'product',
  entitySetName: 'products',
  schemaName: 'Product',
  displayName: 'Product',
  displayCollectionName: 'Products',
  primaryName: 'name',
  ownershipType: 'OrganizationOwned',
  objectTypeCode: 1024,
  attributes: [
    str('name', 'Name', 100, 'SystemRequired'),
    str('productnumber', 'Product ID', 100, 'SystemRequired'),
    memo('description', 'Description'),
    picklist('producttypecode', 'Product Type', [
      [1, 'Sales Inventory'],
      [2, 'Miscellaneous Charges'],
      [3, 'Services'],
      [4, 'Flat Fees'],
    ]),
    money('price', 'List Price'),
    money('standardcost', 'Standard Cost'),
    lookup('defaultuomid', 'Default Unit', ['uom']),
    lookup('pricelevelid', 'Default Price List', ['pricelevel']),
    lookup('transactioncurrencyid', 'Currency', ['transactioncurrency']),
    ...stateAndStatus(
      [
        [0, 'Active', 1],
        [1, 'Retired', 2],
        [2, 'Draft', 0],
        [3, 'Under Revision', 3],
      ],
      [
        [1, 'Active', 0],
        [2, 'Retired', 1],
        [0, 'Draft', 2],
        [3, 'Under Revision', 3],
      ],
    ),
  ],
});

// A unit a product is sold in ("UoM table/entity reference": its name and how many of its group's base unit it is)
export const uom = entity({
  logicalName: 'uom',
  entitySetName: 'uoms',
  schemaName: 'UoM',
  displayName: 'Unit',
  displayCollectionName: 'Units',
  primaryName: 'name',
  ownershipType: 'OrganizationOwned',
  objectTypeCode: 1055,
  attributes: [
    str('name', 'Name', 100, 'SystemRequired'),
    attr('quantity', 'Quantity', 'Decimal', { precision: 5, minValue: 0, maxValue: 1_000_000_000 }),
  ],
});

// A price list ("PriceLevel table/entity reference"): the prices an opportunity's products are quoted at
export const pricelevel = entity({
  logicalName: 'pricelevel',
  entitySetName: 'pricelevels',
  schemaName: 'PriceLevel',
  displayName: 'Price List',
  displayCollectionName: 'Price Lists',
  primaryName: 'name',
  ownershipType: 'OrganizationOwned',
  objectTypeCode: 1022,
  attributes: [
    str('name', 'Name', 100, 'SystemRequired'),
    memo('description', 'Description'),
    date('begindate', 'Start Date', true),
    date('enddate', 'End Date', true),
    lookup('transactioncurrencyid', 'Currency', ['transactioncurrency']),
    ...stateAndStatus(
      [
        [0, 'Active', 100001],
        [1, 'Inactive', 100002],
      ],
      [
        [100001, 'Active', 0],
        [100002, 'Inactive', 1],
      ],
    ),
  ],
});

/**
 * A product on an opportunity, its line ("OpportunityProduct table/entity reference"): an existing product in a
 * unit, or a write-in (isproductoverridden, productdescription), a quantity at a price per unit; Amount
 * (baseamount) and Extended Amount are Dataverse's to compute (not valid for create or update).
 */
export const opportunityproduct = entity({
  logicalName: 'opportunityproduct',
  entitySetName: 'opportunityproducts',
  schemaName: 'OpportunityProduct',
  displayName: 'Opportunity Product',
  displayCollectionName: 'Opportunity Products',
  primaryName: 'opportunityproductname',
  ownershipType: 'UserOwned',
  objectTypeCode: 1083,
  attributes: [
    str('opportunityproductname', 'Name', 500),
    lookup('opportunityid', 'Opportunity', ['opportunity'], 'SystemRequired'),
    lookup('productid', 'Existing Product', ['product']),
    str('productdescription', 'Write-In Product', 500),
    bool('isproductoverridden', 'Select Product', ['Existing', 'Write-In']),
    bool('ispriceoverridden', 'Pricing', ['Use Default', 'Override Price']),
    lookup('uomid', 'Unit', ['uom']),
    attr('quantity', 'Quantity', 'Decimal', { precision: 5, minValue: -100_000_000_000, maxValue: 100_000_000_000 }),
    money('priceperunit', 'Price Per Unit'),
    { ...money('baseamount', 'Amount'), validForCreate: false, validForUpdate: false },
    money('manualdiscountamount', 'Manual Discount'),
    { ...money('volumediscountamount', 'Volume Discount'), validForCreate: false, validForUpdate: false },
    money('tax', 'Tax'),
    { ...money('extendedamount', 'Extended Amount'), validForCreate: false, validForUpdate: false },
    memo('description', 'Description'),
    int('sequencenumber', 'Sequence Number', 0),
    lookup('transactioncurrencyid', 'Currency', ['transactioncurrency']),
  ],
});

export const territory = entity({
  logicalName: 'territory',
  entitySetName: 'territories',
  schemaName: 'Territory',
  displayName: 'Territory',
  displayCollectionName: 'Territories',
  primaryName: 'name',
  ownershipType: 'OrganizationOwned',
  objectTypeCode: 2013,
  attributes: [
    str('name', 'Territory Name', 200, 'SystemRequired'),
    memo('description', 'Description'),
    lookup('managerid', 'Manager', ['systemuser']),
  ],
});

/**
 * The organisation's business units ("Business Unit table/entity reference"): every organisation has its root
 * one, named after it, which security roles and record ownership hang from. Here for what a real organisation
 * holds beside what dynamics-mcp offers: the built-in policy leaves it out.
 */
export const businessunit = entity({
  logicalName: 'businessunit',
  entitySetName: 'businessunits',
  schemaName: 'BusinessUnit',
  displayName: 'Business Unit',
  displayCollectionName: 'Business Units',
  primaryName: 'name',
  ownershipType: 'BusinessOwned',
  objectTypeCode: 10,
  attributes: [
    str('name', 'Name', 160, 'SystemRequired'),
    lookup('parentbusinessunitid', 'Parent Business', ['businessunit']),
  ],
});

export const transactioncurrency = entity({
  logicalName: 'transactioncurrency',
  entitySetName: 'transactioncurrencies',
  schemaName: 'TransactionCurrency',
  displayName: 'Currency',
  displayCollectionName: 'Currencies',
  primaryName: 'currencyname',
  ownershipType: 'OrganizationOwned',
  objectTypeCode: 9105,
  attributes: [
    str('currencyname', 'Currency Name', 100, 'SystemRequired'),
    str('isocurrencycode', 'Currency Code', 5, 'SystemRequired'),
    str('currencysymbol', 'Currency Symbol', 10, 'SystemRequired'),
    // units of this currency per one unit of the base currency (the base currency's own rate is 1)
    attr('exchangerate', 'Exchange Rate', 'Decimal', { precision: 10, minValue: 0.0001, maxValue: 100_000_000_000 }),
  ],
});

/**
 * The organisation's one row: its name and fiscal year settings (what dynamics-mcp reads; the real table has
 * hundreds of settings). weekstartdaycode is the first day of its weeks (0 Sunday … 6 Saturday), which Dataverse's
 * week functions count from; fiscalcalendarstart is the first day of a fiscal year as the midnight it was entered at
 * in the administrator's time zone, in UTC; fiscalyeardisplaycode names a fiscal year by the year it starts in (1)
 * or ends in (2).
 */
export const organization = entity({
  logicalName: 'organization',
  entitySetName: 'organizations',
  schemaName: 'Organization',
  displayName: 'Organization',
  displayCollectionName: 'Organizations',
  primaryName: 'name',
  ownershipType: 'OrganizationOwned',
  objectTypeCode: 1019,
  attributes: [
    str('name', 'Organization Name', 160, 'SystemRequired'),
    date('fiscalcalendarstart', 'Fiscal Calendar Start'),
    int('fiscalyeardisplaycode', 'Fiscal Year Display', 1, 2),
    picklist('weekstartdaycode', 'Week Start Day', [
      [0, 'Sunday'],
      [1, 'Monday'],
      [2, 'Tuesday'],
      [3, 'Wednesday'],
      [4, 'Thursday'],
      [5, 'Friday'],
      [6, 'Saturday'],
    ]),
    // duplicate detection for the whole organisation, and for creates and updates ("Enable and disable
    // duplicate detection": both must be on, and the table's IsDuplicateDetectionEnabled, for rules to apply)
    bool('isduplicatedetectionenabled', 'Is Duplicate Detection Enabled'),
    bool('isduplicatedetectionenabledforonlinecreateupdate', 'Is Duplicate Detection Enabled For Online Create/Update'),
    // the Parent and Child case settings' closure preference ("Incident (case) hierarchies"): close a parent's
    // active child cases with it, or refuse to close it while it has any
    bool('cascadestatusupdate', 'Cascade Status Update'),
    bool('restrictstatusupdate', 'Restrict Status Update'),
  ],
});

// A person on an activity ("ActivityParty table/entity reference"): the activity (activityid), the record that
// is the party (partyid: an account, contact, lead or user here) and the part they play (ParticipationTypeMask:
// 1 Sender is a call's From, 2 To Recipient its To). No owner; its privileges are the activity's. Only read
// (RetrieveMultiple) as a table: parties are made with their activity, as its <table>_activity_parties.
export const activityparty = entity({
  logicalName: 'activityparty',
  entitySetName: 'activityparties',
  schemaName: 'ActivityParty',
  displayName: 'Activity Party',
  displayCollectionName: 'Activity Parties',
  primaryName: 'partyidname',
  ownershipType: 'None',
  objectTypeCode: 135,
  retrieveOnly: true,
  attributes: [
    // SystemRequired in Dataverse; set here from the activity the party is made with (a deep insert)
    attr('activityid', 'Activity', 'Lookup', { targets: ['phonecall', 'email', 'appointment'] }),
    attr('partyid', 'Party', 'Lookup', { targets: PARTY_TARGETS }),
    str('partyidname', 'Party Name', 4000),
    picklist('participationtypemask', 'Participation Type', [
      [1, 'Sender'],
      [2, 'To Recipient'],
      [3, 'CC Recipient'],
      [4, 'BCC Recipient'],
      [5, 'Required attendee'],
      [6, 'Optional attendee'],
      [7, 'Organizer'],
      [8, 'Regarding'],
      [9, 'Owner'],
      [10, 'Resource'],
      [11, 'Customer'],
    ]),
    str('addressused', 'Address', 320),
  ],
});
