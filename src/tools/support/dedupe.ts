import { createHash } from 'node:crypto';
import { DUPLICATE_RULES_CODE } from '../../dynamics/errors.js';
import { DynamicsMcpError } from '../../errors.js';
import type { EntityModel } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { mergeHint } from './merge-records.js';
import { recordMatchedByRule } from './rule-match.js';
import { recordUrl } from './shape.js';

/**
 * A name-based UUID (RFC 4122 version 5): the same key always gives the same id. Two callers racing to
 * create "the case for alert X" therefore write the same record id, and Dataverse lets only one of them
 * create it (If-None-Match: *): the loser gets the winner's record instead of a duplicate.
 */
export function nameBasedId(namespace: string, key: string): string {
  const h = createHash('sha1').update(namespace).update('\u0000').update(key).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const DAY_MS = 86_400_000;
/**
 * How long after midnight (UTC) a write made just before it still counts as that day's: a tool's "once a
 * day" would otherwise let a call retried across midnight (its answer lost at 23:59, sent again at 00:01)
 * make the record a second time.
 */
export const RETRY_WINDOW_MS = 10 * 60_000;

/** The moment from which a write made `now` may be a repeat: today's midnight (UTC), or a little before it. */
export function sameDaySince(now = Date.now()): number {
  return Math.min(Math.floor(now / DAY_MS) * DAY_MS, now - RETRY_WINDOW_MS);
}

/** The UTC day of a moment, YYYY-MM-DD. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Serialises work per key inside this process (check-then-create must not interleave for one key). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/**
 * Of a search for the record a repeated create means (newest first), the one still open (statecode 0) made
 * within the last day: the same call again, not an older record of the same name.
 */
export function openWithinADay<R extends Record<string, unknown>>(rows: readonly R[]): R | undefined {
  const since = new Date(Date.now() - 86_400_000).toISOString().slice(0, 19);
  return rows.find((r) => r.statecode === 0 && String(r.createdon ?? '') >= since);
}

/**
 * Check, then create, under one key: one at a time for the key in this process, and across processes (or
 * after a reply lost once the record was made) the n-th record for the key has a fixed id, so Dataverse lets
 * one create through (If-None-Match: *) and the others read back what it made. `find` returns the record
 * already there, if any, and how many the key has (the n above).
 */
export async function createOnce<Found, T>(
  ctx: Pick<ToolContext, 'locks' | 'config'>,
  key: string,
  find: () => Promise<{ found?: Found; count: number }>,
  make: (id: string) => Promise<T>,
  answer: (found: Found) => Promise<T> | T,
): Promise<T> {
  return ctx.locks.run(key, async () => {
    const first = await find();
    if (first.found) return answer(first.found);
    try {
      return await make(nameBasedId(ctx.config.dynamics.url, `${key}:${first.count}`));
    } catch (err) {
      if (!(err instanceof DynamicsMcpError) || err.kind !== 'duplicate') throw err;
      const again = await find();
      if (!again.found) throw err;
      return answer(again.found);
    }
  });
}

/** A create the organisation's duplicate detection rules refused: the record they matched, as the tool says it. */
export interface RuleMatch {
  id: string;
  url: string;
  existing: Record<string, unknown>;
  text: string;
}

/**
 * A create under the organisation's duplicate detection rules, from a tool that can override them. Refused
 * (0x80040333, which names no record), the record the rule matched is looked for (rule-match.ts) and returned
 * as the duplicate, as the tools' own check returns one, and audited so; not found, the refusal stands, and
 * its hint says how the user overrides it (Dynamics' "Ignore and save").
 */
export async function createUnderRules<T>(
  ctx: ToolContext,
  tool: string,
  model: EntityModel,
  values: Record<string, unknown>,
  create: () => Promise<T>,
): Promise<{ made: T } | { matched: RuleMatch }> {
  try {
    return { made: await create() };
  } catch (err) {
    if (!(err instanceof DynamicsMcpError) || err.details.code !== DUPLICATE_RULES_CODE) throw err;
    const hit = await recordMatchedByRule(ctx, model, values).catch(() => undefined);
    if (!hit)
      throw new DynamicsMcpError(
        err.kind,
        err.message,
        `${err.hint} Only if the user says it is a different ${model.logicalName}: call again with allowDuplicate: true.`,
        err.details,
      );
    const id = String(hit.found.id);
    // a rule that looks in another table ("leads matching a contact's email"): what was asked for was not made,
    // and the record in the way is named, for the user to decide
    if (hit.entity.logicalName !== model.logicalName) {
      const name = hit.entity.primaryNameAttribute ? hit.found[hit.entity.primaryNameAttribute] : undefined;
      throw new DynamicsMcpError(
        err.kind,
        `Dynamics did not create the ${model.logicalName}: the organisation's duplicate detection rule "${hit.rule}" matches ${articleOf(hit.entity.logicalName)} ${hit.entity.logicalName} already there${typeof name === 'string' && name ? `, "${name}"` : ''} (${id}).`,
        `Use that ${hit.entity.logicalName} (get_record with entity "${hit.entity.logicalName}" and id "${id}"). Only if the user says this ${model.logicalName} is a different one: call again with allowDuplicate: true.`,
        err.details,
      );
    }
    await ctx.audit.record({
      tool,
      entity: model.logicalName,
      id,
      action: 'create',
      columns: {},
      caller: ctx.caller,
      outcome: `duplicate: the organisation's rule "${hit.rule}" matched the existing record`,
    });
    const article = articleOf(model.logicalName).replace('a', 'A');
    return {
      matched: {
        id,
        url: recordUrl(ctx.config.dynamics.url, model.logicalName, id),
        existing: hit.found,
        text: `${article} ${model.logicalName} the organisation's duplicate detection rule "${hit.rule}" matches already exists (${id}); it was not created again. Pass allowDuplicate: true to create another.`,
      },
    };
  }
}

const articleOf = (noun: string) => (/^[aeiou]/.test(noun) ? 'an' : 'a');

/**
 * An update the organisation's duplicate detection rules refused (DUP: "Detect duplicates during Update
 * operation", 0x80040333, which names no record): the other record the changed values match is looked for and
 * named, for the user to decide which one to keep; not found (the record already matched one on values this
 * update did not change), the refusal stands. Either way, nothing was written, and allowDuplicate (Dynamics'
 * "Ignore and save") writes it. Any other error is returned as it is.
 */
export async function updateRefusedByRules(
  ctx: ToolContext,
  model: EntityModel,
  id: string,
  values: Record<string, unknown>,
  err: unknown,
): Promise<unknown> {
  if (!(err instanceof DynamicsMcpError) || err.details.code !== DUPLICATE_RULES_CODE) return err;
  const override = `Only if the user says they are different: call update_record again with allowDuplicate: true.`;
  // the values changed first; then the record as it would be (its other values may be the ones that match)
  const asItWouldBe = async () => {
    const { row } = await ctx.client.get(model.logicalName, id, { signal: ctx.signal });
    return recordMatchedByRule(ctx, model, { ...row, ...values }, id);
  };
  const byChange = await recordMatchedByRule(ctx, model, values, id).catch(() => undefined);
  const hit = byChange ?? (await asItWouldBe().catch(() => undefined));
  if (!hit) return new DynamicsMcpError(err.kind, err.message, `${err.hint} ${override}`, err.details);
  // matched on what the record already held: the change itself is not what the rule found, and the user is told
  const already = byChange ? '' : ' on values it already had, not the ones changed';
  const other = String(hit.found.id);
  const name = hit.entity.primaryNameAttribute ? hit.found[hit.entity.primaryNameAttribute] : undefined;
  return new DynamicsMcpError(
    err.kind,
    `Dynamics did not update the ${model.logicalName}: the organisation's duplicate detection rule "${hit.rule}" matches ${hit.entity.logicalName === model.logicalName ? 'another' : articleOf(hit.entity.logicalName)} ${hit.entity.logicalName}${typeof name === 'string' && name ? `, "${name}"` : ''} (${other})${already}. Nothing was written.`,
    `Ask the user whether they are the same ${hit.entity.logicalName}: if so, use that one (get_record with entity "${hit.entity.logicalName}" and id "${other}").${hit.entity.logicalName === model.logicalName ? mergeHint(ctx, model.logicalName, [id, other]) : ''} ${override}`,
    err.details,
  );
}
