/**
 * A create that found the same person's record without the email it gives (taken by phone, then a web form):
 * not made again, and nothing the call carried is lost: the answer gives the update_record values that add
 * the email and the rest of what the call said, minus what made it the same person (the name, the company)
 * and what was not the caller's to say (a default).
 */
export function samePersonUpdate(values: Record<string, unknown>, same: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (same.includes(k.toLowerCase()) || k.includes('@') || v === undefined) continue;
    // text, numbers, choices by label, and lookups as {entity, id}: the forms update_record takes
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v) || isReference(v)) out[k] = v;
  }
  return out;
}

const isReference = (v: unknown) =>
  typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' && !Array.isArray(v);

/** The answer's words: what was found ("A lead named …"), then how to add what the call gives, or make another */
export function samePersonText(found: string, id: string, update: Record<string, unknown>): string {
  return `${found} (${id}): most likely the same person, so it was not created again. To add what this call gives, call update_record on it with ${JSON.stringify(update)} (it replaces what those columns hold); only if they are different people, pass allowDuplicate: true to create another.`;
}
