import { closest } from './suggest.js';

/** A table as the policy's keys may name it: its logical name, and the other names people know it by. */
export interface TableNames {
  logicalName: string;
  /** e.g. {"entity set name": "contacts"} (as in Web API URLs), {"display name": "Contact"} */
  otherNames: Record<string, string>;
}

export interface UnmatchedKey {
  key: string;
  /** the table the key is another name of, and which name it is */
  meant?: { logicalName: string; as: string };
  closest: string[];
}

/**
 * Policy entries are keyed by logical name. A key that is none (a table the organisation lacks, or the entity
 * set name "contacts" copied from a Web API URL) matches nothing, so the model cannot use that table: named
 * with the table it is another name of, or the closest logical names, for doctor and the log to say.
 */
export function unmatchedTableKeys(keys: readonly string[], tables: readonly TableNames[]): UnmatchedKey[] {
  const logical = new Set(tables.map((t) => t.logicalName.toLowerCase()));
  return keys
    .filter((k) => !logical.has(k.toLowerCase()))
    .map((key) => {
      for (const t of tables)
        for (const [as, name] of Object.entries(t.otherNames))
          if (name.toLowerCase() === key.toLowerCase())
            return { key, meant: { logicalName: t.logicalName, as }, closest: [] };
      return { key, closest: closest(key, logical, 3) };
    });
}

/** "'contacts' is the entity set name of contact: …", as doctor and the log say it */
export function unmatchedKeyText(u: UnmatchedKey): string {
  if (u.meant)
    return `'${u.key}' is the ${u.meant.as} of ${u.meant.logicalName}: policy entries are keyed by logical name, so it matches nothing`;
  return `'${u.key}' is no table of this environment${u.closest.length ? ` (closest: ${u.closest.join(', ')})` : ''}`;
}
