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
