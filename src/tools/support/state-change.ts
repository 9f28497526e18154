import { optionValue, type Scalar } from '../../dynamics/coerce.js';
import type { ColumnModel, EntityModel } from '../../policy/model.js';

type Values = Record<string, unknown>;

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
  if (stateAsked !== undefined && stateColumn) state = optionValue(stateColumn, stateAsked, model.logicalName);
  else if (stateKey === undefined && status !== undefined && statusColumn) {
    const reason = optionValue(statusColumn, status, model.logicalName);
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
 * reason's state, and without that the documented reasons are the state's.
 */
export function stateReason(
  column: ColumnModel | undefined,
  state: number,
  asked: Scalar | undefined,
  { byDefault, documented, what }: { byDefault: number; documented: readonly number[]; what: string },
): number {
  const all = column?.options ?? [];
  const known = all.some((o) => o.state !== undefined);
  const reasons = all.filter((o) => (known ? o.state === state : documented.includes(o.value)));
  if (asked === undefined || asked === null)
    return (reasons.find((o) => o.value === byDefault) ?? reasons[0])?.value ?? byDefault;
  const of: ColumnModel = {
    ...(column ?? ({ logicalName: 'statuscode', type: 'Status' } as ColumnModel)),
    options: reasons,
  };
  return optionValue(of, asked, what);
}

/** The columns of an update other than its state and status reason (and those `also` allows). */
export const besidesState = (values: Values, also: readonly string[] = []): string[] =>
  Object.keys(values).filter((k) => !/^(statecode|statuscode)$/i.test(k) && !also.includes(k.toLowerCase()));
