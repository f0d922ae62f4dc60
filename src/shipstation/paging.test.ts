import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Page, pageThrough } from './paging.js';

async function pagesRead(serve: (page: number) => Page<number>, pageSize: number, firstPage?: number) {
  const asked: number[] = [];
  const items: number[] = [];
  for await (const page of pageThrough(
    async (n) => {
      asked.push(n);
      return serve(n);
    },
    { pageSize, firstPage },
  )) {
    items.push(...page.items);
  }
  return { asked, items };
}

describe('pageThrough', () => {
  const data = Array.from({ length: 12 }, (_, i) => i);
  const server =
    (reportPages: boolean) =>
    (page: number): Page<number> => ({
      items: data.slice((page - 1) * 5, page * 5),
      page,
      pages: reportPages ? 3 : 0,
      total: data.length,
    });

  it('stops at `pages`', async () => {
    const { asked, items } = await pagesRead(server(true), 5);
    assert.deepEqual(asked, [1, 2, 3]);
    assert.deepEqual(items, data);
  });

  it('keeps going while pages are full when `pages` is 0 (docs quirk)', async () => {
    const { asked, items } = await pagesRead(server(false), 5);
    assert.deepEqual(asked, [1, 2, 3]);
    assert.deepEqual(items, data);
  });

  it('starts at the page asked for, and stops on an empty page', async () => {
    const { asked } = await pagesRead(server(true), 5, 2);
    assert.deepEqual(asked, [2, 3]);
    const empty = await pagesRead(() => ({ items: [], page: 1, pages: 5, total: 0 }), 5);
    assert.deepEqual(empty.asked, [1]);
  });
});
