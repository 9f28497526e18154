import { z } from 'zod';
import type { ServerDeps } from '../server.js';
import { orList } from '../tools/support/lookup-names.js';
import { GUID, needed } from './text.js';

/** What the call is logged with: the columns the prompt's create_record on phonecall writes */
const CALL = ['subject', 'description', 'regardingobjectid', 'to', 'directioncode', 'statecode'];
/** What a next step is made with */
const TASK = ['subject', 'regardingobjectid', 'scheduledend'];
/** What a recap email is drafted with */
const EMAIL = ['subject', 'description', 'regardingobjectid', 'to'];
/** What a call may change on its deal, with the words the prompt names each by */
const DEAL: readonly [string, string][] = [
  ['estimatedclosedate', 'close date'],
  ['stepname', 'stage'],
  ['estimatedvalue', 'value'],
  ['closeprobability', 'probability'],
];
/** A deal as the prompt reads it: enough to see what the notes change */
const DEAL_SELECT =
  '["name", "parentaccountid", "stepname", "estimatedclosedate", "estimatedvalue", "closeprobability"]';

/** Offered where the policy lets the model log a call as this prompt writes it (and the server writes at all). */
export const loggable = (deps: ServerDeps): boolean =>
  deps.policy.canCreate('phonecall') && CALL.every((c) => deps.policy.canWrite('phonecall', c));

export const LOG_CALL = {
  title: 'Log a call from my notes',
  description:
    'Log a call on its deal or account from your notes, a task for each next step, and the changes to the deal and a recap email they call for (made only if you agree).',
  argsSchema: {
    notes: needed('notes', 'What was said, as you noted it: with whom, about what, and the next steps.'),
    about: z
      .string()
      .optional()
      .describe('The deal or account it was about, by name or id (default: the one the notes name).'),
  },
};

/**
 * The work after a call, from the notes a seller types: the call logged as done on the deal (or the account) with
 * whom it was, what was said kept as they wrote it, a task for each next step of ours, and what it changes on the
 * deal offered, not made. Each write is one that a repeat finds already made (a call logged today, an open task of
 * that subject on that record), so a prompt run twice logs nothing twice.
 */
export function logCallText(deps: ServerDeps, notes: string, about?: string): string {
  const given = about?.trim() || undefined;
  const id = given && GUID.test(given) ? given.toLowerCase() : undefined;
  const name = given && !id ? JSON.stringify(given) : '"<the company or deal the notes name>"';
  const find = id
    ? `It was about the record with id ${id}: get_record on opportunity with that id and select ${DEAL_SELECT}; if no opportunity has that id, it is an account's.\n`
    : `First find what it was about: the open deal, query_entities on opportunity with where {"statecode": "Open", "name": {"contains": ${name}}}, select ${DEAL_SELECT}, top 5; if no deal matches, the account, query_entities on account with where {"name": {"contains": ${name}}}, select ["name", "address1_city"], top 5. If several match and the notes do not say which, or none does, ask me.\n`;
  const canWrite = (table: string, column: string) => deps.policy.canWrite(table, column);
  const duration = canWrite('phonecall', 'actualdurationminutes')
    ? ', with "actualdurationminutes" too where the notes say how long it took'
    : '';
  const incoming = canWrite('phonecall', 'from')
    ? ' If they called me, "directioncode" is "Incoming" and the person is "from" instead of "to".'
    : '';
  // made through this server, a record is the application user's unless given an owner: the seller's own, where
  // the model knows who that is
  const tasksMade = deps.policy.canCreate('task') && TASK.every((c) => canWrite('task', c));
  const mine = canWrite('phonecall', 'ownerid')
    ? ` Where you know my name, add "ownerid": "<my full name>"${tasksMade && canWrite('task', 'ownerid') ? ' (to my tasks below too)' : ''}; else the application user this server signs in as owns it.`
    : '';
  const tasks = tasksMade
    ? `Then a task for each next step our side is to take: one create_record on task with values a list of {"subject": "<the step>", "regardingobjectid": <the same as the call's>, "scheduledend": "<YYYY-MM-DD>"} (its day worked out from today's date, left out where the notes give none${canWrite('task', 'ownerid') ? '; "ownerid": "<their full name>" where someone else is to do it' : ''}); none if the notes give no next step. What the customer is to do is no task of ours: it stays in the call's description.\n`
    : '';
  // the recap a seller sends after a call, kept as a draft for them to send from Dynamics (nothing here sends)
  const recap =
    deps.policy.canCreate('email') && EMAIL.every((c) => canWrite('email', c))
      ? `Then offer to draft a follow-up email to the person recapping what was agreed and the next steps: create_record on email with values {"subject": "<a short recap title>", "description": "<the recap>", "regardingobjectid": <the same as the call's>, "to": "<the person, by full name>"}, saved as a draft for me to review and send from Dynamics (it is not sent); draft it only if I agree.\n`
      : '';
  const changes = DEAL.filter(([c]) => canWrite('opportunity', c));
  const deal = changes.length
    ? `If it was about a deal and the notes change its ${orList(changes.map(([, w]) => w))} (${changes.map(([c]) => c).join(', ')}), say what you would change, as update_record on the opportunity with those values, and change it only if I agree.\n`
    : '';
  return (
    `Here are my notes from a call:\n\n${notes.trim()}\n\nLog it in Dynamics.\n` +
    find +
    `Then log the call: create_record on phonecall with values {"subject": "<its topic, in a few words>", "description": "<what was said: my notes, tidied, nothing added>", "regardingobjectid": {"entity": "<opportunity or account>", "id": "<its id>"}, "to": "<the person I spoke to, by full name>", "directioncode": "Outgoing", "statecode": "Completed"}${duration}.${incoming}${mine} If the person is not in Dynamics, log it without them and offer to add them as a contact. It is logged as done; the same call logged again today is the one already logged.\n` +
    tasks +
    deal +
    recap +
    "Last, tell me in a few lines what was logged, with each record's link."
  );
}
