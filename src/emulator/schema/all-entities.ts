import {
  account,
  activitymimeattachment,
  activityparty,
  activitypointer,
  annotation,
  appointment,
  businessunit,
  competitor,
  contact,
  duplicaterule,
  duplicaterulecondition,
  email,
  incident,
  incidentresolution,
  lead,
  opportunity,
  opportunityclose,
  opportunitycompetitors,
  opportunityproduct,
  organization,
  phonecall,
  pricelevel,
  product,
  slakpiinstance,
  systemuser,
  task,
  team,
  teammembership,
  territory,
  transactioncurrency,
  uom,
} from './entities.js';
import { knowledgearticle, knowledgearticleincident } from './knowledge.js';
import { leadtoopportunitysalesprocess, opportunitysalesprocess, processstage, workflow } from './processes.js';
import { queue, queueitem } from './queues.js';
import { type EntityDef, PRINCIPAL } from './types.js';

/** 1:N relationships by their documented (or Dataverse-style) collection-valued navigation names. */
const ONE_TO_MANY: [string, string, string, string][] = [
  // [referenced entity, navigation property, referencing entity, referencing attribute]
  ['account', 'contact_customer_accounts', 'contact', 'parentcustomerid'],
  ['account', 'opportunity_customer_accounts', 'opportunity', 'customerid'],
  ['account', 'incident_customer_accounts', 'incident', 'customerid'],
  ['account', 'opportunity_parent_account', 'opportunity', 'parentaccountid'],
  ['account', 'lead_parent_account', 'lead', 'parentaccountid'],
  ['account', 'account_parent_account', 'account', 'parentaccountid'],
  ['account', 'account_master_account', 'account', 'masterid'],
  ['contact', 'contact_master_contact', 'contact', 'masterid'],
  ['lead', 'lead_master_lead', 'lead', 'masterid'],
  ['contact', 'contact_customer_contacts', 'contact', 'parentcustomerid'],
  ['contact', 'opportunity_customer_contacts', 'opportunity', 'customerid'],
  ['contact', 'incident_customer_contacts', 'incident', 'customerid'],
  // the records a user or a team owns (Dataverse's user_accounts and team_accounts follow owninguser and owningteam)
  ['systemuser', 'user_accounts', 'account', 'owninguser'],
  ['systemuser', 'user_opportunities', 'opportunity', 'owninguser'],
  ['systemuser', 'user_leads', 'lead', 'owninguser'],
  ['systemuser', 'user_incidents', 'incident', 'owninguser'],
  ['team', 'team_accounts', 'account', 'owningteam'],
  ['team', 'team_opportunities', 'opportunity', 'owningteam'],
  ['team', 'team_leads', 'lead', 'owningteam'],
  ['team', 'team_incidents', 'incident', 'owningteam'],
  ['territory', 'territory_accounts', 'account', 'territoryid'],
  ['territory', 'territory_system_users', 'systemuser', 'territoryid'],
  // each table's notes (its <Table>_Annotation relationship, as in Microsoft's samples: $expand=Account_Annotation)
  ['account', 'Account_Annotation', 'annotation', 'objectid'],
  ['contact', 'Contact_Annotation', 'annotation', 'objectid'],
  ['lead', 'Lead_Annotation', 'annotation', 'objectid'],
  ['opportunity', 'Opportunity_Annotation', 'annotation', 'objectid'],
  ['incident', 'Incident_Annotation', 'annotation', 'objectid'],
  // a case's child cases (their parentcaseid)
  ['incident', 'incident_parent_incident', 'incident', 'parentcaseid'],
  ['incident', 'incident_master_incident', 'incident', 'masterid'],
  // the cases whose SLA clocks a KPI instance is
  ['slakpiinstance', 'slakpiinstance_incident_firstresponsebykpi', 'incident', 'firstresponsebykpiid'],
  ['slakpiinstance', 'slakpiinstance_incident_resolvebykpi', 'incident', 'resolvebykpiid'],
  ['incident', 'Incident_IncidentResolutions', 'incidentresolution', 'incidentid'],
  ['opportunity', 'Opportunity_OpportunityClose', 'opportunityclose', 'opportunityid'],
  // a deal's products, its lines (the name samples use: opportunities?$expand=product_opportunities)
  ['opportunity', 'product_opportunities', 'opportunityproduct', 'opportunityid'],
  // each table's tasks (ASSOC and the entity reference name Account_Tasks; the others follow Dataverse's pattern)
  ['account', 'Account_Tasks', 'task', 'regardingobjectid'],
  ['contact', 'Contact_Tasks', 'task', 'regardingobjectid'],
  ['lead', 'Lead_Tasks', 'task', 'regardingobjectid'],
  ['opportunity', 'Opportunity_Tasks', 'task', 'regardingobjectid'],
  ['incident', 'Incident_Tasks', 'task', 'regardingobjectid'],
  // and their phone calls ("PhoneCall entity reference", one-to-many relationships)
  ['account', 'Account_Phonecalls', 'phonecall', 'regardingobjectid'],
  ['contact', 'Contact_Phonecalls', 'phonecall', 'regardingobjectid'],
  ['lead', 'Lead_Phonecalls', 'phonecall', 'regardingobjectid'],
  ['opportunity', 'Opportunity_Phonecalls', 'phonecall', 'regardingobjectid'],
  ['incident', 'Incident_Phonecalls', 'phonecall', 'regardingobjectid'],
  // and the emails filed against them (Account_Emails, as the reference names it for accounts)
  ['account', 'Account_Emails', 'email', 'regardingobjectid'],
  ['contact', 'Contact_Emails', 'email', 'regardingobjectid'],
  ['lead', 'Lead_Emails', 'email', 'regardingobjectid'],
  ['opportunity', 'Opportunity_Emails', 'email', 'regardingobjectid'],
  ['incident', 'Incident_Emails', 'email', 'regardingobjectid'],
  // and the meetings about them (Account_Appointments and kin)
  ['account', 'Account_Appointments', 'appointment', 'regardingobjectid'],
  ['contact', 'Contact_Appointments', 'appointment', 'regardingobjectid'],
  ['lead', 'Lead_Appointments', 'appointment', 'regardingobjectid'],
  ['opportunity', 'Opportunity_Appointments', 'appointment', 'regardingobjectid'],
  ['incident', 'Incident_Appointments', 'appointment', 'regardingobjectid'],
  // and all of them as one (Account_ActivityPointers: its regardingobjectid_account)
  ['account', 'Account_ActivityPointers', 'activitypointer', 'regardingobjectid'],
  ['contact', 'Contact_ActivityPointers', 'activitypointer', 'regardingobjectid'],
  ['lead', 'Lead_ActivityPointers', 'activitypointer', 'regardingobjectid'],
  ['opportunity', 'Opportunity_ActivityPointers', 'activitypointer', 'regardingobjectid'],
  ['incident', 'Incident_ActivityPointers', 'activitypointer', 'regardingobjectid'],
  // the people on them: an activity's parties, and the activities a record is a party to
  ['phonecall', 'phonecall_activity_parties', 'activityparty', 'activityid'],
  ['email', 'email_activity_parties', 'activityparty', 'activityid'],
  ['appointment', 'appointment_activity_parties', 'activityparty', 'activityid'],
  ['account', 'account_activity_parties', 'activityparty', 'partyid'],
  ['contact', 'contact_activity_parties', 'activityparty', 'partyid'],
  ['lead', 'lead_activity_parties', 'activityparty', 'partyid'],
  ['systemuser', 'system_user_activity_parties', 'activityparty', 'partyid'],
  // the files that came with an email or a meeting (its objectid_email, objectid_appointment)
  ['email', 'email_activity_mime_attachment', 'activitymimeattachment', 'objectid'],
  ['appointment', 'appointment_activity_mime_attachment', 'activitymimeattachment', 'objectid'],
  ['duplicaterule', 'DuplicateRule_DuplicateRuleConditions', 'duplicaterulecondition', 'regardingobjectid'],
  // what is in a queue, and the queue item each case or activity has there (QueueItem table reference)
  ['queue', 'queue_entries', 'queueitem', 'queueid'],
  ['incident', 'Incident_QueueItem', 'queueitem', 'objectid'],
  ['email', 'Email_QueueItem', 'queueitem', 'objectid'],
  ['phonecall', 'PhoneCall_QueueItem', 'queueitem', 'objectid'],
  ['task', 'Task_QueueItem', 'queueitem', 'objectid'],
  ['appointment', 'Appointment_QueueItem', 'queueitem', 'objectid'],
  ['systemuser', 'lk_queueitembase_workerid', 'queueitem', 'workerid'],
  ['team', 'team_queueitembase_workerid', 'queueitem', 'workerid'],
  // the cases an article was used on, and the articles a case used (KnowledgeArticleIncident table reference:
  // incident_knowledgearticles is the article's side, knowledgearticle_incidents the case's, as named there)
  ['knowledgearticle', 'incident_knowledgearticles', 'knowledgearticleincident', 'knowledgearticleid'],
  ['incident', 'knowledgearticle_incidents', 'knowledgearticleincident', 'incidentid'],
  // a process's stages, the runs at each stage (ProcessStage table reference: lk_opportunitysalesprocess_activestageid,
  // lk_leadtoopportunitysalesprocess_activestageid) and a deal's or a lead's runs (their side named by us: a GUESS)
  ['workflow', 'process_processstage', 'processstage', 'processid'],
  ['processstage', 'lk_opportunitysalesprocess_activestageid', 'opportunitysalesprocess', 'activestageid'],
  ['opportunity', 'bpf_opportunity_opportunitysalesprocess', 'opportunitysalesprocess', 'opportunityid'],
  ['processstage', 'lk_leadtoopportunitysalesprocess_activestageid', 'leadtoopportunitysalesprocess', 'activestageid'],
  ['lead', 'bpf_lead_leadtoopportunitysalesprocess', 'leadtoopportunitysalesprocess', 'leadid'],
  ['opportunity', 'bpf_opportunity_leadtoopportunitysalesprocess', 'leadtoopportunitysalesprocess', 'opportunityid'],
];

/**
 * N:N relationships: [schema name, entity 1, its navigation property, entity 2, its navigation property,
 * intersect table, its column for entity 1's id, for entity 2's]. A team's members (Team table reference,
 * teammembership_association, both sides named so; which side is entity 1 is a GUESS), and the competitors an
 * opportunity is against (OpportunityCompetitors table reference; entity 1 being the opportunity is a GUESS).
 */
const MANY_TO_MANY: [string, string, string, string, string, string, string, string][] = [
  [
    'teammembership_association',
    'team',
    'teammembership_association',
    'systemuser',
    'teammembership_association',
    'teammembership',
    'teamid',
    'systemuserid',
  ],
  [
    'opportunitycompetitors_association',
    'opportunity',
    'opportunitycompetitors_association',
    'competitor',
    'opportunitycompetitors_association',
    'opportunitycompetitors',
    'opportunityid',
    'competitorid',
  ],
];

export const ALL_ENTITIES: EntityDef[] = [
  account,
  contact,
  lead,
  opportunity,
  incident,
  annotation,
  incidentresolution,
  opportunityclose,
  task,
  phonecall,
  email,
  appointment,
  activitymimeattachment,
  activityparty,
  activitypointer,
  systemuser,
  team,
  teammembership,
  competitor,
  opportunitycompetitors,
  product,
  uom,
  pricelevel,
  opportunityproduct,
  territory,
  transactioncurrency,
  businessunit,
  organization,
  duplicaterule,
  duplicaterulecondition,
  slakpiinstance,
  queue,
  queueitem,
  knowledgearticle,
  knowledgearticleincident,
  workflow,
  processstage,
  opportunitysalesprocess,
  leadtoopportunitysalesprocess,
];

function link(entities: EntityDef[]): void {
  const byName = new Map(entities.map((e) => [e.logicalName, e]));
  for (const e of entities) {
    for (const a of e.attributes) {
      if (!a.targets) continue;
      if (a.type === 'Owner') {
        // an owner's one relationship is to the owner table (the principal type, a user or a team): its
        // navigation property is the column's name, and through it only the owner's id can be read
        e.manyToOne.push({
          navigationProperty: a.logicalName,
          attribute: a.logicalName,
          target: PRINCIPAL,
          schemaName: `owner_${e.entitySetName}`,
        });
        continue;
      }
      for (const target of a.targets) {
        if (!byName.has(target)) continue;
        // Polymorphic lookups (Customer, or a Lookup of several tables such as a note's objectid) get one
        // typed navigation property per target (customerid_account, objectid_contact).
        const nav = a.targets.length > 1 ? `${a.logicalName}_${target}${a.navigationSuffix ?? ''}` : a.logicalName;
        e.manyToOne.push({
          navigationProperty: nav,
          attribute: a.logicalName,
          target,
          schemaName: `${e.logicalName}_${a.logicalName}_${target}`,
        });
      }
    }
  }
  for (const [referenced, nav, referencing, attribute] of ONE_TO_MANY) {
    byName.get(referenced)!.oneToMany.push({
      navigationProperty: nav,
      referencingEntity: referencing,
      referencingAttribute: attribute,
      schemaName: nav,
    });
  }
  for (const [schemaName, one, nav1, two, nav2, intersect, attr1, attr2] of MANY_TO_MANY) {
    // each table's side: its list of the other table's rows, paired with it through the intersect table
    const sides = [
      [one, nav1, attr1, two, nav2, attr2],
      [two, nav2, attr2, one, nav1, attr1],
    ] as const;
    for (const [i, [table, nav, self, other, back, otherAttr]] of sides.entries())
      byName.get(table)!.oneToMany.push({
        navigationProperty: nav,
        referencingEntity: other,
        referencingAttribute: '',
        schemaName,
        through: { intersect, self, other: otherAttr, back, first: i === 0 },
      });
  }
}

link(ALL_ENTITIES);
