/**
 * Row types of every table, as Kysely sees them. Times are epoch milliseconds (UTC) in integer
 * columns on both dialects (BIGINT on PostgreSQL, parsed back to numbers), so the same code reads
 * the same values from SQLite and PostgreSQL. JSON is stored as text.
 */
import type { ColumnType, Generated } from 'kysely';

export interface ConnectionsTable {
  name: string;
  created_at: number;
  updated_at: number;
  /** Hash of the connection's configuration when last seen (to notice edits). */
  config_hash: string | null;
}

export interface SecretsTable {
  connection: string;
  name: string;
  /** base64: 12-byte nonce, ciphertext, 16-byte GCM tag. */
  nonce: string;
  ciphertext: string;
  tag: string;
  /** First 8 hex characters of SHA-256 of the master key, to tell a wrong key from a tampered record. */
  key_id: string;
  created_at: number;
  updated_at: number;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'dead' | 'cancelled';

export interface JobsTable {
  id: Generated<number>;
  kind: string;
  connection: string;
  /** JSON text. */
  payload: string;
  state: JobState;
  /** When the job may run next (epoch ms). */
  run_at: number;
  attempts: ColumnType<number, number | undefined, number>;
  /**
   * One unit of work per key: an enqueue coalesces into the key's queued job, or (0005) queues a
   * follow-up behind its running one (`store/jobs/enqueue.ts`).
   */
  idempotency_key: string | null;
  /** Jobs with the same group key run one at a time (e.g. the SYSPRO writes of a connection). */
  group_key: string | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_heartbeat_at: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  /** (0002) When the current or last attempt started. */
  started_at: number | null;
  /** (0002) How many times the job was replayed after dying. */
  replays: ColumnType<number, number | undefined, number>;
  /** (0003) Attempts of the current run that ended in an expired lease, not a failure. */
  lost_leases: ColumnType<number, number | undefined, number>;
  /**
   * (0004) JSON `{ since, error, evidence? }` while the job's write may have taken effect without
   * our knowing (see `InDoubt` in jobs/job.ts); null otherwise. Cleared on success.
   */
  in_doubt: ColumnType<string | null, string | null | undefined, string | null>;
  /**
   * (0005) Which of a key's two active slots the job holds (0 or 1): a key may have one running job
   * and one queued follow-up; unique over active jobs per (key, slot).
   */
  key_slot: ColumnType<number, number | undefined, number>;
}

export interface AuditTable {
  id: Generated<number>;
  at: number;
  connection: string;
  /** The flow, e.g. `orders.push`, `shipments.writeback`, `creds`. */
  flow: string;
  /** What the row is about, e.g. `order`, `shipment`, `secret`. */
  entity_type: string;
  /** SYSPRO or ShipStation key of the entity, e.g. `EDU1:000123` or a shipmentId. */
  entity_key: string;
  /** What was done: `push`, `skip`, `write`, `fail`, `dead`, `replay`, … */
  action: string;
  outcome: 'ok' | 'error' | 'skipped' | 'info';
  job_id: number | null;
  /** JSON text with request/response summaries; never secrets. */
  detail: string | null;
  error: string | null;
}

export interface LinksTable {
  connection: string;
  /** `order`, `customer`, `shipment`, `inventory`, … */
  entity_type: string;
  syspro_key: string;
  shipstation_id: string | null;
  /** Content hash of what was last pushed, to skip unchanged records. */
  last_hash: string | null;
  last_pushed_at: number | null;
  updated_at: number;
  /** (0006) `open`, `closed` or `invalid` (see the migration); null before 0006. */
  state: string | null;
}

export interface CheckpointsTable {
  connection: string;
  name: string;
  value: string;
  updated_at: number;
}

export interface Database {
  connections: ConnectionsTable;
  secrets: SecretsTable;
  jobs: JobsTable;
  audit: AuditTable;
  links: LinksTable;
  checkpoints: CheckpointsTable;
  job_attempts: JobAttemptsTable;
  schedules: SchedulesTable;
  rate_limits: RateLimitsTable;
  dismissals: DismissalsTable;
  webhook_inbox: WebhookInboxTable;
}

/** (0008) Accepted webhook events not yet moved into `jobs` (`store/webhook-inbox.ts`). */
export interface WebhookInboxTable {
  id: Generated<number>;
  /** The job kind the event becomes (`shipments.fetch`, `channel-orders.fetch`). */
  kind: string;
  connection: string;
  idempotency_key: string;
  /** JSON text: the job's payload. */
  payload: string;
  /** When it was received (the job's run_at). */
  received_at: number;
}

/** (0002) How an attempt ended. `released`: given back at shutdown; `lease_expired`: its process vanished. */
export type JobAttemptOutcome = 'succeeded' | 'failed' | 'dead' | 'released' | 'lease_expired';

/** (0002) One row per attempt of a job; kept when the job is replayed. */
export interface JobAttemptsTable {
  id: Generated<number>;
  job_id: number;
  /** The job's attempt number (1-based) within its current run; restarts at 1 after a replay. */
  attempt: number;
  /** The lease owner (worker id) that ran it. */
  worker: string | null;
  started_at: number | null;
  finished_at: number;
  outcome: JobAttemptOutcome;
  error: string | null;
  /** JSON text the handler returned, if any. */
  result: string | null;
}

/** (0002) A recurring poll: one row per connection and job kind; the next due time survives restarts. */
export interface SchedulesTable {
  connection: string;
  kind: string;
  interval_ms: number;
  next_run_at: number;
  last_enqueued_at: number | null;
  last_job_id: number | null;
  updated_at: number;
}

/** (0002) The request budget of one key (e.g. a ShipStation API key), shared by every process. */
export interface RateLimitsTable {
  key: string;
  window_ms: number;
  window_limit: number;
  /** JSON array of the epoch-ms send times within the last window (at most `window_limit`). */
  sent_at: string;
  /** What the server last said remains in its window ending at `server_window_end`. */
  server_remaining: number | null;
  server_window_end: number | null;
  /** Nothing may be sent before this (after a 429). */
  blocked_until: number | null;
  updated_at: number;
}

/** (0007) An operator's dismissal of a problem: a job (set cancelled) or an invalid record. */
export interface DismissalsTable {
  id: Generated<number>;
  at: number;
  connection: string;
  job_id: number | null;
  entity_type: string | null;
  entity_key: string | null;
  /** For a record: `links.last_hash` when dismissed (its problems' hash), so a change shows it again. */
  link_hash: string | null;
  who: string;
  why: string;
  problem: string | null;
}
