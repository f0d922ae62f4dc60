/**
 * Offset paging as ShipStation does it (`page` from 1, `pageSize`, answer `{ total, page, pages }`).
 * An async iterator over pages: the caller decides what to do with each page before the next is read.
 *
 * When to stop: after a page with no items, or when `page >= pages`. The docs' examples show
 * `pages: 0` with items present, so when `pages` is 0 we keep going while pages come back full.
 * Paging runs over a result set that can change meanwhile (records shift between pages): callers
 * de-duplicate by id and use overlapping windows (reference shipstation-api.md §7).
 */

export interface Page<T> {
  items: T[];
  page: number;
  pages: number;
  total: number;
}

/** Stops a runaway loop if a server keeps answering "more pages". */
export const MAX_PAGES = 10_000;

export async function* pageThrough<T>(
  fetchPage: (page: number) => Promise<Page<T>>,
  options: { firstPage?: number; pageSize: number },
): AsyncGenerator<Page<T>, void, undefined> {
  let page = options.firstPage ?? 1;
  for (let read = 0; read < MAX_PAGES; read++) {
    const result = await fetchPage(page);
    if (result.items.length === 0) return;
    yield result;
    const more = result.pages > 0 ? page < result.pages : result.items.length >= options.pageSize;
    if (!more) return;
    page += 1;
  }
}

/** A list body (`{ <items>, total, page, pages }`) as a `Page`, tolerating missing numbers. */
export function toPage<T>(items: T[] | null | undefined, body: Partial<Page<T>>, page: number): Page<T> {
  return {
    items: Array.isArray(items) ? items : [],
    page: typeof body.page === 'number' ? body.page : page,
    pages: typeof body.pages === 'number' ? body.pages : 0,
    total: typeof body.total === 'number' ? body.total : 0,
  };
}
