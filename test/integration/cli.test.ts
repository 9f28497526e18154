import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printChecklist, runDoctor } from '../../src/cli/doctor.js';
import { fiscalQuarter } from '../../src/dynamics/fiscal.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { DEFAULT_POLICY } from '../../src/policy/default.js';
import { clientFor, emulatorEnv } from '../helpers/client.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, textOf } from '../helpers/mcp.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'index.js');
const run = promisify(execFile);

describe('dynamics-mcp doctor: every failure class, with its fix', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 5 });
  });
  afterAll(async () => emu.close());

  const failing = async (env: Record<string, string>) =>
    (await runDoctor({ ...emulatorEnv(emu), ...env })).filter((c) => !c.ok);

  it('passes on a healthy setup', async () => {
    const checks = await runDoctor(emulatorEnv(emu));
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'Configuration',
        'Authority',
        'Token',
        'WhoAmI',
        'Clock',
        'Read account',
        'Read incident',
        'Write lead',
        'Write incident',
      ]),
    );
    expect(checks.filter((c) => c.warning)).toEqual([]);
  });

  it.each([
    [
      'a malformed tenant id',
      { AZURE_TENANT_ID: 'contoso.onmicrosoft' },
      'Configuration',
      /AZURE_TENANT_ID is a domain \('contoso\.onmicrosoft'\); the tenant's ID, a GUID, is needed: .* Fix the variable named/,
    ],
    [
      'a Secret ID pasted instead of the Value',
      { AZURE_CLIENT_SECRET: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' },
      'Configuration',
      /Secret ID/,
    ],
    ['an http:// URL', { DYNAMICS_URL: 'http://contoso.crm.dynamics.com' }, 'Configuration', /https:\/\//],
    [
      'an unknown tenant (AADSTS90002)',
      { AZURE_TENANT_ID: '99999999-9999-9999-9999-999999999999' },
      'Authority',
      /AADSTS90002/,
    ],
    [
      'an app not in the tenant (AADSTS700016)',
      { AZURE_CLIENT_ID: '99999999-9999-9999-9999-999999999999' },
      'Token',
      /Application \(client\) ID/,
    ],
    ['a wrong secret (AADSTS7000215)', { AZURE_CLIENT_SECRET: 'wrong-secret-value' }, 'Token', /Value/],
    [
      'an environment not in the tenant (AADSTS500011)',
      { DYNAMICS_URL: 'https://127.0.0.1:9' },
      'Token',
      /environment URL/,
    ],
  ])('explains %s', async (_label, env, check, fix) => {
    const bad = await failing(env);
    expect(bad[0]!.name).toBe(check);
    expect(`${bad[0]!.detail} ${bad[0]!.fix}`).toMatch(fix);
  });

  it('explains an expired secret (AADSTS7000222)', async () => {
    emu.configure({ secretExpired: true });
    try {
      const bad = await failing({});
      expect(bad[0]).toMatchObject({ name: 'Token', fix: expect.stringMatching(/expired.*new secret/i) });
    } finally {
      emu.configure({ secretExpired: false });
    }
  });

  it('explains a 401 after a good token: the application user is missing', async () => {
    emu.configure({ applicationUserMissing: true });
    try {
      const bad = await failing({});
      expect(bad[0]).toMatchObject({ name: 'WhoAmI', fix: expect.stringContaining('Application users') });
    } finally {
      emu.configure({ applicationUserMissing: false });
    }
  });

  it.each([
    [
      'a sign-in page',
      {
        status: 200,
        headers: { 'Content-Type': 'text/html' },
        body: '<html><title>Web gateway login</title></html>',
      },
      /answered WhoAmI with an HTML page \("Web gateway login"\), not Dataverse's answer\./,
      /HTTPS_PROXY/,
    ],
    [
      'a redirect',
      { status: 302, headers: { Location: 'https://gateway.example/login?state=xyz' } },
      /redirect \(HTTP 302\) to https:\/\/gateway\.example\/login\./,
      /Environment URL/,
    ],
  ])('explains %s in front of Dynamics', async (_label, response, detail, fix) => {
    emu.addFault({ match: { path: '/api/data/v9.2/WhoAmI' }, response });
    try {
      const bad = await failing({});
      expect(bad[0]!.name).toBe('WhoAmI');
      expect(bad[0]!.detail).toMatch(detail);
      expect(bad[0]!.detail).not.toMatch(/Unexpected token|state=xyz/);
      expect(bad[0]!.fix).toMatch(fix);
    } finally {
      emu.clearFaults();
    }
  });

  // a role granting every privilege on the demo's tables, but what `except` takes away
  const roleWithout = (except: Record<string, string[]>) => ({
    role: {
      privileges: Object.fromEntries(
        Object.keys(DEFAULT_POLICY.entities).map((t) => [
          t,
          Object.fromEntries(
            ['read', 'create', 'write', 'delete', 'append', 'appendTo', 'assign'].map((p) => [
              p,
              !except[t]?.includes(p),
            ]),
          ),
        ]),
      ),
    },
  });

  it('names the missing read privilege per table, and clock skew', async () => {
    emu.configure({ ...roleWithout({ lead: ['read'] }), clockSkewMs: -10 * 60_000 });
    try {
      const bad = await failing({});
      expect(bad.map((c) => c.name).sort()).toEqual(['Clock', 'Read lead']);
      expect(bad.find((c) => c.name === 'Read lead')!.detail).toContain('prvReadLead');
      expect(bad.find((c) => c.name === 'Clock')!.detail).toMatch(/differs from Dynamics by 6\d\d s/);
    } finally {
      await emu.reset();
      emu.configure({ clockSkewMs: 0 });
    }
  });

  // "Queue tables": a queue item's privileges are its queue's (prvReadQueue reads them, prvAppendToQueue creates,
  // updates and deletes them); Dataverse has no prvCreateQueueItem for doctor to ask about
  it("checks a queue item's writes as its queue's privilege, prvAppendToQueue, and Dynamics refuses them so", async () => {
    const healthy = await runDoctor(emulatorEnv(emu));
    expect(healthy.find((c) => c.name === 'Write queueitem')!.detail).toBe(
      'The application user holds prvAppendToQueue, prvAppendToIncident, prvAppendToActivity, prvAppendToUser, prvAppendToTeam.',
    );
    // the role's own entries for queue items mean nothing: the queue's AppendTo is what is asked
    emu.configure(roleWithout({ queueitem: ['create', 'write', 'delete', 'append'], queue: ['appendTo'] }));
    try {
      const bad = await failing({});
      expect(bad.map((c) => c.name)).toEqual(['Write queueitem']);
      expect(bad[0]!.detail).toBe(
        'Missing prvAppendToQueue: create_record, update_record and delete_record will be refused by Dynamics.',
      );
      // as Dynamics would: a queue item's Worked By is not written without it, and still read with prvReadQueue
      const h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
      try {
        const item = emu.rows('queueitem')[0]!;
        const r = await h.call('update_record', {
          entity: 'queueitem',
          id: String(item.queueitemid),
          values: { workerid: 'Megan Bowen' },
        });
        expect(r.isError).toBe(true);
        expect(textOf(r)).toContain('prvAppendToQueue');
        const read = await h.call('get_record', { entity: 'queueitem', id: String(item.queueitemid) });
        expect(read.isError, textOf(read)).toBeFalsy();
      } finally {
        await h.close();
      }
    } finally {
      await emu.reset();
    }
  });

  it('names the privileges the write tools need and the role lacks: Create, Write, Append and AppendTo', async () => {
    emu.configure(roleWithout({ incident: ['create'], account: ['appendTo'] }));
    try {
      const bad = await failing({});
      // every table with a writable lookup to an account needs AppendTo on account; incident also Create
      expect(bad.find((c) => c.name === 'Write incident')!.detail).toBe(
        'Missing prvCreateIncident, prvAppendToAccount: create_case and update_record will be refused by Dynamics.',
      );
      expect(bad.find((c) => c.name === 'Write lead')!.detail).toMatch(/^Missing prvAppendToAccount: create_lead/);
      // a note on an account is a lookup to it as well
      expect(bad.find((c) => c.name === 'Write annotation')!.detail).toMatch(/^Missing prvAppendToAccount: add_note/);
      // an opportunity's customer may be an account, and create_record makes opportunities
      expect(bad.find((c) => c.name === 'Write opportunity')!.detail).toBe(
        'Missing prvAppendToAccount: create_record and update_record (its updates, and qualifying leads) will be refused by Dynamics.',
      );
      expect(bad.map((c) => c.name).sort()).toEqual([
        'Write account',
        'Write annotation',
        'Write contact',
        'Write email',
        'Write incident',
        'Write lead',
        'Write opportunity',
        'Write phonecall',
        'Write task',
      ]);
      // a task regarding an account is a lookup to it too
      expect(bad.find((c) => c.name === 'Write task')!.detail).toBe(
        'Missing prvAppendToAccount: create_record and update_record will be refused by Dynamics.',
      );
      expect(bad[0]!.fix).toMatch(/security role .* or remove .* "write" columns from the policy/);
      // on-behalf-of: the signed-in users' roles apply to hosted calls, which doctor says it cannot check
      const obo = await runDoctor({ ...emulatorEnv(emu), DYNAMICS_MCP_ON_BEHALF_OF: 'true' });
      expect(obo.filter((c) => c.warning).map((c) => c.name)).toEqual(['On-behalf-of']);
      let printed = '';
      printChecklist(
        obo.filter((c) => c.ok),
        new Writable({
          write: (chunk, _e, cb) => {
            printed += String(chunk);
            cb();
          },
        }),
      );
      expect(printed).toMatch(/^! On-behalf-of: Hosted calls run as each signed-in user.*\n {4}note: /m);
      expect(printed).toContain('All checks passed (1 warning, marked !).');
      // read-only: no write tools, nothing to check
      const readOnly = await runDoctor(emulatorEnv(emu), { flags: { readOnly: true } });
      expect(readOnly.filter((c) => c.name.startsWith('Write'))).toEqual([]);
      expect(readOnly.filter((c) => !c.ok)).toEqual([]);
    } finally {
      await emu.reset();
    }
  });

  // QualifyLead makes an account, a contact and an opportunity (its privileges: Create on each), so a policy
  // that lets update_record qualify leads needs them
  it('names the Create privileges qualifying a lead needs where the policy lets leads be qualified', async () => {
    emu.configure(roleWithout({ opportunity: ['create'] }));
    try {
      const bad = await failing({});
      expect(bad.map((c) => [c.name, c.detail])).toEqual([
        [
          'Write opportunity',
          'Missing prvCreateOpportunity: create_record and update_record (its updates, and qualifying leads) will be refused by Dynamics.',
        ],
      ]);
    } finally {
      await emu.reset();
    }
  });

  // delete_record deletes where the policy says "delete" (the built-in policy: a deal's products), which Dynamics
  // refuses without the table's Delete privilege
  it("names the Delete privilege where the policy lets a table's records be deleted", async () => {
    emu.configure(roleWithout({ opportunityproduct: ['delete'] }));
    try {
      const bad = await failing({});
      expect(bad.map((c) => [c.name, c.detail])).toEqual([
        ['Write opportunityproduct', 'Missing prvDeleteOpportunityProduct: delete_record will be refused by Dynamics.'],
      ]);
    } finally {
      await emu.reset();
    }
  });

  // the duplicate rules are read for the server's own answer to a refused create: without them the tools work,
  // so their absence is said (a warning), not a failure
  it('a role that cannot read the duplicate detection rules is warned of what that costs, not failed', async () => {
    emu.configure(roleWithout({ duplicaterule: ['read'] }));
    try {
      const checks = await runDoctor(emulatorEnv(emu));
      expect(checks.filter((c) => !c.ok)).toEqual([]);
      expect(checks.find((c) => c.name === 'Read duplicaterule')).toMatchObject({
        ok: true,
        warning: true,
        detail:
          "Missing prvReadDuplicateRule: a create the organisation's duplicate detection rules refuse is answered without the record they matched.",
      });
    } finally {
      await emu.reset();
    }
  });

  // activities share one set of privileges, prv<Privilege>Activity: a task's Create is prvCreateActivity (there
  // is no prvCreateTask for an admin to find in the role editor)
  it("names a task's privileges by the activities' shared name", async () => {
    emu.configure(roleWithout({ task: ['create'], incidentresolution: ['create'], opportunityclose: ['create'] }));
    try {
      const bad = await failing({});
      expect(bad.find((c) => c.name === 'Write task')?.detail).toBe(
        'Missing prvCreateActivity: create_record and update_record will be refused by Dynamics.',
      );
    } finally {
      await emu.reset();
    }
  });

  // Dataverse's note privileges keep the table's old name, as the user table's do: prvCreateNote, not
  // prvCreateAnnotation (a role that lacks one is what an admin will see named in the role editor)
  it("names a note privilege by Dataverse's name for it, and the emulator refuses a note without it", async () => {
    emu.configure(roleWithout({ annotation: ['create'] }));
    try {
      const bad = await failing({});
      expect(bad.map((c) => [c.name, c.detail])).toEqual([
        ['Write annotation', 'Missing prvCreateNote: add_note and update_record will be refused by Dynamics.'],
      ]);
      const h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
      try {
        const r = await h.call('add_note', {
          entity: 'account',
          id: String(emu.rows('account')[0]!.accountid),
          text: 'x',
        });
        expect(textOf(r)).toContain('prvCreateNote');
      } finally {
        await h.close();
      }
    } finally {
      await emu.reset();
    }
  });

  // "Enable and disable duplicate detection": the organisation's rules apply to a create only where detection is
  // on for the organisation, for creates and updates, and for the table
  it("says which created tables the organisation's duplicate detection rules apply to, and warns when it is off", async () => {
    const duplicates = async () => (await runDoctor(emulatorEnv(emu))).find((c) => c.name === 'Duplicate detection');
    expect(await duplicates()).toEqual({
      name: 'Duplicate detection',
      ok: true,
      detail:
        'The organisation\'s duplicate detection rules apply to the account ("Accounts with the same Account Name"), contact ("Contacts with the same email address"), lead ("Leads with the same email address") records the tools create or change; not to opportunity, incident, knowledgearticleincident, annotation, task, phonecall, email, opportunityproduct (detection is off for those tables, where only the tools\' own check runs).',
    });
    // the rules an administrator published, by name; a table with detection on and no rule is said to have none
    try {
      emu.configure({
        duplicateRules: [{ name: 'Contacts with the same name', entity: 'contact', columns: ['fullname'] }],
      });
      expect((await duplicates())?.detail).toMatch(
        /^The organisation's duplicate detection rules apply to the account \(no published rule\), contact \("Contacts with the same name"\), lead \(no published rule\) records/,
      );
    } finally {
      await emu.reset();
    }
    try {
      emu.configure({ organization: { isduplicatedetectionenabledforonlinecreateupdate: false } });
      expect(await duplicates()).toEqual({
        name: 'Duplicate detection',
        ok: true,
        warning: true,
        detail:
          "Dynamics' duplicate detection is off when a record is created or updated: only the tools' own check (the same email, or the same name) keeps the records they create from being duplicates.",
        fix: 'Turn it on (Settings → Data management → Duplicate detection settings in Dynamics: "Enable duplicate detection" and "When a record is created or updated") for the organisation\'s rules to apply too.',
      });
      // and the emulator then makes what a rule would have refused (the client asks for the rules on every
      // create: a lead with a known email is refused while detection is on, client-resilience.test.ts)
      const known = emu.rows('lead').find((l) => l.statecode === 0 && l.emailaddress1)!.emailaddress1;
      const h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
      try {
        const made = await h.deps.client.create('lead', { lastname: 'Off', emailaddress1: known });
        expect(emu.rows('lead').find((l) => l.leadid === made.id)?.emailaddress1).toBe(known);
      } finally {
        await h.close();
      }
    } finally {
      await emu.reset();
    }
    // read-only, nothing is created: nothing to say
    expect((await runDoctor(emulatorEnv(emu), { flags: { readOnly: true } })).map((c) => c.name)).not.toContain(
      'Duplicate detection',
    );
  });

  it("says which quarters and weeks are counted: the organisation's, the configuration's, or the calendar's and why", async () => {
    const calendar = async (env: Record<string, string> = {}) =>
      (await runDoctor({ ...emulatorEnv(emu), ...env })).find((c) => c.name === 'Calendar');
    try {
      emu.configure({
        organization: { fiscalcalendarstart: '2020-07-01T07:00:00Z', fiscalyeardisplaycode: 2, weekstartdaycode: 1 },
      });
      const q = fiscalQuarter(new Date(), { startMonth: 7, namedByEnd: true });
      expect(await calendar()).toEqual({
        name: 'Calendar',
        ok: true,
        detail: `Quarters follow the organisation's fiscal year, from July, each named by the year it ends in; this quarter is ${q.label} (${q.from} to ${q.to}); weeks start on Monday.`,
      });
      const dir = mkdtempSync(join(tmpdir(), 'dmcp-doctor-'));
      writeFileSync(join(dir, 'c.json'), JSON.stringify({ pipeline: { fiscalYearStartMonth: 4 } }));
      expect((await calendar({ DYNAMICS_MCP_CONFIG: join(dir, 'c.json') }))?.detail).toMatch(
        /^Quarters count from April \(pipeline.fiscalYearStartMonth in the configuration\); this quarter is FY\d{4} Q\d .*; weeks start on Monday\.$/,
      );
      // a policy without the settings, in an organisation whose year and week are not the default ones: said,
      // with the month and the day
      const narrow = join(dir, 'policy.json');
      writeFileSync(narrow, JSON.stringify({ entities: { opportunity: { read: ['name', 'estimatedclosedate'] } } }));
      expect(await calendar({ DYNAMICS_MCP_POLICY: narrow })).toMatchObject({
        warning: true,
        detail: expect.stringMatching(
          /^Quarters are calendar quarters; .*; weeks start on Sunday\. But the organisation's fiscal year starts in July, and the policy does not let the server read it \(organization: fiscalcalendarstart, fiscalyeardisplaycode\); the organisation's weeks start on Monday, and the policy does not let the server read it \(organization: weekstartdaycode\)\.$/,
        ),
        fix: expect.stringContaining('pipeline.fiscalYearStartMonth to 7'),
      });
      // the application user may not read the organisation: a warning that says what is counted instead
      emu.configure(roleWithout({ organization: ['read'] }));
      expect(await calendar()).toMatchObject({
        ok: true,
        warning: true,
        detail: expect.stringMatching(
          /^Quarters are calendar quarters; .*; weeks start on Sunday\. But the organisation's calendar settings could not be read \(Dynamics answered HTTP 403\)\.$/,
        ),
        fix: expect.stringContaining('prvReadOrganization'),
      });
    } finally {
      await emu.reset();
    }
  });

  it("names whom create_lead's assignment rules give leads to, and fails a rule whose owner is no one", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmcp-doctor-'));
    const user = emu.rows('systemuser').find((u) => u.title && !u.isdisabled)!;
    const team = emu.rows('team').find((t) => t.name === 'Customer Service')!;
    const rules = (extra: { postalCodePrefix: string; ownerId: string }[] = []) => {
      writeFileSync(
        join(dir, 'c.json'),
        JSON.stringify({
          leads: {
            assignment: [
              { postalCodePrefix: '981', ownerId: user.systemuserid },
              { postalCodePrefix: '100', ownerId: team.teamid },
              ...extra,
            ],
          },
        }),
      );
      return { ...emulatorEnv(emu), DYNAMICS_MCP_CONFIG: join(dir, 'c.json') };
    };
    const ok = (await runDoctor(rules())).find((c) => c.name === 'Lead assignment');
    expect(ok).toEqual({
      name: 'Lead assignment',
      ok: true,
      detail: `Leads by postal code: 981… → ${user.fullname}; 100… → the team Customer Service.`,
    });
    const nobody = '00000000-0000-4000-8000-00000000dead';
    const bad = (await runDoctor(rules([{ postalCodePrefix: 'SW1', ownerId: nobody }]))).find(
      (c) => c.name === 'Lead assignment',
    );
    expect(bad).toMatchObject({
      ok: false,
      detail: `No user or team has the id of the rule for SW1… (${nobody}): create_lead would be refused for every lead from that postal code.`,
    });
    // no rules, no check
    expect((await runDoctor(emulatorEnv(emu))).some((c) => c.name === 'Lead assignment')).toBe(false);
  });

  it('a policy entry keyed by another name than the logical one names the table meant, or the closest', async () => {
    const policy = join(mkdtempSync(join(tmpdir(), 'dmcp-doctor-')), 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        entities: {
          account: { read: ['name'] },
          contacts: { read: ['fullname'] },
          Case: { read: ['title'] },
          Opportunity: { read: ['name'] },
          acount: { read: ['name'] },
        },
      }),
    );
    const bad = await failing({ DYNAMICS_MCP_POLICY: policy });
    expect(bad).toEqual([
      {
        name: 'Read contacts',
        ok: false,
        detail:
          "In the policy, 'contacts' is the entity set name of contact: policy entries are keyed by logical name, so it matches nothing.",
        fix: "Rename the policy entry 'contacts' to 'contact'.",
      },
      expect.objectContaining({
        name: 'Read case',
        detail: expect.stringContaining("'case' is the display name of incident"),
        fix: "Rename the policy entry 'case' to 'incident'.",
      }),
      {
        name: 'Read acount',
        ok: false,
        detail: "In the policy, 'acount' is no table of this environment (closest: account).",
        fix: "Rename the entry to the table's logical name (account?), which Power Apps shows under Tables → the table → Properties, or remove it.",
      },
    ]);
  });

  it('a policy that lets the model change owners needs Assign; the emulator refuses an owner change without it', async () => {
    const policy = join(mkdtempSync(join(tmpdir(), 'dmcp-doctor-')), 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({ entities: { opportunity: { read: ['name', 'ownerid'], write: ['name', 'ownerid'] } } }),
    );
    emu.configure(roleWithout({ opportunity: ['assign'] }));
    try {
      const bad = await failing({ DYNAMICS_MCP_POLICY: policy });
      expect(bad).toEqual([
        expect.objectContaining({
          name: 'Write opportunity',
          detail: expect.stringMatching(/^Missing prvAssignOpportunity:/),
        }),
      ]);
      const opp = emu.rows('opportunity')[0]!;
      const user = emu.rows('systemuser').find((u) => u.systemuserid !== (opp.ownerid as { id?: string })?.id)!;
      const { client } = clientFor(emu, {
        policy: { entities: { opportunity: { read: ['name', 'ownerid'], write: ['name', 'ownerid'] } } },
      });
      try {
        await expect(
          client.update('opportunity', String(opp.opportunityid), {
            ownerid: { entity: 'systemuser', id: String(user.systemuserid) },
          }),
        ).rejects.toMatchObject({ kind: 'permission', message: expect.stringContaining('prvAssignOpportunity') });
      } finally {
        await client.close();
      }
    } finally {
      await emu.reset();
    }
  });

  it('says when the privileges could not be checked (no read on users), without failing the run', async () => {
    emu.configure(roleWithout({ systemuser: ['read'] }));
    try {
      const checks = await runDoctor(emulatorEnv(emu));
      const warnings = checks.filter((c) => c.warning);
      expect(warnings).toEqual([
        expect.objectContaining({
          name: 'Write privileges',
          ok: true,
          detail: expect.stringContaining('missing prvReadUser'),
        }),
      ]);
      // the one real failure: the policy lets the model read users
      expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['Read systemuser']);
    } finally {
      await emu.reset();
    }
    // a page from something in between, instead of Dataverse's answer: skipped with the reason, no crash
    emu.addFault({
      match: { path: '/api/data/v9.2/systemusers(' },
      response: { status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html>gateway</html>' },
      times: 100,
    });
    try {
      const checks = await runDoctor(emulatorEnv(emu));
      expect(checks.filter((c) => c.warning).map((c) => c.detail)).toEqual([
        "Not checked: the answer was not JSON when asked for the application user's privileges.",
      ]);
      expect(checks.filter((c) => !c.ok)).toEqual([]);
    } finally {
      emu.clearFaults();
    }
  });

  it('names policy columns and relationships the environment lacks, with the closest real names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmcp-doctor-'));
    const policy = join(dir, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        entities: {
          lead: { read: ['fullname', 'emailadress1'], expand: ['parentaccountid', 'parentacount'] },
          incident: { read: ['title', 'new_alertid'], write: ['title'] },
        },
      }),
    );
    // the case reference column is optional: its absence is a warning that says what it costs
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ cases: { externalRefColumn: 'new_alertid' } }));
    const checks = await runDoctor({ ...emulatorEnv(emu), DYNAMICS_MCP_POLICY: policy, DYNAMICS_MCP_CONFIG: config });
    expect(checks.filter((c) => !c.ok)).toEqual([
      {
        name: 'Policy lead',
        ok: false,
        detail:
          'names columns lead does not have: emailadress1 (did you mean emailaddress1?); names relationships lead does not have: parentacount (did you mean parentaccountid or parentcontactid?)',
        fix: expect.stringContaining('Correct or remove them in the policy file'),
      },
    ]);
    expect(checks.filter((c) => c.warning)).toEqual([
      expect.objectContaining({
        name: 'Policy incident',
        detail: expect.stringContaining('incident has no column new_alertid: create_case cannot look up the case'),
        fix: expect.stringContaining('cases.externalRefColumn'),
      }),
    ]);
  });

  it('a table list it cannot read is one failed check with what came back, not a crash', async () => {
    emu.addFault({
      match: { path: '/api/data/v9.2/EntityDefinitions' },
      response: { status: 502, headers: { 'Content-Type': 'text/plain' }, body: 'Bad gateway from the proxy' },
      times: 5,
    });
    try {
      const bad = await failing({});
      expect(bad).toEqual([
        expect.objectContaining({
          name: 'Tables',
          detail: expect.stringContaining('HTTP 502, Bad gateway from the proxy'),
        }),
      ]);
    } finally {
      emu.clearFaults();
    }
  });

  it('as a command: prints the checklist and exits 1 when TLS is not trusted', async () => {
    // no NODE_EXTRA_CA_CERTS: the CA is unknown. A run as if it were another day (npm run test:dates) reads that
    // day's clock in the child too, or doctor would rightly say the clocks differ
    const shifted = process.env.FAKE_NOW
      ? { FAKE_NOW: process.env.FAKE_NOW, NODE_OPTIONS: process.env.NODE_OPTIONS ?? '' }
      : {};
    const env = { PATH: process.env.PATH!, ...shifted, ...emulatorEnv(emu) };
    const r = await run(process.execPath, [BIN, 'doctor'], { env }).catch((e: { code: number; stdout: string }) => e);
    expect((r as { code?: number }).code).toBe(1);
    expect(r.stdout).toContain('✘ Authority: TLS certificate');
    expect(r.stdout).toContain('NODE_EXTRA_CA_CERTS');
    const ok = await run(process.execPath, [BIN, 'doctor'], {
      env: { ...env, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS! },
    });
    expect(ok.stdout).toContain('All checks passed.');
  });
});

describe('doctor --demo', () => {
  it('checks the policy and settings the demo serves with: a policy file tried on the demo first', async () => {
    const policy = join(mkdtempSync(join(tmpdir(), 'dmcp-doctor-')), 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({ entities: { account: { read: ['name', 'revnue'] }, contacts: { read: ['fullname'] } } }),
    );
    const r = await run(process.execPath, [BIN, 'doctor', '--demo'], {
      env: { PATH: process.env.PATH!, DYNAMICS_MCP_POLICY: policy, DYNAMICS_MCP_READ_ONLY: 'true' },
      timeout: 60_000,
    }).catch((e: { code: number; stdout: string }) => e);
    expect((r as { code?: number }).code).toBe(1);
    expect(r.stdout).toContain("✘ Read contacts: In the policy, 'contacts' is the entity set name of contact");
    expect(r.stdout).toContain('revnue (did you mean revenue');
    // the file's tables only, and read-only: no write checks
    expect(r.stdout).toContain('✔ Read account:');
    expect(r.stdout).not.toMatch(/Read incident|Write account/);
  });
});

describe('start-up failures end the process with the reason', () => {
  // each would otherwise leave the demo organisation's servers holding the process open after the message
  const fails = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH!, ...env }, timeout: 20_000 }).then(
      () => ({ code: 0, stderr: '', killed: false }),
      (e: { code: number; stderr: string; killed?: boolean }) => e,
    );

  it('a port in use (npm start while another server has the port)', async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await fails(['--demo', '--http'], { PORT: String(port) });
      expect(r.killed).toBeFalsy();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Port ${port} is already in use on 127.0.0.1`);
    } finally {
      blocker.close();
    }
  });

  it('a bad setting for the demo, and an audit log that cannot be written', async () => {
    const level = await fails(['--demo', '--log-level', 'loud']);
    expect(level.code).toBe(1);
    expect(level.stderr).toContain('LOG_LEVEL (or --log-level) must be one of fatal, error, warn');
    const audit = await fails(['call', '--demo', 'describe_entity', '{}'], {
      DYNAMICS_MCP_AUDIT_LOG: '/nonexistent-dir/audit.log',
    });
    expect(audit.code).toBe(1);
    expect(audit.stderr).toContain('DYNAMICS_MCP_AUDIT_LOG: cannot write /nonexistent-dir/audit.log (ENOENT)');
  });
});

describe('the demo over HTTP', () => {
  it('asks for the API keys it was given (an explicit ask is not ignored), and says so', async () => {
    const key = 'demo-key-0123456789abcdef';
    const child = spawn(process.execPath, [BIN, '--demo', '--http'], {
      env: { PATH: process.env.PATH!, PORT: '0', DYNAMICS_MCP_API_KEYS: key },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      for (let i = 0; i < 200 && !output.includes('Stop with Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(output).toContain('Requests need "Authorization: Bearer <key>", a key from DYNAMICS_MCP_API_KEYS');
      const url = new URL(/MCP endpoint \(Streamable HTTP\): +(\S+)/.exec(output)![1]!);
      const init = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      });
      const post = (auth?: string) =>
        fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...(auth ? { authorization: auth } : {}),
          },
          body: init,
        });
      expect((await post()).status).toBe(401);
      expect((await post('Bearer wrong-key-0123456789')).status).toBe(401);
      const client = new Client({ name: 'demo-keys', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${key}` } } }),
      );
      const r = (await client.callTool({ name: 'query_entities', arguments: { entity: 'account', top: 1 } })) as {
        isError?: boolean;
      };
      expect(r.isError).toBeFalsy();
      await client.close();
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
  });
});

describe('dynamics-mcp call', () => {
  // the README's "Try a tool from a terminal" lines, as written there: each must answer without an error
  it("the README's first calls from a terminal each answer from the demo organisation", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /Try a tool from a terminal, without an MCP client:\s+```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const calls = block
      .trim()
      .split('\n')
      .map((line) => /^npx dynamics-mcp call --demo (\w+) '(.*)'$/.exec(line.trim()));
    expect(calls.length).toBeGreaterThanOrEqual(4);
    for (const m of calls) {
      expect(m, "each line is a call --demo <tool> '<json>'").not.toBeNull();
      const r = await run(process.execPath, [BIN, 'call', '--demo', m![1]!, m![2]!], {
        env: { PATH: process.env.PATH! },
      });
      expect(JSON.parse(r.stdout), `${m![1]} ${m![2]}`).toBeTruthy();
    }
  }, 60_000);

  it('runs one tool against the demo organisation and prints its result; errors exit 1', async () => {
    const ok = await run(
      process.execPath,
      [BIN, 'call', '--demo', 'query_entities', '{"entity":"account","top":2,"select":["name"]}'],
      { env: { PATH: process.env.PATH! } },
    );
    const result = JSON.parse(ok.stdout);
    expect(result.records).toHaveLength(2);
    expect(ok.stderr).toBe(''); // quiet unless asked
    const debug = await run(
      process.execPath,
      [BIN, 'call', '--demo', 'query_entities', '{"entity":"account","top":1,"select":["name"]}'],
      { env: { PATH: process.env.PATH!, LOG_LEVEL: 'debug' } },
    );
    expect(debug.stderr).toMatch(/"tool":"query_entities","ms":\d+,"msg":"tool ok"/);
    const bad = await run(
      process.execPath,
      [BIN, 'call', '--demo', 'query_entities', '{"entity":"account","select":["nme"]}'],
      { env: { PATH: process.env.PATH! } },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code?: number }).code).toBe(1);
    expect(bad.stderr).toContain('Did you mean: name');
    const notJson = await run(process.execPath, [BIN, 'call', '--demo', 'describe_entity', '{nope'], {
      env: { PATH: process.env.PATH! },
    }).catch((e: { stderr: string }) => e);
    expect(notJson.stderr).toContain('must be a JSON object');
    const tool = await run(process.execPath, [BIN, 'call', '--demo', 'query_entity', '{}'], {
      env: { PATH: process.env.PATH! },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((tool as { code?: number }).code).toBe(1);
    expect(tool.stderr).toContain("No tool 'query_entity' (did you mean query_entities?). Tools: describe_entity,");
    // an option spelt another way is named, with the one meant, before anything starts
    const option = await run(process.execPath, [BIN, 'call', '--demo', '--readonly', 'describe_entity', '{}'], {
      env: { PATH: process.env.PATH! },
    }).catch((e: { code: number; stderr: string }) => e);
    expect((option as { code?: number }).code).toBe(2);
    expect(option.stderr).toBe(
      "dynamics-mcp: unknown option '--readonly': did you mean --read-only? Run dynamics-mcp call --help for the options.\n",
    );
    // one with no near spelling: said, and where the command's own options are
    const unknown = await run(process.execPath, [BIN, 'doctor', '--bogus'], { env: { PATH: process.env.PATH! } }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((unknown as { code?: number }).code).toBe(2);
    expect(unknown.stderr).toBe(
      "dynamics-mcp: unknown option '--bogus'. Run dynamics-mcp doctor --help for the options.\n",
    );
  });

  it('each command answers --help with its own usage, and exits 0 (not "unknown option --help")', async () => {
    for (const [command, usage] of [
      ['call', "Usage: dynamics-mcp call <tool> '<json arguments>' [--demo]"],
      ['doctor', 'Usage: dynamics-mcp doctor [--demo]'],
      ['emulator', 'Usage: dynamics-mcp emulator'],
    ] as const)
      for (const flag of ['--help', '-h']) {
        const r = await run(process.execPath, [BIN, command, flag], { env: { PATH: process.env.PATH! } });
        expect(r.stderr + r.stdout, `${command} ${flag}`).toContain(usage);
        expect(r.stderr, `${command} ${flag}`).not.toContain('unknown option');
      }
  });
});

describe('mcp.config.example.json', () => {
  const example = JSON.parse(readFileSync(join(ROOT, 'mcp.config.example.json'), 'utf8')) as {
    mcpServers: Record<
      string,
      { command?: string; args?: string[]; env?: Record<string, string>; type?: string; url?: string }
    >;
  };
  // `npx -y dynamics-mcp` is this package's bin: run the built file the same way
  const local = (args: string[]) => [BIN, ...args.filter((a) => a !== '-y' && a !== 'dynamics-mcp')];

  it('has the three entries, with placeholders in place of secrets', () => {
    expect(Object.keys(example.mcpServers)).toEqual(['dynamics', 'dynamics-demo', 'dynamics-http']);
    expect(example.mcpServers.dynamics!.env!.AZURE_CLIENT_SECRET).toMatch(/^<.*>$/);
  });

  it('the stdio entries start (the real-org one with the emulator in place of the placeholders)', async () => {
    const emu = await startTestEmulator({ scale: 5 });
    try {
      const real = example.mcpServers.dynamics!;
      const env = {
        ...real.env!,
        ...emulatorEnv(emu),
        PATH: process.env.PATH!,
        NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS!,
      };
      for (const entry of [
        { args: real.args!, env },
        { args: example.mcpServers['dynamics-demo']!.args!, env: { PATH: process.env.PATH! } },
      ]) {
        const client = new Client({ name: 'example', version: '1' });
        await client.connect(
          new StdioClientTransport({
            command: process.execPath,
            args: local(entry.args),
            env: entry.env,
            stderr: 'pipe',
          }),
        );
        expect((await client.listTools()).tools.length).toBeGreaterThanOrEqual(4);
        await client.close();
      }
    } finally {
      await emu.close();
    }
  });

  it('the HTTP entry is what npm start serves', async () => {
    // port 0: the system picks a free port, and the banner shows the one in use
    const child = spawn(process.execPath, [BIN, '--demo', '--http'], {
      env: { PATH: process.env.PATH!, PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let banner = '';
    child.stderr.on('data', (d: Buffer) => {
      banner += d.toString();
    });
    try {
      for (let i = 0; i < 100 && !banner.includes('Stop with Ctrl-C'); i++) await new Promise((r) => setTimeout(r, 50));
      const port = /MCP endpoint \(Streamable HTTP\): +http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(banner)?.[1];
      expect(port).toBeDefined();
      const url = example.mcpServers['dynamics-http']!.url!.replace(':3000', `:${port}`);
      expect(banner).toContain(url);
      expect(banner).toContain('not real data');
      const client = new Client({ name: 'example-http', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      const r = (await client.callTool({ name: 'query_entities', arguments: { entity: 'lead', top: 1 } })) as any;
      expect(r.structuredContent.records).toHaveLength(1);
      await client.close();
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
