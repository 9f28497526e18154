import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { auditLog, connectInMemory, type McpHarness, serveWithAuditLog, textOf } from '../helpers/mcp.js';

// "Associate and disassociate table rows using the Web API": an opportunity's competitors are a many-to-many
// relationship (opportunitycompetitors_association), linked with POST …/$ref and unlinked with DELETE …(<id>)/$ref.
// The built-in policy lets update_record link and unlink them ("we are up against Nimbus CRM on this deal").
describe('update_record links and unlinks records of a many-to-many relationship', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const NAV = 'opportunitycompetitors_association';
  const competitor = (name: string) => String(emu.rows('competitor').find((c) => c.name === name)!.competitorid);
  /** the names of the competitors a deal is linked to, as the emulator holds them */
  const rivals = (deal: string) =>
    emu
      .rows('opportunitycompetitors')
      .filter((p) => p.opportunityid === deal)
      .map((p) => emu.rows('competitor').find((c) => c.competitorid === p.competitorid)!.name)
      .sort();
  const refs = (since: number) =>
    emu
      .requests()
      .slice(since)
      .filter((r) => r.service === 'webapi' && r.url.includes('/$ref'));
  let deal: string;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 10 });
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
    const made = await h.call('create_record', {
      entity: 'opportunity',
      values: {
        name: 'Links: a deal with rivals',
        estimatedvalue: 12000,
        customerid: { entity: 'account', id: String(emu.rows('account')[0]!.accountid) },
      },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    deal = made.structuredContent.id;
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  it('links competitors named by name or id, says which, and sends no update of the deal itself', async () => {
    const since = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: 'Links: a deal with rivals',
      values: { [NAV]: ['Nimbus CRM', competitor('Kestrel Analytics')] },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(rivals(deal)).toEqual(['Kestrel Analytics', 'Nimbus CRM']);
    expect(r.structuredContent.changed[NAV]).toEqual({
      linked: [
        { id: competitor('Nimbus CRM'), name: 'Nimbus CRM' },
        { id: competitor('Kestrel Analytics'), name: 'Kestrel Analytics' },
      ],
    });
    expect(textOf(r)).toContain(`${NAV}: linked competitor Nimbus CRM, Kestrel Analytics.`);
    expect(refs(since).map((x) => x.method)).toEqual(['POST', 'POST']);
    expect(
      emu
        .requests()
        .slice(since)
        .filter((x) => x.method === 'PATCH'),
    ).toEqual([]);
  });

  it('adds and removes in one call with a column: each link made once, what was already so said', async () => {
    const since = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: deal,
      values: {
        closeprobability: 35,
        [NAV]: { add: ['Nimbus CRM', 'Orbitrack Software'], remove: ['Kestrel Analytics', 'Meridian Cloud'] },
      },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(rivals(deal)).toEqual(['Nimbus CRM', 'Orbitrack Software']);
    expect(emu.rows('opportunity').find((o) => o.opportunityid === deal)!.closeprobability).toBe(35);
    expect(Object.keys(r.structuredContent.changed[NAV]).sort()).toEqual([
      'alreadyLinked',
      'linked',
      'notLinked',
      'unlinked',
    ]);
    expect(textOf(r)).toContain(
      `${NAV}: linked competitor Orbitrack Software; Nimbus CRM already linked; unlinked competitor Kestrel Analytics; Meridian Cloud not linked (nothing to unlink).`,
    );
    // one POST for the new link and one DELETE for the one there: nothing sent for the two already so
    expect(refs(since).map((x) => x.method)).toEqual(['POST', 'DELETE']);
  });

  it('links asked for that are already so change nothing, and the answer says so', async () => {
    const since = emu.requests().length;
    const r = await h.call('update_record', { entity: 'opportunity', id: deal, values: { [NAV]: ['Nimbus CRM'] } });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.updated).toBe(false);
    expect(textOf(r)).toMatch(
      /^Nothing changed on opportunity "Links: a deal with rivals" \(.*\)\. opportunitycompetitors_association: Nimbus CRM already linked\.$/,
    );
    expect(refs(since)).toEqual([]);
  });

  it('refuses before writing anything: a name no competitor has, a cleared list, a one-to-many list', async () => {
    const before = emu.rows('opportunitycompetitors').length;
    const probability = emu.rows('opportunity').find((o) => o.opportunityid === deal)!.closeprobability;
    const since = emu.requests().length;
    const unknown = await h.call('update_record', {
      entity: 'opportunity',
      id: deal,
      values: { closeprobability: 90, [NAV]: ['Nimbus'] },
    });
    expect(unknown.isError).toBe(true);
    // the names that contain it, to choose from
    expect(textOf(unknown)).toContain(`Nimbus CRM (competitor) — ${competitor('Nimbus CRM')}`);
    const cleared = await h.call('update_record', { entity: 'opportunity', id: deal, values: { [NAV]: null } });
    expect(textOf(cleared)).toContain(`{"${NAV}": {"remove": ["<name or id>"]}}`);
    const oneToMany = await h.call('update_record', {
      entity: 'opportunity',
      id: deal,
      values: { Opportunity_Annotation: ['a note'] },
    });
    expect(oneToMany.isError).toBe(true);
    expect(textOf(oneToMany)).toContain(
      `update that annotation (once this opportunity exists): {"objectid": {"entity": "opportunity", "id": "<this opportunity's id>"}}`,
    );
    const bothWays = await h.call('update_record', {
      entity: 'opportunity',
      id: deal,
      values: { [NAV]: { add: ['Meridian Cloud'], remove: [competitor('Meridian Cloud')] } },
    });
    expect(textOf(bothWays)).toContain('both to be linked and to be unlinked');
    const many = await h.call('update_record', {
      entity: 'opportunity',
      id: deal,
      values: { [NAV]: Array.from({ length: 26 }, (_, i) => `Rival ${i}`) },
    });
    expect(textOf(many)).toContain('names 26 records; at most 25 are linked or unlinked in one call');
    const none = await h.call('update_record', { entity: 'opportunity', id: deal, values: { [NAV]: { add: [] } } });
    expect(textOf(none)).toContain(`values.${NAV} names no competitor records to link or unlink.`);
    const shape = await h.call('update_record', { entity: 'opportunity', id: deal, values: { [NAV]: { add: 5 } } });
    expect(textOf(shape)).toContain('a many-to-many relationship takes the records to link, or {"add"');
    expect(emu.rows('opportunitycompetitors')).toHaveLength(before);
    expect(emu.rows('opportunity').find((o) => o.opportunityid === deal)!.closeprobability).toBe(probability);
    expect(
      emu
        .requests()
        .slice(since)
        .filter((x) => x.method !== 'GET'),
    ).toEqual([]);
  });

  it('links only through a relationship the policy lets it write (the competitor side is read only)', async () => {
    const since = emu.requests().length;
    const r = await h.call('update_record', {
      entity: 'competitor',
      id: 'Nimbus CRM',
      values: { [NAV]: [deal] },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(
      /^Error \(policy\): Linking or unlinking records through 'opportunitycompetitors_association' of competitor is not allowed/,
    );
    expect(refs(since)).toEqual([]);
  });

  it("an etag that is no longer the deal's refuses a link-only change, with nothing linked", async () => {
    const stale = 'W/"1"';
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: deal,
      etag: stale,
      values: { [NAV]: ['Meridian Cloud'] },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('was changed by someone else since you read it');
    expect(rivals(deal)).not.toContain('Meridian Cloud');
  });

  it('closing a deal and linking to it in one call is refused, naming the two calls', async () => {
    const r = await h.call('update_record', {
      entity: 'opportunity',
      id: deal,
      values: { statecode: 'Lost', [NAV]: ['Meridian Cloud'] },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('Call update_record twice');
    expect(emu.rows('opportunity').find((o) => o.opportunityid === deal)!.statecode).toBe(0);
  });

  it('create_record links a new record as it makes it; a record found instead is not linked, and says so', async () => {
    const customer = { entity: 'account', id: String(emu.rows('account')[1]!.accountid) };
    const r = await h.call('create_record', {
      entity: 'opportunity',
      values: { name: 'Links: a new deal', customerid: customer, [NAV]: ['Orbitrack Software', 'Meridian Cloud'] },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(rivals(r.structuredContent.id)).toEqual(['Meridian Cloud', 'Orbitrack Software']);
    expect(textOf(r)).toMatch(
      / opportunitycompetitors_association: linked competitor Orbitrack Software, Meridian Cloud\.$/,
    );
    const again = await h.call('create_record', {
      entity: 'opportunity',
      values: { name: 'Links: a new deal', customerid: customer, [NAV]: ['Nimbus CRM'] },
    });
    expect(again.structuredContent.duplicate).toBe(true);
    expect(textOf(again)).toContain(
      'Nothing was linked to it (link Nimbus CRM through opportunitycompetitors_association)',
    );
    expect(rivals(r.structuredContent.id)).toEqual(['Meridian Cloud', 'Orbitrack Software']);
    // nothing to unlink on a new record: refused before it is made
    const before = emu.rows('opportunity').length;
    const removing = await h.call('create_record', {
      entity: 'opportunity',
      values: { name: 'Links: never made', customerid: customer, [NAV]: { remove: ['Nimbus CRM'] } },
    });
    expect(textOf(removing)).toContain('a new opportunity has nothing to unlink');
    expect(emu.rows('opportunity')).toHaveLength(before);
  });

  it('describe_entity marks the relationship link: true and says how to link through it', async () => {
    const r = await h.call('describe_entity', { entity: 'opportunity' });
    const rel = r.structuredContent.entity.relationships.find((x: { name: string }) => x.name === NAV);
    expect(rel).toEqual({ name: NAV, target: 'competitor', many: true, link: true });
    expect(textOf(r)).toContain(`Records are linked through ${NAV} (link: true) with update_record`);
    const other = await h.call('describe_entity', { entity: 'competitor' });
    expect(other.structuredContent.entity.relationships.find((x: { name: string }) => x.name === NAV)).toEqual({
      name: NAV,
      target: 'opportunity',
      many: true,
    });
  });

  it("a link already made when the POST arrives (Dataverse's duplicate key, 0x80040237) is taken as made", async () => {
    const meridian = competitor('Meridian Cloud');
    await h.deps.client.link('opportunity', deal, NAV, { add: [meridian], remove: [] });
    // another writer's link between our read of the list and our POST: the read says not linked, the POST meets it
    emu.addFault({
      match: { method: 'GET', path: `/api/data/v9.2/opportunities(${deal})/${NAV}` },
      response: { status: 200, body: { value: [] } },
    });
    const since = emu.requests().length;
    const r = await h.deps.client.link('opportunity', deal, NAV, { add: [meridian], remove: [] });
    emu.clearFaults();
    expect(r).toMatchObject({ added: [], already: [meridian] });
    expect(refs(since).map((x) => x.method)).toEqual(['POST']);
    expect(rivals(deal).filter((n) => n === 'Meridian Cloud')).toHaveLength(1);
  });
});

// A link change cut short (a refusal after some links were made): the error says what was done, the audit log
// holds it, and the same call again finishes the rest without doubling anything
describe('update_record links cut short by an error', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  const audit = auditLog('links');
  serveWithAuditLog(audit, (e, harness) => {
    emu = e;
    h = harness;
  });
  const NAV = 'opportunitycompetitors_association';
  const competitor = (name: string) => String(emu.rows('competitor').find((c) => c.name === name)!.competitorid);
  const refused = { status: 400, body: { error: { code: '0x80040203', message: 'Invalid argument.' } } };

  it('says what was linked before the error, audits it, and a second call does the rest', async () => {
    const linked = new Set(emu.rows('opportunitycompetitors').map((p) => String(p.opportunityid)));
    const deal = String(
      emu.rows('opportunity').find((o) => o.statecode === 0 && !linked.has(String(o.opportunityid)))!.opportunityid,
    );
    await h.deps.client.link('opportunity', deal, NAV, { add: [competitor('Meridian Cloud')], remove: [] });
    // the unlink that follows the link is refused
    emu.addFault({
      match: { method: 'DELETE', path: `/api/data/v9.2/opportunities(${deal})/${NAV}(` },
      response: refused,
    });
    const values = { closeprobability: 55, [NAV]: { add: ['Nimbus CRM'], remove: ['Meridian Cloud'] } };
    const r = await h.call('update_record', { entity: 'opportunity', id: deal, values });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(
      `Done before it: opportunity ${deal} was updated: {"closeprobability":55}; ${NAV}: linked competitor Nimbus CRM.`,
    );
    expect(textOf(r)).toContain('Calling again with the same values does the rest');
    // the link made is in the audit log, before the entry for the failed call
    const entries = await audit.all();
    expect(entries.filter((e) => e.id === deal && e.action === 'link')).toEqual([
      expect.objectContaining({
        tool: 'update_record',
        columns: { [NAV]: { linked: [competitor('Nimbus CRM')], unlinked: [] } },
      }),
    ]);
    const again = await h.call('update_record', { entity: 'opportunity', id: deal, values });
    expect(again.isError, textOf(again)).toBeFalsy();
    expect(textOf(again)).toContain(`${NAV}: Nimbus CRM already linked; unlinked competitor Meridian Cloud.`);
    const rivals = emu.rows('opportunitycompetitors').filter((p) => p.opportunityid === deal);
    expect(rivals.map((p) => p.competitorid)).toEqual([competitor('Nimbus CRM')]);
  });
});
