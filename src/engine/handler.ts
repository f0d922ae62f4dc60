/**
 * What a job handler is. A handler takes a batch of claimed jobs of its kind, all for one
 * connection (a batch of one unless `batchSize` says more: the order push takes 100 per call), and
 * returns one outcome per job, in order. Returning nothing means every job succeeded; throwing
 * fails every job of the batch with that error. Whether a failure is retried is decided by
 * `classifyError` (errors.ts), never by the handler's caller.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../store/database.js';
import type { Job } from '../store/jobs/job.js';

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
  run(jobs: Job[], context: JobContext): Promise<JobOutcome[] | undefined>;
}

/** A handler for one job at a time: its return value is the result, a throw is the failure. */
export function handleEachJob(
  kind: string,
  run: (job: Job, context: JobContext) => Promise<unknown>,
  options: { concurrency?: number } = {},
): JobHandler {
  return {
    kind,
    batchSize: 1,
    concurrency: options.concurrency ?? 1,
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
