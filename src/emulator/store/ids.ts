/**
 * Record ids as the Dataverse platform assigns them: sequential in SQL Server's uniqueidentifier order, so a
 * table's rows sort by id in the order they were created. Microsoft's guidance is to let the platform assign
 * ids rather than send Guid.NewGuid() ones "to take advantage of sequential GUIDs, which provide better SQL
 * performance" ("The dangers of Guid.NewGuid()", crminthefield, 2015; the CRM SDK's best practices). Ids a
 * client sends (ours does, so that a retried create cannot make a second record) are kept as they are.
 *
 * The shape follows the ids such organisations show (`f9f35f8e-5c2b-ec11-b6e6-000d3a4e6ad1`): the last two
 * groups (clock sequence and node) are the same for every record, and the counter fills the groups SQL
 * Server compares next, most significant first — the third group's bytes reversed, then the second's. The
 * first group compares last: here it is noise, so ids made side by side still differ at a glance.
 */
export class RecordIds {
  /** 0x11ee…: the third group reads "ee11", as on records created in 2023 */
  private static readonly FIRST = 0x11ee0000;
  private static readonly TAIL = '-8f6e-000d3a5b1c2d';
  private counter = RecordIds.FIRST;

  /** The next id; `noise` supplies the first group's eight hex digits (the seed passes its own draws). */
  next(noise: string): string {
    const c = this.counter++;
    const byte = (shift: number) => ((c >>> shift) & 0xff).toString(16).padStart(2, '0');
    // counter bytes c0 (most significant) … c3: the third group is c1 c0, the second c3 c2
    return `${noise.slice(0, 8)}-${byte(0)}${byte(8)}-${byte(16)}${byte(24)}${RecordIds.TAIL}`;
  }

  /** Back to the first id: a reseeded organisation gets the ids it had. */
  reset(): void {
    this.counter = RecordIds.FIRST;
  }
}
