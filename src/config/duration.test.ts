import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads units and plain milliseconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration(250), 250);
    assert.equal(parseDuration('250'), 250);
  });
  it('rejects what is not a duration', () => {
    assert.equal(parseDuration('soon'), undefined);
    assert.equal(parseDuration('5 minutes'), undefined);
    assert.equal(parseDuration(-1), undefined);
  });
  it('formats round values with the largest unit', () => {
    assert.equal(formatDuration(300_000), '5m');
    assert.equal(formatDuration(90_000), '90s');
    assert.equal(formatDuration(1500), '1500ms');
  });
});
