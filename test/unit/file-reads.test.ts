import { describe, expect, it } from 'vitest';
import { FileBlocks } from '../../src/dynamics/file-columns.js';
import { type FileIo, readFiles } from '../../src/dynamics/file-reads.js';

/** what readFiles asked of Dataverse, answered from `files` (id → bytes) */
function recorder(files: Record<string, Buffer>) {
  const asked: string[] = [];
  const io: FileIo = {
    async whole(table, ids) {
      asked.push(`whole ${table} ${ids.join(',')}`);
      return new Map(ids.filter((id) => files[id]).map((id) => [id, files[id]!.toString('base64')]));
    },
    async open(table, id) {
      asked.push(`open ${table} ${id}`);
      return { token: id, size: files[id]!.length };
    },
    async block(token, offset, length) {
      asked.push(`block ${token} ${offset}+${length}`);
      return files[token]!.subarray(offset, offset + length);
    },
  };
  return { io, asked };
}

const slot = { table: 'annotation', body: 'documentbody', key: 'annotationid', keepSize: false };

describe('reading the files of a page by their size', () => {
  it('none where the size says there is none; whole where it is small or was not given; in blocks where large', async () => {
    const big = Buffer.from('x'.repeat(3_000_000));
    const { io, asked } = recorder({ small: Buffer.from('hello\n'), unsized: Buffer.from('no size came\n'), big });
    const rows: Record<string, unknown>[] = [
      { annotationid: 'none', filesize: null },
      { annotationid: 'empty', filesize: 0 },
      { annotationid: 'small', filesize: 6, 'filesize@OData.Community.Display.V1.FormattedValue': '6' },
      // an answer without the size asked for: read whole, not taken for "no file"
      { annotationid: 'unsized' },
      { annotationid: 'big', filesize: big.length },
    ];
    await readFiles(io, rows, [slot], 200_000);
    expect(asked).toEqual([
      'whole annotation small,unsized',
      'open annotation big',
      'block big 0+104096',
      `block big ${big.length - 154_096}+154096`,
    ]);
    expect(rows.map((r) => r.documentbody)).toEqual([
      null,
      null,
      Buffer.from('hello\n').toString('base64'),
      Buffer.from('no size came\n').toString('base64'),
      expect.any(FileBlocks),
    ]);
    // the size was read to choose how, not asked for: it is not handed on
    expect(rows.some((r) => Object.keys(r).some((k) => k.startsWith('filesize')))).toBe(false);
  });
});
