import { z } from 'zod';
import { util } from 'zod/v4/core';

/** what z.record(z.string(), z.unknown()) accepts (zod's own test for it), checked without copying the object */
const plainObject = z.custom<Record<string, unknown>>((v) => util.isPlainObject(v), { error: 'expected an object' });

type Def = {
  type: string;
  valueType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  catchall?: z.ZodType;
  checks?: unknown[];
};

/**
 * The schema the SDK checks each tool result against, answering as `schema` does: the SDK validates
 * structuredContent with zod and throws the parsed copy away, and z.record() builds that copy key by key —
 * for 50 rows, ~75 KB of garbage and ~0.05 ms per call. Records of unknown values become a plain-object check;
 * everything else is kept (a node with its own checks is kept whole). The listed JSON Schema still comes from
 * `schema` (tools/list-cache.ts); test/tools/registry.test.ts checks both answer alike.
 */
export function forValidation<T extends z.ZodType>(schema: T): T {
  // once per schema and process: zod compiles a new object schema's parser on its first use, and servers are
  // made per session (per request when stateless)
  let rebuilt = built.get(schema);
  if (!rebuilt) {
    rebuilt = rebuild(schema);
    built.set(schema, rebuilt);
  }
  return rebuilt as T;
}
const built = new WeakMap<z.ZodType, z.ZodType>();

function rebuild(schema: z.ZodType): z.ZodType {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  if (def.checks?.length) return schema;
  switch (def.type) {
    case 'record':
      return (def.valueType as unknown as { _zod: { def: Def } })._zod.def.type === 'unknown' ? plainObject : schema;
    case 'object': {
      const shape = Object.fromEntries(Object.entries(def.shape!).map(([k, v]) => [k, rebuild(v)]));
      if (Object.keys(shape).every((k) => shape[k] === def.shape![k])) return schema;
      const object = z.object(shape);
      return def.catchall ? object.catchall(def.catchall) : object;
    }
    case 'array': {
      const element = rebuild(def.element!);
      return element === def.element ? schema : z.array(element);
    }
    case 'optional': {
      const inner = rebuild(def.innerType!);
      return inner === def.innerType ? schema : inner.optional();
    }
    case 'nullable': {
      const inner = rebuild(def.innerType!);
      return inner === def.innerType ? schema : inner.nullable();
    }
    default:
      return schema;
  }
}
