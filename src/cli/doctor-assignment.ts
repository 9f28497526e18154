import type { Config } from '../config/schema.js';
import type { Check } from './doctor.js';
import { recordReader, Unchecked, type WebApiGet } from './doctor-api.js';

/**
 * Whom create_lead's assignment rules give leads to: each rule's id is a user's or a team's in this
 * organisation, said by name so the administrator sees the rules as Dynamics will apply them. An id that is
 * neither fails (every lead from those postal codes would be refused), a disabled user is warned of (the leads
 * would wait with someone who cannot sign in). Undefined without rules.
 */
export async function assignmentCheck(get: WebApiGet, config: Config): Promise<Check | undefined> {
  const rules = config.leads.assignment;
  if (!rules.length) return undefined;
  const one = recordReader(get);
  const said: string[] = [];
  const missing: string[] = [];
  const disabled: string[] = [];
  try {
    for (const rule of rules) {
      const prefix = `${rule.postalCodePrefix}…`;
      const user = await one<{ fullname?: string; isdisabled?: boolean }>(
        `/systemusers(${rule.ownerId})?$select=fullname,isdisabled`,
      );
      if (user) {
        said.push(`${prefix} → ${user.fullname ?? rule.ownerId}`);
        if (user.isdisabled) disabled.push(`${user.fullname ?? rule.ownerId} (${prefix})`);
        continue;
      }
      const team = await one<{ name?: string }>(`/teams(${rule.ownerId})?$select=name`);
      if (team) said.push(`${prefix} → the team ${team.name ?? rule.ownerId}`);
      else missing.push(`${prefix} (${rule.ownerId})`);
    }
  } catch (err) {
    if (!(err instanceof Unchecked)) throw err;
    return {
      name: 'Lead assignment',
      ok: true,
      warning: true,
      detail: `The owners of leads.assignment could not be checked (${err.message}).`,
      fix: "Give the application user read access to users and teams (prvReadUser, prvReadTeam) for doctor to check the rules' owners.",
    };
  }
  if (missing.length)
    return {
      name: 'Lead assignment',
      ok: false,
      detail: `No user or team has the id of the rule${missing.length > 1 ? 's' : ''} for ${missing.join(', ')}: create_lead would be refused for every lead from ${missing.length > 1 ? 'those postal codes' : 'that postal code'}.`,
      fix: "Put a user's or a team's id in leads.assignment[].ownerId: the id= in the address of their record in Dynamics.",
    };
  return {
    name: 'Lead assignment',
    ok: true,
    ...(disabled.length ? { warning: true } : {}),
    detail: `Leads by postal code: ${said.join('; ')}.${disabled.length ? ` But ${disabled.join(', ')} ${disabled.length > 1 ? 'are' : 'is a'} disabled user${disabled.length > 1 ? 's' : ''}.` : ''}`,
    ...(disabled.length ? { fix: 'Give those postal codes to a user who can sign in, or to a team.' } : {}),
  };
}
