/**
 * The OData v4 read-only service over the company tables (reference §4): Basic auth as an
 * OData-enabled operator, entity sets named as the tables, `$filter`, `$select`, `$orderby`,
 * `$top`, `$skip`, `$count`, `$metadata`, a service document, a 5,000-row cap per request, and
 * server-driven paging with `@odata.nextLink` as a switch (UNCONFIRMED whether SYSPRO pages so).
 * Without an `$orderby` rows come in primary-key order, and `$orderby` always ends with the key,
 * so paging is stable. Errors use the OData JSON error shape.
 */
import type { CompanyDatabase, Row, Table } from '../tables.js';
import { compileFilterPlan, ODataQueryError } from './filter.js';

export interface ODataOptions {
  /** Path of the service root, e.g. `/SYSPRO8Odata/SYSPROOData/SANDBOX`. */
  basePath: string;
  /** Emit `@odata.nextLink` for the rest of a capped result (server-driven paging). */
  nextLink: boolean;
  /** Rows per request at most (5,000 per S7). */
  maxRows: number;
  /** EDM type for SQL date columns (UNCONFIRMED): DateTimeOffset (`…T00:00:00Z`) or Date. */
  dateType: 'DateTimeOffset' | 'Date';
  /** Columns not exposed (TimeStamp by default: UNCONFIRMED whether OData shows it). */
  hiddenColumns: ReadonlySet<string>;
}

export interface ODataResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Rows in `value` of an entity-set answer (for the sandbox's request log). */
  rows?: number;
}

const JSON_TYPE = 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8';

export function odataError(status: number, message: string, code = ''): ODataResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'odata-version': '4.0' },
    body: JSON.stringify({ error: { code, message } }),
  };
}

function edmType(type: string, options: ODataOptions): string {
  switch (type) {
    case 'string':
      return 'Edm.String';
    case 'int':
      return 'Edm.Int32';
    case 'decimal':
      return 'Edm.Decimal';
    default:
      return `Edm.${options.dateType}`;
  }
}

function metadata(db: CompanyDatabase, options: ODataOptions): string {
  const types: string[] = [];
  const sets: string[] = [];
  for (const table of db.tables.values()) {
    const props = table.definition.columns
      .filter((c) => !options.hiddenColumns.has(c.name))
      .map((c) => {
        const nullable = c.type === 'date' ? '' : ' Nullable="false"';
        const scale = c.type === 'decimal' ? ' Precision="18" Scale="6"' : '';
        return `<Property Name="${c.name}" Type="${edmType(c.type, options)}"${nullable}${scale}/>`;
      })
      .join('');
    const keys = table.definition.key.map((k) => `<PropertyRef Name="${k}"/>`).join('');
    types.push(`<EntityType Name="${table.name}"><Key>${keys}</Key>${props}</EntityType>`);
    sets.push(`<EntitySet Name="${table.name}" EntityType="SYSPRO.${table.name}"/>`);
  }
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>' +
    `<Schema Namespace="SYSPRO" xmlns="http://docs.oasis-open.org/odata/ns/edm">${types.join('')}` +
    `<EntityContainer Name="Container">${sets.join('')}</EntityContainer></Schema>` +
    '</edmx:DataServices></edmx:Edmx>'
  );
}

function nonNegativeInt(name: string, text: string | null): number | undefined {
  if (text === null) return undefined;
  if (!/^\d+$/.test(text))
    throw new ODataQueryError(`Invalid value '${text}' for ${name} query option found.`);
  return Number(text);
}

const SUPPORTED = new Set([
  '$filter',
  '$select',
  '$orderby',
  '$top',
  '$skip',
  '$count',
  '$skiptoken',
  '$format',
]);

function toJson(table: Table, row: Row, columns: string[], options: ODataOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of columns) {
    const value = row[name] ?? null;
    const column = table.definition.columns.find((c) => c.name === name);
    if (column?.type === 'date' && typeof value === 'string') {
      out[name] = options.dateType === 'Date' ? value : `${value}T00:00:00Z`;
    } else out[name] = value;
  }
  return out;
}

/** Answers one OData request whose path is below the service root (`rest` = '' | '$metadata' | 'SorMaster'). */
export function handleODataRequest(
  db: CompanyDatabase,
  options: ODataOptions,
  origin: string,
  rest: string,
  query: URLSearchParams,
): ODataResponse {
  const root = `${origin}${options.basePath}`;
  if (rest === '' || rest === '/') {
    const value = [...db.tables.values()].map((t) => ({ name: t.name, kind: 'EntitySet', url: t.name }));
    return {
      status: 200,
      headers: { 'content-type': JSON_TYPE, 'odata-version': '4.0' },
      body: JSON.stringify({ '@odata.context': `${root}/$metadata`, value }),
    };
  }
  if (rest === '$metadata') {
    return {
      status: 200,
      headers: { 'content-type': 'application/xml; charset=utf-8', 'odata-version': '4.0' },
      body: metadata(db, options),
    };
  }
  const table = db.tables.get(rest.toLowerCase());
  if (!table || table.name !== rest) {
    // OData resource paths are case-sensitive.
    return odataError(404, `No HTTP resource was found that matches the request URI '${root}/${rest}'.`);
  }
  try {
    for (const key of query.keys()) {
      if (key.startsWith('$') && !SUPPORTED.has(key)) {
        throw new ODataQueryError(`The query parameter '${key}' is not supported.`);
      }
    }
    const visible = table.definition.columns.map((c) => c.name).filter((n) => !options.hiddenColumns.has(n));
    const selectText = query.get('$select');
    const columns = selectText
      ? selectText.split(',').map((s) => {
          const name = s.trim();
          if (!visible.includes(name)) {
            throw new ODataQueryError(
              `Could not find a property named '${name}' on type 'SYSPRO.${table.name}'.`,
            );
          }
          return name;
        })
      : visible;
    const filterText = query.get('$filter');
    let rows = table.rows;
    if (filterText) {
      // A key list (`SalesOrder eq 'A' or …`, `in (…)`) reads its candidates from the index.
      const plan = compileFilterPlan(table, filterText, options.hiddenColumns);
      // A range (`SalesOrder ge 'A' and SalesOrder le 'B'`) from the same index, in collated order.
      const candidates = plan.keys
        ? table.lookup(plan.keys.column, plan.keys.values)
        : plan.range
          ? table.lookupRange(plan.range.column, plan.range.from, plan.range.to)
          : undefined;
      rows = (candidates ?? table.rows).filter(plan.predicate);
    }
    const orderText = query.get('$orderby');
    if (orderText) {
      const order = orderText.split(',').map((part) => {
        const [name = '', direction = 'asc'] = part.trim().split(/\s+/);
        const column = table.definition.columns.find((c) => c.name === name);
        if (!column || options.hiddenColumns.has(name)) {
          throw new ODataQueryError(
            `Could not find a property named '${name}' on type 'SYSPRO.${table.name}'.`,
          );
        }
        if (direction !== 'asc' && direction !== 'desc')
          throw new ODataQueryError(`Invalid $orderby direction '${direction}'.`);
        return { column, descending: direction === 'desc' };
      });
      rows = [...rows].sort((a, b) => {
        for (const { column, descending } of order) {
          const x = a[column.name] ?? null;
          const y = b[column.name] ?? null;
          let c = 0;
          if (x === y) c = 0;
          else if (x === null) c = -1;
          else if (y === null) c = 1;
          else if (typeof x === 'number' && typeof y === 'number') c = x - y;
          else {
            const xs = String(x).toLowerCase();
            const ys = String(y).toLowerCase();
            c = xs === ys ? 0 : xs < ys ? -1 : 1;
          }
          if (c !== 0) return descending ? -c : c;
        }
        return table.compareKeys(a, b);
      });
    }
    const skip = nonNegativeInt('$skip', query.get('$skip')) ?? 0;
    const top = nonNegativeInt('$top', query.get('$top'));
    const token = nonNegativeInt('$skiptoken', query.get('$skiptoken')) ?? 0;
    const start = skip + token;
    const wanted = top === undefined ? Number.POSITIVE_INFINITY : Math.max(0, top - token);
    const take = Math.min(wanted, options.maxRows);
    const page = rows.slice(start, start + take);
    const body: Record<string, unknown> = {
      '@odata.context': `${root}/$metadata#${table.name}${selectText ? `(${columns.join(',')})` : ''}`,
    };
    if (query.get('$count') === 'true') body['@odata.count'] = rows.length;
    body.value = page.map((row) => toJson(table, row, columns, options));
    const more = start + page.length < rows.length && page.length < wanted;
    if (options.nextLink && more) {
      const next = new URLSearchParams(query);
      next.set('$skiptoken', String(token + page.length));
      body['@odata.nextLink'] = `${root}/${table.name}?${next.toString().replace(/\+/g, '%20')}`;
    }
    return {
      status: 200,
      headers: { 'content-type': JSON_TYPE, 'odata-version': '4.0' },
      body: JSON.stringify(body),
      rows: page.length,
    };
  } catch (error) {
    if (error instanceof ODataQueryError) return odataError(400, error.message);
    throw error;
  }
}
