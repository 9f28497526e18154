export const FIRST_NAMES = [
  'Adele',
  'Alex',
  'Amara',
  'Ana',
  'Ben',
  'Bianca',
  'Carlos',
  'Chen',
  'Chloe',
  'Daniel',
  'Diego',
  'Elena',
  'Emeka',
  'Emma',
  'Farah',
  'Felix',
  'Grace',
  'Hannah',
  'Hiro',
  'Ines',
  'Isaac',
  'Jamal',
  'Jana',
  'Jonas',
  'Julia',
  'Kai',
  'Karin',
  'Laila',
  'Lars',
  'Leila',
  'Liam',
  'Lucia',
  'Maya',
  'Mateo',
  'Mei',
  'Mohammed',
  'Nadia',
  'Nina',
  'Noah',
  'Olga',
  'Omar',
  'Paula',
  'Priya',
  'Rafael',
  'Rosa',
  'Sam',
  'Sara',
  'Sofia',
  'Tariq',
  'Tomas',
  'Valentina',
  'Wei',
  'Yara',
  'Yusuf',
  'Zoe',
];

export const LAST_NAMES = [
  'Abbott',
  'Adeyemi',
  'Alvarez',
  'Andersen',
  'Bauer',
  'Bianchi',
  'Brennan',
  'Castillo',
  'Chowdhury',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Gupta',
  'Haddad',
  'Hansen',
  'Ito',
  'Jansen',
  'Kim',
  'Kowalski',
  'Larsen',
  'Lopez',
  'Martin',
  'Meyer',
  'Moreau',
  'Nakamura',
  'Novak',
  "O'Brien",
  'Okafor',
  'Olsen',
  'Patel',
  'Petrov',
  'Quinn',
  'Rossi',
  'Santos',
  'Schmidt',
  'Silva',
  'Singh',
  'Sato',
  'Tanaka',
  'Torres',
  'Van Dijk',
  'Wagner',
  'Wang',
  'Weber',
  'Williams',
  'Yilmaz',
  'Zhang',
  'Zimmermann',
];

export const COMPANY_PREFIX = [
  'Adatum',
  'Alpine',
  'Blue Yonder',
  'Bright',
  'Cascade',
  'Coho',
  'Contoso',
  'Fabrikam',
  'Fourth Coffee',
  'Granite',
  'Humongous',
  'Litware',
  'Lucerne',
  'Margie',
  'Northwind',
  'Proseware',
  'Relecloud',
  'Southridge',
  'Tailspin',
  'Trey',
  'VanArsdel',
  'Wide World',
  'Wingtip',
  'Woodgrove',
  'Zava',
  'Harbor',
  'Summit',
  'Redwood',
  'Silverline',
  'Ironbridge',
];

export const COMPANY_SUFFIX = [
  'Industries',
  'Logistics',
  'Foods',
  'Energy',
  'Systems',
  'Health',
  'Retail',
  'Consulting',
  'Manufacturing',
  'Financial',
  'Labs',
  'Networks',
  'Partners',
  'Motors',
  'Insurance',
  'Media',
  'Pharma',
  'Travel',
];

export const COMPANY_FORM = ['Inc.', 'Ltd', 'GmbH', 'LLC', 'Corp.', 'S.A.', 'plc', 'AG', 'BV', 'Co.'];

/** [city, state/province, country, postal-code prefix, territory] */
export const PLACES: [string, string, string, string, string][] = [
  ['Seattle', 'WA', 'United States', '981', 'US West'],
  ['Redmond', 'WA', 'United States', '980', 'US West'],
  ['Portland', 'OR', 'United States', '972', 'US West'],
  ['San Francisco', 'CA', 'United States', '941', 'US West'],
  ['Austin', 'TX', 'United States', '787', 'US Central'],
  ['Chicago', 'IL', 'United States', '606', 'US Central'],
  ['Denver', 'CO', 'United States', '802', 'US Central'],
  ['New York', 'NY', 'United States', '100', 'US East'],
  ['Boston', 'MA', 'United States', '021', 'US East'],
  ['Atlanta', 'GA', 'United States', '303', 'US East'],
  ['Toronto', 'ON', 'Canada', 'M5V', 'US East'],
  ['London', 'England', 'United Kingdom', 'EC1', 'EMEA'],
  ['Berlin', 'Berlin', 'Germany', '101', 'EMEA'],
  ['Paris', 'Île-de-France', 'France', '750', 'EMEA'],
  ['Amsterdam', 'North Holland', 'Netherlands', '101', 'EMEA'],
  ['Lagos', 'Lagos', 'Nigeria', '100', 'EMEA'],
  ['Tokyo', 'Tokyo', 'Japan', '100', 'APAC'],
  ['Singapore', 'Singapore', 'Singapore', '018', 'APAC'],
  ['Sydney', 'NSW', 'Australia', '200', 'APAC'],
  ['São Paulo', 'SP', 'Brazil', '010', 'LATAM'],
  ['Mexico City', 'CDMX', 'Mexico', '064', 'LATAM'],
];

export const TERRITORIES = ['US West', 'US Central', 'US East', 'EMEA', 'APAC', 'LATAM'];

export const STREETS = ['Main St', 'Oak Ave', 'Harbor Rd', 'Market St', 'Pine St', 'Lake Dr', 'Hill Rd', 'Park Ave'];

export const JOB_TITLES = [
  'CEO',
  'CFO',
  'CTO',
  'Head of Operations',
  'IT Manager',
  'Procurement Lead',
  'Sales Director',
  'Buyer',
  'Facilities Manager',
  'Marketing Manager',
  'Office Manager',
  'VP Engineering',
];

export const PRODUCTS = [
  'Fleet telematics',
  'Cloud migration',
  'Support renewal',
  'Data platform',
  'Security audit',
  'Office fit-out',
  'Field service rollout',
  'Analytics licences',
  'Managed network',
  'Training programme',
  'ERP integration',
  'Hardware refresh',
];

export const CASE_TOPICS = [
  'Cannot log in to portal',
  'Invoice amount is wrong',
  'Device offline',
  'Shipment delayed',
  'Request for quote',
  'Password reset',
  'Sensor reports high temperature',
  'API returns 500',
  'Disk usage above 90%',
  'Question about warranty',
  'Replacement part needed',
  'Service outage in region',
];

export const NOTE_SUBJECTS = ['Call with the customer', 'Update', 'Escalation', 'Follow-up'];

export const NOTE_TEXTS = [
  'Customer confirmed the issue; waiting for their logs.',
  'Workaround applied on the call; monitoring until Friday.',
  'Escalated to tier 2: reproduced on our side.',
  'Customer asked for an update by the end of the week.',
  'Replacement part ordered; delivery in three days.',
];

/**
 * The files on the first two open cases' notes, as Dynamics keeps them (Base64 in documentbody, with filename
 * and mimetype): a log a customer sent, which is text, and a screenshot (a one-pixel PNG), which is not.
 */
export const NOTE_FILES: readonly {
  subject: string;
  notetext: string;
  filename: string;
  mimetype: string;
  body: Buffer;
}[] = [
  {
    subject: 'Logs from the customer',
    notetext: 'The log the customer sent; the errors start at 09:14.',
    filename: 'client-errors.log',
    mimetype: 'text/plain',
    body: Buffer.from(
      [
        '2026-11-27 09:12:03 INFO  client started, version 4.2.1',
        '2026-11-27 09:14:41 ERROR request to /api/session failed: 500 Internal Server Error',
        '2026-11-27 09:14:41 ERROR request to /api/session failed: 500 Internal Server Error',
        '2026-11-27 09:15:10 WARN  retrying in 60 s',
        '2026-11-27 09:16:10 ERROR gave up after 3 attempts',
        '',
      ].join('\n'),
    ),
  },
  {
    subject: 'Screenshot from the customer',
    notetext: 'What the customer sees when the error appears.',
    filename: 'error-screenshot.png',
    mimetype: 'image/png',
    body: Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
      'base64',
    ),
  },
];

/** Why a lost deal was lost, as a salesperson writes it in the Close Opportunity dialog */
export const LOSS_REASONS = [
  'Chose a competitor on price.',
  'Budget cut for this year.',
  'No decision: the project is on hold.',
  'Stayed with their current supplier.',
  'Requirements changed after the proposal.',
  'Timing: revisit next fiscal year.',
];

/** What resolved a case of each topic (CASE_TOPICS), as its Case Resolution says */
export const RESOLUTIONS: Readonly<Record<string, string>> = {
  'Cannot log in to portal': 'Reset the account; the customer can sign in again.',
  'Invoice amount is wrong': 'Corrected the invoice and sent a credit note.',
  'Device offline': 'Power-cycled the device remotely; it reports again.',
  'Shipment delayed': 'Expedited the shipment; delivered two days later.',
  'Request for quote': 'Sent the quote.',
  'Password reset': 'Reset the password.',
  'Sensor reports high temperature': 'Replaced the cooling fan; readings are normal.',
  'API returns 500': 'Deployed a fix for the failing endpoint.',
  'Disk usage above 90%': 'Freed disk space and added an alert at 80%.',
  'Question about warranty': 'Explained the warranty terms by email.',
  'Replacement part needed': 'Shipped the replacement part.',
  'Service outage in region': 'Service restored after the regional failover.',
};

/** What a salesperson or agent sets themselves to do next on a deal (DEAL_TASKS) or a case (CASE_TASKS) */
export const DEAL_TASKS = [
  'Follow-up call',
  'Send the proposal',
  'Schedule a demo',
  'Confirm the budget',
  'Send pricing',
];
export const CASE_TASKS = ['Call the customer back', 'Check the logs', 'Confirm the fix with the customer'];
/** What a call logged against a deal was about */
export const DEAL_CALLS = ['Discovery call', 'Pricing questions', 'Check-in call', 'Contract terms', 'Demo follow-up'];
/** What a meeting about a deal is for, and where */
export const DEAL_MEETINGS = ['Discovery workshop', 'Product demo', 'Commercial review', 'Contract signing'];
export const MEETING_PLACES = ['Teams meeting', 'Customer office', 'Our office'];
/** What an email filed against a deal was about, and its body (HTML, as Dynamics stores it; one string each) */
export const DEAL_EMAILS: readonly [string, string][] = [
  ['Proposal', '<p>Please find our proposal attached; happy to walk you through it.</p>'],
  [
    'RE: Pricing for next year',
    '<p>Thanks for the figures. Can you do better on the per-seat price above 500 seats?</p>',
  ],
  ['Meeting notes', '<p>Thank you for your time today. Here is what we agreed and the next steps.</p>'],
  ['RE: Contract draft', '<p>Our legal team has two comments on the liability clause, see below.</p>'],
  ['Timeline', '<p>We would like to go live before the end of the quarter. Is that realistic?</p>'],
];

/**
 * The files that came with two of the deals' emails (on the first email with each subject), as Dynamics keeps
 * an email's attachments (Base64 in body, with filename and mimetype): a proposal, which is a PDF (not text),
 * and a customer's comments on a contract, which are text.
 */
export const EMAIL_FILES: readonly { onSubject: string; filename: string; mimetype: string; body: Buffer }[] = [
  {
    onSubject: 'Proposal',
    filename: 'Proposal.pdf',
    mimetype: 'application/pdf',
    // a PDF's header and its binary-marker comment (bytes above 127, as PDF writers put there): not text
    body: Buffer.concat([
      Buffer.from('%PDF-1.7\n%'),
      Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]),
      Buffer.from('\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'),
    ]),
  },
  {
    onSubject: 'RE: Contract draft',
    filename: 'liability-clause-comments.txt',
    mimetype: 'text/plain',
    body: Buffer.from(
      [
        'Comments from our legal team on the draft contract',
        '',
        '1. Clause 9.2 (limitation of liability): the cap should be 12 months of fees, not 6.',
        '2. Clause 9.4: indirect losses must not include loss of data caused by the service.',
        '',
      ].join('\n'),
    ),
  },
];
