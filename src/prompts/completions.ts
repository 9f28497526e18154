import type { Condition } from '../dynamics/conditions.js';
import { linkedSignal, waitedFor } from '../dynamics/signals.js';
import type { ServerDeps } from '../server.js';
import { masterColumn } from '../tools/support/lookup-names.js';

/** Names offered per keystroke: a handful is what a client's drop-down shows. */
const OFFERED = 10;
/**
 * How long a keystroke's names are waited for: Dynamics answers in well under a second; one that is throttled
 * or down would otherwise hold the drop-down through every retry (minutes, with Retry-After).
 */
const ANSWER_WITHIN_MS = 3000;
/** the servers whose last completion could not ask Dynamics: warned once, not at every keystroke after */
const unanswered = new WeakSet<ServerDeps>();

/**
 * The periods review_wins_and_losses offers as its argument is typed, each one a date condition the tools
 * read (query_entities' where, aggregate_records' groupBy periods).
 */
const PERIODS = [
  'last 6 months',
  'last 3 months',
  'last 12 months',
  'last 90 days',
  'this quarter',
  'last quarter',
  'this year',
  'last year',
  'this month',
  'last month',
];

/**
 * What a completion/complete answers: the values offered, and whether there are more than those (a client
 * that shows "10 of 10" for the first ten of a few hundred accounts would tell the user they have seen all).
 * `total` only where it is known.
 */
export interface Offer {
  values: string[];
  total?: number;
  hasMore: boolean;
}
export type Completer = (value: string) => Promise<Offer>;

/** Every value there is, offered whole (a short list known here: periods, table names). */
export const all = (values: string[]): Offer => ({ values, total: values.length, hasMore: false });

export const periodsStartingWith: Completer = async (value) =>
  all(PERIODS.filter((p) => p.startsWith(value.trimStart().toLowerCase())));

/**
 * The names of `entity`'s records that begin with what has been typed (an account for account_brief, a user
 * for daily_agenda), as a client offers them while the user fills in a prompt's argument. Asked through the
 * policy like any query (a table or name column it hides offers nothing), at most OFFERED, alphabetically.
 * A convenience: when Dynamics cannot be asked, nothing is offered and the prompt still takes any text.
 */
export function namesStartingWith(deps: ServerDeps, entity: string): Completer {
  const lookup = async (value: string, signal: AbortSignal): Promise<Offer> => {
    const model = await deps.client.metadata.entity(entity);
    const column = model.primaryNameAttribute;
    if (!column || !deps.policy.canRead(entity, column)) return all([]);
    const typed = value.trim();
    // not the names of duplicates merged into another record: that one is the one to brief on
    const conditions: Condition[] = [
      ...(typed ? [{ column, op: 'startswith', value: typed } as const] : []),
      ...masterColumn(deps, model).map((c) => ({ column: c, op: 'null' }) as const),
    ];
    // one more than offered: whether there are more is then known without counting them all
    const page = await deps.client.query(
      {
        entity,
        select: [column],
        ...(conditions.length ? { where: conditions.length > 1 ? { and: conditions } : conditions[0] } : {}),
        orderBy: `${column} asc`,
        top: OFFERED + 1,
      },
      { internal: true, signal },
    );
    const hasMore = page.rows.length > OFFERED;
    const names = page.rows
      .slice(0, OFFERED)
      .map((r) => r[column])
      .filter((n): n is string => typeof n === 'string' && !!n);
    const values = [...new Set(names.map((n) => deps.scrubber.scrub(n)))];
    return hasMore ? { values, hasMore } : all(values);
  };
  return async (value) => {
    const within = linkedSignal(undefined, ANSWER_WITHIN_MS);
    try {
      // the keystroke stops waiting at the bound; a metadata read under way goes on (and is kept) for the next
      const names = await waitedFor(lookup(value, within.signal), within.signal);
      unanswered.delete(deps);
      return names;
    } catch (err) {
      if (!unanswered.has(deps))
        deps.log.warn(
          { err, entity },
          'names unavailable for prompt argument completion (said once until Dynamics answers one again)',
        );
      unanswered.add(deps);
      return all([]);
    } finally {
      within.done();
    }
  };
}
