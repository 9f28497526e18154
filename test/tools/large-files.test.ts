import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { type ContractTarget, openEmulatorTarget } from '../contract/target.js';
import { apiRequests } from '../helpers/client.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// An organisation can raise the file limit of notes and attachments from 5 MB to 128 MB, and then "you should
// use messages provided to break the files into smaller chunks when ... downloading files" ("Use file data with
// Attachment and Note records": InitializeAnnotationBlocksDownload, InitializeAttachmentBlocksDownload,
// DownloadBlock). An answer shows about 200 KB of a file anyway: a large log is read only as far as it can be
// shown (its start and its end), a large PDF only as far as it takes to say it is not text.
describe('large files are read in blocks, only as far as they can be shown', () => {
  let t: ContractTarget;
  let emu: EmulatorHandle;
  let h: McpHarness;
  let caseId: string;
  const post = async (set: string, body: Record<string, unknown>) => {
    const r = await t.api('POST', set, { body });
    expect(r.status).toBe(204);
    return /\(([0-9a-f-]{36})\)$/.exec(r.headers['odata-entityid']!)![1]!;
  };
  const note = (filename: string, mimetype: string, bytes: Buffer) =>
    post('annotations', {
      subject: filename,
      isdocument: true,
      filename,
      mimetype,
      documentbody: bytes.toString('base64'),
      'objectid_incident@odata.bind': `/incidents(${caseId})`,
    });
  /** the bytes Dataverse sent while `run` ran, and the requests it took */
  const traffic = async <T>(run: () => Promise<T>) => {
    const mark = emu.requests().length;
    const before = emu.stats().bytesOut;
    const result = await run();
    return { result, bytes: emu.stats().bytesOut - before, sent: apiRequests(emu, mark) };
  };
  /** a log of `count` lines with characters of two, three and four bytes in UTF-8, so blocks end inside them */
  const log = (count: number) =>
    Array.from(
      { length: count },
      (_, i) => `2026-11-27 09:${String(i % 60).padStart(2, '0')} INFO  Schritt ü✓𝄞 ${i + 1}`,
    );

  beforeAll(async () => {
    t = await openEmulatorTarget({ scale: 30 });
    emu = t.emulator!;
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
    caseId = (emu.rows('annotation').find((n) => n.filename === 'client-errors.log')!.objectid as { id: string }).id;
  });
  afterAll(async () => {
    await h.close();
    await t.close();
  });

  it("a 3 MB log: its first and last lines whole, what was left out said in the file's bytes, a fifth of it downloaded", async () => {
    const lines = log(70_000);
    lines[69_999] = '2026-11-27 09:59 FATAL out of memory after 70,000 steps';
    const text = `${lines.join('\n')}\n`;
    const size = Buffer.byteLength(text);
    expect(size).toBeGreaterThan(3_000_000);
    const id = await note('service.log', 'text/plain', Buffer.from(text));
    const {
      result: r,
      bytes,
      sent,
    } = await traffic(() => h.call('get_record', { entity: 'annotation', id, select: ['filename', 'documentbody'] }));
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain('Its file is too long for one answer: the first and last lines are shown');
    // the size the read went by was not asked for
    expect(r.structuredContent.record.filesize).toBeUndefined();
    const shown: string = r.structuredContent.record.documentbody;
    const [head, left, tail] = shown.split(
      /\[… ([\d,]+) bytes of [\d,]+ left out here: the file is too long for one answer; its first and last lines are shown …\]\n/,
    );
    expect(shown).toContain(` bytes of ${size.toLocaleString('en-US')} left out here`);
    const headLines = head!.split('\n').slice(0, -1);
    const tailLines = tail!.split('\n').slice(0, -1);
    expect(headLines).toEqual(lines.slice(0, headLines.length));
    expect(tailLines).toEqual(lines.slice(70_000 - tailLines.length));
    expect(tailLines.at(-1)).toBe(lines[69_999]);
    // what was left out is exactly what is missing between the lines shown
    expect(Number(left!.replace(/,/g, ''))).toBe(size - Buffer.byteLength(head!) - Buffer.byteLength(tail!));
    expect(Buffer.byteLength(JSON.stringify(r.structuredContent))).toBeLessThanOrEqual(200_000);
    // the file was read in blocks, never as the record's Base64 (4 MB of it)
    const metadata = /EntityDefinitions|\$batch/;
    expect(sent.filter((q) => !metadata.test(q.url)).map((q) => `${q.method} ${q.url.split('?')[0]}`)).toEqual([
      `GET /api/data/v9.2/annotations(${id})`,
      'POST /api/data/v9.2/InitializeAnnotationBlocksDownload',
      'POST /api/data/v9.2/DownloadBlock',
      'POST /api/data/v9.2/DownloadBlock',
    ]);
    expect(decodeURIComponent(sent[0]!.url)).not.toContain('documentbody');
    expect(bytes).toBeLessThan(size / 5);
  });

  it('a UTF-16 log is read in blocks as text too, its last block starting on a whole character', async () => {
    const lines = log(40_000);
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf16le')]);
    const id = await note('export.log', 'application/octet-stream', bytes);
    const r = await h.call('get_record', { entity: 'annotation', id, select: ['documentbody'] });
    const shown: string = r.structuredContent.record.documentbody;
    expect(shown).not.toContain('\ufffd');
    expect(shown.startsWith(`${lines[0]}\r\n`)).toBe(true);
    expect(shown.endsWith(`${lines[39_999]}\r\n`)).toBe(true);
    expect(shown).toContain(` bytes of ${bytes.length.toLocaleString('en-US')} left out here`);
  });

  it('a 6 MB PDF is named by its type and size from its first block: the rest is never downloaded', async () => {
    const pdf = Buffer.alloc(6_000_000, 0x25);
    pdf.write('%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n1 0 obj\n', 'latin1');
    pdf[20] = 0;
    const id = await note('contract-signed.pdf', 'application/pdf', pdf);
    const {
      result: r,
      bytes,
      sent,
    } = await traffic(() => h.call('get_record', { entity: 'annotation', id, select: ['documentbody', 'filesize'] }));
    expect(r.structuredContent.record).toMatchObject({
      documentbody: '[not text: application/pdf, 6,000,000 bytes; open the record in Dynamics to see it]',
      // asked for, the size the read went by stays
      filesize: 6_000_000,
    });
    expect(sent.filter((q) => q.url.endsWith('/DownloadBlock'))).toHaveLength(1);
    expect(bytes).toBeLessThan(300_000);
  });

  it("a case's notes: the small files read whole in one query, the large ones in blocks, each said", async () => {
    const lines = log(40_000);
    await note('worker.log', 'text/plain', Buffer.from(`${lines.join('\n')}\n`));
    await note('tiny.png', 'image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]));
    await note('scan.tiff', 'image/tiff', Buffer.alloc(2_000_000, 0));
    const { result: r, sent } = await traffic(() =>
      h.call('get_record', {
        entity: 'incident',
        id: caseId,
        expand: [{ relation: 'notes', select: ['filename', 'documentbody'], where: { isdocument: true } }],
      }),
    );
    expect(r.isError, textOf(r)).toBeFalsy();
    const notes: { filename: string; documentbody: string }[] = r.structuredContent.record.Incident_Annotation;
    const byName = new Map(notes.map((n) => [n.filename, n.documentbody]));
    expect(byName.get('client-errors.log')).toMatch(/^2026-11-27 09:12:03 INFO {2}client started/);
    expect(byName.get('tiny.png')).toBe('[not text: image/png, 12 bytes; open the record in Dynamics to see it]');
    expect(byName.get('worker.log')).toMatch(/^2026-11-27 09:00 INFO {2}Schritt ü✓𝄞 1\n/);
    expect(byName.get('worker.log')).toMatch(/ left out here: .*\n2026-11-27 09:39 INFO {2}Schritt ü✓𝄞 40000\n$/s);
    expect(byName.get('scan.tiff')).toBe(
      '[not text: image/tiff, 2,000,000 bytes; open the record in Dynamics to see it]',
    );
    expect(textOf(r)).toMatch(/\b\d files are too long for one answer: the first and last lines are shown/);
    // the small ones: one query by their ids; every large one: begun once
    const paths = sent.map((q) => decodeURIComponent(q.url));
    expect(paths.filter((p) => p.startsWith('/api/data/v9.2/annotations?'))).toHaveLength(1);
    expect(paths.filter((p) => p.endsWith('/InitializeAnnotationBlocksDownload'))).toHaveLength(
      notes.filter((n) => / left out here|,000,000 bytes/.test(n.documentbody)).length,
    );
  });

  it('a large attachment of an email is read the same way (InitializeAttachmentBlocksDownload)', async () => {
    const email = emu.rows('email').find((e) => e.subject === 'Proposal')!;
    const lines = log(40_000);
    await post('activitymimeattachments', {
      filename: 'trace.txt',
      mimetype: 'text/plain',
      body: Buffer.from(`${lines.join('\n')}\n`).toString('base64'),
      'objectid_email@odata.bind': `/emails(${email.activityid})`,
    });
    const { result: r, sent } = await traffic(() =>
      h.call('get_record', {
        entity: 'email',
        id: String(email.activityid),
        expand: [{ relation: 'email_activity_mime_attachment', select: ['filename', 'body'] }],
      }),
    );
    expect(r.isError, textOf(r)).toBeFalsy();
    const files = r.structuredContent.record.email_activity_mime_attachment;
    expect(files.find((f: any) => f.filename === 'Proposal.pdf').body).toMatch(/^\[not text: application\/pdf/);
    expect(files.find((f: any) => f.filename === 'trace.txt').body).toMatch(
      /^2026-11-27 09:00 INFO {2}Schritt ü✓𝄞 1\n.*left out here.*Schritt ü✓𝄞 40000\n$/s,
    );
    expect(sent.map((q) => q.url)).toContain('/api/data/v9.2/InitializeAttachmentBlocksDownload');
  });

  it('a block lost to a reset connection or a 503 is asked for again', async () => {
    const lines = log(60_000);
    const id = await note('retry.log', 'text/plain', Buffer.from(`${lines.join('\n')}\n`));
    const injected = emu.stats().faultsInjected;
    emu.addFault({ match: { method: 'POST', path: '/api/data/v9.2/DownloadBlock' }, response: { status: 503 } });
    emu.addFault({ match: { method: 'POST', path: '/api/data/v9.2/DownloadBlock' }, action: 'reset' });
    const r = await h.call('get_record', { entity: 'annotation', id, select: ['documentbody'] });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.record.documentbody).toMatch(/Schritt ü✓𝄞 60000\n$/);
    expect(emu.stats().faultsInjected - injected).toBe(2);
  });

  it('notes deleted between the page and the read of their files are said to be gone; the rest are read', async () => {
    const other = emu.rows('incident').find((c) => c.incidentid !== caseId)!.incidentid as string;
    const onOther = (filename: string, text: string) =>
      post('annotations', {
        subject: filename,
        isdocument: true,
        filename,
        mimetype: 'text/plain',
        documentbody: Buffer.from(text).toString('base64'),
        'objectid_incident@odata.bind': `/incidents(${other})`,
      });
    const large = `${log(40_000).join('\n')}\n`;
    const goneLarge = await onOther('gone.log', large);
    await onOther('kept.log', large);
    const goneSmall = await onOther('gone.txt', 'small, read whole');
    await onOther('kept.txt', 'also small, read whole');
    // the reads of the files wait; the notes are deleted meanwhile, as another user might
    const held = ['/api/data/v9.2/InitializeAnnotationBlocksDownload', '/api/data/v9.2/annotations'];
    emu.addFault({ match: { method: 'POST', path: held[0] }, delayMs: 1000, times: 2 });
    emu.addFault({ match: { method: 'GET', path: held[1] }, delayMs: 1000 });
    const mark = emu.requests().length;
    const call = h.call('get_record', {
      entity: 'incident',
      id: other,
      expand: [{ relation: 'notes', select: ['filename', 'documentbody'], where: { filename: { like: '%.%' } } }],
    });
    const arrived = () => apiRequests(emu, mark).map((q) => q.url.split('?')[0]);
    await vi.waitFor(() => expect(arrived()).toEqual(expect.arrayContaining(held)), { timeout: 5000 });
    for (const id of [goneLarge, goneSmall]) expect((await t.api('DELETE', `annotations(${id})`)).status).toBe(204);
    const r = await call;
    // a fault left unused (the call failed before it) would hold up the next test
    emu.clearFaults();
    expect(r.isError, textOf(r)).toBeFalsy();
    const notes: { filename: string; documentbody?: string }[] = r.structuredContent.record.Incident_Annotation;
    const byName = new Map(notes.map((n) => [n.filename, n.documentbody]));
    const gone = '[deleted while this answer was read: the record and its file are no longer in Dynamics]';
    expect(byName.get('gone.log')).toBe(gone);
    expect(byName.get('gone.txt')).toBe(gone);
    expect(byName.get('kept.log')).toMatch(/ left out here: .*Schritt ü✓𝄞 40000\n$/s);
    expect(byName.get('kept.txt')).toBe('also small, read whole');
    // not the hint for files left unread: they were asked for
    expect(textOf(r)).not.toMatch(/has a file|have files/);
  });

  it('a file that cannot be read fails the call, and the reads beside it stop with it', async () => {
    const other = emu.rows('incident').filter((c) => c.incidentid !== caseId)[1]!.incidentid as string;
    for (const filename of ['first.log', 'second.log'])
      await post('annotations', {
        subject: filename,
        isdocument: true,
        filename,
        mimetype: 'text/plain',
        documentbody: Buffer.from(`${log(40_000).join('\n')}\n`).toString('base64'),
        'objectid_incident@odata.bind': `/incidents(${other})`,
      });
    const begin = '/api/data/v9.2/InitializeAnnotationBlocksDownload';
    // one download is refused outright, the other is slow to begin
    const refusal = { error: { code: '0x80040220', message: 'Principal user is missing prvReadNote privilege.' } };
    emu.addFault({ match: { method: 'POST', path: begin }, response: { status: 403, body: refusal } });
    emu.addFault({ match: { method: 'POST', path: begin }, delayMs: 600 });
    const mark = emu.requests().length;
    const r = await h.call('get_record', {
      entity: 'incident',
      id: other,
      expand: [{ relation: 'notes', select: ['filename', 'documentbody'], where: { filename: { like: '%.log' } } }],
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/prvReadNote/);
    // the slow one was given up with the call: nothing was asked after it began
    await new Promise((done) => setTimeout(done, 900));
    emu.clearFaults();
    const after = apiRequests(emu, mark).map((q) => q.url.split('?')[0]);
    expect(after.filter((u) => u === begin)).toHaveLength(2);
    expect(after).not.toContain('/api/data/v9.2/DownloadBlock');
  });

  it("a policy that keeps files' sizes back: the files come with the page as before, and are read all the same", async () => {
    const noSizes = builtInPolicyWith('no-file-sizes', (e) => ({
      ...e,
      annotation: { ...e.annotation!, read: e.annotation!.read!.filter((c) => c !== 'filesize') },
    }));
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: noSizes, LOG_LEVEL: 'warn' } });
    try {
      const lines = log(40_000);
      const id = await note('whole.log', 'text/plain', Buffer.from(`${lines.join('\n')}\n`));
      const { result: r, sent } = await traffic(() =>
        strict.call('get_record', { entity: 'annotation', id, select: ['documentbody'] }),
      );
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.record.documentbody).toMatch(/^2026-11-27 09:00 INFO {2}Schritt ü✓𝄞 1\n/);
      expect(r.structuredContent.record.filesize).toBeUndefined();
      const read = sent.filter((q) => q.url.includes(`/annotations(${id})`));
      expect(decodeURIComponent(read[0]!.url)).toContain('documentbody');
      expect(decodeURIComponent(read[0]!.url)).not.toContain('filesize');
      expect(sent.filter((q) => /Download/.test(q.url))).toEqual([]);
    } finally {
      await strict.close();
    }
  });
});
