/**
 * When a failed job runs again. The cadence (delays before retry 1, 2, …) is per job kind, from
 * `retry.perKind[kind]` or else `retry.cadence`; each delay moves by ±`jitter` at random so the
 * retries of many jobs spread out. After the last delay is used, the next failure is final.
 *
 * Polls (the kinds of `POLL_KINDS`) are the exception: a poll is never final for a failure that
 * may pass (SYSPRO down), because its schedule will want it again anyway. Once the cadence is used
 * up its last delay repeats, and the wait is capped at the schedule's interval: when the schedule
 * comes due it enqueues the poll again, which coalesces into the waiting retry and makes it due at
 * once (`store/jobs/enqueue.ts`). So after an outage the next poll runs within one interval, and
 * the poll job keeps counting its failures (`attempts`, `last_error`) until one succeeds. A
 * permanent error still makes it dead, and the schedule enqueues a fresh poll when next due.
 */
import { POLL_KINDS } from './scheduler.js';

export interface RetryPolicy {
  cadence: number[];
  perKind: Record<string, number[]>;
  jitter: number;
}

const POLL_KIND_SET: ReadonlySet<string> = new Set(Object.values(POLL_KINDS));

export function isPollKind(kind: string): boolean {
  return POLL_KIND_SET.has(kind);
}

export function cadenceFor(policy: RetryPolicy, kind: string): number[] {
  return policy.perKind[kind] ?? policy.cadence;
}

/**
 * The delay before the next try after failed attempt number `attempt` (1-based), or `null` when the
 * cadence is used up and the job is dead (never for a poll, see above). `random` returns [0, 1).
 */
export function retryDelay(
  policy: RetryPolicy,
  kind: string,
  attempt: number,
  random: () => number = Math.random,
  retryAfterMs = 0,
): number | null {
  const cadence = cadenceFor(policy, kind);
  const base = isPollKind(kind)
    ? cadence[Math.min(Math.max(attempt, 1), cadence.length) - 1]
    : cadence[attempt - 1];
  if (base === undefined) return null;
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(retryAfterMs, Math.round(base + spread));
}
