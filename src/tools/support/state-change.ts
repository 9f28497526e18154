import type { AuditEntry } from '../../audit.js';
import { optionValue, type Scalar } from '../../dynamics/coerce.js';
import { badInput, DynamicsMcpError } from '../../errors.js';
import type { ColumnModel, EntityModel, OptionModel } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { FORMATTED } from './shape.js';

type Values = Record<string, unknown>;

/** The choice `v` names among `c`'s options, or undefined where it names none (for the caller to look further). */
function choiceOrNone(c: ColumnModel, v: Scalar, entity: string): number | undefined {
  try {
    return optionValue(c, v, entity);
  } catch {
    return undefined;
  }
}

/**
 * A state's name given as the status reason ({"statuscode": "Resolved"}, {"statuscode": "Lost"}: models mix the
 * two columns up) is that state, asked as statecode, where no status reason of the table has the name: every way
 * of changing a state (a case resolved with resolve_case, a deal closed by its action, an activity completed)
 * then goes as for statecode. Values that give statecode too, or name a status reason, go on as they are.
 */
export function stateNamedAsReason<V extends Values>(model: EntityModel, values: V): V {
  const key = Object.keys(values).find((k) => k.toLowerCase() === 'statuscode');
  const v = key === undefined ? undefined : values[key];
  const status = model.columns.get('statuscode');
  const state = model.columns.get('statecode');
  if (typeof v !== 'string' || !status || !state || Object.keys(values).some((k) => k.toLowerCase() === 'statecode'))
    return values;
  const asState =
    choiceOrNone(status, v, model.logicalName) === undefined ? choiceOrNone(state, v, model.logicalName) : undefined;
  if (asState === undefined) return values;
  const { [key!]: _reason, ...rest } = values;
  return { ...rest, statecode: asState } as unknown as V;
}

/** Where metadata does not name each status reason's state: the reasons Dynamics documents for each state. */
export type DocumentedReasons = Readonly<Record<number, readonly number[]>>;

/**
 * The state an update asks a record to move to: statecode (a label, a number, or "Label (n)"), or a status
 * reason alone (its state from metadata, else from the documented reasons), with the reason asked if any.
 * Undefined when the update does not name a state; a state or reason that is not one of the column's is refused
 * with the values there are.
 */
export function askedState(
  model: EntityModel,
  values: Values,
  documented: DocumentedReasons,
): { state: number; status?: Scalar } | undefined {
  const key = (name: string) => Object.keys(values).find((k) => k.toLowerCase() === name);
  // a state or reason as text or a number; anything else is left to the update's own checks
  const scalar = (k: string | undefined) =>
    k !== undefined && (typeof values[k] === 'string' || typeof values[k] === 'number')
      ? (values[k] as string | number)
      : undefined;
  const stateKey = key('statecode');
  const stateAsked = scalar(stateKey);
  const status = scalar(key('statuscode'));
  const stateColumn = model.columns.get('statecode');
  const statusColumn = model.columns.get('statuscode');
  let state: number | undefined;
  if (stateAsked !== undefined && stateColumn) state = optionValue(stateColumn, stateAsked, model.logicalName, 'write');
  else if (stateKey === undefined && status !== undefined && statusColumn) {
    const reason = optionValue(statusColumn, status, model.logicalName, 'write');
    state =
      statusColumn.options?.find((o) => o.value === reason)?.state ??
      Number(Object.entries(documented).find(([, reasons]) => reasons.includes(reason))?.[0] ?? Number.NaN);
  }
  if (state === undefined || Number.isNaN(state)) return undefined;
  return { state, ...(status !== undefined ? { status } : {}) };
}

/**
 * The status reason asked for among a state's (a label, a number, or "Label (n)"); without one, `byDefault`
 * (or the state's first reason). An organisation may add its own reasons to a state: metadata names each
 * reason's state, and without that the documented reasons are the state's. A reason of another state is said
 * to be one ("On Hold" is an Active case's), with the state's reasons to use. `what` names the record in that
 * state ("a resolved case").
 */
export function stateReason(
  model: EntityModel,
  state: number,
  asked: Scalar | undefined,
  { byDefault, documented, what }: { byDefault: number; documented: readonly number[]; what: string },
): number {
  const column = model.columns.get('statuscode');
  const all = column?.options ?? [];
  const known = all.some((o) => o.state !== undefined);
  const reasons = all.filter((o) => (known ? o.state === state : documented.includes(o.value)));
  if (asked === undefined || asked === null)
    return (reasons.find((o) => o.value === byDefault) ?? reasons[0])?.value ?? byDefault;
  const statuscode: ColumnModel = column ?? ({ logicalName: 'statuscode', type: 'Status' } as ColumnModel);
  const among = (options: OptionModel[]) => choiceOrNone({ ...statuscode, options }, asked, model.logicalName);
  const value = among(reasons);
  if (value !== undefined) return value;
  // the state's own name given as its reason (resolve_case's status "Resolved", a deal's "Lost"): its default
  const own = model.columns.get('statecode')?.options?.find((o) => o.value === state);
  if (own && typeof asked === 'string' && !/^\s*-?\d+\s*$/.test(asked) && among([own]) !== undefined)
    return stateReason(model, state, undefined, { byDefault, documented, what });
  // "Label (n)" naming two values is said as for any choice
  if (typeof asked === 'string' && /\(-?\d+\)\s*$/.test(asked))
    return optionValue({ ...statuscode, options: reasons }, asked, model.logicalName, 'write');
  const inAll = among(all);
  const other = all.find((o) => o.value === inAll);
  const stateOf = model.columns.get('statecode')?.options?.find((o) => o.value === other?.state);
  throw badInput(
    `${typeof asked === 'string' ? `'${asked}'` : asked} is not a status reason of ${what}${stateOf ? `: it is one of ${stateOf.label} (statecode ${stateOf.value})` : ''}.`,
    `Use one of: ${reasons.map((o) => `${o.value} (${o.label})`).join(', ')}.`,
  );
}

/** The columns of an update other than its state and status reason (and those `also` allows). */
export const besidesState = (values: Values, also: readonly string[] = []): string[] =>
  Object.keys(values).filter((k) => !/^(statecode|statuscode)$/i.test(k) && !also.includes(k.toLowerCase()));

type Row = Record<string, unknown>;

/**
 * A state-changing action (CloseIncident, WinOpportunity, QualifyLead …), sent once: it is a POST, never sent
 * again once it may have been processed. After an error the record is read: in the state asked for, the action
 * went through (its answer was lost, or another request got there first), the audit entry says so, and the call
 * succeeds; otherwise the error stands. The record is then read again and must be in that state (a plug-in or
 * workflow may have moved it on).
 */
export async function changeStateOnce<T>(o: {
  act: () => Promise<T>;
  read: () => Promise<Row>;
  state: number;
  /** the state in a word ("resolved"), what the action did ("resolved"), and the record ('case "Printer"') */
  words: { state: string; did: string; named: string; doing: string };
  label: (status: unknown) => string;
  /** the audit entry, with the action's answer when it came */
  audit: (outcome: string | undefined, result: T | undefined) => Promise<void>;
}): Promise<{ result?: T; after: Row }> {
  let result: T | undefined;
  let outcome: string | undefined;
  try {
    result = await o.act();
  } catch (err) {
    const after = await o.read().catch(() => undefined);
    if (after?.statecode !== o.state) throw err;
    outcome = `${o.words.state} when read after the action failed (${(err as Error).message.slice(0, 120)}): its answer was lost, or another request ${o.words.did} it first`;
  }
  await o.audit(outcome, result);
  const after = await o.read();
  if (after.statecode !== o.state)
    throw new DynamicsMcpError(
      'server',
      `Dynamics took the ${o.words.doing} of ${o.words.named}, but it is ${o.label(after.statuscode)}, not ${o.words.state}.`,
      'Look at it in Dynamics (a plug-in or workflow may have changed it) before trying again.',
      { retryable: false },
    );
  return { result, after };
}

/**
 * The etag get_record gave holds for an action as for an update (which sends it as If-Match): the action
 * takes none, so the record just read is compared with it, and someone else's change is not overwritten.
 */
export function refuseIfChanged(etag: string | undefined, row: Row, entity: string, id: string): void {
  if (etag !== undefined && etag !== row['@odata.etag'])
    throw new DynamicsMcpError(
      'concurrency',
      `The ${entity} ${id} was changed by someone else since you read it.`,
      'Read it again with get_record (it returns the new etag), check the changes, and retry the update with that etag.',
      { retryable: false },
    );
}

/**
 * Tables whose closed records Dynamics keeps read-only until they are reopened (reference §6.2; a task's
 * statecode: "Completed and canceled tasks are read-only").
 */
const CLOSED_READ_ONLY: ReadonlySet<string> = new Set([
  'incident',
  'opportunity',
  'lead',
  'task',
  'phonecall',
  'email',
]);

/** PhoneCall statuscode: Completed as Received (4), where the state's default reason, Made, says it was made */
const RECEIVED = 4;

/**
 * A phone call completed without a status reason: Received for an incoming one (Direction, in the update or
 * else the record's), as Dynamics' Mark Complete says it; the state's default reason, Made, is an outgoing
 * call. Anything else, or a call whose direction cannot be read, goes as asked.
 */
export async function completedCallReason(
  ctx: ToolContext,
  model: EntityModel,
  id: string,
  values: Values,
): Promise<Values> {
  if (model.logicalName !== 'phonecall' || !ctx.policy.canWrite('phonecall', 'statuscode')) return values;
  const asked = askedState(model, values, {});
  if (asked?.state !== 1 || asked.status !== undefined) return values;
  const given = Object.entries(values).find(([k]) => k.toLowerCase() === 'directioncode')?.[1];
  let incoming: boolean | undefined;
  if (given !== undefined) incoming = given === false || /^(incoming|false|0)$/i.test(String(given).trim());
  else if (ctx.policy.canRead('phonecall', 'directioncode'))
    incoming = await ctx.client
      .get('phonecall', id, { select: ['directioncode'], signal: ctx.signal })
      .then((r) => r.row.directioncode === false)
      .catch(() => undefined);
  return incoming ? { ...values, statuscode: RECEIVED } : values;
}

/**
 * Why Dynamics refused an update, where the record is closed: a resolved case, a won or lost deal, a qualified
 * lead is read-only until reopened, and Dynamics' own refusal does not say how to go on. Read only after a
 * refusal (an update that succeeds costs nothing); undefined when the record is open or cannot be read.
 */
export async function closedRecordRefusal(
  ctx: ToolContext,
  model: EntityModel,
  id: string,
  err: unknown,
): Promise<DynamicsMcpError | undefined> {
  if (!(err instanceof DynamicsMcpError) || err.kind !== 'validation' || !CLOSED_READ_ONLY.has(model.logicalName))
    return undefined;
  if (!ctx.policy.canRead(model.logicalName, 'statecode')) return undefined;
  // a case merged into another is closed for good: the one it was merged into is where changes go
  const merged = model.columns.has('masterid') && ctx.policy.canRead(model.logicalName, 'masterid');
  const row = await ctx.client
    .get(model.logicalName, id, { select: ['statecode', ...(merged ? ['masterid'] : [])], signal: ctx.signal })
    .then((r) => r.row)
    .catch(() => undefined);
  const state = row?.statecode;
  if (typeof state !== 'number' || state === 0) return undefined;
  const master = row?._masterid_value;
  if (typeof master === 'string') {
    const name = row?.[`_masterid_value${FORMATTED}`];
    const which = typeof name === 'string' ? `"${name}" (${master})` : master;
    return new DynamicsMcpError(
      'bad_input',
      `This ${model.displayName.toLowerCase()} was merged into ${which}: Dynamics keeps a merged record read-only (it said: ${err.message})`,
      `Make the change on the ${model.displayName.toLowerCase()} it was merged into: update_record with entity "${model.logicalName}" and id "${master}".`,
      err.details,
    );
  }
  const options = model.columns.get('statecode')?.options ?? [];
  const label = (v: number) => options.find((o) => o.value === v)?.label ?? String(v);
  // a sent or received email stays as it went ("Completed and canceled email is read-only and can't be
  // edited"): what was written is not rewritten; the answer to it is a new draft
  if (model.logicalName === 'email')
    return new DynamicsMcpError(
      'bad_input',
      `This email is ${label(state)}: Dynamics keeps an email that was sent or received as it is (it said: ${err.message})`,
      'To answer it or follow it up, draft a new email with create_record on email (regardingobjectid the same record); this server does not reopen or send emails.',
      err.details,
    );
  // Dynamics' refusal, said plainly: its status and code stay (the audit log records it as refused)
  return new DynamicsMcpError(
    'bad_input',
    `This ${model.displayName.toLowerCase()} is ${label(state)}: Dynamics keeps it read-only until it is reopened (it said: ${err.message})`,
    `Change it only if the user wants it reopened: update_record with {"statecode": "${label(0)}"} first, then the change.`,
    err.details,
  );
}

/**
 * Asks the user first where the policy wants writes to `entity` confirmed (MCP elicitation): a decline or a
 * cancel is audited with what was not done, and returned for the caller to answer with; undefined means go
 * on (confirmed, not asked, or a client that cannot be asked).
 */
export async function declinedByUser(
  ctx: ToolContext,
  ask: boolean,
  message: () => string,
  audit: { tool: string; entity: string; id: string; action: AuditEntry['action']; notDone: string },
): Promise<'decline' | 'cancel' | undefined> {
  if (!ask) return undefined;
  const choice = await ctx.confirm(message());
  // a client without MCP elicitation cannot be asked: the write goes ahead (most such clients have the user
  // approve each tool call themselves), said in the log for the administrator who asked for confirmation
  if (choice === 'unsupported')
    ctx.log.warn(
      { entity: audit.entity, id: audit.id, action: audit.action },
      "the policy asks the user to confirm this write, but the client cannot ask (it does not support MCP elicitation): it goes ahead on the client's own approval of the tool call",
    );
  if (choice !== 'decline' && choice !== 'cancel') return undefined;
  const { notDone, ...entry } = audit;
  await ctx.audit.record({
    ...entry,
    columns: {},
    caller: ctx.caller,
    outcome: `${notDone}: the user chose ${choice}`,
  });
  return choice;
}
