import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { EUR_RATE } from '../../src/emulator/seed/seed.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

// Sales' product catalogue and the products on deals ("Product" and "OpportunityProduct" table references; a
// deal's lines are its product_opportunities): what a seller asks of them, read through the built-in policy.
describe('products on deals: what is on a deal, which deals have a product, revenue per product', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  type Row = Record<string, any>;
  const idOf = (v: unknown) => (v as { id: string } | null)?.id;
  /** the emulator's rows, read as the loosely typed records they are */
  const rows = (table: string) => emu.rows(table) as Row[];
  const productName = (id: string | undefined) => rows('product').find((p) => p.productid === id)?.name;
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 40 });
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  it("a deal's products: each line's product, quantity, price, discount and amount, as Dynamics summed them", async () => {
    const lines = rows('opportunityproduct');
    const deal = emu
      .rows('opportunity')
      .find((o) => lines.filter((l) => idOf(l.opportunityid) === o.opportunityid).length === 3)!;
    const r = await h.call('query_entities', {
      entity: 'opportunity',
      where: { opportunityid: deal.opportunityid },
      select: ['name'],
      expand: [
        {
          relation: 'product_opportunities',
          select: [
            'productid',
            'productdescription',
            'quantity',
            'priceperunit',
            'manualdiscountamount',
            'extendedamount',
          ],
          orderBy: 'sequencenumber',
        },
      ],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const got = r.structuredContent.records[0].product_opportunities as Row[];
    const want = lines
      .filter((l) => idOf(l.opportunityid) === deal.opportunityid)
      .sort((a, b) => a.sequencenumber - b.sequencenumber);
    expect(got.map((l) => l.productid?.name ?? l.productdescription)).toEqual(
      want.map((l) => productName(idOf(l.productid)) ?? l.productdescription),
    );
    // an implementation and a write-in (travel: no product, a description) follow the deal's own product
    expect(got[1]!.productid.name).toBe('Implementation day');
    expect(got.at(-1)).toMatchObject({ productdescription: 'Travel and expenses', quantity: 1 });
    expect(got.at(-1)!.productid ?? null).toBeNull();
    for (const [i, line] of got.entries()) {
      const w = want[i]!;
      expect(line.extendedamount).toBe(
        Math.round((w.priceperunit * w.quantity - (w.manualdiscountamount ?? 0)) * 100) / 100,
      );
      expect(line).toMatchObject({ quantity: w.quantity, priceperunit: w.priceperunit });
    }
  });

  it('the deals with a product, by its name: each has a line of it, and no other deal is listed', async () => {
    const product = rows('product').find((p) => p.name === 'Implementation day')!;
    const have = new Set(
      emu
        .rows('opportunityproduct')
        .filter((l) => idOf(l.productid) === product.productid)
        .map((l) => idOf(l.opportunityid)),
    );
    expect(have.size).toBeGreaterThan(1);
    const r = await h.call('query_entities', {
      entity: 'opportunity',
      where: { product_opportunities: 'Implementation day' },
      select: ['name'],
      top: 100,
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(new Set(r.structuredContent.records.map((o: Row) => o.id))).toEqual(have);
  });

  it("revenue per product is summed by Dynamics in the base currency: a euro deal's lines are converted", async () => {
    const r = await h.call('aggregate_records', {
      entity: 'opportunityproduct',
      groupBy: ['productid'],
      measures: [{ sum: 'extendedamount_base' }, 'count'],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const lines = rows('opportunityproduct');
    const euro = lines.filter((l) => l.exchangerate === EUR_RATE);
    expect(euro.length).toBeGreaterThan(0);
    const want = new Map<string | null, number>();
    for (const l of lines) {
      const key = productName(idOf(l.productid)) ?? null;
      want.set(key, (want.get(key) ?? 0) + Math.round((l.extendedamount / l.exchangerate) * 100) / 100);
    }
    const groups = r.structuredContent.groups as Row[];
    expect(groups).toHaveLength(want.size);
    for (const g of groups) expect(g.sum_extendedamount_base).toBeCloseTo(want.get(g.productid?.name ?? null)!, 2);
    // the largest first, a write-in line's group is the one without a product
    expect(groups.map((g) => g.sum_extendedamount_base)).toEqual(
      [...groups.map((g) => g.sum_extendedamount_base)].sort((a, b) => b - a),
    );
  });

  it('the catalogue is read, not its costs; lines are not written under the built-in policy', async () => {
    const retired = await h.call('query_entities', {
      entity: 'product',
      where: { statecode: 'Retired' },
      select: ['name', 'productnumber', 'price'],
    });
    expect(retired.structuredContent.records).toEqual([
      expect.objectContaining({
        name: 'On-premises CRM licence (legacy)',
        productnumber: 'LIC-ONPREM-OLD',
        price: 480,
      }),
    ]);
    const since = emu.requests().length;
    const cost = await h.call('query_entities', { entity: 'product', select: ['name', 'standardcost'] });
    expect(cost.isError).toBe(true);
    expect(textOf(cost)).toContain('standardcost');
    const write = await h.call('create_record', {
      entity: 'opportunityproduct',
      values: { productdescription: 'Free upgrade', quantity: 1, priceperunit: 0 },
    });
    expect(write.isError).toBe(true);
    expect(textOf(write)).toContain('opportunityproduct');
    // neither reached Dynamics
    expect(
      emu
        .requests()
        .slice(since)
        .filter((q) => q.service === 'webapi' && /standardcost|opportunityproducts/.test(q.url)),
    ).toEqual([]);
  });
});
