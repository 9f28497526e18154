import { badInput } from '../../errors.js';
import type { ToolContext } from '../define.js';
import { keptRecord, masterColumn, mergedOf, notMergedFirst } from './lookup-names.js';

type Row = Record<string, unknown>;

/** A record the lead's company or person already is, found by the column qualifying would copy. */
export interface Existing {
  entity: 'account' | 'contact';
  id: string;
  name: string;
}

/**
 * The account a lead's company already has (exactly its name) and the contact its person already is (exactly
 * its email): QualifyLead would make another of each (Dataverse's duplicate detection is off for Web API
 * requests unless asked for), so one such record is used instead of a new one. Several are refused, listed,
 * for the lead to be linked to the right one first; none, or a policy that does not let the server read that
 * column, leaves the record to be made.
 */
export async function existingForLead(
  ctx: ToolContext,
  lead: Row,
  make: { account: boolean; contact: boolean },
): Promise<{ account?: Existing; contact?: Existing }> {
  const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const company = text(lead.companyname);
  const email = text(lead.emailaddress1);
  return {
    account: make.account && company ? await one(ctx, 'account', 'name', company, 'parentaccountid') : undefined,
    contact: make.contact && email ? await one(ctx, 'contact', 'emailaddress1', email, 'parentcontactid') : undefined,
  };
}

async function one(
  ctx: ToolContext,
  entity: 'account' | 'contact',
  column: string,
  value: string,
  link: string,
): Promise<Existing | undefined> {
  const model = await ctx.client.metadata.entity(entity);
  const name = model.primaryNameAttribute;
  if (!ctx.policy.canRead(entity, column) || !ctx.policy.canRead(entity, name)) return undefined;
  const page = await ctx.client.query(
    {
      entity,
      select: [...new Set([name, column]), ...masterColumn(ctx, model)],
      where: { column, op: 'eq', value },
      top: 6,
    },
    { signal: ctx.signal, internal: true },
  );
  // a duplicate merged into another keeps its name and email: the record in use is the one, or the one it became
  const found = notMergedFirst(
    page.rows.map((r) => ({
      entity,
      id: String(r[model.primaryIdAttribute]),
      name: String(r[name]),
      mergedInto: mergedOf(r),
    })),
  ).map(keptRecord);
  if (found.length > 1)
    throw badInput(
      `${found.length > 5 ? 'More than 5' : found.length} ${entity === 'account' ? 'accounts are named' : 'contacts have the email'} "${value}" (${found
        .slice(0, 5)
        .map((a) => a.id)
        .join(', ')}): qualifying the lead would make one more.`,
      `Link the lead to the right one first (update_record on the lead with {"${link}": "<${entity} id>"}), then qualify it.`,
    );
  return found[0];
}
