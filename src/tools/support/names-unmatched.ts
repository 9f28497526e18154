import { isGuidText } from '../../dynamics/coerce.js';
import { type Condition, leavesOutsideNot } from '../../dynamics/conditions.js';
import { ME } from '../../dynamics/obo.js';
import { type EntityModel, isLookupType } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { exactlyNamed, orList, tableNoun } from './lookup-names.js';
import { phoneDigits, phoneMatches } from './phoned.js';

/** At most this many names are looked up after an empty answer: the note is a help, not a second query plan. */
const MAX_CHECKED = 3;

/**
 * After a query that found nothing, what the model should know before it tells the user "none": a lookup
 * compared with a name ({"parentcustomerid": "Contoso"}) matches the related record's whole name, and where no
 * record of the tables it points at has that name, the empty answer says nothing about "Contoso" (the account
 * is "Contoso Pharma Co."); so does the table's own name ({"name": "Contoso"} on account). Each such name no
 * record has is said, with the condition that finds part of a name; other text compared whole alike
 * (textsUnmatched). Only names the model gave are repeated (no record data outside the untrusted fence);
 * names under a "not" are left alone, as an empty answer there means something else.
 */
export async function namesNoRecordHas(ctx: ToolContext, entity: string, where: Condition): Promise<string> {
  const model = await ctx.client.checker.entity(entity);
  const [names, texts] = await Promise.all([namesUnmatched(ctx, model, where), textsUnmatched(ctx, model, where)]);
  return names + texts;
}

async function namesUnmatched(ctx: ToolContext, model: EntityModel, where: Condition): Promise<string> {
  const given: { column: string; targets: string[]; name: string }[] = [];
  for (const c of leavesOutsideNot(where)) {
    if (typeof c.column !== 'string' || (c.op !== 'eq' && c.op !== 'in')) continue;
    const column = model.columns.get(c.column.trim().toLowerCase());
    // the table's own name ({"name": "Contoso"}) is a name too: of a record of this table
    const own = column?.logicalName === model.primaryNameAttribute;
    const targets = own ? [model.logicalName] : column && isLookupType(column.type) ? column.targets : undefined;
    if (!column || !targets?.length) continue;
    for (const v of Array.isArray(c.value) ? c.value : [c.value])
      if (typeof v === 'string' && v.trim() && !isGuidText(v) && (own || !ME.test(v.trim())))
        given.push({ column: column.logicalName, targets, name: v.trim() });
  }
  const checked = given.slice(0, MAX_CHECKED);
  const unmatched = await Promise.all(
    checked.map(async (g) => {
      // a help beside an answer already found: if asking fails (throttled, timed out), the answer goes
      // without it rather than becoming an error; a call the client cancelled stays cancelled
      const named = await exactlyNamed(ctx, g.targets, g.name).catch((e: unknown) => {
        if (ctx.signal.aborted) throw e;
        return undefined;
      });
      // a table whose names the model may not read is not asked, and says nothing
      return named?.asked.length && !named.found.length
        ? { ...g, tables: named.asked.map((q) => q.model.logicalName) }
        : undefined;
    }),
  );
  return unmatched
    .filter((g) => g !== undefined)
    .map(
      (g) =>
        ` No ${orList(g.tables.map(tableNoun))} is named '${g.name}' (${g.column} compares the whole name): ${partOrSeveral(g.column, g.name)}.`,
    )
    .join('');
}

/**
 * What finds the records meant: part of a name with contains; and a text of names with commas ("ERP, CRM",
 * as SQL's IN list is written), which may be one name with a comma in it, as the list of those names too.
 */
function partOrSeveral(column: string, name: string): string {
  // a wildcard inside the name ('Con%so', 'A*Ltd'): contains would match it as written too, so each piece
  const pieces = name.split(/[%*]+/).filter((p) => p.trim());
  const part =
    pieces.length > 1
      ? `a '%' or '*' inside a name is matched as written; for names holding each piece use {"and": [${pieces.map((p) => `{"${column}": {"contains": ${JSON.stringify(p)}}}`).join(', ')}]}`
      : `for part of a name use {"${column}": {"contains": ${JSON.stringify(name)}}}`;
  const names = name
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  return names.length > 1
    ? `${part}; for any of several names, list them: {"${column}": {"in": ${JSON.stringify(names)}}}`
    : part;
}

/**
 * The same for other text compared whole (eq, in): an opportunity's stepname is "3-Propose" where the
 * pipeline says "Propose", so {"stepname": "Propose"} finds nothing, and "no deal is at Propose" would be
 * wrong. Where no record of the table has the text as its whole value and some have it within theirs, that
 * is said with the condition that finds them; their values are not repeated (record text stays inside the
 * untrusted fence): the model sees them when it asks. Where some record has the text whole, the empty answer
 * came from the other conditions and nothing is said.
 */
async function textsUnmatched(ctx: ToolContext, model: EntityModel, where: Condition): Promise<string> {
  const given: { column: string; text: string }[] = [];
  for (const c of leavesOutsideNot(where)) {
    if (typeof c.column !== 'string' || (c.op !== 'eq' && c.op !== 'in')) continue;
    const column = model.columns.get(c.column.trim().toLowerCase());
    // the table's own name is namesUnmatched's; a choice compares its labels, a lookup its related record's name
    if (column?.type !== 'String' || column.logicalName === model.primaryNameAttribute) continue;
    for (const v of Array.isArray(c.value) ? c.value : [c.value])
      if (typeof v === 'string' && v.trim() && !isGuidText(v))
        given.push({ column: column.logicalName, text: v.trim() });
  }
  const some = async (column: string, op: 'eq' | 'contains', text: string) =>
    (
      await ctx.client.query(
        { entity: model.logicalName, select: [column], where: { column, op, value: text }, top: 1 },
        { signal: ctx.signal, internal: true },
      )
    ).rows.length > 0;
  const notes = await Promise.all(
    given.slice(0, MAX_CHECKED).map(async (g) => {
      try {
        if (await some(g.column, 'eq', g.text)) return '';
        const none = ` No ${model.logicalName} has ${g.column} '${g.text}' as its whole text`;
        // a phone number, kept as typed: the records with the same number written another way are counted
        // (not shown: record data stays inside the fence), with the call that finds each by its digits
        const digits = model.columns.get(g.column)?.format === 'Phone' ? phoneDigits(g.text) : undefined;
        if (digits) {
          const same = await phoneMatches(ctx, [model.logicalName], digits, g.column);
          return same.length
            ? `${none}, but ${same.length === 1 ? `one has that number` : `${same.length} have that number`} written another way (numbers are kept as typed): get_record with entity "${model.logicalName}" and id ${JSON.stringify(g.text)} ${same.length === 1 ? 'finds it' : 'lists them'} by the digits.`
            : '';
        }
        // the text is a value of a choice of the table (a stage "Propose": salesstage), which is metadata, not
        // record data, and is what the model meant more surely than a part of the text
        const choice = choiceLabelled(ctx, model, g.text);
        if (choice)
          return `${none}; ${JSON.stringify(choice.label)} is a value of ${choice.column}: {"${choice.column}": ${JSON.stringify(choice.label)}}.`;
        return (await some(g.column, 'contains', g.text))
          ? `${none}, and some have it within theirs: {"${g.column}": {"contains": ${JSON.stringify(g.text)}}} finds those.`
          : '';
      } catch (e) {
        // a help beside an answer already found, as for names
        if (ctx.signal.aborted) throw e;
        return '';
      }
    }),
  );
  return notes.join('');
}

/** The readable choice column of the table one of whose values is labelled `text` (without regard to case). */
function choiceLabelled(
  ctx: ToolContext,
  model: EntityModel,
  text: string,
): { column: string; label: string } | undefined {
  const t = text.toLowerCase();
  for (const c of model.columns.values()) {
    if (c.type !== 'Picklist' || !ctx.policy.canRead(model.logicalName, c.logicalName)) continue;
    const o = c.options?.find((o) => o.label.toLowerCase() === t);
    if (o) return { column: c.logicalName, label: o.label };
  }
  return undefined;
}
