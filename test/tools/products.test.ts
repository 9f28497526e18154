import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { EUR_RATE } from '../../src/emulator/seed/seed.js';
import { startTestEmulator } from '../helpers/emulator.js';
import { builtInPolicyWith, connectInMemory, type McpHarness, textOf } from '../helpers/mcp.js';

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

  // a deal has no related list of products, but of its product lines, each pointing at a product
  it('a deal\'s "products", as users say it, are its product lines; an account, which has none, is refused', async () => {
    const lines = rows('opportunityproduct');
    const deal = emu
      .rows('opportunity')
      .find((o) => lines.filter((l) => idOf(l.opportunityid) === o.opportunityid).length === 3)!;
    const r = await h.call('get_record', {
      entity: 'opportunity',
      id: String(deal.opportunityid),
      expand: ['products'],
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    const got = r.structuredContent.record.product_opportunities as Row[];
    expect(got.map((l) => l.id).sort()).toEqual(
      lines
        .filter((l) => idOf(l.opportunityid) === deal.opportunityid)
        .map((l) => l.opportunityproductid)
        .sort(),
    );
    const account = await h.call('get_record', {
      entity: 'account',
      id: String(emu.rows('account')[0]!.accountid),
      expand: ['products'],
    });
    expect(textOf(account)).toMatch(/^Error \(unknown_column\): 'products' is not a relationship of account\./);
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

  it('the catalogue is read, not its costs', async () => {
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
    // it never reached Dynamics
    expect(
      emu
        .requests()
        .slice(since)
        .filter((q) => q.service === 'webapi' && q.url.includes('standardcost')),
    ).toEqual([]);
  });
});

describe('adding products to a deal with create_record, as Dynamics prices and totals them', () => {
  let emu: EmulatorHandle;
  let h: McpHarness;
  type Row = Record<string, any>;
  const rows = (table: string) => emu.rows(table) as Row[];
  const linesOf = (deal: string) => rows('opportunityproduct').filter((l) => l.opportunityid?.id === deal);
  const product = (name: string) => rows('product').find((p) => p.name === name)!;
  const idOf = (v: unknown) => (v as { id: string } | null)?.id;
  /** an open deal in US dollars with no lines yet, made for the test */
  const newDeal = async (name: string) => {
    const made = await h.call('create_record', {
      entity: 'opportunity',
      values: { name, estimatedvalue: 50000, parentaccountid: String(rows('account')[0]!.accountid) },
    });
    expect(made.isError, textOf(made)).toBeFalsy();
    return String(made.structuredContent.id);
  };
  beforeAll(async () => {
    emu = await startTestEmulator({ scale: 20 });
    h = await connectInMemory(emu, { env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(async () => {
    await h.close();
    await emu.close();
  });

  it("a product by name on a deal by name: its default unit, Dynamics' price, the amounts said; asked again, not added twice", async () => {
    const deal = await newDeal('Products: analytics for Contoso');
    const licence = product('Analytics licence');
    const args = {
      entity: 'opportunityproduct',
      values: { opportunityid: 'Products: analytics for Contoso', productid: 'Analytics licence', quantity: 20 },
    };
    const r = await h.call('create_record', args);
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(linesOf(deal)).toEqual([
      expect.objectContaining({
        productid: expect.objectContaining({ id: licence.productid }),
        uomid: expect.objectContaining({ id: licence.defaultuomid.id }),
        isproductoverridden: false,
        quantity: 20,
        priceperunit: 65,
        baseamount: 1300,
        extendedamount: 1300,
      }),
    ]);
    // what Dynamics made of it, and that the deal's typed-in value is not the products' total
    expect(textOf(r)).toContain("unit: Primary Unit, the product's default");
    expect(textOf(r)).toContain('Priced by Dynamics: 20 × 65.00 = 1,300.00, extended amount 1,300.00.');
    expect(textOf(r)).toContain("The deal's Est. Revenue is typed in (User Provided) and stays 50,000.00");
    // the model repeating itself (or the user asking again) adds no second line, and says how to change it
    const again = await h.call('create_record', { ...args, values: { ...args.values, quantity: 25 } });
    expect(again.structuredContent).toMatchObject({ duplicate: true, id: r.structuredContent.id });
    expect(textOf(again)).toContain('update_record its quantity');
    expect(linesOf(deal)).toHaveLength(1);
    // more of it is a change of the line: Dynamics sums it again
    const more = await h.call('update_record', {
      entity: 'opportunityproduct',
      id: r.structuredContent.id,
      values: { quantity: 25, manualdiscountamount: 125 },
    });
    expect(more.isError, textOf(more)).toBeFalsy();
    expect(linesOf(deal)[0]).toMatchObject({ quantity: 25, baseamount: 1625, extendedamount: 1500 });
    expect(textOf(more)).toContain('Priced by Dynamics: 25 × 65.00 = 1,625.00, extended amount 1,500.00.');
  });

  it('a product by its Product ID is named back with its name, so a mistyped number shows', async () => {
    const deal = await newDeal('Products: trackers for a fleet');
    const r = await h.call('create_record', {
      entity: 'opportunityproduct',
      values: { opportunityid: deal, productid: 'HW-TRK-100', quantity: 40 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toContain('Existing Product: Telematics tracker, HW-TRK-100 (product).');
    expect(linesOf(deal)).toEqual([
      expect.objectContaining({ productid: expect.objectContaining({ id: product('Telematics tracker').productid }) }),
    ]);
  });

  it('a write-in line names itself: its description comes with productid where the model may read it', async () => {
    const lines = rows('opportunityproduct');
    const writeIn = lines.find((l) => !l.productid && l.productdescription)!;
    const deal = idOf(writeIn.opportunityid)!;
    const ask = {
      entity: 'opportunity',
      where: { opportunityid: deal },
      select: ['name'],
      expand: [{ relation: 'product_opportunities', select: ['productid', 'quantity', 'extendedamount'] }],
    };
    const r = await h.call('query_entities', ask);
    expect(r.isError, textOf(r)).toBeFalsy();
    const got = r.structuredContent.records[0].product_opportunities as Row[];
    const line = got.find((l) => l.id === writeIn.opportunityproductid)!;
    expect(line).toMatchObject({ productdescription: writeIn.productdescription, quantity: writeIn.quantity });
    // a catalogue product's line says its product, and no empty description beside it
    const catalogued = got.filter((l) => l.productid);
    expect(catalogued.length).toBeGreaterThan(0);
    for (const l of catalogued) expect(l).not.toHaveProperty('productdescription');
    // the same through the table itself
    const direct = await h.call('query_entities', {
      entity: 'opportunityproduct',
      where: { opportunityproductid: writeIn.opportunityproductid },
      select: ['productid', 'extendedamount'],
    });
    expect(direct.structuredContent.records).toEqual([
      expect.objectContaining({ productdescription: writeIn.productdescription }),
    ]);
    // where the policy keeps the description from the model, it is not asked for, and the query still answers
    const hidden = await connectInMemory(emu, {
      env: {
        LOG_LEVEL: 'warn',
        DYNAMICS_MCP_POLICY: builtInPolicyWith('no-write-in-names', (e) => ({
          ...e,
          opportunityproduct: {
            ...e.opportunityproduct!,
            read: (e.opportunityproduct!.read ?? []).filter((c) => c !== 'productdescription'),
          },
        })),
      },
    });
    try {
      const since = emu.requests().length;
      const kept = await hidden.call('query_entities', ask);
      expect(kept.isError, textOf(kept)).toBeFalsy();
      const sent = emu
        .requests()
        .slice(since)
        .map((q) => decodeURIComponent(q.url));
      expect(sent.some((u) => u.includes('product_opportunities'))).toBe(true);
      expect(sent.some((u) => u.includes('productdescription'))).toBe(false);
    } finally {
      await hidden.close();
    }
  });

  it('a product not in the catalogue is a write-in at the price given, one of it where no quantity is said', async () => {
    const deal = await newDeal('Products: a custom report pack');
    // named as a catalogue product, it is not found: the refusal says how a write-in is added
    const named = await h.call('create_record', {
      entity: 'opportunityproduct',
      values: { opportunityid: deal, productid: 'Custom report pack', priceperunit: 4000 },
    });
    expect(named.isError).toBe(true);
    expect(textOf(named)).toContain(
      "'Custom report pack' is neither a product id (GUID) nor the name of a product.\nHow to fix: Find it with query_entities on product",
    );
    expect(textOf(named)).toMatch(
      /If it is not in the catalogue, add it as a write-in instead: productdescription \(its name\) and priceperunit, without productid\.$/,
    );
    expect(linesOf(deal)).toEqual([]);
    const r = await h.call('create_record', {
      entity: 'opportunityproduct',
      values: { opportunityid: deal, productdescription: 'Custom report pack', priceperunit: 4000 },
    });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(linesOf(deal)).toEqual([
      expect.objectContaining({
        productid: null,
        productdescription: 'Custom report pack',
        isproductoverridden: true,
        ispriceoverridden: true,
        quantity: 1,
        extendedamount: 4000,
      }),
    ]);
    expect(textOf(r)).toContain('quantity: 1 (none was given)');
  });

  it('a won or lost deal is not added to, nor its products changed: nothing is written, and the answer says to reopen it first', async () => {
    const closed = new Set(
      rows('opportunity')
        .filter((o) => o.statecode !== 0)
        .map((o) => o.opportunityid),
    );
    const sold = rows('opportunityproduct').find((l) => closed.has(l.opportunityid?.id))!;
    const lost = rows('opportunity').find((o) => o.statecode === 2)!;
    const before = rows('opportunityproduct').length;
    const since = emu.requests().length;
    const r = await h.call('create_record', {
      entity: 'opportunityproduct',
      values: { opportunityid: lost.opportunityid, productid: 'Security audit', quantity: 1 },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(`The opportunity "${lost.name}" (${lost.opportunityid}) is Lost`);
    expect(textOf(r)).toContain('{"statecode": "Open"} first');
    const change = await h.call('update_record', {
      entity: 'opportunityproduct',
      id: sold.opportunityproductid,
      values: { quantity: 99 },
    });
    expect(change.isError).toBe(true);
    expect(textOf(change)).toMatch(
      /is (Won|Lost): its products are the record of what was won or lost, and are not changed\./,
    );
    expect(rows('opportunityproduct').find((l) => l.opportunityproductid === sold.opportunityproductid)!.quantity).toBe(
      sold.quantity,
    );
    expect(rows('opportunityproduct')).toHaveLength(before);
    expect(
      emu
        .requests()
        .slice(since)
        .filter((q) => q.service === 'webapi' && q.method !== 'GET'),
    ).toEqual([]);
  });

  // Dynamics' product lookup on a deal lists published products: a retired one is one the organisation stopped
  // selling (the product lifecycle: "when your organization decides to stop selling a certain product, you retire it")
  it('a retired product is not put on a deal, by create or by update; a write-in of it is', async () => {
    const deal = await newDeal('Products: a deal offered a retired licence');
    const retired = product('On-premises CRM licence (legacy)');
    expect(retired.statecode).toBe(1);
    const since = emu.requests().length;
    const r = await h.call('create_record', {
      entity: 'opportunityproduct',
      values: { opportunityid: deal, productid: 'LIC-ONPREM-OLD', quantity: 3 },
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe(
      `Error (bad_input): The product "On-premises CRM licence (legacy)" (${retired.productid}) is retired: the organisation no longer sells it, so it is not put on a deal.\n` +
        'How to fix: Ask the user which product they mean: query_entities on product where {"statecode": "Active"} lists those for sale. To sell it anyway, add it as a write-in (productdescription and priceperunit, without productid).',
    );
    const line = await h.call('create_record', {
      entity: 'opportunityproduct',
      values: { opportunityid: deal, productid: 'Analytics licence', quantity: 3 },
    });
    expect(line.isError, textOf(line)).toBeFalsy();
    const moved = await h.call('update_record', {
      entity: 'opportunityproduct',
      id: line.structuredContent.id,
      values: { productid: retired.productid },
    });
    expect(moved.isError).toBe(true);
    expect(textOf(moved)).toContain('is retired: the organisation no longer sells it');
    expect(
      idOf(rows('opportunityproduct').find((l) => l.opportunityproductid === line.structuredContent.id)!.productid),
    ).toBe(product('Analytics licence').productid);
    const writeIn = await h.call('create_record', {
      entity: 'opportunityproduct',
      values: { opportunityid: deal, productdescription: 'On-premises CRM licence (legacy)', priceperunit: 480 },
    });
    expect(writeIn.isError, textOf(writeIn)).toBeFalsy();
    const written = emu
      .requests()
      .slice(since)
      .filter((q) => q.service === 'webapi' && q.method === 'PATCH' && q.url.includes('opportunityproducts'));
    expect(written).toHaveLength(2);
  });

  it('a deal whose revenue is System Calculated is worth its products: each line added or changed moves it', async () => {
    const deal = await newDeal('Products: a deal valued by its products');
    const first = await h.call('create_record', {
      entity: 'opportunityproduct',
      values: { opportunityid: deal, productid: 'Security audit', quantity: 2 },
    });
    expect(first.isError, textOf(first)).toBeFalsy();
    const switched = await h.call('update_record', {
      entity: 'opportunity',
      id: deal,
      values: { isrevenuesystemcalculated: 'System Calculated' },
    });
    expect(switched.isError, textOf(switched)).toBeFalsy();
    const value = () => rows('opportunity').find((o) => o.opportunityid === deal)!.estimatedvalue;
    expect(value()).toBe(19000);
    const second = await h.call('create_record', {
      entity: 'opportunityproduct',
      values: { opportunityid: deal, productid: 'Implementation day', quantity: 3 },
    });
    expect(textOf(second)).toContain(
      "The deal's Est. Revenue is its products' total (System Calculated): now 22,600.00.",
    );
    expect(value()).toBe(22600);
    await h.call('update_record', {
      entity: 'opportunityproduct',
      id: first.structuredContent.id,
      values: { quantity: 1 },
    });
    expect(value()).toBe(13100);
    // a value typed into a deal worth its products would not stay: refused, saying the two ways on
    const since = emu.requests().length;
    const typed = await h.call('update_record', { entity: 'opportunity', id: deal, values: { estimatedvalue: 99000 } });
    expect(typed.isError).toBe(true);
    expect(textOf(typed)).toContain("Est. Revenue is System Calculated: Dynamics keeps it at its products' total");
    expect(textOf(typed)).toContain('{"isrevenuesystemcalculated": "User Provided", "estimatedvalue": <the value>}');
    expect(
      emu
        .requests()
        .slice(since)
        .filter((q) => q.method === 'PATCH'),
    ).toEqual([]);
    expect(value()).toBe(13100);
    // kept by hand, as asked
    const byHand = await h.call('update_record', {
      entity: 'opportunity',
      id: deal,
      values: { isrevenuesystemcalculated: 'User Provided', estimatedvalue: 99000 },
    });
    expect(byHand.isError, textOf(byHand)).toBeFalsy();
    expect(value()).toBe(99000);
    // and a product added now leaves it, saying how to make it the products' total again
    const third = await h.call('create_record', {
      entity: 'opportunityproduct',
      values: { opportunityid: deal, productid: 'Implementation day', quantity: 1 },
      allowDuplicate: true,
    });
    expect(textOf(third)).toContain(
      'typed in (User Provided) and stays 99,000.00; update estimatedvalue if it should change, or set isrevenuesystemcalculated to "System Calculated" to make it the products\' total.',
    );
    expect(value()).toBe(99000);
  });
});
