/**
 * The open order lines a write-back batch reads (readOpenLines) against the SYSPRO sandbox's OData
 * over HTTP: by number range where the batch's sales orders are dense, by key list where they are
 * sparse, and a range that reads more rows than it should stops and falls back to keys. Lines are
 * compared with the sandbox's own SorDetail, requests counted in its OData request log.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, it } from 'node:test';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { readOpenLines } from '../../src/sync/writeback.js';
import { createODataReader, type ODataReader } from '../../src/syspro/odata-reader.js';
import { FakeClock } from '../helpers/clock.js';

const clock = new FakeClock(Date.parse('2026-01-15T20:00:00Z'));
let syspro: SysproSandbox;
let odata: ODataReader;
let orders: string[];

before(async () => {
  syspro = await startSysproSandbox({ port: 0, seed: 5, orders: 1200, clock, logger: false });
  odata = createODataReader({
    serviceUrl: syspro.odataUrl,
    username: syspro.operator,
    password: syspro.operatorPassword,
    clock,
  });
  orders = syspro.db.sorMaster.rows.map((r) => r.SalesOrder as string).sort();
});
after(async () => {
  await syspro?.close();
});
beforeEach(() => {
  syspro.odataRequests.clear();
});

/** What SorDetail holds per wanted order, as line numbers (the sandbox's own rows). */
function expected(wanted: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const so of wanted) {
    const lines = syspro.db.linesOf(so).map((l) => Number(l.SalesOrderLine));
    if (lines.length > 0)
      out.set(
        so,
        lines.sort((a, b) => a - b),
      );
  }
  return out;
}

function got(read: Map<string, Array<{ salesOrderLine: number }>>): Map<string, number[]> {
  return new Map(
    [...read].map(([so, lines]) => [so, lines.map((l) => l.salesOrderLine).sort((a, b) => a - b)]),
  );
}

const sorDetail = () => syspro.odataRequests.list({ table: 'SorDetail' });
const isRange = (filter = '') => /SalesOrder ge '\d+'\) and \(SalesOrder le '\d+'/.test(filter);
const isKeyList = (filter = '') => / eq '/.test(filter);

it('sales order numbers in the sandbox are zero-padded digits of one width (the range assumption)', () => {
  assert.ok(orders.length > 1000);
  const width = orders[0]?.length;
  assert.ok(orders.every((o) => /^\d+$/.test(o) && o.length === width));
});

it('a dense batch is read by range: exactly the wanted orders, not those just outside or skipped inside', async () => {
  const wanted = orders.slice(200, 320).filter((_, i) => i !== 40 && i !== 41);
  const outside = [orders[199], orders[320], orders[240], orders[241]] as string[];
  const read = await readOpenLines(odata, wanted, { rangeReads: true, rangePageSize: 5000 });
  assert.deepEqual(got(read), expected(wanted));
  for (const so of outside) assert.equal(read.has(so), false, `${so} was not asked for`);
  const requests = sorDetail();
  assert.equal(requests.length, 1, JSON.stringify(requests.map((r) => r.filter)));
  assert.ok(isRange(requests[0]?.filter), requests[0]?.filter);
  // The same batch by key list takes more requests.
  syspro.odataRequests.clear();
  const byKeys = await readOpenLines(odata, wanted, { rangeReads: false, rangePageSize: 5000 });
  assert.deepEqual(got(byKeys), expected(wanted));
  assert.ok(sorDetail().length >= 3, `${sorDetail().length} key-list requests`);
  assert.ok(sorDetail().every((r) => isKeyList(r.filter)));
});

it('a sparse batch falls back to key lists', async () => {
  const wanted = orders.filter((_, i) => i % 40 === 7);
  const read = await readOpenLines(odata, wanted, { rangeReads: true, rangePageSize: 5000 });
  assert.deepEqual(got(read), expected(wanted));
  assert.ok(sorDetail().length > 0);
  assert.ok(
    sorDetail().every((r) => isKeyList(r.filter) && !isRange(r.filter)),
    JSON.stringify(sorDetail().map((r) => r.filter)),
  );
});

it('a range read carries further orders by key in the same request (range or key list)', async () => {
  // Small requests (600 rows) so that 300 wanted orders need several: each a range of about 70
  // orders and the next ~45 by key.
  const wanted = orders.slice(0, 600).filter((_, i) => i % 2 === 0);
  const read = await readOpenLines(odata, wanted, {
    rangeReads: true,
    rangePageSize: 600,
    linesPerOrder: { value: 3 },
  });
  assert.deepEqual(got(read), expected(wanted));
  const mixed = sorDetail().filter((r) => isRange(r.filter) && isKeyList(r.filter));
  assert.ok(mixed.length > 0, JSON.stringify(sorDetail().map((r) => r.filter?.slice(0, 80))));
  const byKeysOnly = odata.keyListRequests('SorDetail', 'SalesOrder', wanted);
  assert.ok(
    sorDetail().length < byKeysOnly,
    `${sorDetail().length} requests, ${byKeysOnly} by key list alone`,
  );
  assert.ok(sorDetail().every((r) => r.rows <= 600));
});

it('extra keys that do not fit the URL are read later, none lost', async () => {
  // The real reader, with a URL check that takes at most 10 extra keys beside a range.
  const strict = {
    ...odata,
    fitsUrl: (table: string, options?: Parameters<ODataReader['fitsUrl']>[1]) =>
      (options?.filter?.odata.match(/ eq '/g)?.length ?? 0) <= 10 && odata.fitsUrl(table, options),
  };
  const wanted = orders.slice(0, 600).filter((_, i) => i % 2 === 0);
  const read = await readOpenLines(strict, wanted, {
    rangeReads: true,
    rangePageSize: 600,
    linesPerOrder: { value: 3 },
  });
  assert.deepEqual(got(read), expected(wanted));
  const mixed = sorDetail().filter((r) => isRange(r.filter) && isKeyList(r.filter));
  assert.ok(mixed.length > 0);
  assert.ok(mixed.every((r) => (r.filter?.match(/ eq '/g)?.length ?? 0) <= 10));
});

it('a range denser in lines than expected stops at its row cap and reads the rest by key', async () => {
  const wanted = orders.slice(500, 620);
  // Expect half a line per order: the range is allowed ~2 × 120 × 0.5 = 120 rows (at least one
  // 100-row page), far fewer than its ~3 lines an order.
  const linesPerOrder = { value: 0.5 };
  const read = await readOpenLines(odata, wanted, { rangeReads: true, rangePageSize: 100, linesPerOrder });
  assert.deepEqual(got(read), expected(wanted));
  const ranges = sorDetail().filter((r) => isRange(r.filter));
  assert.equal(ranges.length, 2, 'two 100-row pages, then it stops');
  assert.ok(ranges.every((r) => r.rows <= 100));
  assert.ok(
    sorDetail().some((r) => isKeyList(r.filter)),
    'the rest by key',
  );
  assert.equal(linesPerOrder.value, 0.5, 'a stopped read does not measure lines per order');
});

it('alphanumeric sales orders go by key beside a range of numeric ones', async () => {
  const wanted = [...orders.slice(800, 900), 'ABC123'];
  const read = await readOpenLines(odata, wanted, { rangeReads: true, rangePageSize: 5000 });
  assert.deepEqual(got(read), expected(wanted));
  const filters = sorDetail().map((r) => r.filter ?? '');
  assert.equal(filters.filter((f) => isRange(f)).length, 1);
  assert.ok(filters.some((f) => f.includes("'ABC123'") && !isRange(f)));
});
