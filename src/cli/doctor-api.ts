/** One row of the EntityDefinitions list doctor reads. */
export interface TableDef {
  LogicalName: string;
  SchemaName: string;
  EntitySetName: string;
  DisplayName?: { UserLocalizedLabel?: { Label?: string } | null };
  PrimaryIdAttribute: string;
  /** a BooleanManagedProperty: whether the organisation's duplicate detection rules apply to the table */
  IsDuplicateDetectionEnabled?: { Value?: boolean };
}

/** A GET on the Web API (path after /api/data/v9.2) with doctor's token. */
export type WebApiGet = (path: string) => Promise<{ status: number; text: string }>;

/** Why a check could not be made: a refusal, a foreign page or a network failure (text: what came back). */
export class Unchecked extends Error {
  constructor(
    why: string,
    readonly text: string,
  ) {
    super(why);
  }
}

/** Dataverse's JSON answer to a GET, or Unchecked. */
export function jsonReader(get: WebApiGet) {
  return async <T>(path: string): Promise<T> => (await answer<T>(get, path, false)) as T;
}

/** Dataverse's JSON answer to a GET of one record, undefined where there is none (404), or Unchecked. */
export function recordReader(get: WebApiGet) {
  return <T>(path: string): Promise<T | undefined> => answer<T>(get, path, true);
}

async function answer<T>(get: WebApiGet, path: string, missing: boolean): Promise<T | undefined> {
  const { status, text } = await get(path).catch((err: Error) => {
    throw new Unchecked(`the request failed (${err.message})`, '');
  });
  if (status === 404 && missing) return undefined;
  if (status !== 200) throw new Unchecked(`Dynamics answered HTTP ${status}`, text);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Unchecked('the answer was not JSON', text);
  }
}
