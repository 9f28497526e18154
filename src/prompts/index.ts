import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { linkedSignal } from '../dynamics/signals.js';
import type { ServerDeps } from '../server.js';
import { type Completer, namesStartingWith, periodsStartingWith } from './completions.js';
import { LOG_CALL, logCallText, loggable } from './log-call.js';
import { MERGE_DUPLICATES, mergeable, mergeDuplicatesText } from './merge-duplicates.js';
import { GUID, needed, user } from './text.js';

const ARGS = {
  qualifyLead: { submission: needed('submission', 'The form fields or message, as text.') },
  caseFromAlert: {
    alert: needed('alert', 'The alert text, as the monitoring system sent it.'),
    alertId: z.string().optional().describe("The monitoring system's id for this alert."),
  },
  reviewWinsAndLosses: {
    period: z
      .string()
      .optional()
      .describe('Closed when, in words such as "last 6 months" or "this year" (default: last 6 months).'),
  },
  reviewSupport: {
    period: z
      .string()
      .optional()
      .describe('When, in words such as "last 3 months" or "this quarter" (default: last 3 months).'),
  },
  accountBrief: { account: needed('account', 'The account, by its name (or part of it) or its id.') },
  answerCase: { case: needed('case', 'The case, by its number (CAS-…), its title (or part of it) or its id.') },
  dealReview: { deal: needed('deal', 'The opportunity, by its name (or part of it) or its id.') },
  dailyAgenda: {
    owner: needed('owner', 'The user whose day it is, by full name (e.g. the owner of the records).'),
  },
  reviewPipeline: {
    from: z.string().optional().describe('First close date, YYYY-MM-DD (default: current quarter).'),
    to: z.string().optional().describe('Last close date, YYYY-MM-DD.'),
  },
};

/**
 * The record a brief or a review is about, as the user named it: its id where one was given, else the query that
 * finds it by name, whose id the calls after it take in place of the placeholder (`the`: the id or placeholder as
 * it stands inside the calls' JSON strings).
 */
function recordAsked(given: string, table: string, noun: string, select: string): { the: string; first: string } {
  const id = GUID.test(given) ? given.toLowerCase() : undefined;
  return {
    the: JSON.stringify(id ?? `<${noun} id>`).slice(1, -1),
    first: id
      ? `Its id is ${id}.\n`
      : `First find it: query_entities on ${table} with where {"name": {"contains": ${JSON.stringify(given)}}}, select ${select}, top 5; if several match, ask me which one, and use its id below as <${noun} id>.\n`,
  };
}

/** What a message may say of a lead's prospects, by the lead column that keeps it. */
const QUALIFYING: readonly [string, string][] = [
  ['numberofemployees', 'how many people the company has'],
  ['revenue', 'its annual revenue'],
  ['budgetamount', 'the budget'],
  ['need', 'how much they need it'],
  ['purchasetimeframe', 'when they mean to buy'],
  ['purchaseprocess', 'who decides'],
];

/**
 * What the message says of the company's size and the sale's budget, need and timing, as the lead's own columns
 * (where the policy lets them be written), so that "qualify it" is decided on what Dynamics holds.
 */
function qualifying(deps: ServerDeps): string {
  const kept = QUALIFYING.filter(([column]) => deps.policy.canWrite('lead', column));
  if (!kept.length) return '';
  return `; in "extra", what it says of ${kept.map(([, what]) => what).join(', ')} (${kept.map(([c]) => c).join(', ')}; a choice by its label, from describe_entity('lead')), leaving out what it does not say`;
}

// built once per process (per deps: the names offered are read through its client and policy): every session,
// and every stateless request, registers the prompts again
const completersOf = new WeakMap<ServerDeps, Map<string, Map<string, Completer>>>();

/** An organisation's own priorities above High, by the words admins name them with */
const ABOVE_HIGH = /^(critical|urgent|emergency|blocker|immediate|highest|very high|top|p[01]|sev(?:erity)? ?[01])$/i;
/** How long the Case table's priorities are waited for: a prompt is asked for by a person, in a client's menu */
const PRIORITIES_WITHIN_MS = 3000;

/**
 * The case priorities "urgent" means: Dynamics' High (1), and those the organisation added above it (Critical,
 * P1), which a High filter alone left out of the day's urgent cases. High alone where the Case table cannot be
 * read in time (the prompt still works), or where the policy keeps priority from the model.
 */
async function urgentPriorities(deps: ServerDeps): Promise<string[]> {
  if (!deps.policy.canRead('incident', 'prioritycode')) return ['High'];
  try {
    // the bound ends this wait only: the read goes on for any call sharing it, and is kept for the next prompt
    const within = linkedSignal(undefined, PRIORITIES_WITHIN_MS);
    const model = await deps.client.metadata.entity('incident', within.signal).finally(() => within.done());
    const options = model.columns.get('prioritycode')?.options ?? [];
    const urgent = options.filter((o) => o.value === 1 || ABOVE_HIGH.test(o.label.trim())).map((o) => o.label);
    return urgent.length ? urgent : ['High'];
  } catch {
    return ['High'];
  }
}

/**
 * `, "<column>"` to add to a select a prompt writes, where the policy lets the column be read (else ''): an
 * organisation's own policy may leave it out, and the prompt's call must not turn into a refusal.
 */
const alsoSelected = (deps: ServerDeps, table: string, column: string) =>
  deps.policy.canRead(table, column) ? `, "${column}"` : '';

/**
 * The prompts' arguments that offer values as they are typed (an account, a user, a period), by prompt and
 * argument. server.ts answers completion/complete from these, with whether there are more than offered.
 */
export function promptCompleters(deps: ServerDeps): Map<string, Map<string, Completer>> {
  let made = completersOf.get(deps);
  if (!made) {
    made = new Map([
      ['review_wins_and_losses', new Map([['period', periodsStartingWith]])],
      ['review_support', new Map([['period', periodsStartingWith]])],
      ['account_brief', new Map([['account', namesStartingWith(deps, 'account')]])],
      ['deal_review', new Map([['deal', namesStartingWith(deps, 'opportunity')]])],
      // a call is about a company as a seller names it (a deal's name begins with its product, not the company)
      ['log_call', new Map([['about', namesStartingWith(deps, 'account')]])],
      ['daily_agenda', new Map([['owner', namesStartingWith(deps, 'systemuser')]])],
    ]);
    completersOf.set(deps, made);
  }
  return made;
}

/**
 * Prompts for the seed use cases: lead capture, pipeline review (and its wins and losses), cases from alerts;
 * and an account brief. An account's, a user's and a period's argument offers completions as it is typed.
 */
export function registerPrompts(server: McpServer, deps: ServerDeps, readOnly: boolean): string[] {
  const externalRefColumn = deps.config.cases.externalRefColumn;
  const registered: string[] = [];
  const register: McpServer['registerPrompt'] = (name, ...rest) => {
    registered.push(name);
    return server.registerPrompt(name, ...rest);
  };
  if (!readOnly) {
    register(
      'qualify_lead',
      {
        title: 'Qualify and file a lead',
        description: 'Turn a web-form submission or an email into a lead, without creating duplicates.',
        argsSchema: ARGS.qualifyLead,
      },
      ({ submission }) =>
        user(
          `Here is a submission from a prospective customer:\n\n${submission}\n\nExtract the person's name, email, phone, company and what they want. ` +
            'Call create_lead with those fields (subject: a short summary of the request; description: the message)' +
            `${qualifying(deps)}. If it reports a duplicate, tell me about the existing lead instead of creating another. ` +
            'Then summarise what was filed in two lines. ' +
            'If the message shows a need, a budget and a timeframe, offer to qualify the lead (update_record on the lead with statecode "Qualified", which makes its opportunity, and its account and contact unless the company and the person are in Dynamics already) and do it only if I agree.',
        ),
    );
    register(
      'case_from_alert',
      {
        title: 'Open a case from a monitoring alert',
        description: 'Open (or find the already open) support case for an alert.',
        argsSchema: ARGS.caseFromAlert,
      },
      ({ alert, alertId }) =>
        user(
          `A monitoring system raised this alert:\n\n${alert}\n\nFind which customer account it concerns (query_entities on account if the name is unclear). ` +
            `Call create_case with a concise title, the alert as description, priority from the alert's severity${alertId ? `, and externalRef "${alertId}"` : ''}, origin "Web". ` +
            'If a case is already open for it, say so and give its number instead, and add this occurrence to that case with add_note (the alert as the note). ' +
            // the end of an alert's life: the case opened for it is resolved, found by the id create_case stored
            `If instead the alert says the problem has cleared (recovered, resolved, OK), open no case: find the case still open for it (query_entities on incident with where ${
              alertId
                ? JSON.stringify({ [externalRefColumn]: alertId, statecode: 'Active' })
                : '{"statecode": "Active"} and the account and title'
            }) and call resolve_case on it, with a one-line summary of the recovery as the resolution.`,
        ),
    );
  }
  // the columns a review names for each deal: every column of 10 deals is ~9 KB the model reads for nothing
  const DEAL_COLUMNS = '["name", "estimatedvalue", "estimatedclosedate", "stepname", "parentaccountid", "ownerid"]';
  register(
    'review_pipeline',
    {
      title: 'Review the sales pipeline',
      description: 'An executive summary of the open pipeline for a period.',
      argsSchema: ARGS.reviewPipeline,
    },
    ({ from, to }) =>
      user(
        `Call pipeline_summary${from || to ? ` with from ${from ?? '(start)'} and to ${to ?? '(end)'}` : ' for the current quarter'}, by stage and then by owner. ` +
          'For the trend, call aggregate_records on opportunity with where {"statecode": "Won", "actualclosedate": "last 6 months"}, groupBy "actualclosedate by month" and measures "count, sum(actualvalue_base)". ' +
          `Then find open deals whose close date has passed: query_entities on opportunity with where {"statecode": "Open", "estimatedclosedate": {"lt": "today"}}, orderBy "estimatedvalue desc", select ${DEAL_COLUMNS}. ` +
          // a customer nobody has spoken to lately is a risk the totals do not show
          `And find the largest open deals with no call logged in the last 30 days: query_entities on opportunity with where {"statecode": "Open", "phonecalls": {"none": {"createdon": "last 30 days"}}}, orderBy "estimatedvalue desc", top 10, select ${DEAL_COLUMNS}. ` +
          'Write a short executive summary: total and weighted pipeline, where it is concentrated, the largest deals and their accounts, whether wins are rising or falling, and any risk you see (e.g. value stuck in early stages, overdue deals, large deals nobody has called lately). ' +
          'For each overdue deal, suggest a new close date or closing it (update_record with statecode "Won" or "Lost"), and change nothing until the user says so.' +
          // a deal nobody is to do anything about is the other risk a review finds: its next step is a task
          (readOnly
            ? ''
            : ` Last, list the largest open deals with no open task (query_entities on opportunity with where {"statecode": "Open", "tasks": {"none": {"statecode": "Open"}}}, orderBy "estimatedvalue desc", top 10, select ${DEAL_COLUMNS}) and offer a follow-up task for each (create_record on task with subject, regardingobjectid the deal and scheduledend), made only for the deals the user picks.`),
      ),
  );
  register(
    'account_brief',
    {
      title: 'Brief me on an account',
      description:
        'Who they are, who we know there, open deals and cases, what they buy, recent calls, emails and meetings, what is due.',
      argsSchema: ARGS.accountBrief,
    },
    ({ account }) => {
      const given = account.trim();
      // the calls as JSON, with the id written in where it is known (else a placeholder the model fills in)
      const { the, first } = recordAsked(given, 'account', 'account', '["name", "address1_city"]');
      // which open cases were escalated, and the files on the latest notes, where the policy lets them be read
      // and where each stands against its SLA (past or near its resolve-by time), and which wait on the customer
      // (On Hold, Waiting for Details: the thing to ask them for)
      const escalated = `${alsoSelected(deps, 'incident', 'isescalated')}${alsoSelected(deps, 'incident', 'resolvebyslastatus')}${alsoSelected(deps, 'incident', 'statuscode')}`;
      const files = alsoSelected(deps, 'annotation', 'filename');
      // and which emails came with files (the answer says how to read them)
      const attached = alsoSelected(deps, 'email', 'attachmentcount');
      return user(
        `Brief me on the account ${JSON.stringify(given)} before I speak to them. Change nothing.\n` +
          first +
          `Then get_record on account with id "${the}", select ["name", "industrycode", "revenue", "ownerid", "telephone1", "websiteurl"] and expand ` +
          '[{"relation": "opportunity_customer_accounts", "select": ["name", "estimatedvalue", "estimatedclosedate", "stepname"], "where": {"statecode": "Open"}, "orderBy": "estimatedvalue desc", "top": 5}, ' +
          `{"relation": "incident_customer_accounts", "select": ["title", "prioritycode", "createdon"${escalated}], "where": {"statecode": "Active"}, "orderBy": "createdon desc", "top": 5}, ` +
          '{"relation": "contact_customer_accounts", "select": ["fullname", "jobtitle", "emailaddress1", "telephone1"], "top": 10}, ' +
          `{"relation": "Account_Annotation", "select": ["subject", "notetext", "createdon"${files}], "orderBy": "createdon desc", "top": 3}].\n` +
          // calls and tasks hang from the deals and the people as often as from the account: all three, through
          // the deal's account and the contact's company
          `Then the last conversations: query_entities on phonecall with where {"or": [{"regardingobjectid": "${the}"}, {"regardingobjectid_opportunity_phonecall/parentaccountid": "${the}"}, {"regardingobjectid_contact_phonecall/parentcustomerid": "${the}"}], "createdon": "last 90 days"}, select ["subject", "description", "directioncode", "createdon", "regardingobjectid"], orderBy "createdon desc", top 10.\n` +
          `And the last emails: query_entities on email with where {"or": [{"regardingobjectid": "${the}"}, {"regardingobjectid_opportunity_email/parentaccountid": "${the}"}, {"regardingobjectid_contact_email/parentcustomerid": "${the}"}], "senton": "last 90 days"}, select ["subject", "directioncode", "sender", "senton", "regardingobjectid"${attached}], orderBy "senton desc", top 10.\n` +
          `And the meetings, held and to come: query_entities on appointment with where {"or": [{"regardingobjectid": "${the}"}, {"regardingobjectid_opportunity_appointment/parentaccountid": "${the}"}, {"regardingobjectid_contact_appointment/parentcustomerid": "${the}"}], "scheduledstart": {"between": ["last 90 days", "next 30 days"]}}, select ["subject", "location", "scheduledstart", "statecode", "regardingobjectid"], orderBy "scheduledstart desc", top 10.\n` +
          // what they buy: the products on their won deals and those proposed on open ones (each line names its deal)
          `And what they buy: query_entities on opportunityproduct with where {"opportunityid/parentaccountid": "${the}", "opportunityid/statecode": {"in": ["Open", "Won"]}}, select ["productid", "productdescription", "quantity", "extendedamount", "opportunityid"], orderBy "createdon desc", top 15.\n` +
          `And what is due: query_entities on task with where {"or": [{"regardingobjectid": "${the}"}, {"regardingobjectid_opportunity_task/parentaccountid": "${the}"}, {"regardingobjectid_contact_task/parentcustomerid": "${the}"}], "statecode": "Open"}, select ["subject", "scheduledend", "ownerid", "regardingobjectid"], orderBy "scheduledend asc", top 10.\n` +
          'Write a one-page brief: who they are and who owns the account, the people we know there, open deals with their stage and value, what they have bought and what is proposed to them (the products on won and open deals), open cases and anything urgent, escalated or past its SLA (and what any case waiting on them needs from them), the last conversations (calls, emails and meetings), the next meeting, and what is due next (overdue first). End with two questions worth asking them.',
      );
    },
  );
  register(
    'deal_review',
    {
      title: 'Review a deal',
      description:
        'One opportunity before a call or a forecast: stage, close date, its products and whether its value is their total, competitors, last activity, what is due, and the risks.',
      argsSchema: ARGS.dealReview,
    },
    ({ deal }) => {
      const given = deal.trim();
      const { the, first } = recordAsked(given, 'opportunity', 'deal', '["name", "parentaccountid", "statecode"]');
      // what the review may offer to change: each only where this server writes it
      const writes = (column: string) => deps.policy.canWrite('opportunity', column);
      // how long it has been at its stage: its run of the Sales Process (the bar on its form), where readable
      const barColumns = ['opportunityid', 'activestageid', 'activestagestartedon', 'statecode', 'modifiedon'];
      const bar = barColumns.every((c) => deps.policy.canRead('opportunitysalesprocess', c));
      const leadBar = barColumns.every((c) => deps.policy.canRead('leadtoopportunitysalesprocess', c));
      const fixes = [
        writes('estimatedclosedate') ? 'a new close date, stage or probability (update_record on the opportunity)' : '',
        writes('isrevenuesystemcalculated')
          ? 'its value made its products\' total (update_record with {"isrevenuesystemcalculated": "System Calculated"})'
          : '',
        deps.policy.canCreate('task')
          ? 'a follow-up task (create_record on task with subject, regardingobjectid the deal and scheduledend)'
          : '',
        deps.policy.canCreate('opportunityproduct') ? 'a product added (create_record on opportunityproduct)' : '',
        deps.policy.canDelete('opportunityproduct') ? 'a product the customer dropped removed (delete_record)' : '',
      ].filter(Boolean);
      return user(
        `Review the deal ${JSON.stringify(given)} with me. Change nothing unless I ask.\n` +
          first +
          `Then get_record on opportunity with id "${the}", select ["name", "parentaccountid", "ownerid", "statecode", "stepname", "closeprobability", "estimatedclosedate", "estimatedvalue", "isrevenuesystemcalculated", "description"] and expand ` +
          '[{"relation": "product_opportunities", "select": ["productid", "productdescription", "quantity", "priceperunit", "manualdiscountamount", "extendedamount"], "orderBy": "sequencenumber", "top": 25}, ' +
          '{"relation": "opportunitycompetitors_association", "select": ["name"]}, ' +
          '{"relation": "Opportunity_Annotation", "select": ["subject", "notetext", "createdon"], "orderBy": "createdon desc", "top": 3}].\n' +
          `Then what has happened on it: query_entities on activitypointer with where {"regardingobjectid": "${the}"}, select ["subject", "activitytypecode", "statecode", "scheduledend", "createdon"], orderBy "createdon desc", top 10.\n` +
          `And what is due: query_entities on task with where {"regardingobjectid": "${the}", "statecode": "Open"}, select ["subject", "scheduledend", "ownerid"], orderBy "scheduledend asc", top 10.\n` +
          (bar
            ? `And since when it is at its stage: query_entities on opportunitysalesprocess with where {"opportunityid": "${the}", "statecode": "Active"}, select ["activestageid", "activestagestartedon"], orderBy "modifiedon desc", top 1.${leadBar ? ' If it has none (a deal made from a lead), the same on leadtoopportunitysalesprocess.' : ''}\n`
            : '') +
          `Write a short review: the account and who owns the deal; its stage${bar ? ' and how long it has been there' : ''}, probability and close date; what is on it (each product, quantity and amount) and whether the deal's value is its products' total (System Calculated) or typed in, and if typed in how it compares with their total; the competitors; the last activity and how long ago; what is due next. ` +
          `Then the risks: a close date that has passed, no activity in the last 30 days,${bar ? ' the same stage for over 30 days,' : ''} no open task, a value far from its products' total, no products at all.` +
          (readOnly || !fixes.length
            ? ''
            : ` For each risk, offer what would fix it (${fixes.join('; ')}), and do only what I pick.`),
      );
    },
  );
  register(
    'daily_agenda',
    {
      title: "Plan someone's day",
      description:
        'Overdue and due tasks, meetings today, deals closing this week, urgent cases, follow-ups due and SLAs at risk, for one owner.',
      argsSchema: ARGS.dailyAgenda,
    },
    async ({ owner }) => {
      // the owner by name: a lookup given a name is matched by the user's full name (conditions.ts)
      const who = JSON.stringify(owner.trim());
      const urgent = await urgentPriorities(deps);
      const priority = urgent.length === 1 ? JSON.stringify(urgent[0]) : `{"in": ${JSON.stringify(urgent)}}`;
      // the cases whose Follow Up By has come (the day the customer was promised news), where the policy lets it be
      // read; which of them were escalated, where that can be read too
      const escalated = alsoSelected(deps, 'incident', 'isescalated');
      const followUps = deps.policy.canRead('incident', 'followupby')
        ? `Cases to follow up (due today or before): query_entities on incident with where {"ownerid": ${who}, "statecode": "Active", "followupby": {"le": "today"}}, select ["title", "customerid", "followupby"${escalated}], orderBy "followupby asc", top 25.\n`
        : '';
      // the cases past or near the time their service level agreement gives for resolving them
      const slaAtRisk =
        deps.policy.canRead('incident', 'resolvebyslastatus') && deps.policy.canRead('incident', 'resolveby')
          ? `Cases past or near their SLA's resolve-by time: query_entities on incident with where {"ownerid": ${who}, "statecode": "Active", "resolvebyslastatus": {"in": ["Nearing Noncompliance", "Noncompliant"]}}, select ["title", "customerid", "resolveby", "resolvebyslastatus"], orderBy "resolveby asc", top 25.\n`
          : '';
      // the cases waiting on the customer (or another team) for over a week: their SLA paused, nothing else
      // brings them up, and a week is when to chase
      const waitingLong =
        deps.policy.canRead('incident', 'lastonholdtime') && deps.policy.canRead('incident', 'statuscode')
          ? `Cases waiting on someone else for over a week: query_entities on incident with where {"ownerid": ${who}, "statecode": "Active", "statuscode": {"in": ["On Hold", "Waiting for Details"]}, "lastonholdtime": {"before": "7 days ago"}}, select ["title", "customerid", "statuscode", "lastonholdtime"], orderBy "lastonholdtime asc", top 25.\n`
          : '';
      return user(
        `Plan the day for ${owner.trim()}. Change nothing unless I ask.\n` +
          `Tasks overdue or due today: query_entities on task with where {"ownerid": ${who}, "statecode": "Open", "scheduledend": {"le": "today"}}, select ["subject", "scheduledend", "prioritycode", "regardingobjectid"], orderBy "scheduledend asc", top 25.\n` +
          `Meetings today (theirs, or ones they attend): query_entities on appointment with where {"or": [{"ownerid": ${who}}, {"appointment_activity_parties": {"partyid": ${who}}}], "scheduledstart": "today"}, select ["subject", "location", "scheduledstart", "regardingobjectid"], orderBy "scheduledstart asc", top 25.\n` +
          `Deals closing this week: query_entities on opportunity with where {"ownerid": ${who}, "statecode": "Open", "estimatedclosedate": "this week"}, select ["name", "estimatedvalue", "stepname", "parentaccountid"], orderBy "estimatedvalue desc", top 25.\n` +
          `Urgent cases (${urgent.join(', ')}): query_entities on incident with where {"ownerid": ${who}, "statecode": "Active", "prioritycode": ${priority}}, select ["title", "customerid", "createdon"], orderBy "createdon asc", top 25.\n` +
          followUps +
          slaAtRisk +
          waitingLong +
          'If the owner is not found, query_entities on systemuser with where {"fullname": {"contains": "<part of the name>"}} and ask me which one. ' +
          'Write the day as a short list: overdue first, then the meetings in time order with what to prepare (account_brief on the account), the deals to push, the cases to chase (follow-ups due, SLAs at risk and escalated ones first, then those waiting on someone else longest).' +
          (readOnly
            ? ''
            : ' Offer to mark tasks done (update_record with statecode "Completed") or move their due date, and do it only for the ones I name.'),
      );
    },
  );
  // an answer for a customer from the knowledge base, where the policy shows articles and their content
  if (
    ['title', 'content', 'statecode', 'islatestversion', 'keywords'].every((c) =>
      deps.policy.canRead('knowledgearticle', c),
    )
  )
    register(
      'answer_case',
      {
        title: 'Answer a case from the knowledge base',
        description:
          'Find the published article that answers a case, draft the reply to the customer, and record the article on the case.',
        argsSchema: ARGS.answerCase,
      },
      ({ case: asked }) => {
        const given = asked.trim();
        const id = GUID.test(given) ? given.toLowerCase() : undefined;
        // a case is named by its number as people quote it (CAS-01008-5NWY8V), else by its title
        const where = /^[A-Za-z]{2,10}-\d/.test(given)
          ? JSON.stringify({ ticketnumber: given })
          : JSON.stringify({ title: { contains: given } });
        const the = id ?? '<case id>';
        const used = deps.policy.canRead('knowledgearticleincident', 'knowledgearticleid')
          ? ` and expand [{"relation": "knowledgearticle_incidents", "select": ["knowledgearticleid", "knowledgeusage"${alsoSelected(deps, 'knowledgearticleincident', 'issenttocustomer')}]}] (the articles already used on it)`
          : '';
        // the reply kept as a draft email on the case, for the agent to review and send in Dynamics
        const drafts =
          !readOnly &&
          deps.policy.canCreate('email') &&
          ['subject', 'description', 'regardingobjectid', 'to'].every((c) => deps.policy.canWrite('email', c));
        const draft = drafts
          ? ` Offer to save the reply as a draft email in Dynamics for me to review and send there (create_record on email with {"subject": "RE: <the case's title>", "description": "<the reply>", "regardingobjectid": "${the}", "to": "<the case's contact, or its customer>"${deps.policy.canWrite('email', 'ownerid') ? ', "ownerid": "<the case\'s owner>"' : ''}}); it is not sent by saving it.`
          : '';
        const record =
          !readOnly && deps.policy.canCreate('knowledgearticleincident')
            ? ' Then offer to record the article on the case (create_record on knowledgearticleincident with {"knowledgearticleid": "<article id>", "incidentid": "' +
              the +
              '", "knowledgeusage": "Solution"}) and, once I have sent the reply, to mark it sent (update_record on that record with {"issenttocustomer": true}); do only what I agree to.'
            : ' Change nothing.';
        return user(
          `Help me answer the case ${JSON.stringify(given)} from our knowledge base.\n` +
            (id
              ? `Its id is ${id}.\n`
              : `First find it: query_entities on incident with where ${where}, select ["title", "ticketnumber", "customerid", "statecode"], top 5; if several match, ask me which one, and use its id below as <case id>.\n`) +
            `Then get_record on incident with id "${the}", select ["title", "description", "ticketnumber", "customerid"${alsoSelected(deps, 'incident', 'primarycontactid')}${alsoSelected(deps, 'incident', 'ownerid')}, "prioritycode", "statecode"]${used}.\n` +
            'Then look for published articles, latest versions only, on its problem: query_entities on knowledgearticle with where {"statecode": "Published", "islatestversion": true, "or": [{"title": {"contains": "<a key word of the case>"}}, {"keywords": {"contains": "<the same word>"}}]}, ' +
            `select ["title", "articlepublicnumber", "description", "content"${alsoSelected(deps, 'knowledgearticle', 'rating')}], top 5; try two or three key words of the case's title and description, one at a time, until one finds articles. ` +
            'Pick the article that fits the problem best and draft my reply to the customer from its steps, in plain words (its content is HTML: no tags in the reply), naming the article by its number (articlepublicnumber). ' +
            'If no article fits, say so: that problem is one to write an article for.' +
            draft +
            record,
        );
      },
    );
  if (loggable(deps) && !readOnly)
    register('log_call', LOG_CALL, ({ notes, about }) => user(logCallText(deps, notes, about)));
  register(
    'review_wins_and_losses',
    {
      title: 'Review won and lost deals',
      description:
        'Win rate, won revenue, products won and lost, the reasons deals were lost and to whom, for a period.',
      argsSchema: ARGS.reviewWinsAndLosses,
    },
    ({ period }) => {
      // the period goes into the JSON of the calls, written as JSON
      const when = JSON.stringify(period?.trim() || 'last 6 months');
      return user(
        `Call aggregate_records on opportunity with where {"statecode": {"in": ["Won", "Lost"]}, "actualclosedate": ${when}}, groupBy "statecode, actualclosedate by month" and measures "count, sum(actualvalue_base)". ` +
          `Then call query_entities on opportunityclose with where {"subject": {"startswith": "Lost:"}, "actualend": ${when}}, select ["subject", "description", "competitorid", "actualend"] and top 200: each lost deal's close, with the reason given and the competitor it went to, where one was named. ` +
          // what was won and lost, by product: a deal's lines are of their own table, grouped by the deal's state
          `Then call aggregate_records on opportunityproduct twice, with where {"opportunityid/statecode": "Won", "opportunityid/actualclosedate": ${when}} and then with "Lost" in place of "Won", each with groupBy "productid" and measures "count, sum(extendedamount_base)": the products on the deals won, and on those lost. ` +
          'Write a short review: the win rate (won ÷ won and lost) and won revenue per month, the products that win and those that lose, the most common reasons for losing with an example of each, the competitors lost to most, and one or two things the team could do differently.',
      );
    },
  );
  register(
    'review_support',
    {
      title: 'Review customer support',
      description:
        'Cases opened per month by priority, resolved and the time spent, SLAs met and at risk, customer satisfaction, open escalations and what waits in the queues, for a period.',
      argsSchema: ARGS.reviewSupport,
    },
    ({ period }) => {
      const when = JSON.stringify(period?.trim() || 'last 3 months');
      // satisfaction and escalation only where the policy lets them be read (an organisation's own policy may not)
      const can = (column: string) => deps.policy.canRead('incident', column);
      const sla = can('resolvebyslastatus') && can('resolveby');
      const waits = can('lastonholdtime') && can('statuscode');
      // what waits in the support queues, where the policy shows the queue items and who has taken each
      const queued = ['queueid', 'workerid', 'enteredon', 'statecode'].every((c) =>
        deps.policy.canRead('queueitem', c),
      );
      // the knowledge articles that solved cases in the period, where the policy shows their use on cases
      const solutions = ['knowledgearticleid', 'knowledgeusage', 'createdon'].every((c) =>
        deps.policy.canRead('knowledgearticleincident', c),
      );
      return user(
        `Call aggregate_records on incident with where {"createdon": ${when}}, groupBy "createdon by month, prioritycode" and measures "count": the cases opened each month, by priority. ` +
          `Then call aggregate_records on incidentresolution with where {"createdon": ${when}}, groupBy "createdon by month" and measures "count, sum(timespent), avg(timespent)": the cases resolved each month and the minutes spent on them. ` +
          (can('customersatisfactioncode')
            ? `Then call aggregate_records on incident with where {"statecode": "Resolved", "Incident_IncidentResolutions/createdon": ${when}}, groupBy "customersatisfactioncode" and measures "count": how satisfied the customers of the cases resolved in the period were (a group without a value: not rated). `
            : '') +
          // oldest escalation first: by when each was escalated where that can be read, else by when it was opened
          (can('isescalated')
            ? `Then call query_entities on incident with where {"statecode": "Active", "isescalated": true}, select ["title", "customerid", "prioritycode", "createdon"${alsoSelected(deps, 'incident', 'escalatedon')}, "ownerid"${alsoSelected(deps, 'incident', 'followupby')}], orderBy "${can('escalatedon') ? 'escalatedon' : 'createdon'} asc" and top 50: the escalated cases still open. `
            : '') +
          // a problem reported more than once: a parent case with open child cases ("Incident (case) hierarchies")
          (can('parentcaseid')
            ? 'Then call query_entities on incident with where {"statecode": "Active", "incident_parent_incident": {"any": {"statecode": "Active"}}}, select ["title", "ticketnumber", "customerid", "ownerid"], expand [{"relation": "incident_parent_incident", "select": ["title", "ticketnumber", "createdon"], "where": {"statecode": "Active"}}] and top 20: the problems reported more than once, each parent case with its open child cases. '
            : '') +
          // where the service level agreement stands (its resolve-by clock, as the case shows it)
          (sla
            ? `Then call aggregate_records on incident with where {"createdon": ${when}, "statecode": "Resolved"}, groupBy "resolvebyslastatus" and measures "count": the cases opened in the period and resolved, by whether they met their SLA's resolve-by time (Succeeded) or not (Noncompliant; no value: no SLA). ` +
              'Then call query_entities on incident with where {"statecode": "Active", "resolvebyslastatus": {"in": ["Nearing Noncompliance", "Noncompliant"]}}, select ["title", "ticketnumber", "customerid", "prioritycode", "resolveby", "resolvebyslastatus", "ownerid"], orderBy "resolveby asc" and top 50: the open cases past or near their resolve-by time, the longest overdue first. '
            : '') +
          // the cases waiting on the customer (or another team) longest: their SLA is paused, so no SLA query
          // above finds them, and they are the ones forgotten
          (waits
            ? 'Then call query_entities on incident with where {"statecode": "Active", "statuscode": {"in": ["On Hold", "Waiting for Details"]}}, select ["title", "ticketnumber", "customerid", "statuscode", "lastonholdtime", "ownerid"], orderBy "lastonholdtime asc" and top 20: the open cases waiting longest on someone else (on hold since lastonholdtime). '
            : '') +
          // the queues: how much waits in each, and what nobody has taken yet (Worked By empty), longest first
          (queued
            ? 'Then call aggregate_records on queueitem with where {"statecode": "Active"}, groupBy "queueid" and measures "count": what waits in each queue. ' +
              'Then call query_entities on queueitem with where {"statecode": "Active", "workerid": null}, select ["title", "queueid", "objectid", "enteredon"], orderBy "enteredon asc" and top 20: the items in a queue that nobody has taken, the oldest first. '
            : '') +
          (solutions
            ? `Then call aggregate_records on knowledgearticleincident with where {"knowledgeusage": "Solution", "createdon": ${when}}, groupBy "knowledgearticleid" and measures "count": the knowledge articles that solved the most cases in the period. `
            : '') +
          'Write a short review: cases opened and resolved per month (is the backlog growing?), the share that were High or above, the time spent per case, ' +
          (can('customersatisfactioncode')
            ? 'the share of rated customers who were satisfied or very satisfied, and the dissatisfied ones to call back, '
            : '') +
          (can('isescalated') ? 'the open escalations oldest first, with who owns each, ' : '') +
          (can('parentcaseid') ? 'the problems reported more than once and how many cases each has open, ' : '') +
          (sla
            ? 'the share of resolved cases that met their SLA, the open cases past or near their resolve-by time with who owns each, '
            : '') +
          (waits ? 'the cases waiting longest on someone else and whether to chase them, ' : '') +
          (queued ? 'how much waits in each queue and what nobody has taken, oldest first, ' : '') +
          (solutions
            ? 'the articles that solved the most cases (and, from the cases opened by priority and title, a problem that comes back with no article, worth writing one for), '
            : '') +
          'and one or two things the team could do differently. Change nothing.',
      );
    },
  );
  // duplicates found and merged, where this server merges a table's records
  if (!readOnly && mergeable(deps).length)
    register(
      'merge_duplicates',
      {
        title: 'Find and merge duplicates',
        description:
          'Duplicate accounts, contacts, leads or cases: found, told apart from namesakes, which to keep proposed, and merged as Dynamics merges (its Merge) only when confirmed.',
        argsSchema: MERGE_DUPLICATES,
      },
      (args) => user(mergeDuplicatesText(deps, args)),
    );
  return registered;
}
