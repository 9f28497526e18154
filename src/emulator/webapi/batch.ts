import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.js';
import { badRequest } from './errors.js';
import {
  boundaryOf,
  type HttpPart,
  MultipartError,
  type PartResponse,
  parseBatch,
  writeHttpPart,
  writeMultipart,
} from './multipart.js';
import { API_PREFIX, type ApiRequest, type ApiResponse, MAX_BATCH_URL_LENGTH, urlTooLong } from './request.js';
import { type Caller, errorResponse, type WebApi } from './router.js';

/** BATCH: at most 1,000 requests per batch. */
export const MAX_BATCH_REQUESTS = 1000;

class ChangeSetFailed extends Error {
  constructor(readonly response: PartResponse) {
    super('change set failed');
  }
}

/** A canned answer for one part (fault injection inside a batch), or none. */
export type PartFault = (method: string, path: string) => { status: number; body?: unknown } | undefined;

/**
 * POST $batch: runs parts in order; change sets atomically with Content-ID references; stops at the first
 * failure unless `Prefer: odata.continue-on-error` (then every part's result, with an outer 200).
 */
export function handleBatch(
  api: WebApi,
  store: Store,
  req: ApiRequest,
  caller: Caller,
  partFault?: PartFault,
): ApiResponse {
  const boundary = boundaryOf(req.headers['content-type']);
  if (!req.headers['content-type']?.startsWith('multipart/mixed') || !boundary)
    return errorResponse(badRequest('The $batch request must have Content-Type: multipart/mixed with a boundary.'));
  let items: ReturnType<typeof parseBatch>;
  try {
    items = parseBatch(req.body, boundary);
  } catch (err) {
    if (err instanceof MultipartError) return errorResponse(badRequest(err.message));
    throw err;
  }
  const total = items.reduce((n, i) => n + (i.kind === 'changeset' ? i.parts.length : 1), 0);
  if (total > MAX_BATCH_REQUESTS)
    return errorResponse(badRequest(`The batch contains ${total} requests; the limit is ${MAX_BATCH_REQUESTS}.`));
  const continueOnError = /odata\.continue-on-error/.test(req.headers.prefer ?? '');

  const toRequest = (part: HttpPart, contentIds: Map<string, { url: string }>): ApiRequest => {
    let url = part.url;
    const ref = /^\$(\w+)(.*)$/.exec(url);
    if (ref) {
      const target = contentIds.get(ref[1]!);
      if (!target) throw badRequest(`Content-ID Reference: '$${ref[1]}' does not exist in the batch context.`);
      url = target.url + ref[2];
    }
    const absolute = /^https?:\/\//i.test(url)
      ? new URL(url)
      : new URL(url.startsWith('/') ? url : `${API_PREFIX}/${url}`, `${req.url.protocol}//${req.url.host}`);
    // parts inherit the outer request's Prefer only when they carry none of their own
    const headers = { ...part.headers };
    return { method: part.method, url: absolute, headers, body: part.body };
  };

  const runPart = (part: HttpPart, contentIds: Map<string, { url: string }>): PartResponse => {
    let apiReq: ApiRequest;
    try {
      apiReq = toRequest(part, contentIds);
    } catch (err) {
      return { contentId: part.contentId, ...errorResponse(err) };
    }
    // the URL as the part's request line writes it (relative ones from the service root), as the outer
    // request's is measured: WHATWG's href escapes what the client left as it was (a quote as %27)
    const written = /^https?:\/\//i.test(part.url)
      ? part.url.length
      : `${req.url.protocol}//${req.url.host}`.length +
        (part.url.startsWith('/') ? part.url : `${API_PREFIX}/${part.url}`).length;
    if (written > MAX_BATCH_URL_LENGTH) return { contentId: part.contentId, ...urlTooLong() };
    const canned = partFault?.(apiReq.method, apiReq.url.pathname);
    if (canned)
      return {
        contentId: part.contentId,
        status: canned.status,
        headers: { 'Content-Type': 'application/json; odata.metadata=minimal', REQ_ID: randomUUID() },
        body:
          canned.body === undefined ? '' : typeof canned.body === 'string' ? canned.body : JSON.stringify(canned.body),
      };
    const r = api.handle(apiReq, caller, { contentIds: new Map([...contentIds].map(([k, v]) => [k, v.url])) });
    const headers = { ...r.headers };
    if (r.status >= 400) headers.REQ_ID = randomUUID();
    const entityId = headers['OData-EntityId'];
    if (entityId) {
      headers.Location = entityId;
      if (part.contentId) contentIds.set(part.contentId, { url: entityId });
    }
    return { contentId: part.contentId, status: r.status, headers, body: r.body };
  };

  const out: string[] = [];
  let failure: PartResponse | null = null;
  for (const item of items) {
    if (item.kind === 'http') {
      const r = runPart(item, new Map());
      if (r.status >= 400 && !continueOnError) {
        failure = r;
        break;
      }
      out.push(writeHttpPart(r));
      continue;
    }
    const contentIds = new Map<string, { url: string }>();
    try {
      const results = store.atomically(() =>
        item.parts.map((part) => {
          // BATCH: GET is not allowed inside a change set
          if (part.method === 'GET')
            throw new ChangeSetFailed({
              contentId: part.contentId,
              ...errorResponse(badRequest('GET requests are not allowed inside a change set.')),
            });
          const r = runPart(part, contentIds);
          if (r.status >= 400) throw new ChangeSetFailed(r);
          return r;
        }),
      );
      const csBoundary = `changesetresponse_${randomUUID()}`;
      out.push(
        `Content-Type: multipart/mixed; boundary=${csBoundary}\r\n\r\n${writeMultipart(csBoundary, results.map(writeHttpPart))}`,
      );
    } catch (err) {
      if (!(err instanceof ChangeSetFailed)) throw err;
      if (!continueOnError) {
        failure = err.response;
        break;
      }
      out.push(writeHttpPart(err.response));
    }
  }
  const responseBoundary = `batchresponse_${randomUUID()}`;
  const contentType = `multipart/mixed; boundary=${responseBoundary}`;
  if (failure) {
    return {
      status: failure.status,
      headers: { 'Content-Type': contentType },
      body: writeMultipart(responseBoundary, [writeHttpPart(failure)]),
    };
  }
  return { status: 200, headers: { 'Content-Type': contentType }, body: writeMultipart(responseBoundary, out) };
}
