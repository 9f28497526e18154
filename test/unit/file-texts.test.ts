import { describe, expect, it } from 'vitest';
import { FileBlocks, fileText, fitFileTexts, markBlocks } from '../../src/dynamics/file-columns.js';

const log = (lines: number, tag: string) =>
  `${Array.from({ length: lines }, (_, i) => `${tag} line ${i + 1} of ${lines}`).join('\n')}\n`;

describe('files in one answer', () => {
  it('share the room: the small kept whole, the long ones cut to equal parts, the answer within its limit', () => {
    const small = log(20, 'small');
    const records = [
      { id: '1', documentbody: log(6000, 'first') },
      { id: '2', documentbody: small },
      { id: '3', documentbody: log(9000, 'second') },
    ];
    const answer = { entity: 'annotation', records };
    expect(fitFileTexts('annotation', records, answer, 200_000)).toBe(2);
    expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThanOrEqual(200_000);
    expect(records[1]!.documentbody).toBe(small);
    const [a, c] = [records[0]!.documentbody, records[2]!.documentbody];
    expect(Math.abs(Buffer.byteLength(a) - Buffer.byteLength(c))).toBeLessThan(2_000);
    expect(a).toMatch(/^first line 1 of 6000\n[\s\S]*left out here[\s\S]*\nfirst line 6000 of 6000\n$/);
    expect(c).toMatch(/^second line 1 of 9000\n[\s\S]*left out here[\s\S]*\nsecond line 9000 of 9000\n$/);
  });

  it("files in a related list read with a record (an email's attachments) share the room the same way", () => {
    const small = log(20, 'small');
    const attachments = [{ body: log(12_000, 'csv') }, { body: small }];
    const records = [{ id: 'e', subject: 'RE: Contract draft', email_activity_mime_attachment: attachments }];
    const answer = { entity: 'email', records };
    const lists = [
      {
        navigationProperty: 'email_activity_mime_attachment',
        referencingEntity: 'activitymimeattachment',
        referencingAttribute: 'objectid',
      },
    ];
    expect(fitFileTexts('email', records, answer, 200_000, lists)).toBe(1);
    expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThanOrEqual(200_000);
    expect(attachments[1]!.body).toBe(small);
    expect(attachments[0]!.body).toMatch(
      /^csv line 1 of 12000\n[\s\S]*left out here[\s\S]*\ncsv line 12000 of 12000\n$/,
    );
    // a list whose table keeps no file is not looked into
    const other = [{ id: 'a', contact_customer_accounts: [{ description: log(12_000, 'x') }] }];
    const contacts = [
      { navigationProperty: 'contact_customer_accounts', referencingEntity: 'contact', referencingAttribute: 'x' },
    ];
    expect(fitFileTexts('account', other, { records: other }, 200_000, contacts)).toBe(0);
  });

  it('an answer that fits, a table without files, or no useful room: nothing is cut', () => {
    const fits = [{ documentbody: log(100, 'x') }];
    expect(fitFileTexts('annotation', fits, { records: fits }, 200_000)).toBe(0);
    const account = [{ description: log(9000, 'x') }];
    expect(fitFileTexts('account', account, { records: account }, 200_000)).toBe(0);
    // 197.6 KB of other text leaves under 2 KB for the file: refused whole later (fitResult), not cut to nothing
    const crowded = [{ notetext: 'n'.repeat(197_600), documentbody: log(9000, 'x') }];
    expect(fitFileTexts('annotation', crowded, { records: crowded }, 200_000)).toBe(0);
    expect(crowded[0]!.documentbody).toBe(log(9000, 'x'));
  });

  it('bytes that are not text are named; text is read whatever the MIME type says', () => {
    expect(
      fileText(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]).toString('base64'), 'image/png'),
    ).toBe('[not text: image/png, 9 bytes; open the record in Dynamics to see it]');
    expect(
      fileText(Buffer.from('a\tb\r\n\u001b[31mred\u001b[0m\n').toString('base64'), 'application/octet-stream'),
    ).toBe('a\tb\r\n\u001b[31mred\u001b[0m\n');
    expect(fileText(Buffer.from([0xc3, 0x28]).toString('base64'), undefined)).toBe(
      '[not text: binary, 2 bytes; open the record in Dynamics to see it]',
    );
  });

  it('a file read in blocks that end inside a character: the halves are dropped, never shown as \ufffd', () => {
    const line = 'Grüße ✓ 𝄞 Ende\n';
    for (const encoding of ['utf8', 'utf16le'] as const) {
      const bom = encoding === 'utf8' ? Buffer.alloc(0) : Buffer.from([0xff, 0xfe]);
      const file = Buffer.concat([bom, Buffer.from(line.repeat(8), encoding)]);
      // every cut of the head and every (even, for UTF-16) start of the tail within a line
      for (let cut = bom.length + 1; cut < bom.length + 40; cut++) {
        const from = encoding === 'utf8' ? file.length - cut : file.length - 2 * Math.ceil(cut / 2);
        const { text, shown } = new FileBlocks(file.subarray(0, cut), file.subarray(from), file.length).read(
          'text/plain',
        );
        expect(text, `${encoding} at ${cut}`).not.toContain('\ufffd');
        expect(shown, `${encoding} at ${cut}`).toBeDefined();
        expect(text).toMatch(
          /left out here: the file is too long for one answer; its first and last lines are shown …\]\n/,
        );
      }
    }
  });

  it('a file read in blocks and cut again to fit: the bytes said left out are the whole file less what is shown', () => {
    const text = log(50_000, 'big');
    const file = Buffer.from(text);
    const blocks = new FileBlocks(file.subarray(0, 120_000), file.subarray(file.length - 220_000), file.length);
    const record: Record<string, unknown> = { id: '1' };
    const { text: read, shown } = blocks.read('text/plain');
    record.documentbody = read;
    markBlocks(record, 'documentbody', shown!);
    const answer = { record };
    expect(fitFileTexts('annotation', [record], answer, 200_000)).toBe(1);
    expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThanOrEqual(200_000);
    const [head, left, tail] = (record.documentbody as string)
      .split(
        /\[… ([\d,]+) bytes of ([\d,]+) left out here: the file is too long for one answer; its first and last lines are shown …\]\n/,
      )
      .filter((_, i) => i !== 2);
    expect(text.startsWith(head!)).toBe(true);
    expect(text.endsWith(tail!)).toBe(true);
    expect(head).toMatch(/^big line 1 of 50000\n/);
    expect(tail).toMatch(/\nbig line 50000 of 50000\n$/);
    expect(Number(left!.replace(/,/g, ''))).toBe(file.length - Buffer.byteLength(head!) - Buffer.byteLength(tail!));
    // a file read in blocks is shown in part even where the answer has room for all that was read
    const roomy: Record<string, unknown> = { id: '2', documentbody: read };
    markBlocks(roomy, 'documentbody', shown!);
    expect(fitFileTexts('annotation', [roomy], { roomy }, 1_000_000)).toBe(1);
    expect(roomy.documentbody).toBe(read);
  });
});
