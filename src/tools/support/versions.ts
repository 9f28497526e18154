import type { Condition } from '../../dynamics/conditions.js';
import type { ToolContext } from '../define.js';

/**
 * Tables whose rows are versions of one record, and the column that marks the version in use: a knowledge
 * article named by its title or its public number is its latest version (Knowledge Article reference:
 * islatestversion "Shows which version of the knowledge article is the latest version"), not the archived
 * one beside it with the same title and number.
 */
const CURRENT_VERSION: Readonly<Record<string, string>> = { knowledgearticle: 'islatestversion' };

/** `where` narrowed to the version in use, for a table of versions whose marker the policy lets be read. */
export function inCurrentVersion(ctx: ToolContext, logical: string, where: Condition): Condition {
  const current = CURRENT_VERSION[logical];
  return current && ctx.policy.canRead(logical, current)
    ? { and: [where, { column: current, op: 'eq', value: true }] }
    : where;
}
