/**
 * Our model of a job, apart from the row (`JobsTable`): camelCase, parsed payload.
 */
import type { Selectable } from 'kysely';
import type { JobAttemptOutcome, JobAttemptsTable, JobState, JobsTable } from '../database.js';

export type JobRow = Selectable<JobsTable>;

export interface Job<P = unknown> {
  id: number;
  kind: string;
  connection: string;
  payload: P;
  state: JobState;
  runAt: number;
  /** Attempts made in the current run, including the one in progress once claimed. */
  attempts: number;
  idempotencyKey: string | null;
  groupKey: string | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  lastError: string | null;
  startedAt: number | null;
  createdAt: number;
  finishedAt: number | null;
  replays: number;
  /** Attempts of the current run lost to lease expiry (the process died); not failures. */
  lostLeases: number;
  /**
   * Set when an earlier attempt's write may have taken effect: a failure classified in doubt
   * (stored in `in_doubt`), or, with nothing stored, an attempt whose process died holding the
   * job (a lost lease: it may have posted before it died). A handler that can check
   * (`checksInDoubt`) must ask the target system before sending anything again. Null otherwise.
   */
  inDoubt: InDoubt | null;
}

export interface InDoubt {
  /** When the job first became in doubt (epoch ms); null for one inferred from a lost lease. */
  since: number | null;
  /** The failure that made it so. */
  error: string;
  /** What the failing attempt left for the check (an `InDoubtError`'s evidence), if anything. */
  evidence?: unknown;
}

/** The text stored in `jobs.in_doubt`. */
export function formatInDoubt(inDoubt: InDoubt): string {
  return JSON.stringify(inDoubt);
}

function parseInDoubt(text: string | null, lostLeases: number): InDoubt | null {
  if (text !== null) {
    try {
      const value = JSON.parse(text) as Partial<InDoubt>;
      return {
        since: typeof value.since === 'number' ? value.since : null,
        error: typeof value.error === 'string' ? value.error : text,
        ...(value.evidence === undefined ? {} : { evidence: value.evidence }),
      };
    } catch {
      return { since: null, error: text };
    }
  }
  if (lostLeases > 0) {
    return {
      since: null,
      error: `${lostLeases} earlier attempt${lostLeases === 1 ? '' : 's'} lost the lease (the process died or hung) and may have carried out the job's writes`,
    };
  }
  return null;
}

export function toJob(row: JobRow): Job {
  return {
    id: Number(row.id),
    kind: row.kind,
    connection: row.connection,
    payload: parsePayload(row.payload),
    state: row.state,
    runAt: Number(row.run_at),
    attempts: Number(row.attempts),
    idempotencyKey: row.idempotency_key,
    groupKey: row.group_key,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at),
    lastError: row.last_error,
    startedAt: row.started_at === null ? null : Number(row.started_at),
    createdAt: Number(row.created_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
    replays: Number(row.replays),
    lostLeases: Number(row.lost_leases),
    inDoubt: parseInDoubt(row.in_doubt ?? null, Number(row.lost_leases)),
  };
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface JobAttempt {
  id: number;
  jobId: number;
  attempt: number;
  worker: string | null;
  startedAt: number | null;
  finishedAt: number;
  outcome: JobAttemptOutcome;
  error: string | null;
  result: unknown;
}

export function toJobAttempt(row: Selectable<JobAttemptsTable>): JobAttempt {
  return {
    id: Number(row.id),
    jobId: Number(row.job_id),
    attempt: Number(row.attempt),
    worker: row.worker,
    startedAt: row.started_at === null ? null : Number(row.started_at),
    finishedAt: Number(row.finished_at),
    outcome: row.outcome,
    error: row.error,
    result: row.result === null ? null : parsePayload(row.result),
  };
}

/** Longest error text kept on a job or an attempt row. */
export const MAX_ERROR_LENGTH = 4000;

export function clipError(text: string): string {
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
