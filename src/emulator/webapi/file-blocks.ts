import { randomBytes } from 'node:crypto';
import type { Schema } from '../schema/index.js';
import type { Store } from '../store/store.js';
import { badRequest, notFound, payloadError } from './errors.js';
import { assertPrivilege, type SecurityRole } from './security.js';
import { FILE_BODY } from './writes.js';

/**
 * Reading a note's or an attachment's file in blocks ("Use file data with Attachment and Note records":
 * "when you have increased the maximum file size and are working with larger files, you should use messages
 * provided to break the files into smaller chunks"): InitializeAnnotationBlocksDownload or
 * InitializeAttachmentBlocksDownload take the record as `Target` and answer with a FileContinuationToken, the
 * file's FileSizeInBytes and FileName; DownloadBlock takes the token, an Offset and a BlockLength in bytes and
 * answers with the block's bytes as `Data` (Edm.Binary: Base64). The file is read as it was when the download
 * began.
 */
const TABLES: Readonly<Record<string, string>> = {
  InitializeAnnotationBlocksDownload: 'annotation',
  InitializeAttachmentBlocksDownload: 'activitymimeattachment',
};

export const isBlocksDownload = (action: string): boolean => action in TABLES || action === 'DownloadBlock';

/** GUESS: the size of the blocks Microsoft's samples download (4 MB); no page gives a limit */
export const MAX_BLOCK = 4 * 1024 * 1024;
/** downloads begun and not yet forgotten (the oldest go first): a bounded emulator, not a documented limit */
const KEPT = 256;

export class BlockDownloads {
  private readonly files = new Map<string, { bytes: Buffer; name: string }>();

  constructor(
    private readonly schema: Schema,
    private readonly store: Store,
  ) {}

  begin(action: string, role: SecurityRole, userId: string, params: Record<string, unknown>): Record<string, unknown> {
    const table = TABLES[action]!;
    const body = FILE_BODY[table]!;
    const def = this.schema.entity(table)!;
    const target = params.Target;
    const key = def.primaryIdAttribute;
    if (!target || typeof target !== 'object' || typeof (target as Record<string, unknown>)[key] !== 'string')
      throw payloadError(table, `The Target parameter is required: the ${table} with its ${key}.`);
    assertPrivilege(role, def, 'read', userId);
    const id = String((target as Record<string, unknown>)[key]).toLowerCase();
    const row = this.store.table(table).get(id);
    if (!row) throw notFound(table, id);
    const base64 = row[body];
    // GUESS: the code and words of the refusal of a record without a file
    if (typeof base64 !== 'string' || !base64) throw badRequest(`The ${table} ${id} has no file.`, '0x80090001');
    const token = randomBytes(24).toString('base64url');
    this.files.set(token, { bytes: Buffer.from(base64, 'base64'), name: String(row.filename ?? '') });
    if (this.files.size > KEPT) this.files.delete(this.files.keys().next().value!);
    const file = this.files.get(token)!;
    return { FileContinuationToken: token, FileSizeInBytes: file.bytes.length, FileName: file.name };
  }

  /** DownloadBlock: the bytes from Offset, BlockLength of them at most (fewer at the file's end: GUESS) */
  block(params: Record<string, unknown>): Record<string, unknown> {
    const { Offset: offset, BlockLength: length, FileContinuationToken: token } = params;
    if (!Number.isInteger(offset) || (offset as number) < 0)
      throw badRequest('The Offset parameter is required and must be an Edm.Int64 of 0 or more.');
    if (!Number.isInteger(length) || (length as number) < 1 || (length as number) > MAX_BLOCK)
      throw badRequest(`The BlockLength parameter is required and must be from 1 to ${MAX_BLOCK}.`);
    const file = typeof token === 'string' ? this.files.get(token) : undefined;
    // GUESS: the code and words for a token never issued, or forgotten
    if (!file) throw badRequest('The FileContinuationToken is not valid.', '0x80090002');
    const start = offset as number;
    return { Data: file.bytes.subarray(start, start + (length as number)).toString('base64') };
  }
}
