import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// A support agent's questions of the knowledge base (Knowledge Article and Knowledge Article Incident table
// references): the published article that answers a problem (not a draft, not an archived older version), the
// articles that solved the most cases, and the articles used on one case. Asked the way a model asks them.
describe('knowledge articles', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const articles = () => emu.rows('knowledgearticle');
  const uses = () => emu.rows('knowledgearticleincident');
  const idOf = (v: unknown) => (v as { id: string } | null)?.id;

  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 60 });
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  it('"how do I reset a password?": the published latest version, with its steps, not the archived one', async () => {
    const versions = articles().filter((a) => String(a.keywords).includes('password'));
    expect(versions.map((a) => [a.articlepublicnumber, a.statecode, a.islatestversion]).sort()).toEqual([
      ['KA-01002', 3, true],
      ['KA-01002', 5, false],
    ]);
    const r = await h.call('query_entities', {
      entity: 'knowledgearticle',
      where: { statecode: 'Published', islatestversion: true, keywords: { contains: 'password' } },
      select: ['title', 'articlepublicnumber', 'majorversionnumber', 'content'],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const got = r.structuredContent.records as Record<string, unknown>[];
    const latest = versions.find((a) => a.islatestversion === true)!;
    expect(got.map((a) => a.id)).toEqual([latest.knowledgearticleid]);
    expect(got[0]).toMatchObject({ title: 'Resetting a customer password', majorversionnumber: 2 });
    expect(String(got[0]!.content)).toContain('<li>The link expires after 24 hours.</li>');
    // record text is fenced as data, articles too: HTML written by people is not instructions
    expect(textOf(r)).toMatch(/<untrusted-dynamics-data-[0-9a-f]+>/);
  });

  it('drafts and expired articles are there to be found, said by their state', async () => {
    const r = await h.call('query_entities', {
      entity: 'knowledgearticle',
      where: { statecode: { in: ['Draft', 'Expired'] } },
      select: ['title', 'statecode', 'statuscode', 'expirationdate'],
      orderBy: 'title',
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(
      r.structuredContent.records.map((a: Record<string, unknown>) => [a.title, a.statecode, a.statuscode]),
    ).toEqual([
      ['Holiday shipping schedule 2025', 'Expired (4)', 'Expired (10)'],
      ['Replacing a sensor cooling fan', 'Draft (0)', 'Draft (2)'],
    ]);
  });

  it('"which articles solved the most cases?": solutions counted by article, named by title', async () => {
    const r = await h.call('aggregate_records', {
      entity: 'knowledgearticleincident',
      where: { knowledgeusage: 'Solution' },
      groupBy: ['knowledgearticleid'],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const expected = new Map<string, number>();
    for (const u of uses().filter((x) => x.knowledgeusage === 2))
      expected.set(idOf(u.knowledgearticleid)!, (expected.get(idOf(u.knowledgearticleid)!) ?? 0) + 1);
    const groups = r.structuredContent.groups as { knowledgearticleid: { id: string; name: string }; count: number }[];
    expect(new Map(groups.map((g) => [g.knowledgearticleid.id, g.count]))).toEqual(expected);
    expect(expected.size).toBeGreaterThan(2);
    const titles = new Map(articles().map((a) => [String(a.knowledgearticleid), a.title]));
    for (const g of groups) expect(g.knowledgearticleid.name).toBe(titles.get(g.knowledgearticleid.id));
    // most first, as the model would report them
    expect(groups.map((g) => g.count)).toEqual([...groups.map((g) => g.count)].sort((a, b) => b - a));
  });

  it("a case's articles: expanded from the case, each with how it was used", async () => {
    const used = uses().find((u) => u.knowledgeusage === 2)!;
    const caseId = idOf(used.incidentid)!;
    const r = await h.call('get_record', {
      entity: 'incident',
      id: caseId,
      select: ['title'],
      expand: [
        {
          relation: 'knowledgearticle_incidents',
          select: ['knowledgearticleid', 'knowledgeusage', 'issenttocustomer'],
        },
      ],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const list = r.structuredContent.record.knowledgearticle_incidents as Record<string, unknown>[];
    const mine = uses().filter((u) => idOf(u.incidentid) === caseId);
    expect(list.map((u) => u.id).sort()).toEqual(mine.map((u) => String(u.knowledgearticleincidentid)).sort());
    expect(list[0]).toMatchObject({ knowledgeusage: 'Solution (2)', issenttocustomer: used.issenttocustomer });
  });

  it('an agent records the article that solved a case; again, the record it has; then marks it sent', async () => {
    const article = articles().find((a) => a.statecode === 3 && a.islatestversion === true)!;
    const articleId = String(article.knowledgearticleid);
    const open = emu
      .rows('incident')
      .find((c) => c.statecode === 0 && !uses().some((u) => idOf(u.incidentid) === c.incidentid))!;
    const caseId = String(open.incidentid);
    const pairs = () => uses().filter((u) => idOf(u.incidentid) === caseId && idOf(u.knowledgearticleid) === articleId);
    const r = await h.call('create_record', {
      entity: 'knowledgearticleincident',
      values: { knowledgearticleid: articleId, incidentid: String(open.ticketnumber), knowledgeusage: 'Solution' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(pairs()).toHaveLength(1);
    // named by its article, not yet sent (a yes/no column takes its default, as the form shows it)
    expect(pairs()[0]).toMatchObject({
      knowledgeusage: 2,
      issenttocustomer: false,
      knowledgearticleidname: article.title,
    });
    expect(r.structuredContent).toMatchObject({ id: pairs()[0]!.knowledgearticleincidentid, duplicate: false });
    // the same again (a retry, a model unsure it was done): the record there, nothing sent
    const before = emu.requests().filter((x) => x.method === 'POST').length;
    const again = await h.call('create_record', {
      entity: 'knowledgearticleincident',
      values: { knowledgearticleid: articleId, incidentid: caseId, knowledgeusage: 'Reference' },
    });
    expect(again.structuredContent).toMatchObject({ id: pairs()[0]!.knowledgearticleincidentid, duplicate: true });
    expect(textOf(again)).toContain('That incident already has this knowledgearticle on it');
    expect(textOf(again)).toContain(`update_record ${pairs()[0]!.knowledgearticleincidentid}`);
    expect(emu.requests().filter((x) => x.method === 'POST').length).toBe(before);
    expect(pairs()).toHaveLength(1);
    const sent = await h.call('update_record', {
      entity: 'knowledgearticleincident',
      id: String(pairs()[0]!.knowledgearticleincidentid),
      values: { issenttocustomer: true },
    });
    expect(sent.isError, textOf(sent)).toBeFalsy();
    expect(pairs()[0]).toMatchObject({ issenttocustomer: true, knowledgeusage: 2 });
  });

  it('answer_case: its calls, as written, find the case, the article for its problem, and record it', async () => {
    // an open case no article was used on yet (its key word below is the password article's, whatever its title)
    const target = emu
      .rows('incident')
      .find((x) => x.statecode === 0 && !uses().some((u) => idOf(u.incidentid) === x.incidentid))!;
    const p = await h.client.getPrompt({ name: 'answer_case', arguments: { case: String(target.ticketnumber) } });
    const text = (p.messages[0]!.content as { text: string }).text;
    const json = (re: RegExp) => JSON.parse(re.exec(text)![1]!);
    // 1. the case by its number
    const found = await h.call('query_entities', {
      entity: 'incident',
      where: json(/query_entities on incident with where (\{.*?\}), select/),
      select: json(/with where \{"ticketnumber".*?\}, select (\[.*?\]), top 5/),
      top: 5,
    });
    expect(found.structuredContent.records.map((r: { id: string }) => r.id)).toEqual([target.incidentid]);
    const caseId = String(target.incidentid);
    // 2. the case, with the articles already used on it
    const got = await h.call('get_record', {
      entity: 'incident',
      id: caseId,
      select: json(/get_record on incident with id "<case id>", select (\[.*?\]) and expand/),
      expand: json(/and expand (\[\{.*?\}\]) \(the articles/),
    });
    expect(got.isError, textOf(got)).toBeFalsy();
    expect(got.structuredContent.record.knowledgearticle_incidents).toEqual([]);
    // 3. the published, latest article for a key word of its problem
    const where = JSON.parse(
      /query_entities on knowledgearticle with where (\{.*?\]\}), select/
        .exec(text)![1]!
        .replaceAll('<a key word of the case>', 'password')
        .replaceAll('<the same word>', 'password'),
    );
    const articlesFound = await h.call('query_entities', {
      entity: 'knowledgearticle',
      where,
      select: json(/\]\}, select (\[.*?\]), top 5; try/),
      top: 5,
    });
    expect(articlesFound.isError, textOf(articlesFound)).toBeFalsy();
    const latest = articles().find((a) => a.articlepublicnumber === 'KA-01002' && a.islatestversion === true)!;
    expect(articlesFound.structuredContent.records.map((r: { id: string }) => r.id)).toEqual([
      latest.knowledgearticleid,
    ]);
    // 4. the reply kept as a draft email on the case, to its contact, given to its owner: not sent
    const contact = idOf(target.primarycontactid)!;
    const owner = idOf(target.ownerid)!;
    const draft = JSON.parse(
      /create_record on email with (\{.*?\})\); it is not sent/
        .exec(text)![1]!
        .replace("<the case's title>", String(target.title))
        .replace('<the reply>', 'Please use the one-time reset link we sent (KA-01002).')
        .replace('<case id>', caseId)
        .replace("<the case's contact, or its customer>", contact)
        .replace("<the case's owner>", owner),
    );
    const drafted = await h.call('create_record', { entity: 'email', values: draft });
    expect(drafted.isError, textOf(drafted)).toBeFalsy();
    expect(textOf(drafted)).toContain('It is a draft: Dynamics sends it only when a person sends it there');
    const email = emu.rows('email').find((e) => e.activityid === drafted.structuredContent.id)!;
    expect(email).toMatchObject({
      subject: `RE: ${target.title}`,
      description: 'Please use the one-time reset link we sent (KA-01002).',
      statecode: 0,
      statuscode: 1,
      directioncode: true,
      regardingobjectid: { id: caseId, entity: 'incident' },
      ownerid: { id: owner },
    });
    // to the case's contact, and from its owner, who is given it to send
    const parties = emu.rows('activityparty').filter((x) => idOf(x.activityid) === email.activityid);
    expect(parties.map((x) => [idOf(x.partyid), x.participationtypemask]).sort()).toEqual(
      [
        [contact, 2],
        [owner, 1],
      ].sort(),
    );
    // 5. the article recorded on the case, as the prompt offers
    const values = JSON.parse(
      /create_record on knowledgearticleincident with (\{.*?\})\)/
        .exec(text)![1]!
        .replace('<article id>', String(latest.knowledgearticleid))
        .replace('<case id>', caseId),
    );
    const made = await h.call('create_record', { entity: 'knowledgearticleincident', values });
    expect(made.isError, textOf(made)).toBeFalsy();
    expect(uses().filter((u) => idOf(u.incidentid) === caseId)).toMatchObject([
      { knowledgeusage: 2, issenttocustomer: false, knowledgearticleidname: latest.title },
    ]);
  });

  it('answer_case is offered where the policy shows articles, and offers no write on a read-only server', async () => {
    const ro = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn', DYNAMICS_MCP_READ_ONLY: 'true' } });
    try {
      const p = await ro.client.getPrompt({ name: 'answer_case', arguments: { case: 'printer' } });
      const text = (p.messages[0]!.content as { text: string }).text;
      expect(text).toContain('where {"title":{"contains":"printer"}}');
      expect(text).not.toContain('create_record');
      expect(text).toMatch(/Change nothing\.$/);
    } finally {
      await ro.close();
    }
    const policy = builtInPolicyWith('no-article-content', (e) => ({
      ...e,
      knowledgearticle: { ...e.knowledgearticle!, read: e.knowledgearticle!.read!.filter((c) => c !== 'content') },
    }));
    const hidden = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy, LOG_LEVEL: 'warn' } });
    try {
      const { prompts } = await hidden.client.listPrompts();
      expect(prompts.map((x) => x.name)).not.toContain('answer_case');
    } finally {
      await hidden.close();
    }
  });

  it('review_support: the articles that solved the most cases in the period, as written', async () => {
    const p = await h.client.getPrompt({ name: 'review_support', arguments: { period: 'last 12 months' } });
    const text = (p.messages[0]!.content as { text: string }).text;
    const a =
      /aggregate_records on knowledgearticleincident with where (\{[^\n]*?\}), groupBy "(.*?)" and measures "(.*?)"/.exec(
        text,
      )!;
    const r = await h.call('aggregate_records', {
      entity: 'knowledgearticleincident',
      where: JSON.parse(a[1]!),
      groupBy: a[2],
      measures: a[3],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const since = new Date();
    since.setUTCFullYear(since.getUTCFullYear() - 1);
    const inPeriod = uses().filter(
      (u) => u.knowledgeusage === 2 && String(u.createdon).slice(0, 10) >= since.toISOString().slice(0, 10),
    );
    const total = r.structuredContent.groups.reduce((n: number, g: { count: number }) => n + g.count, 0);
    expect(total).toBe(inPeriod.length);
    expect(total).toBeGreaterThan(0);
    expect(text).toContain('the articles that solved the most cases');
  });

  it('an article named by its title is its latest version, not the archived one with the same title', async () => {
    const latest = articles().find((a) => a.articlepublicnumber === 'KA-01002' && a.islatestversion === true)!;
    const open = emu
      .rows('incident')
      .filter((x) => x.statecode === 0 && !uses().some((u) => idOf(u.incidentid) === x.incidentid))
      .at(-1)!;
    const r = await h.call('create_record', {
      entity: 'knowledgearticleincident',
      values: { knowledgearticleid: 'Resetting a customer password', incidentid: String(open.incidentid) },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(
      uses()
        .filter((u) => idOf(u.incidentid) === open.incidentid)
        .map((u) => idOf(u.knowledgearticleid)),
    ).toEqual([latest.knowledgearticleid]);
    // the answer says which record the title was taken to be
    expect(textOf(r)).toContain('Resetting a customer password');
  });

  it('an article by its public number (KA-01002) is its latest version; a use of no article is refused', async () => {
    const latest = articles().find((a) => a.articlepublicnumber === 'KA-01002' && a.islatestversion === true)!;
    const free = emu
      .rows('incident')
      .filter((x) => x.statecode === 0 && !uses().some((u) => idOf(u.incidentid) === x.incidentid));
    const r = await h.call('create_record', {
      entity: 'knowledgearticleincident',
      values: { knowledgearticleid: 'KA-01002', incidentid: String(free[0]!.incidentid) },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain('Knowledge Article: Resetting a customer password, KA-01002 (knowledgearticle)');
    expect(
      uses()
        .filter((u) => idOf(u.incidentid) === free[0]!.incidentid)
        .map((u) => idOf(u.knowledgearticleid)),
    ).toEqual([latest.knowledgearticleid]);
    const before = emu.requests().filter((x) => x.method !== 'GET').length;
    const none = await h.call('create_record', {
      entity: 'knowledgearticleincident',
      values: { incidentid: String(free[1]!.incidentid), knowledgeusage: 'Solution' },
    });
    expect(none.isError).toBe(true);
    expect(textOf(none)).toBe(
      'Error (bad_input): A knowledgearticleincident records a knowledgearticle used on an incident: it needs knowledgearticleid.\n' +
        'How to fix: Pass {"knowledgearticleid": "<knowledgearticle id or name>", "incidentid": "<incident id or number>"}.',
    );
    expect(emu.requests().filter((x) => x.method !== 'GET').length).toBe(before);
  });

  it('a draft with the subject of an email sent or received on the record is a new draft; again, that draft', async () => {
    const filed = emu.rows('email').find((e) => e.statecode === 1 && e.regardingobjectid)!;
    const regarding = filed.regardingobjectid as { id: string; entity: string };
    const values = { subject: String(filed.subject), description: 'Our answer', regardingobjectid: regarding };
    const first = await h.call('create_record', { entity: 'email', values });
    expect(first.isError, textOf(first)).toBeFalsy();
    expect(first.structuredContent).toMatchObject({ duplicate: false });
    expect(first.structuredContent.id).not.toBe(filed.activityid);
    const again = await h.call('create_record', { entity: 'email', values });
    expect(again.structuredContent).toMatchObject({ id: first.structuredContent.id, duplicate: true });
    const drafts = emu
      .rows('email')
      .filter((e) => e.subject === filed.subject && idOf(e.regardingobjectid) === regarding.id && e.statecode === 0);
    expect(drafts).toHaveLength(1);
  });

  it('an email here is a draft: it cannot be sent, completed or have its state changed', async () => {
    const received = emu.rows('email').find((e) => e.statecode === 1)!;
    const before = emu.requests().filter((x) => x.method !== 'GET').length;
    const sent = await h.call('update_record', {
      entity: 'email',
      id: String(received.activityid),
      values: { statecode: 'Completed' },
    });
    expect(sent.isError).toBe(true);
    expect(textOf(sent)).toContain("Column 'statecode' of 'email' cannot be written under this server's policy.");
    const made = await h.call('create_record', {
      entity: 'email',
      values: { subject: 'Sent already?', statecode: 'Completed' },
    });
    expect(made.isError).toBe(true);
    expect(textOf(made)).toContain('email.statecode is not writable');
    expect(emu.requests().filter((x) => x.method !== 'GET').length).toBe(before);
    expect(emu.requests().some((x) => /SendEmail/.test(x.url))).toBe(false);
  });

  it('articles are read only here: a change is refused before anything is sent', async () => {
    const article = articles().find((a) => a.statecode === 0)!;
    const before = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'knowledgearticle',
      id: String(article.knowledgearticleid),
      values: { title: 'Renamed' },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain("Writing to 'knowledgearticle' is not allowed under this server's policy.");
    expect(
      emu
        .requests()
        .slice(before)
        .filter((x) => x.method !== 'GET'),
    ).toEqual([]);
    expect(articles().find((a) => a.knowledgearticleid === article.knowledgearticleid)!.title).toBe(article.title);
  });
});
