import { ODataSyntaxError } from './errors.js';

/**
 * Tokens of the OData URL-expression grammar as Dataverse uses it. The lexer works on text that is
 * already URL-decoded: a `%` outside a string literal is an error, never decoded a second time, so no
 * parser differential can hide text from the policy.
 */
export type TokenKind =
  | 'string' // '...' with '' as the only escape
  | 'dqstring' // "..." (JSON form, allowed only inside list literals such as PropertyValues=["a"])
  | 'number'
  | 'guid'
  | 'date'
  | 'datetime'
  | 'ident' // name, possibly dotted (Microsoft.Dynamics.CRM.In) or starting with $ ($count, $select)
  | 'alias' // @p1
  | 'punct' // ( ) , / : = [ ] ;
  | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** decoded value for string literals */
  value?: string;
  pos: number;
}

const GUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9a-zA-Z_])/y;
const DATETIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})(?![0-9a-zA-Z_])/y;
const DATE = /\d{4}-\d{2}-\d{2}(?![0-9a-zA-Z_:T])/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?(?![0-9a-zA-Z_])/y;
const IDENT = /\$?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const ALIAS = /@[A-Za-z_][A-Za-z0-9_]*/y;
const PUNCT = '(),/:=[];';

function sticky(re: RegExp, input: string, pos: number): string | undefined {
  re.lastIndex = pos;
  const m = re.exec(input);
  return m ? m[0] : undefined;
}

/** Pattern tokens in priority order: a GUID before a date before a number before a name. */
const PATTERNS: [TokenKind, RegExp][] = [
  ['guid', GUID],
  ['datetime', DATETIME],
  ['date', DATE],
  ['number', NUMBER],
  ['ident', IDENT],
  ['alias', ALIAS],
];

function matchToken(input: string, pos: number): { kind: TokenKind; text: string } | undefined {
  for (const [kind, re] of PATTERNS) {
    const text = sticky(re, input, pos);
    if (text) return { kind, text };
  }
  return undefined;
}

/**
 * SQL's and C's comparisons and logic (`>=`, `!=`, `&&`, `==`), as the OData words they mean, where the parser
 * reads habits (parser.ts): none of these characters has another place in a filter outside its text. A lone
 * `=` stays punctuation (a query function's parameter, PropertyName='name'); the parser reads it as eq where
 * a comparison stands.
 */
const HABIT_OPERATORS = /==|!=|<>|>=|<=|&&|\|\||>|<|!/y;
const HABIT_WORDS: Record<string, string> = {
  '==': 'eq',
  '!=': 'ne',
  '<>': 'ne',
  '>=': 'ge',
  '<=': 'le',
  '>': 'gt',
  '<': 'lt',
  '&&': 'and',
  '||': 'or',
  '!': 'not',
};
/** OData's keywords and literals, which it writes in lower case, as SQL writes them (AND, NULL, IS): no Dataverse name is upper case */
const KEYWORDS = /^(and|or|not|in|like|is|null|true|false)$/i;

/**
 * OData 2's typed literals, from the CRM 2011 endpoint's samples: datetime'2026-01-01T00:00:00Z',
 * datetimeoffset'…' and guid'…' are the value written bare. A date and time without its zone is refused inside
 * it, as bare (the zone meant is not guessed).
 */
function typedLiteral(prefix: Token | undefined, value: string, start: number, input: string): Token | undefined {
  if (prefix?.kind !== 'ident' || prefix.pos + prefix.text.length !== start) return undefined;
  const type = prefix.text.toLowerCase();
  const whole = (re: RegExp) => sticky(re, value, 0) === value;
  if (type === 'guid' && whole(GUID)) return { kind: 'guid', text: value, pos: prefix.pos };
  if (type !== 'datetime' && type !== 'datetimeoffset') return undefined;
  if (whole(DATETIME)) return { kind: 'datetime', text: value, pos: prefix.pos };
  if (whole(DATE)) return { kind: 'date', text: value, pos: prefix.pos };
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(value))
    throw new ODataSyntaxError('a date and time without its time zone', start + 1, input);
  return undefined;
}

export function tokenize(input: string, habits = false): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = input.length;
  while (i < n) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === "'") {
      const start = i;
      let out = '';
      i++;
      for (;;) {
        if (i >= n) throw new ODataSyntaxError('There is an unterminated literal', start, input);
        const ch = input[i]!;
        if (ch === "'") {
          if (input[i + 1] === "'") {
            out += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        // copy runs without quotes in one slice: a 1 MB literal stays linear
        const next = input.indexOf("'", i);
        const end = next === -1 ? n : next;
        out += input.slice(i, end);
        i = end;
      }
      const typed = habits ? typedLiteral(tokens.at(-1), out, start, input) : undefined;
      if (typed) tokens[tokens.length - 1] = typed;
      else tokens.push({ kind: 'string', text: input.slice(start, i), value: out, pos: start });
      continue;
    }
    if (c === '"') {
      const start = i;
      let out = '';
      i++;
      for (;;) {
        if (i >= n) throw new ODataSyntaxError('There is an unterminated literal', start, input);
        const ch = input[i]!;
        if (ch === '\\') {
          const esc = input[i + 1];
          if (esc === '"' || esc === '\\' || esc === '/') out += esc;
          else throw new ODataSyntaxError(`invalid escape '\\${esc ?? ''}'`, i, input);
          i += 2;
          continue;
        }
        if (ch === '"') {
          i++;
          break;
        }
        out += ch;
        i++;
      }
      tokens.push({ kind: 'dqstring', text: input.slice(start, i), value: out, pos: start });
      continue;
    }
    const operator = habits && '=<>!&|'.includes(c) ? sticky(HABIT_OPERATORS, input, i) : undefined;
    if (operator) {
      tokens.push({ kind: 'ident', text: HABIT_WORDS[operator]!, pos: i });
      i += operator.length;
      continue;
    }
    if (PUNCT.includes(c)) {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    const m = matchToken(input, i);
    if (!m) throw new ODataSyntaxError(`character '${c}' is not valid`, i, input);
    const text = habits && m.kind === 'ident' && KEYWORDS.test(m.text) ? m.text.toLowerCase() : m.text;
    tokens.push({ kind: m.kind, text, pos: i });
    i += m.text.length;
  }
  tokens.push({ kind: 'eof', text: '', pos: n });
  return tokens;
}
