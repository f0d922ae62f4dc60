import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FixedWindowRateLimit } from './rate-limit.js';

describe('FixedWindowRateLimit', () => {
  it('counts the requests it admits and those it refuses for an empty window', () => {
    let now = 0;
    const limit = new FixedWindowRateLimit({ limit: 2, windowMs: 1000 }, () => now);
    assert.deepEqual(
      [1, 2, 3].map(() => limit.take('k').allowed),
      [true, true, false],
    );
    assert.equal(limit.take('other').allowed, true, 'each key has its own window');
    now = 1000;
    assert.equal(limit.take('k').allowed, true, 'a new window');
    assert.deepEqual({ admitted: limit.admitted, refused: limit.refused }, { admitted: 4, refused: 1 });
    assert.equal(limit.mostInOneWindow, 2, 'the fullest window held 2 (the refused one is not counted)');
  });
});
