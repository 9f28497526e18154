import type { PolicyInput } from './schema.js';

const address = [
  'address1_line1',
  'address1_city',
  'address1_stateorprovince',
  'address1_postalcode',
  'address1_country',
];
const audit = ['createdon', 'modifiedon', 'ownerid', 'statecode', 'statuscode'];
/**
 * Following a record's owner to its name or other columns: the owner is a user or a team, reached through
 * owninguser or owningteam (its own relationship, ownerid, leads to the principal type, which has no name).
 */
const owners = ['owninguser', 'owningteam'];
/** what a task says: what to do, about which record, by when, how urgent, and how far along */
const taskColumns = [
  'subject',
  'description',
  'scheduledstart',
  'scheduledend',
  'actualend',
  'actualdurationminutes',
  'percentcomplete',
  'prioritycode',
  'regardingobjectid',
];

/** What a phone call logged against a record says: its topic, which way, how long, when, about what */
const callColumns = [
  'subject',
  'description',
  'directioncode',
  'phonenumber',
  'scheduledend',
  'actualend',
  'actualdurationminutes',
  'prioritycode',
  'regardingobjectid',
];

/** What a record's run of a business process flow says: its process, where it is, the path it took, its state */
const processRunColumns = [
  'businessprocessflowinstanceid',
  'name',
  'processid',
  'activestageid',
  'activestagestartedon',
  'traversedpath',
  'completedon',
  'createdon',
  'modifiedon',
  'statecode',
  'statuscode',
];

/** The tables whose records the activities below are regarding */
const regarded = ['account', 'contact', 'lead', 'opportunity', 'incident'];
/** What a lead's qualifying asks: the company's size and revenue, the budget, need, timeframe and buying process */
const leadQualifying = ['numberofemployees', 'revenue', 'budgetamount', 'need', 'purchasetimeframe', 'purchaseprocess'];
/** An activity's Regarding, one typed navigation property per table (regardingobjectid_account_task …) */
const regardingOf = (activity: string) => regarded.map((t) => `regardingobjectid_${t}_${activity}`);
/** A table's activities, by its relationships' names (Account_Tasks, Account_Phonecalls …; all as one, Account_ActivityPointers) */
const activitiesOf = (table: string) =>
  ['Tasks', 'Phonecalls', 'Emails', 'Appointments', 'ActivityPointers'].map((a) => `${table}_${a}`);

/**
 * The built-in policy: the business columns of accounts, contacts, leads, opportunities and cases (new
 * accounts, contacts, opportunities, tasks, phone calls and products on deals through create_record), notes, tasks and phone
 * calls on them (and, to read, their emails and meetings), cases' resolutions, the competitors a deal is
 * against (linked and unlinked by update_record), the product catalogue (read) and the products on deals (added and changed), the support
 * queues, the knowledge base (read) and the articles used on cases, deals' runs of the Opportunity Sales
 * Process (their stage moved with the deal's), and read access to user and territory names (owners,
 * assignment) and to the organisation's name and calendar settings. Left out on purpose: credit limits and credit hold, contacts' birthdays and income, products' costs, and every
 * table not named here.
 */
export const DEFAULT_POLICY: PolicyInput = {
  readOnly: false,
  entities: {
    account: {
      create: true,
      read: [
        'accountid',
        'name',
        'accountnumber',
        'telephone1',
        'emailaddress1',
        'websiteurl',
        ...address,
        'industrycode',
        'accountcategorycode',
        'customertypecode',
        'revenue',
        // the revenue in the organisation's currency: accounts abroad keep theirs in their own
        'revenue_base',
        'numberofemployees',
        'description',
        'primarycontactid',
        'parentaccountid',
        'territoryid',

        // the lead it was qualified from
        'originatingleadid',
        // the account it was merged into
        'masterid',
        ...audit,
      ],
      write: [
        'name',
        'accountnumber',
        'telephone1',
        'emailaddress1',
        'websiteurl',
        ...address,
        'industrycode',
        'accountcategorycode',
        'customertypecode',
        'revenue',
        'numberofemployees',
        'description',
        'primarycontactid',
        'parentaccountid',
        // written, it merges the account into that one (Dynamics' Merge: merge-records.ts)
        'masterid',
      ],
      expand: [
        'primarycontactid',
        'parentaccountid',
        ...owners,
        'territoryid',
        'contact_customer_accounts',
        'opportunity_customer_accounts',
        'incident_customer_accounts',
        'Account_Annotation',
        ...activitiesOf('Account'),
      ],
    },
    contact: {
      create: true,
      read: [
        'contactid',
        'firstname',
        'lastname',
        'fullname',
        'emailaddress1',
        'telephone1',
        'mobilephone',
        'jobtitle',
        'address1_city',
        'address1_postalcode',
        'parentcustomerid',
        'donotemail',
        'description',

        // the lead it was qualified from
        'originatingleadid',
        // the contact it was merged into
        'masterid',
        ...audit,
      ],
      write: [
        'firstname',
        'lastname',
        'emailaddress1',
        'telephone1',
        'mobilephone',
        'jobtitle',
        'address1_city',
        'address1_postalcode',
        'parentcustomerid',
        'donotemail',
        'description',
        // written, it merges the contact into that one (Dynamics' Merge: merge-records.ts)
        'masterid',
      ],
      // a contact's Company Name is an account or, less often, another contact: both followed, so that "the
      // contacts of Contoso" by name asks both
      expand: [
        'parentcustomerid_account',
        'parentcustomerid_contact',
        ...owners,
        'Contact_Annotation',
        ...activitiesOf('Contact'),
      ],
      sensitive: ['emailaddress1', 'telephone1', 'mobilephone'],
    },
    lead: {
      read: [
        'leadid',
        'subject',
        'firstname',
        'lastname',
        'fullname',
        'companyname',
        'jobtitle',
        'emailaddress1',
        'telephone1',
        'mobilephone',
        'websiteurl',
        ...address,
        'industrycode',
        'leadsourcecode',
        'leadqualitycode',
        'estimatedvalue',
        ...leadQualifying,
        'description',
        'parentaccountid',
        'parentcontactid',
        // the opportunity the lead was qualified into
        'qualifyingopportunityid',
        // the lead it was merged into
        'masterid',

        ...audit,
      ],
      write: [
        // "Qualified" qualifies the lead (QualifyLead); "Disqualified" with a reason disqualifies it
        'statecode',
        'statuscode',
        'subject',
        'firstname',
        'lastname',
        'companyname',
        'jobtitle',
        'emailaddress1',
        'telephone1',
        'mobilephone',
        'websiteurl',
        ...address,
        'industrycode',
        'leadsourcecode',
        'leadqualitycode',
        'estimatedvalue',
        ...leadQualifying,
        'description',
        'parentaccountid',
        'ownerid',
        // written, it merges the lead into that one (Dynamics' Merge: merge-records.ts)
        'masterid',
      ],
      expand: [
        'parentaccountid',
        'parentcontactid',
        'qualifyingopportunityid',
        ...owners,
        'Lead_Annotation',
        ...activitiesOf('Lead'),
      ],
      sensitive: ['emailaddress1', 'telephone1', 'mobilephone'],
    },
    opportunity: {
      create: true,
      read: [
        'opportunityid',
        'name',
        'customerid',
        'parentaccountid',
        'parentcontactid',
        'estimatedvalue',
        // the value in the organisation's base currency, and the deal's own currency: totals add up _base
        'estimatedvalue_base',
        'transactioncurrencyid',
        'actualvalue',
        'actualvalue_base',
        'estimatedclosedate',
        'actualclosedate',
        'closeprobability',
        'stepname',
        'salesstage',
        'opportunityratingcode',
        'description',

        // the lead it was qualified from
        'originatingleadid',
        // the price list its products are priced from, and whether its value is their total or typed in
        'pricelevelid',
        'isrevenuesystemcalculated',
        ...audit,
      ],
      write: [
        // reopening (Open / Active) is an update of the state; Won, Lost and Resolved go through their actions
        'statecode',
        'statuscode',
        'name',
        // whose deal it is, for create_record (Potential Customer, Account, Contact)
        'customerid',
        'parentaccountid',
        'parentcontactid',
        'estimatedvalue',
        // the currency the deal's values are in, by its name ("Euro"); Dynamics takes the user's or the
        // organisation's when none is given, and converts to the base currency with its exchange rate
        'transactioncurrencyid',
        'estimatedclosedate',
        'closeprobability',
        'stepname',
        'salesstage',
        'opportunityratingcode',
        'description',
        // Revenue: System Calculated (the total of its products) or User Provided (typed in)
        'isrevenuesystemcalculated',
        // whose deal it is: a new owner is Dynamics' assign (a PATCH of the lookup), as for leads
        'ownerid',
        // whom the deal is against: a many-to-many relationship named here lets update_record link and unlink
        // its records ("add Nimbus CRM as a competitor")
        'opportunitycompetitors_association',
      ],
      expand: [
        'customerid_account',
        'customerid_contact',
        'parentaccountid',
        'parentcontactid',
        ...owners,
        'Opportunity_Annotation',
        ...activitiesOf('Opportunity'),
        'Opportunity_OpportunityClose',
        'opportunitycompetitors_association',
        // its products (the lines: product, quantity, price, discount, amount)
        'product_opportunities',
        'pricelevelid',
      ],
    },
    incident: {
      read: [
        'incidentid',
        'title',
        'ticketnumber',
        'customerid',
        'primarycontactid',
        'description',
        'prioritycode',
        'casetypecode',
        'caseorigincode',
        'severitycode',
        'servicestage',
        'isescalated',
        'escalatedon',
        'followupby',
        'customersatisfactioncode',
        'dmcp_externalref',
        // the case this one is a child of (one problem reported more than once)
        'parentcaseid',
        // the case it was merged into
        'masterid',
        // where its service level agreement stands: resolve by when, and its clocks (set by the SLA, read only)
        'resolveby',
        'resolvebyslastatus',
        'firstresponseslastatus',
        'firstresponsesent',
        'resolvebykpiid',
        'firstresponsebykpiid',
        // when it last went on hold, and how long it has waited there in all (its SLA paused meanwhile)
        'lastonholdtime',
        'onholdtime',
        ...audit,
      ],
      write: [
        // reopening (Open / Active) is an update of the state; Won, Lost and Resolved go through their actions
        'statecode',
        'statuscode',
        'title',
        'description',
        'prioritycode',
        'casetypecode',
        'caseorigincode',
        'customerid',
        'primarycontactid',
        'dmcp_externalref',
        'servicestage',
        'isescalated',
        'followupby',
        'customersatisfactioncode',
        'parentcaseid',
        // the customer has had a first answer: the SLA's first response clock stops on it
        'firstresponsesent',
        // who works the case: a new owner is Dynamics' assign
        'ownerid',
        // written, it merges the case into that one (Dynamics' Merge: merge-records.ts)
        'masterid',
      ],
      expand: [
        'customerid_account',
        'customerid_contact',
        'primarycontactid',
        // its parent case, and its child cases
        'parentcaseid',
        'incident_parent_incident',
        // its SLA clocks: when each warns and fails
        'resolvebykpiid',
        'firstresponsebykpiid',
        ...owners,
        'Incident_Annotation',
        ...activitiesOf('Incident'),
        'Incident_IncidentResolutions',
        // the queue it waits in, and who has taken it there
        'Incident_QueueItem',
        // the knowledge articles used on it
        'knowledgearticle_incidents',
      ],
    },
    // a case's resolution: resolve_case writes it with the CloseIncident action, which resolves the case
    incidentresolution: {
      read: ['activityid', 'subject', 'description', 'incidentid', 'timespent', 'createdon', 'ownerid'],
      write: ['subject', 'description', 'incidentid', 'timespent'],
      expand: ['incidentid', ...owners],
    },
    // an opportunity's close: update_record writes it with the WinOpportunity or LoseOpportunity action when an
    // opportunity's statecode is set to Won or Lost
    opportunityclose: {
      read: [
        'activityid',
        'subject',
        'description',
        'opportunityid',
        'actualrevenue',
        'actualend',
        // the competitor a lost deal went to
        'competitorid',
        'createdon',
        'ownerid',
      ],
      write: ['subject', 'description', 'opportunityid', 'actualrevenue', 'actualend', 'competitorid'],
      expand: ['opportunityid', 'competitorid', ...owners],
    },
    // an SLA clock on a case (its first response, its resolution): when it warns and fails, and how it stands
    slakpiinstance: {
      read: ['slakpiinstanceid', 'name', 'status', 'warningtime', 'failuretime', 'succeededon', 'elapsedtime'],
      expand: ['slakpiinstance_incident_resolvebykpi', 'slakpiinstance_incident_firstresponsebykpi'],
    },
    // the support queues and what waits in each: which queue a case is in, since when, and who has taken it
    // (Worked By); update_record sets who works an item, as a lead hands one out or an agent takes one, and
    // moves it to another queue (queueid: Dynamics' AddToQueue). An item goes Inactive by itself when its case
    // or activity closes.
    queue: {
      read: ['queueid', 'name', 'description', 'emailaddress', 'queueviewtype', 'statecode', 'ownerid'],
      expand: ['queue_entries', ...owners],
    },
    queueitem: {
      read: [
        'queueitemid',
        'title',
        'queueid',
        'objectid',
        'objecttypecode',
        'workerid',
        'workeridmodifiedon',
        'enteredon',
        'statecode',
        'statuscode',
        'createdon',
        'modifiedon',
      ],
      // create_record puts a case or an activity in a queue (objectid, queueid: AddToQueue); delete_record takes
      // it out ("When you delete a queue item, a referenced row is not deleted": the case stays as it is)
      create: true,
      delete: true,
      write: ['workerid', 'queueid', 'objectid'],
      expand: [
        'queueid',
        'objectid_incident',
        'objectid_email',
        'objectid_phonecall',
        'objectid_task',
        'objectid_appointment',
        'workerid_systemuser',
        'workerid_team',
      ],
    },
    // the knowledge base agents answer from: each article's HTML content, keywords and place in its life cycle
    // (a model is to quote Published, latest versions; a draft or an archived version is not an answer), and
    // the cases each was used on. Read only: articles are written and published in Dynamics' own editor.
    knowledgearticle: {
      read: [
        'knowledgearticleid',
        'title',
        'articlepublicnumber',
        'description',
        'keywords',
        'content',
        'isinternal',
        'islatestversion',
        'majorversionnumber',
        'minorversionnumber',
        'primaryauthorid',
        'publishon',
        'expirationdate',
        'knowledgearticleviews',
        'rating',
        'statecode',
        'statuscode',
        'createdon',
        'modifiedon',
        'ownerid',
      ],
      expand: ['primaryauthorid', 'incident_knowledgearticles', ...owners],
    },
    // an article used on a case: as its solution, a reference or a source, and whether it was sent to the customer;
    // an agent records it with create_record (the article and the case), and that the link was sent with
    // update_record, as the case form's Knowledge Search does
    knowledgearticleincident: {
      create: true,
      write: ['knowledgearticleid', 'incidentid', 'knowledgeusage', 'issenttocustomer'],
      read: [
        'knowledgearticleincidentid',
        'knowledgearticleid',
        'incidentid',
        'knowledgeusage',
        'issenttocustomer',
        'statecode',
        'createdon',
        'ownerid',
      ],
      expand: ['knowledgearticleid', 'incidentid', ...owners],
    },
    // notes on the tables above (add_note writes them; query_entities reads them by objectid)
    annotation: {
      // with the file a note may carry: its name, type and size, and its content (read only when asked for)
      read: [
        'annotationid',
        'subject',
        'notetext',
        'objectid',
        'createdon',
        'modifiedon',
        'ownerid',
        'isdocument',
        'filename',
        'mimetype',
        'filesize',
        'documentbody',
      ],
      write: ['subject', 'notetext', 'objectid'],
      expand: [
        'objectid_account',
        'objectid_contact',
        'objectid_lead',
        'objectid_opportunity',
        'objectid_incident',
        ...owners,
      ],
    },
    // tasks on the tables above: what someone is to do next, and by when (create_record makes them; update_record
    // completes them with statecode "Completed")
    task: {
      create: true,
      read: ['activityid', ...taskColumns, ...audit],
      write: [...taskColumns, 'ownerid', 'statecode', 'statuscode'],
      expand: [...regardingOf('task'), ...owners],
    },
    // phone calls on the tables above: a call logged (create_record), then completed as Made or Received
    // (update_record: statecode "Completed")
    phonecall: {
      create: true,
      read: ['activityid', ...callColumns, 'from', 'to', ...audit],
      write: [...callColumns, 'from', 'to', 'ownerid', 'statecode', 'statuscode'],
      expand: [...regardingOf('phonecall'), 'phonecall_activity_parties', ...owners],
    },
    // who was on a call (Call From, Call To: its party lists), an email or a meeting, read through their
    // <table>_activity_parties; create_record writes a call's with the call
    activityparty: {
      // addressused: the address an email went to when no record has it (an unresolved recipient)
      read: ['activitypartyid', 'activityid', 'partyid', 'participationtypemask', 'addressused'],
      // a party by name ("calls with Nina Castillo") is looked for by each table's name through these
      expand: ['partyid_account', 'partyid_contact', 'partyid_lead', 'partyid_systemuser'],
    },
    // emails filed against the tables above: who wrote to whom, when, about what. Bodies (description: HTML,
    // often whole quoted threads) are not read; an administrator may add them. create_record drafts one (a reply
    // to a customer, filed against the case: subject, body, From, To and Cc, who it is for): a draft only, which
    // Dynamics sends when a person sends it; nothing here sends an email or changes its state
    email: {
      create: true,
      read: [
        'activityid',
        'subject',
        'directioncode',
        'sender',
        'torecipients',
        'senton',
        'regardingobjectid',
        'to',
        'cc',
        // how many files came with it (read from email_activity_mime_attachment)
        'attachmentcount',
        ...audit,
      ],
      // from: the user (or queue) it is to be sent from; a draft given to a user (ownerid) is from them by default
      write: ['subject', 'description', 'regardingobjectid', 'from', 'to', 'cc', 'ownerid'],
      expand: [...regardingOf('email'), 'email_activity_parties', 'email_activity_mime_attachment', ...owners],
    },
    // meetings about the tables above, read only: when, where, about what, and who (its organizer and attendees,
    // appointment_activity_parties)
    appointment: {
      read: [
        'activityid',
        'subject',
        'location',
        'scheduledstart',
        'scheduledend',
        'scheduleddurationminutes',
        'isalldayevent',
        'regardingobjectid',
        ...audit,
      ],
      expand: [
        ...regardingOf('appointment'),
        'appointment_activity_parties',
        'appointment_activity_mime_attachment',
        ...owners,
      ],
    },
    // the files that came with those emails and meetings, read only: named, sized and typed, and their content
    // (body) when asked for, a text file as its text (as a note's file)
    activitymimeattachment: {
      read: ['activitymimeattachmentid', 'filename', 'mimetype', 'filesize', 'body', 'objectid'],
      expand: ['objectid_email', 'objectid_appointment'],
    },
    // every activity above as one (ActivityPointer: its activitytypecode says which table), so that what happened
    // on a record is one query, newest first. Only what each of the four lets the model read, and the dates:
    // never description, which is an email's body (left out of email above)
    activitypointer: {
      read: [
        'activityid',
        'activitytypecode',
        'subject',
        'regardingobjectid',
        'scheduledstart',
        'scheduledend',
        'actualend',
        'statecode',
        'createdon',
        'modifiedon',
        'ownerid',
      ],
      expand: [...regarded.map((t) => `regardingobjectid_${t}`), ...owners],
    },
    // the organisation's duplicate detection rules and their conditions: a create they refuse is answered with
    // the record they matched (tools/support/rule-match.ts)
    duplicaterule: {
      read: ['duplicateruleid', 'name', 'baseentityname', 'matchingentityname', 'excludeinactiverecords', 'statecode'],
    },
    duplicaterulecondition: {
      read: [
        'duplicateruleconditionid',
        'baseattributename',
        'matchingattributename',
        'operatorcode',
        'operatorparam',
        'regardingobjectid',
      ],
    },
    systemuser: {
      read: ['systemuserid', 'fullname', 'internalemailaddress', 'title', 'territoryid', 'isdisabled'],
      // the teams a user is on (many-to-many, through teammembership)
      expand: ['territoryid', 'teammembership_association'],
    },
    // teams own records as users do: a team-owned case's owner is found, and named, by its team; and who is on it
    team: {
      read: ['teamid', 'name', 'teamtype', 'isdefault', 'description'],
      expand: ['teammembership_association'],
    },
    // a deal's run of the Opportunity Sales Process, the bar across its form: update_record moves it, stage by
    // stage, when a deal's stage (stepname or salesstage) is changed, and writes the deal's Pipeline Phase with it;
    // the process's stages are read to find the one meant
    opportunitysalesprocess: {
      read: ['opportunityid', ...processRunColumns],
      write: ['activestageid', 'traversedpath'],
      expand: ['activestageid', 'opportunityid'],
    },
    // and a deal's run of the Lead to Opportunity Sales Process, which the deal's lead began (its Qualify stage the
    // lead's, the others the deal's)
    leadtoopportunitysalesprocess: {
      read: ['leadid', 'opportunityid', ...processRunColumns],
      write: ['activestageid', 'traversedpath'],
      expand: ['activestageid', 'leadid', 'opportunityid'],
    },
    processstage: {
      read: ['processstageid', 'stagename', 'stagecategory', 'processid', 'primaryentitytypecode'],
    },
    // the companies a deal is against (Sales' competitors), read only: who they are, and the deals each is in
    competitor: {
      read: ['competitorid', 'name', 'websiteurl', 'overview', 'strengths', 'weaknesses'],
      expand: ['opportunitycompetitors_association'],
    },
    // what the organisation sells, read only: name, number, type, list price, unit, Active or Retired (not its
    // cost: a margin is for those an administrator lets see it)
    product: {
      read: [
        'productid',
        'name',
        'productnumber',
        'description',
        'producttypecode',
        'price',
        'defaultuomid',
        'pricelevelid',
        'transactioncurrencyid',
        'statecode',
        'statuscode',
      ],
      expand: ['defaultuomid', 'pricelevelid'],
    },
    // the products on deals: which product (or a write-in), how many at what price, the discount, the line's
    // amount and its amount in the base currency ("what is on the Contoso deal", "revenue per product"); a seller
    // adds one with create_record, changes how many or the discount with update_record and removes one with
    // delete_record (Amount and Extended Amount are Dynamics' to work out). Deleted from here, as a queue item
    // is: a line is a deal's detail, which Dynamics' own form removes with a click, and nothing hangs from it
    opportunityproduct: {
      create: true,
      delete: true,
      read: [
        'opportunityproductid',
        'opportunityproductname',
        'opportunityid',
        'productid',
        'productdescription',
        'isproductoverridden',
        'ispriceoverridden',
        'quantity',
        'uomid',
        'priceperunit',
        'baseamount',
        'manualdiscountamount',
        'tax',
        'extendedamount',
        'extendedamount_base',
        'transactioncurrencyid',
        'description',
        'sequencenumber',
        'createdon',
        'modifiedon',
        'ownerid',
      ],
      write: [
        'opportunityid',
        'productid',
        'productdescription',
        'isproductoverridden',
        'ispriceoverridden',
        'uomid',
        'quantity',
        'priceperunit',
        'manualdiscountamount',
        'tax',
        'description',
      ],
      expand: ['opportunityid', 'productid', 'uomid'],
    },
    uom: { read: ['uomid', 'name', 'quantity'] },
    pricelevel: {
      read: ['pricelevelid', 'name', 'transactioncurrencyid', 'begindate', 'enddate', 'statecode', 'statuscode'],
    },
    territory: {
      read: ['territoryid', 'name', 'managerid'],
      expand: ['managerid'],
    },
    // the organisation's currencies, so that a deal's currency is found by its name ("Euro"), and said with its code
    transactioncurrency: {
      read: ['transactioncurrencyid', 'currencyname', 'isocurrencycode', 'currencysymbol', 'exchangerate'],
    },
    // the organisation's calendar settings: quarters and weeks are counted by them (dynamics/org-calendar.ts)
    organization: {
      read: ['organizationid', 'name', 'fiscalcalendarstart', 'fiscalyeardisplaycode', 'weekstartdaycode'],
    },
  },
};
