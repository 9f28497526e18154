import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// A choices column (several options at once), as "Choices columns" (Microsoft Learn) documents it with its own
// example, contact.sample_outdooractivities: set as "1, 9", read as "1,9" with the labels "Swimming; Camping"
// as its formatted value, and found with the query functions ContainValues and DoesNotContainValues.
const COLUMN = 'sample_outdooractivities';
const HIKING = 2;
const CAMPING = 9;

describe('a choices column (several options at once) an administrator lets the model use', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  let hidden: McpHarness;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 20 });
    const policy = builtInPolicyWith('choices', (entities) => ({
      ...entities,
      contact: {
        ...entities.contact!,
        read: [...(entities.contact!.read ?? []), COLUMN],
        write: [...(entities.contact!.write ?? []), COLUMN],
      },
    }));
    h = await connectInMemory(emu, { env: { DYNAMICS_MCP_POLICY: policy } });
    // the built-in policy, which does not name the column
    hidden = await connectInMemory(emu);
  });
  afterAll(async () => {
    await h.close();
    await hidden.close();
    await emu.close();
  });

  const options = (c: Record<string, unknown>) =>
    c[COLUMN] === null || c[COLUMN] === undefined ? [] : String(c[COLUMN]).split(',').map(Number);
  const contacts = () => emu.rows('contact');
  const someContact = (has: (o: number[]) => boolean) => contacts().find((c) => has(options(c)))!;

  it('describe_entity lists it with its options', async () => {
    const r = await h.call('describe_entity', { entity: 'contact' });
    const column = r.structuredContent.entity.columns.find((c: { name: string }) => c.name === COLUMN);
    expect(column).toMatchObject({ label: 'Outdoor activities', type: 'MultiSelectPicklist', read: true, write: true });
    expect(column.options.slice(0, 2)).toEqual([
      { value: 1, label: 'Swimming' },
      { value: 2, label: 'Hiking' },
    ]);
  });

  it('reads the options chosen as choices read, each with its label and number', async () => {
    const c = someContact((o) => o.length === 2 && o.includes(1) && o.includes(CAMPING));
    const r = await h.call('get_record', { entity: 'contact', id: c.contactid, select: ['fullname', COLUMN] });
    expect(r.structuredContent.record[COLUMN]).toBe('Swimming (1); Camping (9)');
  });

  it('finds the records that have an option, by its label, with ContainValues', async () => {
    const since = emu.requests().length;
    const r = await h.call('query_entities', {
      entity: 'contact',
      select: ['fullname', COLUMN],
      where: { [COLUMN]: 'hiking' },
      top: 500,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const ids = r.structuredContent.records.map((x: { id: string }) => x.id).sort();
    const hikers = contacts()
      .filter((c) => options(c).includes(HIKING))
      .map((c) => c.contactid)
      .sort();
    expect(hikers.length).toBeGreaterThan(3);
    expect(ids).toEqual(hikers);
    for (const x of r.structuredContent.records) expect(x[COLUMN]).toContain('Hiking (2)');
    const sent = emu
      .requests()
      .slice(since)
      .find((q) => q.url.startsWith('/api/data/v9.2/contacts?'))!;
    expect(decodeURIComponent(sent.url)).toContain(
      `Microsoft.Dynamics.CRM.ContainValues(PropertyName='${COLUMN}',PropertyValues=["2"])`,
    );
  });

  it('"in" finds the records with any of the options, "notIn" those with none of them', async () => {
    const ask = (op: 'in' | 'notIn') =>
      h.call('query_entities', {
        entity: 'contact',
        select: ['fullname'],
        where: { [COLUMN]: { [op]: ['Skiing', 'Boating'] } },
        top: 500,
      });
    const any = (c: Record<string, unknown>) => options(c).some((o) => o === 8 || o === 7);
    const [withAny, withNone] = await Promise.all([ask('in'), ask('notIn')]);
    expect(withAny.structuredContent.records.length).toBe(contacts().filter(any).length);
    expect(withNone.structuredContent.records.length).toBe(contacts().filter((c) => !any(c)).length);
    expect(withAny.structuredContent.records.length).toBeGreaterThan(0);
  });

  it('"not" an option is the records that lack it (DoesNotContainValues: Dataverse takes no not around a query function)', async () => {
    const r = await h.call('query_entities', {
      entity: 'contact',
      select: [COLUMN],
      where: { not: { [COLUMN]: 'Hiking' } },
      top: 500,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.records.length).toBe(contacts().filter((c) => !options(c).includes(HIKING)).length);
    for (const x of r.structuredContent.records) expect(String(x[COLUMN] ?? '')).not.toContain('Hiking');
  });

  it('refuses what it cannot mean, saying what to send instead', async () => {
    const both = await h.call('query_entities', { entity: 'contact', where: { [COLUMN]: 'Hiking; Camping' } });
    expect(both.isError).toBe(true);
    expect(textOf(both)).toContain('takes one option, not 2');
    // each of them, as an "and"; any of them, as in
    expect(textOf(both)).toContain(`{"and": [{"${COLUMN}":{"eq":"Hiking"}}, {"${COLUMN}":{"eq":"Camping"}}]}`);
    expect(textOf(both)).toContain(`{"${COLUMN}": {"in": ["Hiking","Camping"]}}`);
    const ordered = await h.call('query_entities', { entity: 'contact', where: { [COLUMN]: { gt: 'Hiking' } } });
    expect(textOf(ordered)).toContain('"gt" does not apply to contact.sample_outdooractivities, a choices column');
    const misspelt = await h.call('query_entities', { entity: 'contact', where: { [COLUMN]: 'Hikking' } });
    expect(textOf(misspelt)).toContain('Did you mean 2 (Hiking)?');
    // through a lookup, ContainValues' PropertyName is not documented
    const through = await h.call('query_entities', {
      entity: 'account',
      where: { [`primarycontactid/${COLUMN}`]: 'Hiking' },
    });
    expect(textOf(through)).toContain('is a choices column of contact, compared only on its own table');
  });

  it('OData text: a label compared whole is refused (it would match nothing), ContainValues is checked by the policy', async () => {
    const label = await h.call('query_entities', { entity: 'contact', filter: `${COLUMN} eq 'Hiking'` });
    expect(label.isError).toBe(true);
    expect(textOf(label)).toContain(
      `Microsoft.Dynamics.CRM.ContainValues(PropertyName='${COLUMN}',PropertyValues=['1'])`,
    );
    const fn = `Microsoft.Dynamics.CRM.ContainValues(PropertyName='${COLUMN}',PropertyValues=['${CAMPING}'])`;
    const r = await h.call('query_entities', { entity: 'contact', filter: fn, select: ['fullname'], top: 500 });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent.records.length).toBe(contacts().filter((c) => options(c).includes(CAMPING)).length);
    // where the policy does not name the column, the function cannot read it either
    const refused = await hidden.call('query_entities', { entity: 'contact', filter: fn });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain(`The column '${COLUMN}' of contact is not readable under this server's policy.`);
  });

  it('update_record sets the options from a list, from text or as results read them, and [] clears them', async () => {
    const c = someContact((o) => o.length === 1);
    const id = String(c.contactid);
    const set = async (value: unknown) => {
      const r = await h.call('update_record', { entity: 'contact', id, values: { [COLUMN]: value } });
      expect(r.isError, textOf(r)).toBeFalsy();
      return emu.rows('contact').find((x) => x.contactid === id)![COLUMN];
    };
    expect(await set(['Skiing', 'running'])).toBe('8,6');
    expect(await set('Hiking; Camping')).toBe('2,9');
    expect(await set('Swimming (1); Boating (7)')).toBe('1,7');
    expect(await set([4])).toBe('4');
    expect(await set([])).toBeNull();
    // a misspelt option is refused with the one meant, and nothing is written
    const wrong = await h.call('update_record', { entity: 'contact', id, values: { [COLUMN]: 'Hiking, Kayakking' } });
    expect(wrong.isError).toBe(true);
    expect(textOf(wrong)).toContain("'Kayakking' is not a value of contact.sample_outdooractivities.");
    expect(emu.rows('contact').find((x) => x.contactid === id)![COLUMN]).toBeNull();
    // a list is still no value for a column that holds one
    const list = await h.call('update_record', { entity: 'contact', id, values: { jobtitle: ['CTO', 'CEO'] } });
    expect(textOf(list)).toContain('contact.jobtitle takes one value, not a list.');
  });

  it('create_record takes the options as Dataverse documents them ("1, 9")', async () => {
    const r = await h.call('create_record', {
      entity: 'contact',
      values: { firstname: 'Wayne', lastname: 'Yarborough', [COLUMN]: '1, 9' },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(emu.rows('contact').find((c) => c.contactid === r.structuredContent.id)![COLUMN]).toBe('1,9');
    // or as a list of numbers or labels
    const listed = await h.call('create_record', {
      entity: 'contact',
      values: { firstname: 'Monte', lastname: 'Orton', [COLUMN]: [HIKING, 'Skiing'] },
    });
    expect(listed.isError, textOf(listed)).toBeFalsy();
    expect(emu.rows('contact').find((c) => c.contactid === listed.structuredContent.id)![COLUMN]).toBe('2,8');
  });

  it('aggregate_records groups by each option, a record with several counted under each, and those with none apart', async () => {
    const r = await h.call('aggregate_records', { entity: 'contact', groupBy: [COLUMN], top: 20 });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain('a record with several sample_outdooractivities options is counted under each');
    const counted = new Map<string | null, number>(
      r.structuredContent.groups.map((g: Record<string, unknown>) => [g[COLUMN], g.count]),
    );
    const rows = contacts();
    expect(counted.get('Camping (9)')).toBe(rows.filter((c) => options(c).includes(CAMPING)).length);
    expect(counted.get('Hiking (2)')).toBe(rows.filter((c) => options(c).includes(HIKING)).length);
    expect(counted.get(null)).toBe(rows.filter((c) => !options(c).length).length);
    // Running is no one's: no group, as grouping makes none for a value no record has
    expect(rows.some((c) => options(c).includes(6))).toBe(false);
    expect(counted.has('Running (6)')).toBe(false);
  });
});
