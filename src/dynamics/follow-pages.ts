import { DynamicsMcpError } from '../errors.js';
import type { EntityModel } from '../policy/model.js';
import { pageOf } from './answers.js';
import type { Row } from './client.js';
import { trailingNextLink } from './query-text.js';
import { linkedSignal } from './signals.js';
import type { Transport } from './transport.js';

const repeatedLink = (entitySet: string) =>
  new DynamicsMcpError(
    'server',
    `Dynamics gave the same next-page link twice while reading ${entitySet}; the read was stopped rather than read the same rows again.`,
    'Try again; if it repeats, something between this server and Dataverse (a caching proxy) is replaying answers.',
    { retryable: true },
  );

export interface FollowDeps {
  transport: Transport;
  /** the policy's check of a next link before it is followed: the path to request */
  checkLink(link: string, model: EntityModel): Promise<string>;
  suggest(entity: string, column: string): string[];
}

/**
 * Every page of one query from its first request over @odata.nextLink (PAGE), each link checked before it is
 * followed. The next page is asked for as soon as its link is known, before this page is parsed and handed
 * over, so Dataverse works on page n+1 while page n is parsed and used: a long read costs about the slower of
 * the two per page, not their sum. At most one page is in flight; stopping early cancels it.
 */
export async function* followPages(
  deps: FollowDeps,
  model: EntityModel,
  firstPath: string,
  prefer: string,
  signal?: AbortSignal,
): AsyncGenerator<Row[], void> {
  const fetchPage = (path: string) => {
    // cancelled when the read stops early or the caller gives up
    const stop = linkedSignal(signal);
    const answer = deps.transport
      .send({
        method: 'GET',
        path,
        headers: { prefer },
        idempotent: true,
        signal: stop.signal,
        context: { entity: model.logicalName, suggest: deps.suggest },
      })
      .finally(() => stop.done());
    answer.catch(() => {}); // a failure surfaces where the page is awaited, or not at all if nobody wants it
    return { answer, cancel: () => stop.abort() };
  };
  // a link the policy refuses fails the request for the next page, after this page was handed over
  let lastLink: string | undefined;
  const follow = async (link: string): Promise<ReturnType<typeof fetchPage>> => {
    try {
      // a page whose next link is the one just followed is a replayed answer (a caching proxy, say):
      // following it would read the same rows for ever
      if (link === lastLink) throw repeatedLink(model.entitySetName);
      lastLink = link;
      return fetchPage(await deps.checkLink(link, model));
    } catch (err) {
      const answer: ReturnType<typeof fetchPage>['answer'] = Promise.reject(err);
      answer.catch(() => {});
      return { answer, cancel: () => {} };
    }
  };
  let pending: ReturnType<typeof fetchPage> | undefined = fetchPage(firstPath);
  try {
    while (pending) {
      const answer = await pending.answer;
      pending = undefined;
      const early = trailingNextLink(answer.text);
      if (early) pending = await follow(early);
      const page = pageOf(answer, `the query on ${model.entitySetName}`);
      if (page.next !== early) {
        // no link at the tail (or, never seen, a different one): follow only the link the page holds
        pending?.cancel();
        pending = page.next ? await follow(page.next) : undefined;
      }
      yield page.rows;
    }
  } finally {
    pending?.cancel();
  }
}
