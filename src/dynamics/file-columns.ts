import type { ExpandItem } from '../odata/ast.js';
import type { CollectionNav, EntityModel } from '../policy/model.js';

/**
 * Columns that hold a whole file as Base64 text ("Use file data with Attachment and Note records": a note's
 * documentbody, an email attachment's body), beside the columns that name it. Such a column is megabytes of
 * text no model can read as it comes: it is never among the columns read when none are asked for (a list of a
 * case's notes would carry every file), and when asked for it is handed over as the text the file holds.
 */
interface FileColumns {
  body: string;
  mimetype: string;
  filename: string;
  /** the table's primary key, and the action that begins a block download of a record's file (file-reads.ts) */
  key: string;
  beginBlocks: string;
}
const FILE_BODIES: Readonly<Record<string, FileColumns>> = {
  annotation: {
    body: 'documentbody',
    mimetype: 'mimetype',
    filename: 'filename',
    key: 'annotationid',
    beginBlocks: 'InitializeAnnotationBlocksDownload',
  },
  activitymimeattachment: {
    body: 'body',
    mimetype: 'mimetype',
    filename: 'filename',
    key: 'activitymimeattachmentid',
    beginBlocks: 'InitializeAttachmentBlocksDownload',
  },
};

/** The column of `table` that holds its file, if it has one. */
export function fileBodyOf(table: string): FileColumns | undefined {
  return FILE_BODIES[table];
}

export const isFileBody = (table: string, column: string): boolean => FILE_BODIES[table]?.body === column;

/**
 * Tables whose rows count files kept in a related list: an email's attachmentcount, its
 * email_activity_mime_attachment rows (Email table reference).
 */
const FILES_LISTED: Readonly<Record<string, { count: string; list: string }>> = {
  email: { count: 'attachmentcount', list: 'email_activity_mime_attachment' },
};

/** The column of `table` that counts files in a related list, and that list, if it has one. */
export const filesListedOf = (table: string): { count: string; list: string } | undefined => FILES_LISTED[table];

/** UTF-16 text (what .NET's UnicodeEncoding writes) is known by its byte order mark; UTF-8 by decoding cleanly */
const BOMS: readonly [number[], string][] = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];
/** control characters that do not occur in text files (tab, line feeds, carriage return and escape, as in a log's colours, do) */
const BINARY = /[\u0000-\u0008\u000b\u000e-\u001a\u001c-\u001f]/;

/**
 * A file's Base64 text as the model reads it: what the file says, where its bytes are text (UTF-8, or UTF-16
 * with its byte order mark), whatever its MIME type claims (a log is often application/octet-stream);
 * otherwise a sentence saying what it is and that it is not text, never the Base64 itself.
 */
export function fileText(base64: string, mimetype: unknown): string {
  const bytes = Buffer.from(base64, 'base64');
  return textOf(bytes, encodingOf(bytes)) ?? notText(mimetype, bytes.length);
}

const encodingOf = (bytes: Buffer) => BOMS.find(([mark]) => mark.every((b, i) => bytes[i] === b))?.[1] ?? 'utf-8';

/** `bytes` as text in `encoding`, or undefined where they are not text in it */
function textOf(bytes: Buffer, encoding: string): string | undefined {
  try {
    const text = new TextDecoder(encoding, { fatal: true }).decode(bytes);
    return BINARY.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

const notText = (mimetype: unknown, size: number) =>
  `[not text: ${typeof mimetype === 'string' && mimetype ? mimetype : 'binary'}, ${size.toLocaleString('en-US')} bytes; open the record in Dynamics to see it]`;

/** where a file read in blocks is shown in its text: its size, and how much of the text is its head and its tail */
export interface BlocksShown {
  size: number;
  encoding: string;
  headChars: number;
  tailChars: number;
}

/**
 * A file too large to read whole (file-reads.ts): its first bytes, its last where it is text, and its size.
 * Either part can end in the middle of a character: what is cut is dropped, and then what is cut of a line.
 */
export class FileBlocks {
  constructor(
    readonly head: Buffer,
    public tail: Buffer | undefined,
    readonly size: number,
  ) {}

  /** the head as text, decoded once (readFiles asks whether it is text, the answer's shaping reads it) */
  private headText?: string | null;

  get encoding(): string {
    return encodingOf(this.head);
  }

  private decodedHead(): string | undefined {
    if (this.headText === undefined)
      this.headText = textOf(wholeChars(this.head, this.encoding, 'end'), this.encoding) ?? null;
    return this.headText ?? undefined;
  }

  isText(): boolean {
    return this.decodedHead() !== undefined;
  }

  /** the text the model reads, as fileText's, with where the middle was left out; `shown` where it is text */
  read(mimetype: unknown): { text: string; shown?: BlocksShown } {
    const encoding = this.encoding;
    let head = this.decodedHead();
    let tail = this.tail ? textOf(wholeChars(this.tail, encoding, 'start'), encoding) : '';
    if (head === undefined || tail === undefined) return { text: notText(mimetype, this.size) };
    if (head.lastIndexOf('\n') > 0) head = head.slice(0, head.lastIndexOf('\n') + 1);
    const cr = tail.indexOf('\n');
    if (cr >= 0 && cr < tail.length - 1) tail = tail.slice(cr + 1);
    const shown = { size: this.size, encoding, headChars: head.length, tailChars: tail.length };
    const note = blocksNote(shown, head, tail);
    return { text: `${head}${head.endsWith('\n') || !head ? '' : '\n'}${note}${tail}`, shown };
  }
}

/**
 * A file whose record was deleted between its page and its read (file-reads.ts), by another user or a workflow:
 * said, not left empty, as an empty file column reads as "no file" and the row's filename would ask for it.
 */
export class FileGone {
  read(_mimetype?: unknown): { text: string; shown?: BlocksShown } {
    return { text: '[deleted while this answer was read: the record and its file are no longer in Dynamics]' };
  }
}

/** bytes of `text` in the file's encoding */
const fileBytes = (text: string, encoding: string) =>
  encoding === 'utf-8' ? Buffer.byteLength(text) : text.length * 2;

/** what is left out of a file read in blocks, where it was */
function blocksNote(shown: BlocksShown, head: string, tail: string): string {
  const bom = shown.encoding === 'utf-8' ? 0 : 2;
  const left = Math.max(0, shown.size - bom - fileBytes(head, shown.encoding) - fileBytes(tail, shown.encoding));
  return `[… ${left.toLocaleString('en-US')} bytes of ${shown.size.toLocaleString('en-US')} left out here: the file is too long for one answer; its first and last lines are shown …]\n`;
}

/**
 * `bytes` without the character cut at its `end` or `start`: a UTF-8 sequence begun and not finished, a lone
 * half of a UTF-16 character or of a surrogate pair.
 */
function wholeChars(bytes: Buffer, encoding: string, cut: 'start' | 'end'): Buffer {
  if (encoding === 'utf-8') {
    if (cut === 'start') {
      let i = 0;
      while (i < 3 && i < bytes.length && (bytes[i]! & 0xc0) === 0x80) i++;
      return bytes.subarray(i);
    }
    for (let i = bytes.length - 1; i >= Math.max(0, bytes.length - 4); i--) {
      const b = bytes[i]!;
      if ((b & 0xc0) === 0x80) continue;
      const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return i + length > bytes.length ? bytes.subarray(0, i) : bytes;
    }
    return bytes;
  }
  const unit = (at: number) => (encoding === 'utf-16le' ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  let from = 0;
  let to = bytes.length - (bytes.length % 2);
  if (cut === 'start' && to >= 2 && unit(0) >= 0xdc00 && unit(0) <= 0xdfff) from = 2;
  if (cut === 'end' && to >= 2 && unit(to - 2) >= 0xd800 && unit(to - 2) <= 0xdbff) to -= 2;
  return bytes.subarray(from, to);
}

const blocksShown = new WeakMap<object, Map<string, BlocksShown>>();

/** records that `row[column]` is a file read in blocks (FileBlocks.read), for fitFileTexts to cut it right */
export function markBlocks(row: object, column: string, shown: BlocksShown): void {
  const columns = blocksShown.get(row) ?? new Map<string, BlocksShown>();
  columns.set(column, shown);
  blocksShown.set(row, columns);
}

/**
 * Records read in one request where their files are: a page of 50 notes with 5 MB files (the default limit) is
 * over 300 MB of Base64 for the server to hold at once, and an answer holds about 200 KB of text anyway. A
 * query that reads the table's own files takes this many a page; one that reads files of a related list (a
 * case's notes) takes one record a page, with its list.
 */
const FILES_AT_ONCE = 5;

/** The rows a page of this query takes: `top`, or fewer where it reads files (FILES_AT_ONCE). */
export function pageSizeReadingFiles(
  model: EntityModel,
  parts: { select?: string[]; expand?: ExpandItem[] },
  top: number,
): number {
  const readsFile = (table: string | undefined, select: string[] | undefined) =>
    !!table && !!select?.some((c) => isFileBody(table, c));
  const below = parts.expand?.some((e) => {
    const key = e.property.toLowerCase();
    return readsFile(model.collectionNavs.get(key)?.referencingEntity ?? model.singleNavs.get(key)?.target, e.select);
  });
  if (below) return 1;
  return readsFile(model.logicalName, parts.select) ? Math.min(top, FILES_AT_ONCE) : top;
}

/** what a string takes in a JSON answer (escaped line feeds and quotes included) */
const jsonBytes = (s: string) => Buffer.byteLength(JSON.stringify(s));
/** below this, a file's part says too little to be worth handing over: the answer is refused whole instead */
const LEAST_PART = 2048;

/**
 * The text files of `rows` (compacted, `whole` being the answer they are in), and of their related `lists` read
 * with them (an email's attachments), cut to what fits the answer's `maxBytes` beside everything else, shared
 * between them, the smallest kept whole first. A long file keeps its first quarter and last three quarters of
 * its share, whole lines each (a log's start says what ran, its end how it failed), and says in the text, where
 * the middle was, how many lines and bytes were left out. Returns how many are shown in part: those cut, and
 * those read in blocks (FileBlocks, already in part); 0 where no useful part would fit (fitResult then refuses
 * the answer whole).
 */
export function fitFileTexts(
  table: string,
  rows: Record<string, unknown>[],
  whole: unknown,
  maxBytes: number,
  lists: readonly CollectionNav[] = [],
): number {
  const holders: { row: Record<string, unknown>; body: string; blocks?: BlocksShown }[] = [];
  const hold = (list: Record<string, unknown>[], body: string | undefined) => {
    if (body)
      for (const row of list)
        if (typeof row[body] === 'string') holders.push({ row, body, blocks: blocksShown.get(row)?.get(body) });
  };
  hold(rows, fileBodyOf(table)?.body);
  for (const nav of lists) {
    const body = fileBodyOf(nav.referencingEntity)?.body;
    for (const r of rows) {
      const list = r[nav.navigationProperty];
      if (Array.isArray(list)) hold(list, body);
    }
  }
  // a file read in blocks is shown in part however it is cut
  const partial = holders.filter((h) => h.blocks).length;
  if (!holders.length) return 0;
  const total = Buffer.byteLength(JSON.stringify(whole));
  if (total <= maxBytes) return partial;
  const sizes = new Map(holders.map((h) => [h, jsonBytes(h.row[h.body] as string)]));
  const fileBytes = [...sizes.values()].reduce((a, b) => a + b, 0);
  // the rest of the answer, and a little for the cut files' notes being longer than what they replace
  let room = maxBytes - (total - fileBytes) - 512;
  if (room < holders.length * LEAST_PART) return 0;
  let cut = 0;
  const bySize = [...sizes].sort((a, b) => a[1] - b[1]);
  for (const [i, [{ row, body, blocks }, size]] of bySize.entries()) {
    const share = Math.floor(room / (bySize.length - i));
    if (size > share) row[body] = headAndTail(row[body] as string, share, blocks);
    if (size > share || blocks) cut++;
    room -= Math.min(size, share);
  }
  return cut;
}

/**
 * fitFileTexts' cuts as a sentence for the summary (or ''): the part shown is not to be taken for the file.
 * `rows` of `table`: one record of a table with files (a note) has "its" file; any other's are in its lists.
 */
export function cutFilesNote(cut: number, rows: number, table: string): string {
  if (!cut) return '';
  const which =
    rows === 1 && cut === 1 && fileBodyOf(table) ? 'Its file is' : cut === 1 ? 'One file is' : `${cut} files are`;
  return ` ${which} too long for one answer: the first and last lines are shown, and where the middle was left out says how much.`;
}

/**
 * `text` in at most `maxBytes` of JSON: its first and last whole lines, and what was left out between them.
 * A file read in blocks (`blocks`) is cut within its head and its tail, and says how many bytes of the file
 * were left out (its lines were never all read, so not how many of them).
 */
function headAndTail(text: string, maxBytes: number, blocks?: BlocksShown): string {
  const perChar = jsonBytes(text) / text.length;
  const lines = (s: string) => (s.match(/\n/g)?.length ?? 0) + (s.endsWith('\n') ? 0 : 1);
  const from = blocks ? text.slice(0, blocks.headChars) : text;
  const to = blocks ? text.slice(text.length - blocks.tailChars) : text;
  const size = blocks?.size ?? Buffer.byteLength(text);
  for (let budget = maxBytes - 200; budget > 0; budget = Math.floor(budget * 0.9)) {
    let head = from.slice(0, Math.floor((budget * 0.25) / perChar));
    let tail = to.slice(to.length - Math.floor((budget * 0.75) / perChar));
    // whole lines, where the part holds more than one
    if (head.lastIndexOf('\n') > 0) head = head.slice(0, head.lastIndexOf('\n') + 1);
    if (tail.indexOf('\n') >= 0 && tail.indexOf('\n') < tail.length - 1) tail = tail.slice(tail.indexOf('\n') + 1);
    let note: string;
    if (blocks) note = blocksNote(blocks, head, tail);
    else {
      const left = text.slice(head.length, text.length - tail.length);
      note = `[… ${lines(left).toLocaleString('en-US')} lines (${Buffer.byteLength(left).toLocaleString('en-US')} bytes) of ${size.toLocaleString('en-US')} left out here: the file is too long for one answer; its first and last lines are shown …]\n`;
    }
    const out = `${head}${head.endsWith('\n') || !head ? '' : '\n'}${note}${tail}`;
    if (jsonBytes(out) <= maxBytes) return out;
  }
  return `[… the file (${size.toLocaleString('en-US')} bytes) is too long for one answer …]`;
}
