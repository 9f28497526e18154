import type { Store } from '../store/store.js';
import { idNumber } from './id-number.js';
import type { Add } from './seed.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** An article as the seed writes it: [case topic it answers, title, description, keywords, steps] */
type Article = [string, string, string, string, string[]];

/** The published knowledge base: one article for most case topics (CASE_TOPICS), none for the rest. */
const ARTICLES: Article[] = [
  [
    'Cannot log in to portal',
    'Customer portal: fixing sign-in problems',
    'What to check when a customer cannot sign in to the portal.',
    'portal, login, sign-in, locked account',
    [
      'Check that the contact has a portal account and that it is not locked.',
      'Unlock the account or send a new invitation.',
      'Ask the customer to clear the browser cache and sign in again.',
    ],
  ],
  [
    'Password reset',
    'Resetting a customer password',
    'How to reset a password and send the customer a one-time link.',
    'password, reset, one-time link',
    [
      'Confirm the caller is the contact on the account.',
      'Send a one-time reset link from the portal administration page.',
      'The link expires after 24 hours.',
    ],
  ],
  [
    'Device offline',
    'Bringing an offline device back online',
    'Remote steps for a device that stopped reporting.',
    'device, offline, power cycle, connectivity',
    [
      'Check the last heartbeat time in the device console.',
      'Power-cycle the device remotely.',
      'If it does not report within 15 minutes, book an engineer visit.',
    ],
  ],
  [
    'Sensor reports high temperature',
    'High temperature readings from a sensor',
    'Telling a faulty cooling fan from a real overheating.',
    'sensor, temperature, cooling fan, overheating',
    [
      'Compare the reading with the room sensor.',
      'If only one sensor is high, replace its cooling fan.',
      'Otherwise escalate to Tier 2 as a site problem.',
    ],
  ],
  [
    'API returns 500',
    'API errors (HTTP 500): what to collect',
    'The details engineering needs to find a failing API call.',
    'API, 500, error, request id',
    [
      'Ask for the request id from the response headers and the time of the call.',
      'Check the status page for an incident in progress.',
      'Escalate to Tier 2 with the request ids.',
    ],
  ],
  [
    'Disk usage above 90%',
    'Freeing disk space on a server',
    'Safe clean-up steps when a disk is nearly full.',
    'disk, storage, clean-up, alert',
    ['Remove rotated logs older than 30 days.', 'Empty the temporary folder.', 'Set the disk alert to 80%.'],
  ],
  [
    'Question about warranty',
    'Warranty terms explained',
    'What the standard and extended warranties cover.',
    'warranty, terms, coverage, extended',
    [
      'Standard warranty: two years, parts and labour.',
      'Extended warranty: three more years, parts only.',
      'Damage caused by misuse is not covered.',
    ],
  ],
  [
    'Invoice amount is wrong',
    'Correcting an invoice',
    'When and how to issue a credit note for a wrong invoice.',
    'invoice, billing, credit note',
    [
      'Compare the invoice with the order.',
      'Issue a credit note for the difference.',
      'Send the corrected invoice with the credit note.',
    ],
  ],
];

/**
 * The knowledge base (after everything else, so nothing seeded before moves): a published article for most
 * case topics, each by a user; the password article in its second version, the first archived beside it
 * (a version is a row of its own, islatestversion on the newest; that versions share their public number is a
 * GUESS); an internal article, a draft and an expired one. Cases of a topic with an article used it: a
 * resolved one as its solution (mostly sent to the customer), about half the open ones as a reference.
 * Returns how many records were made.
 */
export function seedKnowledge(store: Store, add: Add, now: number, authors: string[]): number {
  let count = 0;
  const byTopic = new Map<string, string>();
  const html = (title: string, steps: string[]) =>
    `<h2>${title}</h2><ol>${steps.map((s) => `<li>${s}</li>`).join('')}</ol>`;
  const article = (
    fields: Record<string, unknown>,
    n: number,
    createdDaysAgo: number,
    state: [number, number] = [3, 7],
  ) => {
    count++;
    return add(
      'knowledgearticle',
      {
        isinternal: false,
        islatestversion: true,
        isprimary: false,
        isrootarticle: true,
        majorversionnumber: 1,
        minorversionnumber: 0,
        primaryauthorid: { id: authors[n % authors.length]!, entity: 'systemuser' },
        publishon: state[0] === 3 || state[0] >= 4 ? iso(now - (createdDaysAgo - 2) * DAY) : null,
        expirationdate: null,
        knowledgearticleviews: state[0] === 3 ? 40 + ((n * 37) % 400) : 0,
        rating: state[0] === 3 ? 3 + ((n * 7) % 20) / 10 : null,
        statecode: state[0],
        statuscode: state[1],
        ...fields,
      },
      { createdDaysAgo, owner: authors[n % authors.length] },
    );
  };
  for (const [n, [topic, title, description, keywords, steps]] of ARTICLES.entries()) {
    const number = `KA-${String(1001 + n).padStart(5, '0')}`;
    const common = { title, articlepublicnumber: number, description, keywords };
    if (topic === 'Password reset') {
      // its first version, archived when the second was published
      article(
        {
          ...common,
          content: html(title, steps.slice(0, 2)),
          islatestversion: false,
          knowledgearticleviews: 512,
          rating: 3.1,
        },
        n,
        400,
        [5, 12],
      );
      byTopic.set(
        topic,
        article({ ...common, content: html(title, steps), isrootarticle: false, majorversionnumber: 2 }, n, 120),
      );
      continue;
    }
    byTopic.set(
      topic,
      article({ ...common, content: html(title, steps), isinternal: topic === 'API returns 500' }, n, 300 - n * 20),
    );
  }
  const next = ARTICLES.length;
  article(
    {
      title: 'Replacing a sensor cooling fan',
      articlepublicnumber: `KA-${String(1001 + next).padStart(5, '0')}`,
      description: 'Step by step, with the part numbers.',
      keywords: 'sensor, cooling fan, replacement, part',
      content: html('Replacing a sensor cooling fan', ['Switch the sensor off.', 'Unscrew the cover.']),
    },
    next,
    5,
    [0, 2],
  );
  article(
    {
      title: 'Holiday shipping schedule 2025',
      articlepublicnumber: `KA-${String(1002 + next).padStart(5, '0')}`,
      description: 'Last order dates for delivery before the holidays.',
      keywords: 'shipping, holidays, delivery',
      content: html('Holiday shipping schedule 2025', ['Order by 15 December for delivery before 24 December.']),
      expirationdate: iso(now - 330 * DAY),
    },
    next + 1,
    420,
    [4, 10],
  );
  // the articles cases used: a resolved case its topic's article as the solution, sent to the customer unless
  // every fourth; an open one, about half of them, as a reference while it is worked
  for (const [id, c] of store.table('incident').rows) {
    const used = byTopic.get(String(c.title));
    const n = idNumber(id);
    if (!used || (c.statecode === 0 && n % 2 === 1) || c.statecode === 2) continue;
    const owner = c.ownerid as { id: string; entity: string } | null;
    const opened = Date.parse(String(c.createdon));
    add(
      'knowledgearticleincident',
      {
        knowledgearticleid: { id: used, entity: 'knowledgearticle' },
        knowledgearticleidname: store.table('knowledgearticle').get(used)!.title ?? null,
        incidentid: { id, entity: 'incident' },
        knowledgeusage: c.statecode === 1 ? 2 : 1,
        issenttocustomer: c.statecode === 1 && n % 4 !== 0,
        statecode: 0,
        statuscode: 1,
      },
      {
        createdDaysAgo: Math.max(0, Math.floor((now - opened) / DAY)),
        owner: owner?.entity === 'systemuser' ? owner.id : undefined,
      },
    );
    count++;
  }
  return count;
}
