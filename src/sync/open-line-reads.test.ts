import assert from 'node:assert/strict';
import { it } from 'node:test';
import { planOpenLineReads } from './open-line-reads.js';

const pad = (n: number) => String(n).padStart(15, '0');
const options = { linesPerOrder: 3, rowsPerRequest: 5000, keysPerRequest: 50 };

it('dense numbers become one range; a range spans at most the rows of one request', () => {
  const orders = Array.from({ length: 200 }, (_, i) => pad(1000 + i * 2));
  const plan = planOpenLineReads(orders, options);
  assert.deepEqual(plan.keys, []);
  assert.equal(plan.ranges.length, 1);
  assert.deepEqual(plan.ranges[0], { from: pad(1000), to: pad(1398), orders });
  // 3 lines an order, 5,000 rows a request: at most 1,666 numbers a range.
  const wide = Array.from({ length: 400 }, (_, i) => pad(i * 10));
  const split = planOpenLineReads(wide, options);
  assert.ok(split.ranges.length >= 2);
  for (const r of split.ranges) assert.ok(Number(r.to) - Number(r.from) + 1 <= 1666);
  assert.equal(split.ranges.flatMap((r) => r.orders).length + split.keys.length, 400);
});

it('sparse numbers, groups no larger than one key list, and non-numeric or other-width orders go by key', () => {
  const sparse = Array.from({ length: 100 }, (_, i) => pad(i * 5000));
  assert.deepEqual(planOpenLineReads(sparse, options), { ranges: [], keys: sparse });
  const few = Array.from({ length: 40 }, (_, i) => pad(i));
  assert.deepEqual(planOpenLineReads(few, options).ranges, []);
  const mixed = planOpenLineReads(['16R069', '12', ...Array.from({ length: 60 }, (_, i) => pad(i))], options);
  assert.equal(mixed.ranges.length, 1);
  assert.deepEqual(mixed.keys.sort(), ['12', '16R069']);
});

it('a range carries the next orders by key in the URL it leaves, within one request of rows', () => {
  // One order in twenty: a range of 5,000 rows holds ~83 orders, a key list 50; with 45 extra
  // keys a request carries ~120.
  const sparse = Array.from({ length: 1000 }, (_, i) => pad(100_000 + i * 20));
  const withExtras = { ...options, keysPerRange: 45 };
  const plan = planOpenLineReads(sparse, withExtras);
  const requests = plan.ranges.length + Math.ceil(plan.keys.length / options.keysPerRequest);
  assert.ok(requests <= 10, `${requests} requests`);
  assert.ok(requests < planOpenLineReads(sparse, options).ranges.length);
  const seen = [...plan.keys, ...plan.ranges.flatMap((r) => [...r.orders, ...(r.extra ?? [])])];
  assert.deepEqual([...seen].sort(), sparse, 'every order once');
  for (const r of plan.ranges) {
    assert.ok((r.extra?.length ?? 0) <= 45);
    assert.ok(r.orders.length + (r.extra?.length ?? 0) > options.keysPerRequest);
    // The range's rows and its extra keys' rows fit one request.
    const span = Number(r.to) - Number(r.from) + 1;
    assert.ok((span + (r.extra?.length ?? 0)) * options.linesPerOrder <= options.rowsPerRequest);
    for (const o of r.extra ?? []) assert.ok(o > r.to, 'extra keys come after the range');
  }
  // A group that would carry no more than one key list is read by key.
  const few = Array.from({ length: 30 }, (_, i) => pad(i * 20));
  assert.deepEqual(planOpenLineReads(few, withExtras), { ranges: [], keys: few });
});
