import { DynamicsMcpError, policyError } from '../errors.js';
import type { QueryParts } from '../policy/check.js';
import type { EntityModel } from '../policy/model.js';
import type { Policy } from '../policy/policy.js';
import { foreignAnswer, pageOf, rowOf } from './answers.js';
import type { QuerySpec, Row } from './client.js';
import type { ErrorContext } from './errors.js';
import { FileBlocks, FileGone, fileBodyOf } from './file-columns.js';
import { API } from './metadata.js';
import { queryString } from './query-text.js';
import { linkedSignal, sideBySide } from './signals.js';
import type { Transport } from './transport.js';

/**
 * Where a query's files are read: a note's documentbody, an attachment's body, of the table's own rows or of
 * one expand item's rows (a case's notes). The query asks for each file's size instead (filesize, read-only:
 * what the Base64 decodes to), and the files are read after the page, each as its size allows (readFiles).
 */
export interface FileSlot {
  /** the expand item (navigation property) whose rows hold the files; none for the table's own rows */
  nav?: string;
  table: string;
  body: string;
  key: string;
  /** filesize was asked for too: it stays in the rows */
  keepSize: boolean;
}

const SIZE = 'filesize';

/**
 * `parts` (checked against the policy already) with each file asked for replaced by its size, and where they
 * were: only where the policy lets the size be read (`canRead`, the one column added), else the file comes with
 * the page as it did before.
 */
export function swapFileBodies(
  model: EntityModel,
  parts: QueryParts,
  canRead: (table: string, column: string) => boolean,
): { parts: QueryParts; slots: FileSlot[] } {
  const slots: FileSlot[] = [];
  const swap = (table: string | undefined, select: string[] | undefined, nav?: string) => {
    const file = table ? fileBodyOf(table) : undefined;
    if (!table || !file || !select?.includes(file.body) || !canRead(table, SIZE)) return select;
    slots.push({ nav, table, body: file.body, key: file.key, keepSize: select.includes(SIZE) });
    return [...new Set(select.map((c) => (c === file.body ? SIZE : c)))];
  };
  const select = swap(model.logicalName, parts.select);
  const expand = parts.expand?.map((e) => {
    const key = e.property.toLowerCase();
    const table = model.collectionNavs.get(key)?.referencingEntity ?? model.singleNavs.get(key)?.target;
    return { ...e, select: swap(table, e.select, e.property) };
  });
  return slots.length ? { parts: { ...parts, select, expand }, slots } : { parts, slots };
}

/** How readFiles reaches Dataverse: a query of whole files by id, and the block download of one file. */
export interface FileIo {
  /** the Base64 of each file asked for (by record id); a record gone since the page is left out */
  whole(table: string, ids: string[], signal?: AbortSignal): Promise<Map<string, string | null>>;
  /** begins a block download: its token and the file's size (not_found: the record is gone since the page) */
  open(table: string, id: string, signal?: AbortSignal): Promise<{ token: string; size: number }>;
  block(token: string, offset: number, length: number, signal?: AbortSignal): Promise<Buffer>;
}

/**
 * FileIo over the Web API. The whole files are a query like any other (planned and checked); a block
 * download is a read of the file column the policy is asked about again here, as it sits outside any query.
 */
export function webApiFileIo(deps: {
  transport: Transport;
  policy: Policy;
  model: (table: string) => Promise<EntityModel>;
  parts: (model: EntityModel, spec: Omit<QuerySpec, 'entity' | 'top' | 'count'>) => Promise<QueryParts>;
  suggest: ErrorContext['suggest'];
}): FileIo {
  const readable = (table: string) => {
    const file = fileBodyOf(table);
    if (!file || !deps.policy.canRead(table, file.body))
      throw policyError(
        `This server's policy does not let the files of ${table} be read.`,
        'Leave the file column out; its filename, mimetype and filesize say what the file is.',
      );
    return file;
  };
  return {
    async whole(table, ids, signal) {
      const file = readable(table);
      const model = await deps.model(table);
      const key = model.primaryIdAttribute;
      const parts = await deps.parts(model, { select: [file.body], where: { column: key, op: 'in', value: ids } });
      const r = await deps.transport.send({
        method: 'GET',
        path: `${API}/${model.entitySetName}?${queryString(parts)}`,
        headers: { prefer: `odata.maxpagesize=${ids.length}` },
        idempotent: true,
        signal,
        context: { entity: table, suggest: deps.suggest },
      });
      const rows = pageOf(r, `the read of files of ${model.entitySetName}`).rows;
      return new Map(
        rows.map((row) => [String(row[key]), typeof row[file.body] === 'string' ? (row[file.body] as string) : null]),
      );
    },
    async open(table, id, signal) {
      const file = readable(table);
      const action = file.beginBlocks;
      const r = await deps.transport.send({
        method: 'POST',
        path: `${API}/${action}`,
        body: JSON.stringify({ Target: { [file.key]: id, '@odata.type': `Microsoft.Dynamics.CRM.${table}` } }),
        // a read: sending it twice begins two downloads, and changes nothing
        idempotent: true,
        signal,
        context: { entity: table, id, suggest: deps.suggest },
      });
      const j = rowOf(r, action);
      if (typeof j.FileContinuationToken !== 'string' || !Number.isInteger(j.FileSizeInBytes))
        throw foreignAnswer(r, action, 'without FileContinuationToken and FileSizeInBytes');
      return { token: j.FileContinuationToken, size: j.FileSizeInBytes as number };
    },
    async block(token, offset, length, signal) {
      const r = await deps.transport.send({
        method: 'POST',
        path: `${API}/DownloadBlock`,
        body: JSON.stringify({ Offset: offset, BlockLength: length, FileContinuationToken: token }),
        idempotent: true,
        signal,
      });
      const j = rowOf(r, 'DownloadBlock');
      if (typeof j.Data !== 'string') throw foreignAnswer(r, 'DownloadBlock', 'without Data');
      return Buffer.from(j.Data, 'base64');
    },
  };
}

/** Dataverse's own hint: files "under 4 MB" are fine read whole; far less is shown of one anyway */
const WHOLE_AT_MOST = 1024 * 1024;
/** files read whole in one query: as many as make this much, and never more than this many */
const WHOLE_BYTES_AT_ONCE = 8 * 1024 * 1024;
const WHOLE_IDS_AT_ONCE = 50;
/** the block size of Microsoft's samples (4 MB) */
const MAX_BLOCK = 4 * 1024 * 1024;
/** room for the line a part of a file is cut in */
const LINE = 4096;
/** large files are read side by side, this many at once */
const BLOCK_READS_AT_ONCE = 4;

/**
 * The files of a page's rows, put where the query would have put them: a file small enough is read whole
 * (those of a page in one query); a larger one only as far as an answer of `shownBytes` can show it, its
 * first and last part in blocks (a FileBlocks: the first only, where that is not text), so a 100 MB log costs
 * a few hundred kilobytes, not the whole file as Base64 (a third larger still). A row without a file reads null, as the
 * column does, one deleted since the page a FileGone; the sizes not asked for are dropped.
 */
export async function readFiles(
  io: FileIo,
  rows: Row[],
  slots: readonly FileSlot[],
  shownBytes: number,
  signal?: AbortSignal,
): Promise<void> {
  // fitFileTexts shows a quarter of an answer from a file's start and three quarters from its end, at a JSON
  // byte or more a character: as many bytes of UTF-8 text, twice as many of UTF-16 (and a line over each)
  const head = Math.min(MAX_BLOCK, Math.ceil(shownBytes / 2) + LINE);
  const tail = (encoding: string) =>
    Math.min(MAX_BLOCK, Math.ceil((shownBytes * 3) / (encoding === 'utf-8' ? 4 : 2)) + LINE);
  const wholeAtMost = Math.max(WHOLE_AT_MOST, head + tail('utf-16le'));
  // a read that fails ends the others: the call's answer is the error, and nothing goes on asking after it
  const stop = linkedSignal(signal);
  sideBySide(stop.signal);
  const whole = new Map<string, { row: Row; id: string; size: number; slot: FileSlot }[]>();
  const large: { row: Row; id: string; slot: FileSlot }[] = [];
  for (const slot of slots)
    for (const row of holders(rows, slot)) {
      // an answer without the size it was asked for (never seen from Dataverse) says nothing of the file: it
      // is read whole rather than taken for none
      const size = SIZE in row ? row[SIZE] : undefined;
      const unknown = !(SIZE in row);
      const id = row[slot.key];
      if (!slot.keepSize) for (const k of Object.keys(row)) if (k === SIZE || k.startsWith(`${SIZE}@`)) delete row[k];
      row[slot.body] = null;
      if (typeof id !== 'string') continue;
      if (typeof size === 'number' && size > wholeAtMost) large.push({ row, id, slot });
      else if (unknown || (typeof size === 'number' && size > 0)) {
        const list = whole.get(slot.table) ?? [];
        list.push({ row, id, size: typeof size === 'number' ? size : WHOLE_AT_MOST, slot });
        whole.set(slot.table, list);
      }
    }
  const reads: Promise<void>[] = [];
  for (const [table, files] of whole)
    for (const group of groups(files)) {
      reads.push(
        io
          .whole(
            table,
            group.map((f) => f.id),
            stop.signal,
          )
          .then((bodies) => {
            for (const f of group) f.row[f.slot.body] = bodies.has(f.id) ? (bodies.get(f.id) ?? null) : new FileGone();
          }),
      );
    }
  let next = 0;
  const blockReader = async () => {
    while (next < large.length) {
      const f = large[next++]!;
      const opened = await io.open(f.slot.table, f.id, stop.signal).catch((e: unknown) => {
        if (e instanceof DynamicsMcpError && e.kind === 'not_found') return undefined;
        throw e;
      });
      if (!opened) {
        f.row[f.slot.body] = new FileGone();
        continue;
      }
      const { token, size } = opened;
      const first = await io.block(token, 0, Math.min(head, size), stop.signal);
      const blocks = new FileBlocks(first, undefined, size);
      // the rest only of a text: a PDF or a picture is said to be one, from its first bytes
      if (blocks.isText() && size > first.length) {
        // an even offset: a UTF-16 text's characters are two bytes each, from the file's start
        let from = Math.max(first.length, size - tail(blocks.encoding));
        from += from % 2;
        if (from < size) blocks.tail = await io.block(token, from, size - from, stop.signal);
      }
      f.row[f.slot.body] = blocks;
    }
  };
  for (let i = 0; i < Math.min(BLOCK_READS_AT_ONCE, large.length); i++) reads.push(blockReader());
  try {
    await Promise.all(reads);
  } catch (e) {
    stop.abort();
    await Promise.allSettled(reads);
    throw e;
  } finally {
    stop.done();
  }
}

/** the rows of `slot` among a page's: the rows themselves, or each row's expanded list or record */
function holders(rows: Row[], slot: FileSlot): Row[] {
  if (!slot.nav) return rows;
  const out: Row[] = [];
  for (const row of rows) {
    const v = row[slot.nav];
    if (Array.isArray(v)) out.push(...(v as Row[]));
    else if (v && typeof v === 'object') out.push(v as Row);
  }
  return out;
}

/** files to read whole, in queries of at most WHOLE_IDS_AT_ONCE files and WHOLE_BYTES_AT_ONCE bytes */
function groups<T extends { size: number }>(files: T[]): T[][] {
  const out: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const f of files) {
    if (group.length && (group.length >= WHOLE_IDS_AT_ONCE || bytes + f.size > WHOLE_BYTES_AT_ONCE)) {
      out.push(group);
      group = [];
      bytes = 0;
    }
    group.push(f);
    bytes += f.size;
  }
  if (group.length) out.push(group);
  return out;
}
