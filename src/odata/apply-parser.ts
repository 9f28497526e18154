import type { AggregateItem, AggregateMethod, ApplyStep } from './ast.js';
import { ODataSyntaxError } from './errors.js';
import type { Parser } from './parser.js';

const AGGREGATE_METHODS: ReadonlySet<string> = new Set(['sum', 'average', 'min', 'max', 'countdistinct']);

/**
 * The $apply grammar (AGG: filter, groupby and aggregate steps joined by "/"), read with the shared parser's
 * tokens and depth budget.
 */
export function applySteps(p: Parser): ApplyStep[] {
  const steps: ApplyStep[] = [];
  for (;;) {
    const t = p.expectIdent('a transformation (filter, groupby or aggregate)');
    const open = p.expectPunct('(');
    p.enter(open);
    if (t.text === 'filter') {
      steps.push({ kind: 'filter', expr: p.parseOr(), pos: t.pos });
    } else if (t.text === 'aggregate') {
      steps.push({ kind: 'aggregate', items: aggregateItems(p), pos: t.pos });
    } else if (t.text === 'groupby') {
      const inner = p.expectPunct('(');
      p.enter(inner);
      const paths: string[][] = [p.parsePath()];
      while (p.isPunct(',')) {
        p.next();
        paths.push(p.parsePath());
      }
      p.expectPunct(')');
      p.leave();
      const step: ApplyStep = { kind: 'groupby', paths, pos: t.pos };
      if (p.isPunct(',')) {
        p.next();
        const agg = p.expectIdent("'aggregate'");
        if (agg.text !== 'aggregate') throw new ODataSyntaxError(`'aggregate' expected`, agg.pos, p.input);
        const o = p.expectPunct('(');
        p.enter(o);
        step.aggregate = aggregateItems(p);
        p.expectPunct(')');
        p.leave();
      }
      steps.push(step);
    } else {
      throw new ODataSyntaxError(`unsupported transformation '${t.text}'`, t.pos, p.input);
    }
    p.expectPunct(')');
    p.leave();
    if (!p.isPunct('/')) break;
    p.next();
  }
  return steps;
}

function aggregateItems(p: Parser): AggregateItem[] {
  const items: AggregateItem[] = [];
  for (;;) {
    const pos = p.peek().pos;
    let path: string[] | null;
    let method: AggregateItem['method'];
    if (p.isWord('$count')) {
      p.next();
      path = null;
      method = 'count';
    } else {
      path = p.parsePath();
      if (!p.isWord('with')) throw p.error("'with' expected");
      p.next();
      const m = p.expectIdent('an aggregation method');
      if (!AGGREGATE_METHODS.has(m.text))
        throw new ODataSyntaxError(`unknown aggregation method '${m.text}'`, m.pos, p.input);
      method = m.text as AggregateMethod;
    }
    if (!p.isWord('as')) throw p.error("'as' expected");
    p.next();
    const alias = p.expectIdent('an alias');
    p.checkSegment(alias);
    items.push({ path, method, alias: alias.text, pos });
    if (!p.isPunct(',')) break;
    p.next();
  }
  return items;
}
