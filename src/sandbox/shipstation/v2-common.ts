/**
 * What the V2 route modules share (reference §5): `se-` ids, ISO 8601 times (UTC `Z`), date-only
 * values, the query reader of V2 lists (documented filters only; a malformed value of a documented
 * filter is a 400, an unknown parameter is silently ignored as real V2 does, reference §10), and
 * one page of a list with `total, page, pages, links`.
 */
import type { FastifyRequest } from 'fastify';
import { v2Error } from './errors.js';
import { formatDateOnly, pacificToInstant } from './pacific-time.js';

/** Largest `page_size` the sandbox accepts (V2's own limit is not in the reference: UNCONFIRMED). */
export const V2_MAX_PAGE_SIZE = 500;

/** `se-123` for 123. */
export function seId(n: number): string {
  return `se-${n}`;
}

/** 123 for `se-123` (or a bare `123`); undefined for anything else. */
export function parseSeId(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(?:se-)?(\d{1,15})$/i.exec(text.trim());
  return m?.[1] ? Number(m[1]) : undefined;
}

/** An instant as V2 writes it: `2026-01-15T20:00:00.000Z`. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** An instant or null (-1 or not a number = none). */
export function isoOrNull(ms: unknown): string | null {
  return typeof ms === 'number' && ms >= 0 ? iso(ms) : null;
}

/**
 * A date-only value (`ship_date`, `hold_until_date`, `ship_by_date`) as V2 answers it: the date at
 * midnight UTC, `2026-10-15T00:00:00Z` (reference §10). The account keeps these as the Pacific
 * midnight V1 uses, so both APIs show the same calendar date.
 */
export function v2Date(ms: unknown): string | null {
  return typeof ms === 'number' && ms >= 0 ? `${formatDateOnly(ms)}T00:00:00Z` : null;
}

/**
 * Reads a V2 date-only input (`YYYY-MM-DD`, any time part ignored) as the Pacific midnight of that
 * calendar date; undefined when it is not a date.
 */
export function readV2Date(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})(?:$|[T ])/.exec(value.trim());
  return m?.[1] ? pacificToInstant(m[1]) : undefined;
}

/** `{currency: 'usd', amount}` (V2 monetary_value). */
export function money(amount: number): { currency: string; amount: number } {
  return { currency: 'usd', amount: Math.round(amount * 100) / 100 };
}

/** The amount of a monetary_value input (or a bare number); undefined when absent. */
export function readMoney(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object' && typeof (value as { amount?: unknown }).amount === 'number') {
    return (value as { amount: number }).amount;
  }
  return undefined;
}

function invalid(name: string, message: string): never {
  throw v2Error(400, 'validation', 'invalid_field_value', message, name);
}

/** The documented filters of one V2 list; unknown parameters are never read, so they do nothing. */
export class V2Query {
  private readonly q: Record<string, string>;

  constructor(request: FastifyRequest) {
    this.q = request.query as Record<string, string>;
  }

  string(name: string): string | undefined {
    const v = this.q[name];
    return v === undefined || v === '' ? undefined : v;
  }

  /** One of `values` (exact, lower case). */
  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if ((values as readonly string[]).includes(v)) return v as T;
    return invalid(name, `${name} must be one of ${values.join(', ')}; got '${v}'.`);
  }

  /** An `se-` id filter; a value that is not one matches nothing (-1). */
  id(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    return parseSeId(v) ?? -1;
  }

  /** An ISO 8601 date-time filter (a date alone is its midnight UTC). */
  instant(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const text = v.trim();
    const ok = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i.test(
      text,
    );
    const withZone = /^\d{4}-\d{2}-\d{2}$/.test(text)
      ? `${text}T00:00:00Z`
      : /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text)
        ? text
        : `${text}Z`;
    const ms = ok ? Date.parse(withZone.replace(' ', 'T')) : Number.NaN;
    if (Number.isNaN(ms)) return invalid(name, `${name} must be an ISO 8601 date-time; got '${v}'.`);
    return ms;
  }

  sortDir(): 'asc' | 'desc' {
    return this.oneOf('sort_dir', ['asc', 'desc'] as const) ?? 'desc';
  }
}

export interface V2Page<T> {
  items: T[];
  total: number;
  page: number;
  pages: number;
  links: Record<string, { href: string }>;
}

/**
 * One page of a V2 list. `links.*.href` are absolute URLs on `baseUrl` (the sandbox's own URL), as
 * ShipEngine answers with its own host: a client that prepends its base URL to them breaks here too.
 */
export function v2Paged<T>(
  request: FastifyRequest,
  items: T[],
  baseUrl: string,
  defaultSize = 25,
): V2Page<T> {
  const q = request.query as Record<string, string>;
  const page = q.page === undefined ? 1 : Number(q.page);
  const size = q.page_size ?? q.limit;
  const pageSize = size === undefined ? defaultSize : Number(size);
  if (!Number.isInteger(page) || page < 1)
    throw v2Error(400, 'validation', 'invalid_field_value', 'page must be a whole number >= 1.', 'page');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > V2_MAX_PAGE_SIZE) {
    throw v2Error(
      400,
      'validation',
      'invalid_field_value',
      `page_size must be between 1 and ${V2_MAX_PAGE_SIZE}.`,
      'page_size',
    );
  }
  const total = items.length;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const base = request.url.split('?')[0] ?? '';
  const href = (p: number) => {
    const params = new URLSearchParams(q);
    params.set('page', String(p));
    params.set('page_size', String(pageSize));
    params.delete('limit');
    return { href: `${baseUrl}${base}?${params.toString()}` };
  };
  const links: Record<string, { href: string }> = { first: href(1), last: href(pages) };
  if (page > 1) links.prev = href(page - 1);
  if (page < pages) links.next = href(page + 1);
  return { items: items.slice((page - 1) * pageSize, page * pageSize), total, page, pages, links };
}
