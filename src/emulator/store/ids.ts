/**
 * Record ids as the Dataverse platform assigns them: sequential in SQL Server's uniqueidentifier order, so a
 * table's rows sort by id in the order they were created. Microsoft's guidance is to let the platform assign
 * ids rather than send Guid.NewGuid() ones "to take advantage of sequential GUIDs, which provide better SQL
 * performance" ("The dangers of Guid.NewGuid()", crminthefield, 2015; the CRM SDK's best practices). Ids a
 * client sends are kept as they are.
 *
 * The shape follows Microsoft's own samples: two accounts created one after the other in the Power Pages Web
 * API docs ("Query data using portals Web API", read-operations) are d2e11ba8-92f6-eb11-94ef-000d3a5aa607
 * and d4e11ba8-92f6-eb11-94ef-000d3a5aa607 — the last four groups the same, and the first group counting up
 * from its first byte, which is the least significant one in SQL Server's order (its bytes are compared last
 * to first). Here the first group holds a counter written that way, stepping by 1 to 4, and the rest is fixed.
 */
export class RecordIds {
  private static readonly FIRST = 0xa81be1d2;
  private static readonly TAIL = '-92f6-ee11-8f6e-000d3a5b1c2d';
  private counter = RecordIds.FIRST;

  /** The next id; the first hex digit of `noise` sets the step (the seed passes its own draws). */
  next(noise: string): string {
    const c = this.counter;
    this.counter = (c + 1 + (Number.parseInt(noise[0] ?? '0', 16) & 3)) >>> 0;
    // c's bytes least significant first: SQL Server compares the first group's bytes from the last
    let group1 = '';
    for (let shift = 0; shift < 32; shift += 8) group1 += ((c >>> shift) & 0xff).toString(16).padStart(2, '0');
    return `${group1}${RecordIds.TAIL}`;
  }

  /** Back to the first id: a reseeded organisation gets the ids it had. */
  reset(): void {
    this.counter = RecordIds.FIRST;
  }
}
