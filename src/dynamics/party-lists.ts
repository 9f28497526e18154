import { aTable, badInput } from '../errors.js';
import type { ColumnModel, EntityModel } from '../policy/model.js';
import type { Row } from './client.js';
import { guidValue } from './coerce.js';
import type { MetadataCache } from './metadata.js';

/**
 * The part each party list's people play (ParticipationTypeMask, ActivityParty table reference): a call's or
 * an email's From is 1 (Sender), its To 2, a meeting's required attendees 5 …
 */
const PARTICIPATION: Readonly<Record<string, number>> = {
  from: 1,
  to: 2,
  cc: 3,
  bcc: 4,
  requiredattendees: 5,
  optionalattendees: 6,
  organizer: 7,
  resources: 10,
  customers: 11,
};

export const isPartyList = (c: ColumnModel): boolean => c.type === 'PartyList';

/** The ParticipationTypeMask of a party list's people (a call's To: 2), if it is one this server knows. */
export const participation = (c: ColumnModel): number | undefined => PARTICIPATION[c.logicalName];

/** The relationship that holds an activity's parties: phonecall_activity_parties. */
export const partiesOf = (model: EntityModel): string | undefined =>
  model.collectionNavs.get(`${model.logicalName}_activity_parties`)?.navigationProperty;

/**
 * A party list's value as the activity's party records, made with it (a deep insert): each person as
 * {"partyid_contact@odata.bind": "/contacts(<id>)", "participationtypemask": 2}. A party list is no property of
 * the Web API's activity; Dataverse reads and writes its people as <table>_activity_parties. One person or a
 * list of them, each {entity, id} (a name was turned into that before: tools/support/lookups-by-name.ts).
 */
export async function partyRecords(
  model: EntityModel,
  col: ColumnModel,
  value: unknown,
  metadata: MetadataCache,
): Promise<Row[]> {
  const what = `${model.logicalName}.${col.logicalName}`;
  const mask = participation(col);
  if (mask === undefined || !partiesOf(model))
    throw badInput(`${what} is a party list this server cannot fill.`, `Leave ${col.logicalName} out.`);
  const people = (Array.isArray(value) ? value : [value]).filter((v) => v !== null && v !== undefined);
  const party = await metadata.entity('activityparty');
  const out: Row[] = [];
  for (const person of people) {
    const ref = person as { entity?: string; id?: string } | string;
    const entity = typeof ref === 'object' ? ref.entity : undefined;
    if (!entity)
      throw badInput(
        `${what}: '${typeof ref === 'string' ? ref : JSON.stringify(ref)}' does not say which table the person is in (${col.targets?.join(', ')}).`,
        `Pass the person's name, or {"entity": "contact", "id": "<guid>"}.`,
      );
    const table = (await metadata.resolveEntityName(entity)) ?? entity;
    const nav = [...party.singleNavs.values()].find((n) => n.attribute === 'partyid' && n.target === table);
    if (!nav || (col.targets && !col.targets.includes(table)))
      throw badInput(`${what} cannot list ${aTable(table)}.`, `It lists people from: ${col.targets?.join(', ')}.`);
    const target = await metadata.entity(table);
    const id = guidValue(typeof ref === 'object' ? (ref.id ?? '') : ref, what);
    out.push({
      [`${nav.navigationProperty}@odata.bind`]: `/${target.entitySetName}(${id})`,
      participationtypemask: mask,
    });
  }
  return out;
}
