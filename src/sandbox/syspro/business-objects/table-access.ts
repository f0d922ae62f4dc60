/**
 * Generic table access (reference §2.1): COMFND (Query/Query: find rows by `<Where>` expressions),
 * COMFCH (Query/Fetch: one whole row by key) and COMBRW (Query/Browse: a page of rows from a
 * start key, `<Row><Col><Value/><DataType/></Col>`, then `<NextPrevKey>`). Browse keys
 * (StartAtKey, PrevKey, NextKey) are the whole primary key with padded leading parts, so paging a
 * two-part key such as InvWarehouse returns every row once.
 * Only `EQ` is seen on the wire; NE LT GT LE GE LIKE are accepted too (UNCONFIRMED). String
 * comparison ignores case and trailing spaces, like SQL Server's default collation.
 */
import type { Column, Row, Table, Value } from '../tables.js';
import { buildXmlOut, child, children, type Element, el, group, textOf, type XNode } from '../xml.js';
import { type BusinessObject, type BusinessObjectContext, EnetError, rowElements } from './common.js';

function tableOf(ctx: BusinessObjectContext, name: string): Table {
  if (!name) throw new EnetError("XML element 'TableName' cannot be spaces");
  const table = ctx.db.find(name);
  if (!table) throw new EnetError(`Table '${name}' is not a valid table name`);
  return table;
}

function columnOf(table: Table, name: string): Column {
  const column = table.definition.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
  if (!column) throw new EnetError(`Column '${name}' is not a valid column for table '${table.name}'`);
  return column;
}

function compare(column: Column, value: Value, literal: string): number {
  if (column.type === 'int' || column.type === 'decimal') return Number(value) - Number(literal);
  const a = String(value ?? '')
    .trimEnd()
    .toLowerCase();
  const b = literal.trimEnd().toLowerCase();
  return a === b ? 0 : a < b ? -1 : 1;
}

function likeMatcher(pattern: string): RegExp {
  const source = pattern
    .toLowerCase()
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${source}$`, 's');
}

type Token = '(' | ')' | 'AND' | 'OR' | ((row: Row) => boolean);

/** Turns `<Where><Expression>…` into a predicate (brackets and And/Or honoured, AND binds tighter). */
function wherePredicate(table: Table, where: XNode | undefined): (row: Row) => boolean {
  const tokens: Token[] = [];
  for (const [index, expression] of children(where, 'Expression').entries()) {
    if (index > 0) tokens.push(textOf(expression, 'AndOr').toUpperCase() === 'OR' ? 'OR' : 'AND');
    for (const _ of textOf(expression, 'OpenBracket')) tokens.push('(');
    const column = columnOf(table, textOf(expression, 'Column'));
    const condition = textOf(expression, 'Condition').toUpperCase() || 'EQ';
    const value = child(expression, 'Value')?.text ?? '';
    const like = condition === 'LIKE' ? likeMatcher(value) : undefined;
    const test = (row: Row): boolean => {
      const v = row[column.name] ?? null;
      if (like)
        return like.test(
          String(v ?? '')
            .trimEnd()
            .toLowerCase(),
        );
      const c = compare(column, v, value);
      switch (condition) {
        case 'EQ':
          return c === 0;
        case 'NE':
          return c !== 0;
        case 'LT':
          return c < 0;
        case 'LE':
          return c <= 0;
        case 'GT':
          return c > 0;
        case 'GE':
          return c >= 0;
        default:
          throw new EnetError(`Condition '${condition}' is invalid`);
      }
    };
    if (!['EQ', 'NE', 'LT', 'LE', 'GT', 'GE', 'LIKE'].includes(condition)) {
      throw new EnetError(`Condition '${condition}' is invalid`);
    }
    tokens.push(test);
    for (const _ of textOf(expression, 'CloseBracket')) tokens.push(')');
  }
  if (tokens.length === 0) return () => true;
  let pos = 0;
  const parseOr = (): ((row: Row) => boolean) => {
    let left = parseAnd();
    while (tokens[pos] === 'OR') {
      pos++;
      const l = left;
      const r = parseAnd();
      left = (row) => l(row) || r(row);
    }
    return left;
  };
  const parseAnd = (): ((row: Row) => boolean) => {
    let left = parsePrimary();
    while (tokens[pos] === 'AND') {
      pos++;
      const l = left;
      const r = parsePrimary();
      left = (row) => l(row) && r(row);
    }
    return left;
  };
  const parsePrimary = (): ((row: Row) => boolean) => {
    const token = tokens[pos++];
    if (token === '(') {
      const inner = parseOr();
      if (tokens[pos++] !== ')') throw new EnetError('Unbalanced brackets in Where');
      return inner;
    }
    if (typeof token === 'function') return token;
    throw new EnetError('Invalid Where expression');
  };
  const predicate = parseOr();
  if (pos !== tokens.length) throw new EnetError('Unbalanced brackets in Where');
  return predicate;
}

const dataType = (column: Column) =>
  column.type === 'string' ? 'AlphaNumeric' : column.type === 'date' ? 'Date' : 'Numeric';

export const comfnd: BusinessObject = {
  name: 'COMFND',
  methods: ['Query/Query'],
  handle(ctx, { xmlIn }) {
    const table = tableOf(ctx, textOf(xmlIn, 'TableName'));
    const returnRows = Number(textOf(xmlIn, 'ReturnRows')) || 100;
    const columns = children(child(xmlIn, 'Columns'), 'Column').map(
      (c) => columnOf(table, c.text.trim()).name,
    );
    const orderBy = children(child(xmlIn, 'OrderBy'), 'Column').map((c) => columnOf(table, c.text.trim()));
    const predicate = wherePredicate(table, child(xmlIn, 'Where'));
    let rows = table.rows.filter(predicate);
    if (orderBy.length) {
      rows = [...rows].sort((a, b) => {
        for (const column of orderBy) {
          const c = compare(column, a[column.name] ?? null, String(b[column.name] ?? ''));
          if (c !== 0) return c;
        }
        return table.compareKeys(a, b);
      });
    }
    rows = rows.slice(0, returnRows);
    const body: Element[] = [group('HeaderDetails', [el('TableName', table.name)])];
    for (const row of rows) {
      body.push(group('Row', rowElements(table, row, columns.length ? columns : undefined)));
    }
    body.push(el('RowsReturned', String(rows.length).padStart(8, ' ')));
    return {
      body: buildXmlOut({ name: table.name, version: '8.0.002' }, body),
      outcome: 'ok',
      validateOnly: false,
    };
  },
};

/** Widths of leading key columns when a composite key is sent as one string (SYSPRO pads them). */
const KEY_WIDTHS: Record<string, number> = { StockCode: 30, SalesOrder: 20, DispatchNote: 20 };

export const comfch: BusinessObject = {
  name: 'COMFCH',
  methods: ['Query/Fetch'],
  handle(ctx, { xmlIn }) {
    const table = tableOf(ctx, textOf(xmlIn, 'TableName'));
    const keyText = child(xmlIn, 'Key')?.text ?? '';
    const keyColumns = table.definition.key;
    let row: Row | undefined;
    if (keyColumns.length === 1) row = table.get(keyText.trim());
    else if (keyColumns.length === 2 && KEY_WIDTHS[keyColumns[0] as string]) {
      const [first = '', second = ''] = splitBrowseKey(table, keyText);
      const secondColumn = columnOf(table, keyColumns[1] as string);
      row = table.get(first, secondColumn.type === 'string' ? second : Number(second));
    } else throw new EnetError(`Fetch on table '${table.name}' is not supported by the sandbox`);
    if (!row) throw new EnetError(`Key '${keyText.trim()}' not found in table '${table.name}'`);
    return {
      body: buildXmlOut(
        { name: table.name, version: '8.0.001' },
        rowElements(table, row, undefined, '0000-00-00'),
      ),
      outcome: 'ok',
      validateOnly: false,
    };
  },
};

/**
 * The browse key of a row: the whole primary key as one string, every part but the last padded
 * to its width (as COMFCH takes a composite key), e.g. `CAB0100` + 23 spaces + `FG` for
 * InvWarehouse. Columns without a known width are padded to 30 (UNCONFIRMED).
 */
function browseKeyOf(table: Table, row: Row): string {
  const key = table.definition.key;
  return key
    .map((name, i) => {
      const text = String(row[name] ?? '');
      return i < key.length - 1 ? text.padEnd(KEY_WIDTHS[name] ?? 30) : text;
    })
    .join('');
}

/** `StartAtKey` split into the key columns' parts; a short key (e.g. a stock code alone) leaves the rest blank. */
function splitBrowseKey(table: Table, keyText: string): string[] {
  const key = table.definition.key;
  const parts: string[] = [];
  let at = 0;
  for (const [i, name] of key.entries()) {
    const width = i < key.length - 1 ? (KEY_WIDTHS[name] ?? 30) : undefined;
    parts.push(keyText.slice(at, width === undefined ? undefined : at + width).trim());
    if (width !== undefined) at += width;
  }
  return parts;
}

/**
 * Compares a row's key with a split browse key, part by part, as the padded key strings compare:
 * a blank part sorts before any value, so a stock code alone starts at its first warehouse.
 */
function compareBrowseKey(table: Table, row: Row, parts: string[]): number {
  for (const [i, name] of table.definition.key.entries()) {
    const c = compare(columnOf(table, name), row[name] ?? null, parts[i] ?? '');
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * ReturnRows 30 gives `quirks.browseMinRows` (40) rows, as seen on the wire (reference §2.1).
 * Any other ReturnRows is honoured: the reference shows only 30 (choice in docs/decisions.md).
 */
const WIRE_RETURN_ROWS = 30;

export const combrw: BusinessObject = {
  name: 'COMBRW',
  methods: ['Query/Browse'],
  handle(ctx, { xmlIn }) {
    const table = tableOf(ctx, textOf(xmlIn, 'BrowseName'));
    const requested = Number(textOf(xmlIn, 'ReturnRows')) || WIRE_RETURN_ROWS;
    const count =
      textOf(xmlIn, 'ReturnRows') && requested === WIRE_RETURN_ROWS
        ? Math.max(requested, ctx.quirks.browseMinRows)
        : requested;
    const startKey = textOf(xmlIn, 'StartAtKey');
    const condition = textOf(xmlIn, 'StartCondition').toUpperCase() || 'GE';
    let start = 0;
    if (startKey) {
      const parts = splitBrowseKey(table, startKey);
      start = table.rows.findIndex((r) => {
        const c = compareBrowseKey(table, r, parts);
        return condition === 'GT' ? c > 0 : c >= 0;
      });
      if (start < 0) start = table.rows.length;
    }
    const page = table.rows.slice(start, start + count);
    const shown = table.definition.columns
      .filter((c) => table.definition.key.includes(c.name) || /^(Description|Name)$/.test(c.name))
      .slice(0, 4);
    const body: Element[] = page.map((row) =>
      group(
        'Row',
        shown.map((column) =>
          group('Col', [el('Value', row[column.name]), el('DataType', dataType(column))]),
        ),
      ),
    );
    const next = table.rows[start + count];
    body.push(
      group('NextPrevKey', [
        el('PrevKey', page[0] ? browseKeyOf(table, page[0]) : ''),
        el('NextKey', next ? browseKeyOf(table, next) : ''),
        el('Fwd', next ? 'True' : 'False'),
        el('Back', start > 0 ? 'True' : 'False'),
      ]),
      group('HeaderDetails', [
        el('BrowseName', table.name),
        ...shown.map((column) =>
          group('Column', [el('Name', column.name), el('DataType', dataType(column))]),
        ),
      ]),
    );
    return {
      body: buildXmlOut({ name: 'Browse', version: '8.0.001' }, body),
      outcome: 'ok',
      validateOnly: false,
    };
  },
};
