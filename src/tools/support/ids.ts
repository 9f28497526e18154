const GUID = /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/;

/** A Dataverse id in canonical form, or undefined. */
export const guidOrUndefined = (s: string): string | undefined => GUID.exec(s.trim())?.[1]?.toLowerCase();
