import { sideBySide } from '../../dynamics/signals.js';
import type { ToolContext } from '../define.js';
import { askEach, type Merged, masterColumn, mergedOf, notMergedFirst, theOneWith } from './lookup-names.js';

/** A number has at least this many digits to be looked for ("678-4478", a local number) */
const FEWEST = 7;
/** The most digits a phone number has, its country code included (ITU-T E.164) */
const MOST = 15;
/** The candidates read per table: enough for one number's few holders, never a table's worth */
const READ = 50;

/** An extension after a number ("x12", "ext. 12", "#12"): another line's digits, not the number's */
const EXTENSION = /\s*(?:ext\.?|extension|x|#)\s*\d{1,6}$/i;

/**
 * The digits of text written as a phone number ("+1 (555) 678-4478", "555.678.4478"), an extension after it
 * left out: only digits and the signs people put between them, 7 to 15 digits; undefined for anything else (a
 * name, an account number with letters).
 */
export function phoneDigits(text: string): string | undefined {
  const t = text.trim().replace(EXTENSION, '');
  if (!/^\+?[\d\s().\-/]+$/.test(t)) return undefined;
  const digits = t.replace(/\D/g, '');
  return digits.length >= FEWEST && digits.length <= MOST ? digits : undefined;
}

/**
 * Two numbers are one line where their digits are the same, or where one is the other after a country code
 * of one to three digits, the other's leading trunk 0 dropped: +1 555 678 4478 is (555) 678-4478, +46 70 555
 * 01 99 is 070-555 01 99; 0046 (the international prefix 00) is +46. A number that shares only its last
 * digits with another (a local 555 0199 and +46 70 555 0199) is another line.
 */
function sameLine(a: string, b: string): boolean {
  const [x, y] = [a, b].map((d) => d.replace(/^00/, ''));
  const [long, short] = x!.length >= y!.length ? [x!, y!] : [y!, x!];
  if (long === short) return true;
  const national = short.replace(/^0/, '');
  const code = long.length - national.length;
  // a country code starts with 1 to 9: a longer number starting with 0 is a national one, with more digits
  return national.length >= FEWEST && code >= 1 && code <= 3 && !long.startsWith('0') && long.endsWith(national);
}

/**
 * The last four digits as a number may be typed: together ("4478"), or split once by a space, a hyphen or a
 * dot ("01 99" in 070-555 01 99, "0-199"); Dataverse compares text as stored, so each way is looked for.
 */
function lastDigitsAsTyped(digits: string): string[] {
  const last = digits.slice(-4);
  return [last, ...[' ', '-', '.'].flatMap((sep) => [1, 2, 3].map((i) => `${last.slice(0, i)}${sep}${last.slice(i)}`))];
}

/**
 * The one record of `tables` with this phone number in a phone column the policy lets the model read
 * (Dynamics keeps numbers as typed, so the numbers with its last four digits as they may be typed are read,
 * and compared by their digits): undefined where none has it; several are refused, listed, to choose by
 * id.
 */
export async function phoned(
  ctx: ToolContext,
  tables: string[],
  digits: string,
): Promise<{ entity: string; id: string; name: string; mergedInto?: Merged } | undefined> {
  // a duplicate merged into another keeps its number: the record in use has it
  return theOneWith(notMergedFirst(await phoneMatches(ctx, tables, digits)), `the phone number '${digits}'`);
}

/**
 * The records of `tables` with this number (up to 50 read per table) in a phone column the policy lets the
 * model read, or in `column` alone where one is named, side by side.
 */
export async function phoneMatches(
  ctx: ToolContext,
  tables: string[],
  digits: string,
  column?: string,
): Promise<{ entity: string; id: string; name: string; mergedInto?: Merged }[]> {
  sideBySide(ctx.signal);
  return (
    await askEach(tables, async (table) => {
      const model = await ctx.client.metadata.entity(table).catch(() => undefined);
      if (!model || !ctx.policy.canRead(table, model.primaryIdAttribute)) return undefined;
      const phones = [...model.columns.values()]
        .filter((c) => c.format === 'Phone' && ctx.policy.canRead(table, c.logicalName))
        .filter((c) => !column || c.logicalName === column)
        .map((c) => c.logicalName);
      if (!phones.length) return undefined;
      const name = model.primaryNameAttribute;
      const named = !!name && ctx.policy.canRead(table, name);
      const page = await ctx.client.query(
        {
          entity: table,
          select: [...phones, ...(named ? [name] : []), ...masterColumn(ctx, model)],
          where: {
            or: phones.flatMap((column) =>
              lastDigitsAsTyped(digits).map((value) => ({ column, op: 'contains' as const, value })),
            ),
          },
          top: READ,
        },
        { signal: ctx.signal, internal: true },
      );
      return page.rows
        .filter((r) =>
          phones.some(
            (c) => typeof r[c] === 'string' && sameLine(String(r[c]).replace(EXTENSION, '').replace(/\D/g, ''), digits),
          ),
        )
        .map((r) => {
          const mergedInto = mergedOf(r);
          return {
            entity: table,
            id: String(r[model.primaryIdAttribute]).toLowerCase(),
            name: String((named && r[name]) || r[model.primaryIdAttribute]),
            ...(mergedInto ? { mergedInto } : {}),
          };
        });
    })
  ).flatMap((rows) => rows ?? []);
}
