import type { ToolContext } from '../define.js';

/** A case's states (incident): 0 Active */
const ACTIVE = 0;

/**
 * A case's child cases (incident_parent_incident), named by number: those still open, or all of them; none where
 * the policy hides a case's parent.
 */
export async function childCasesOf(
  ctx: ToolContext,
  id: string,
  which: 'open' | 'all' = 'open',
): Promise<{ id: string; name: string }[]> {
  if (!['parentcaseid', 'statecode'].every((c) => ctx.policy.canRead('incident', c))) return [];
  const named = ['ticketnumber', 'title'].filter((c) => ctx.policy.canRead('incident', c));
  const parent = { column: 'parentcaseid', op: 'eq', value: id } as const;
  const page = await ctx.client.query(
    {
      entity: 'incident',
      select: named,
      where: which === 'open' ? { and: [parent, { column: 'statecode', op: 'eq', value: ACTIVE }] } : parent,
      top: 100,
    },
    { signal: ctx.signal, internal: true },
  );
  return page.rows.map((r) => ({ id: String(r.incidentid), name: String(r.ticketnumber ?? r.title ?? r.incidentid) }));
}

/**
 * What became of a case's child cases when it was resolved or canceled ("Incident (case) hierarchies"): closed
 * with it where the organisation's Parent and Child case settings cascade, else still open, which the user
 * should know of.
 */
export async function childCasesNote(
  ctx: ToolContext,
  children: { id: string; name: string }[],
  /** what to do with those still open, e.g. "resolve them too if solved" */
  advice: string,
): Promise<string> {
  if (!children.length) return '';
  const page = await ctx.client.query(
    {
      entity: 'incident',
      select: ['statecode'],
      where: { column: 'incidentid', op: 'in', value: children.map((c) => c.id) },
      top: 100,
    },
    { signal: ctx.signal, internal: true },
  );
  const open = new Set(page.rows.filter((r) => r.statecode === ACTIVE).map((r) => String(r.incidentid)));
  const names = (list: { name: string }[]) => list.map((c) => c.name).join(', ');
  const closed = children.filter((c) => !open.has(c.id));
  const still = children.filter((c) => open.has(c.id));
  return `${closed.length ? ` Its child case${closed.length === 1 ? '' : 's'} ${names(closed)} ${closed.length === 1 ? 'was' : 'were'} closed with it (the organisation's Parent and Child case settings).` : ''}${still.length ? ` Its child case${still.length === 1 ? '' : 's'} ${names(still)} ${still.length === 1 ? 'is' : 'are'} still open: ${still.length === 1 ? advice.replace(/\bthem\b/, 'it') : advice}.` : ''}`;
}
