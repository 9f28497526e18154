import type { ExpandItem } from '../odata/ast.js';
import type { CollectionNav, EntityModel } from '../policy/model.js';

/**
 * Columns that hold a whole file as Base64 text ("Use file data with Attachment and Note records": a note's
 * documentbody, an email attachment's body), beside the columns that name it. Such a column is megabytes of
 * text no model can read as it comes: it is never among the columns read when none are asked for (a list of a
 * case's notes would carry every file), and when asked for it is handed over as the text the file holds.
 */
const FILE_BODIES: Readonly<Record<string, { body: string; mimetype: string; filename: string }>> = {
  annotation: { body: 'documentbody', mimetype: 'mimetype', filename: 'filename' },
  activitymimeattachment: { body: 'body', mimetype: 'mimetype', filename: 'filename' },
};

/** The column of `table` that holds its file, if it has one. */
export function fileBodyOf(table: string): { body: string; mimetype: string; filename: string } | undefined {
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
  const bom = BOMS.find(([mark]) => mark.every((b, i) => bytes[i] === b));
  try {
    const text = new TextDecoder(bom?.[1] ?? 'utf-8', { fatal: true }).decode(bytes);
    if (!BINARY.test(text)) return text;
  } catch {
    // not text in that encoding: said so below
  }
  const type = typeof mimetype === 'string' && mimetype ? mimetype : 'binary';
  return `[not text: ${type}, ${bytes.length.toLocaleString('en-US')} bytes; open the record in Dynamics to see it]`;
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
 * the middle was, how many lines and bytes were left out. Returns how many were cut (0 where the answer fits, or
 * where no useful part would: fitResult then refuses it whole).
 */
export function fitFileTexts(
  table: string,
  rows: Record<string, unknown>[],
  whole: unknown,
  maxBytes: number,
  lists: readonly CollectionNav[] = [],
): number {
  const holders: { row: Record<string, unknown>; body: string }[] = [];
  const hold = (list: Record<string, unknown>[], body: string | undefined) => {
    if (body) for (const row of list) if (typeof row[body] === 'string') holders.push({ row, body });
  };
  hold(rows, fileBodyOf(table)?.body);
  for (const nav of lists) {
    const body = fileBodyOf(nav.referencingEntity)?.body;
    for (const r of rows) {
      const list = r[nav.navigationProperty];
      if (Array.isArray(list)) hold(list, body);
    }
  }
  if (!holders.length) return 0;
  const total = Buffer.byteLength(JSON.stringify(whole));
  if (total <= maxBytes) return 0;
  const sizes = new Map(holders.map((h) => [h, jsonBytes(h.row[h.body] as string)]));
  const fileBytes = [...sizes.values()].reduce((a, b) => a + b, 0);
  // the rest of the answer, and a little for the cut files' notes being longer than what they replace
  let room = maxBytes - (total - fileBytes) - 512;
  if (room < holders.length * LEAST_PART) return 0;
  let cut = 0;
  const bySize = [...sizes].sort((a, b) => a[1] - b[1]);
  for (const [i, [{ row, body }, size]] of bySize.entries()) {
    const share = Math.floor(room / (bySize.length - i));
    if (size > share) {
      row[body] = headAndTail(row[body] as string, share);
      cut++;
    }
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

/** `text` in at most `maxBytes` of JSON: its first and last whole lines, and what was left out between them */
function headAndTail(text: string, maxBytes: number): string {
  const perChar = jsonBytes(text) / text.length;
  const lines = (s: string) => (s.match(/\n/g)?.length ?? 0) + (s.endsWith('\n') ? 0 : 1);
  for (let budget = maxBytes - 200; budget > 0; budget = Math.floor(budget * 0.9)) {
    let head = text.slice(0, Math.floor((budget * 0.25) / perChar));
    let tail = text.slice(text.length - Math.floor((budget * 0.75) / perChar));
    // whole lines, where the part holds more than one
    if (head.lastIndexOf('\n') > 0) head = head.slice(0, head.lastIndexOf('\n') + 1);
    if (tail.indexOf('\n') >= 0 && tail.indexOf('\n') < tail.length - 1) tail = tail.slice(tail.indexOf('\n') + 1);
    const left = text.slice(head.length, text.length - tail.length);
    const note = `[… ${lines(left).toLocaleString('en-US')} lines (${Buffer.byteLength(left).toLocaleString('en-US')} bytes) of ${Buffer.byteLength(text).toLocaleString('en-US')} left out here: the file is too long for one answer; its first and last lines are shown …]\n`;
    const out = `${head}${head.endsWith('\n') || !head ? '' : '\n'}${note}${tail}`;
    if (jsonBytes(out) <= maxBytes) return out;
  }
  return `[… the file (${Buffer.byteLength(text).toLocaleString('en-US')} bytes) is too long for one answer …]`;
}
