import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { DynamicsMcpError } from './errors.js';
import type { Logger } from './logging.js';
import type { Policy } from './policy/policy.js';
import type { SecretScrubber } from './secrets.js';

export interface AuditEntry {
  /**
   * The tools/call the write was made in, the same for every write of one call (a list of leads or records, an
   * update and the links it made): what an administrator reviews and reverses together, with `previous`.
   */
  call?: string;
  tool: string;
  entity: string;
  id: string;
  action: 'create' | 'update' | 'resolve' | 'close' | 'qualify' | 'link' | 'delete' | 'merge';
  /** column → new value; sensitive columns appear with their value withheld */
  columns: Record<string, unknown>;
  /** an update's columns as they were just before it (labels and names as the model saw them), withheld alike */
  previous?: Record<string, unknown>;
  caller: string;
  /** e.g. duplicate found, existing case returned, declined by the user */
  outcome?: string;
}

/** What a tool writes its audit entries through (AuditLog.forCall). */
export type AuditWriter = Pick<AuditLog, 'record'>;

/**
 * One JSON line per write: when, which tool, which record, which columns, who asked. Values of columns the
 * policy marks sensitive are never written, and secrets typed into a value (a note, a description) are
 * redacted as in every other log line. Goes to DYNAMICS_MCP_AUDIT_LOG when set, else to the log.
 */
export class AuditLog {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly policy: Policy,
    private readonly log: Logger,
    private readonly file?: string,
    private readonly scrubber?: SecretScrubber,
  ) {
    // an audit log that cannot be written stops the server at start, not each write later in silence: a
    // write that should be audited and is not is what an admin must never find out about afterwards
    if (file)
      try {
        appendFileSync(file, '', 'utf8');
      } catch (err) {
        throw new DynamicsMcpError(
          'config',
          `DYNAMICS_MCP_AUDIT_LOG: cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`,
          'Point it at a file in a directory that exists and this user may write, or unset it to audit into the log.',
        );
      }
  }

  /**
   * The audit log as one tools/call writes to it: each of its entries names the call. The id is made at the
   * call's first write: most calls read, and write nothing.
   */
  forCall(): AuditWriter {
    let call: string | undefined;
    return {
      record: (entry) => {
        call ??= randomUUID();
        return this.record({ call, ...entry });
      },
    };
  }

  record(entry: AuditEntry): Promise<void> {
    const withheld = (values: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(values).map(([k, v]) => [k, this.policy.isSensitive(entry.entity, k) ? '[withheld]' : v]),
      );
    const written = {
      time: new Date().toISOString(),
      ...entry,
      columns: withheld(entry.columns),
      ...(entry.previous ? { previous: withheld(entry.previous) } : {}),
    };
    if (!this.file) {
      this.log.info({ audit: written }, 'write'); // the logger redacts what it writes
      return Promise.resolve();
    }
    const json = JSON.stringify(written);
    // the same object back when nothing in it is a secret: the JSON made here is then the line as it is
    const line = this.scrubber ? this.scrubber.scrubResult(written, json) : written;
    const text = line === written ? json : JSON.stringify(line);
    // appends are serialised so lines never interleave
    this.chain = this.chain
      .then(() => appendFile(this.file!, `${text}\n`, 'utf8'))
      .catch((err: unknown) => {
        // the entry goes to the log instead: an audit line is never dropped
        this.log.error({ err, audit: line }, 'could not write the audit log; the entry follows here');
      });
    return this.chain;
  }
}
