/**
 * OData v4 `$filter` for the sandbox: comparisons (eq ne gt ge lt le), `and`/`or`/`not`,
 * parentheses, `startswith`/`endswith`/`contains`, `tolower`/`toupper`/`trim`, string literals
 * with single quotes doubled (`'O''Brien'`; a backslash is a plain character: `'\'`), numbers,
 * `true`/`false`/`null`, and unquoted date (`2024-01-15`) and datetime
 * (`2024-01-15T00:00:00Z`) literals. Which functions SYSPRO supports is UNCONFIRMED.
 * String comparison ignores case and trailing spaces, as SQL Server's default collation does.
 */
import type { Column, Row, Table, Value } from '../tables.js';

export class ODataQueryError extends Error {}

type LiteralType = 'string' | 'number' | 'date' | 'datetime' | 'boolean' | 'null';

type Node =
  | { kind: 'literal'; type: LiteralType; value: string | number | boolean | null }
  | { kind: 'property'; column: Column }
  | { kind: 'call'; name: string; args: Node[] }
  | { kind: 'binary'; op: string; left: Node; right: Node }
  | { kind: 'in'; left: Node; values: Node[] }
  | { kind: 'not'; operand: Node };

type Token =
  | { t: 'punct'; v: '(' | ')' | ',' }
  | { t: 'string'; v: string }
  | { t: 'number'; v: number }
  | { t: 'date'; v: string }
  | { t: 'datetime'; v: string }
  | { t: 'word'; v: string };

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})/;
const DATE = /^\d{4}-\d{2}-\d{2}(?![\dT:])/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ t: 'punct', v: c });
      i++;
      continue;
    }
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length)
          throw new ODataQueryError(`Unterminated string literal at position ${i} in $filter.`);
        const ch = text[i] as string;
        if (ch === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += ch;
        i++;
      }
      tokens.push({ t: 'string', v: value });
      continue;
    }
    const rest = text.slice(i);
    const datetime = DATETIME.exec(rest);
    if (datetime) {
      tokens.push({ t: 'datetime', v: datetime[0] });
      i += datetime[0].length;
      continue;
    }
    const date = DATE.exec(rest);
    if (date) {
      tokens.push({ t: 'date', v: date[0] });
      i += date[0].length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?[mMdDfFlL]?/.exec(rest);
    if (number) {
      tokens.push({ t: 'number', v: Number.parseFloat(number[0]) });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (word) {
      tokens.push({ t: 'word', v: word[0] });
      i += word[0].length;
      continue;
    }
    throw new ODataQueryError(`Syntax error: character '${c}' is not valid at position ${i} in '${text}'.`);
  }
  return tokens;
}

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCTIONS: Record<string, number> = {
  startswith: 2,
  endswith: 2,
  contains: 2,
  tolower: 1,
  toupper: 1,
  trim: 1,
};

function parse(table: Table, text: string, hidden: ReadonlySet<string>): Node {
  const tokens = tokenize(text);
  let pos = 0;
  const peekWord = () => {
    const token = tokens[pos];
    return token?.t === 'word' ? token.v : undefined;
  };
  const expectPunct = (v: string) => {
    const token = tokens[pos++];
    if (token?.t !== 'punct' || token.v !== v)
      throw new ODataQueryError(`Syntax error: expected '${v}' in '${text}'.`);
  };
  const orExpr = (): Node => {
    let left = andExpr();
    while (peekWord() === 'or') {
      pos++;
      left = { kind: 'binary', op: 'or', left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): Node => {
    let left = notExpr();
    while (peekWord() === 'and') {
      pos++;
      left = { kind: 'binary', op: 'and', left, right: notExpr() };
    }
    return left;
  };
  const notExpr = (): Node => {
    if (peekWord() === 'not') {
      pos++;
      return { kind: 'not', operand: notExpr() };
    }
    const left = operand();
    const op = peekWord();
    if (op === 'in') {
      // OData 4.01 `Name in ('a','b')` (whether SYSPRO's service takes it is UNCONFIRMED).
      pos++;
      expectPunct('(');
      const values: Node[] = [operand()];
      while (tokens[pos]?.t === 'punct' && (tokens[pos] as { v: string }).v === ',') {
        pos++;
        values.push(operand());
      }
      expectPunct(')');
      return { kind: 'in', left, values };
    }
    if (op && COMPARISONS.has(op)) {
      pos++;
      return { kind: 'binary', op, left, right: operand() };
    }
    return left;
  };
  const operand = (): Node => {
    const token = tokens[pos++];
    if (!token) throw new ODataQueryError(`Syntax error: unexpected end of '${text}'.`);
    switch (token.t) {
      case 'string':
        return { kind: 'literal', type: 'string', value: token.v };
      case 'number':
        return { kind: 'literal', type: 'number', value: token.v };
      case 'date':
        return { kind: 'literal', type: 'date', value: token.v };
      case 'datetime':
        return { kind: 'literal', type: 'datetime', value: token.v };
      case 'punct': {
        if (token.v !== '(') break;
        const inner = orExpr();
        expectPunct(')');
        return inner;
      }
      case 'word': {
        if (token.v === 'true' || token.v === 'false')
          return { kind: 'literal', type: 'boolean', value: token.v === 'true' };
        if (token.v === 'null') return { kind: 'literal', type: 'null', value: null };
        const next = tokens[pos];
        if (next?.t === 'punct' && next.v === '(') {
          const arity = FUNCTIONS[token.v];
          if (arity === undefined)
            throw new ODataQueryError(`An unknown function with name '${token.v}' was found.`);
          pos++;
          const args: Node[] = [orExpr()];
          while (tokens[pos]?.t === 'punct' && (tokens[pos] as { v: string }).v === ',') {
            pos++;
            args.push(orExpr());
          }
          expectPunct(')');
          if (args.length !== arity) {
            throw new ODataQueryError(
              `The function '${token.v}' takes ${arity} argument(s), ${args.length} given.`,
            );
          }
          return { kind: 'call', name: token.v, args };
        }
        const column = table.definition.columns.find((c) => c.name === token.v);
        if (!column || hidden.has(column.name)) {
          throw new ODataQueryError(
            `Could not find a property named '${token.v}' on type 'SYSPRO.${table.name}'.`,
          );
        }
        return { kind: 'property', column };
      }
    }
    throw new ODataQueryError(`Syntax error at position ${pos} in '${text}'.`);
  };
  const root = orExpr();
  if (pos !== tokens.length) throw new ODataQueryError(`Syntax error at position ${pos} in '${text}'.`);
  return root;
}

type Evaluated = { type: LiteralType; value: Value | boolean };
type Evaluator = (row: Row) => Evaluated;

const edmName: Record<LiteralType, string> = {
  string: 'Edm.String',
  number: 'Edm.Decimal',
  date: 'Edm.Date',
  datetime: 'Edm.DateTimeOffset',
  boolean: 'Edm.Boolean',
  null: 'null',
};

function columnType(column: Column): LiteralType {
  if (column.type === 'string') return 'string';
  if (column.type === 'date') return 'date';
  return 'number';
}

function msOf(e: Evaluated): number {
  if (e.type === 'date') return Date.parse(`${e.value}T00:00:00Z`);
  return Date.parse(String(e.value));
}

function compareEvaluated(a: Evaluated, b: Evaluated, op: string): boolean {
  if (a.value === null || b.value === null) {
    const equal = a.value === b.value;
    if (op === 'eq') return equal;
    if (op === 'ne') return !equal;
    return false;
  }
  let c: number;
  if (a.type === 'string') {
    const x = String(a.value).trimEnd().toLowerCase();
    const y = String(b.value).trimEnd().toLowerCase();
    c = x === y ? 0 : x < y ? -1 : 1;
  } else if (a.type === 'number') c = Number(a.value) - Number(b.value);
  else if (a.type === 'boolean') c = a.value === b.value ? 0 : 1;
  else c = msOf(a) - msOf(b);
  switch (op) {
    case 'eq':
      return c === 0;
    case 'ne':
      return c !== 0;
    case 'gt':
      return c > 0;
    case 'ge':
      return c >= 0;
    case 'lt':
      return c < 0;
    default:
      return c <= 0;
  }
}

function compatible(a: LiteralType, b: LiteralType): boolean {
  if (a === 'null' || b === 'null' || a === b) return true;
  const temporal = (t: LiteralType) => t === 'date' || t === 'datetime';
  return temporal(a) && temporal(b);
}

function compile(node: Node): { type: LiteralType; run: Evaluator } {
  switch (node.kind) {
    case 'literal': {
      const value = { type: node.type, value: node.value };
      return { type: node.type, run: () => value };
    }
    case 'property': {
      const name = node.column.name;
      const type = columnType(node.column);
      return { type, run: (row) => ({ type, value: row[name] ?? null }) };
    }
    case 'not': {
      const operand = compile(node.operand);
      return { type: 'boolean', run: (row) => ({ type: 'boolean', value: operand.run(row).value !== true }) };
    }
    case 'call': {
      const args = node.args.map(compile);
      for (const arg of args) {
        if (arg.type !== 'string') {
          throw new ODataQueryError(
            `No function signature for '${node.name}' matches ${edmName[arg.type]} arguments.`,
          );
        }
      }
      const text = (row: Row, i: number) => String(args[i]?.run(row).value ?? '');
      switch (node.name) {
        case 'tolower':
          return { type: 'string', run: (row) => ({ type: 'string', value: text(row, 0).toLowerCase() }) };
        case 'toupper':
          return { type: 'string', run: (row) => ({ type: 'string', value: text(row, 0).toUpperCase() }) };
        case 'trim':
          return { type: 'string', run: (row) => ({ type: 'string', value: text(row, 0).trim() }) };
        default: {
          const test =
            node.name === 'startswith'
              ? (a: string, b: string) => a.startsWith(b)
              : node.name === 'endswith'
                ? (a: string, b: string) => a.endsWith(b)
                : (a: string, b: string) => a.includes(b);
          return {
            type: 'boolean',
            run: (row) => ({
              type: 'boolean',
              value: test(text(row, 0).toLowerCase(), text(row, 1).toLowerCase()),
            }),
          };
        }
      }
    }
    case 'in': {
      const left = compile(node.left);
      const values = node.values.map(compile);
      for (const value of values) {
        if (!compatible(left.type, value.type)) {
          throw new ODataQueryError(
            `A binary operator with incompatible types was detected. Found operand types '${edmName[left.type]}' and '${edmName[value.type]}' for operator kind 'in'.`,
          );
        }
      }
      return {
        type: 'boolean',
        run: (row) => {
          const l = left.run(row);
          return { type: 'boolean', value: values.some((v) => compareEvaluated(l, v.run(row), 'eq')) };
        },
      };
    }
    case 'binary': {
      const left = compile(node.left);
      const right = compile(node.right);
      if (node.op === 'and' || node.op === 'or') {
        if (left.type !== 'boolean' || right.type !== 'boolean') {
          throw new ODataQueryError(`The '${node.op}' operator needs boolean operands.`);
        }
        const and = node.op === 'and';
        return {
          type: 'boolean',
          run: (row) => {
            const l = left.run(row).value === true;
            const value = and ? l && right.run(row).value === true : l || right.run(row).value === true;
            return { type: 'boolean', value };
          },
        };
      }
      if (!compatible(left.type, right.type)) {
        throw new ODataQueryError(
          `A binary operator with incompatible types was detected. Found operand types '${edmName[left.type]}' and '${edmName[right.type]}' for operator kind '${node.op}'.`,
        );
      }
      const op = node.op;
      return {
        type: 'boolean',
        run: (row) => ({ type: 'boolean', value: compareEvaluated(left.run(row), right.run(row), op) }),
      };
    }
  }
}

/** Compiles a `$filter` for a table into a row predicate; throws ODataQueryError when invalid. */
export function compileFilter(
  table: Table,
  text: string,
  hidden: ReadonlySet<string> = new Set(),
): (row: Row) => boolean {
  return compileFilterPlan(table, text, hidden).predicate;
}

/** A column the filter requires to be one of some string values (`A eq 'x' or A eq 'y'`, `A in (…)`). */
export interface KeyList {
  column: string;
  values: string[];
}

/**
 * The predicate, and the key list the filter implies if any: an `or` of `eq` against string
 * literals on one string column, or `in`, alone or as a term of an `and`. The service reads the
 * candidate rows of such a list from the table's index (as SQL Server seeks one) and still runs
 * the whole predicate on them.
 */
export function compileFilterPlan(
  table: Table,
  text: string,
  hidden: ReadonlySet<string> = new Set(),
): { predicate: (row: Row) => boolean; keys?: KeyList; range?: KeyRange } {
  const root = parse(table, text, hidden);
  const compiled = compile(root);
  if (compiled.type !== 'boolean')
    throw new ODataQueryError(`The $filter expression must evaluate to a boolean.`);
  const keys = keyListOf(root);
  const range = keys ? undefined : keyRangeOf(root);
  return {
    predicate: (row) => compiled.run(row).value === true,
    ...(keys ? { keys } : {}),
    ...(range && (range.from !== undefined || range.to !== undefined) ? { range } : {}),
  };
}

/** A string column the filter bounds (`A ge 'x' and A le 'y'`, ends inclusive; either may be open). */
export interface KeyRange {
  column: string;
  from?: string;
  to?: string;
}

/**
 * The bounds a filter puts on one string column: `ge`/`gt`/`le`/`lt` against string literals,
 * alone or as terms of an `and`. The service reads the candidates of the range from the table's
 * ordered index (as SQL Server seeks a range) and still runs the whole predicate on them, so the
 * bounds here are inclusive even for `gt`/`lt`.
 */
function keyRangeOf(node: Node): KeyRange | undefined {
  if (node.kind !== 'binary') return undefined;
  if (node.op === 'and') {
    const left = keyRangeOf(node.left);
    const right = keyRangeOf(node.right);
    if (!left || !right) return left ?? right;
    if (left.column !== right.column) return left;
    const from = [left.from, right.from]
      .filter((v): v is string => v !== undefined)
      .sort()
      .at(-1);
    const to = [left.to, right.to].filter((v): v is string => v !== undefined).sort()[0];
    return {
      column: left.column,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    };
  }
  const flipped: Record<string, string> = { ge: 'le', gt: 'lt', le: 'ge', lt: 'gt' };
  if (!(node.op in flipped)) return undefined;
  let column = stringColumn(node.left);
  let value = stringLiteral(node.right);
  let op = node.op;
  if (column === undefined || value === undefined) {
    column = stringColumn(node.right);
    value = stringLiteral(node.left);
    op = flipped[node.op] as string;
  }
  if (column === undefined || value === undefined) return undefined;
  const collated = value.trimEnd().toLowerCase();
  return op === 'ge' || op === 'gt' ? { column, from: collated } : { column, to: collated };
}

function stringLiteral(node: Node): string | undefined {
  return node.kind === 'literal' && node.type === 'string' ? String(node.value) : undefined;
}

function stringColumn(node: Node): string | undefined {
  return node.kind === 'property' && node.column.type === 'string' ? node.column.name : undefined;
}

function keyListOf(node: Node): KeyList | undefined {
  switch (node.kind) {
    case 'in': {
      const column = stringColumn(node.left);
      const values = node.values.map(stringLiteral);
      if (!column || values.some((v) => v === undefined)) return undefined;
      return { column, values: values as string[] };
    }
    case 'binary': {
      if (node.op === 'eq') {
        const column = stringColumn(node.left) ?? stringColumn(node.right);
        const value = stringLiteral(node.right) ?? stringLiteral(node.left);
        return column && value !== undefined ? { column, values: [value] } : undefined;
      }
      if (node.op === 'or') {
        const left = keyListOf(node.left);
        const right = keyListOf(node.right);
        if (!left || !right || left.column !== right.column) return undefined;
        return { column: left.column, values: [...left.values, ...right.values] };
      }
      if (node.op === 'and') return keyListOf(node.left) ?? keyListOf(node.right);
      return undefined;
    }
    default:
      return undefined;
  }
}
