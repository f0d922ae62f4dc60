/**
 * The SYSPRO OData reader (reference §4): read-only, HTTP Basic auth, at most 5,000 rows a request.
 *
 * Paging handles both ways a server may page, since which one SYSPRO uses is UNCONFIRMED:
 * each request asks for a window (`$top`/`$skip`); within a window, `@odata.nextLink` is followed
 * when the server gives one (server-driven paging); a window that came back full is followed by the
 * next window, a short one ends the read.
 *
 * A nextLink is followed only on the service's own origin (scheme, host and port of `serviceUrl`)
 * and without user information: the request carries Basic credentials, so a nextLink to another
 * origin (or from https down to http) would hand them over. One is refused as `bad-response`.
 *
 * Long key lists (`SalesOrder eq '1' or SalesOrder eq '2' …`) are split so that no URL is longer than
 * `maxUrlLength` (default 2,000 characters, safe for any proxy and for IIS, which hosts the service).
 *
 * A read is safe to repeat, so a page that fails in a way that can pass (a 5xx, a timeout, the host
 * unreachable) is asked for again a few times (`retry`) before the read fails: a poll of 10,000 open
 * orders makes about 250 requests, and without this one stray 500 among them failed the whole poll,
 * which then started over from the first page (found by the chaos suite).
 */
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { SysproLogger } from './enet-client.js';
import { OPERATOR_ADVICE, SysproError } from './errors.js';
import { hostOf, httpStatusError, sendRequest } from './http.js';
import {
  and,
  inList,
  type ODataFilter,
  type ODataValue,
  oneOf,
  orderByList,
  selectList,
} from './odata-filter.js';

/** SYSPRO's documented per-request row cap. */
export const ODATA_ROW_CAP = 5000;

export interface ODataReaderOptions {
  /**
   * The URL entity sets hang under, e.g. `https://erp/SYSPRO8Odata/SYSPROOData/{company}` (the path
   * pattern is UNCONFIRMED and site-specific, so the whole root is configured).
   */
  serviceUrl: string;
  /** Basic-auth user (the OData-enabled operator) and password. */
  username?: string;
  password?: string;
  timeoutMs?: number;
  /** Rows asked for per request (default 1,000; at most `rowCap`). */
  pageSize?: number;
  /** The server's per-request cap (default 5,000). */
  rowCap?: number;
  /** Longest URL the reader builds (default 2,000). */
  maxUrlLength?: number;
  /** How `pagesByKeys` writes a key list: `or` (`K eq 'a' or K eq 'b'`, default) or OData 4.01 `in`. */
  keyList?: 'or' | 'in';
  clock?: Clock;
  logger?: SysproLogger;
  /** Attempts per page for failures that can pass, and the backoff between them (default 3, 500 ms doubling, at most 5 s). */
  retry?: { attempts: number; baseMs: number; maxMs: number };
}

export interface ReadOptions {
  /** Columns to fetch (always set this: whole SYSPRO rows are wide). */
  select?: readonly string[];
  filter?: ODataFilter;
  /** Sort order; paging with `$skip` needs a stable order, so give the key columns. */
  orderBy?: readonly string[];
  pageSize?: number;
  signal?: AbortSignal;
}

export type ODataRow = Record<string, unknown>;

export interface ODataReader {
  /** Pages of rows of an entity set (table), until the server has no more. */
  pages<T = ODataRow>(table: string, options?: ReadOptions): AsyncGenerator<T[]>;
  /** Rows one by one. */
  rows<T = ODataRow>(table: string, options?: ReadOptions): AsyncGenerator<T>;
  /**
   * Pages of rows whose `keyColumn` is one of `keys` (and that match `options.filter`), with the key
   * list split over as many requests as keep every URL within `maxUrlLength`.
   */
  pagesByKeys<T = ODataRow>(
    table: string,
    keyColumn: string,
    keys: readonly ODataValue[],
    options?: ReadOptions,
  ): AsyncGenerator<T[]>;
  /** How many requests (windows of one page each) `pagesByKeys` splits `keys` into; no request is made. */
  keyListRequests(
    table: string,
    keyColumn: string,
    keys: readonly ODataValue[],
    options?: ReadOptions,
  ): number;
  /** `keyColumn` is one of `keys`, written as this reader writes key lists (`keyList`: or / in). */
  keyListFilter(keyColumn: string, keys: readonly ODataValue[]): ODataFilter;
  /** Whether every request of a read fits `maxUrlLength` (measured with the longest `$skip`, as key lists are). */
  fitsUrl(table: string, options?: ReadOptions): boolean;
  /** The URL of one request (for tests and logs; it carries no credentials). */
  url(table: string, options?: ReadOptions & { top?: number; skip?: number }): string;
  /** How many HTTP requests were made (for tests and metrics). */
  readonly stats: { requests: number };
}

export function createODataReader(options: ODataReaderOptions): ODataReader {
  const serviceUrl = options.serviceUrl.replace(/\/+$/, '');
  const host = hostOf(serviceUrl);
  const serviceOrigin = originOf(serviceUrl);
  const rowCap = options.rowCap ?? ODATA_ROW_CAP;
  const defaultPageSize = Math.min(options.pageSize ?? 1000, rowCap);
  const maxUrlLength = options.maxUrlLength ?? 2000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const clock = options.clock ?? systemClock;
  const stats = { requests: 0 };
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.username !== undefined) {
    const token = Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64');
    headers.Authorization = `Basic ${token}`;
  }

  function url(table: string, read: ReadOptions & { top?: number; skip?: number } = {}): string {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new RangeError(`not an OData entity set: ${table}`);
    const query: string[] = [];
    if (read.select && read.select.length > 0)
      query.push(`$select=${encodeURIComponent(selectList(read.select))}`);
    if (read.filter) query.push(`$filter=${encodeURIComponent(read.filter.odata)}`);
    if (read.orderBy && read.orderBy.length > 0) {
      query.push(`$orderby=${encodeURIComponent(orderByList(read.orderBy))}`);
    }
    if (read.top !== undefined) query.push(`$top=${read.top}`);
    if (read.skip) query.push(`$skip=${read.skip}`);
    return `${serviceUrl}/${table}${query.length > 0 ? `?${query.join('&')}` : ''}`;
  }

  const retry = options.retry ?? { attempts: 3, baseMs: 500, maxMs: 5000 };

  async function getPage(pageUrl: string, table: string, signal?: AbortSignal) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await getPageOnce(pageUrl, table, signal);
      } catch (error) {
        const again = error instanceof SysproError && error.retryable && attempt < retry.attempts;
        if (!again || signal?.aborted) throw error;
        const delay = Math.min(retry.maxMs, retry.baseMs * 2 ** (attempt - 1));
        options.logger?.warn(
          { system: 'syspro-odata', table, attempt, retryInMs: delay, err: (error as Error).message },
          'OData read failed, retrying',
        );
        await clock.sleep(delay, signal);
      }
    }
  }

  async function getPageOnce(pageUrl: string, table: string, signal?: AbortSignal) {
    if (pageUrl.length > maxUrlLength) {
      throw new SysproError(
        'request-too-large',
        `OData ${table}: the URL is ${pageUrl.length} characters, over the ${maxUrlLength} allowed — ${OPERATOR_ADVICE['request-too-large']}`,
        { endpoint: table },
      );
    }
    const started = clock.now();
    stats.requests++;
    const response = await sendRequest({
      url: pageUrl,
      endpoint: `OData ${table}`,
      timeoutMs,
      headers,
      signal,
    });
    options.logger?.debug(
      { system: 'syspro-odata', table, status: response.status, ms: clock.now() - started },
      'OData read',
    );
    if (response.status < 200 || response.status > 299) {
      throw httpStatusError(response, { endpoint: `OData ${table}`, host, secrets: [options.password] });
    }
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch (error) {
      throw new SysproError(
        'bad-response',
        `OData ${table} on ${host} did not answer JSON — ${OPERATOR_ADVICE['bad-response']}`,
        { endpoint: `OData ${table}`, status: response.status, cause: error },
      );
    }
    const value = (body as { value?: unknown } | null)?.value;
    if (!Array.isArray(value)) {
      throw new SysproError(
        'bad-response',
        `OData ${table} on ${host} answered JSON without a "value" array — ${OPERATOR_ADVICE['bad-response']}`,
        { endpoint: `OData ${table}`, status: response.status },
      );
    }
    const record = body as Record<string, unknown>;
    const next = record['@odata.nextLink'] ?? record['odata.nextLink'];
    return { rows: value as ODataRow[], nextLink: typeof next === 'string' ? next : undefined };
  }

  async function* pages<T>(table: string, read: ReadOptions = {}): AsyncGenerator<T[]> {
    const top = Math.max(1, Math.min(read.pageSize ?? defaultPageSize, rowCap));
    let skip = 0;
    for (;;) {
      // One window: `$top`/`$skip`, following any server-driven nextLinks inside it.
      let pageUrl = url(table, { ...read, top, skip });
      let inWindow = 0;
      const seen = new Set<string>();
      for (;;) {
        seen.add(pageUrl);
        const page = await getPage(pageUrl, table, read.signal);
        inWindow += page.rows.length;
        if (page.rows.length > 0) yield page.rows as T[];
        if (!page.nextLink) break;
        const nextUrl = new URL(page.nextLink, pageUrl);
        if (nextUrl.origin !== serviceOrigin || nextUrl.username !== '' || nextUrl.password !== '') {
          throw new SysproError(
            'bad-response',
            `OData ${table} on ${host} sent a nextLink to ${nextUrl.origin}, not its own origin ${serviceOrigin}; it is not followed, since it would carry the OData credentials there — ${OPERATOR_ADVICE['bad-response']}`,
            { endpoint: `OData ${table}` },
          );
        }
        const next = nextUrl.toString();
        if (seen.has(next)) {
          throw new SysproError('bad-response', `OData ${table} on ${host} sent a nextLink that loops`, {
            endpoint: `OData ${table}`,
          });
        }
        pageUrl = next;
      }
      // A full window may have more after it; a short one (or a server that ignored $top) is the end.
      if (inWindow !== top) return;
      skip += inWindow;
    }
  }

  async function* rows<T>(table: string, read: ReadOptions = {}): AsyncGenerator<T> {
    for await (const page of pages<T>(table, read)) yield* page;
  }

  async function* pagesByKeys<T>(
    table: string,
    keyColumn: string,
    keys: readonly ODataValue[],
    read: ReadOptions = {},
  ): AsyncGenerator<T[]> {
    const unique = [...new Map(keys.map((k) => [JSON.stringify(k), k])).values()];
    const anyOf = options.keyList === 'in' ? inList : oneOf;
    for (const chunk of splitToFit(unique, keyListFits(table, keyColumn, read))) {
      yield* pages<T>(table, { ...read, filter: and(read.filter, anyOf(keyColumn, chunk)) });
    }
  }

  /** Whether a key list fits one URL, measured with the longest `$skip` a read could reach, so later windows fit too. */
  function keyListFits(table: string, keyColumn: string, read: ReadOptions) {
    const anyOf = options.keyList === 'in' ? inList : oneOf;
    const top = Math.max(1, Math.min(read.pageSize ?? defaultPageSize, rowCap));
    return (chunk: readonly ODataValue[]) =>
      url(table, { ...read, filter: and(read.filter, anyOf(keyColumn, chunk)), top, skip: 999_999_999 })
        .length <= maxUrlLength;
  }

  function keyListRequests(
    table: string,
    keyColumn: string,
    keys: readonly ODataValue[],
    read: ReadOptions = {},
  ): number {
    const unique = [...new Map(keys.map((k) => [JSON.stringify(k), k])).values()];
    if (unique.length === 0) return 0;
    return splitToFit(unique, keyListFits(table, keyColumn, read)).length;
  }

  const keyListFilter = (keyColumn: string, keys: readonly ODataValue[]) =>
    (options.keyList === 'in' ? inList : oneOf)(keyColumn, keys);

  function fitsUrl(table: string, read: ReadOptions = {}): boolean {
    const top = Math.max(1, Math.min(read.pageSize ?? defaultPageSize, rowCap));
    return url(table, { ...read, top, skip: 999_999_999 }).length <= maxUrlLength;
  }

  return { pages, rows, pagesByKeys, keyListRequests, keyListFilter, fitsUrl, url, stats };
}

/** `scheme://host:port` of a URL (`''` for an invalid one, which then matches no nextLink). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

/**
 * Splits `items` into consecutive chunks, each as long as `fits` allows (greedy). Throws when a
 * single item does not fit on its own.
 */
export function splitToFit<T>(items: readonly T[], fits: (chunk: readonly T[]) => boolean): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  for (const item of items) {
    const candidate = [...current, item];
    if (fits(candidate)) {
      current = candidate;
      continue;
    }
    if (current.length === 0) {
      throw new SysproError(
        'request-too-large',
        `one key alone makes the OData URL too long: ${JSON.stringify(item).slice(0, 80)}`,
      );
    }
    chunks.push(current);
    current = [item];
    if (!fits(current)) {
      throw new SysproError(
        'request-too-large',
        `one key alone makes the OData URL too long: ${JSON.stringify(item).slice(0, 80)}`,
      );
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
