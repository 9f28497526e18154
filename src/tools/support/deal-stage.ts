import type { WriteValues } from '../../dynamics/client.js';
import { badInput, DynamicsMcpError } from '../../errors.js';
import { type EntityModel, writtenColumn } from '../../policy/model.js';
import type { ToolContext } from '../define.js';
import { orList } from './lookup-names.js';

// A deal's stage is shown twice in Dynamics: in its Pipeline Phase and Sales Stage columns, and on the bar across
// the top of its form, its run of a business process flow: the Opportunity Sales Process, or, for a deal made by
// qualifying a lead, the Lead to Opportunity Sales Process the lead began. The bar is the one a
// user sees and moves: writing the Pipeline Phase leaves it where it was ("Work with business process flows using
// code": the record's own process columns do not move the flow), and moving it may write the phase over (the
// platform populates the phase from the stage's category, fkbase and crmtipoftheday say; one report, blackfincloud
// 2018, says version 9 stopped). So a stage asked of update_record is written to the deal whole (the phase as the
// platform writes it, "3-Propose", and the Sales Stage), which holds either way, and the bar is moved to it, stage
// by stage, as Dynamics asks ("Forward navigation of stages must be done in sequence").

/** The processes a deal's bar may run, by their tables of runs (each process has its own) */
const PROCESSES = [
  { table: 'opportunitysalesprocess', name: 'Opportunity Sales Process' },
  { table: 'leadtoopportunitysalesprocess', name: 'Lead to Opportunity Sales Process' },
] as const;
const RUN_TABLES = new Set<string>(PROCESSES.map((p) => p.table));
const STAGES = 'processstage';
const RUN_COLUMNS = ['opportunityid', 'processid', 'activestageid', 'traversedpath', 'statecode'];
const STAGE_COLUMNS = ['stagename', 'stagecategory', 'processid'];

interface Stage {
  id: string;
  name: string;
  /** its category's label (Qualify … Close), what the Pipeline Phase is made of */
  category: string;
  categoryValue: number;
  /** the table whose record is at this stage (a lead's process begins on the lead), where the policy reads it */
  entity?: string;
}

interface Run {
  /** its process's table of runs and the process's name */
  table: string;
  process: string;
  id: string;
  stages: Stage[];
  at: number;
  path: string[];
}

/** What update_record does with a deal's stage: the values to write, and the bar's move after them. */
export interface StageMove {
  values: WriteValues;
  /** what the bar's move adds to the question a user is asked before the update (", and its Sales Process bar …") */
  asked: string;
  /**
   * moves the bar once the deal is written: the sentence the answer adds, and whether the bar moved (which writes
   * the deal's Pipeline Phase again: a new version of the deal)
   */
  move(): Promise<{ text: string; moved: boolean }>;
}

/** "3-Propose", " propose ": the stage a Pipeline Phase names */
const stageWord = (text: string) =>
  text
    .replace(/^\s*\d+\s*-\s*/, '')
    .trim()
    .toLowerCase();

/**
 * The stage a deal's update asks for, through its Pipeline Phase (stepname) or Sales Stage (salesstage), or
 * undefined where it asks for none (a column cleared, another table). A Sales Stage given as a number is its
 * option's label; the two given apart must name one stage.
 */
function stageNamed(model: EntityModel, values: WriteValues): { word: string; said: string } | undefined {
  const named: { word: string; said: string }[] = [];
  for (const [key, value] of Object.entries(values)) {
    const column = writtenColumn(model, key)?.logicalName;
    if (column === 'stepname' && typeof value === 'string' && value.trim())
      named.push({ word: stageWord(value), said: `${key} "${value}"` });
    if (column === 'salesstage' && (typeof value === 'number' || typeof value === 'string')) {
      const option = model.columns
        .get('salesstage')
        ?.options?.find((o) => o.value === value || o.label.toLowerCase() === String(value).trim().toLowerCase());
      if (option) named.push({ word: option.label.toLowerCase(), said: `${key} ${JSON.stringify(value)}` });
    }
  }
  if (named.length > 1 && named.some((n) => n.word !== named[0]!.word))
    throw badInput(
      `${named.map((n) => n.said).join(' and ')} name two stages: a deal is at one.`,
      'Pass the stage once, e.g. {"stepname": "Propose"}.',
    );
  return named[0];
}

/**
 * The processes whose bar the policy lets be read and moved: their runs, the stages, and a run's stage and path
 * written.
 */
function barsReachable(ctx: ToolContext): (typeof PROCESSES)[number][] {
  if (!STAGE_COLUMNS.every((c) => ctx.policy.canRead(STAGES, c))) return [];
  return PROCESSES.filter(
    (p) =>
      RUN_COLUMNS.every((c) => ctx.policy.canRead(p.table, c)) &&
      ['activestageid', 'traversedpath'].every((c) => ctx.policy.canWrite(p.table, c)),
  );
}

/**
 * The deal's active run, of whichever process the policy lets be moved (the one last changed where it runs more:
 * RetrieveProcessInstances orders them so, and the form shows that one), and its process's stages in their order,
 * as RetrieveActivePath gives them: processstage has no column for a stage's place, and an administrator may have
 * added stages (a Negotiate after Propose) whose categories are out of that order or shared.
 */
async function runOf(
  ctx: ToolContext,
  dealId: string,
  processes: (typeof PROCESSES)[number][],
): Promise<Run | undefined> {
  const found: { row: Record<string, unknown>; p: (typeof PROCESSES)[number] }[] = [];
  for (const p of processes) {
    // an organisation without the process's table (Sales not installed, or the process removed) has no run there
    const there = await ctx.client.metadata.entity(p.table).then(
      () => true,
      (err: unknown) => {
        if (err instanceof DynamicsMcpError && err.kind === 'not_found') return false;
        throw err;
      },
    );
    if (!there) continue;
    const dated = ctx.policy.canRead(p.table, 'modifiedon');
    const runs = await ctx.client.query(
      {
        entity: p.table,
        select: ['activestageid', 'traversedpath', ...(dated ? ['modifiedon'] : [])],
        where: {
          and: [
            { column: 'opportunityid', op: 'eq', value: dealId },
            { column: 'statecode', op: 'eq', value: 0 },
          ],
        },
        ...(dated ? { orderBy: 'modifiedon desc' } : {}),
        top: 1,
      },
      { signal: ctx.signal, internal: true },
    );
    if (runs.rows[0]) found.push({ row: runs.rows[0], p });
  }
  found.sort((x, y) => String(y.row.modifiedon ?? '').localeCompare(String(x.row.modifiedon ?? '')));
  const latest = found[0];
  if (!latest) return undefined;
  const categories = (await ctx.client.checker.entity(STAGES)).columns.get('stagecategory')?.options ?? [];
  const run = latest.row;
  const path = await ctx.client.activePath(String(run.businessprocessflowinstanceid), { signal: ctx.signal });
  const stages = path.map((r) => {
    const value = Number(r.stagecategory);
    return {
      id: String(r.processstageid).toLowerCase(),
      name: String(r.stagename ?? ''),
      category: categories.find((o) => o.value === value)?.label ?? String(r.stagename ?? ''),
      categoryValue: value,
      ...(typeof r.primaryentitytypecode === 'string' ? { entity: r.primaryentitytypecode.toLowerCase() } : {}),
    };
  });
  const at = stages.findIndex((s) => s.id === String(run._activestageid_value ?? '').toLowerCase());
  if (at < 0) return undefined;
  return {
    table: latest.p.table,
    process: latest.p.name,
    id: String(run.businessprocessflowinstanceid),
    stages,
    at,
    path: String(run.traversedpath ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  };
}

/**
 * A deal's stage asked of update_record: the values to write (the Pipeline Phase as Dynamics writes it, "3-Propose",
 * and the Sales Stage with it where the policy lets it be written and it was not given) and the move of the bar
 * that follows. A stage the deal's process does not have is refused before anything is written, naming its
 * stages. Undefined where no stage is asked.
 */
export async function dealStageAsked(
  ctx: ToolContext,
  model: EntityModel,
  dealId: string,
  values: WriteValues,
): Promise<StageMove | undefined> {
  if (model.logicalName !== 'opportunity') return undefined;
  const named = stageNamed(model, values);
  if (!named) return undefined;
  const reachable = barsReachable(ctx);
  if (!reachable.length)
    return {
      values: stageWritten(ctx, model, values),
      asked: '',
      move: async () => ({
        text: ` The Sales Process bar on the deal's form was not moved: this server's policy does not let ${PROCESSES.map((p) => p.table).join(' or ')} (activestageid, traversedpath) be changed, so a move of the bar in Dynamics may set the Pipeline Phase anew.`,
        moved: false,
      }),
    };
  const run = await runOf(ctx, dealId, reachable);
  // no process running on the deal (finished, aborted, none applied, or one this server does not move): its stage
  // written whole, and that said
  if (!run)
    return {
      values: stageWritten(ctx, model, values),
      asked: '',
      move: async () => ({
        text: ` No ${orList(reachable.map((p) => p.name))} runs on the deal, so no Sales Process bar was moved.`,
        moved: false,
      }),
    };
  // the stages the deal can be at: a lead's process begins on the lead, whose stage is behind a deal made from it
  const own = (s: Stage) => !s.entity || s.entity === 'opportunity';
  const target = run.stages.findIndex(
    (s) => own(s) && (s.name.toLowerCase() === named.word || s.category.toLowerCase() === named.word),
  );
  const ownNames = run.stages.filter(own).map((s) => s.name);
  if (target < 0) {
    const leads = run.stages.find((s) => !own(s) && s.name.toLowerCase() === named.word);
    throw badInput(
      leads
        ? `${named.said} is the lead's stage of the deal's ${run.process}, behind the deal since the lead was qualified: the deal's stages are ${orList(ownNames, 'and')}.`
        : `${named.said} is no stage of the deal's ${run.process}: its stages are ${orList(ownNames, 'and')}.`,
      `Pass one of them, e.g. {"stepname": "${ownNames[Math.min(Math.max(ownNames.indexOf(run.stages[run.at]!.name) + 1, 0), ownNames.length - 1)]}"}; a deal is won or lost with statecode "Won" or "Lost".`,
    );
  }
  const stage = run.stages[target]!;
  // a stage an administrator added whose category is no Sales Stage (Negotiate, of Approval) keeps the deal in the
  // Sales Stage of the last stage before it that is one (Propose), where pipeline_summary counts it
  const sales = model.columns.get('salesstage')?.options ?? [];
  const salesLabel = run.stages
    .slice(0, target + 1)
    .reverse()
    .find((s) => sales.some((o) => o.label === s.category))?.category;
  const out = wholeStage(ctx, model, values, stage.categoryValue, stage.category, salesLabel);
  const asked =
    target === run.at ? '' : `, and its Sales Process bar moved from ${run.stages[run.at]!.name} to ${stage.name}`;
  return { values: out, asked, move: () => moveBar(ctx, run, target) };
}

/**
 * A run's stage written without its traversed path (update_record on a process's runs, {"activestageid":
 * "Propose"}): Dynamics refuses it ("Active Stage ID … does not match last Stage ID in Traversed Path"), and the
 * deal's stage is the way in, which moves the bar a stage at a time with its path. Refused before anything is
 * sent, saying so; with its path given, the write goes as asked.
 */
export function refuseBareStage(model: EntityModel, values: WriteValues): void {
  if (!RUN_TABLES.has(model.logicalName)) return;
  const keys = Object.keys(values).map((k) => writtenColumn(model, k)?.logicalName ?? k.split('@')[0]!.toLowerCase());
  if (!keys.includes('activestageid') || keys.includes('traversedpath')) return;
  throw badInput(
    "A Sales Process run's stage is moved with its traversed path, one stage at a time: Dynamics refuses the stage alone.",
    'Move the deal instead: update_record on the opportunity with {"stepname": "<stage>"} moves its bar there, stage by stage.',
  );
}

/**
 * A deal's values with its stage written whole, without its process's stages at hand (a deal not made yet, a
 * policy that hides the bar): the Pipeline Phase as Dynamics writes it ("3-Propose") and the Sales Stage with it
 * where the policy lets it be written and it was not given. The stage is the Sales Stage option of its name, as
 * the Opportunity Sales Process's categories are (Qualify … Close); one that is none is left as given (a new
 * deal's bar move says so).
 */
export function stageWritten(ctx: ToolContext, model: EntityModel, values: WriteValues): WriteValues {
  if (model.logicalName !== 'opportunity') return values;
  const named = stageNamed(model, values);
  const option = named && model.columns.get('salesstage')?.options?.find((o) => o.label.toLowerCase() === named.word);
  return option ? wholeStage(ctx, model, values, option.value, option.label) : values;
}

/**
 * The values with a stage of category `value` (its label `label`) written whole: the Pipeline Phase as Dynamics
 * writes it ("3-Propose": the category's place from 1, and its label), and the Sales Stage of that label (or of
 * `salesLabel`, where the category is none), each where the policy lets it be written.
 */
function wholeStage(
  ctx: ToolContext,
  model: EntityModel,
  values: WriteValues,
  value: number,
  label: string,
  salesLabel = label,
) {
  const out: WriteValues = {};
  const phase = `${value + 1}-${label}`;
  for (const [key, given] of Object.entries(values))
    out[key] = writtenColumn(model, key)?.logicalName === 'stepname' ? phase : given;
  const has = (column: string) => Object.keys(out).some((k) => writtenColumn(model, k)?.logicalName === column);
  // a stage given as the Sales Stage alone: the Pipeline Phase with it, as a platform that no longer writes the
  // phase from the bar (version 9, one report says) would leave it at the stage before
  if (!has('stepname') && ctx.policy.canWrite('opportunity', 'stepname')) out.stepname = phase;
  const salesStage = model.columns.get('salesstage')?.options?.find((o) => o.label === salesLabel);
  return salesStage && !has('salesstage') && ctx.policy.canWrite('opportunity', 'salesstage')
    ? { ...out, salesstage: salesStage.value }
    : out;
}

/**
 * A deal just made with a stage asked: its Sales Process bar, which Dynamics starts at the first stage, moved
 * there as an update moves it. What cannot be moved is said, not thrown: the deal is made either way.
 */
export async function newDealMoved(
  ctx: ToolContext,
  model: EntityModel,
  id: string,
  values: WriteValues,
): Promise<string> {
  try {
    const stage = await dealStageAsked(ctx, model, id, values);
    return stage ? (await stage.move()).text : '';
  } catch (err) {
    const why = err instanceof DynamicsMcpError ? err.message : String(err);
    return ` Its Sales Process bar was left at its first stage: ${why}`;
  }
}

/**
 * The run moved one stage at a time to `target`, its traversed path ending with each (forward, the stage added;
 * back, the path cut after it). A step Dynamics refuses stops the walk, said with where the bar is.
 */
async function moveBar(ctx: ToolContext, run: Run, target: number): Promise<{ text: string; moved: boolean }> {
  const names = run.stages.map((s) => s.name);
  if (target === run.at) return { text: ` The Sales Process bar was already at ${names[target]}.`, moved: false };
  // the path as Dynamics keeps it, up to the stage the bar is at (rebuilt from the stages where it does not end there)
  let path =
    run.path[run.path.length - 1] === run.stages[run.at]!.id
      ? [...run.path]
      : run.stages.slice(0, run.at + 1).map((s) => s.id);
  const step = target > run.at ? 1 : -1;
  const passed = [names[run.at]!];
  for (let i = run.at + step; step > 0 ? i <= target : i >= target; i += step) {
    const stage = run.stages[i]!;
    const cut = path.lastIndexOf(stage.id);
    path =
      step > 0 ? [...path, stage.id] : cut >= 0 ? path.slice(0, cut + 1) : run.stages.slice(0, i + 1).map((s) => s.id);
    const changes = { activestageid: { entity: STAGES, id: stage.id }, traversedpath: path.join(',') };
    try {
      await ctx.client.update(run.table, run.id, changes, { signal: ctx.signal });
    } catch (err) {
      const why = err instanceof DynamicsMcpError ? err.message : String(err);
      return {
        text: ` The Sales Process bar stopped at ${passed[passed.length - 1]} (moving it to ${stage.name} was refused: ${why}); call update_record again with the stage to finish the move.`,
        moved: passed.length > 1,
      };
    }
    await ctx.audit.record({
      tool: 'update_record',
      entity: run.table,
      id: run.id,
      action: 'update',
      columns: changes,
      caller: ctx.caller,
    });
    passed.push(stage.name);
  }
  const which = run.table === PROCESSES[0].table ? '' : ` (its ${run.process})`;
  return { text: ` The Sales Process bar${which} on the deal's form moved ${passed.join(' → ')}.`, moved: true };
}
