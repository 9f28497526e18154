/**
 * A number made from a record's id (FNV-1a over its text), for the seed's choices that must not draw from the
 * random sequence (a draw would move every value seeded after it). Not the id's own digits: the platform's
 * sequential ids share their low bits (every first group ends in …a8), so `n % 2` of those digits was the
 * same for every record, and "half the open High cases escalated" was all of them.
 */
export function idNumber(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
