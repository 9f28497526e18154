import type { WriteValues } from '../../dynamics/client.js';
import { badInput } from '../../errors.js';
import { columnSetBy, type EntityModel } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { guidOrUndefined } from './ids.js';
import { FORMATTED } from './shape.js';
import { lookupId } from './where-as-meant.js';

/** A product on an opportunity: its line table, its deal's lookup and what it is a line of */
export const LINE = {
  table: 'opportunityproduct',
  parent: 'opportunityid',
  product: 'productid',
  writeIn: 'productdescription',
} as const;

/** A lookup's id as the write will send it: a GUID, or {id} (a name found, a copied lookup); else undefined */
export const givenId = (v: unknown): string | undefined =>
  guidOrUndefined(typeof v === 'string' ? v : (lookupId(v) ?? ''));

/**
 * A product line as Dynamics' Add Product form makes it, which the Web API leaves to the caller: an existing
 * product in its default unit (the form fills Unit from the product), a product not in the catalogue as a
 * write-in (Select Product: Write-In, which is priced by hand), a price given as the price overridden (Pricing:
 * Override Price; without one, Dynamics prices the line from the deal's price list), and a quantity of one where
 * none is said. Each is done only where the policy lets the model write that column, and said in the answer.
 */
export async function lineAsMeant(
  ctx: ToolContext,
  model: EntityModel,
  values: WriteValues,
): Promise<{ values: WriteValues; said: string[] }> {
  if (model.logicalName !== LINE.table) return { values, said: [] };
  const out: WriteValues = { ...values };
  const said: string[] = [];
  const given = (column: string) => Object.entries(values).find(([k]) => columnSetBy(model, k) === column);
  const writable = (column: string) => ctx.policy.canWrite(model.logicalName, column);
  const set = (column: string, value: WriteValues[string], why?: string) => {
    if (given(column) || !writable(column)) return;
    out[column] = value;
    if (why) said.push(why);
  };
  await refuseClosedDeal(ctx, givenId(given(LINE.parent)?.[1]));
  const product = givenId(given(LINE.product)?.[1]);
  const writeIn = given(LINE.writeIn)?.[1];
  const priced = given('priceperunit')?.[1];
  if (product) {
    const { unit } = await sellable(ctx, product);
    set('isproductoverridden', false);
    if (unit) set('uomid', { entity: 'uom', id: unit.id }, `unit: ${unit.name ?? unit.id}, the product's default`);
  } else if (typeof writeIn === 'string' && writeIn.trim()) set('isproductoverridden', true);
  if (priced !== undefined && priced !== null) set('ispriceoverridden', true);
  if (!given('quantity')) set('quantity', 1, 'quantity: 1 (none was given)');
  return { values: out, said };
}

/**
 * A won or lost deal's products are the record of what was won or lost (Dynamics' form locks them with the
 * deal): a line is added to, changed on or removed from an open one only, checked where the policy lets the
 * deal's state be read.
 */
async function refuseClosedDeal(
  ctx: ToolContext,
  deal: string | undefined,
  change: 'add' | 'change' | 'remove' = 'add',
): Promise<void> {
  if (!deal || !ctx.policy.canRead('opportunity', 'statecode')) return;
  const named = ctx.policy.canRead('opportunity', 'name');
  const { row } = await ctx.client.get('opportunity', deal, {
    select: ['statecode', ...(named ? ['name'] : [])],
    signal: ctx.signal,
  });
  if (row.statecode === 0 || row.statecode === undefined) return;
  const state = String(row[`statecode${FORMATTED}`] ?? row.statecode);
  const which = typeof row.name === 'string' ? `"${row.name}" (${deal})` : deal;
  throw badInput(
    `The opportunity ${which} is ${state}: its products are the record of what was won or lost, and are not ${{ add: 'added to', change: 'changed', remove: 'removed' }[change]}.`,
    `Do it only if the user wants the deal reopened: update_record the opportunity with {"statecode": "Open"} first, then ${change} the product.`,
  );
}

/**
 * A change of a deal's product: refused, as an addition is, where its deal (or the deal it is moved to) is won or
 * lost, or where it is moved to a product not for sale. The line is read for its deal where the policy lets that
 * be read.
 */
export async function refuseChangeOnClosedDeal(
  ctx: ToolContext,
  model: EntityModel,
  lineId: string,
  values: WriteValues,
): Promise<void> {
  const moved = givenId(Object.entries(values).find(([k]) => columnSetBy(model, k) === LINE.parent)?.[1]);
  if (moved) await refuseClosedDeal(ctx, moved, 'change');
  const product = givenId(Object.entries(values).find(([k]) => columnSetBy(model, k) === LINE.product)?.[1]);
  if (product) await sellable(ctx, product);
  if (!ctx.policy.canRead(LINE.table, LINE.parent)) return;
  const { row } = await ctx.client.get(LINE.table, lineId, { select: [LINE.parent], signal: ctx.signal });
  const deal = row[`_${LINE.parent}_value`];
  if (typeof deal === 'string') await refuseClosedDeal(ctx, deal, 'change');
}

/** A removal of a deal's product (its deal's id, as the line was read): refused where the deal is won or lost. */
export const refuseRemovalFromClosedDeal = (ctx: ToolContext, deal: unknown) =>
  typeof deal === 'string' ? refuseClosedDeal(ctx, deal, 'remove') : Promise.resolve();

/** Product statecode: Retired (no longer sold) and Draft (not yet published) are not offered to sellers */
const UNSOLD: Readonly<Record<number, string>> = {
  1: 'retired: the organisation no longer sells it',
  2: 'a draft, not yet published for sale',
};

/**
 * A product as a line takes it, in one read of what the policy lets be read: its Default Unit (the form fills
 * Unit from the product), and whether it is for sale at all. Dynamics' product lookup on a deal lists published
 * products only (a Draft one cannot be looked up; a Retired one is one the organisation stopped selling; one Under
 * Revision still sells its published version), so a seller never adds the others: refused, with the ways on.
 */
async function sellable(ctx: ToolContext, product: string): Promise<{ unit?: { id: string; name?: string } }> {
  const columns = ['statecode', 'name', 'defaultuomid'].filter((c) => ctx.policy.canRead('product', c));
  if (!columns.includes('statecode') && !columns.includes('defaultuomid')) return {};
  const { row } = await ctx.client.get('product', product, { select: columns, signal: ctx.signal });
  const why = typeof row.statecode === 'number' ? UNSOLD[row.statecode] : undefined;
  if (why) {
    const which = typeof row.name === 'string' ? `"${row.name}" (${product})` : product;
    throw badInput(
      `The product ${which} is ${why}, so it is not put on a deal.`,
      'Ask the user which product they mean: query_entities on product where {"statecode": "Active"} lists those for sale. To sell it anyway, add it as a write-in (productdescription and priceperunit, without productid).',
    );
  }
  const id = row._defaultuomid_value;
  const name = row[`_defaultuomid_value${FORMATTED}`];
  return typeof id === 'string' ? { unit: { id, name: typeof name === 'string' ? name : undefined } } : {};
}

/**
 * What a new line came to, as Dynamics priced and summed it (price per unit, quantity, Amount, Extended Amount),
 * and its deal's Est. Revenue: the products' total where the deal's revenue is System Calculated, else the value
 * typed in, which the line did not change (a seller reading "added" would otherwise take the deal to be worth more).
 */
export async function lineText(ctx: ToolContext, id: string): Promise<string> {
  const readable = (table: string, column: string) => ctx.policy.canRead(table, column);
  const columns = ['priceperunit', 'quantity', 'baseamount', 'extendedamount'].filter((c) => readable(LINE.table, c));
  if (!columns.includes('extendedamount')) return '';
  const { row: line } = await ctx.client.get(LINE.table, id, {
    select: [...columns, ...(readable(LINE.table, LINE.parent) ? [LINE.parent] : [])],
    signal: ctx.signal,
  });
  const sum =
    typeof line.quantity === 'number' && 'priceperunit' in line
      ? `${line.quantity} × ${money(line.priceperunit)} = ${money(line.baseamount)}, `
      : '';
  const revenue = await dealRevenueText(ctx, line[`_${LINE.parent}_value`]);
  return ` Priced by Dynamics: ${sum}extended amount ${money(line.extendedamount)}.${revenue}`;
}

const money = (v: unknown) =>
  typeof v === 'number' ? v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : '?';

/**
 * A deal's Est. Revenue after one of its products changed: the products' total where its revenue is System
 * Calculated, else the value typed in, which the change did not touch. Empty where the policy hides either.
 */
export async function dealRevenueText(ctx: ToolContext, deal: unknown): Promise<string> {
  const readable = (column: string) => ctx.policy.canRead('opportunity', column);
  if (typeof deal !== 'string' || !readable('isrevenuesystemcalculated') || !readable('estimatedvalue')) return '';
  const { row: o } = await ctx.client.get('opportunity', deal, {
    select: ['isrevenuesystemcalculated', 'estimatedvalue'],
    signal: ctx.signal,
  });
  // the other way to keep it right, where this server may switch it: let Dynamics total the products
  const switchable = ctx.policy.canWrite('opportunity', 'isrevenuesystemcalculated')
    ? ', or set isrevenuesystemcalculated to "System Calculated" to make it the products\' total'
    : '';
  return o.isrevenuesystemcalculated === true
    ? ` The deal's Est. Revenue is its products' total (System Calculated): now ${money(o.estimatedvalue)}.`
    : ` The deal's Est. Revenue is typed in (User Provided) and stays ${money(o.estimatedvalue)}; update estimatedvalue if it should change${switchable}.`;
}

/**
 * A value typed into a deal whose Est. Revenue is System Calculated ("calculated automatically based on the
 * products entered", Opportunity table reference): Dynamics works it out from the products again, so what was
 * typed would not stay. Refused before anything is sent, with the two ways to what the user means: change the
 * products, or keep the value by hand (User Provided, in the same update).
 */
export async function refuseTypedValueOnCalculatedDeal(
  ctx: ToolContext,
  model: EntityModel,
  id: string,
  values: WriteValues,
): Promise<void> {
  if (model.logicalName !== 'opportunity') return;
  const given = (column: string) => Object.keys(values).some((k) => columnSetBy(model, k) === column);
  if (!given('estimatedvalue') || given('isrevenuesystemcalculated')) return;
  if (!ctx.policy.canRead('opportunity', 'isrevenuesystemcalculated')) return;
  const { row } = await ctx.client.get('opportunity', id, {
    select: ['isrevenuesystemcalculated'],
    signal: ctx.signal,
  });
  if (row.isrevenuesystemcalculated !== true) return;
  throw badInput(
    "This opportunity's Est. Revenue is System Calculated: Dynamics keeps it at its products' total, so a value typed in would not stay.",
    'Change its products (create_record, update_record or delete_record on opportunityproduct), or, if the user wants the value kept by hand, update it with {"isrevenuesystemcalculated": "User Provided", "estimatedvalue": <the value>}.',
  );
}
