import { randomBytes } from 'node:crypto';

/**
 * Ids for the records this server creates. A create carries its own id so that a retry cannot make a
 * second record (client.create); Microsoft advises against random ids for that (Guid.NewGuid(): "The
 * dangers of Guid.NewGuid()", crminthefield, and the CRM SDK's best practices) because Dataverse keeps
 * each table clustered on its key, and random keys land all over the index. These ids rise in SQL Server's
 * uniqueidentifier order instead: the last group (compared first) is the time in milliseconds, the fourth
 * a sequence within the millisecond (with the RFC 4122 variant bits), the first three random. So a bulk
 * create appends at the end of the index, as the platform's own sequential ids do, and two replicas making
 * ids at the same moment still differ in 60 random bits.
 */
export class RecordIdMaker {
  private lastMs = 0;
  private seq = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  next(): string {
    let ms = this.clock();
    if (ms <= this.lastMs) {
      ms = this.lastMs;
      // 14 bits of sequence a millisecond; past that, the next millisecond is borrowed (ids stay rising)
      if (++this.seq > 0x3fff) {
        ms = this.lastMs + 1;
        this.seq = 0;
      }
    } else this.seq = 0;
    this.lastMs = ms;
    const r = randomBytes(8).toString('hex');
    const group4 = (0x8000 | this.seq).toString(16);
    const group5 = ms.toString(16).padStart(12, '0').slice(-12);
    return `${r.slice(0, 8)}-${r.slice(8, 12)}-4${r.slice(13, 16)}-${group4}-${group5}`;
  }
}
