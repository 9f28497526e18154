import { applySteps } from './apply-parser.js';
import {
  type ApplyStep,
  type CompareOp,
  type ExpandItem,
  type Expr,
  type ListLiteral,
  type Literal,
  NAMESPACE,
  type OrderByItem,
  type PathExpr,
  type StringFunction,
} from './ast.js';
import { ODataSyntaxError } from './errors.js';
import { type Token, tokenize } from './lexer.js';
import { likePattern, textFunctionMeant } from './like.js';

export interface ParseOptions {
  /** deepest nesting of parentheses, `not`, lambdas and calls; deeper input is a clean error, not a stack overflow */
  maxDepth?: number;
  /** longest accepted input, in characters */
  maxLength?: number;
  /**
   * Habits Dataverse's filter does not take (its operators are the comparisons, and, or, not), read as what
   * they mean: OData 4.01's `name in ('A','B')` as `(name eq 'A' or name eq 'B')`, SQL's `name like
   * '%energy%'` (wildcards at the ends only) as `contains(name,'energy')`, `name = 'x'`, `IS [NOT] NULL`,
   * keywords in capitals, and C's operators (lexer.ts) as the comparisons, text in double quotes as text. None
   * of them can mean anything else in a filter. Off where the input is what Dataverse itself would parse (the
   * emulator, the links it hands back).
   */
  habits?: boolean;
}

/**
 * A glob's * in a text function's value ("startswith(name,'Con*')", "contains(name,'*energy*')"), which
 * Dataverse compares as the character * (its wildcards are LIKE's %, _ and []: FILTER), so the filter would
 * find nothing. At the value's ends it says the function meant (endswith(name,'*Ltd') is endswith 'Ltd',
 * startswith(name,'*Con') contains 'Con'); inside, it is LIKE's %, which Dataverse honours there.
 */
/**
 * A text function compared with true or false ("startswith(name,'Con') eq true", as OData 2 wrote it, and
 * "contains(name,'x') eq false"), which Dataverse refuses: the function, or its negation.
 */
function truthCompared(e: Extract<Expr, { kind: 'compare' }>): Expr {
  const [call, truth] = e.left.kind === 'call' ? [e.left, e.right] : [e.right, e.left];
  if (call.kind !== 'call' || truth.kind !== 'literal' || truth.type !== 'boolean' || !['eq', 'ne'].includes(e.op))
    return e;
  return (truth.value === true) === (e.op === 'eq') ? call : { kind: 'not', operand: call, pos: e.pos };
}

function globAsMeant(name: StringFunction, args: Expr[], pos: number): Expr {
  const value = args[1];
  if (value?.kind !== 'literal' || value.type !== 'string' || !String(value.value).includes('*'))
    return { kind: 'call', name, args, pos };
  const text = String(value.value);
  const meant = textFunctionMeant(name, text, '*%');
  return meant
    ? { kind: 'call', name: meant.op, args: [args[0]!, { ...value, value: meant.text }], pos }
    : { kind: 'call', name, args: [args[0]!, { ...value, value: text.replace(/\*/g, '%') }], pos };
}

const COMPARE: ReadonlySet<string> = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const STRING_FUNCTIONS: ReadonlySet<string> = new Set(['contains', 'startswith', 'endswith']);
const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_MAX_LENGTH = 65_536; // the documented URL limit inside $batch

/**
 * A recursive-descent parser with loops for left-associative chains (a flat `a or b or …` of
 * 20,000 terms does not recurse per term) and an explicit depth budget for real nesting.
 */
export class Parser {
  private i = 0;
  private depth = 0;
  private readonly maxDepth: number;
  private readonly habits: boolean;

  constructor(
    readonly input: string,
    private readonly tokens: Token[],
    options: ParseOptions,
  ) {
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.habits = options.habits ?? false;
  }

  // ---- token helpers ----
  peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }
  next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }
  isPunct(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'punct' && t.text === text;
  }
  isWord(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'ident' && t.text === text;
  }
  expectPunct(text: string): Token {
    const t = this.peek();
    if (t.kind !== 'punct' || t.text !== text) throw this.error(`'${text}' expected`, t);
    return this.next();
  }
  expectIdent(what = 'a name'): Token {
    const t = this.peek();
    if (t.kind !== 'ident') throw this.error(`${what} expected`, t);
    return this.next();
  }
  error(reason: string, t: Token = this.peek()): ODataSyntaxError {
    const found = t.kind === 'eof' ? 'end of input' : `'${t.text}'`;
    return new ODataSyntaxError(`${reason}, found ${found}`, t.pos, this.input);
  }
  enter(t: Token): void {
    if (++this.depth > this.maxDepth)
      throw new ODataSyntaxError(`expression nested too deeply (more than ${this.maxDepth} levels)`, t.pos, this.input);
  }
  leave(): void {
    this.depth--;
  }
  atEnd(): boolean {
    return this.peek().kind === 'eof';
  }
  expectEnd(): void {
    if (!this.atEnd()) throw this.error('end of expression expected');
  }

  // ---- boolean expressions ----
  parseOr(): Expr {
    const first = this.parseAnd();
    if (!this.isWord('or')) return first;
    const operands = [first];
    while (this.isWord('or')) {
      this.next();
      operands.push(this.parseAnd());
    }
    return { kind: 'or', operands, pos: first.pos };
  }

  parseAnd(): Expr {
    const first = this.parseUnary();
    if (!this.isWord('and')) return first;
    const operands = [first];
    while (this.isWord('and')) {
      this.next();
      operands.push(this.parseUnary());
    }
    return { kind: 'and', operands, pos: first.pos };
  }

  parseUnary(): Expr {
    const t = this.peek();
    if (t.kind === 'ident' && t.text === 'not') {
      this.next();
      this.enter(t);
      const operand = this.parseUnary();
      this.leave();
      return { kind: 'not', operand, pos: t.pos };
    }
    return this.parseComparison();
  }

  parseComparison(): Expr {
    const left = this.parsePrimary();
    const t = this.peek();
    if (t.kind === 'ident' && COMPARE.has(t.text)) {
      this.next();
      const right = this.parsePrimary();
      const compare: Expr = { kind: 'compare', op: t.text as CompareOp, left, right, pos: t.pos };
      return this.habits ? truthCompared(compare) : compare;
    }
    // SQL's = for eq, and IS [NOT] NULL for the null comparisons
    if (this.habits && t.kind === 'punct' && t.text === '=') {
      this.next();
      const right = this.parsePrimary();
      return { kind: 'compare', op: 'eq', left, right, pos: t.pos };
    }
    if (this.habits && t.kind === 'ident' && t.text === 'is') {
      this.next();
      const negated = this.isWord('not');
      if (negated) this.next();
      const value = this.peek();
      if (!this.isWord('null'))
        throw this.error(
          `'is${negated ? ' not' : ''}' compares with null alone (for a value, ${negated ? 'ne' : 'eq'}: name ${negated ? 'ne' : 'eq'} 'Contoso'): 'null' expected`,
          value,
        );
      this.next();
      const right: Literal = { kind: 'literal', type: 'null', value: null, pos: value.pos };
      return { kind: 'compare', op: negated ? 'ne' : 'eq', left, right, pos: t.pos };
    }
    if (this.habits && t.kind === 'ident') {
      // SQL's NOT before in, like and between: the opposite of that
      const after = this.peek(1);
      if (t.text === 'not' && after.kind === 'ident' && /^(in|like|between)$/i.test(after.text)) {
        this.next();
        const operand = this.parseSqlOperator(left, after);
        return { kind: 'not', operand: operand!, pos: t.pos };
      }
      const sql = this.parseSqlOperator(left, t);
      if (sql) return sql;
    }
    if (t.kind === 'ident' && ['add', 'sub', 'mul', 'div', 'mod', 'has', 'in'].includes(t.text))
      throw new ODataSyntaxError(`the '${t.text}' operator is not supported by Dataverse`, t.pos, this.input);
    return left;
  }

  /** OData 4.01's in, SQL's like and between, at t after a comparison's left side; undefined at anything else */
  parseSqlOperator(left: Expr, t: Token): Expr | undefined {
    if (t.text === 'in') {
      this.next();
      return this.parseInList(left, t.pos);
    }
    if (/^like$/i.test(t.text)) return this.parseLike(left, t);
    if (/^between$/i.test(t.text)) {
      // `revenue between 1000000 and 5000000`: both ends included, as SQL's
      this.next();
      const low = this.parsePrimary();
      if (!this.isWord('and')) throw this.error("'and' expected between the two ends of 'between'");
      this.next();
      const high = this.parsePrimary();
      return {
        kind: 'and',
        operands: [
          { kind: 'compare', op: 'ge', left, right: low, pos: t.pos },
          { kind: 'compare', op: 'le', left, right: high, pos: t.pos },
        ],
        pos: t.pos,
      };
    }
    return undefined;
  }

  /** `'pattern'` after SQL's like: the string function (or eq) it means; any other pattern is refused at like */
  parseLike(left: Expr, like: Token): Expr {
    this.next();
    const pattern = this.peek();
    const meant = pattern.kind === 'string' ? likePattern(pattern.value!) : undefined;
    if (!meant)
      throw new ODataSyntaxError(
        "'like' is not OData, and this pattern (a wildcard inside, or _) says no one text function",
        like.pos,
        this.input,
      );
    this.next();
    const text: Literal = { kind: 'literal', type: 'string', value: meant.text, pos: pattern.pos };
    return meant.op === 'eq'
      ? { kind: 'compare', op: 'eq', left, right: text, pos: like.pos }
      : { kind: 'call', name: meant.op, args: [left, text], pos: like.pos };
  }

  /** `(v1, v2, …)` after `in`: each value compared with eq, any of them holding */
  parseInList(left: Expr, pos: number): Expr {
    const open = this.expectPunct('(');
    this.enter(open);
    const operands: Expr[] = [];
    do {
      if (operands.length) this.next();
      const value = this.tryLiteral() ?? this.bareWord();
      if (!value)
        throw this.error("a value (text in single quotes, a number, a date or an id) expected in the list after 'in'");
      operands.push({ kind: 'compare', op: 'eq', left, right: value, pos });
    } while (this.isPunct(','));
    this.expectPunct(')');
    this.leave();
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands, pos };
  }

  /**
   * A word alone in an `in` list, "prioritycode in (High, Normal)": read as a name, as it would be after eq, so
   * the policy check can take it as a choice's label or say to quote it (check.ts compare)
   */
  bareWord(): PathExpr | undefined {
    const t = this.peek();
    if (t.kind !== 'ident' || !(this.isPunct(',', 1) || this.isPunct(')', 1))) return undefined;
    this.next();
    return { kind: 'path', segments: [t.text], pos: t.pos };
  }

  parsePrimary(): Expr {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === '(') {
      this.next();
      this.enter(t);
      const e = this.parseOr();
      this.expectPunct(')');
      this.leave();
      return e;
    }
    const literal = this.tryLiteral();
    if (literal) return literal;
    if (t.kind === 'alias') {
      this.next();
      return { kind: 'alias', name: t.text.slice(1), pos: t.pos };
    }
    if (t.kind === 'ident') {
      if (this.isPunct('(', 1)) return this.parseCall();
      return this.parsePathOrLambda();
    }
    throw this.error('an operand expected');
  }

  tryLiteral(): Literal | undefined {
    const t = this.peek();
    let lit: Literal | undefined;
    switch (t.kind) {
      case 'string':
        lit = { kind: 'literal', type: 'string', value: t.value!, pos: t.pos };
        break;
      // text in double quotes, as JSON and most languages quote it: the text (OData quotes it singly)
      case 'dqstring':
        if (this.habits) lit = { kind: 'literal', type: 'string', value: t.value!, pos: t.pos };
        break;
      case 'number': {
        const text = t.text.replace(/[mMdDfFlL]$/, '');
        // OData's type suffixes (1M is the decimal 1, 5d the double 5) are what a model writes for a million or
        // five days: read as Dataverse reads them, "revenue gt 1M" would find every account with revenue
        if (this.habits && text !== t.text)
          throw new ODataSyntaxError(
            `'${t.text}' is the number ${text} in OData ('${t.text.slice(-1)}' marks its type)`,
            t.pos,
            this.input,
          );
        lit = { kind: 'literal', type: 'number', value: Number(text), pos: t.pos };
        break;
      }
      case 'guid':
        lit = { kind: 'literal', type: 'guid', value: t.text.toLowerCase(), pos: t.pos };
        break;
      case 'date':
        lit = { kind: 'literal', type: 'date', value: t.text, pos: t.pos };
        break;
      case 'datetime':
        lit = { kind: 'literal', type: 'datetime', value: t.text, pos: t.pos };
        break;
      case 'ident':
        if (t.text === 'true' || t.text === 'false')
          lit = { kind: 'literal', type: 'boolean', value: t.text === 'true', pos: t.pos };
        else if (t.text === 'null') lit = { kind: 'literal', type: 'null', value: null, pos: t.pos };
        break;
      default:
        break;
    }
    if (lit) this.next();
    return lit;
  }

  parseCall(): Expr {
    const nameTok = this.next();
    const open = this.expectPunct('(');
    this.enter(open);
    let result: Expr;
    // OData 2's substringof('text', column), from the CRM 2011 endpoint's samples: contains(column, 'text')
    const v2 = this.habits && /^substringof$/i.test(nameTok.text);
    if (STRING_FUNCTIONS.has(nameTok.text) || v2) {
      const args: Expr[] = [this.parseOr()];
      while (this.isPunct(',')) {
        this.next();
        args.push(this.parseOr());
      }
      if (args.length !== 2)
        throw new ODataSyntaxError(`${nameTok.text}() takes 2 arguments, got ${args.length}`, nameTok.pos, this.input);
      if (v2) args.reverse();
      result = this.habits
        ? globAsMeant(v2 ? 'contains' : (nameTok.text as StringFunction), args, nameTok.pos)
        : { kind: 'call', name: nameTok.text as StringFunction, args, pos: nameTok.pos };
    } else if (nameTok.text.startsWith(NAMESPACE) && nameTok.text.length > NAMESPACE.length) {
      const params: Record<string, Expr> = {};
      if (!this.isPunct(')')) {
        for (;;) {
          const p = this.expectIdent('a parameter name');
          if (Object.hasOwn(params, p.text))
            throw new ODataSyntaxError(`duplicate parameter '${p.text}'`, p.pos, this.input);
          this.expectPunct('=');
          params[p.text] = this.parseParamValue();
          if (!this.isPunct(',')) break;
          this.next();
        }
      }
      result = { kind: 'function', name: nameTok.text.slice(NAMESPACE.length), params, pos: nameTok.pos };
    } else {
      throw new ODataSyntaxError(`unknown function '${nameTok.text}'`, nameTok.pos, this.input);
    }
    this.expectPunct(')');
    this.leave();
    return result;
  }

  parseParamValue(): Expr {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === '[') return this.parseList();
    if (t.kind === 'alias') {
      this.next();
      return { kind: 'alias', name: t.text.slice(1), pos: t.pos };
    }
    const lit = this.tryLiteral();
    if (!lit) throw this.error('a literal, a list or a parameter alias expected');
    return lit;
  }

  /** `['a','b']` and the documented JSON form `["a","b"]` (needed for values containing apostrophes) */
  parseList(): ListLiteral {
    const open = this.expectPunct('[');
    const items: Literal[] = [];
    if (!this.isPunct(']')) {
      for (;;) {
        const t = this.peek();
        if (t.kind === 'dqstring') {
          this.next();
          items.push({ kind: 'literal', type: 'string', value: t.value!, pos: t.pos });
        } else {
          const lit = this.tryLiteral();
          if (!lit) throw this.error('a literal expected in the list');
          items.push(lit);
        }
        if (!this.isPunct(',')) break;
        this.next();
      }
    }
    this.expectPunct(']');
    return { kind: 'list', items, pos: open.pos };
  }

  parsePathOrLambda(): Expr {
    const first = this.next();
    this.checkSegment(first);
    const segments = [first.text];
    while (this.isPunct('/')) {
      this.next();
      const seg = this.expectIdent('a property name after /');
      if ((seg.text === 'any' || seg.text === 'all') && this.isPunct('(')) return this.parseLambda(segments, seg);
      this.checkSegment(seg);
      segments.push(seg.text);
    }
    return { kind: 'path', segments, pos: first.pos };
  }

  checkSegment(t: Token): void {
    if (t.text.startsWith('$') || t.text.includes('.'))
      throw new ODataSyntaxError(`'${t.text}' is not supported in a property path`, t.pos, this.input);
    if (['and', 'or', 'not', ...COMPARE].includes(t.text)) throw this.error('an operand expected', t);
  }

  parseLambda(path: string[], opTok: Token): Expr {
    const open = this.expectPunct('(');
    this.enter(open);
    let result: Expr;
    if (this.isPunct(')')) {
      if (opTok.text === 'all') throw new ODataSyntaxError('all() needs a lambda expression', opTok.pos, this.input);
      result = { kind: 'lambda', op: 'any', path, pos: opTok.pos };
    } else {
      const v = this.expectIdent('a lambda variable');
      this.checkSegment(v);
      this.expectPunct(':');
      const body = this.parseOr();
      result = { kind: 'lambda', op: opTok.text as 'any' | 'all', path, variable: v.text, body, pos: opTok.pos };
    }
    this.expectPunct(')');
    this.leave();
    return result;
  }

  // ---- query options ----
  parseSelectList(): string[] {
    const out: string[] = [];
    for (;;) {
      const t = this.expectIdent('a column name');
      this.checkSegment(t);
      out.push(t.text);
      if (!this.isPunct(',')) break;
      this.next();
    }
    return out;
  }

  parsePath(): string[] {
    const first = this.expectIdent('a property name');
    this.checkSegment(first);
    const segments = [first.text];
    while (this.isPunct('/')) {
      this.next();
      const seg = this.expectIdent('a property name after /');
      this.checkSegment(seg);
      segments.push(seg.text);
    }
    return segments;
  }

  parseOrderByList(): OrderByItem[] {
    const out: OrderByItem[] = [];
    for (;;) {
      const pos = this.peek().pos;
      const path = this.parsePath();
      let descending = false;
      if (this.isWord('asc') || this.isWord('desc')) descending = this.next().text === 'desc';
      out.push({ path, descending, pos });
      if (!this.isPunct(',')) break;
      this.next();
    }
    return out;
  }

  parseTop(): number {
    const t = this.peek();
    if (t.kind !== 'number' || !/^\d+$/.test(t.text)) throw this.error('a whole number expected');
    this.next();
    return Number(t.text);
  }

  parseExpandList(): ExpandItem[] {
    const out: ExpandItem[] = [];
    for (;;) {
      const nav = this.expectIdent('a navigation property');
      this.checkSegment(nav);
      const item: ExpandItem = { property: nav.text, ref: false, pos: nav.pos };
      if (this.isPunct('/')) {
        this.next();
        const ref = this.expectIdent("'$ref'");
        if (ref.text !== '$ref') throw new ODataSyntaxError(`'$ref' expected`, ref.pos, this.input);
        item.ref = true;
      }
      if (this.isPunct('(')) {
        const open = this.next();
        this.enter(open);
        for (;;) {
          const opt = this.expectIdent('an expand option');
          this.expectPunct('=');
          this.setExpandOption(item, opt);
          if (!this.isPunct(';')) break;
          this.next();
        }
        this.expectPunct(')');
        this.leave();
      }
      out.push(item);
      if (!this.isPunct(',')) break;
      this.next();
    }
    return out;
  }

  setExpandOption(item: ExpandItem, opt: Token): void {
    const dup = () => new ODataSyntaxError(`duplicate option '${opt.text}'`, opt.pos, this.input);
    switch (opt.text) {
      case '$select':
        if (item.select) throw dup();
        item.select = this.parseSelectList();
        return;
      case '$filter':
        if (item.filter) throw dup();
        item.filter = this.parseOr();
        return;
      case '$orderby':
        if (item.orderBy) throw dup();
        item.orderBy = this.parseOrderByList();
        return;
      case '$top':
        if (item.top !== undefined) throw dup();
        item.top = this.parseTop();
        return;
      case '$expand':
        if (item.expand) throw dup();
        item.expand = this.parseExpandList();
        return;
      default:
        throw new ODataSyntaxError(
          `'${opt.text}' is not supported inside $expand (use $select, $filter, $orderby, $top or $expand)`,
          opt.pos,
          this.input,
        );
    }
  }
}

/**
 * A filter written with its clause or query option before it ("WHERE revenue > 5", "$filter=statecode eq 0"), in a
 * model's text: the filter after it.
 */
const FILTER_PREFIX = /^\s*(?:where\s+|\$?filter\s*=\s*)/i;

function run<T>(input: string, options: ParseOptions, body: (p: Parser) => T): T {
  const max = options.maxLength ?? DEFAULT_MAX_LENGTH;
  if (input.length > max) throw new ODataSyntaxError(`input longer than ${max} characters`, max, input);
  const p = new Parser(input, tokenize(input, options.habits), options);
  if (p.atEnd()) throw p.error('an expression expected');
  const result = body(p);
  p.expectEnd();
  return result;
}

export const parseFilter = (input: string, options: ParseOptions = {}): Expr =>
  run(options.habits ? input.replace(FILTER_PREFIX, '') : input, options, (p) => p.parseOr());
export const parseSelect = (input: string, options: ParseOptions = {}): string[] =>
  run(input, options, (p) => p.parseSelectList());
export const parseOrderBy = (input: string, options: ParseOptions = {}): OrderByItem[] =>
  run(input, options, (p) => p.parseOrderByList());
export const parseExpand = (input: string, options: ParseOptions = {}): ExpandItem[] =>
  run(input, options, (p) => p.parseExpandList());
export const parseApply = (input: string, options: ParseOptions = {}): ApplyStep[] =>
  run(input, options, (p) => applySteps(p));
/** A single literal, as used for parameter-alias values (`@p1='modifiedon'`). */
export const parseLiteral = (input: string): Expr =>
  run(input, {}, (p) => {
    if (p.isPunct('[')) return p.parseList();
    const lit = p.tryLiteral();
    if (!lit) throw p.error('a literal expected');
    return lit;
  });
