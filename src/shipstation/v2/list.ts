/**
 * V2 lists: `page` (from 1) and `page_size` (default 25) in, `{ <items>, total, page, pages, links }`
 * out (reference §5). `listV2` pages through one list with only the filters its endpoint documents:
 * V2 ignores unknown query parameters silently, so a misspelled filter would widen the result to
 * everything. The query types (types.ts) already name only documented filters; `listV2` also
 * refuses, before any request, a key its endpoint does not document (a cast or a JavaScript caller).
 */
import { requireBody, type ShipStationTransport } from '../http.js';
import { type Page, pageThrough } from '../paging.js';
import type { V2ListBody } from './types.js';

/** V2's default page size is 25; we ask for more. */
export const V2_PAGE_SIZE = 100;

export function toV2Page<T>(
  items: T[] | undefined,
  body: V2ListBody,
  page: number,
  pageSize: number,
): Page<T> {
  const list = Array.isArray(items) ? items : [];
  // Prefer `pages`; without it, `links.next` says whether there is more.
  const pages =
    typeof body.pages === 'number'
      ? body.pages
      : body.links?.next
        ? page + 1
        : list.length >= pageSize && body.links === undefined
          ? 0
          : page;
  return {
    items: list,
    page: typeof body.page === 'number' ? body.page : page,
    pages,
    total: typeof body.total === 'number' ? body.total : list.length,
  };
}

/** Throws (a programming error, nothing sent) when `query` has a key not in `documented`. */
export function onlyDocumented(
  endpoint: string,
  query: object,
  documented: readonly string[],
): Record<string, string | number | boolean | undefined> {
  for (const key of Object.keys(query)) {
    if (!documented.includes(key)) {
      throw new TypeError(
        `${endpoint} has no filter "${key}" (V2 would ignore it silently); documented: ${documented.join(', ')}`,
      );
    }
  }
  return query as Record<string, string | number | boolean | undefined>;
}

export function listV2<T>(
  http: ShipStationTransport,
  spec: {
    path: string;
    /** The array's name in the body (`shipments`, `labels`, `fulfillments`). */
    items: string;
    documented: readonly string[];
    query: object;
  },
  signal?: AbortSignal,
): AsyncGenerator<Page<T>, void, undefined> {
  const endpoint = `GET ${spec.path}`;
  const filters = { ...onlyDocumented(endpoint, spec.query, spec.documented) };
  const pageSize = Number(filters.page_size ?? V2_PAGE_SIZE);
  const firstPage = filters.page === undefined ? undefined : Number(filters.page);
  delete filters.page;
  delete filters.page_size;
  return pageThrough(
    async (page) => {
      const response = await http.request<V2ListBody & Record<string, unknown>>({
        method: 'GET',
        path: spec.path,
        query: { ...filters, page, page_size: pageSize },
        idempotent: true,
        signal,
      });
      const body = requireBody(http, response.body, endpoint);
      return toV2Page(body[spec.items] as T[] | undefined, body, page, pageSize);
    },
    { firstPage, pageSize },
  );
}
