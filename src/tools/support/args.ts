import { z } from 'zod';
import { closest } from '../../policy/suggest.js';

/**
 * A tool's arguments object, refusing names it does not have. zod's default drops unknown keys without a
 * word, so a model that wrote `limit`, `filters` or `emailaddress1` got all rows, an unfiltered list or a
 * lead without its email, and was told nothing. The refusal names the argument meant (from `meant`, the
 * words models use instead, then by spelling) and lists the tool's own; `elsewhere` says where anything
 * else belongs (e.g. a lead's other columns in "extra").
 */
export function toolArgs<S extends z.ZodRawShape>(
  tool: string,
  shape: S,
  opts: { meant?: Record<string, keyof S & string>; elsewhere?: string } = {},
) {
  const names = Object.keys(shape);
  const known = new Set(names);
  const meant = new Map(Object.entries(opts.meant ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  // checked before the arguments themselves: a value sent under the wrong name is then reported once, as
  // that, not also as a required argument missing (zod stops at the first failing step of a pipe)
  const namesKnown = (v: unknown, ctx: z.core.$RefinementCtx) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const unknown = Object.keys(v).filter((k) => !known.has(k));
    if (unknown.length === 0) return v;
    const each = unknown.map((k) => {
      const use = meant.get(k.toLowerCase()) ?? closest(k, names, 1)[0];
      return use ? `'${k}' (use '${use}')` : `'${k}'`;
    });
    ctx.addIssue({
      code: 'custom',
      message:
        `${tool} has no argument ${each.join(', ')}. Its arguments: ${names.join(', ')}.` +
        (opts.elsewhere ? ` ${opts.elsewhere}` : ''),
    });
    return v;
  };
  // strict as well, so that tools/list says so (additionalProperties: false) to clients that check
  return z.preprocess(namesKnown, z.strictObject(shape));
}
