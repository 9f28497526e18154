import type { AggregateItem, ApplyStep, ExpandItem, Expr, Literal, OrderByItem } from './ast.js';
import { NAMESPACE } from './ast.js';

/**
 * Canonical OData text for a parsed expression. What the client sends to Dataverse is always this
 * output, never the text a model wrote: quoting, grouping and spacing are ours, so nothing the
 * parser did not see can ride along.
 */
export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function literalToOData(lit: Literal): string {
  switch (lit.type) {
    case 'string':
      return quoteString(String(lit.value));
    case 'number':
      return numberToOData(lit.value as number);
    case 'boolean':
      return lit.value ? 'true' : 'false';
    case 'null':
      return 'null';
    default:
      return String(lit.value);
  }
}

export function numberToOData(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`${n} cannot be written as an OData number`);
  // OData has no exponent-free guarantee for tiny/huge doubles; String() gives 1e+21 which OData reads fine.
  return String(n);
}

function operand(e: Expr, parent: 'and' | 'or' | 'not' | 'compare'): string {
  const text = filterToOData(e);
  const needsParens =
    ((e.kind === 'and' || e.kind === 'or') && parent !== e.kind) || (e.kind === 'compare' && parent === 'not');
  return needsParens ? `(${text})` : text;
}

export function filterToOData(e: Expr): string {
  switch (e.kind) {
    case 'literal':
      return literalToOData(e);
    case 'list':
      // the JSON form is the documented one that survives apostrophes in values
      return `[${e.items.map((i) => (i.type === 'string' ? JSON.stringify(i.value) : literalToOData(i))).join(',')}]`;
    case 'path':
      return e.segments.join('/');
    case 'alias':
      return `@${e.name}`;
    case 'and':
    case 'or':
      return e.operands.map((o) => operand(o, e.kind)).join(` ${e.kind} `);
    case 'not':
      return `not ${operand(e.operand, 'not')}`;
    case 'compare':
      return `${operand(e.left, 'compare')} ${e.op} ${operand(e.right, 'compare')}`;
    case 'call':
      return `${e.name}(${e.args.map(filterToOData).join(',')})`;
    case 'function':
      return `${NAMESPACE}${e.name}(${Object.entries(e.params)
        .map(([k, v]) => `${k}=${filterToOData(v)}`)
        .join(',')})`;
    case 'lambda':
      return e.variable
        ? `${e.path.join('/')}/${e.op}(${e.variable}:${filterToOData(e.body!)})`
        : `${e.path.join('/')}/${e.op}()`;
  }
}

export function orderByToOData(items: OrderByItem[]): string {
  return items.map((i) => `${i.path.join('/')}${i.descending ? ' desc' : ' asc'}`).join(',');
}

export function expandToOData(items: ExpandItem[]): string {
  return items
    .map((i) => {
      const opts: string[] = [];
      if (i.select) opts.push(`$select=${i.select.join(',')}`);
      if (i.filter) opts.push(`$filter=${filterToOData(i.filter)}`);
      if (i.orderBy) opts.push(`$orderby=${orderByToOData(i.orderBy)}`);
      if (i.top !== undefined) opts.push(`$top=${i.top}`);
      if (i.expand) opts.push(`$expand=${expandToOData(i.expand)}`);
      return `${i.property}${i.ref ? '/$ref' : ''}${opts.length ? `(${opts.join(';')})` : ''}`;
    })
    .join(',');
}

function aggregateToOData(items: AggregateItem[]): string {
  return items
    .map((a) => (a.path ? `${a.path.join('/')} with ${a.method} as ${a.alias}` : `$count as ${a.alias}`))
    .join(',');
}

function applyStepToOData(s: ApplyStep): string {
  switch (s.kind) {
    case 'filter':
      return `filter(${filterToOData(s.expr)})`;
    case 'aggregate':
      return `aggregate(${aggregateToOData(s.items)})`;
    case 'groupby':
      return `groupby((${s.paths.map((p) => p.join('/')).join(',')})${
        s.aggregate ? `,aggregate(${aggregateToOData(s.aggregate)})` : ''
      })`;
  }
}

export function applyToOData(steps: ApplyStep[]): string {
  return steps.map(applyStepToOData).join('/');
}
