/**
 * Moves the webhook inbox into `jobs` (`drainInbox`, webhook-inbox.ts) in the `run` process, soon
 * after rows arrive and in batches:
 * - `poke()` (the receiver calls it after each commit) schedules a drain `delayMs` later unless one
 *   is scheduled or running, so the events of that window go in one transaction (a drain of a few
 *   hundred rows writes each index page of `jobs` once, not once per request);
 * - a drain that moved a full batch goes on at once (after yielding to the event loop) until the
 *   inbox is empty; a poke during a drain schedules another after it;
 * - `start()` drains what a previous process left (it acknowledged those events, then died), and
 *   then sweeps every `sweepMs` (default 5 s): on PostgreSQL several processes share the inbox, and
 *   rows a process acknowledged just before it was killed must move without waiting for the next
 *   webhook to reach a survivor (an empty inbox costs one indexed read a sweep);
 * - a failed drain leaves its rows in the inbox (its transaction rolled back) and is tried again
 *   after `retryMs`; the error is logged. Rows that cannot become jobs do not fail it: `drainInbox`
 *   keeps each as a dead job (logged here, one line per row); only an error that is not a row's
 *   fault (`isRowRefusal`) fails a drain;
 * - `waiting()` is the inbox's backlog as this process knows it, at no cost per call (the receiver
 *   reads it on every webhook to refuse past `http.webhookInboxLimit`): the rows counted after the
 *   last failed drain (0 after a drain that emptied the inbox, less what later drains moved), plus
 *   the events this process's receiver stored since (`poke()`). Rows other processes appended on
 *   PostgreSQL are counted at the next failed drain; `status()` adds the drains' state;
 * - `settle()` waits until the inbox is empty as far as this process knows (tests, the bench);
 * - `close()` stops the timer and drains what is left (so a clean stop leaves the inbox empty).
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Store } from './open.js';
import { type DrainResult, drainInbox, inboxSize } from './webhook-inbox.js';

export interface InboxDrainerOptions {
  store: Store;
  clock: Clock;
  logger?: Logger;
  /** How long after the first new row a drain starts (default 100 ms). */
  delayMs?: number;
  /** Most rows a drain transaction moves (default 1,000). */
  batch?: number;
  /** After a failed drain (default 1,000 ms). */
  retryMs?: number;
  /** How often a started drainer looks for rows no poke announced (default 5,000 ms; 0 = never). */
  sweepMs?: number;
  /** Called with the kinds a drain moved (e.g. `worker.notify`). */
  onMoved?: (result: DrainResult) => void;
}

export interface InboxStatus {
  /** Rows waiting in the inbox, as this process knows it (see `waiting()`). */
  waiting: number;
  /** Drains that failed in a row (0: the last one succeeded). */
  failingDrains: number;
  /** The last failed drain's error and when (epoch ms), until a drain succeeds. */
  lastError?: string;
  lastErrorAt?: number;
  /** Rows this process kept as dead jobs since it started. */
  deadLettered: number;
}

export interface InboxDrainer {
  /** One more event stored by this process (each call counts one): schedules a drain. */
  poke(): void;
  start(): void;
  settle(): Promise<void>;
  close(): Promise<void>;
  /** The backlog as this process knows it; no store read. */
  waiting(): number;
  status(): InboxStatus;
  readonly stats: Readonly<{ drains: number; moved: number; failures: number; deadLettered: number }>;
}

export function createInboxDrainer(options: InboxDrainerOptions): InboxDrainer {
  const { store, clock, logger } = options;
  const delayMs = options.delayMs ?? 100;
  const batch = Math.max(1, options.batch ?? 1000);
  const retryMs = options.retryMs ?? 1000;
  const sweepMs = options.sweepMs ?? 5000;
  let sweep: NodeJS.Timeout | undefined;
  const stats = { drains: 0, moved: 0, failures: 0, deadLettered: 0 };
  // The backlog: `counted` rows at the last count, plus the events appended since (`appended - base`).
  let counted = 0;
  let appended = 0;
  let base = 0;
  let failingDrains = 0;
  let lastError: { message: string; at: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  function schedule(ms: number): void {
    if (closed || timer || running) return;
    timer = setTimeout(run, ms);
    // The HTTP server keeps `run` alive; a pending drain alone must not (close() drains anyway).
    timer.unref();
  }

  function run(): void {
    timer = undefined;
    if (running) return;
    again = false;
    running = (async () => {
      let failed = false;
      const appendedAtStart = appended;
      try {
        for (;;) {
          const result = await drainOnce();
          stats.drains++;
          counted = Math.max(0, counted - result.moved);
          if (result.moved < batch) break;
          // A full batch: more wait; let requests in before the next transaction.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        // Empty as far as this drain saw: what is left is what was stored while it ran.
        counted = 0;
        base = appendedAtStart;
        failingDrains = 0;
        lastError = undefined;
      } catch (err) {
        failed = true;
        stats.failures++;
        failingDrains++;
        lastError = { message: (err as Error)?.message ?? String(err), at: clock.now() };
        logger?.error(
          { err, failingDrains },
          'could not move webhook events from the inbox into jobs; trying again',
        );
        await recount();
      } finally {
        running = undefined;
      }
      if (failed) schedule(retryMs);
      else if (again) schedule(delayMs);
    })();
  }

  async function drainOnce(): Promise<DrainResult> {
    const result = await drainInbox(store, { limit: batch, now: clock.now() });
    stats.moved += result.moved;
    for (const dead of result.deadLetters) {
      stats.deadLettered++;
      logger?.error(
        {
          inboxId: dead.inboxId,
          jobId: dead.jobId,
          connection: dead.connection,
          kind: dead.kind,
          error: dead.error,
        },
        'a webhook event could not become a job: kept as a dead job',
      );
    }
    if (result.moved > 0) options.onMoved?.(result);
    return result;
  }

  /** Counts the inbox after a failed drain (the store may be unable to answer: then the estimate stays). */
  async function recount(): Promise<void> {
    const before = appended;
    try {
      counted = await inboxSize(store);
      base = before;
    } catch {
      // The estimate keeps growing with this process's appends.
    }
  }

  return {
    poke() {
      appended++;
      if (running) again = true;
      else schedule(delayMs);
    },
    waiting: () => counted + (appended - base),
    status: () => ({
      waiting: counted + (appended - base),
      failingDrains,
      ...(lastError ? { lastError: lastError.message, lastErrorAt: lastError.at } : {}),
      deadLettered: stats.deadLettered,
    }),
    start() {
      schedule(0);
      if (sweepMs > 0 && !sweep) {
        sweep = setInterval(() => {
          if (!running) schedule(0);
        }, sweepMs);
        sweep.unref();
      }
    },
    async settle() {
      for (;;) {
        if (running) {
          await running;
          continue;
        }
        if (timer) {
          clearTimeout(timer);
          timer = undefined;
        }
        const before = stats.failures;
        run();
        await running;
        if (stats.failures > before) throw new Error('the webhook inbox could not be drained');
        if (!timer && !running) return;
      }
    },
    async close() {
      closed = true;
      if (sweep) clearInterval(sweep);
      sweep = undefined;
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (running) await running;
      // What is left, until empty; a failure leaves the rows for the next start.
      try {
        for (;;) {
          const result = await drainOnce();
          if (result.moved < batch) break;
        }
      } catch (err) {
        logger?.error({ err }, 'could not move the webhook inbox into jobs at stop; the next start will');
      }
    },
    stats,
  };
}
