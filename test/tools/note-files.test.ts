import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { type ContractTarget, openEmulatorTarget } from '../contract/target.js';
import { apiRequests } from '../helpers/client.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// A note can carry a file, kept by Dataverse as Base64 text in documentbody with filename and mimetype beside
// it ("Use file data with Attachment and Note records"). A customer's log on a case is what a support engineer
// asks the assistant to read; the Base64 itself is megabytes no model can read, and a list of notes must not
// download every file.
describe('files on notes', () => {
  let t: ContractTarget;
  let emu: EmulatorHandle;
  let h: McpHarness;
  /** a note on the first seeded case with a file, written straight to the Web API as another app would */
  const noteWithFile = async (filename: string, mimetype: string, bytes: Buffer) => {
    const r = await t.api('POST', 'annotations', {
      body: {
        subject: filename,
        isdocument: true,
        filename,
        mimetype,
        documentbody: bytes.toString('base64'),
        'objectid_incident@odata.bind': `/incidents(${caseId()})`,
      },
    });
    expect(r.status).toBe(204);
    return /\(([0-9a-f-]{36})\)$/.exec(r.headers['odata-entityid']!)![1]!;
  };
  const caseId = () =>
    (emu.rows('annotation').find((n) => n.filename === 'client-errors.log')!.objectid as { id: string }).id;

  beforeAll(async () => {
    t = await openEmulatorTarget({ scale: 30 });
    emu = t.emulator!;
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await h.close();
    await t.close();
  });

  it("a case's notes are listed with their files named, not downloaded, and how to read one is said", async () => {
    const mark = emu.requests().length;
    const r = await h.call('query_entities', { entity: 'annotation', where: { objectid: caseId() } });
    expect(r.isError, textOf(r)).toBeFalsy();
    const withFile = r.structuredContent.records.find((n: any) => n.filename === 'client-errors.log');
    expect(withFile).toMatchObject({ isdocument: true, mimetype: 'text/plain', filesize: 318 });
    expect(withFile.documentbody).toBeUndefined();
    expect(textOf(r)).toMatch(
      /^1 annotation record\. It has a file: select documentbody to read it \(a text file as its text\)\.\n/,
    );
    // the file's bytes were not asked of the Web API
    const [sent] = apiRequests(emu, mark).filter((q) => q.url.startsWith('/api/data/v9.2/annotations?'));
    expect(decodeURIComponent(sent!.url)).toContain('$select=');
    expect(decodeURIComponent(sent!.url)).not.toContain('documentbody');
    // a related list of the case's notes names each one's file too
    const got = await h.call('get_record', { entity: 'incident', id: caseId(), expand: ['notes'] });
    expect(got.structuredContent.record.Incident_Annotation).toContainEqual(
      expect.objectContaining({ subject: 'Logs from the customer', filename: 'client-errors.log' }),
    );
    expect(textOf(got)).toContain(
      'One of the Incident_Annotation rows has a file: to read it, give that expand item "select": ["documentbody"], or get_record the annotation with that select.',
    );
    // and that expand item reads it
    const read = await h.call('get_record', {
      entity: 'incident',
      id: caseId(),
      expand: [{ relation: 'notes', select: ['filename', 'documentbody'] }],
    });
    expect(read.structuredContent.record.Incident_Annotation).toContainEqual(
      expect.objectContaining({
        filename: 'client-errors.log',
        documentbody: expect.stringMatching(/^2026-11-27 09:12:03 INFO {2}client started/),
      }),
    );
    expect(textOf(read)).not.toContain('has a file');
  });

  it('a policy that keeps files back: notes still name theirs, nothing says to read one, and reading one is refused', async () => {
    const noFiles = builtInPolicyWith('no-note-files', (e) => ({
      ...e,
      annotation: { ...e.annotation!, read: e.annotation!.read!.filter((c) => c !== 'documentbody') },
    }));
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: noFiles, LOG_LEVEL: 'warn' } });
    try {
      const listed = await strict.call('query_entities', { entity: 'annotation', where: { objectid: caseId() } });
      expect(listed.structuredContent.records).toContainEqual(
        expect.objectContaining({ filename: 'client-errors.log' }),
      );
      expect(textOf(listed)).not.toContain('has a file');
      const got = await strict.call('get_record', { entity: 'incident', id: caseId(), expand: ['notes'] });
      expect(textOf(got)).not.toContain('has a file');
      const read = await strict.call('query_entities', { entity: 'annotation', select: ['documentbody'] });
      expect(textOf(read)).toMatch(/^Error \(policy\): .*documentbody/);
    } finally {
      await strict.close();
    }
  });

  it('describe_entity says what the file column is and how it is read', async () => {
    const r = await h.call('describe_entity', { entity: 'annotation' });
    const columns = r.structuredContent.entity.columns;
    expect(columns.find((c: any) => c.name === 'documentbody')).toEqual({
      name: 'documentbody',
      label: 'Document',
      type: 'String',
      read: true,
      write: false,
      maxLength: 1_073_741_823,
      behavior: 'File (Base64): read only when selected, a text file as its text; not for where or orderBy',
    });
    expect(columns.map((c: any) => c.name)).toEqual(
      expect.arrayContaining(['isdocument', 'filename', 'mimetype', 'filesize']),
    );
  });

  it('asked for, a text file is read as its text, whatever its MIME type or UTF encoding; never as Base64', async () => {
    const log = 'line one\nline two: ünïcode ✓\n';
    const octet = await noteWithFile('upload.log', 'application/octet-stream', Buffer.from(log));
    // .NET's UnicodeEncoding (UTF-16LE with its byte order mark), as Microsoft's samples encode a note's text
    const utf16 = await noteWithFile(
      'notes.txt',
      'text/plain',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(log, 'utf16le')]),
    );
    for (const id of [octet, utf16]) {
      const r = await h.call('get_record', { entity: 'annotation', id, select: ['filename', 'documentbody'] });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.structuredContent.record.documentbody).toBe(log);
      expect(textOf(r)).not.toContain(Buffer.from(log).toString('base64'));
    }
    const seeded = await h.call('query_entities', {
      entity: 'annotation',
      where: { filename: 'client-errors.log' },
      select: ['documentbody'],
    });
    expect(seeded.structuredContent.records[0].documentbody).toMatch(
      /^2026-11-27 09:12:03 INFO {2}client started, version 4\.2\.1\n.*ERROR request to \/api\/session failed: 500/s,
    );
    expect(textOf(seeded)).not.toMatch(/One has a file/);
  });

  it('a file that is not text is named by its type and size, never handed over', async () => {
    const r = await h.call('query_entities', {
      entity: 'annotation',
      where: { filename: 'error-screenshot.png' },
      select: ['filename', 'documentbody'],
    });
    expect(r.structuredContent.records).toEqual([
      {
        id: expect.any(String),
        filename: 'error-screenshot.png',
        documentbody: '[not text: image/png, 68 bytes; open the record in Dynamics to see it]',
        // read beside the file, to say what it is
        mimetype: 'image/png',
      },
    ]);
    const zip = await noteWithFile('logs.zip', 'application/zip', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 8, 0]));
    const got = await h.call('get_record', { entity: 'annotation', id: zip, select: ['documentbody'] });
    expect(got.structuredContent.record.documentbody).toBe(
      '[not text: application/zip, 8 bytes; open the record in Dynamics to see it]',
    );
  });

  it('a condition, sort or group on the file is refused unsent: it would compare Base64, and answer "none"', async () => {
    const mark = emu.requests().length;
    const asked = [
      h.call('query_entities', { entity: 'annotation', where: { documentbody: { contains: 'ERROR' } } }),
      h.call('query_entities', { entity: 'annotation', filter: "contains(documentbody,'ERROR')" }),
      h.call('query_entities', {
        entity: 'incident',
        where: { 'Incident_Annotation/documentbody': { contains: 'timeout' } },
      }),
      h.call('query_entities', { entity: 'annotation', orderBy: 'documentbody desc' }),
      h.call('aggregate_records', { entity: 'annotation', groupBy: ['documentbody'] }),
    ];
    for (const r of await Promise.all(asked))
      expect(textOf(r)).toBe(
        "Error (bad_input): documentbody holds the note's file as Base64 text: a condition, sort or group on it would compare that, not what the file says.\nHow to fix: For records with a file use isdocument (true), filename or mimetype; to look inside files, select documentbody on those records and read it.",
      );
    expect(apiRequests(emu, mark).filter((q) => q.url.includes('documentbody'))).toEqual([]);
    // what the advice names answers
    const withFiles = await h.call('query_entities', {
      entity: 'annotation',
      where: { isdocument: true, mimetype: { startswith: 'text/' } },
      select: ['filename'],
    });
    expect(withFiles.structuredContent.records.map((n: any) => n.filename)).toContain('client-errors.log');
  });

  it('files are read five records a page (one with a related list of them), every one reached by the cursor', async () => {
    for (let i = 0; i < 7; i++) await noteWithFile(`part-${i}.txt`, 'text/plain', Buffer.from(`part ${i}\n`));
    const where = { objectid: caseId(), filename: { startswith: 'part-' } };
    const seen: string[] = [];
    let r = await h.call('query_entities', { entity: 'annotation', where, select: ['documentbody'] });
    expect(r.structuredContent.records).toHaveLength(5);
    expect(textOf(r)).toMatch(
      /^5 annotation records; more available: pass "cursor" to continue\. \(At most 5 rows per call here when files are read, not the 50 asked for\.\)/,
    );
    seen.push(...r.structuredContent.records.map((n: any) => n.documentbody));
    r = await h.call('query_entities', { entity: 'annotation', cursor: r.structuredContent.cursor });
    expect(r.structuredContent.hasMore).toBe(false);
    seen.push(...r.structuredContent.records.map((n: any) => n.documentbody));
    expect(seen.sort()).toEqual(Array.from({ length: 7 }, (_, i) => `part ${i}\n`));
    // a list of cases with their notes' files: one case a page
    const cases = await h.call('query_entities', {
      entity: 'incident',
      select: ['title'],
      expand: [{ relation: 'notes', select: ['documentbody'] }],
      top: 3,
    });
    expect(cases.structuredContent.records).toHaveLength(1);
    expect(textOf(cases)).toContain('(At most 1 row per call here when files are read, not the 3 asked for.)');
  });

  it("a log too long for one answer: its first and last lines whole, the middle's size said where it was left out", async () => {
    const lines = Array.from(
      { length: 20_000 },
      (_, i) => `2026-11-27 09:00:${String(i % 60).padStart(2, '0')} INFO  step ${i + 1}`,
    );
    lines[0] = '2026-11-27 09:00:00 INFO  client started, version 4.2.1';
    lines[19_999] = '2026-11-27 09:59:59 FATAL out of memory after 20,000 steps';
    const text = `${lines.join('\n')}\n`;
    const big = await noteWithFile('big.log', 'text/plain', Buffer.from(text));
    for (const r of [
      await h.call('get_record', { entity: 'annotation', id: big, select: ['filename', 'documentbody'] }),
      await h.call('query_entities', {
        entity: 'annotation',
        where: { filename: 'big.log' },
        select: ['documentbody'],
      }),
    ]) {
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(textOf(r)).toContain(
        'Its file is too long for one answer: the first and last lines are shown, and where the middle was left out says how much.',
      );
      // within the answer limit (200,000 bytes by default), beside the rest of the answer
      expect(Buffer.byteLength(JSON.stringify(r.structuredContent))).toBeLessThanOrEqual(200_000);
      const shown: string = r.structuredContent.record?.documentbody ?? r.structuredContent.records[0].documentbody;
      const [head, tail] = shown.split(
        /\[… [\d,]+ lines \([\d,]+ bytes\) of [\d,]+ left out here: the file is too long for one answer; its first and last lines are shown …\]\n/,
      );
      expect(head!.startsWith(`${lines[0]}\n`)).toBe(true);
      expect(tail!.endsWith(`${lines[19_999]}\n`)).toBe(true);
      // whole lines on both sides, and the count left out is what is missing between them
      const headLines = head!.split('\n').slice(0, -1);
      const tailLines = tail!.split('\n').slice(0, -1);
      expect(headLines).toEqual(lines.slice(0, headLines.length));
      expect(tailLines).toEqual(lines.slice(20_000 - tailLines.length));
      const leftOut = 20_000 - headLines.length - tailLines.length;
      expect(shown).toContain(`[… ${leftOut.toLocaleString('en-US')} lines (`);
      expect(shown).toContain(`of ${Buffer.byteLength(text).toLocaleString('en-US')} left out here`);
      // most of the room is the end of the log, where a failure is
      expect(tailLines.length).toBeGreaterThan(2 * headLines.length);
    }
  });

  it("a secret pasted into a text file is redacted as in any other text (the app's own client secret here)", async () => {
    const id = await noteWithFile(
      'config.txt',
      'text/plain',
      Buffer.from(`tenant=contoso\nclient_secret_value: ${emu.clientSecret}\n`),
    );
    const r = await h.call('get_record', { entity: 'annotation', id, select: ['documentbody'] });
    expect(r.structuredContent.record.documentbody).toBe('tenant=contoso\nclient_secret_value: [redacted]\n');
    expect(JSON.stringify(r)).not.toContain(emu.clientSecret);
  });
});
