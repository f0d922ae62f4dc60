/**
 * Graceful shutdown on SIGTERM/SIGINT: the first signal stops the worker (no new claims; running
 * jobs finish or are released within the timeout) and then exits 0; a second signal exits 1 at
 * once. Returns a function that removes the listeners.
 */
import type { Worker } from './worker.js';

export interface StopOnSignalsOptions {
  timeoutMs?: number;
  signals?: NodeJS.Signals[];
  /** Default `process.exit`. */
  exit?: (code: number) => void;
  /** Called before stopping (e.g. to log or close the HTTP server). */
  onSignal?: (signal: NodeJS.Signals) => void;
  /** Other things to stop after the worker (schedulers, the store). */
  afterStop?: () => Promise<void>;
}

export function stopOnSignals(worker: Worker, options: StopOnSignalsOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      exit(1);
      return;
    }
    stopping = true;
    options.onSignal?.(signal);
    worker
      .stop(options.timeoutMs ?? 30_000)
      .then(() => options.afterStop?.())
      .then(
        () => exit(0),
        () => exit(1),
      );
  };
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}
