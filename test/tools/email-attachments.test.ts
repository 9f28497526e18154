import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { type ContractTarget, openEmulatorTarget } from '../contract/target.js';
import { apiRequests } from '../helpers/client.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// The files that came with an email are its attachments (Attachment (ActivityMimeAttachment) table reference:
// Base64 in body, with filename and mimetype; the email's attachmentcount counts them). "What did the
// customer's legal team send back?" is answered from the file they attached, read as text; a proposal PDF is
// named, never handed over as Base64.
describe('files attached to emails', () => {
  let t: ContractTarget;
  let emu: EmulatorHandle;
  let h: McpHarness;
  /** the seeded email that came with the customer's comments on the contract */
  const commented = () =>
    String(
      (
        emu.rows('activitymimeattachment').find((a) => a.filename === 'liability-clause-comments.txt')!.objectid as {
          id: string;
        }
      ).id,
    );

  beforeAll(async () => {
    t = await openEmulatorTarget({ scale: 30 });
    emu = t.emulator!;
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await h.close();
    await t.close();
  });

  it("a deal's emails say which came with files and how to read them (all in one query); the files are not downloaded", async () => {
    const deal = (emu.rows('email').find((e) => e.activityid === commented())!.regardingobjectid as { id: string }).id;
    const mark = emu.requests().length;
    const r = await h.call('query_entities', { entity: 'email', where: { regardingobjectid: deal } });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.records).toContainEqual(
      expect.objectContaining({ id: commented(), subject: 'RE: Contract draft', attachmentcount: 1 }),
    );
    const withFiles = r.structuredContent.records.filter((e: any) => e.attachmentcount > 0);
    expect(textOf(r)).toContain(
      `${withFiles.length === 1 ? 'One has' : `${withFiles.length} have`} attached files: to read them, query_entities on activitymimeattachment with where {"objectid": {"in": [${withFiles.length === 1 ? 'its id' : 'their ids'}]}} and select ["filename", "body"].`,
    );
    expect(apiRequests(emu, mark).filter((q) => q.url.includes('activitymimeattachment'))).toEqual([]);
    // what the hint says to do reads the text file as its text, the files of all of them in one call
    const read = await h.call('query_entities', {
      entity: 'activitymimeattachment',
      where: { objectid: { in: withFiles.map((e: any) => e.id) } },
      select: ['filename', 'body'],
    });
    expect(read.structuredContent.records).toContainEqual(
      expect.objectContaining({
        filename: 'liability-clause-comments.txt',
        body: expect.stringMatching(/^Comments from our legal team.*Clause 9\.2 \(limitation of liability\)/s),
      }),
    );
    // one email alone: its files read with it
    const one = await h.call('get_record', { entity: 'email', id: commented() });
    expect(textOf(one)).toContain(
      'It has attached files: to read them, expand email_activity_mime_attachment with "select": ["filename", "body"].',
    );
    const got = await h.call('get_record', {
      entity: 'email',
      id: commented(),
      expand: [{ relation: 'email_activity_mime_attachment', select: ['filename', 'body'] }],
    });
    expect(got.structuredContent.record.email_activity_mime_attachment).toEqual([
      {
        id: expect.any(String),
        filename: 'liability-clause-comments.txt',
        body: expect.stringMatching(/^Comments from our legal team.*Clause 9\.2 \(limitation of liability\)/s),
        mimetype: 'text/plain',
      },
    ]);
    expect(textOf(got)).not.toContain('attached files');
    // listed by their own table's words ("attachments"), named but not read, with how to read them
    const listed = await h.call('get_record', { entity: 'email', id: commented(), expand: ['attachments'] });
    expect(listed.structuredContent.record.email_activity_mime_attachment).toEqual([
      { id: expect.any(String), filename: 'liability-clause-comments.txt' },
    ]);
    expect(textOf(listed)).toContain(
      'One of the email_activity_mime_attachment rows has a file: to read it, give that expand item "select": ["body"]',
    );
  });

  it('attachments are found by their email and read as text; a PDF is named by its type and size', async () => {
    const r = await h.call('query_entities', {
      entity: 'activitymimeattachment',
      where: { 'objectid_email.subject': { in: ['Proposal', 'RE: Contract draft'] } },
      select: ['filename', 'body', 'filesize'],
      orderBy: 'filename',
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    // (sorted as Dataverse sorts text: without regard to case)
    expect(r.structuredContent.records).toEqual([
      expect.objectContaining({
        filename: 'liability-clause-comments.txt',
        body: expect.stringContaining('Clause 9.4: indirect losses'),
      }),
      {
        id: expect.any(String),
        filename: 'Proposal.pdf',
        body: '[not text: application/pdf, 83 bytes; open the record in Dynamics to see it]',
        filesize: 83,
        mimetype: 'application/pdf',
      },
    ]);
    expect(textOf(r)).not.toContain(Buffer.from('Comments from our legal team').toString('base64').slice(0, 24));
  });

  it('a text file too long for one answer is handed over as its first and last lines, alone or with its email', async () => {
    const rows = Array.from({ length: 15_000 }, (_, i) => `${i + 1},Contoso order line ${i + 1},${(i % 97) * 10}`);
    const csv = `line,description,amount\n${rows.join('\n')}\n`;
    const posted = await t.api('POST', 'activitymimeattachments', {
      body: {
        filename: 'order-lines.csv',
        mimetype: 'text/csv',
        body: Buffer.from(csv).toString('base64'),
        objecttypecode: 'email',
        'objectid_email@odata.bind': `/emails(${commented()})`,
      },
    });
    expect(posted.status).toBe(204);
    const r = await h.call('query_entities', {
      entity: 'activitymimeattachment',
      where: { filename: 'order-lines.csv' },
      select: ['body'],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain('Its file is too long for one answer: the first and last lines are shown');
    expect(Buffer.byteLength(JSON.stringify(r.structuredContent))).toBeLessThanOrEqual(200_000);
    const shown: string = r.structuredContent.records[0].body;
    expect(shown.startsWith('line,description,amount\n1,Contoso order line 1,0\n')).toBe(true);
    expect(shown.endsWith(`${rows.at(-1)}\n`)).toBe(true);
    expect(shown).toMatch(/\[… [\d,]+ lines \([\d,]+ bytes\) of [\d,]+ left out here/);
    // read with its email, as the hint on a list of emails says: cut the same way, the comments beside it whole
    const email = await h.call('get_record', {
      entity: 'email',
      id: commented(),
      select: ['attachmentcount'],
      expand: [{ relation: 'email_activity_mime_attachment', select: ['filename', 'body'] }],
    });
    expect(email.isError, textOf(email)).toBeFalsy();
    expect(textOf(email)).toMatch(
      /^Email [0-9a-f-]{36}: One file is too long for one answer: the first and last lines are shown/,
    );
    expect(Buffer.byteLength(JSON.stringify(email.structuredContent))).toBeLessThanOrEqual(200_000);
    const files = email.structuredContent.record.email_activity_mime_attachment;
    expect(files.find((f: any) => f.filename === 'order-lines.csv').body).toMatch(
      /^line,description,amount\n1,Contoso order line 1,0\n[\s\S]*left out here[\s\S]*\n15000,Contoso order line 15000,[\d]+\n$/,
    );
    expect(files.find((f: any) => f.filename === 'liability-clause-comments.txt').body).toMatch(
      /^Comments from our legal team[\s\S]*Clause 9\.4: indirect losses must not include loss of data caused by the service\.\n$/,
    );
    // and the email counts it
    expect(email.structuredContent.record.attachmentcount).toBe(2);
  });

  it('a condition on the file itself is refused unsent, saying what to use', async () => {
    const mark = emu.requests().length;
    const r = await h.call('query_entities', {
      entity: 'activitymimeattachment',
      where: { body: { contains: 'liability' } },
    });
    expect(textOf(r)).toBe(
      "Error (bad_input): body holds the attachment's file as Base64 text: a condition, sort or group on it would compare that, not what the file says.\nHow to fix: For records with a file use filename or mimetype; to look inside files, select body on those records and read it.",
    );
    expect(apiRequests(emu, mark)).toEqual([]);
  });

  it('where the policy keeps attachments back, emails still count them but nothing says how to read one', async () => {
    const noAttachments = builtInPolicyWith('no-email-files', (e) => {
      const { activitymimeattachment: _, ...rest } = e;
      return {
        ...rest,
        email: {
          ...e.email!,
          expand: e.email!.expand!.filter((n) => n !== 'email_activity_mime_attachment'),
        },
      };
    });
    const strict = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: noAttachments, LOG_LEVEL: 'warn' } });
    try {
      const got = await strict.call('get_record', { entity: 'email', id: commented() });
      const files = emu.rows('activitymimeattachment').filter((a) => (a.objectid as { id: string }).id === commented());
      expect(got.structuredContent.record.attachmentcount).toBe(files.length);
      expect(textOf(got)).not.toContain('attached files');
      const read = await strict.call('query_entities', { entity: 'activitymimeattachment' });
      expect(textOf(read)).toMatch(/^Error \(policy\)/);
    } finally {
      await strict.close();
    }
  });
});
