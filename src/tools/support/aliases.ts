/**
 * An object's keys under the names the tool documents: each [alias, name] pair moves a value written under
 * another API's word (field, logicalName, relationship…) to the documented name, unless that name is set too
 * (then the alias stays, and the strict schema refuses it by name). Returns a copy; anything but a plain
 * object comes back as it was, for the schema to refuse.
 */
export function withNames(v: unknown, pairs: Iterable<readonly [string, string]>): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const out: Record<string, unknown> = { ...v };
  for (const [alias, name] of pairs)
    if (out[alias] !== undefined && out[name] === undefined) {
      out[name] = out[alias];
      delete out[alias];
    }
  return out;
}
