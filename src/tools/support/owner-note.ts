import { type EntityModel, writtenColumn } from '../../policy/model.js';
import type { ToolContext } from '../define.js';

/**
 * A record made without an owner while the server signs in as an application (app-only, not on behalf of a
 * signed-in user): Dynamics makes the calling user its owner, here the application user, so a deal, lead or
 * task nobody owns shows in no one's "My" views. Said, with how to give it to a person or a team, where the policy lets
 * the owner be written (elsewhere the administrator has chosen who may assign).
 */
export function appOwnedNote(
  ctx: ToolContext,
  model: EntityModel,
  values: Record<string, unknown>,
  // create_case takes no owner: "since no ownerid was given" would send the model looking for an argument
  ownerTaken = true,
): string {
  if (ctx.client.asSignedInUser) return '';
  if (!model.columns.has('ownerid') || !ctx.policy.canWrite(model.logicalName, 'ownerid')) return '';
  if (Object.keys(values).some((k) => writtenColumn(model, k)?.logicalName === 'ownerid')) return '';
  return ` Its owner is the application user this server signs in as${ownerTaken ? ', since no ownerid was given' : ''}: to give it to a person or a team, set ownerid to their name with update_record.`;
}
