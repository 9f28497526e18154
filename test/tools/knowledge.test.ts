import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

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
