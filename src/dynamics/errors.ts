import { applicationUserMissing, DynamicsMcpError } from '../errors.js';
import { describeBody } from './answers.js';
import { retryAfterMs } from './retry.js';

export interface DataverseErrorBody {
  code: string;
  message: string;
}

export function readErrorBody(text: string): DataverseErrorBody | undefined {
  try {
    const j = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (j.error && typeof j.error.message === 'string')
      return { code: String(j.error.code ?? ''), message: j.error.message };
  } catch {
    // not JSON: a proxy or load balancer answered
  }
  return undefined;
}

/** Dataverse messages can carry .NET stack traces (observed innererror/ODataException); keep the first sentence-like part. */
function clean(message: string): string {
  const cut = message.split(/\r?\n\s*at /)[0]!.replace(/\s*---->\s*InnerException\s*:\s*/, ': ');
  return cut.length > 600 ? `${cut.slice(0, 600)}…` : cut;
}

/** DuplicateRecordsFound: a create refused by the organisation's duplicate detection rules (DUP) */
export const DUPLICATE_RULES_CODE = '0x80040333';

/**
 * IsvAborted: the organisation's own code (a synchronous plug-in's InvalidPluginExecutionException) refused the
 * request with a message written for the user (COMPOSE: 400 by default; the plug-in may choose another status).
 * A synchronous plug-in's exception cancels and rolls back the whole operation (Handle exceptions in plug-ins).
 */
export const PLUGIN_REFUSED_CODE = '0x80040265';

/**
 * Parent and child cases' refusals ("Incident (case) hierarchies": one level, at most 100 children, and a
 * parent kept open while it has active children where the organisation says so), and an account hierarchy's
 * loop (ERRCODES AccountLoopBeingCreated), each with what to do instead.
 */
const CASE_HIERARCHY: Readonly<Record<string, string>> = {
  '0x8003f453':
    "Cases have one level of children: make it a child of that case's own parent (its parentcaseid), or of a case that is no one's child.",
  '0x8003f455':
    "A case with child cases cannot become a child: move its child cases to the other case first (update_record each one's parentcaseid), or make the other case a child of this one.",
  '0x8003f454': 'That case has 100 child cases already: choose another parent case.',
  // an account's hierarchy (AccountLoopBeingCreated): its parent is below it
  '0x80040507':
    'The account named as its parent is below it in its hierarchy (its child, or a child\'s child): ask the user which account is its parent; to turn the two around, first clear the lower one\'s parent (update_record with {"parentaccountid": null}).',
  '0x8003f451':
    'Resolve or cancel its active child cases first (query_entities incident where {"parentcaseid": "<this case>", "statecode": "Active"}), then this one: the organisation\'s Parent and Child case settings keep a parent open while any child is.',
};

export interface ErrorContext {
  entity?: string;
  id?: string;
  /** closest real columns, when the error names an unknown one (filled in by the caller from metadata) */
  suggest?: (entity: string, column: string) => string[];
}

/**
 * One Dataverse error response → one typed error whose hint says how to recover. Codes and messages are the
 * documented ones (shared/reference/dataverse-webapi.md §7, §8).
 */
export function mapDataverseError(
  status: number,
  headers: Record<string, string>,
  text: string,
  ctx: ErrorContext = {},
): DynamicsMcpError {
  const body = readErrorBody(text);
  const code = body?.code || undefined;
  // not Dataverse's error JSON: a proxy or load balancer answered; say what it sent, not its raw markup
  const message = body ? clean(body.message) : `HTTP ${status}: ${describeBody(headers, text)}`;
  const what = ctx.entity ? `${ctx.entity}${ctx.id ? ` ${ctx.id}` : ''}` : 'the record';
  const base = { status, code };
  if (status === 401) return applicationUserMissing(message);
  // checked before the status: a plug-in's refusal means the same whatever status it chose, and the same
  // request is refused the same way (its types and lengths were fine: describe_entity will not help)
  if (code === PLUGIN_REFUSED_CODE)
    return new DynamicsMcpError(
      'validation',
      `Business logic set up in this organisation (a plug-in${ctx.entity ? ` on ${ctx.entity}` : ''}) refused the request, and nothing of it was saved: ${message}`,
      "Do what its message asks (a value it names, another state first) and try again, or tell the user what it says: it is the organisation's own rule, so the same request is refused again. A Dynamics administrator or developer owns it.",
      { ...base, retryable: false },
    );
  // DUP: duplicate detection answers 500 with DuplicateRecordsFound (asked for on creates: write-body.ts)
  if (code === DUPLICATE_RULES_CODE)
    return new DynamicsMcpError(
      'duplicate',
      `The organisation's duplicate detection rules match ${ctx.entity ? `an existing ${ctx.entity}` : 'an existing record'} (such as one with the same email or name), so nothing was written.`,
      'Find that record with query_entities by the values given, and use or update it (update_record) instead. The rules are set by an administrator in Dynamics (Duplicate Detection Rules).',
      { ...base, retryable: false },
    );
  if (status === 403) {
    const prv = /missing (prv\w+) privilege/.exec(message)?.[1];
    const entity = /for entity '(\w+)'/.exec(message)?.[1] ?? ctx.entity;
    // the message names the user who lacks it and the caller: another user than the caller (a record assigned to
    // someone whose role cannot hold it) is no fault of the application user's role
    const principal = /Principal user \(Id=([0-9a-f-]{36})/i.exec(message)?.[1]?.toLowerCase();
    const caller = /context\.Caller=([0-9a-f-]{36})/i.exec(message)?.[1]?.toLowerCase();
    if (prv && principal && caller && principal !== caller)
      return new DynamicsMcpError(
        'permission',
        `The user ${principal} lacks the ${prv} privilege${entity ? ` on ${entity}` : ''}: their security role cannot hold or read this record.`,
        `If the record is being assigned or shared to that user, choose someone whose role has ${prv}, or ask an administrator to add it to that user's role.`,
        { ...base, retryable: false },
      );
    return new DynamicsMcpError(
      'permission',
      prv ? `The application user lacks the ${prv} privilege on ${entity}.` : `Permission denied: ${message}`,
      `An administrator must add ${prv ?? 'the missing privilege'}${entity ? ` on ${entity}` : ''} to the application user's security role (Power Platform admin center → Users + permissions → Security roles). Other tables may still work.`,
      { ...base, retryable: false },
    );
  }
  if (status === 404)
    return new DynamicsMcpError(
      'not_found',
      // Dataverse's own text ("account With Id = … Does Not Exist") only repeats what we can say plainly
      /Does Not Exist/.test(message)
        ? ctx.entity && ctx.id
          ? `No ${ctx.entity} with the id ${ctx.id} exists.`
          : `No ${ctx.entity ?? 'record'} with that id exists: ${message}`
        : `Not found: ${message}`,
      'Check the id; find records with query_entities, then use the id it returns.',
      { ...base, retryable: false },
    );
  if (status === 412) {
    if (code === '0x80040237' || /matching key values already exists/.test(message))
      return new DynamicsMcpError(
        'duplicate',
        `A record with this key already exists (${what}).`,
        'Use the existing record (get_record) or update it with update_record.',
        { ...base, retryable: false },
      );
    return new DynamicsMcpError(
      'concurrency',
      `The ${what} was changed by someone else since you read it.`,
      'Read it again with get_record (it returns the new etag), check the changes, and retry the update with that etag.',
      { ...base, retryable: false },
    );
  }
  if (status === 429) {
    const wait = retryAfterMs(headers);
    return new DynamicsMcpError(
      'throttled',
      `Dynamics is throttling requests (service protection): ${message}`,
      `Wait ${wait ? `${Math.ceil(wait / 1000)} seconds` : 'a little'} before trying again, and ask for fewer rows or fewer calls at once.`,
      { ...base, retryAfterMs: wait, retryable: true },
    );
  }
  // the URL or headers over what the service (or HTTP.sys in front of it) accepts; the transport sends
  // long GETs inside a $batch, so this is a request too long even for that
  if (status === 414 || status === 431)
    return new DynamicsMcpError(
      'too_large',
      'The request is too long for Dynamics.',
      'Ask in parts: split a long "in" list over several queries, or use a shorter filter or fewer columns.',
      { ...base, retryable: false },
    );
  if (status === 413)
    return new DynamicsMcpError(
      'too_large',
      'The request is too large for Dynamics.',
      'Send fewer records or shorter text per call.',
      { ...base, retryable: false },
    );
  if (status === 400 || status === 405 || status === 501) {
    const unknown =
      /Could not find a property named '([^']+)' on type 'Microsoft\.Dynamics\.CRM\.(\w+)'/.exec(message) ??
      /The property '([^']+)' does not exist on type 'Microsoft\.Dynamics\.CRM\.(\w+)'/.exec(message);
    if (unknown) {
      const suggestions = ctx.suggest?.(unknown[2]!, unknown[1]!) ?? [];
      return new DynamicsMcpError(
        'unknown_column',
        `'${unknown[1]}' is not a column of ${unknown[2]}.`,
        `${suggestions.length ? `Did you mean: ${suggestions.join(', ')}? ` : ''}Call describe_entity('${unknown[2]}') for the real column names.`,
        { ...base, suggestions, retryable: false },
      );
    }
    // OData's type check: a lookup (Edm.Guid) compared with text, the usual slip of filter text that means
    // a name ("parentaccountid eq 'Contoso'")
    if (/incompatible types.*'Edm\.Guid' and 'Edm\.String'|'Edm\.String' and 'Edm\.Guid'/.test(message))
      return new DynamicsMcpError(
        'query_syntax',
        `The query compares a record id with text: ${message}`,
        "A lookup holds the related record's id: compare it with an id (no quotes), or match by name through the lookup, e.g. parentaccountid/name eq 'Contoso' (describe_entity shows each lookup's target; \"where\" conditions say this before sending).",
        { ...base, retryable: false },
      );
    // a date, a number or a yes/no written in quotes ("createdon ge '2026-11-20'", "revenue gt '5'"): OData
    // writes those bare, and quotes are for text
    const quoted =
      /incompatible types.*'Edm\.(DateTimeOffset|Date|Decimal|Double|Int32|Int64|Boolean)' and 'Edm\.String'|'Edm\.String' and 'Edm\.(DateTimeOffset|Date|Decimal|Double|Int32|Int64|Boolean)'/.exec(
        message,
      );
    if (quoted) {
      const type = quoted[1] ?? quoted[2]!;
      const [kind, bare] =
        type === 'DateTimeOffset' || type === 'Date'
          ? ['date', 'a date or date-time without quotes (createdon ge 2026-11-20, or 2026-11-20T09:00:00Z)']
          : type === 'Boolean'
            ? ['yes/no', 'true or false without quotes']
            : ['number', 'the number without quotes (revenue gt 1000000)'];
      return new DynamicsMcpError(
        'query_syntax',
        `The query compares a ${kind} column with text: ${message}`,
        `Write ${bare}: quotes are for text in OData.`,
        { ...base, retryable: false },
      );
    }
    const position = /at position (\d+)/.exec(message);
    if (position || /Syntax error|unterminated literal/i.test(message))
      return new DynamicsMcpError(
        'query_syntax',
        `The query is not valid: ${message}`,
        'Fix the filter at the position named, or use the structured "where" conditions instead of filter text.',
        {
          ...base,
          position: position ? Number(position[1]) : undefined,
          retryable: false,
        },
      );
    const hierarchy = code ? CASE_HIERARCHY[code.toLowerCase()] : undefined;
    if (hierarchy)
      return new DynamicsMcpError('validation', `Dynamics refused the request: ${message}`, hierarchy, {
        ...base,
        retryable: false,
      });
    if (code === '0x8004E023')
      return new DynamicsMcpError(
        'too_large',
        'Too many records to aggregate in Dynamics (the limit is 50,000).',
        'Narrow the period or add conditions.',
        { ...base, retryable: false },
      );
    return new DynamicsMcpError(
      'validation',
      `Dynamics refused the request: ${message}`,
      'Check the values against describe_entity (types, lengths, option values) and try again.',
      { ...base, retryable: false },
    );
  }
  // any other 4xx (406, 409, 415, …) refuses this request as sent: waiting does not change that
  if (status < 500)
    return new DynamicsMcpError(
      'validation',
      body ? `Dynamics refused the request (HTTP ${status}): ${message}` : `Dynamics refused the request: ${message}`,
      'Sending the same request again will not help: check the arguments against describe_entity, or ask for less.',
      { ...base, retryable: false },
    );
  return new DynamicsMcpError(
    'server',
    body ? `Dynamics answered HTTP ${status}: ${message}` : `Dynamics answered ${message}`,
    'This is a problem on the Dynamics side; try again in a minute.',
    { ...base, retryable: true },
  );
}
