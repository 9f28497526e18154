import type { Expr } from './ast.js';

/** A property path an expression reads, resolved from the query's root entity. */
export interface PathRef {
  /** e.g. ['primarycontactid', 'fullname'] or, through a lambda, ['Account_Tasks', 'subject'] */
  segments: string[];
  /** indexes in `segments` that are collection-valued steps entered by any()/all() */
  lambdaSteps: number[];
  /** where the path was written: 'path', a query function's PropertyName, or a lambda's collection */
  source: 'path' | 'function' | 'lambda';
  pos: number;
}

export interface References {
  paths: PathRef[];
  /** query function names (without the Microsoft.Dynamics.CRM. namespace) */
  functions: { name: string; pos: number }[];
  aliases: { name: string; pos: number }[];
}

interface Scope {
  variable: string;
  segments: string[];
  lambdaSteps: number[];
}

/**
 * Every property path, query function and alias in an expression, with lambda variables
 * replaced by the collection they range over. Walks every node, including function arguments
 * (a visitor that skips them would let `contains(secret,'x')` through unseen).
 */
export function collectReferences(expr: Expr): References {
  const out: References = { paths: [], functions: [], aliases: [] };
  const stack: { e: Expr; scopes: Scope[] }[] = [{ e: expr, scopes: [] }];
  const resolve = (segments: string[], scopes: Scope[]): { segments: string[]; lambdaSteps: number[] } => {
    const head = segments[0]!;
    for (let s = scopes.length - 1; s >= 0; s--) {
      const scope = scopes[s]!;
      if (scope.variable === head)
        return { segments: [...scope.segments, ...segments.slice(1)], lambdaSteps: scope.lambdaSteps };
    }
    return { segments, lambdaSteps: [] };
  };
  while (stack.length) {
    const { e, scopes } = stack.pop()!;
    switch (e.kind) {
      case 'literal':
      case 'list':
        break;
      case 'alias':
        out.aliases.push({ name: e.name, pos: e.pos });
        break;
      case 'path': {
        const r = resolve(e.segments, scopes);
        out.paths.push({ ...r, source: 'path', pos: e.pos });
        break;
      }
      case 'and':
      case 'or':
        for (const o of e.operands) stack.push({ e: o, scopes });
        break;
      case 'not':
        stack.push({ e: e.operand, scopes });
        break;
      case 'compare':
        stack.push({ e: e.left, scopes }, { e: e.right, scopes });
        break;
      case 'call':
        for (const a of e.args) stack.push({ e: a, scopes });
        break;
      case 'function': {
        out.functions.push({ name: e.name, pos: e.pos });
        for (const [key, value] of Object.entries(e.params)) {
          if (key === 'PropertyName' && value.kind === 'literal' && typeof value.value === 'string') {
            out.paths.push({ ...resolve(value.value.split('/'), scopes), source: 'function', pos: value.pos });
          } else {
            stack.push({ e: value, scopes });
          }
        }
        break;
      }
      case 'lambda': {
        const r = resolve(e.path, scopes);
        const collectionIndex = r.segments.length - 1;
        const lambdaSteps = [...r.lambdaSteps, collectionIndex];
        out.paths.push({ segments: r.segments, lambdaSteps, source: 'lambda', pos: e.pos });
        if (e.variable && e.body) {
          stack.push({
            e: e.body,
            scopes: [...scopes, { variable: e.variable, segments: r.segments, lambdaSteps }],
          });
        }
        break;
      }
    }
  }
  return out;
}
