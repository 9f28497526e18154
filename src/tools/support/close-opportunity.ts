import { type Scalar, toWriteValue } from '../../dynamics/coerce.js';
import { badInput } from '../../errors.js';
import type { EntityModel } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { utcDay } from './dedupe.js';
import { lookupsByName } from './lookups-by-name.js';
import { compactRow, recordUrl } from './shape.js';
import {
  askedState,
  besidesState,
  changeStateOnce,
  declinedByUser,
  refuseIfChanged,
  stateReason,
} from './state-change.js';

/** An opportunity's states (reference §11, opportunity): 0 Open, 1 Won, 2 Lost; their default reasons 3 Won, 4 Canceled. */
const OPEN = 0;
const CLOSED = {
  1: { name: 'won', action: 'WinOpportunity', reason: 3, documented: [3] },
  2: { name: 'lost', action: 'LoseOpportunity', reason: 4, documented: [4, 5] },
} as const;
type ClosedState = keyof typeof CLOSED;
/** The opportunity's columns a close sets, and the Opportunity Close's columns they are sent as. */
const CLOSE_COLUMNS: Readonly<Record<string, string>> = { actualvalue: 'actualrevenue', actualclosedate: 'actualend' };
/**
 * The Opportunity Close's own names for the columns a close sets (WinOpportunity's OpportunityClose takes
 * actualrevenue and actualend), as a model that has read the action writes them: the opportunity's columns
 * (actualvalue, labelled Actual Revenue, and actualclosedate). The opportunity has no columns of those names.
 */
const CLOSE_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(CLOSE_COLUMNS).map(([own, sent]) => [sent, own]),
);
/** Opportunity Close's subject (200 characters) */
const SUBJECT_MAX = 200;
/**
 * Why it was won or lost: Dynamics' Close Opportunity dialog asks for a Description, kept on the Opportunity
 * Close (the opportunity itself is read-only once closed), where a review of lost deals reads it.
 */
const WHY = 'description';
/** Whom a lost deal went to: the Close Opportunity dialog's Competitor, kept on the Opportunity Close */
const LOST_TO = 'competitorid';
/**
 * A lost deal's status reason when the competitor that won it is named and no reason is: Out-Sold (reference
 * §11, opportunity statuscode 5), what being lost to a competitor is; Canceled (4) is a deal that went nowhere.
 */
const OUT_SOLD = 5;

type Values = Record<string, unknown>;

/** A close's values with the Opportunity Close's names (actualrevenue, actualend) as the opportunity's own. */
function closeNamesAsOwn(values: Values): Values {
  const keys = Object.keys(values).map((k) => k.toLowerCase());
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => {
      const own = CLOSE_NAMES[k.toLowerCase()];
      if (own && keys.includes(own))
        throw badInput(
          `${k} and ${own} are both given: ${k} is the Opportunity Close's name for the opportunity's ${own}.`,
          `Give it once, as ${own}.`,
        );
      return [own ?? k, v];
    }),
  );
}

/**
 * Whether an update of an opportunity asks to close it: statecode Won or Lost, or a status reason of one of
 * those states. Dynamics refuses such an update (a won or lost opportunity is reached through WinOpportunity or
 * LoseOpportunity, which also write its Opportunity Close), so update_record sends the action instead.
 */
export function closingAsked(model: EntityModel, values: Values): { state: ClosedState; status?: Scalar } | undefined {
  if (model.logicalName !== 'opportunity') return undefined;
  const asked = askedState(model, values, { 1: CLOSED[1].documented, 2: CLOSED[2].documented });
  return asked && (asked.state === 1 || asked.state === 2) ? { ...asked, state: asked.state } : undefined;
}

/**
 * Wins or loses an opportunity: reads it first (already in that state: answered as it is, nothing sent; closed
 * the other way: refused), then one WinOpportunity or LoseOpportunity. Never sent twice: after an error the
 * opportunity says whether the close went through. Answers as update_record does.
 */
export async function closeOpportunity(
  ctx: ToolContext,
  model: EntityModel,
  id: string,
  values: Values,
  asked: { state: ClosedState; status?: Scalar },
  etag: string | undefined,
) {
  const closed = CLOSED[asked.state];
  values = closeNamesAsOwn(values);
  const others = besidesState(values, [...Object.keys(CLOSE_COLUMNS), WHY, LOST_TO]);
  if (others.length)
    throw badInput(
      `Closing an opportunity sets only statecode, statuscode, actualvalue, actualclosedate, description (why it was won or lost, kept on its Opportunity Close) and, for a lost one, competitorid (whom it was lost to), not ${others.join(', ')}.`,
      `Update ${others.join(', ')} in a call of its own first (a ${closed.name} opportunity is read-only), then close it.`,
    );
  // the reason and the close's values are checked before anything is read or sent
  const rival = Object.entries(values).find(([k]) => k.toLowerCase() === LOST_TO)?.[1];
  const outSold =
    asked.state === 2 &&
    rival !== undefined &&
    rival !== null &&
    !!model.columns.get('statuscode')?.options?.some((o) => o.value === OUT_SOLD);
  const status = stateReason(model, asked.state, asked.status, {
    byDefault: outSold ? OUT_SOLD : closed.reason,
    documented: closed.documented,
    what: `a ${closed.name} opportunity`,
  });
  const given: Values = {};
  for (const [column, sent] of Object.entries(CLOSE_COLUMNS)) {
    const k = Object.keys(values).find((x) => x.toLowerCase() === column);
    if (k === undefined || values[k] === null) continue;
    // checked as the opportunity's own column, so that an error names the column the model wrote
    const own = model.columns.get(column);
    given[sent] = own ? toWriteValue(own, values[k], 'opportunity') : values[k];
  }
  // the reason goes to the close as it was written (blank or null: none); its type, length and the policy are
  // the close's, checked by closeRecord
  const said = Object.entries(values).find(([k]) => k.toLowerCase() === WHY)?.[1];
  const why = typeof said === 'string' ? said.trim() || undefined : (said ?? undefined);
  if (why !== undefined) given[WHY] = why;
  if (rival !== undefined && rival !== null) {
    if (asked.state === 1)
      throw badInput(
        'competitorid is whom a lost opportunity went to; a won one has none.',
        'Leave competitorid out to win it, or say Lost if it went to that competitor.',
      );
    // a name ("Nimbus CRM") is the one competitor with it, as any lookup's name is; policy and type are the
    // close's, checked by closeRecord
    const close = await ctx.client.metadata.entity('opportunityclose');
    given[LOST_TO] = (await lookupsByName(ctx, close, { [LOST_TO]: rival as Scalar }, 'create'))[LOST_TO];
  }
  if (!ctx.policy.canRead('opportunity', 'statecode'))
    throw badInput(
      "Closing an opportunity reads its state (statecode) first, which this server's policy does not let it read.",
      "Add statecode and statuscode to opportunity's read list in the policy, or close it in Dynamics.",
    );
  const readable = (c: string) => ctx.policy.canRead('opportunity', c);
  const shown = ['statecode', 'statuscode', 'actualvalue', 'actualclosedate'].filter(readable);
  const select = [...new Set(['name', 'estimatedvalue', ...shown])].filter(readable);
  const read = async () => (await ctx.client.get('opportunity', id, { select, signal: ctx.signal })).row;
  const before = await read();
  const label = (v: unknown) => {
    const o = model.columns.get('statuscode')?.options?.find((x) => x.value === v);
    return o ? `${o.label} (${o.value})` : String(v);
  };
  const named = `opportunity ${typeof before.name === 'string' ? `"${before.name}"` : id}`;
  const url = recordUrl(ctx.config.dynamics.url, 'opportunity', id);
  const answer = (row: typeof before, updated: boolean, text: string | ((changed: string) => string)) => {
    const changed: Record<string, unknown> = compactRow(model, row, undefined, (e, c) => ctx.policy.canRead(e, c));
    for (const c of Object.keys(changed)) if (!shown.includes(c)) delete changed[c];
    const tag = typeof row['@odata.etag'] === 'string' ? { etag: row['@odata.etag'] } : {};
    return {
      structured: { entity: 'opportunity', id, updated, changed, ...tag, url },
      text: typeof text === 'string' ? text : text(JSON.stringify(changed)),
    };
  };
  if (before.statecode === asked.state)
    return answer(
      before,
      false,
      `The ${named} was already ${closed.name} (${label(before.statuscode)}); nothing was changed.`,
    );
  if (before.statecode !== OPEN)
    throw badInput(
      `The ${named} is already closed (${label(before.statuscode)}): it cannot be ${closed.name} as well.`,
      'Reopen it in Dynamics first, or leave it as it is.',
    );
  refuseIfChanged(etag, before, 'opportunity', id);
  const activity: Values = {
    subject: `${closed.name === 'won' ? 'Won' : 'Lost'}: ${typeof before.name === 'string' ? before.name : id}`.slice(
      0,
      SUBJECT_MAX,
    ),
    ...given,
  };
  // as Dynamics' Close Opportunity dialog does, a won deal's actual revenue is its estimate unless told otherwise,
  // and the close is dated today (UTC) unless told otherwise: a review of the period's closes finds it by that date
  if (asked.state === 1 && activity.actualrevenue === undefined && typeof before.estimatedvalue === 'number')
    activity.actualrevenue = before.estimatedvalue;
  if (ctx.policy.canWrite('opportunityclose', 'actualend')) activity.actualend ??= utcDay(Date.now());
  const revenue = activity.actualrevenue === undefined ? '' : ` (actual revenue ${activity.actualrevenue})`;
  const declined = await declinedByUser(
    ctx,
    ctx.policy.confirmWrites('opportunity') || ctx.policy.confirmWrites('opportunityclose'),
    () => `Close ${named} as ${label(status)}${revenue}?`,
    { tool: 'update_record', entity: 'opportunity', id, action: 'close', notDone: 'not closed' },
  );
  if (declined) return answer({}, false, `Not updated: the user chose "${declined}".`);
  const { after } = await changeStateOnce({
    act: () => ctx.client.closeRecord(closed.action, id, activity, status, { signal: ctx.signal }),
    read,
    state: asked.state,
    words: { state: closed.name, did: 'closed', named, doing: 'close' },
    label,
    audit: (outcome) =>
      ctx.audit.record({
        tool: 'update_record',
        entity: 'opportunity',
        id,
        action: 'close',
        columns: { ...activity, statuscode: status },
        caller: ctx.caller,
        ...(outcome ? { outcome } : {}),
      }),
  });
  return answer(
    after,
    true,
    (changed) =>
      `Closed ${named} as ${label(after.statuscode)}: ${changed} (etag ${after['@odata.etag']}).${why !== undefined ? ' The reason given is on its Opportunity Close (description).' : ''}${given[LOST_TO] !== undefined ? ' The competitor it was lost to is on its Opportunity Close (competitorid).' : ''}`,
  );
}
