/**
 * The policy of a shared request budget, as pure functions over the stored state (the database
 * keeps the state, `db-rate-limiter.ts` locks and saves it).
 *
 * Our own sends are a sliding log: a request may go when fewer than `limit` of ours went in the
 * last `windowMs + marginMs`. Then every window of `windowMs`, wherever the server's window starts,
 * holds at most `limit` of our requests, even with a little network delay (the margin). The server's
 * `X-Rate-Limit-Remaining` / `Reset` also counts other apps on the same key: when it says nothing
 * remains, we wait for its reset. After a 429, `block` holds everything until the given time.
 */
export interface BudgetState {
  windowMs: number;
  limit: number;
  /** Our send times in the recent window, ascending. */
  sentAt: number[];
  serverRemaining: number | null;
  serverWindowEnd: number | null;
  blockedUntil: number | null;
}

export interface BudgetObservation {
  limit?: number;
  remaining?: number;
  resetSeconds?: number;
  at: number;
}

export type SendDecision = { granted: true; state: BudgetState } | { granted: false; waitMs: number };

/** Two server windows whose ends are closer than this are the same window (Reset is in whole seconds). */
const SAME_WINDOW_MS = 1500;

export function trySend(state: BudgetState, now: number, marginMs: number): SendDecision {
  const span = state.windowMs + marginMs;
  const recent = state.sentAt.filter((t) => t > now - span);
  const waits: number[] = [];
  if (state.blockedUntil !== null && state.blockedUntil > now) waits.push(state.blockedUntil - now);
  const serverWindowOpen = state.serverWindowEnd !== null && now < state.serverWindowEnd;
  if (serverWindowOpen && state.serverRemaining !== null && state.serverRemaining <= 0) {
    waits.push((state.serverWindowEnd as number) - now);
  }
  if (recent.length >= state.limit) {
    const leaving = recent[recent.length - state.limit] as number;
    waits.push(leaving + span - now);
  }
  if (waits.length > 0) return { granted: false, waitMs: Math.max(1, ...waits) };
  recent.push(now);
  return {
    granted: true,
    state: {
      ...state,
      sentAt: recent.slice(-state.limit),
      serverRemaining: serverWindowOpen && state.serverRemaining !== null ? state.serverRemaining - 1 : null,
      serverWindowEnd: serverWindowOpen ? state.serverWindowEnd : null,
      blockedUntil: state.blockedUntil !== null && state.blockedUntil > now ? state.blockedUntil : null,
    },
  };
}

/**
 * Folds in what a response's headers said. The lower of the stored and the observed `remaining`
 * wins within one server window (responses of concurrent requests arrive out of order); a later
 * window replaces an earlier one; an observation of an older window is ignored. A `limit` header
 * lower than the configured limit lowers ours (never raises it: config is the ceiling).
 */
export function applyObservation(
  state: BudgetState,
  obs: BudgetObservation,
  configuredLimit: number,
): BudgetState {
  let next = { ...state };
  if (obs.limit !== undefined && obs.limit > 0) next.limit = Math.min(configuredLimit, obs.limit);
  if (obs.remaining === undefined || obs.resetSeconds === undefined) return next;
  const end = obs.at + obs.resetSeconds * 1000;
  const current = state.serverWindowEnd;
  if (current === null || current <= obs.at || end > current + SAME_WINDOW_MS) {
    next = { ...next, serverRemaining: obs.remaining, serverWindowEnd: end };
  } else if (Math.abs(end - current) <= SAME_WINDOW_MS) {
    next = { ...next, serverRemaining: Math.min(state.serverRemaining ?? obs.remaining, obs.remaining) };
  }
  return next;
}

export function applyBlock(state: BudgetState, until: number): BudgetState {
  return { ...state, blockedUntil: Math.max(state.blockedUntil ?? 0, until) };
}
