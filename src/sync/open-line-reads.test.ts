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
