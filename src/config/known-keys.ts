import type { z } from 'zod';

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  schema?: z.ZodType;
  options?: z.ZodType[];
};
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object shapes a schema can take, through defaults, optionals, pipes and refinements; unions give each. */
function shapesOf(schema: z.ZodType): Record<string, z.ZodType>[] {
  const def = defOf(schema);
  if (def.type === 'object' && def.shape) return [def.shape];
  if (def.type === 'union' && def.options) return def.options.flatMap(shapesOf);
  const inner = def.innerType ?? def.in ?? def.schema;
  return inner ? shapesOf(inner) : [];
}

/**
 * The settings in `value` (a config file's JSON) that `schema` does not have, as dotted paths, each with the
 * name it has in that casing if there is one. zod would drop them without a word, so a misspelt setting
 * ("policy.readonly") would leave the server running as if it were not there.
 */
export function unknownSettings(value: unknown, schema: z.ZodType, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const shapes = shapesOf(schema);
  if (!shapes.length) return []; // a record or a value of its own: nothing to compare
  const known = new Map<string, z.ZodType>();
  for (const shape of shapes) for (const [k, s] of Object.entries(shape)) known.set(k, s);
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const path = `${prefix}${k}`;
    const sub = known.get(k);
    if (sub) {
      out.push(...unknownSettings(v, sub, `${path}.`));
      continue;
    }
    const meant = [...known.keys()].find((n) => n.toLowerCase() === k.toLowerCase());
    out.push(meant ? `${path} (did you mean ${prefix}${meant}?)` : path);
  }
  return out;
}
