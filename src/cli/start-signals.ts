/**
 * SIGTERM and SIGINT while a command is still loading.
 *
 * Until a command has installed its own handlers, a signal kills the process at once. Loading the
 * modules takes about a second (several through tsx), so a `run` stopped in that second (a
 * supervisor's stop right after a start, a test) died by the signal instead of stopping cleanly
 * with exit code 0. The bin (`bin/ml-connector.js`) therefore keeps a signal from its first line
 * and hands the keeper to `main`, which leaves it here:
 * - a long-running command (`run`, `start`) takes it over with `holdSignalsDuringStart`, which
 *   stops the service as soon as it has started;
 * - every other command gets the signal back as its action begins (`releaseLoadSignals`), with the
 *   keeper removed first, so it ends the process as it would have, a moment later.
 * Only the few milliseconds before the bin's first line are left to the default action.
 */

/** A keeper of the first SIGTERM/SIGINT that arrives. */
export interface HeldSignals {
  /** The first signal that arrived while held, if any. */
  received(): NodeJS.Signals | undefined;
  /** Stops holding (the signals' default action, or other handlers, apply again). */
  release(): void;
}

/** Keeps the first of `signals` that arrives until `release` (the same as the bin's keeper). */
export function holdSignals(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): HeldSignals {
  let first: NodeJS.Signals | undefined;
  const hold = (signal: NodeJS.Signals) => {
    first ??= signal;
  };
  for (const s of signals) process.on(s, hold);
  return {
    received: () => first,
    release: () => {
      for (const s of signals) process.off(s, hold);
    },
  };
}

type Raise = (signal: NodeJS.Signals) => void;
const raiseAgain: Raise = (signal) => process.kill(process.pid, signal);

let loading: HeldSignals | undefined;
let raise: Raise = raiseAgain;

/**
 * Leaves the bin's keeper (from the module-loading time) for the command to take or release;
 * `raiseWith` is how a released signal is raised again (tests pass their own).
 */
export function keepLoadSignals(held: HeldSignals | undefined, raiseWith: Raise = raiseAgain): void {
  loading = held;
  raise = raiseWith;
}

/** Removes the bin's keeper and returns the signal it kept (call with your own handlers in place). */
export function takeLoadSignal(): NodeJS.Signals | undefined {
  const held = loading;
  loading = undefined;
  if (!held) return undefined;
  held.release();
  return held.received();
}

/** Removes the bin's keeper; a signal it kept is raised again, now with the default action. */
export function releaseLoadSignals(): void {
  const signal = takeLoadSignal();
  if (signal) raise(signal);
}
