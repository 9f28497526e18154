import type { Scalar } from '../../dynamics/coerce.js';
import { badInput } from '../../errors.js';
import type { EntityModel } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { type Existing, existingForLead } from './qualify-existing.js';
import { compactRow, recordUrl } from './shape.js';
import {
  askedState,
  besidesState,
  changeStateOnce,
  declinedByUser,
  refuseIfChanged,
  stateReason,
} from './state-change.js';

/** A lead's states (reference §11, lead): 0 Open, 1 Qualified (reason 3 Qualified), 2 Disqualified (4-7). */
const OPEN = 0;
const QUALIFIED = 1;
const DOCUMENTED = { 1: [3], 2: [4, 5, 6, 7] } as const;
/** The lead's columns that name what qualifying made, shown in the answer with its state */
const LINKS = ['parentaccountid', 'parentcontactid', 'qualifyingopportunityid'] as const;

type Values = Record<string, unknown>;

/**
 * Whether an update of a lead asks to qualify it: statecode Qualified, or its reason alone. Dynamics qualifies
 * a lead through its QualifyLead action (which makes the account, contact and opportunity), so update_record
 * sends the action. Disqualifying is an update of the state (SetState) and goes the usual way.
 */
export function qualifyingAsked(model: EntityModel, values: Values): { status?: Scalar } | undefined {
  if (model.logicalName !== 'lead') return undefined;
  const asked = askedState(model, values, DOCUMENTED);
  return asked?.state === QUALIFIED ? { ...(asked.status !== undefined ? { status: asked.status } : {}) } : undefined;
}

/**
 * Qualifies a lead: reads it first (already qualified: answered as it is, nothing sent; disqualified:
 * refused), then one QualifyLead, making what the lead calls for and the policy allows: an account for its
 * company unless it already has one, a contact for the person unless it already has one, an opportunity for
 * the topic. Never sent twice: after an error the lead says whether it went through. Answers as update_record
 * does, with the lead's links to what was made.
 */
export async function qualifyLead(
  ctx: ToolContext,
  model: EntityModel,
  id: string,
  values: Values,
  asked: { status?: Scalar },
  etag: string | undefined,
) {
  const others = besidesState(values);
  if (others.length)
    throw badInput(
      `Qualifying a lead sets only statecode and statuscode, not ${others.join(', ')}.`,
      `Update ${others.join(', ')} in a call of its own first (a qualified lead is read-only), then qualify it.`,
    );
  const status = stateReason(model, QUALIFIED, asked.status, {
    byDefault: 3,
    documented: DOCUMENTED[1],
    what: 'a qualified lead',
  });
  // what the policy lets update_record do to a lead's state at all, before anything is read
  for (const c of ['statecode', 'statuscode'])
    if (!ctx.policy.canWrite('lead', c)) ctx.policy.assertWritable('lead', [c], 'Qualifying a lead');
  if (!ctx.policy.canRead('lead', 'statecode'))
    throw badInput(
      "Qualifying a lead reads its state (statecode) first, which this server's policy does not let it read.",
      "Add statecode and statuscode to lead's read list in the policy, or qualify it in Dynamics.",
    );
  const readable = (c: string) => ctx.policy.canRead('lead', c);
  const shown = ['statecode', 'statuscode', ...LINKS].filter(readable);
  const select = [...new Set(['fullname', 'companyname', 'emailaddress1', 'subject', ...shown])].filter(readable);
  const read = async () => (await ctx.client.get('lead', id, { select, signal: ctx.signal })).row;
  const before = await read();
  const label = (v: unknown) => {
    const o = model.columns.get('statuscode')?.options?.find((x) => x.value === v);
    return o ? `${o.label} (${o.value})` : String(v);
  };
  const named = `lead ${typeof before.fullname === 'string' && before.fullname ? `"${before.fullname}"` : id}`;
  const url = recordUrl(ctx.config.dynamics.url, 'lead', id);
  const answer = (row: typeof before, updated: boolean, text: (changed: Record<string, unknown>) => string) => {
    const changed: Record<string, unknown> = compactRow(model, row, undefined, (e, c) => ctx.policy.canRead(e, c));
    for (const c of Object.keys(changed)) if (!shown.includes(c)) delete changed[c];
    const tag = typeof row['@odata.etag'] === 'string' ? { etag: row['@odata.etag'] } : {};
    return { structured: { entity: 'lead', id, updated, changed, ...tag, url }, text: text(changed) };
  };
  if (before.statecode === QUALIFIED)
    return answer(
      before,
      false,
      (c) => `The ${named} was already qualified; nothing was changed: ${JSON.stringify(c)}.`,
    );
  if (before.statecode !== OPEN)
    throw badInput(
      `The ${named} is disqualified (${label(before.statuscode)}): a disqualified lead cannot be qualified.`,
      'Reactivate it first (statecode "Open"), then qualify it.',
    );
  refuseIfChanged(etag, before, 'lead', id);
  // what the lead calls for and the policy allows; an account or contact the lead already has is not made
  // again, and nothing is made from a column the policy hides
  const writable = (table: string) => !ctx.policy.readOnly && (ctx.policy.rule(table)?.write.size ?? 0) > 0;
  const company = typeof before.companyname === 'string' ? before.companyname.trim() : '';
  const make = {
    account: writable('account') && !!company && readable('parentaccountid') && !before._parentaccountid_value,
    contact: writable('contact') && readable('parentcontactid') && !before._parentcontactid_value,
    opportunity: writable('opportunity'),
  };
  // the company's account and the person's contact, where they exist already: used, not made again
  const existing = await existingForLead(ctx, before, make);
  if (existing.account) make.account = false;
  if (existing.contact) make.contact = false;
  const links: Record<string, unknown> = {};
  if (existing.account && ctx.policy.canWrite('lead', 'parentaccountid'))
    links.parentaccountid = { entity: 'account', id: existing.account.id };
  if (existing.contact && ctx.policy.canWrite('lead', 'parentcontactid'))
    links.parentcontactid = { entity: 'contact', id: existing.contact.id };
  // the opportunity's customer where the lead cannot be linked to it (QualifyLead's OpportunityCustomerId)
  const unlinked = [existing.account, existing.contact].find(
    (e) => e && !links[e.entity === 'account' ? 'parentaccountid' : 'parentcontactid'],
  );
  const customer =
    unlinked?.entity === 'account' || (unlinked && !existing.account && !make.account && !before._parentaccountid_value)
      ? unlinked
      : undefined;
  const used = [existing.account, existing.contact].filter((e): e is Existing => !!e);
  const making = [
    ...used.map((e) => `using the existing ${e.entity} "${e.name}"`),
    make.account ? `an account "${company}"` : '',
    make.contact ? 'a contact' : '',
    make.opportunity ? `an opportunity${typeof before.subject === 'string' ? ` "${before.subject}"` : ''}` : '',
  ].filter(Boolean);
  const what = making.length ? `, making ${making.join(', ')}` : '';
  const declined = await declinedByUser(ctx, ctx.policy.confirmWrites('lead'), () => `Qualify ${named}${what}?`, {
    tool: 'update_record',
    entity: 'lead',
    id,
    action: 'qualify',
    notDone: 'not qualified',
  });
  if (declined) return answer({}, false, () => `Not updated: the user chose "${declined}".`);
  // the lead linked to them first: QualifyLead then hangs the new records from them, as it does from a lead's
  // own (qualified meanwhile by another call, the lead is read-only: the action below finds that, as it would)
  if (Object.keys(links).length)
    await ctx.client.update('lead', id, links, { signal: ctx.signal }).catch(async (err: unknown) => {
      if ((await read()).statecode !== QUALIFIED) throw err;
    });
  const { result, after } = await changeStateOnce({
    act: () =>
      ctx.client.qualifyLead(id, make, status, {
        signal: ctx.signal,
        ...(customer ? { customer: { entity: customer.entity, id: customer.id } } : {}),
      }),
    read,
    state: QUALIFIED,
    words: { state: 'qualified', did: 'qualified', named, doing: 'qualification' },
    label,
    audit: (outcome, made) =>
      ctx.audit.record({
        tool: 'update_record',
        entity: 'lead',
        id,
        action: 'qualify',
        columns: {
          statuscode: status,
          made: (made ?? []).map((m) => `${m.entity} ${m.id}`),
          ...(used.length ? { existing: used.map((e) => `${e.entity} ${e.id}`) } : {}),
        },
        caller: ctx.caller,
        ...(outcome ? { outcome } : {}),
      }),
  });
  const made = result ?? [];
  return answer(
    after,
    true,
    (changed) =>
      `Qualified ${named} (${label(after.statuscode)})${used.map((e) => `, for the existing ${e.entity} "${e.name}" (${e.id})`).join('')}${made.length ? `, making ${made.map((m) => `${m.entity} ${m.id}`).join(', ')}` : ''}: ${JSON.stringify(changed)}.`,
  );
}
