/** The progress helper of `backfill orders`: a redrawn line on a terminal, plain lines otherwise. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatElapsed, Progress, ratePerMinute } from '../../src/cli/progress.js';

function harness(tty: boolean, options: { everyOrders?: number; everyMs?: number } = {}) {
  let now = 0;
  const lines: string[] = [];
  let raw = '';
  const progress = new Progress({
    tty,
    line: (t) => {
      lines.push(t);
      raw += `${t}\n`;
    },
    raw: (t) => {
      raw += t;
    },
    now: () => now,
    label: 'main',
    ...options,
  });
  return {
    progress,
    lines,
    raw: () => raw,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const counts = (pushed: number, extra: Partial<{ read: number; skipped: number; failed: number }> = {}) => ({
  read: extra.read ?? 1000,
  pushed,
  skipped: extra.skipped ?? 0,
  failed: extra.failed ?? 0,
});

describe('Progress', () => {
  it('without a terminal prints a plain line every N orders done, or after the interval', () => {
    const h = harness(false, { everyOrders: 100, everyMs: 10_000 });
    h.advance(1000);
    h.progress.update(counts(50));
    assert.equal(h.lines.length, 0);
    h.advance(1000);
    h.progress.update(counts(100));
    assert.deepEqual(h.lines, ['main: read 1000, pushed 100, skipped 0, failed 0, 3000/min']);
    h.advance(10_000);
    h.progress.update(counts(120, { failed: 2 }));
    assert.equal(h.lines[1], 'main: read 1000, pushed 120, skipped 0, failed 2, 610/min');
    h.progress.note('FAILED  000123  refused');
    h.progress.finish();
    assert.equal(h.lines.at(-1), 'FAILED  000123  refused');
    assert.doesNotMatch(h.raw(), /\r/);
  });

  it('on a terminal redraws one line in place, prints notes above it and ends it with a newline', () => {
    const h = harness(true);
    h.progress.update(counts(1));
    h.advance(50);
    h.progress.update(counts(2)); // within 100 ms: not redrawn
    h.advance(60);
    h.progress.update(counts(3));
    h.progress.note('invalid 000124  shipTo.street1: missing');
    h.progress.finish(counts(4));
    assert.equal(
      h.raw(),
      [
        '\r\x1b[Kmain: read 1000, pushed 1, skipped 0, failed 0, 60/min',
        '\r\x1b[Kmain: read 1000, pushed 3, skipped 0, failed 0, 180/min',
        '\r\x1b[Kinvalid 000124  shipTo.street1: missing\n',
        '\r\x1b[Kmain: read 1000, pushed 3, skipped 0, failed 0, 180/min',
        '\r\x1b[Kmain: read 1000, pushed 4, skipped 0, failed 0, 240/min\n',
      ].join(''),
    );
  });

  it('rates and elapsed times read plainly', () => {
    assert.equal(ratePerMinute({ read: 0, pushed: 300, skipped: 100, failed: 0 }, 120_000), 200);
    assert.equal(formatElapsed(4_400), '4s');
    assert.equal(formatElapsed(252_000), '4m12s');
  });
});
