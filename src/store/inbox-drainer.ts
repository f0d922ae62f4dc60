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
 *   after `retryMs`; the error is logged;
 * - `settle()` waits until the inbox is empty as far as this process knows (tests, the bench);
 * - `close()` stops the timer and drains what is left (so a clean stop leaves the inbox empty).
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Store } from './open.js';
import { type DrainResult, drainInbox } from './webhook-inbox.js';

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

export interface InboxDrainer {
  poke(): void;
  start(): void;
  settle(): Promise<void>;
  close(): Promise<void>;
  readonly stats: Readonly<{ drains: number; moved: number; failures: number }>;
}

export function createInboxDrainer(options: InboxDrainerOptions): InboxDrainer {
  const { store, clock, logger } = options;
  const delayMs = options.delayMs ?? 100;
  const batch = Math.max(1, options.batch ?? 1000);
  const retryMs = options.retryMs ?? 1000;
  const sweepMs = options.sweepMs ?? 5000;
  let sweep: NodeJS.Timeout | undefined;
  const stats = { drains: 0, moved: 0, failures: 0 };
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
      try {
        for (;;) {
          const result = await drainInbox(store, { limit: batch, now: clock.now() });
          stats.drains++;
          stats.moved += result.moved;
          if (result.moved > 0) options.onMoved?.(result);
          if (result.moved < batch) break;
          // A full batch: more wait; let requests in before the next transaction.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } catch (err) {
        failed = true;
        stats.failures++;
        logger?.error({ err }, 'could not move webhook events from the inbox into jobs; trying again');
      } finally {
        running = undefined;
      }
      if (failed) schedule(retryMs);
      else if (again) schedule(delayMs);
    })();
  }

  return {
    poke() {
      if (running) again = true;
      else schedule(delayMs);
    },
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
          const result = await drainInbox(store, { limit: batch, now: clock.now() });
          stats.moved += result.moved;
          if (result.moved > 0) options.onMoved?.(result);
          if (result.moved < batch) break;
        }
      } catch (err) {
        logger?.error({ err }, 'could not move the webhook inbox into jobs at stop; the next start will');
      }
    },
    stats,
  };
}
