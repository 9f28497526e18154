import type { z } from 'zod';
import { isEmailAddress } from '../../dynamics/coerce.js';
import type { DynamicsMcpError } from '../../errors.js';
import type { ToolContext } from '../define.js';
import { eachOf, notDoneLines, type Outcome, outcomeError } from './each-of.js';

/**
 * create_lead's "leads": a list from an event or a spreadsheet captured in one call, not one call (and, in
 * clients that ask before each tool call, one approval) per person. Each lead goes through the same checks a single one
 * does (its email or name that day found first, lookups by name, assignment rules, duplicate rules), a few
 * at a time; one that fails is said with why, and the others are still made.
 */
export const MOST_LEADS = 100;

/** A person's own arguments: beside "leads" they would be given to every lead, so they are refused there. */
const OWN = ['firstName', 'lastName', 'email', 'phone'] as const;
/** What a call's leads share when given beside "leads" (the event's subject, the source, an owner in extra). */
const SHARED = ['company', 'subject', 'description', 'source', 'allowDuplicate'] as const;

type Top = { leads?: unknown[]; extra?: Record<string, unknown>; lastName?: string } & Record<string, unknown>;

/**
 * The call's leads, each checked as a single lead's arguments are, with what is given beside "leads" added to
 * each lead that does not say otherwise (extra merged column by column). A refusal names the lead by its place
 * in the list (leads[3].email) and nothing is made: a list is sent again whole, corrected.
 */
export function leadsOf<A extends Top, L>(
  args: A,
  one: z.ZodType<L>,
  zc: z.RefinementCtx,
): Omit<A, 'leads'> & { leads?: L[] } {
  const { leads, ...top } = args;
  if (!leads) {
    if (args.lastName === undefined)
      zc.addIssue({ code: 'custom', path: ['lastName'], message: 'lastName is required.' });
    return top;
  }
  if (!leads.length)
    zc.addIssue({
      code: 'custom',
      path: ['leads'],
      message: 'leads is empty: give the leads, or leave it out for one.',
    });
  for (const own of OWN)
    if (args[own] !== undefined)
      zc.addIssue({
        code: 'custom',
        path: [own],
        message: `${own} is each lead's own: with "leads", give it inside its lead (this lead too, as one of "leads"); only ${SHARED.join(', ')} and extra apply to every lead.`,
      });
  const shared = Object.fromEntries(SHARED.flatMap((k) => (args[k] === undefined ? [] : [[k, args[k]]])));
  const parsed: L[] = [];
  leads.forEach((lead, i) => {
    if (typeof lead !== 'object' || lead === null || Array.isArray(lead)) {
      zc.addIssue({
        code: 'custom',
        path: ['leads', i],
        message: `not a lead: each of leads is an object of a lead's arguments, e.g. {"lastName": "Lee", "email": "ann.lee@example.com"}.`,
      });
      return;
    }
    const r = one.safeParse(lead);
    if (!r.success) {
      for (const issue of r.error.issues)
        zc.addIssue({ code: 'custom', path: ['leads', i, ...issue.path], message: issue.message });
      return;
    }
    // what the lead says, over what the list shares: its own extra column by column, its allowDuplicate only
    // where it gives one (the lead's schema would otherwise default it to false)
    const own = Object.fromEntries(
      Object.entries(r.data as Record<string, unknown>).filter(
        ([k, v]) =>
          v !== undefined &&
          (k !== 'allowDuplicate' || (lead as { allowDuplicate?: unknown }).allowDuplicate !== undefined),
      ),
    );
    const extra = { ...args.extra, ...(own.extra as Record<string, unknown> | undefined) };
    if (own.lastName === undefined)
      zc.addIssue({ code: 'custom', path: ['leads', i, 'lastName'], message: `leads[${i}].lastName is required.` });
    // an address that is none is a mistake in the list, refused with the others before any lead is made (one
    // lead alone has it checked with its other values: create-lead.ts)
    if (typeof own.email === 'string' && own.email && !isEmailAddress(own.email))
      zc.addIssue({
        code: 'custom',
        path: ['leads', i, 'email'],
        message: `'${own.email}' is not an email address: pass one address alone, e.g. ana@example.com.`,
      });
    parsed.push({ ...shared, ...own, ...(Object.keys(extra).length ? { extra } : {}) } as L);
  });
  return { ...top, leads: parsed };
}

/**
 * What one lead's capture answers (create-lead.ts): `appOwned` where it was made without an owner; `taken`, what
 * its lookups given by name were taken to be (" Owner: Alex Wilber (systemuser)."), said once where every lead
 * made has the same (the list's shared extra).
 */
export type LeadAnswer = {
  structured: { id: string; duplicate: boolean };
  text: string;
  appOwned?: boolean;
  taken?: string;
};

/**
 * Captures each lead (`one`), a few at a time, in the order given (eachOf): a lead Dynamics refuses (a plug-in's
 * rule, a lookup name that matches nothing) is said with why and how to fix it, and the others are still made;
 * a failure about the call itself stops the leads not yet started, which are listed to send again. Every lead
 * is listed in the order given, with its id or its reason.
 */
export async function captureLeads<L extends Person>(
  ctx: ToolContext,
  leads: readonly L[],
  one: (lead: L) => Promise<LeadAnswer>,
) {
  const { outcomes, stopped } = await eachOf(ctx, leads, {
    // a person listed twice is made from the first line, and the second finds it: the two are taken in order
    groups: samePeople(leads),
    what: 'leads',
    done: 'created',
    write: LEAD_WRITE,
    args: (lead) => lead,
    one: (lead) => one(lead),
  });
  return {
    structured: {
      leads: outcomes.map((o) =>
        o.answer
          ? { id: o.answer.structured.id, duplicate: o.answer.structured.duplicate }
          : { error: outcomeError(o, stopped) },
      ),
    },
    text: answerText(leads, outcomes, stopped),
  };
}

type Person = { firstName?: string; lastName?: string; email?: string; company?: string };

/**
 * The leads' places, grouped by the person they are (an email, without regard to case, or else a name and a
 * company), in the order given: the leads a single call would find as the same lead.
 */
function samePeople(leads: readonly Person[]): number[][] {
  const groups = new Map<string, number[]>();
  leads.forEach((l, i) => {
    const key = l.email ? `@${l.email.toLowerCase()}` : [l.firstName, l.lastName, l.company].join('|').toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  return [...groups.values()];
}

/** create_lead's write, as the error boundary audits a single one Dynamics refused */
const LEAD_WRITE = { name: 'create_lead', audited: () => ({ entity: 'lead', action: 'create' as const }) };

function answerText<L extends Person>(
  leads: readonly L[],
  outcomes: readonly Outcome<LeadAnswer>[],
  stopped: DynamicsMcpError | undefined,
): string {
  const who = (i: number) => {
    const l = leads[i]!;
    const name = [l.firstName, l.lastName].filter(Boolean).join(' ');
    return `${i + 1}. ${name}${l.email ? ` <${l.email}>` : ''}`;
  };
  const made = outcomes.flatMap((o, i) => (o.answer && !o.answer.structured.duplicate ? [i] : []));
  const there = outcomes.flatMap((o, i) => (o.answer?.structured.duplicate ? [i] : []));
  const refused = outcomes.filter((o) => o.err).length;
  const skipped = outcomes.filter((o) => 'skipped' in o).length;
  const counts = [
    `Created ${made.length} of ${leads.length} lead${leads.length === 1 ? '' : 's'}`,
    there.length ? `${there.length} ${there.length === 1 ? 'was' : 'were'} there already and not created again` : '',
    refused ? `${refused} ${refused === 1 ? 'was' : 'were'} refused` : '',
    skipped ? `${skipped} not attempted` : '',
  ].filter(Boolean);
  const lines = [
    `${counts.join('; ')} (numbered in the order given).`,
    ...notDoneLines(
      outcomes,
      stopped,
      who,
      'Not created:',
      'Call create_lead again with the leads not created, once that is fixed (those created would be found again, not made twice).',
    ),
  ];
  const taken = made.map((i) => outcomes[i]!.answer!.taken ?? '');
  const same = taken.every((t) => t === taken[0]);
  if (made.length)
    lines.push(
      'Created:',
      ...made.map((i, k) => `${i + 1}. ${outcomes[i]!.answer!.text}${same ? '' : taken[k]}`),
      ...(same && taken[0] ? [`Each lead created:${taken[0]}`] : []),
    );
  if (there.length) {
    lines.push('There already:', ...there.map((i) => `${i + 1}. ${outcomes[i]!.answer!.text}`));
    lines.push('Pass allowDuplicate: true (beside "leads", or in one lead) to create another.');
  }
  if (made.some((i) => outcomes[i]!.answer!.appOwned))
    lines.push(
      'Leads made without an ownerid are owned by the application user this server signs in as: to give them to a person or a team, set ownerid with update_record, or give it next time in "extra" beside "leads", for all of them.',
    );
  return lines.join('\n');
}
