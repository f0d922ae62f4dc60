/**
 * Query-string reading for the V1 list endpoints, with ASP.NET's habits: parameter names match
 * case-insensitively (the sandbox lower-cases them on parse), a value that does not bind is a 400
 * with `ModelState` ("The value 'x' is not valid for pageSize."), date filters are Pacific
 * wall-clock (`pacific-time.ts`), and paging is `page` (from 1) / `pageSize` (≤ 500).
 */
import { type ModelState, modelStateError } from './errors.js';
import { type FilterTimeRule, filterBoundToInstant } from './pacific-time.js';

export const MAX_PAGE_SIZE = 500;

/** Parses a query string with lower-cased keys (the first value of a repeated key wins, as in ASP.NET). */
export function parseQueryLowerCase(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const k = key.toLowerCase();
    if (!(k in out)) out[k] = value;
  }
  return out;
}

export class QueryReader {
  readonly errors: ModelState = {};

  constructor(
    private readonly query: Record<string, string>,
    private readonly timeRule: FilterTimeRule,
  ) {}

  private invalid(name: string, value: string): undefined {
    this.errors[name] = [`The value '${value}' is not valid for ${name}.`];
    return undefined;
  }

  string(name: string): string | undefined {
    const v = this.query[name.toLowerCase()];
    return v === undefined || v === '' ? undefined : v;
  }

  int(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    return /^-?\d+$/.test(v.trim()) ? Number(v) : this.invalid(name, v);
  }

  bool(name: string): boolean | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    if (/^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
    return this.invalid(name, v);
  }

  /** A `...Start` / `...End` filter read as Pacific wall-clock; `yyyy-mm-dd` alone means midnight. */
  date(name: string, bound: 'start' | 'end'): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    return filterBoundToInstant(v, bound, this.timeRule) ?? this.invalid(name, v);
  }

  /** One of `allowed`, matched case-insensitively; returns the canonical spelling. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    return allowed.find((a) => a.toLowerCase() === v.trim().toLowerCase()) ?? this.invalid(name, v);
  }

  paging(): { page: number; pageSize: number } {
    const page = this.int('page') ?? 1;
    const pageSize = this.int('pageSize') ?? 100;
    if (page < 1) this.errors.page = ['The field page must be between 1 and 2147483647.'];
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      this.errors.pageSize = [`The field pageSize must be between 1 and ${MAX_PAGE_SIZE}.`];
    }
    return { page, pageSize };
  }

  /** Throws the ASP.NET 400 when any parameter did not bind. */
  check(): void {
    if (Object.keys(this.errors).length > 0) throw modelStateError(this.errors);
  }
}

export function paginate<T>(
  items: T[],
  page: number,
  pageSize: number,
): { items: T[]; total: number; page: number; pages: number } {
  const total = items.length;
  return {
    items: items.slice((page - 1) * pageSize, page * pageSize),
    total,
    page,
    pages: Math.ceil(total / pageSize),
  };
}

export function inRange(value: number, start: number | undefined, end: number | undefined): boolean {
  if (start !== undefined && !(value >= start)) return false;
  if (end !== undefined && !(value <= end)) return false;
  return true;
}

/** Sorts in place by `key` in `dir`, ties by `id` ascending (stable, predictable paging). */
export function sortBy<T>(items: T[], key: (t: T) => number, id: (t: T) => number, dir: 'ASC' | 'DESC'): T[] {
  const sign = dir === 'DESC' ? -1 : 1;
  return items.sort((a, b) => sign * (key(a) - key(b)) || id(a) - id(b));
}
