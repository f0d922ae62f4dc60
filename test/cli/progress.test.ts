/**
 * The progress helper of `backfill orders`, `sync orders` and `replay`: a redrawn line (with a bar
 * when the total is known) on a terminal, plain lines otherwise; and `replay` run as a child
 * process (not a terminal: plain lines, then the summary).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatBar, formatElapsed, Progress, progressOn, ratePerMinute } from '../../src/cli/progress.js';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { enqueueJobs } from '../../src/store/jobs/enqueue.js';
import { failJob } from '../../src/store/jobs/fail.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../helpers/cli.js';
import { FakeClock } from '../helpers/clock.js';

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

describe('progressOn', () => {
  /** A stream that says it is a terminal and keeps what is written. */
  const fakeTerminal = () => {
    let written = '';
    return {
      stream: {
        isTTY: true,
        write: (t: string) => {
          written += t;
          return true;
        },
      },
      written: () => written,
    };
  };

  it('draws a bar with done/total, the counts and the rate on a terminal, redrawn in place', () => {
    const clock = new FakeClock(0, { autoAdvance: false });
    const terminal = fakeTerminal();
    const lines: string[] = [];
    const progress = progressOn(terminal.stream, (t) => lines.push(t), {
      label: 'replay',
      fields: ['replayed', 'skipped'],
      doneFields: ['replayed', 'skipped'],
      total: 1000,
      now: () => clock.now(),
    });
    progress.update({ replayed: 0, skipped: 0 });
    clock.advance(30_000);
    progress.update({ replayed: 480, skipped: 20 });
    clock.advance(30_000);
    progress.finish({ replayed: 990, skipped: 10 });
    assert.deepEqual(lines, [], 'no plain lines on a terminal');
    assert.equal(
      terminal.written(),
      [
        '\r\x1b[Kreplay: [------------------------] 0/1000 (0%): replayed 0, skipped 0, 0/min',
        '\r\x1b[Kreplay: [############------------] 500/1000 (50%): replayed 480, skipped 20, 1000/min',
        '\r\x1b[Kreplay: [########################] 1000/1000 (100%): replayed 990, skipped 10, 1000/min\n',
      ].join(''),
    );
    assert.equal(progress.shown, true);
  });

  it('without a terminal writes nothing raw: plain lines with done/total and no bar', () => {
    const clock = new FakeClock(0, { autoAdvance: false });
    let raw = '';
    const lines: string[] = [];
    const progress = progressOn(
      {
        isTTY: false,
        write: (t: string) => {
          raw += t;
        },
      },
      (t) => lines.push(t),
      {
        label: 'replay',
        fields: ['replayed'],
        doneFields: ['replayed'],
        everyOrders: 10,
        now: () => clock.now(),
      },
    );
    progress.setTotal(25);
    for (let done = 1; done <= 25; done++) {
      clock.advance(100);
      progress.update({ replayed: done });
    }
    progress.finish();
    assert.equal(raw, '');
    assert.deepEqual(lines, [
      'replay: 10/25 (40%): replayed 10, 600/min',
      'replay: 20/25 (80%): replayed 20, 600/min',
    ]);
    assert.equal(progress.shown, true);
  });

  it('a short run without a terminal shows nothing (the summary is enough)', () => {
    const progress = progressOn({ write: () => true }, () => assert.fail('no line'), { everyOrders: 500 });
    progress.update({ read: 3, pushed: 3, skipped: 0, failed: 0 });
    progress.finish();
    assert.equal(progress.shown, false);
  });

  it('the bar fills by the share done', () => {
    assert.equal(formatBar(0, 4, 8), '[--------]');
    assert.equal(formatBar(1, 4, 8), '[##------]');
    assert.equal(formatBar(5, 4, 8), '[########]');
    assert.equal(formatBar(0, 0, 4), '[####]');
  });
});

describe('replay of many jobs, as a child process (not a terminal)', () => {
  it('prints a plain progress line every --every jobs, then the summary; the jobs are queued again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlc-replay-progress-'));
    const url = `sqlite:${join(dir, 'store.db')}`;
    writeFileSync(join(dir, 'ml-connector.yaml'), `store:\n  url: "${url}"\n`);
    const store = openStore(url);
    try {
      await migrateToLatest(store);
      const now = Date.now();
      const jobs = await enqueueJobs(
        store,
        Array.from({ length: 12 }, (_, i) => ({
          kind: 'orders.push',
          connection: 'main',
          idempotencyKey: `main:push:${i}`,
        })),
        now,
      );
      await claimJobs(store, { kind: 'orders.push', limit: 12, owner: 'w', leaseMs: 60_000, now });
      for (const { id } of jobs) await failJob(store, 'w', id, 'HTTP 400: refused', null, now);
    } finally {
      await store.close();
    }

    const result = await runCli(['replay', '--all', '--every', '5'], { cwd: dir });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.doesNotMatch(result.stdout, /\r|\x1b/, 'no terminal redraws');
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^replay: 5\/12 \(41%\): replayed 5, skipped 0, \d+\/min$/);
    assert.match(lines[1] ?? '', /^replay: 10\/12 \(83%\): replayed 10, skipped 0, \d+\/min$/);
    assert.match(lines[2] ?? '', /^Replayed 12 job\(s\): /);
    assert.match(lines[3] ?? '', /^replay done in \d+s: replayed 12, skipped 0 of 12; \d+\/min$/);
    assert.equal(lines.length, 4, result.stdout);

    // The store says so too: every one is queued again.
    const check = openStore(url);
    try {
      const rows = await check.db.selectFrom('jobs').select(['state', 'replays']).execute();
      assert.equal(rows.length, 12);
      assert.ok(rows.every((r) => r.state === 'queued' && Number(r.replays) === 1));
    } finally {
      await check.close();
    }

    assert.equal((await runCli(['replay', '--all', '--every', '0'], { cwd: dir })).code, 2, 'usage error');
  });
});
