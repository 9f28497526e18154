import type { Schema } from '../schema/index.js';
import { currencyValues } from '../store/currency.js';
import { lineAmounts, priceLine } from '../store/line-amounts.js';
import { CLOCK_NAME, type Clock, clockTimes, statusBy, waiting } from '../store/sla-agreement.js';
import type { Row, Store } from '../store/store.js';
import { idNumber } from './id-number.js';
import { seedKnowledge } from './knowledge.js';
import { closedActivitiesChangedLast, closingIsLastChange } from './last-changes.js';
import { linkQualifiedLeads } from './qualified-leads.js';
import { seedQueues } from './queues.js';
import { Random } from './random.js';
import { closeRecentDeals } from './recent-closes.js';
import { firstRivals } from './rivals.js';
import { runSalesProcess } from './sales-process.js';
import {
  CASE_TASKS,
  CASE_TOPICS,
  COMPANY_FORM,
  COMPANY_PREFIX,
  COMPANY_SUFFIX,
  DEAL_CALLS,
  DEAL_EMAILS,
  DEAL_MEETINGS,
  DEAL_TASKS,
  EMAIL_FILES,
  FIRST_NAMES,
  JOB_TITLES,
  LAST_NAMES,
  LOSS_REASONS,
  MEETING_PLACES,
  NOTE_FILES,
  NOTE_SUBJECTS,
  NOTE_TEXTS,
  PLACES,
  PRODUCTS,
  RESOLUTIONS,
  STREETS,
  TERRITORIES,
} from './words.js';

export interface SeedUser {
  systemuserid: string;
  firstname: string;
  lastname: string;
  email: string;
  /** Entra object id (users and application users both have one) */
  objectId: string;
  /** set for application users: the app registration's client id */
  applicationId?: string;
}

export interface SeedOptions {
  seed: number;
  /** number of accounts; contacts ×2, opportunities ×1, leads and cases ×½ */
  scale: number;
  /** dates are spread around this day (UTC), so "this quarter" always has a pipeline */
  anchor: Date;
  users: SeedUser[];
}

export const USD_ID = 'a1b2c3d4-0000-4000-8000-00000000d011';
/** A second currency, so that totals must go through the base-currency columns to be right */
export const EUR_ID = 'a1b2c3d4-0000-4000-8000-00000000e022';
export const ROOT_BUSINESS_UNIT_ID = 'a1b2c3d4-0000-4000-8000-0000000b0001';
/** The root business unit's default team and the support team that owns the queue of low-priority cases. */
export const DEFAULT_TEAM_ID = 'a1b2c3d4-0000-4000-8000-0000000e0001';
export const SERVICE_TEAM_ID = 'a1b2c3d4-0000-4000-8000-0000000e0002';
/** The price lists deals are priced from (one per currency), and the unit products are sold in */
export const USD_PRICE_LIST_ID = 'a1b2c3d4-0000-4000-8000-0000000a0001';
export const EUR_PRICE_LIST_ID = 'a1b2c3d4-0000-4000-8000-0000000a0002';
const PRIMARY_UNIT_ID = 'a1b2c3d4-0000-4000-8000-0000000a0003';
/** euros per US dollar (the base currency) */
export const EUR_RATE = 0.92;
const RATES: Record<string, number> = { [USD_ID]: 1, [EUR_ID]: EUR_RATE };
const DAY = 86_400_000;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Fills the store with a deterministic organisation. Returns the number of rows written. */
export function seedStore(store: Store, schema: Schema, o: SeedOptions): number {
  const rnd = new Random(o.seed);
  const anchor = Date.UTC(o.anchor.getUTCFullYear(), o.anchor.getUTCMonth(), o.anchor.getUTCDate());
  // how much of the anchor day has passed: all of it for a day gone by (a fixed anchor), none for one to come
  const todaySoFar = Math.min(DAY, Math.max(0, Date.now() - anchor));
  const admin = o.users[0]!;
  let count = 0;
  // a user as a lookup value, one shared (frozen) object per user: half a million rows each carry three of them
  // (created by, modified by, owner), ~80 bytes apiece when each row had its own; writes replace a lookup,
  // never change it in place
  const userRefs = new Map<string, Readonly<{ id: string; entity: string }>>();
  const userRef = (id: string) => {
    let ref = userRefs.get(id);
    if (!ref) {
      ref = Object.freeze({ id, entity: 'systemuser' });
      userRefs.set(id, ref);
    }
    return ref;
  };

  const owned = (owner: Row[string]) => ({ ownerid: owner, owninguser: owner, owningteam: null });
  const add = (logical: string, fields: Row, opts: { id?: string; createdDaysAgo?: number; owner?: string } = {}) => {
    const def = schema.entity(logical)!;
    const table = store.table(logical);
    // the draw is made either way, so the rest of the organisation is the same whatever the ids look like
    const id = opts.id ?? store.ids.next(rnd.guid());
    const days = opts.createdDaysAgo ?? rnd.int(30, 900);
    const time = rnd.int(0, DAY - 1);
    // made on the anchor day, a record was made before now: a time later today is in the future, and sorted
    // above what a user makes now (a test that ran just after midnight UTC found a seeded email "newer" than
    // the task it had just made)
    const created = anchor - days * DAY + (days === 0 ? Math.floor((time * todaySoFar) / DAY) : time);
    // edited up to 20 days after creation, but not after the anchor day: no record is modified in the future
    const modified = iso(Math.max(created, Math.min(created + rnd.int(0, 20) * DAY, anchor)));
    // an intersect table (teammembership) has its two ids and versionnumber only (the draws are made either way)
    if (def.intersect) {
      table.put(id, { [def.primaryIdAttribute]: id, versionnumber: store.nextVersion(), ...fields });
      count++;
      return id;
    }
    const row: Row = {
      [def.primaryIdAttribute]: id,
      createdon: iso(created),
      modifiedon: modified,
      createdby: userRef(admin.systemuserid),
      modifiedby: userRef(admin.systemuserid),
      versionnumber: store.nextVersion(),
      ...fields,
      // in the literal, not assigned afterwards: rows keep V8's fast property layout (a keyed store of new
      // properties on a 25-property row turns it into a dictionary: more memory and slower reads)
      ...currencyValues(def, fields, (id) => RATES[id]),
      // the owner, and the owning user it is (the store keeps owninguser and owningteam beside ownerid), in the
      // literal for the same reason
      ...(def.ownershipType === 'UserOwned' ? owned(userRef(opts.owner ?? admin.systemuserid)) : {}),
    };
    if ('firstname' in fields || 'lastname' in fields)
      row.fullname = [fields.firstname, fields.lastname].filter(Boolean).join(' ');
    table.put(id, row);
    count++;
    return id;
  };

  add(
    'transactioncurrency',
    { currencyname: 'US Dollar', isocurrencycode: 'USD', currencysymbol: '$', exchangerate: 1 },
    { id: USD_ID },
  );
  const usd = { id: USD_ID, entity: 'transactioncurrency' };
  const eur = { id: EUR_ID, entity: 'transactioncurrency' };
  const usdPrices = Object.freeze({ id: USD_PRICE_LIST_ID, entity: 'pricelevel' });
  const eurPrices = Object.freeze({ id: EUR_PRICE_LIST_ID, entity: 'pricelevel' });

  const territoryIds = new Map<string, string>();
  for (const name of TERRITORIES)
    territoryIds.set(name, add('territory', { name, description: `${name} sales region` }));

  // Users: the configured ones (application user, test users) plus sales people scaled with the org.
  const salesUsers: string[] = [];
  for (const u of o.users) {
    add(
      'systemuser',
      {
        firstname: u.firstname,
        lastname: u.lastname,
        internalemailaddress: u.email,
        domainname: u.email,
        title: u.applicationId ? 'Application user' : 'Sales Manager',
        isdisabled: false,
        applicationid: u.applicationId ?? null,
        azureactivedirectoryobjectid: u.objectId,
        territoryid: null,
      },
      { id: u.systemuserid },
    );
    if (!u.applicationId) salesUsers.push(u.systemuserid);
  }
  const sellerCount = Math.max(6, Math.min(200, Math.ceil(o.scale / 50)));
  for (let i = 0; i < sellerCount; i++) {
    const first = rnd.pick(FIRST_NAMES);
    const last = rnd.pick(LAST_NAMES);
    const territory = TERRITORIES[i % TERRITORIES.length]!;
    const email = `${first}.${last.replace(/[^A-Za-z]/g, '')}${i}@contoso.example`.toLowerCase();
    salesUsers.push(
      add('systemuser', {
        firstname: first,
        lastname: last,
        internalemailaddress: email,
        domainname: email,
        title: rnd.pick(['Account Executive', 'Sales Representative', 'Key Account Manager']),
        isdisabled: false,
        applicationid: null,
        azureactivedirectoryobjectid: rnd.guid(),
        territoryid: { id: territoryIds.get(territory)!, entity: 'territory' },
      }),
    );
  }
  const owner = () => rnd.pick(salesUsers);

  const accounts: { id: string; name: string; place: (typeof PLACES)[number] }[] = [];
  for (let i = 0; i < o.scale; i++) {
    const place = rnd.pick(PLACES);
    const name = `${rnd.pick(COMPANY_PREFIX)} ${rnd.pick(COMPANY_SUFFIX)} ${rnd.pick(COMPANY_FORM)}${i >= 300 ? ` ${i}` : ''}`;
    const domain = name.toLowerCase().replace(/[^a-z0-9]+/g, '') + '.example';
    const id = add(
      'account',
      {
        name,
        accountnumber: `ACC-${String(10000 + i)}`,
        telephone1: `+1-555-${String(rnd.int(100, 999))}-${String(rnd.int(1000, 9999))}`,
        emailaddress1: `info@${domain}`,
        websiteurl: `https://www.${domain}`,
        address1_line1: `${rnd.int(1, 999)} ${rnd.pick(STREETS)}`,
        address1_city: place[0],
        address1_stateorprovince: place[1],
        address1_country: place[2],
        address1_postalcode: `${place[3]}${rnd.int(10, 99)}`,
        industrycode: rnd.pick([1, 3, 6, 7, 12, 14, 17, 19, 25, 27, 33]),
        accountcategorycode: rnd.chance(0.3) ? 1 : 2,
        customertypecode: rnd.pick([3, 3, 3, 11, 7, 12, 1]),
        revenue: rnd.int(2, 5000) * 10_000,
        creditlimit: rnd.int(1, 50) * 5_000,
        creditonhold: rnd.chance(0.05),
        numberofemployees: rnd.int(5, 20000),
        description: null,
        primarycontactid: null,
        parentaccountid: null,
        territoryid: { id: territoryIds.get(place[4])!, entity: 'territory' },
        transactioncurrencyid: usd,
        statecode: rnd.chance(0.08) ? 1 : 0,
        statuscode: 1,
      },
      { owner: owner() },
    );
    const row = store.table('account').get(id)!;
    if (row.statecode === 1) row.statuscode = 2;
    if (i > 10 && rnd.chance(0.1)) row.parentaccountid = { id: rnd.pick(accounts).id, entity: 'account' };
    accounts.push({ id, name, place });
  }

  // Contacts: two per account; the first becomes the primary contact.
  const contactsByAccount = new Map<string, string[]>();
  for (const a of accounts) {
    const ids: string[] = [];
    for (let k = 0; k < 2; k++) {
      const first = rnd.pick(FIRST_NAMES);
      const last = rnd.pick(LAST_NAMES);
      const domain = a.name.toLowerCase().replace(/[^a-z0-9]+/g, '') + '.example';
      ids.push(
        add(
          'contact',
          {
            firstname: first,
            lastname: last,
            emailaddress1: `${first}.${last.replace(/[^A-Za-z]/g, '')}@${domain}`.toLowerCase(),
            telephone1: `+1-555-${String(rnd.int(100, 999))}-${String(rnd.int(1000, 9999))}`,
            mobilephone: null,
            jobtitle: rnd.pick(JOB_TITLES),
            address1_city: a.place[0],
            address1_postalcode: `${a.place[3]}${rnd.int(10, 99)}`,
            parentcustomerid: { id: a.id, entity: 'account' },
            annualincome: null,
            birthdate: null,
            donotemail: rnd.chance(0.1),
            description: null,
            // drawn without the random source, so every other value of the organisation stays as it was
            sample_outdooractivities: outdoorActivities(contactsByAccount.size * 2 + k),
            transactioncurrencyid: usd,
            statecode: 0,
            statuscode: 1,
          },
          { owner: owner() },
        ),
      );
    }
    contactsByAccount.set(a.id, ids);
    store.table('account').get(a.id)!.primarycontactid = { id: ids[0]!, entity: 'contact' };
  }

  // Opportunities: one per account on average, at every stage, closing over past and coming quarters.
  const STAGES = [
    { stage: 0, step: '1-Qualify', prob: [10, 20] },
    { stage: 1, step: '2-Develop', prob: [30, 50] },
    { stage: 2, step: '3-Propose', prob: [50, 70] },
    { stage: 3, step: '4-Close', prob: [70, 90] },
  ] as const;
  for (let i = 0; i < o.scale; i++) {
    const a = rnd.pick(accounts);
    const s = rnd.pick(STAGES);
    const closeOffset = rnd.int(-270, 270);
    const close = anchor + closeOffset * DAY;
    const roll = rnd.next();
    let state = 0;
    let status = rnd.chance(0.1) ? 2 : 1;
    if (closeOffset < -30 && roll < 0.45) [state, status] = [1, 3];
    else if (closeOffset < -30 && roll < 0.8) [state, status] = [2, rnd.chance(0.5) ? 4 : 5];
    const estimated = rnd.int(5, 500) * 1000;
    add(
      'opportunity',
      {
        name: `${rnd.pick(PRODUCTS)} for ${a.name}`,
        customerid: { id: a.id, entity: 'account' },
        parentaccountid: { id: a.id, entity: 'account' },
        parentcontactid: { id: contactsByAccount.get(a.id)![0]!, entity: 'contact' },
        estimatedvalue: estimated,
        actualvalue: state === 1 ? estimated : null,
        estimatedclosedate: isoDate(close),
        actualclosedate: state === 0 ? null : isoDate(close),
        closeprobability: state === 1 ? 100 : state === 2 ? 0 : rnd.int(s.prob[0], s.prob[1]),
        stepname: state === 0 ? s.step : state === 1 ? '5-Won' : '5-Lost',
        salesstage: state === 0 ? s.stage : 3,
        salesstagecode: 1,
        opportunityratingcode: rnd.int(1, 3),
        prioritycode: 1,
        description: null,
        transactioncurrencyid: i % 5 === 4 ? eur : usd,
        // the price list of the deal's currency; its value is typed in, not its products' total (no draws)
        pricelevelid: i % 5 === 4 ? eurPrices : usdPrices,
        isrevenuesystemcalculated: false,
        // the lead whose qualifying made it, given to some later (qualified-leads.ts): present on every deal from
        // the start, so that giving it changes no deal's shape (V8's hidden class), which a 50,000-deal scan reads
        // through one inline cache (P5 ran at twice the time when a few hundred deals gained it afterwards)
        originatingleadid: null,
        statecode: state,
        statuscode: status,
      },
      { owner: owner(), createdDaysAgo: Math.max(1, -closeOffset + rnd.int(30, 120)) },
    );
  }

  // Leads: web-form style, some qualified or disqualified.
  const SOURCES = [1, 2, 3, 4, 6, 7, 8, 8, 8, 9, 10];
  for (let i = 0; i < Math.ceil(o.scale / 2); i++) {
    const place = rnd.pick(PLACES);
    const first = rnd.pick(FIRST_NAMES);
    const last = rnd.pick(LAST_NAMES);
    const company = `${rnd.pick(COMPANY_PREFIX)} ${rnd.pick(COMPANY_SUFFIX)}`;
    const roll = rnd.next();
    const [state, status] = roll < 0.7 ? [0, rnd.chance(0.5) ? 1 : 2] : roll < 0.85 ? [1, 3] : [2, rnd.int(4, 7)];
    add(
      'lead',
      {
        subject: `Interested in ${rnd.pick(PRODUCTS).toLowerCase()}`,
        firstname: first,
        lastname: last,
        companyname: company,
        jobtitle: rnd.pick(JOB_TITLES),
        emailaddress1:
          `${first}.${last.replace(/[^A-Za-z]/g, '')}.${i}@${company.toLowerCase().replace(/[^a-z0-9]+/g, '')}.example`.toLowerCase(),
        telephone1: `+1-555-${String(rnd.int(100, 999))}-${String(rnd.int(1000, 9999))}`,
        mobilephone: null,
        websiteurl: null,
        address1_line1: null,
        address1_city: place[0],
        address1_stateorprovince: place[1],
        address1_country: place[2],
        address1_postalcode: `${place[3]}${rnd.int(10, 99)}`,
        industrycode: rnd.pick([1, 6, 7, 12, 19, 25]),
        leadsourcecode: rnd.pick(SOURCES),
        leadqualitycode: rnd.int(1, 3),
        estimatedvalue: rnd.int(1, 200) * 1000,
        description: null,
        parentaccountid: null,
        parentcontactid: null,
        transactioncurrencyid: usd,
        statecode: state,
        statuscode: status,
      },
      { owner: owner(), createdDaysAgo: rnd.int(0, 365) },
    );
  }

  // Cases: priorities and origins, most resolved, some still open.
  const openCases: string[] = [];
  // how each case is being worked, made from its id and values rather than drawn, so that the random sequence
  // (and every value after it) is what it was before: half the open High cases escalated (and when); every open
  // case due a follow-up between four days ago and nine days ahead; a resolved case's customer, mostly satisfied
  const workedOn = (c: Row, id: string) => {
    const n = idNumber(id);
    if (c.statecode === 0) {
      c.isescalated = c.prioritycode === 1 && n % 2 === 0;
      // escalated within two days of opening, and not after the case was last changed
      const opened = Date.parse(String(c.createdon));
      if (c.isescalated)
        c.escalatedon = iso(
          Math.min(opened + ((n % 48) + 1) * 3_600_000, Math.max(opened, Date.parse(String(c.modifiedon)))),
        );
      c.followupby = iso(anchor + ((n % 14) - 4) * DAY);
    }
    if (c.statecode === 1) c.customersatisfactioncode = [5, 4, 4, 5, 3, 4, 2, 5, 4, 1][n % 10]!;
  };
  // how long ago a case was opened, from the day drawn (drawn alike for every case, so nothing after it moves): a
  // closed one any day in the last 400; an open one mostly in the last month, a few (one in four) up to four
  // months before: drawn like a closed one, most open cases were months old and waited in a queue for a year
  const caseAge = (state: number, drawn: number) =>
    state !== 0 ? drawn : drawn < 300 ? Math.floor(drawn / 10) : drawn - 270;
  for (let i = 0; i < Math.ceil(o.scale / 2); i++) {
    const a = rnd.pick(accounts);
    const roll = rnd.next();
    const [state, status] =
      roll < 0.35 ? [0, rnd.pick([1, 1, 2, 3, 4])] : roll < 0.9 ? [1, rnd.chance(0.8) ? 5 : 1000] : [2, 6];
    const caseId = add(
      'incident',
      {
        title: rnd.pick(CASE_TOPICS),
        ticketnumber: `CAS-${String(1000 + i).padStart(5, '0')}-${rnd.alnum(6)}`,
        customerid: { id: a.id, entity: 'account' },
        primarycontactid: { id: contactsByAccount.get(a.id)![rnd.int(0, 1)]!, entity: 'contact' },
        description: null,
        prioritycode: rnd.pick([1, 2, 2, 2, 3]),
        casetypecode: rnd.int(1, 3),
        caseorigincode: rnd.pick([1, 2, 2, 3, 3, 2483, 3986]),
        severitycode: 1,
        servicestage: state === 0 ? rnd.int(0, 2) : 2,
        // set below from the case's own values (declared here: rows keep their shape)
        isescalated: false,
        escalatedon: null,
        followupby: null,
        customersatisfactioncode: null,
        dmcp_externalref: null,
        statecode: state,
        statuscode: status,
      },
      { owner: owner(), createdDaysAgo: caseAge(state, rnd.int(0, 400)) },
    );
    if (state === 0) openCases.push(caseId);
    workedOn(store.table('incident').get(caseId)!, caseId);
  }

  // last, so that the random sequence (and every value above) is what it was before there were two currencies
  add(
    'transactioncurrency',
    { currencyname: 'Euro', isocurrencycode: 'EUR', currencysymbol: '€', exchangerate: EUR_RATE },
    { id: EUR_ID },
  );
  // the root business unit, as every organisation has (its id fixed, so that the random sequence is untouched)
  add('businessunit', { name: 'Contoso', parentbusinessunitid: null }, { id: ROOT_BUSINESS_UNIT_ID });
  // Notes on the open cases, the latest work on each (after everything else, for the same reason), written
  // in the last month but not before the case was opened
  // (the first two carry a file: NOTE_FILES; the draws are made either way)
  const cases = store.table('incident');
  for (const [i, id] of openCases.entries()) {
    const age = Math.floor((anchor - Date.parse(String(cases.get(id)!.createdon))) / DAY);
    const note = { subject: rnd.pick(NOTE_SUBJECTS), notetext: rnd.pick(NOTE_TEXTS) };
    const file = NOTE_FILES[i];
    add(
      'annotation',
      {
        ...(file ? { subject: file.subject, notetext: file.notetext } : note),
        objectid: { id, entity: 'incident' },
        isdocument: !!file,
        filename: file?.filename ?? null,
        mimetype: file?.mimetype ?? null,
        documentbody: file?.body.toString('base64') ?? null,
        filesize: file?.body.length ?? null,
      },
      { owner: owner(), createdDaysAgo: rnd.int(0, Math.max(0, Math.min(30, age - 1))) },
    );
  }
  // What closing wrote (last, for the same reason): every won or lost opportunity has its Opportunity Close,
  // written on its close day, and every resolved case its Case Resolution, as WinOpportunity, LoseOpportunity
  // and CloseIncident write them (reference §6.2: these records are closed by those actions only)
  const daysAgo = (when: unknown) => Math.max(0, Math.floor((anchor - Date.parse(String(when))) / DAY));
  const ownerOf = (row: Row) => (row.ownerid as { id: string } | undefined)?.id;
  for (const [id, deal] of store.table('opportunity').rows) {
    if (deal.statecode !== 1 && deal.statecode !== 2) continue;
    const won = deal.statecode === 1;
    add(
      'opportunityclose',
      {
        subject: `${won ? 'Won' : 'Lost'}: ${deal.name}`,
        description: won ? null : rnd.pick(LOSS_REASONS),
        opportunityid: { id, entity: 'opportunity' },
        actualrevenue: won ? (deal.actualvalue ?? null) : null,
        actualend: deal.actualclosedate ?? null,
        statecode: 1,
        statuscode: 2,
      },
      { owner: ownerOf(deal), createdDaysAgo: daysAgo(deal.actualclosedate) },
    );
  }
  for (const [id, c] of cases.rows) {
    if (c.statecode !== 1) continue;
    // resolved on the day of the case's last change (resolving a case is its last change), within 20 days of its
    // opening as every seeded record's last change is: a day drawn anywhere up to today made most resolved cases
    // months old when closed, and most of them past their SLA. The draw that day once took is still made, so
    // that every value seeded after it is what it was.
    rnd.next();
    add(
      'incidentresolution',
      {
        subject: RESOLUTIONS[String(c.title)] ?? 'Resolved.',
        description: null,
        incidentid: { id, entity: 'incident' },
        statecode: 1,
        statuscode: 2,
      },
      // (the days back to that day itself: daysAgo's floor counts a time past midnight as the day after)
      { owner: ownerOf(c), createdDaysAgo: Math.ceil((anchor - Date.parse(String(c.modifiedon))) / DAY) },
    );
  }
  // Tasks (last, for the same reason): what the owner of an open deal or case set themselves to do next, due
  // from ten days ago (overdue) to three weeks ahead; some done already (Completed, with when)
  const openWork: [string, Row, readonly string[]][] = [];
  for (const [id, deal] of store.table('opportunity').rows)
    if (deal.statecode === 0) openWork.push(['opportunity', { ...deal, id }, DEAL_TASKS]);
  for (const [id, c] of cases.rows) if (c.statecode === 0) openWork.push(['incident', { ...c, id }, CASE_TASKS]);
  for (const [entity, record, subjects] of openWork) {
    if (!rnd.chance(0.6)) continue;
    const done = rnd.chance(0.3);
    const due = anchor + rnd.int(-10, 21) * DAY + rnd.int(8, 17) * 3_600_000;
    add(
      'task',
      {
        subject: rnd.pick(subjects),
        description: null,
        scheduledstart: null,
        scheduledend: iso(due),
        actualend: done ? iso(Math.min(due, anchor - DAY)) : null,
        actualdurationminutes: done ? rnd.pick([15, 30, 30, 60]) : null,
        percentcomplete: done ? 100 : null,
        prioritycode: rnd.pick([1, 1, 1, 2, 0]),
        regardingobjectid: { id: String(record.id), entity },
        statecode: done ? 1 : 0,
        statuscode: done ? 5 : rnd.pick([2, 2, 3, 4]),
      },
      { owner: ownerOf(record), createdDaysAgo: rnd.int(1, Math.max(1, Math.min(30, daysAgo(record.createdon)))) },
    );
  }
  // Phone calls (last again): about four in ten open deals had a call logged in the last month, made or
  // received, completed
  for (const [id, deal] of store.table('opportunity').rows) {
    if (deal.statecode !== 0 || !rnd.chance(0.4)) continue;
    const outgoing = rnd.chance(0.7);
    const at = anchor - rnd.int(1, 30) * DAY + rnd.int(8, 17) * 3_600_000;
    add(
      'phonecall',
      {
        subject: rnd.pick(DEAL_CALLS),
        description: null,
        directioncode: outgoing,
        phonenumber: null,
        scheduledend: iso(at),
        actualend: iso(at),
        actualdurationminutes: rnd.pick([5, 15, 15, 30, 45]),
        prioritycode: 1,
        regardingobjectid: { id, entity: 'opportunity' },
        statecode: 1,
        statuscode: outgoing ? 2 : 4,
      },
      { owner: ownerOf({ ...deal, id }), createdDaysAgo: Math.max(0, Math.floor((anchor - at) / DAY)) },
    );
  }
  // Emails (last again): about half the open deals have one or two filed from the last six weeks, from the
  // deal's contact to its owner (Received) or the other way (Sent)
  const users = store.table('systemuser');
  for (const [id, deal] of store.table('opportunity').rows) {
    if (deal.statecode !== 0 || !rnd.chance(0.5)) continue;
    const contactId = (deal.parentcontactid as { id: string } | null)?.id;
    const customer = (contactId ? store.table('contact').get(contactId)?.emailaddress1 : null) ?? null;
    const owner = users.get(ownerOf(deal) ?? '')?.internalemailaddress ?? null;
    for (let k = rnd.int(1, 2); k > 0; k--) {
      const incoming = rnd.chance(0.5);
      const at = anchor - rnd.int(1, 45) * DAY + rnd.int(8, 18) * 3_600_000;
      const [subject, body] = rnd.pick(DEAL_EMAILS);
      add(
        'email',
        {
          subject,
          description: body,
          directioncode: !incoming,
          sender: incoming ? customer : owner,
          torecipients: incoming ? owner : customer,
          senton: iso(at),
          actualend: iso(at),
          // none yet: the files that came with two of them are added last (EMAIL_FILES)
          attachmentcount: 0,
          prioritycode: 1,
          regardingobjectid: { id, entity: 'opportunity' },
          statecode: 1,
          statuscode: incoming ? 4 : 3,
        },
        { owner: ownerOf({ ...deal, id }), createdDaysAgo: Math.max(0, Math.floor((anchor - at) / DAY)) },
      );
    }
  }
  // Meetings (last again): about three in ten open deals have one, held in the last month (Completed) or set
  // for the next three weeks (Scheduled, Busy), an hour long
  const meeting = (deal: string, start: number, held: boolean, opts: { owner?: string; createdDaysAgo: number }) =>
    add(
      'appointment',
      {
        subject: rnd.pick(DEAL_MEETINGS),
        description: null,
        location: rnd.pick(MEETING_PLACES),
        scheduledstart: iso(start),
        scheduledend: iso(start + 3_600_000),
        scheduleddurationminutes: 60,
        isalldayevent: false,
        actualend: held ? iso(start + 3_600_000) : null,
        prioritycode: 1,
        regardingobjectid: { id: deal, entity: 'opportunity' },
        statecode: held ? 1 : 3,
        statuscode: held ? 3 : 5,
      },
      opts,
    );
  for (const [id, deal] of store.table('opportunity').rows) {
    if (deal.statecode !== 0 || !rnd.chance(0.3)) continue;
    const start = anchor + rnd.int(-30, 21) * DAY + rnd.int(8, 16) * 3_600_000;
    meeting(id, start, start < anchor, {
      owner: ownerOf({ ...deal, id }),
      createdDaysAgo: Math.max(1, Math.floor((anchor - start) / DAY) + 7),
    });
  }
  // A working day for each seller (last again): whoever owns open deals has a meeting today about their largest
  // one and, unless a task of theirs is due today already, a task due today, so that a day planned for any of
  // them (the daily_agenda prompt, the first thing a demo user may try) finds the day's work
  const today = (ms: number) => ms >= anchor && ms < anchor + DAY;
  const largest = new Map<string, Row & { id: string }>();
  for (const [id, deal] of store.table('opportunity').rows) {
    const owner = ownerOf(deal);
    if (deal.statecode !== 0 || !owner) continue;
    const held = largest.get(owner);
    if (!held || Number(deal.estimatedvalue) > Number(held.estimatedvalue)) largest.set(owner, { ...deal, id });
  }
  const dueToday = new Set(
    [...store.table('task').rows.values()]
      .filter((t) => t.statecode === 0 && today(Date.parse(String(t.scheduledend))))
      .map(ownerOf),
  );
  for (const [owner, deal] of largest) {
    const start = anchor + rnd.int(9, 16) * 3_600_000;
    meeting(deal.id, start, false, { owner, createdDaysAgo: rnd.int(2, 14) });
    if (dueToday.has(owner)) continue;
    add(
      'task',
      {
        subject: rnd.pick(DEAL_TASKS),
        description: null,
        scheduledstart: null,
        scheduledend: iso(anchor + rnd.int(10, 17) * 3_600_000),
        actualend: null,
        actualdurationminutes: null,
        percentcomplete: null,
        prioritycode: rnd.pick([1, 2]),
        regardingobjectid: { id: deal.id, entity: 'opportunity' },
        statecode: 0,
        statuscode: 2,
      },
      { owner, createdDaysAgo: rnd.int(1, 7) },
    );
  }
  // Who was on each call, email and meeting (after everything else, so that the rest of the organisation is
  // drawn as before): the deal's owner and its contact, as Dynamics fills Call From and Call To (the owner
  // calling, Outgoing, or called), an email's From and To, a meeting's Organizer and Required Attendees
  const contacts = store.table('contact');
  for (const activity of ['phonecall', 'email', 'appointment'] as const)
    for (const [activityId, row] of store.table(activity).rows) {
      const regarding = row.regardingobjectid as { id: string; entity: string } | null;
      const deal = regarding?.entity === 'opportunity' ? store.table('opportunity').get(regarding.id) : undefined;
      const contactId = (deal?.parentcontactid as { id: string } | null | undefined)?.id;
      const contact = contactId ? contacts.get(contactId) : undefined;
      const owner = users.get(ownerOf(row) ?? '');
      if (!contact || !owner) continue;
      const user = {
        id: String(owner.systemuserid),
        entity: 'systemuser',
        name: owner.fullname,
        address: owner.internalemailaddress,
      };
      const them = { id: contactId!, entity: 'contact', name: contact.fullname, address: contact.emailaddress1 };
      const [from, to] = activity === 'appointment' || row.directioncode ? [user, them] : [them, user];
      // ParticipationTypeMask: 1 Sender, 2 To Recipient; 7 Organizer, 5 Required attendee
      const [asFrom, asTo] = activity === 'appointment' ? [7, 5] : [1, 2];
      for (const [party, mask] of [
        [from, asFrom],
        [to, asTo],
      ] as const)
        add('activityparty', {
          activityid: { id: activityId, entity: activity },
          partyid: { id: party.id, entity: party.entity },
          partyidname: party.name ?? null,
          participationtypemask: mask,
          // an email's parties keep the address it was sent from or to (Address: ActivityParty reference)
          addressused: activity === 'email' ? (party.address ?? null) : null,
        });
    }
  // Teams (last of all, so that everything above is drawn as before): the root business unit's default team,
  // named after it as Dataverse names it, and an owner team that holds the low-priority open cases until an
  // agent takes one: a record's owner is a user or a team, and a team-owned case has no owning user
  const unit = { id: ROOT_BUSINESS_UNIT_ID, entity: 'businessunit' };
  add(
    'team',
    { name: 'Contoso', teamtype: 0, isdefault: true, description: null, businessunitid: unit },
    {
      id: DEFAULT_TEAM_ID,
    },
  );
  add(
    'team',
    {
      name: 'Customer Service',
      teamtype: 0,
      isdefault: false,
      description: 'Low-priority cases wait here until an agent takes one.',
      businessunitid: unit,
    },
    { id: SERVICE_TEAM_ID },
  );
  // every user is a member of the default team, as Dataverse makes them; the Customer Service team has the
  // people who sign in (the test users) and the first seller: "my team's cases" has an answer for them
  for (const id of store.table('systemuser').rows.keys())
    add('teammembership', { systemuserid: id, teamid: DEFAULT_TEAM_ID });
  for (const id of [...o.users.filter((u) => !u.applicationId).map((u) => u.systemuserid), salesUsers.at(-sellerCount)])
    if (id) add('teammembership', { systemuserid: id, teamid: SERVICE_TEAM_ID });
  const queue = Object.freeze({ id: SERVICE_TEAM_ID, entity: 'team' });
  const open = [...cases.rows].filter(([, c]) => c.statecode === 0);
  const low = open.filter(([, c]) => c.prioritycode === 3);
  // a small organisation may have no low-priority case open: its newest open case waits in the queue instead
  const newest = open.reduce<(typeof open)[number] | undefined>(
    (a, b) => (!a || String(b[1].createdon) > String(a[1].createdon) ? b : a),
    undefined,
  );
  for (const [id, c] of low.length ? low : newest ? [newest] : []) cases.put(id, { ...c, ownerid: queue });
  // Competitors (after everything else, so that the records above are drawn as before), and the deals each is
  // in: every third opportunity is against one of them, every seventh against the next one too
  const competitors = COMPETITORS.map(([name, websiteurl, strengths, weaknesses]) =>
    add('competitor', { name, websiteurl, overview: null, strengths, weaknesses }, { createdDaysAgo: 800 }),
  );
  for (const [n, opportunityid] of [...store.table('opportunity').rows.keys()].entries()) {
    if (n % 3 !== 0) continue;
    const first = (n / 3) % competitors.length;
    for (const k of n % 7 === 0 ? [first, (first + 1) % competitors.length] : [first])
      add('opportunitycompetitors', { opportunityid, competitorid: competitors[k]! });
  }
  // a deal lost as Out-Sold went to a competitor, kept on its Opportunity Close as the Close Opportunity dialog
  // keeps it: the first one it was up against, or one in turn
  const against = firstRivals(store);
  const closes = store.table('opportunityclose');
  let lost = 0;
  for (const [id, close] of closes.rows) {
    const deal = String((close.opportunityid as { id: string }).id);
    if (store.table('opportunity').get(deal)?.statuscode !== 5) continue;
    const rival = against.get(deal) ?? competitors[lost++ % competitors.length]!;
    closes.put(id, { ...close, competitorid: { id: rival, entity: 'competitor' } });
  }
  seedProducts(add, store, anchor);
  // The files that came with two of the emails (last of all, so that everything above is drawn as before): the
  // first email with each EMAIL_FILES subject has that file, made when the email was, and counts it
  const emails = store.table('email');
  for (const file of EMAIL_FILES) {
    const found = [...emails.rows].find(([, e]) => e.subject === file.onSubject);
    if (!found) continue;
    const [emailId, email] = found;
    add(
      'activitymimeattachment',
      {
        subject: null,
        filename: file.filename,
        mimetype: file.mimetype,
        body: file.body.toString('base64'),
        filesize: file.body.length,
        objectid: { id: emailId, entity: 'email' },
        objecttypecode: 'email',
      },
      { createdDaysAgo: Math.max(0, Math.floor((anchor - Date.parse(String(email.createdon))) / DAY)) },
    );
    emails.put(emailId, { ...email, attachmentcount: 1 });
  }
  // Parent and child cases (no draws: nothing above moves): the first customer with two or more open cases
  // has the later ones (up to two) as child cases of its first, one problem reported again
  const byCustomer = new Map<string, string[]>();
  for (const [id, c] of cases.rows) {
    const customer = (c.customerid as { id: string } | null)?.id;
    if (c.statecode !== 0 || !customer) continue;
    byCustomer.set(customer, [...(byCustomer.get(customer) ?? []), id]);
  }
  const family = [...byCustomer.values()].find((ids) => ids.length >= 2);
  for (const child of family?.slice(1, 3) ?? [])
    cases.put(child, { ...cases.get(child)!, parentcaseid: { id: family![0]!, entity: 'incident' } });
  count += seedSlaClocks(store, add, anchor + todaySoFar);
  count += seedQueues(store, add, anchor + todaySoFar);
  count += seedKnowledge(store, add, anchor + todaySoFar, salesUsers);
  count += closeRecentDeals(store, add, anchor, schema.entity('opportunity')!);
  closingIsLastChange(store);
  closedActivitiesChangedLast(store);
  linkQualifiedLeads(store);
  count += runSalesProcess(store, admin.systemuserid);
  return count;
}

export type Add = (
  logical: string,
  fields: Row,
  opts?: { id?: string; createdDaysAgo?: number; owner?: string },
) => string;

/**
 * The product catalogue, its price lists and the products on deals (after everything else, so that the records
 * above are drawn as before): one product for each topic deals are named after, an implementation day and a
 * retired licence; every other deal has its topic's product on it, every fourth some implementation days too,
 * every tenth a write-in line (travel), at quantities and discounts worked out from its place, not drawn.
 */
function seedProducts(add: Add, store: Store, anchor: number): void {
  const unit = { id: PRIMARY_UNIT_ID, entity: 'uom' };
  add('uom', { name: 'Primary Unit', quantity: 1 }, { id: PRIMARY_UNIT_ID, createdDaysAgo: 900 });
  const year = new Date(anchor).getUTCFullYear();
  for (const [id, name, currency] of [
    [USD_PRICE_LIST_ID, 'Standard (USD)', USD_ID],
    [EUR_PRICE_LIST_ID, 'Standard (EUR)', EUR_ID],
  ] as const)
    add(
      'pricelevel',
      {
        name,
        description: null,
        begindate: `${year - 1}-01-01`,
        enddate: `${year + 1}-12-31`,
        transactioncurrencyid: { id: currency, entity: 'transactioncurrency' },
        statecode: 0,
        statuscode: 100001,
      },
      { id, createdDaysAgo: 900 },
    );
  const usd = { id: USD_ID, entity: 'transactioncurrency' };
  const usdPrices = { id: USD_PRICE_LIST_ID, entity: 'pricelevel' };
  const product = (name: string, number: string, type: number, price: number, state = 0) => ({
    id: add(
      'product',
      {
        name,
        productnumber: number,
        description: null,
        producttypecode: type,
        price,
        standardcost: Math.round(price * 0.6),
        defaultuomid: unit,
        pricelevelid: usdPrices,
        transactioncurrencyid: usd,
        statecode: state,
        statuscode: state === 0 ? 1 : 2,
      },
      { createdDaysAgo: 900 },
    ),
    name,
    price,
  });
  const byTopic = new Map(
    CATALOGUE.map(([topic, name, number, type, price]) => [topic, product(name, number, type, price)]),
  );
  const implementation = product('Implementation day', 'SVC-IMPL-DAY', 3, 1200);
  product('On-premises CRM licence (legacy)', 'LIC-ONPREM-OLD', 1, 480, 1);
  const deals = store.table('opportunity');
  for (const [n, [opportunityid, deal]] of [...deals.rows].entries()) {
    if (n % 2 !== 0) continue;
    const main = byTopic.get(String(deal.name).split(' for ')[0]!);
    if (!main) continue;
    const currency = deal.transactioncurrencyid as { id: string; entity: string };
    const made = Math.max(0, Math.floor((anchor - Date.parse(String(deal.createdon))) / DAY));
    /**
     * A line priced, named and summed as one written through the Web API is (priceLine: the emulator's one rule),
     * then `discounted` by what its own amount suggests.
     */
    const line = (fields: Row, sequencenumber: number, discounted?: (amount: number) => number | null) => {
      const row: Row = {
        opportunityid: { id: opportunityid, entity: 'opportunity' },
        opportunityproductname: null,
        uomid: fields.productid ? unit : null,
        isproductoverridden: !fields.productid,
        ispriceoverridden: !fields.productid,
        productid: null,
        productdescription: null,
        priceperunit: null,
        manualdiscountamount: null,
        tax: null,
        description: null,
        sequencenumber,
        transactioncurrencyid: currency,
        ...fields,
      };
      priceLine(store, row);
      if (discounted && typeof row.baseamount === 'number') row.manualdiscountamount = discounted(row.baseamount);
      // added when the deal was made, by its owner (a line's owner is its opportunity's)
      add(
        'opportunityproduct',
        { ...row, ...lineAmounts(row) },
        { owner: (deal.ownerid as { id: string } | null)?.id, createdDaysAgo: made },
      );
    };
    // licences and hardware by the dozen or hundred, services and fees a few at a time
    const quantity = main.price < 2000 ? 5 * (1 + (n % 20)) : 1 + (n % 3);
    const ref = (p: { id: string }) => ({ id: p.id, entity: 'product' });
    // every sixth main line has a discount of a tenth, as a seller gives to close
    line({ productid: ref(main), quantity }, 1, n % 6 === 0 ? (amount) => Math.round(amount * 10) / 100 : undefined);
    if (n % 4 === 0) line({ productid: ref(implementation), quantity: 2 + (n % 5) }, 2);
    if (n % 10 === 0) line({ productdescription: 'Travel and expenses', quantity: 1, priceperunit: 750 }, 3);
  }
}

/** One product for each topic seeded deals are named after: [topic, name, product number, type, list price] */
const CATALOGUE: [string, string, string, number, number][] = [
  ['Fleet telematics', 'Telematics tracker', 'HW-TRK-100', 1, 320],
  ['Cloud migration', 'Cloud migration service', 'SVC-CLOUD-MIG', 3, 18_000],
  ['Support renewal', 'Premier support (annual)', 'SUP-PREM-12', 3, 15_000],
  ['Data platform', 'Data platform licence', 'LIC-DATA-PLT', 1, 1_200],
  ['Security audit', 'Security audit', 'SVC-SEC-AUD', 3, 9_500],
  ['Office fit-out', 'Office fit-out package', 'FEE-FITOUT', 4, 25_000],
  ['Field service rollout', 'Field service licence', 'LIC-FLD-SVC', 1, 95],
  ['Analytics licences', 'Analytics licence', 'LIC-ANALYTICS', 1, 65],
  ['Managed network', 'Managed network (monthly)', 'SVC-NET-MTH', 3, 2_400],
  ['Training programme', 'Training day', 'SVC-TRAIN-DAY', 3, 1_600],
  ['ERP integration', 'ERP connector', 'LIC-ERP-CONN', 1, 7_500],
  ['Hardware refresh', 'Business laptop', 'HW-LAPTOP-14', 1, 1_100],
];

/** The organisation's competitors: name, website, strengths, weaknesses */
const COMPETITORS: [string, string, string, string][] = [
  ['Nimbus CRM', 'https://www.nimbuscrm.example', 'Low list price; quick to set up', 'Little support outside the US'],
  ['Orbitrack Software', 'https://www.orbitrack.example', 'Strong field service module', 'Dated user interface'],
  ['Kestrel Analytics', 'https://www.kestrel.example', 'Reporting and forecasting', 'No offline mobile app'],
  ['Meridian Cloud', 'https://www.meridiancloud.example', 'Bundled with its ERP', 'Long implementations'],
];

/** The next ticket number after the seeded ones (CAS-01000-… onwards). */
export function firstFreeTicketSequence(scale: number): number {
  return 1000 + Math.ceil(scale / 2);
}

/**
 * The outdoor activities of the n-th contact: the sets of "Choices columns"' example contacts in turn, and none
 * for every third contact.
 */
function outdoorActivities(n: number): string | null {
  const sets = ['1,9', '2', '4', '2,3,8,9', '1,4,7', '4,5,9', '2,4,9', '1,2,8,9'];
  return n % 3 === 2 ? null : sets[n % sets.length]!;
}

/**
 * SLA clocks on every case (last of all: nothing above moves): a first response and a resolve-by KPI instance
 * (the default agreement's, sla-agreement.ts), each In Progress, Nearing Noncompliance or Noncompliant by
 * `now` where the case is open (Paused while it is on hold or waiting for details, unless it had failed
 * before), Succeeded or Noncompliant by when it was resolved (its Case Resolution), Canceled with the case.
 * Every seventh case was answered late. The case names
 * its instances and their statuses as the SLA would have set them (incident's resolvebyslastatus: 1 In
 * Progress, 2 Nearing Noncompliance, 3 Succeeded, 4 Noncompliant).
 */
function seedSlaClocks(store: Store, add: Add, now: number): number {
  const resolvedAt = new Map<string, number>();
  for (const r of store.table('incidentresolution').rows.values())
    resolvedAt.set((r.incidentid as { id: string }).id, Date.parse(String(r.createdon)));
  // a KPI instance's status as the case shows it (a paused clock shows as In Progress: GUESS)
  const caseStatus: Record<number, number> = { 0: 1, 1: 4, 2: 2, 3: 1, 4: 3 };
  let made = 0;
  const cases = store.table('incident');
  for (const [i, [id, c]] of [...cases.rows].entries()) {
    const opened = Date.parse(String(c.createdon));
    const done = c.statecode === 1 ? (resolvedAt.get(id) ?? opened) : undefined;
    // answered within the hour, or (every seventh case) a day after its deadline; a case too new for either is
    // still waiting for its answer (its clock paused too, where the case is waiting on the customer)
    const firstFail = clockTimes(c.prioritycode, opened, 'first').failure;
    const answered = i % 7 === 3 ? firstFail + DAY : opened + 3_600_000;
    // a case on hold or waiting for details from the customer (sla-agreement.ts' PAUSING_REASONS) went on hold at
    // its last change, after any first answer: its clocks still running then are paused since
    const heldSince = waiting(c)
      ? Math.max(Date.parse(String(c.modifiedon)), answered <= now ? answered : opened)
      : undefined;
    const clock = (kpi: Clock, metAt: number | undefined) => {
      const { warning: warningtime, failure: failuretime } = clockTimes(c.prioritycode, opened, kpi);
      const status =
        c.statecode === 2
          ? 5
          : metAt === undefined && heldSince !== undefined
            ? heldSince < failuretime
              ? 3
              : 1
            : metAt !== undefined
              ? metAt <= failuretime
                ? 4
                : 1
              : statusBy(warningtime, failuretime, now);
      made++;
      const kpiId = add(
        'slakpiinstance',
        {
          name: CLOCK_NAME[kpi],
          status,
          warningtime: iso(warningtime),
          failuretime: iso(failuretime),
          succeededon: status === 4 ? iso(metAt!) : null,
        },
        {
          owner: (c.ownerid as { id: string } | undefined)?.id,
          createdDaysAgo: Math.max(0, Math.floor((now - opened) / DAY)),
        },
      );
      return { ref: { id: kpiId, entity: 'slakpiinstance' }, status: caseStatus[status] ?? null, failuretime };
    };
    const first = clock('first', answered <= now ? answered : undefined);
    const resolve = clock('resolve', done);
    cases.put(id, {
      ...c,
      ...(heldSince === undefined ? {} : { modifiedon: iso(heldSince), lastonholdtime: iso(heldSince) }),
      firstresponsebykpiid: first.ref,
      firstresponseslastatus: first.status,
      firstresponsesent: answered <= now,
      resolvebykpiid: resolve.ref,
      resolvebyslastatus: resolve.status,
      resolveby: iso(resolve.failuretime),
    });
  }
  return made;
}
