/**
 * An OData 4.0 `$filter` builder. Column names are checked (letters, digits, underscore), string
 * literals are quoted with `'` doubled, numbers must be finite, and dates are written as unquoted
 * ISO literals. The result is filter text; the reader URL-encodes it.
 *
 * Dates: OData 4.0 writes `Edm.Date` as `2024-01-15` and `Edm.DateTimeOffset` as
 * `2024-01-15T00:00:00Z`. How SYSPRO maps its SQL `datetime` columns is UNCONFIRMED, so the caller
 * chooses with `dateLiteral` / `dateTimeLiteral` (the connection can configure which one its site uses).
 */

/** A literal already written in OData syntax. */
export interface ODataLiteral {
  readonly odata: string;
}

export type ODataValue = string | number | boolean | null | ODataLiteral;

/** A filter expression (build with the functions below, never from user text). */
export interface ODataFilter {
  readonly odata: string;
}

const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*$/;

function column(name: string): string {
  if (!COLUMN.test(name)) throw new RangeError(`not an OData column name: ${JSON.stringify(name)}`);
  return name;
}

/** The OData text of a literal value. */
export function literal(value: ODataValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value.odata;
}

/** `Edm.Date` literal from `YYYY-MM-DD` (or the date part of an ISO string / Date in UTC). */
export function dateLiteral(value: string | Date): ODataLiteral {
  const text = typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) throw new RangeError(`not a date: ${JSON.stringify(value)}`);
  return { odata: text };
}

/** `Edm.DateTimeOffset` literal in UTC, e.g. `2024-01-15T08:30:00Z`. */
export function dateTimeLiteral(value: string | Date | number): ODataLiteral {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a date-time: ${JSON.stringify(value)}`);
  return { odata: date.toISOString().replace(/\.000Z$/, 'Z') };
}

function compare(op: string, name: string, value: ODataValue): ODataFilter {
  return { odata: `${column(name)} ${op} ${literal(value)}` };
}

export const eq = (name: string, value: ODataValue) => compare('eq', name, value);
export const ne = (name: string, value: ODataValue) => compare('ne', name, value);
export const gt = (name: string, value: ODataValue) => compare('gt', name, value);
export const ge = (name: string, value: ODataValue) => compare('ge', name, value);
export const lt = (name: string, value: ODataValue) => compare('lt', name, value);
export const le = (name: string, value: ODataValue) => compare('le', name, value);

function join(op: 'and' | 'or', filters: readonly (ODataFilter | undefined)[]): ODataFilter | undefined {
  const parts = filters.filter((f): f is ODataFilter => f !== undefined);
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  return { odata: parts.map((f) => `(${f.odata})`).join(` ${op} `) };
}

/** All of the filters (undefined ones are skipped); `undefined` when none are left. */
export function and(...filters: (ODataFilter | undefined)[]): ODataFilter | undefined {
  return join('and', filters);
}

/** Any of the filters (undefined ones are skipped); `undefined` when none are left. */
export function or(...filters: (ODataFilter | undefined)[]): ODataFilter | undefined {
  return join('or', filters);
}

export function not(filter: ODataFilter): ODataFilter {
  return { odata: `not (${filter.odata})` };
}

/**
 * `name` is one of `values`, written as `eq … or eq …` (the OData 4.01 `in` operator may not be
 * supported by SYSPRO's service, which is UNCONFIRMED). An empty list matches nothing.
 */
export function oneOf(name: string, values: readonly ODataValue[]): ODataFilter {
  if (values.length === 0) return { odata: 'false' };
  if (values.length === 1) return eq(name, values[0] ?? null);
  return { odata: values.map((v) => `${column(name)} eq ${literal(v)}`).join(' or ') };
}

/**
 * `name in ('x','y')`, the OData 4.01 operator: about three times as many keys per URL as `oneOf`.
 * Whether SYSPRO's service takes it is UNCONFIRMED (`syspro.odata.keyList: in` opts in).
 */
export function inList(name: string, values: readonly ODataValue[]): ODataFilter {
  if (values.length === 0) return { odata: 'false' };
  if (values.length === 1) return eq(name, values[0] ?? null);
  return { odata: `${column(name)} in (${values.map((v) => literal(v)).join(',')})` };
}

/** A `$select` list from column names (checked). */
export function selectList(columns: readonly string[]): string {
  return columns.map(column).join(',');
}

/** An `$orderby` list: `['SalesOrder', 'SalesOrderLine desc']`. */
export function orderByList(columns: readonly string[]): string {
  return columns
    .map((entry) => {
      const [name = '', direction, ...rest] = entry.trim().split(/\s+/);
      if (rest.length > 0 || (direction && !/^(asc|desc)$/i.test(direction))) {
        throw new RangeError(`not an OData order: ${JSON.stringify(entry)}`);
      }
      return direction ? `${column(name)} ${direction.toLowerCase()}` : column(name);
    })
    .join(',');
}
