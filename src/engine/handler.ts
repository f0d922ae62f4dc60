/**
 * What a job handler is. A handler takes a batch of claimed jobs of its kind, all for one
 * connection (a batch of one unless `batchSize` says more: the order push takes 100 per call), and
 * returns one outcome per job, in order. Returning nothing means every job succeeded; throwing
 * fails every job of the batch with that error. Whether a failure is retried is decided by
 * `classifyError` (errors.ts), never by the handler's caller.
 *
 * In-doubt writes. A failure classified in doubt (the request may have taken effect and sending it
 * again could do it twice: a SYSPRO post whose answer was lost, a V2 `increment` answered 500) is
 * marked on the job. If the handler declares `checksInDoubt`, the job is retried on its cadence and
 * the next attempt sees `job.inDoubt`: it must ask the target system whether the effect is there
 * before sending anything (`checkInDoubt` below). A handler that cannot check gets no blind second
 * attempt: the job is dead at once, with a message that says what to check before replaying it.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../store/database.js';
import type { InDoubt, Job } from '../store/jobs/job.js';
import { InDoubtUnresolved } from './errors.js';

export type JobOutcome =
  | {
      ok: true;
      result?: unknown;
      /**
       * Store writes that must commit together with the job's success, e.g. the link and audit rows
       * of a SYSPRO post: run in the transaction that completes the job, skipped if the lease was
       * lost. If they fail, the job fails (retryable) instead of succeeding; its next run must find
       * out whether the outside write happened before repeating it.
       */
      record?: (db: Kysely<Database>) => Promise<void>;
    }
  | { ok: false; error: unknown };

export interface JobContext {
  /** Aborted when the worker loses the jobs' lease or gives them back at shutdown: stop soon. */
  signal: AbortSignal;
  workerId: string;
  clock: Clock;
}

export interface JobHandler {
  kind: string;
  /** Most jobs per call (default 1). */
  batchSize?: number;
  /** Calls of this handler running at once in one process (default 1). */
  concurrency?: number;
  /**
   * The handler checks the target system when `job.inDoubt` is set before it sends anything again
   * (SYSPRO: SORQDN/SORQRY; ShipStation: the order by orderKey, the inventory level). Without it an
   * in-doubt failure makes the job dead at once instead of retrying it.
   */
  checksInDoubt?: boolean;
  /**
   * How many batches of each connection could run at once just now without waiting on an outside
   * budget (the orders push: the requests its ShipStation key may still send in its window, read
   * from the shared budget). The worker's claim passes over a connection whose running batches
   * already take all of it, so a process does not wait in a limiter for one connection while
   * another connection's work could go. Connections left out are not limited. A hint: the call
   * itself still waits for the budget if another process took the slot meanwhile.
   */
  capacity?(): Promise<ReadonlyMap<string, number>>;
  run(jobs: Job[], context: JobContext): Promise<JobOutcome[] | undefined>;
}

/** What a check of an in-doubt job found. */
export type InDoubtCheck<T> =
  /** The earlier write took effect: report success without sending it again. */
  | { state: 'done'; value: T }
  /** It did not: sending it is safe. */
  | { state: 'absent' }
  /** Cannot tell (or found something that does not match): the operator must look. */
  | { state: 'unknown'; reason: string };

/**
 * The one way a handler resolves an in-doubt job. Not in doubt: `{ done: false }` at once (send).
 * In doubt: runs `check`; `done` gives `{ done: true, value }` (do not send), `absent` gives
 * `{ done: false }` (send), `unknown` throws `InDoubtUnresolved`: the job is dead at once with
 * `reason` and the system to look at. If `check` itself fails (SYSPRO unreachable for the query),
 * that error is thrown: the job stays in doubt and is retried, never sent without a check.
 */
export async function checkInDoubt<T>(
  job: Job,
  system: string,
  check: (inDoubt: InDoubt) => Promise<InDoubtCheck<T>>,
): Promise<{ done: true; value: T } | { done: false }> {
  if (!job.inDoubt) return { done: false };
  const found = await check(job.inDoubt);
  if (found.state === 'done') return { done: true, value: found.value };
  if (found.state === 'absent') return { done: false };
  throw new InDoubtUnresolved(
    system,
    `in doubt and could not be resolved: ${found.reason}. The earlier attempt failed with: ${job.inDoubt.error}. Check ${system} before replaying the job`,
  );
}

/** A handler for one job at a time: its return value is the result, a throw is the failure. */
export function handleEachJob(
  kind: string,
  run: (job: Job, context: JobContext) => Promise<unknown>,
  options: { concurrency?: number; checksInDoubt?: boolean } = {},
): JobHandler {
  return {
    kind,
    batchSize: 1,
    concurrency: options.concurrency ?? 1,
    checksInDoubt: options.checksInDoubt ?? false,
    async run(jobs, context) {
      const outcomes: JobOutcome[] = [];
      for (const job of jobs) {
        try {
          const result = await run(job, context);
          outcomes.push(result === undefined ? { ok: true } : { ok: true, result });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      return outcomes;
    },
  };
}
