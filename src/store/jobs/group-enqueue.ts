/**
 * Group commit for jobs that arrive one at a time from many concurrent callers (the webhook
 * receiver): each `enqueue` waits until the transaction holding its job has committed, and the
 * jobs that arrive while one transaction is being written go together in the next one (one
 * `enqueueJobs` batch insert, same idempotency rules as `enqueueJob`).
 *
 * - Batching: the first job schedules a flush on `setImmediate`, so every request read in the same
 *   turn of the event loop joins it; while a transaction is in progress (PostgreSQL: a round trip;
 *   SQLite: synchronous), new jobs queue for the next one. At most `maxBatch` jobs a transaction.
 * - Durability: a promise resolves only after COMMIT returned for its job's transaction. If the
 *   transaction fails, every job in it rejects with that error (none of them is stored: the
 *   transaction rolled back), so a caller never acknowledges an event that is not stored.
 * - Back-pressure: at most `maxQueue` jobs wait (not counting the transaction being written);
 *   beyond that `enqueue` rejects at once with `QueueFullError`, so a flood costs a bounded amount
 *   of memory and the sender is told to come back (the receiver answers 503 + Retry-After).
 * - `close()` stops new jobs and waits for the queued ones to be written.
 *
 * `createGroupCommit` is the same for any batch write (the webhook receiver's inbox appends,
 * `store/webhook-inbox.ts`); `createGroupEnqueuer` writes jobs.
 */
import type { Clock } from '../../clock.js';
import type { Store } from '../open.js';
import { type EnqueueResult, enqueueJob, enqueueJobs, type NewJob } from './enqueue.js';
import { enqueueJobsSqlite } from './sqlite-enqueue.js';
import { withWriteTransaction } from './transaction.js';

export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(readonly waiting: number) {
    super(`${waiting} jobs are already waiting to be stored`);
  }
}

export class EnqueuerClosedError extends Error {
  override readonly name = 'EnqueuerClosedError';
  constructor() {
    super('the store is closing; no new jobs are taken');
  }
}

export interface GroupEnqueuerOptions {
  clock: Clock;
  /** Most jobs in one transaction (default 200). */
  maxBatch?: number;
  /** Most jobs waiting for a transaction; more are refused with QueueFullError (default 2,000). */
  maxQueue?: number;
  /**
   * Test seam: awaited before each transaction takes its jobs from the queue, with a function that
   * counts the jobs waiting (a test holds the flush until a given number queued).
   */
  beforeBatch?: (waiting: () => number) => Promise<void>;
}

export interface GroupEnqueuerStats {
  /** Transactions committed. */
  batches: number;
  /** Transactions that failed (all their jobs rejected). */
  failedBatches: number;
  /** Jobs stored. */
  jobs: number;
  /** Largest batch so far. */
  largestBatch: number;
  /** Jobs refused because the queue was full. */
  refused: number;
}

export interface GroupCommit<T, R> {
  /** Resolves once the item's transaction committed; rejects with its error, QueueFullError or EnqueuerClosedError. */
  enqueue(item: T): Promise<R>;
  /** Items waiting for a transaction now. */
  readonly waiting: number;
  readonly stats: Readonly<GroupEnqueuerStats>;
  close(): Promise<void>;
}

export type GroupEnqueuer = GroupCommit<NewJob, EnqueueResult>;

interface Pending<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/** Jobs in `jobs`, one transaction a batch (the rules of `enqueueJobs`). */
export function createGroupEnqueuer(store: Store, options: GroupEnqueuerOptions): GroupEnqueuer {
  const { clock } = options;
  return createGroupCommit<NewJob, EnqueueResult>((batch) => {
    // SQLite: one synchronous transaction on better-sqlite3 (sqlite-enqueue.ts). PostgreSQL:
    // one job alone is `enqueueJob`'s single INSERT … WHERE NOT EXISTS, its own transaction
    // (the common case at a steady rate: no BEGIN/COMMIT round trips around it).
    if (store.sqlite) return enqueueJobsSqlite(store, batch, clock.now());
    if (batch.length === 1) return enqueueJob(store, batch[0] as NewJob, clock.now()).then((r) => [r]);
    return withWriteTransaction(store, (db) => enqueueJobs({ ...store, db }, batch, clock.now()));
  }, options);
}

/**
 * The batching, durability and back-pressure above for any write: `write` stores a batch in one
 * transaction and returns one result per item, in order, or throws (then none is stored).
 */
export function createGroupCommit<T, R>(
  write: (batch: T[]) => Promise<R[]>,
  options: Omit<GroupEnqueuerOptions, 'clock'>,
): GroupCommit<T, R> {
  const maxBatch = Math.max(1, options.maxBatch ?? 200);
  const maxQueue = Math.max(1, options.maxQueue ?? 2000);
  const queue: Pending<T, R>[] = [];
  const stats: GroupEnqueuerStats = { batches: 0, failedBatches: 0, jobs: 0, largestBatch: 0, refused: 0 };
  let draining: Promise<void> | undefined;
  let scheduled = false;
  let closed = false;

  const waiting = () => queue.length;

  function schedule(): void {
    if (scheduled || draining) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      draining = drain().finally(() => {
        draining = undefined;
        if (queue.length > 0) schedule();
      });
    });
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      if (options.beforeBatch) await options.beforeBatch(waiting);
      const batch = queue.splice(0, maxBatch);
      if (batch.length === 0) continue;
      try {
        const results = await write(batch.map((p) => p.item));
        stats.batches++;
        stats.jobs += batch.length;
        stats.largestBatch = Math.max(stats.largestBatch, batch.length);
        batch.forEach((p, i) => {
          p.resolve(results[i] as R);
        });
      } catch (error) {
        stats.failedBatches++;
        for (const p of batch) p.reject(error);
      }
    }
  }

  return {
    enqueue(item) {
      if (closed) return Promise.reject(new EnqueuerClosedError());
      if (queue.length >= maxQueue) {
        stats.refused++;
        return Promise.reject(new QueueFullError(queue.length));
      }
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    get waiting() {
      return queue.length;
    },
    stats,
    async close() {
      closed = true;
      while (draining || scheduled || queue.length > 0) {
        if (draining) await draining;
        else await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
}
