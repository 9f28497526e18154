import { badInput, type DynamicsMcpError } from '../errors.js';
import type { ColumnModel, OptionModel } from '../policy/model.js';

/**
 * A record's state in the words people use for it, where the table's own label differs. Dynamics calls the
 * first state Active on cases, accounts and contacts and Open on deals, leads and activities, so an "open
 * case" is an Active one and an "active deal" an Open one; "done" is an activity's Completed. Only the label
 * the word stands for is taken, and only where the table has no label that is the word itself.
 */
const SAME_STATE: ReadonlyMap<string, string> = new Map([
  ['open', 'active'],
  ['opened', 'active'],
  ['active', 'open'],
  ['done', 'completed'],
  ['complete', 'completed'],
  ['finished', 'completed'],
]);

/** The words for "not open any more", which stand for several states in most tables. */
const CLOSED = /^(closed|inactive|ended)$/;

const isState = (c: ColumnModel) => c.logicalName === 'statecode' && (c.options?.length ?? 0) > 0;

/** The state `word` stands for in `c` (a statecode column), or undefined where it is no such word. */
export function stateInWords(c: ColumnModel, word: string): OptionModel | undefined {
  if (!isState(c)) return undefined;
  const key = word.trim().toLowerCase();
  const label = SAME_STATE.get(key);
  if (label === undefined || c.options!.some((o) => o.label.toLowerCase() === key)) return undefined;
  return c.options!.find((o) => o.label.toLowerCase() === label);
}

/**
 * For "closed" and its like where no state has that name: the states it covers (every state but the open
 * one), for the refusal to name, since "closed" asks which (a case Resolved or Canceled, a deal Won or Lost).
 */
function closedStates(c: ColumnModel, word: string): OptionModel[] | undefined {
  if (!isState(c) || !CLOSED.test(word.trim().toLowerCase())) return undefined;
  const open = c.options!.find((o) => /^(open|active)$/i.test(o.label));
  return open ? c.options!.filter((o) => o !== open) : undefined;
}

/** "not closed", "unresolved", "non-active": a word for the other states than the one(s) it names */
const NOT = /^(?:not |non-?|un)(.+)$/;

/**
 * For a state said with a negation ("unresolved", "not done", "not closed"): the states the rest of the word
 * names (by label, or in everyday words), for the refusal to give the condition that excludes them. The
 * spelling alone would point at the very state the word excludes ("unresolved" is near "Resolved").
 */
function negatedStates(c: ColumnModel, word: string): OptionModel[] | undefined {
  if (!isState(c)) return undefined;
  const m = NOT.exec(word.trim().toLowerCase());
  if (!m) return undefined;
  const rest = m[1]!.trim();
  const named = c.options!.find((o) => o.label.toLowerCase() === rest) ?? stateInWords(c, rest);
  return named ? [named] : closedStates(c, rest);
}

/** Whether `word` is a label of `labels` with a negation before it ("unqualified" of Qualified). */
export const negationOf = (word: string, label: string): boolean =>
  NOT.exec(word.trim().toLowerCase())?.[1]?.trim() === label.toLowerCase();

/**
 * The refusal for a state in words that stands for several ("closed": a case Resolved or Canceled) or for
 * every state but some ("unresolved", "not done"): which states they are, and the condition that finds them.
 * Never a guess; undefined where the word is no such word.
 */
export function stateWordRefused(
  c: ColumnModel,
  v: string,
  entity: string,
  use: 'filter' | 'write' = 'filter',
): DynamicsMcpError | undefined {
  const negated = negatedStates(c, v);
  if (negated?.length) {
    const others = (c.options ?? []).filter((o) => !negated.includes(o));
    const labels = negated.map((o) => o.label);
    return badInput(
      `'${v}' is not a value of ${entity}.${c.logicalName}: it is every state but ${labels.join(' and ')}, which is ${others.map((o) => `${o.label} (${o.value})`).join(' or ')}.`,
      others.length === 1
        ? `Pass "${others[0]!.label}".`
        : `Use {"column": "${c.logicalName}", "op": "${labels.length === 1 ? 'ne' : 'notIn'}", "value": ${JSON.stringify(labels.length === 1 ? labels[0] : labels)}}.`,
    );
  }
  const closed = closedStates(c, v);
  if (!closed) return undefined;
  const word = v.trim().toLowerCase();
  return badInput(
    `'${v}' is not a value of ${entity}.${c.logicalName}: ${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word} ${entity} is ${closed.map((o) => `${o.label} (${o.value})`).join(' or ')}.`,
    closed.length === 1
      ? `Pass "${closed[0]!.label}".`
      : use === 'write'
        ? // a record is set to one state: the condition that finds all of them is no help here
          `Name the one meant: ${closed.map((o) => `"${o.label}"`).join(' or ')}${entity === 'incident' && closed.some((o) => o.value === 1) ? ' (a case is resolved with resolve_case, which records what resolved it)' : ''}.`
        : `Name the one meant (to find all of them: {"column": "${c.logicalName}", "op": "in", "value": ${JSON.stringify(closed.map((o) => o.label))}}).`,
  );
}
