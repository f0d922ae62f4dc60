import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelay } from './retry.js';

const policy = { cadence: [60_000, 300_000], perKind: { 'orders.push': [1000, 2000, 3000] }, jitter: 0.2 };

describe('retryDelay', () => {
  it('walks the cadence of the kind, then says dead (null)', () => {
    const mid = () => 0.5;
    assert.deepEqual(
      [1, 2, 3].map((n) => retryDelay(policy, 'shipments.writeback', n, mid)),
      [60_000, 300_000, null],
    );
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => retryDelay(policy, 'orders.push', n, mid)),
      [1000, 2000, 3000, null],
    );
  });

  it('moves each delay by at most ±jitter', () => {
    assert.equal(
      retryDelay(policy, 'x', 1, () => 0),
      48_000,
    );
    assert.equal(
      retryDelay(policy, 'x', 1, () => 0.999999),
      72_000,
    );
  });

  it('never retries sooner than a retry-after', () => {
    assert.equal(
      retryDelay(policy, 'orders.push', 1, () => 0.5, 30_000),
      30_000,
    );
  });

  it('a poll is never dead for a retryable failure: the last delay of its cadence repeats', () => {
    const mid = () => 0.5;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 50].map((n) => retryDelay(policy, 'orders.poll', n, mid)),
      [60_000, 300_000, 300_000, 300_000, 300_000, 300_000, 300_000, 300_000],
    );
    const perKind = { ...policy, perKind: { 'shipments.poll': [1000, 2000] } };
    assert.deepEqual(
      [1, 2, 3].map((n) => retryDelay(perKind, 'shipments.poll', n, mid)),
      [1000, 2000, 2000],
    );
  });
});
