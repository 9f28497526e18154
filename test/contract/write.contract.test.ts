import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContractTarget, targets } from './target.js';

describe.each(targets)('write contract: $name', ({ open, skip }) => {
  let t: ContractTarget;
  const created: string[] = [];
  beforeAll(async () => {
    if (!skip) t = await open();
  });
  afterAll(async () => {
    if (!t) return;
    for (const path of created) await t.api('DELETE', path);
    await t.close();
  });
  const track = (entityId: string) => {
    created.push(entityId.replace(/^.*\/api\/data\/v9\.2\//, ''));
    return entityId;
  };

  it.skipIf(skip)('CREATE: POST gives 204 with OData-EntityId (create-basic-204 sample)', async () => {
    const r = await t.api('POST', 'accounts', {
      body: {
        name: 'Sample Account',
        creditonhold: false,
        description: 'This is the description of the sample account',
        revenue: 5000000,
        accountcategorycode: 1,
      },
    });
    expect(r.status).toBe(204);
    const id = track(r.headers['odata-entityid']!);
    expect(id).toMatch(new RegExp(`^${t.dynamicsUrl}/api/data/v9\\.2/accounts\\([0-9a-f-]{36}\\)$`));
    const back = (await t.api('GET', `${id}?$select=name,revenue,statecode,statuscode`)).json();
    expect(back).toMatchObject({ name: 'Sample Account', revenue: 5000000, statecode: 0, statuscode: 1 });
  });

  // add_note writes a note this way; run against a real organisation, this says the emulator's Note table,
  // its objectid_<table> navigation properties and the <Table>_Annotation relationship answer as Dataverse's
  it.skipIf(skip)(
    'NOTE: a note bound with objectid_account@odata.bind is read back by objectid and through Account_Annotation',
    async () => {
      const account = track(
        (await t.api('POST', 'accounts', { body: { name: 'Note contract' } })).headers['odata-entityid']!,
      );
      const accountId = /\(([0-9a-f-]{36})\)$/.exec(account)![1]!;
      const note = await t.api('POST', 'annotations', {
        body: {
          subject: 'Call',
          notetext: 'Wants a demo.',
          'objectid_account@odata.bind': `/accounts(${accountId})`,
        },
      });
      expect(note.status).toBe(204);
      track(note.headers['odata-entityid']!);
      const byObject = (
        await t.api(
          'GET',
          `annotations?$select=subject,notetext,_objectid_value&$filter=_objectid_value eq ${accountId}`,
        )
      ).json().value;
      expect(byObject).toHaveLength(1);
      expect(byObject[0]).toMatchObject({ subject: 'Call', notetext: 'Wants a demo.', _objectid_value: accountId });
      const withNotes = (
        await t.api('GET', `accounts(${accountId})?$select=name&$expand=Account_Annotation($select=notetext)`)
      ).json();
      expect(withNotes.Account_Annotation.map((n: { notetext: string }) => n.notetext)).toEqual(['Wants a demo.']);
    },
  );

  // "Use file data with Attachment and Note records": a note's file is Base64 in documentbody, with filename and
  // mimetype; filesize is read-only (Note (Annotation) table reference). What the file comes to in bytes is what
  // the block upload answers as FileSizeInBytes; a note written without a file is no document (IsDocument's
  // DefaultValue False).
  it.skipIf(skip)(
    'NOTE FILE: documentbody is kept as sent, filesize is its bytes, and follows a new file',
    async () => {
      const account = track(
        (await t.api('POST', 'accounts', { body: { name: 'Note file contract' } })).headers['odata-entityid']!,
      );
      const accountId = /\(([0-9a-f-]{36})\)$/.exec(account)![1]!;
      const bytes = Buffer.from('first line\nsecond line ✓\n');
      const note = await t.api('POST', 'annotations', {
        body: {
          subject: 'Log',
          isdocument: true,
          filename: 'contract.log',
          mimetype: 'text/plain',
          documentbody: bytes.toString('base64'),
          'objectid_account@odata.bind': `/accounts(${accountId})`,
        },
      });
      expect(note.status).toBe(204);
      const id = track(note.headers['odata-entityid']!);
      const select = '$select=isdocument,filename,mimetype,filesize,documentbody';
      expect((await t.api('GET', `${id}?${select}`)).json()).toMatchObject({
        isdocument: true,
        filename: 'contract.log',
        mimetype: 'text/plain',
        filesize: bytes.length,
        documentbody: bytes.toString('base64'),
      });
      const larger = Buffer.alloc(1000, 'x');
      expect((await t.api('PATCH', id, { body: { documentbody: larger.toString('base64') } })).status).toBe(204);
      expect((await t.api('GET', `${id}?$select=filesize`)).json().filesize).toBe(1000);
      const plain = await t.api('POST', 'annotations', {
        body: { subject: 'No file', 'objectid_account@odata.bind': `/accounts(${accountId})` },
      });
      const plainId = track(plain.headers['odata-entityid']!);
      expect((await t.api('GET', `${plainId}?$select=isdocument,filesize`)).json()).toMatchObject({
        isdocument: false,
        filesize: null,
      });
    },
  );

  // An email's files ("Attachment (ActivityMimeAttachment) table reference"): body is Base64, filesize read-only,
  // objectid (SystemRequired) the email through objectid_email, partner of its email_activity_mime_attachment;
  // the email's read-only attachmentcount counts them. Microsoft's samples make them by deep insert under the
  // email, without objecttypecode; run against a real organisation, this says the emulator answers the same.
  it.skipIf(skip)(
    'EMAIL ATTACHMENT: deep-inserted and bound attachments are counted on their email, sized, and go with it',
    async () => {
      const text = Buffer.from('Clause 9.2: the cap should be 12 months.\n');
      const email = await t.api('POST', 'emails', {
        body: {
          subject: 'Attachment contract',
          email_activity_mime_attachment: [
            { filename: 'comments.txt', mimetype: 'text/plain', body: text.toString('base64') },
          ],
        },
      });
      expect(email.status).toBe(204);
      const emailPath = track(email.headers['odata-entityid']!);
      const emailId = /\(([0-9a-f-]{36})\)$/.exec(emailPath)![1]!;
      const read = async () =>
        (
          await t.api(
            'GET',
            `${emailPath}?$select=attachmentcount&$expand=email_activity_mime_attachment($select=filename,mimetype,filesize,objecttypecode,_objectid_value)`,
          )
        ).json();
      const first = await read();
      expect(first.attachmentcount).toBe(1);
      expect(first.email_activity_mime_attachment).toEqual([
        expect.objectContaining({
          filename: 'comments.txt',
          mimetype: 'text/plain',
          filesize: text.length,
          objecttypecode: 'email',
          _objectid_value: emailId,
        }),
      ]);
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const bound = await t.api('POST', 'activitymimeattachments', {
        body: {
          filename: 'screen.png',
          mimetype: 'image/png',
          body: png.toString('base64'),
          objecttypecode: 'email',
          'objectid_email@odata.bind': `/emails(${emailId})`,
        },
      });
      expect(bound.status).toBe(204);
      const boundPath = bound.headers['odata-entityid']!;
      expect((await read()).attachmentcount).toBe(2);
      expect((await t.api('DELETE', boundPath)).status).toBe(204);
      expect((await read()).attachmentcount).toBe(1);
      // deleted with its email
      const [{ activitymimeattachmentid }] = (await read()).email_activity_mime_attachment;
      expect((await t.api('DELETE', emailPath)).status).toBe(204);
      created.pop();
      expect((await t.api('GET', `activitymimeattachments(${activitymimeattachmentid})`)).status).toBe(404);
    },
  );

  // "Use file data with Attachment and Note records": a large file is downloaded in blocks, as get_record and
  // query_entities read one (file-reads.ts). The refusals' codes and a block past the file's end are GUESSes.
  it.skipIf(skip)(
    "FILE BLOCKS: a note's and an attachment's file are downloaded in blocks of any offset and length",
    async () => {
      const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join(''));
      const note = await t.api('POST', 'annotations', {
        body: {
          subject: 'Blocks contract',
          filename: 'blocks.txt',
          mimetype: 'text/plain',
          documentbody: bytes.toString('base64'),
        },
      });
      const noteId = /\(([0-9a-f-]{36})\)$/.exec(track(note.headers['odata-entityid']!))![1]!;
      const begun = await t.api('POST', 'InitializeAnnotationBlocksDownload', {
        body: { Target: { annotationid: noteId, '@odata.type': 'Microsoft.Dynamics.CRM.annotation' } },
      });
      expect(begun.status).toBe(200);
      const { FileContinuationToken, FileSizeInBytes, FileName } = begun.json();
      expect([typeof FileContinuationToken, FileSizeInBytes, FileName]).toEqual(['string', bytes.length, 'blocks.txt']);
      const block = async (Offset: number, BlockLength: number) => {
        const r = await t.api('POST', 'DownloadBlock', { body: { Offset, BlockLength, FileContinuationToken } });
        expect(r.status).toBe(200);
        return Buffer.from(r.json().Data, 'base64');
      };
      expect(await block(0, 100)).toEqual(bytes.subarray(0, 100));
      expect(await block(1001, 777)).toEqual(bytes.subarray(1001, 1778));
      expect(await block(bytes.length - 10, 10)).toEqual(bytes.subarray(bytes.length - 10));
      const email = await t.api('POST', 'emails', {
        body: {
          subject: 'Blocks contract',
          email_activity_mime_attachment: [
            { filename: 'a.txt', mimetype: 'text/plain', body: bytes.toString('base64') },
          ],
        },
      });
      const emailPath = track(email.headers['odata-entityid']!);
      const [{ activitymimeattachmentid }] = (
        await t.api('GET', `${emailPath}?$select=subject&$expand=email_activity_mime_attachment($select=filename)`)
      ).json().email_activity_mime_attachment;
      const attachment = await t.api('POST', 'InitializeAttachmentBlocksDownload', {
        body: {
          Target: { activitymimeattachmentid, '@odata.type': 'Microsoft.Dynamics.CRM.activitymimeattachment' },
        },
      });
      expect(attachment.json()).toMatchObject({ FileSizeInBytes: bytes.length, FileName: 'a.txt' });
      // a note without a file has nothing to download
      const bare = await t.api('POST', 'annotations', { body: { subject: 'No file', notetext: 'text only' } });
      const bareId = /\(([0-9a-f-]{36})\)$/.exec(track(bare.headers['odata-entityid']!))![1]!;
      const none = await t.api('POST', 'InitializeAnnotationBlocksDownload', {
        body: { Target: { annotationid: bareId, '@odata.type': 'Microsoft.Dynamics.CRM.annotation' } },
      });
      expect(none.status).toBeGreaterThanOrEqual(400);
    },
  );

  // "Incident (case) hierarchies": a case's parent is parentcaseid (navigation property parentcaseid), its
  // children incident_parent_incident; one level only, each refusal with the error number that page gives.
  it.skipIf(skip)(
    'CASE HIERARCHY: a child case is listed under its parent; a child of a child and a parent made a child are refused',
    async () => {
      const account = track(
        (await t.api('POST', 'accounts', { body: { name: 'Case hierarchy contract' } })).headers['odata-entityid']!,
      );
      const customer = { 'customerid_account@odata.bind': `/accounts(${/\(([0-9a-f-]{36})\)$/.exec(account)![1]})` };
      const makeCase = async (title: string, parent?: string) => {
        const r = await t.api('POST', 'incidents', {
          body: { title, ...customer, ...(parent ? { 'parentcaseid@odata.bind': `/incidents(${parent})` } : {}) },
        });
        return r;
      };
      const idOf = (entityId: string) => /\(([0-9a-f-]{36})\)$/.exec(entityId)![1]!;
      const parent = idOf(track((await makeCase('Printers offline')).headers['odata-entityid']!));
      const made = await makeCase('Printer offline again', parent);
      expect(made.status).toBe(204);
      const child = idOf(track(made.headers['odata-entityid']!));
      const listed = (
        await t.api(
          'GET',
          `incidents(${parent})?$select=title&$expand=incident_parent_incident($select=title,_parentcaseid_value)`,
        )
      ).json();
      expect(listed.incident_parent_incident).toEqual([
        expect.objectContaining({ title: 'Printer offline again', _parentcaseid_value: parent }),
      ]);
      const grandchild = await makeCase('Third time', child);
      expect(grandchild.status).toBe(400);
      expect(grandchild.json().error).toMatchObject({
        code: '0x8003f453',
        message: "You can't create child cases for child cases.",
      });
      const other = idOf(track((await makeCase('Scanner offline')).headers['odata-entityid']!));
      const moved = await t.api('PATCH', `incidents(${parent})`, {
        body: { 'parentcaseid@odata.bind': `/incidents(${other})` },
      });
      expect(moved.status).toBe(400);
      expect(moved.json().error).toMatchObject({
        code: '0x8003f455',
        message: "You can't add a parent case as a child case.",
      });
      // the children go with their parent (incident_parent_incident: Delete Cascade)
      expect((await t.api('DELETE', `incidents(${parent})`)).status).toBe(204);
      expect((await t.api('GET', `incidents(${child})?$select=title`)).status).toBe(404);
    },
  );

  // resolve_case resolves a case this way; run against a real organisation, this says the emulator's action,
  // its Case Resolution table and the Incident_IncidentResolutions relationship answer as Dataverse's
  it.skipIf(skip)(
    'CLOSE: CloseIncident (IncidentResolution, Status) answers 204 and leaves the case Resolved with its resolution',
    async () => {
      const account = track(
        (await t.api('POST', 'accounts', { body: { name: 'Resolution contract' } })).headers['odata-entityid']!,
      );
      const accountId = /\(([0-9a-f-]{36})\)$/.exec(account)![1]!;
      const opened = await t.api('POST', 'incidents', {
        body: { title: 'Resolution contract', 'customerid_account@odata.bind': `/accounts(${accountId})` },
      });
      const incident = track(opened.headers['odata-entityid']!);
      const caseId = /\(([0-9a-f-]{36})\)$/.exec(incident)![1]!;
      const r = await t.api('POST', 'CloseIncident', {
        body: {
          IncidentResolution: { subject: 'Replaced the router', 'incidentid@odata.bind': `/incidents(${caseId})` },
          Status: 5,
        },
      });
      expect(r.status).toBe(204);
      const back = (
        await t.api(
          'GET',
          `incidents(${caseId})?$select=statecode,statuscode&$expand=Incident_IncidentResolutions($select=subject,statecode,statuscode)`,
        )
      ).json();
      expect(back).toMatchObject({ statecode: 1, statuscode: 5 });
      // the resolution is a record of what was done: Completed (Closed), not an open activity
      expect(
        back.Incident_IncidentResolutions.map((x: { subject: string; statecode: number; statuscode: number }) => [
          x.subject,
          x.statecode,
          x.statuscode,
        ]),
      ).toEqual([['Replaced the router', 1, 2]]);
    },
  );

  // update_record wins and loses opportunities this way; run against a real organisation, this says the
  // emulator's actions, its Opportunity Close table and the Opportunity_OpportunityClose relationship answer as
  // Dataverse's, and that the close's revenue and date become the opportunity's
  it.skipIf(skip)(
    'CLOSE: WinOpportunity (OpportunityClose, Status) answers 204 and leaves the opportunity Won with its close; a closed one is refused',
    async () => {
      const created = await t.api('POST', 'opportunities', { body: { name: 'Win contract', estimatedvalue: 1000 } });
      const url = track(created.headers['odata-entityid']!);
      const id = /\(([0-9a-f-]{36})\)$/.exec(url)![1]!;
      const close = (action: string, Status: number) =>
        t.api('POST', action, {
          body: {
            OpportunityClose: {
              subject: 'Won: Win contract',
              actualrevenue: 900,
              actualend: '2026-11-20',
              'opportunityid@odata.bind': `/opportunities(${id})`,
            },
            Status,
          },
        });
      // a Status of the other state is refused, and nothing is closed
      expect((await close('LoseOpportunity', 3)).status).toBe(400);
      expect((await close('WinOpportunity', 3)).status).toBe(204);
      const back = (
        await t.api(
          'GET',
          `${url}?$select=statecode,statuscode,actualvalue,actualclosedate&$expand=Opportunity_OpportunityClose($select=subject,actualrevenue,statecode,statuscode)`,
        )
      ).json();
      expect(back).toMatchObject({ statecode: 1, statuscode: 3, actualvalue: 900, actualclosedate: '2026-11-20' });
      // and the close, Completed
      expect(back.Opportunity_OpportunityClose).toEqual([
        expect.objectContaining({ subject: 'Won: Win contract', actualrevenue: 900, statecode: 1, statuscode: 2 }),
      ]);
      // closing it again: "The opportunity is already closed."
      expect((await close('WinOpportunity', 3)).status).toBe(400);
    },
  );

  // update_record loses a deal to a competitor this way (Close Opportunity's Competitor): where the organisation
  // has Sales' competitors, the Opportunity Close keeps whom it went to
  it.skipIf(skip)(
    'CLOSE: LoseOpportunity with the Opportunity Close bound to a competitor keeps it (competitorid)',
    async (ctx) => {
      const rival = await t.api('POST', 'competitors', { body: { name: `Lose rival ${randomUUID().slice(0, 8)}` } });
      if (rival.status === 404) return ctx.skip();
      const competitor = track(rival.headers['odata-entityid']!);
      const competitorId = /\(([0-9a-f-]{36})\)$/.exec(competitor)![1]!;
      const created = await t.api('POST', 'opportunities', { body: { name: 'Lose contract', estimatedvalue: 1000 } });
      const url = track(created.headers['odata-entityid']!);
      const id = /\(([0-9a-f-]{36})\)$/.exec(url)![1]!;
      const lost = await t.api('POST', 'LoseOpportunity', {
        body: {
          OpportunityClose: {
            subject: 'Lost: Lose contract',
            'opportunityid@odata.bind': `/opportunities(${id})`,
            'competitorid@odata.bind': `/competitors(${competitorId})`,
          },
          Status: 5,
        },
      });
      expect(lost.status).toBe(204);
      const back = (
        await t.api('GET', `${url}?$select=statecode&$expand=Opportunity_OpportunityClose($select=_competitorid_value)`)
      ).json();
      expect(back.statecode).toBe(2);
      expect(back.Opportunity_OpportunityClose).toEqual([
        expect.objectContaining({ _competitorid_value: competitorId }),
      ]);
    },
  );

  // update_record qualifies leads this way; against a real organisation this says the action answers with the
  // records it made (crmbaseentity, each with its @odata.type and key) and leaves the lead Qualified, naming
  // them, the way the emulator does; which lead columns the new records copy is the organisation's mappings
  it.skipIf(skip)(
    'QUALIFY: QualifyLead answers 200 with the account, contact and opportunity it made; the lead names them; a qualified lead is refused',
    async () => {
      const made = await t.api('POST', 'leads', {
        body: {
          subject: 'Qualify contract',
          firstname: 'Quinn',
          lastname: 'Contract',
          companyname: 'Qualify Contract Ltd',
        },
      });
      const lead = track(made.headers['odata-entityid']!);
      const qualify = () =>
        t.api('POST', `${lead.replace(/^.*\/api\/data\/v9\.2\//, '')}/Microsoft.Dynamics.CRM.QualifyLead`, {
          body: { CreateAccount: true, CreateContact: true, CreateOpportunity: true, Status: 3 },
        });
      const r = await qualify();
      expect(r.status).toBe(200);
      const value = r.json().value as Record<string, string>[];
      const idOf = (type: string) =>
        value.find((v) => v['@odata.type'] === `#Microsoft.Dynamics.CRM.${type}`)?.[`${type}id`];
      const [account, contact, opportunity] = ['account', 'contact', 'opportunity'].map(idOf);
      for (const [set, id] of [
        ['opportunities', opportunity],
        ['contacts', contact],
        ['accounts', account],
      ])
        if (id) track(`${set}(${id})`);
      expect([account, contact, opportunity].every((id) => /^[0-9a-f-]{36}$/.test(String(id)))).toBe(true);
      const back = (
        await t.api(
          'GET',
          `${lead}?$select=statecode,statuscode,_parentaccountid_value,_parentcontactid_value,_qualifyingopportunityid_value`,
        )
      ).json();
      expect(back).toMatchObject({
        statecode: 1,
        statuscode: 3,
        _parentaccountid_value: account,
        _parentcontactid_value: contact,
        _qualifyingopportunityid_value: opportunity,
      });
      const opp = (await t.api('GET', `opportunities(${opportunity})?$select=name,_originatingleadid_value`)).json();
      expect(opp._originatingleadid_value).toBe(/\(([0-9a-f-]{36})\)$/.exec(lead)![1]);
      expect((await qualify()).status).toBe(400);
    },
  );

  it.skipIf(skip)(
    'QUALIFY: with OpportunityCustomerId (an entity reference) and no account made, the opportunity is for that account',
    async () => {
      const acc = (await t.api('GET', 'accounts?$select=name&$top=1')).json().value[0];
      const lead = track(
        (
          await t.api('POST', 'leads', {
            body: { subject: 'Qualify for an account', lastname: 'Existing', companyname: acc.name },
          })
        ).headers['odata-entityid']!,
      );
      const r = await t.api(
        'POST',
        `${lead.replace(/^.*\/api\/data\/v9\.2\//, '')}/Microsoft.Dynamics.CRM.QualifyLead`,
        {
          body: {
            CreateAccount: false,
            CreateContact: false,
            CreateOpportunity: true,
            Status: 3,
            OpportunityCustomerId: { '@odata.type': 'Microsoft.Dynamics.CRM.account', accountid: acc.accountid },
          },
        },
      );
      expect(r.status).toBe(200);
      const value = r.json().value as Record<string, string>[];
      expect(value.map((v) => v['@odata.type'])).toEqual(['#Microsoft.Dynamics.CRM.opportunity']);
      const opportunity = value[0]!.opportunityid!;
      track(`opportunities(${opportunity})`);
      const opp = (await t.api('GET', `opportunities(${opportunity})?$select=_customerid_value`)).json();
      expect(opp._customerid_value).toBe(acc.accountid);
    },
  );

  it.skipIf(skip)(
    'CURRENCY: a money column gets <name>_base = value / exchangerate of the record currency, recomputed on update (Transaction Currency table docs)',
    async () => {
      const cur = (
        await t.api(
          'GET',
          'transactioncurrencies?$select=transactioncurrencyid,exchangerate&$filter=exchangerate ne 1&$top=1',
        )
      ).json().value[0];
      if (!cur) return; // a single-currency organisation has nothing to show here
      const r = await t.api('POST', 'opportunities', {
        body: {
          name: 'Base currency',
          estimatedvalue: 920,
          'transactioncurrencyid@odata.bind': `/transactioncurrencies(${cur.transactioncurrencyid})`,
        },
      });
      expect(r.status).toBe(204);
      const id = track(r.headers['odata-entityid']!);
      const read = async () =>
        (await t.api('GET', `${id}?$select=estimatedvalue,estimatedvalue_base,exchangerate`)).json();
      const back = await read();
      expect(back.exchangerate).toBeCloseTo(cur.exchangerate, 6);
      expect(back.estimatedvalue_base).toBeCloseTo(920 / cur.exchangerate, 2);
      expect((await t.api('PATCH', id, { body: { estimatedvalue: 1840 } })).status).toBe(204);
      expect((await read()).estimatedvalue_base).toBeCloseTo(1840 / cur.exchangerate, 2);
    },
  );

  it.skipIf(skip)('CREATE: return=representation gives 201 with the record and no OData-EntityId', async () => {
    const r = await t.api('POST', 'accounts?$select=name,creditonhold', {
      headers: { prefer: 'return=representation' },
      body: { name: 'Represented', creditonhold: true },
    });
    expect(r.status).toBe(201);
    expect(r.headers['odata-entityid']).toBeUndefined();
    expect(r.headers['preference-applied']).toBe('return=representation');
    const body = r.json();
    track(`accounts(${body.accountid})`);
    expect(body['@odata.context']).toBe(`${t.dynamicsUrl}/api/data/v9.2/$metadata#accounts/$entity`);
    expect(body).toMatchObject({ name: 'Represented', creditonhold: true });
  });

  it.skipIf(skip)(
    'CREATE: ids the platform assigns are sequential: each record sorts after the one created before it (crminthefield, "The dangers of Guid.NewGuid()")',
    async () => {
      const ids: string[] = [];
      for (const name of ['Sequential 1', 'Sequential 2', 'Sequential 3']) {
        const r = await t.api('POST', 'accounts', { body: { name } });
        expect(r.status).toBe(204);
        ids.push(/\(([0-9a-f-]{36})\)$/.exec(track(r.headers['odata-entityid']!))![1]!);
      }
      const filter = ids.map((id) => `accountid eq ${id}`).join(' or ');
      const sorted = (await t.api('GET', `accounts?$select=accountid&$filter=${filter}&$orderby=accountid asc`)).json();
      expect(sorted.value.map((x: { accountid: string }) => x.accountid)).toEqual(ids);
    },
  );

  it.skipIf(skip)('CREATE: a client-supplied primary key is kept, and a second create with it is refused', async () => {
    const id = randomUUID();
    const r = await t.api('POST', 'leads', {
      body: { leadid: id, lastname: 'Keyed', emailaddress1: 'keyed@example.com' },
    });
    expect(r.status).toBe(204);
    track(r.headers['odata-entityid']!);
    expect(r.headers['odata-entityid']).toContain(`leads(${id})`);
    const again = await t.api('POST', 'leads', { body: { leadid: id, lastname: 'Keyed' } });
    expect(again.status).toBe(412);
    expect(again.json().error.code).toBe('0x80040237');
  });

  // create_record makes tasks this way; run against a real organisation, this says the emulator's Task table,
  // its regardingobjectid_<table>_task navigation properties (BATCH) and Account_Tasks (ASSOC) answer as Dataverse's
  it.skipIf(skip)(
    'TASK: a task bound with regardingobjectid_account_task@odata.bind is read back by its regarding record and through Account_Tasks',
    async () => {
      const account = track(
        (await t.api('POST', 'accounts', { body: { name: 'Task contract' } })).headers['odata-entityid']!,
      );
      const accountId = /\(([0-9a-f-]{36})\)$/.exec(account)![1]!;
      const task = await t.api(
        'POST',
        'tasks?$select=subject,scheduledend,_regardingobjectid_value,statecode,statuscode',
        {
          headers: { prefer: 'return=representation' },
          body: {
            subject: 'Task 1',
            scheduledend: '2027-01-15T09:00:00Z',
            'regardingobjectid_account_task@odata.bind': `/accounts(${accountId})`,
          },
        },
      );
      expect(task.status).toBe(201);
      const made = task.json();
      track(`tasks(${made.activityid})`);
      // Open, Not Started
      expect(made).toMatchObject({
        subject: 'Task 1',
        scheduledend: '2027-01-15T09:00:00Z',
        _regardingobjectid_value: accountId,
        statecode: 0,
        statuscode: 2,
      });
      const withTasks = (
        await t.api('GET', `accounts(${accountId})?$select=name&$expand=Account_Tasks($select=subject)`)
      ).json();
      expect(withTasks.Account_Tasks.map((x: { subject: string }) => x.subject)).toEqual(['Task 1']);
      const open = (
        await t.api(
          'GET',
          `accounts?$select=name&$filter=accountid eq ${accountId} and Account_Tasks/any(x:x/statecode eq 0)`,
        )
      ).json().value;
      expect(open).toHaveLength(1);
      // completed, a task is read-only until reopened
      const done = await t.api('PATCH', `tasks(${made.activityid})`, {
        headers: { 'If-Match': '*' },
        body: { statecode: 1, statuscode: 5 },
      });
      expect(done.status).toBe(204);
      const edit = await t.api('PATCH', `tasks(${made.activityid})`, {
        headers: { 'If-Match': '*' },
        body: { subject: 'x' },
      });
      expect(edit.status).toBe(400);
    },
  );

  // create_record logs calls this way ("PhoneCall entity reference"): Direction defaults to Outgoing, StateCode is
  // not valid for create (a call is logged Open, then completed as Made or Received), completed is read-only
  it.skipIf(skip)(
    'PHONECALL: a call regarding an account is Open and Outgoing when made, completed as Made, then read-only',
    async () => {
      const account = track(
        (await t.api('POST', 'accounts', { body: { name: 'Phone call contract' } })).headers['odata-entityid']!,
      );
      const accountId = /\(([0-9a-f-]{36})\)$/.exec(account)![1]!;
      const call = await t.api(
        'POST',
        'phonecalls?$select=subject,directioncode,actualdurationminutes,_regardingobjectid_value,statecode,statuscode',
        {
          headers: { prefer: 'return=representation' },
          body: {
            subject: 'Pricing questions',
            actualdurationminutes: 15,
            'regardingobjectid_account_phonecall@odata.bind': `/accounts(${accountId})`,
          },
        },
      );
      expect(call.status).toBe(201);
      const made = call.json();
      track(`phonecalls(${made.activityid})`);
      expect(made).toMatchObject({
        subject: 'Pricing questions',
        directioncode: true,
        actualdurationminutes: 15,
        _regardingobjectid_value: accountId,
        statecode: 0,
        statuscode: 1,
      });
      const calls = (
        await t.api('GET', `accounts(${accountId})?$select=name&$expand=Account_Phonecalls($select=subject)`)
      ).json();
      expect(calls.Account_Phonecalls.map((x: { subject: string }) => x.subject)).toEqual(['Pricing questions']);
      const done = await t.api('PATCH', `phonecalls(${made.activityid})`, {
        headers: { 'If-Match': '*' },
        body: { statecode: 1, statuscode: 2 },
      });
      expect(done.status).toBe(204);
      // Actual End: "by default, it displays the date and time when the activity was completed"
      const after = (await t.api('GET', `phonecalls(${made.activityid})?$select=actualend,statuscode`)).json();
      expect(after.statuscode).toBe(2);
      expect(Date.now() - Date.parse(after.actualend)).toBeLessThan(10 * 60_000);
      const edit = await t.api('PATCH', `phonecalls(${made.activityid})`, {
        headers: { 'If-Match': '*' },
        body: { subject: 'x' },
      });
      expect(edit.status).toBe(400);
    },
  );

  // create_record fills Call From / Call To this way: a call's party lists are not properties of the Web API's
  // phone call but its phonecall_activity_parties, made with it (deep insert), each a partyid_<table>@odata.bind
  // and a ParticipationTypeMask (1 Sender, 2 To Recipient: ActivityParty table reference); the parties table is
  // only read; the metadata lists from and to as PartyList attributes
  it.skipIf(skip)(
    'ACTIVITYPARTY: a call made with its From and To (deep insert, also by upsert), read back by expanding its parties',
    async () => {
      const contact = track(
        (await t.api('POST', 'contacts', { body: { firstname: 'Party', lastname: 'Contract' } })).headers[
          'odata-entityid'
        ]!,
      );
      const contactId = /\(([0-9a-f-]{36})\)$/.exec(contact)![1]!;
      const me = (await t.api('GET', 'WhoAmI')).json().UserId as string;
      const parties = [
        { 'partyid_systemuser@odata.bind': `/systemusers(${me})`, participationtypemask: 1 },
        { 'partyid_contact@odata.bind': `/contacts(${contactId})`, participationtypemask: 2 },
      ];
      const posted = await t.api('POST', 'phonecalls', {
        body: { subject: 'Parties by POST', phonecall_activity_parties: parties },
      });
      expect(posted.status).toBe(204);
      const byPost = /\(([0-9a-f-]{36})\)$/.exec(track(posted.headers['odata-entityid']!))![1]!;
      const byUpsert = randomUUID();
      const upserted = await t.api('PATCH', `phonecalls(${byUpsert})`, {
        headers: { 'If-None-Match': '*' },
        body: { subject: 'Parties by upsert', phonecall_activity_parties: parties },
      });
      expect(upserted.status).toBe(204);
      track(`phonecalls(${byUpsert})`);
      for (const id of [byPost, byUpsert]) {
        const call = (
          await t.api(
            'GET',
            `phonecalls(${id})?$select=subject&$expand=phonecall_activity_parties($select=_partyid_value,participationtypemask)`,
            { headers: { prefer: 'odata.include-annotations="*"' } },
          )
        ).json();
        const got = (call.phonecall_activity_parties as Record<string, unknown>[])
          .map((p) => ({
            party: p._partyid_value,
            table: p['_partyid_value@Microsoft.Dynamics.CRM.lookuplogicalname'],
            name: p['_partyid_value@OData.Community.Display.V1.FormattedValue'],
            mask: p.participationtypemask,
            as: p['participationtypemask@OData.Community.Display.V1.FormattedValue'],
          }))
          .sort((a, b) => Number(a.mask) - Number(b.mask));
        expect(got).toMatchObject([
          { party: me, table: 'systemuser', mask: 1, as: 'Sender' },
          { party: contactId, table: 'contact', name: 'Party Contract', mask: 2, as: 'To Recipient' },
        ]);
      }
      // the contact lists the calls it is a party to
      const onContact = (
        await t.api(
          'GET',
          `phonecalls?$select=subject&$filter=phonecall_activity_parties/any(p:p/_partyid_value eq ${contactId})&$orderby=subject`,
        )
      ).json().value;
      expect(onContact.map((c: { subject: string }) => c.subject)).toEqual(['Parties by POST', 'Parties by upsert']);
      // a party that does not exist: nothing is made, neither the call nor its other party
      const missing = randomUUID();
      const bad = await t.api('PATCH', `phonecalls(${missing})`, {
        headers: { 'If-None-Match': '*' },
        body: {
          subject: 'Parties missing',
          phonecall_activity_parties: [
            parties[0],
            { 'partyid_contact@odata.bind': `/contacts(${randomUUID()})`, participationtypemask: 2 },
          ],
        },
      });
      expect(bad.status).toBe(404);
      expect((await t.api('GET', `phonecalls(${missing})?$select=subject`)).status).toBe(404);
      // parties are only read as a table of their own
      const direct = await t.api('POST', 'activityparties', {
        body: { 'partyid_contact@odata.bind': `/contacts(${contactId})`, participationtypemask: 2 },
      });
      expect(direct.status).toBe(400);
      expect(direct.json().error.message).toContain("does not support entities of type 'activityparty'");
      const lists = (
        await t.api(
          'GET',
          "EntityDefinitions(LogicalName='phonecall')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=LogicalName,AttributeType,Targets",
        )
      ).json().value as { LogicalName: string; AttributeType: string; Targets: string[] }[];
      const partyLists = lists.filter((a) => a.AttributeType === 'PartyList');
      expect(partyLists.map((a) => a.LogicalName).sort()).toEqual(['from', 'to']);
      expect(partyLists[0]!.Targets).toEqual(expect.arrayContaining(['account', 'contact', 'lead', 'systemuser']));
      // and are no property of the call
      expect((await t.api('GET', `phonecalls(${byPost})?$select=to`)).status).toBe(400);
      // they go with their call
      const partiesOf = async (id: string) =>
        (await t.api('GET', `activityparties?$select=participationtypemask&$filter=_activityid_value eq ${id}`)).json()
          .value;
      expect(await partiesOf(byPost)).toHaveLength(2);
      expect((await t.api('DELETE', `phonecalls(${byPost})`)).status).toBe(204);
      expect(await partiesOf(byPost)).toEqual([]);
    },
  );

  // a record's activities in one query: Dataverse makes an ActivityPointer row, with the same ActivityId, whenever
  // an activity is made ("ActivityPointer (activity) entity"); ActivityTypeCode is its table, the account's
  // relationship Account_ActivityPointers (regardingobjectid_account), and the table takes GET only
  it.skipIf(skip)(
    'ACTIVITYPOINTER: a task and a call on an account are two activities of it, with their tables; gone with them',
    async () => {
      const account = track(
        (await t.api('POST', 'accounts', { body: { name: 'Pointer contract' } })).headers['odata-entityid']!,
      );
      const accountId = /\(([0-9a-f-]{36})\)$/.exec(account)![1]!;
      const made: Record<string, string> = {};
      for (const [set, subject] of [
        ['tasks', 'Pointer task'],
        ['phonecalls', 'Pointer call'],
      ] as const) {
        const bind = set === 'tasks' ? 'regardingobjectid_account_task' : 'regardingobjectid_account_phonecall';
        const r = await t.api('POST', set, {
          body: { subject, [`${bind}@odata.bind`]: `/accounts(${accountId})` },
        });
        expect(r.status).toBe(204);
        made[set] = /\(([0-9a-f-]{36})\)$/.exec(track(r.headers['odata-entityid']!))![1]!;
      }
      const pointers = (
        await t.api(
          'GET',
          `activitypointers?$select=subject,activitytypecode,_regardingobjectid_value&$filter=_regardingobjectid_value eq ${accountId}&$orderby=subject`,
        )
      ).json().value as Record<string, unknown>[];
      expect(pointers.map((p) => [p.activityid, p.activitytypecode, p.subject, p._regardingobjectid_value])).toEqual([
        [made.phonecalls, 'phonecall', 'Pointer call', accountId],
        [made.tasks, 'task', 'Pointer task', accountId],
      ]);
      // through the account's relationship, and by type
      const through = (
        await t.api('GET', `accounts(${accountId})?$select=name&$expand=Account_ActivityPointers($select=subject)`)
      ).json().Account_ActivityPointers as { subject: string }[];
      expect(through.map((p) => p.subject).sort()).toEqual(['Pointer call', 'Pointer task']);
      // the kinds the server may show, as it asks for them in a related list: In() inside $expand's $filter
      const kinds = (
        await t.api(
          'GET',
          `accounts(${accountId})?$select=name&$expand=Account_ActivityPointers($select=subject;$filter=Microsoft.Dynamics.CRM.In(PropertyName='activitytypecode',PropertyValues=['task','email']))`,
        )
      ).json().Account_ActivityPointers as { subject: string }[];
      expect(kinds.map((p) => p.subject)).toEqual(['Pointer task']);
      const calls = (
        await t.api(
          'GET',
          `activitypointers?$select=subject&$filter=_regardingobjectid_value eq ${accountId} and activitytypecode eq 'phonecall'`,
        )
      ).json().value as { subject: string }[];
      expect(calls.map((c) => c.subject)).toEqual(['Pointer call']);
      // a change to the task is the pointer's too; deleted, it is gone from both
      expect(
        (await t.api('PATCH', `tasks(${made.tasks})`, { body: { subject: 'Pointer task, renamed' } })).status,
      ).toBe(204);
      expect((await t.api('GET', `activitypointers(${made.tasks})?$select=subject`)).json().subject).toBe(
        'Pointer task, renamed',
      );
      expect((await t.api('DELETE', `tasks(${made.tasks})`)).status).toBe(204);
      expect((await t.api('GET', `activitypointers(${made.tasks})?$select=subject`)).status).toBe(404);
      // the table itself is only read
      // (the table reference lists GET alone; which refusal a POST gets is not documented: 400 here, as for
      // activityparties, or 405)
      expect([400, 405]).toContain((await t.api('POST', 'activitypointers', { body: { subject: 'Direct' } })).status);
      const type = (
        await t.api(
          'GET',
          "EntityDefinitions(LogicalName='activitypointer')/Attributes(LogicalName='activitytypecode')?$select=AttributeType",
        )
      ).json();
      expect(type.AttributeType).toBe('EntityName');
    },
  );

  // the tools read emails filed against records ("Email table/entity reference"): a new one is a Draft, Outgoing
  // by default, and an account's are Account_Emails (§ the reference's own example, Account_Emails/any(...))
  it.skipIf(skip)(
    'EMAIL: an email regarding an account is an Outgoing Draft, found through Account_Emails and by its subject',
    async () => {
      const account = track(
        (await t.api('POST', 'accounts', { body: { name: 'Email contract' } })).headers['odata-entityid']!,
      );
      const accountId = /\(([0-9a-f-]{36})\)$/.exec(account)![1]!;
      const mail = await t.api(
        'POST',
        'emails?$select=subject,directioncode,_regardingobjectid_value,statecode,statuscode',
        {
          headers: { prefer: 'return=representation' },
          body: {
            subject: 'Contract draft',
            description: '<p>Two comments on the liability clause.</p>',
            'regardingobjectid_account_email@odata.bind': `/accounts(${accountId})`,
          },
        },
      );
      expect(mail.status).toBe(201);
      const made = mail.json();
      track(`emails(${made.activityid})`);
      expect(made).toMatchObject({
        subject: 'Contract draft',
        directioncode: true,
        _regardingobjectid_value: accountId,
        statecode: 0,
        statuscode: 1,
      });
      const withMail = (
        await t.api(
          'GET',
          `accounts?$select=name&$filter=accountid eq ${accountId} and Account_Emails/any(e:contains(e/subject,'draft'))&$expand=Account_Emails($select=subject)`,
        )
      ).json().value;
      expect(withMail).toHaveLength(1);
      expect(withMail[0].Account_Emails.map((e: { subject: string }) => e.subject)).toEqual(['Contract draft']);
    },
  );

  // meetings are read from the calendar ("Appointment table/entity reference"): a new one is Open (Free), and a
  // deal's are Opportunity_Appointments
  it.skipIf(skip)(
    'APPOINTMENT: a meeting regarding an account is Open and Free when made, found through Account_Appointments by its start',
    async () => {
      const account = track(
        (await t.api('POST', 'accounts', { body: { name: 'Appointment contract' } })).headers['odata-entityid']!,
      );
      const accountId = /\(([0-9a-f-]{36})\)$/.exec(account)![1]!;
      const meeting = await t.api(
        'POST',
        'appointments?$select=subject,location,scheduledstart,scheduledend,isalldayevent,statecode,statuscode',
        {
          headers: { prefer: 'return=representation' },
          body: {
            subject: 'Commercial review',
            location: 'Teams meeting',
            scheduledstart: '2031-03-04T10:00:00Z',
            scheduledend: '2031-03-04T11:00:00Z',
            'regardingobjectid_account_appointment@odata.bind': `/accounts(${accountId})`,
          },
        },
      );
      expect(meeting.status).toBe(201);
      const made = meeting.json();
      track(`appointments(${made.activityid})`);
      expect(made).toMatchObject({
        subject: 'Commercial review',
        location: 'Teams meeting',
        scheduledstart: '2031-03-04T10:00:00Z',
        isalldayevent: false,
        statecode: 0,
        statuscode: 1,
      });
      const found = (
        await t.api(
          'GET',
          `accounts?$select=name&$filter=accountid eq ${accountId} and Account_Appointments/any(a:a/scheduledstart ge 2031-03-01T00:00:00Z)&$expand=Account_Appointments($select=subject)`,
        )
      ).json().value;
      expect(found[0].Account_Appointments.map((a: { subject: string }) => a.subject)).toEqual(['Commercial review']);
    },
  );

  // the create-associate-odata-bind-201 sample: a new account bound to an existing contact and, through a
  // collection-valued navigation property, to two existing tasks, returned with both expanded
  it.skipIf(skip)(
    'CREATE: Account_Tasks@odata.bind associates existing tasks with a new account (create-associate-odata-bind-201)',
    async () => {
      const contact = (await t.api('GET', 'contacts?$select=fullname&$top=1')).json().value[0];
      const taskIds: string[] = [];
      for (const subject of ['Task 1', 'Task 2']) {
        const r = await t.api('POST', 'tasks', { body: { subject } });
        taskIds.push(/\(([0-9a-f-]{36})\)$/.exec(track(r.headers['odata-entityid']!))![1]!);
      }
      const r = await t.api(
        'POST',
        'accounts?$select=name&$expand=primarycontactid($select=fullname),Account_Tasks($select=subject)',
        {
          headers: { prefer: 'return=representation' },
          body: {
            name: 'Sample Account',
            'primarycontactid@odata.bind': `/contacts(${contact.contactid})`,
            'Account_Tasks@odata.bind': taskIds.map((id) => `/tasks(${id})`),
          },
        },
      );
      expect(r.status).toBe(201);
      const account = r.json();
      track(`accounts(${account.accountid})`);
      expect(account.primarycontactid.fullname).toBe(contact.fullname);
      expect(account.Account_Tasks.map((x: { subject: string }) => x.subject).sort()).toEqual(['Task 1', 'Task 2']);
      const task = (await t.api('GET', `tasks(${taskIds[0]})?$select=_regardingobjectid_value`)).json();
      expect(task._regardingobjectid_value).toBe(account.accountid);
    },
  );

  // create_lead, create_record and the others create this way; the samples are duplicate-detection-update-500
  // and the create example of the same page (a lead with the same emailaddress1, a default rule)
  it.skipIf(skip)(
    'DUP: MSCRM.SuppressDuplicateDetection: false refuses a lead with a known email (500, 0x80040333); without it the lead is made',
    async () => {
      const email = `dup-${randomUUID().slice(0, 8)}@example.com`;
      const detect = { 'MSCRM.SuppressDuplicateDetection': 'false' };
      const first = await t.api('POST', 'leads', {
        headers: detect,
        body: { firstname: 'Monte', lastname: 'Orton', emailaddress1: email },
      });
      expect(first.status).toBe(204);
      const firstId = track(first.headers['odata-entityid']!);
      const refused = await t.api('POST', 'leads', {
        headers: detect,
        body: { firstname: 'Monte', lastname: 'Orton', emailaddress1: email.toUpperCase() },
      });
      expect(refused.status).toBe(500);
      expect(refused.json().error).toEqual({
        code: '0x80040333',
        message: 'A record was not created or updated because a duplicate of the current record already exists.',
      });
      // the create half of an upsert (how the client creates) is a create too
      const upsert = await t.api('PATCH', `leads(${randomUUID()})`, {
        headers: { ...detect, 'If-None-Match': '*' },
        body: { lastname: 'Orton', emailaddress1: email },
      });
      expect(upsert.status).toBe(500);
      // an update that would make another lead the same is refused as well (the documented sample)
      const other = await t.api('POST', 'leads', {
        headers: detect,
        body: { lastname: 'Other', emailaddress1: `x${email}` },
      });
      const otherId = track(other.headers['odata-entityid']!);
      const update = await t.api('PATCH', otherId, {
        headers: { ...detect, 'If-Match': '*' },
        body: { emailaddress1: email },
      });
      expect(update.status).toBe(500);
      expect(update.json().error.code).toBe('0x80040333');
      // the Web API's default: no detection
      const anyway = await t.api('POST', 'leads', { body: { lastname: 'Orton', emailaddress1: email } });
      expect(anyway.status).toBe(204);
      const anywayId = track(anyway.headers['odata-entityid']!);
      const leads = (await t.api('GET', `leads?$select=leadid&$filter=emailaddress1 eq '${email}'`)).json().value;
      // the first and the last: nothing refused was made
      expect(leads.map((l: { leadid: string }) => l.leadid).sort()).toEqual(
        [firstId, anywayId].map((u) => /\(([0-9a-f-]{36})\)$/.exec(u)![1]).sort(),
      );
    },
  );

  it.skipIf(skip)(
    'ATTRMETA §6.3: only SystemRequired is enforced (a lead without subject is fine, a case without customer is not)',
    async () => {
      const lead = await t.api('POST', 'leads', { body: { firstname: 'first name', lastname: 'last name' } });
      expect(lead.status).toBe(204);
      track(lead.headers['odata-entityid']!);
      const caseNoCustomer = await t.api('POST', 'incidents', { body: { title: 'No customer' } });
      expect(caseNoCustomer.status).toBe(400);
      expect(caseNoCustomer.json().error.message).toContain("'customerid'");
    },
  );

  it.skipIf(skip)(
    'CREATE: @odata.bind associates on create; a misnamed navigation property is a payload error',
    async () => {
      const account = (await t.api('GET', 'accounts?$select=name&$top=1')).json().value[0];
      const r = await t.api('POST', 'incidents?$select=title,ticketnumber,_customerid_value', {
        headers: { prefer: 'return=representation' },
        body: {
          title: 'Printer on fire',
          'customerid_account@odata.bind': `/accounts(${account.accountid})`,
          prioritycode: 1,
        },
      });
      expect(r.status).toBe(201);
      const c = r.json();
      track(`incidents(${c.incidentid})`);
      expect(c._customerid_value).toBe(account.accountid);
      // ENT-INCIDENT: ticketnumber is auto-numbered
      expect(c.ticketnumber).toMatch(/^CAS-\d{5}-[0-9A-Z]{6}$/);
      const bad = await t.api('POST', 'incidents', {
        body: { title: 'x', 'customerid@odata.bind': `/accounts(${account.accountid})` },
      });
      expect(bad.status).toBe(400);
      expect(bad.json().error.message).toContain(
        "An undeclared property 'customerid' which only has property annotations",
      );
    },
  );

  it.skipIf(skip)('CREATE: unknown columns and over-long text are refused with the documented codes', async () => {
    const unknown = await t.api('POST', 'accounts', { body: { name: 'x', nosuchcolumn: 1 } });
    expect(unknown.status).toBe(400);
    expect(unknown.json().error.code).toBe('0x80048d19');
    const long = await t.api('POST', 'accounts', { body: { name: 'x'.repeat(161) } });
    expect(long.status).toBe(400);
    expect(long.json().error).toEqual({
      code: '0x80044331',
      message:
        "A validation error occurred.  The length of the 'name' attribute of the 'account' entity exceeded the maximum allowed length of '160'.",
    });
  });

  it.skipIf(skip)('UPDATE: PATCH gives 204; return=representation gives 200; the etag changes', async () => {
    const r = await t.api('POST', 'contacts', { body: { firstname: 'Ana', lastname: 'Update' } });
    const url = track(r.headers['odata-entityid']!);
    const before = (await t.api('GET', `${url}?$select=fullname`)).json();
    expect(before.fullname).toBe('Ana Update');
    const p = await t.api('PATCH', url, { body: { lastname: 'Patched' } });
    expect(p.status).toBe(204);
    const rep = await t.api('PATCH', `${url}?$select=fullname,jobtitle`, {
      headers: { prefer: 'return=representation' },
      body: { jobtitle: 'CTO' },
    });
    expect(rep.status).toBe(200);
    expect(rep.json()).toMatchObject({ fullname: 'Ana Patched', jobtitle: 'CTO' });
    expect(rep.json()['@odata.etag']).not.toBe(before['@odata.etag']);
  });

  it.skipIf(skip)(
    'COND: If-Match: * prevents create (404); If-None-Match: * prevents update (412); an old etag is a 412',
    async () => {
      const missing = await t.api('PATCH', 'accounts(00000000-0000-0000-0000-000000000001)', {
        headers: { 'if-match': '*' },
        body: { name: 'x' },
      });
      expect(missing.status).toBe(404);
      expect(missing.json().error.message).toBe(
        'account With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist',
      );
      const r = await t.api('POST', 'accounts', { body: { name: 'Conditional' } });
      const url = track(r.headers['odata-entityid']!);
      const exists = await t.api('PATCH', url, { headers: { 'if-none-match': '*' }, body: { name: 'y' } });
      expect(exists.status).toBe(412);
      expect(exists.json().error.message).toBe('A record with matching key values already exists.');
      const etag = (await t.api('GET', url)).json()['@odata.etag'];
      await t.api('PATCH', url, { body: { name: 'Changed' } });
      const stale = await t.api('PATCH', url, { headers: { 'if-match': etag }, body: { name: 'Lost update' } });
      expect(stale.status).toBe(412);
      expect(stale.json().error.message).toBe(
        "The version of the existing record doesn't match the RowVersion property provided.",
      );
      const staleDelete = await t.api('DELETE', url, { headers: { 'if-match': etag } });
      expect(staleDelete.status).toBe(412);
    },
  );

  it.skipIf(skip)(
    'COND: a conditional GET with the current etag is 304, unless annotations are asked for',
    async () => {
      const first = (await t.api('GET', 'accounts?$select=name&$top=1')).json().value[0];
      const r = await t.api('GET', `accounts(${first.accountid})?$select=name`, {
        headers: { 'if-none-match': first['@odata.etag'] },
      });
      expect(r.status).toBe(304);
      const ann = await t.api('GET', `accounts(${first.accountid})?$select=name`, {
        headers: { 'if-none-match': first['@odata.etag'], prefer: 'odata.include-annotations="*"' },
      });
      expect(ann.status).toBe(200);
    },
  );

  it.skipIf(skip)(
    'UPDATE: PATCH to a missing id without conditions is an upsert that creates with that key',
    async () => {
      const id = randomUUID();
      const r = await t.api('PATCH', `leads(${id})`, { body: { lastname: 'Upserted' } });
      expect(r.status).toBe(204);
      track(`leads(${id})`);
      expect((await t.api('GET', `leads(${id})?$select=lastname`)).json().lastname).toBe('Upserted');
      const again = await t.api('PATCH', `leads(${id})`, { body: { lastname: 'Upserted twice' } });
      expect(again.status).toBe(204);
      const rows = (await t.api('GET', `leads?$select=leadid&$filter=leadid eq ${id}`)).json().value;
      expect(rows).toHaveLength(1);
    },
  );

  it.skipIf(skip)(
    'UPDATE: statecode alone moves statuscode to the state default; a status of another state is refused',
    async () => {
      // an account (a deal is won or lost only by its actions: below)
      const r = await t.api('POST', 'accounts', { body: { name: 'State test' } });
      const url = track(r.headers['odata-entityid']!);
      expect((await t.api('PATCH', url, { body: { statecode: 1 } })).status).toBe(204);
      expect((await t.api('GET', `${url}?$select=statecode,statuscode`)).json()).toMatchObject({
        statecode: 1,
        statuscode: 2,
      });
      const bad = await t.api('PATCH', url, { body: { statecode: 0, statuscode: 2 } });
      expect(bad.status).toBe(400);
    },
  );

  it.skipIf(skip)(
    'STATE: a deal is won or lost, a case resolved, only by its action; closed, it is read-only until reopened; a lead goes between Qualified and Disqualified through Open',
    async () => {
      const state = async (url: string) => (await t.api('GET', `${url}?$select=statecode,name`)).json();
      const deal = track(
        (await t.api('POST', 'opportunities', { body: { name: 'State rules', estimatedvalue: 1000 } })).headers[
          'odata-entityid'
        ]!,
      );
      const dealId = /\(([0-9a-f-]{36})\)$/.exec(deal)![1]!;
      // Won by an update: refused, and the deal stays open
      expect((await t.api('PATCH', deal, { body: { statecode: 1 } })).status).toBe(400);
      expect((await t.api('PATCH', deal, { body: { statecode: 2, statuscode: 4 } })).status).toBe(400);
      expect(await state(deal)).toMatchObject({ statecode: 0 });
      const won = await t.api('POST', 'WinOpportunity', {
        body: {
          OpportunityClose: { subject: 'Won', 'opportunityid@odata.bind': `/opportunities(${dealId})` },
          Status: 3,
        },
      });
      expect(won.status).toBe(204);
      // won, it is read-only; reopened by an update, it can be edited again
      expect((await t.api('PATCH', deal, { body: { name: 'Edited while won' } })).status).toBe(400);
      expect(await state(deal)).toMatchObject({ statecode: 1, name: 'State rules' });
      expect((await t.api('PATCH', deal, { body: { statecode: 0 } })).status).toBe(204);
      expect((await t.api('PATCH', deal, { body: { name: 'Edited when open' } })).status).toBe(204);
      expect(await state(deal)).toMatchObject({ statecode: 0, name: 'Edited when open' });

      // a case is resolved only by CloseIncident
      const acc = (await t.api('GET', 'accounts?$select=name&$top=1')).json().value[0];
      const kase = track(
        (
          await t.api('POST', 'incidents', {
            body: { title: 'State rules', 'customerid_account@odata.bind': `accounts(${acc.accountid})` },
          })
        ).headers['odata-entityid']!,
      );
      expect((await t.api('PATCH', kase, { body: { statecode: 1 } })).status).toBe(400);
      expect((await t.api('GET', `${kase}?$select=statecode`)).json()).toMatchObject({ statecode: 0 });

      // a lead is qualified or disqualified by an update, and goes from one to the other through Open
      const lead = track(
        (await t.api('POST', 'leads', { body: { lastname: 'State rules' } })).headers['odata-entityid']!,
      );
      expect((await t.api('PATCH', lead, { body: { statecode: 1 } })).status).toBe(204);
      expect((await t.api('PATCH', lead, { body: { statecode: 2 } })).status).toBe(400);
      expect((await t.api('PATCH', lead, { body: { statecode: 0 } })).status).toBe(204);
      expect((await t.api('PATCH', lead, { body: { statecode: 2 } })).status).toBe(204);
    },
  );

  it.skipIf(skip)('UPDATE: a column not valid for update (ticketnumber) is silently ignored', async () => {
    const acc = (await t.api('GET', 'accounts?$select=name&$top=1')).json().value[0];
    const r = await t.api('POST', 'incidents?$select=ticketnumber', {
      headers: { prefer: 'return=representation' },
      body: { title: 'Ignore me', 'customerid_account@odata.bind': `accounts(${acc.accountid})` },
    });
    const c = r.json();
    track(`incidents(${c.incidentid})`);
    const p = await t.api('PATCH', `incidents(${c.incidentid})`, { body: { ticketnumber: 'HACKED' } });
    expect(p.status).toBe(204);
    expect((await t.api('GET', `incidents(${c.incidentid})?$select=ticketnumber`)).json().ticketnumber).toBe(
      c.ticketnumber,
    );
  });

  it.skipIf(skip)('DELETE gives 204, then 404; single-property GET, PUT and DELETE', async () => {
    const r = await t.api('POST', 'contacts', { body: { lastname: 'Props', telephone1: '555-0105' } });
    const url = r.headers['odata-entityid']!;
    const prop = await t.api('GET', `${url}/telephone1`);
    expect(prop.json()).toEqual({
      '@odata.context': `${url.replace(/contacts\(/, '$metadata#contacts(')}/telephone1`,
      value: '555-0105',
    });
    expect((await t.api('PUT', `${url}/telephone1`, { body: { value: '555-0106' } })).status).toBe(204);
    expect((await t.api('DELETE', `${url}/telephone1`)).status).toBe(204);
    expect((await t.api('GET', `${url}/telephone1`)).json().value).toBeNull();
    expect((await t.api('DELETE', url)).status).toBe(204);
    expect((await t.api('DELETE', url)).status).toBe(404);
  });

  it.skipIf(skip)(
    'PRIVILEGES: RetrieveUserPrivilegeByPrivilegeName lists a privilege the user holds, by name and depth, and none for one it lacks (Web API function reference)',
    async () => {
      const me = (await t.api('GET', 'WhoAmI')).json().UserId as string;
      const ask = (name: string) =>
        t.api(
          'GET',
          `systemusers(${me})/Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeName(PrivilegeName=@p)?@p='${name}'`,
        );
      const r = await ask('prvReadAccount');
      expect(r.status).toBe(200);
      expect(r.json().RolePrivileges).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            PrivilegeName: 'prvReadAccount',
            Depth: expect.stringMatching(/^(Basic|Local|Deep|Global)$/),
          }),
        ]),
      );
      if (!t.emulator) return; // which privileges a real org's application user lacks is its admin's choice
      t.emulator.configure({ role: { privileges: { account: { read: true }, systemuser: { read: true } } } });
      try {
        expect((await ask('prvCreateLead')).json().RolePrivileges).toEqual([]);
        expect((await ask('prvReadUser')).json().RolePrivileges).toHaveLength(1);
      } finally {
        await t.emulator.reset();
      }
    },
  );

  // "Associate and disassociate table rows using the Web API": a 1:N list links by the other record's lookup, an
  // N:N one (an opportunity's competitors, Sales) by its intersect table; a pair linked twice is a duplicate key
  it.skipIf(skip)(
    'ASSOC: POST …/<list>/$ref links (204), a second time is refused 0x80040237, DELETE …/<list>(<id>)/$ref unlinks',
    async (ctx) => {
      const account = track(
        (await t.api('POST', 'accounts', { body: { name: 'Assoc contract' } })).headers['odata-entityid']!,
      );
      const opportunity = track(
        (
          await t.api('POST', 'opportunities', {
            body: {
              name: 'Assoc contract deal',
              'customerid_account@odata.bind': account.slice(account.indexOf('accounts(')),
            },
          })
        ).headers['odata-entityid']!,
      );
      const oppId = /\(([0-9a-f-]{36})\)$/.exec(opportunity)![1]!;
      // 1:N, the docs' own example: the opportunity becomes one of the account's
      const other = track(
        (await t.api('POST', 'accounts', { body: { name: 'Assoc contract 2' } })).headers['odata-entityid']!,
      );
      const linked = await t.api('POST', `${other}/opportunity_customer_accounts/$ref`, {
        body: { '@odata.id': opportunity },
      });
      expect(linked.status).toBe(204);
      const customer = (await t.api('GET', `${opportunity}?$select=_customerid_value`)).json()._customerid_value;
      expect(customer).toBe(/\(([0-9a-f-]{36})\)$/.exec(other)![1]);
      // N:N: only where the organisation has Sales' competitors
      const made = await t.api('POST', 'competitors', { body: { name: `Assoc rival ${randomUUID().slice(0, 8)}` } });
      if (made.status === 404) return ctx.skip();
      const competitor = track(made.headers['odata-entityid']!);
      const competitorId = /\(([0-9a-f-]{36})\)$/.exec(competitor)![1]!;
      const list = `${opportunity}/opportunitycompetitors_association`;
      expect((await t.api('POST', `${list}/$ref`, { body: { '@odata.id': competitor } })).status).toBe(204);
      const again = await t.api('POST', `${list}/$ref`, { body: { '@odata.id': competitor } });
      expect(again.status).toBeGreaterThanOrEqual(400);
      expect(again.json().error.code).toBe('0x80040237');
      const names = async () =>
        (await t.api('GET', `${opportunity}?$select=name&$expand=opportunitycompetitors_association($select=name)`))
          .json()
          .opportunitycompetitors_association.map((c: { competitorid: string }) => c.competitorid);
      expect(await names()).toEqual([competitorId]);
      // and the competitor's side lists the deal
      const back = (await t.api('GET', `${competitor}/opportunitycompetitors_association?$select=name`)).json().value;
      expect(back.map((o: { opportunityid: string }) => o.opportunityid)).toEqual([oppId]);
      expect((await t.api('DELETE', `${list}(${competitorId})/$ref`)).status).toBe(204);
      expect(await names()).toEqual([]);
      // $id names the record an unlink is of; the emulator refuses it on a read, as an option it does not take
      if (t.emulator) expect((await t.api('GET', `accounts?$select=name&$id=${competitor}`)).status).toBe(400);
    },
  );

  // "Choices columns" (Microsoft Learn), with its own example column: on a real organisation only where a
  // customiser has added contact.sample_outdooractivities with those options
  it.skipIf(skip)(
    'Choices columns: AttributeType Virtual, set as "1, 9", read as "1,9" with its labels, found by ContainValues',
    async (ctx) => {
      const attr = await t.api(
        'GET',
        "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata?$select=LogicalName,AttributeType,AttributeTypeName&$expand=OptionSet($select=Options)",
      );
      const column = (attr.json().value as any[]).find((a) => a.LogicalName === 'sample_outdooractivities');
      if (!column) return ctx.skip();
      expect(column).toMatchObject({
        AttributeType: 'Virtual',
        AttributeTypeName: { Value: 'MultiSelectPicklistType' },
      });
      expect(column.OptionSet.Options.map((o: any) => o.Label.UserLocalizedLabel.Label).slice(0, 2)).toEqual([
        'Swimming',
        'Hiking',
      ]);
      const lastname = `Yarborough ${randomUUID().slice(0, 8)}`;
      const made = await t.api('POST', 'contacts', {
        body: { firstname: 'Wayne', lastname, sample_outdooractivities: '1, 9' },
      });
      expect(made.status).toBe(204);
      const id = track(made.headers['odata-entityid']!);
      const back = await t.api('GET', `${id}?$select=sample_outdooractivities`, {
        headers: { prefer: 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"' },
      });
      expect(back.json()).toMatchObject({
        sample_outdooractivities: '1,9',
        'sample_outdooractivities@OData.Community.Display.V1.FormattedValue': 'Swimming; Camping',
      });
      // any of the values: Camping (9) or Hiking (2) finds her; Hiking alone does not
      const found = async (values: string) =>
        (
          await t.api(
            'GET',
            `contacts?$select=lastname&$filter=lastname eq '${lastname}' and Microsoft.Dynamics.CRM.ContainValues(PropertyName='sample_outdooractivities',PropertyValues=[${values}])`,
          )
        ).json().value.length;
      // the docs: these functions read a full-text index, which takes a few seconds to include a new record
      for (let i = 0; i < 15 && (await found(`'9','2'`)) === 0; i++) await new Promise((r) => setTimeout(r, 1000));
      expect(await found(`'9','2'`)).toBe(1);
      expect(await found(`'2'`)).toBe(0);
      const lacking = await t.api(
        'GET',
        `contacts?$select=lastname&$filter=lastname eq '${lastname}' and Microsoft.Dynamics.CRM.DoesNotContainValues(PropertyName='sample_outdooractivities',PropertyValues=['2'])`,
      );
      expect(lacking.json().value).toHaveLength(1);
    },
  );

  // "OpportunityProduct table/entity reference": Amount (baseamount) is the price per unit times the quantity,
  // Extended Amount the Amount less the Manual Discount; neither is valid for create, both are worked out when the
  // line is written. A write-in line at its own price needs no product or price list (skipped without Sales)
  it.skipIf(skip)(
    'PRODUCT LINE: a write-in line is summed by Dataverse: Amount = price × quantity, Extended = Amount − discount',
    async (ctx) => {
      const set = await t.api('GET', 'opportunityproducts?$select=opportunityproductid&$top=1');
      if (set.status === 404) return ctx.skip();
      const account = track(
        (await t.api('POST', 'accounts', { body: { name: 'Product line contract' } })).headers['odata-entityid']!,
      );
      const deal = track(
        (
          await t.api('POST', 'opportunities', {
            body: {
              name: 'Product line contract',
              'customerid_account@odata.bind': account.replace(/^.*\/api\/data\/v9\.2/, ''),
            },
          })
        ).headers['odata-entityid']!,
      );
      const line = await t.api('POST', 'opportunityproducts?$select=baseamount,extendedamount,priceperunit,quantity', {
        headers: { prefer: 'return=representation' },
        body: {
          'opportunityid@odata.bind': deal.replace(/^.*\/api\/data\/v9\.2/, ''),
          isproductoverridden: true,
          ispriceoverridden: true,
          productdescription: 'Travel and expenses',
          quantity: 3,
          priceperunit: 250.5,
          manualdiscountamount: 51.5,
          // not valid for create: ignored, as any such column is
          baseamount: 1,
        },
      });
      expect(line.status).toBe(201);
      expect(line.json()).toMatchObject({ priceperunit: 250.5, quantity: 3, baseamount: 751.5, extendedamount: 700 });
      const id = line.json().opportunityproductid as string;
      const changed = await t.api('PATCH', `opportunityproducts(${id})?$select=baseamount,extendedamount`, {
        headers: { prefer: 'return=representation' },
        body: { quantity: 4, manualdiscountamount: null },
      });
      expect(changed.json()).toMatchObject({ baseamount: 1002, extendedamount: 1002 });
      const listed = await t.api('GET', `${deal}/product_opportunities?$select=productdescription,extendedamount`);
      expect(listed.json().value).toEqual([
        expect.objectContaining({ productdescription: 'Travel and expenses', extendedamount: 1002 }),
      ]);
    },
  );
});
