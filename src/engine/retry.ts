/**
 * When a failed job runs again. The cadence (delays before retry 1, 2, …) is per job kind, from
 * `retry.perKind[kind]` or else `retry.cadence`; each delay moves by ±`jitter` at random so the
 * retries of many jobs spread out. After the last delay is used, the next failure is final.
 */
export interface RetryPolicy {
  cadence: number[];
  perKind: Record<string, number[]>;
  jitter: number;
}

export function cadenceFor(policy: RetryPolicy, kind: string): number[] {
  return policy.perKind[kind] ?? policy.cadence;
}

/**
 * The delay before the next try after failed attempt number `attempt` (1-based), or `null` when the
 * cadence is used up and the job is dead. `random` returns [0, 1).
 */
export function retryDelay(
  policy: RetryPolicy,
  kind: string,
  attempt: number,
  random: () => number = Math.random,
  retryAfterMs = 0,
): number | null {
  const cadence = cadenceFor(policy, kind);
  const base = cadence[attempt - 1];
  if (base === undefined) return null;
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(retryAfterMs, Math.round(base + spread));
}
