/**
 * One signal that aborts when any of several does, undone when the work is over.
 *
 * Not `AbortSignal.any`: on Node 20 (20.20 measured) every call adds a WeakRef to a set on each
 * source signal that is never pruned, even after the combined signal is collected. With a
 * long-lived source (the worker's stop signal, in every idle sleep) that set grew by ~15 entries a
 * second in the soak (`npm run bench:soak`): 1,456 after 80 s, 7,256 after 480 s, for the life of
 * the process. Here the listeners are removed by `dispose()`, so a source keeps nothing.
 *
 * A long-lived source holds one listener per piece of work in flight (every idle sleep of the
 * worker's kinds, every HTTP call under one caller signal), which passes Node's default of 10 and
 * would print a MaxListenersExceededWarning on stderr: the count is bounded by the work in flight,
 * not a leak, so the limit is lifted on each source.
 */
import { setMaxListeners } from 'node:events';

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Removes the listeners from the sources (call it in a `finally`); the signal stays as it is. */
  dispose(): void;
}

export function linkSignals(sources: readonly AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const already = sources.find((s) => s.aborted);
  if (already) {
    controller.abort(already.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const listeners: Array<[AbortSignal, () => void]> = [];
  const dispose = () => {
    for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    listeners.length = 0;
  };
  for (const source of sources) {
    setMaxListeners(0, source);
    const listener = () => {
      dispose();
      controller.abort(source.reason);
    };
    source.addEventListener('abort', listener, { once: true });
    listeners.push([source, listener]);
  }
  return { signal: controller.signal, dispose };
}

/**
 * The error a wait before sending ends with when the service stops (SIGTERM): a job that was
 * waiting in a rate limiter, a 429 or back-off sleep, or for its turn in a queue has sent nothing,
 * so the worker gives it back (queued again, the attempt not counted) instead of failing it.
 * Top level, like `delivery.ts`, so the clients can throw it without importing the engine.
 */
export class StoppedBeforeSending extends Error {
  readonly delivery = 'not-sent' as const;
  readonly retryable = true;
  constructor(message = 'not sent: the service is stopping') {
    super(message);
    this.name = 'StoppedBeforeSending';
  }
}

/** Whether `error` (or one of its causes) is a `StoppedBeforeSending`. */
export function isStoppedBeforeSending(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 8; depth++) {
    if (e instanceof StoppedBeforeSending) return true;
    e = e.cause;
  }
  return false;
}

const beforeSending = new WeakMap<AbortSignal, AbortSignal>();

/**
 * Gives `signal` (a job's, which aborts requests in flight) a second signal for the waits before a
 * request is sent, which also aborts when the service starts to stop (`engine/worker.ts`). The
 * clients wait on `waitSignal(signal)` and send with `signal`, so a stop cuts every wait at once
 * and lets a request already sent finish within `shutdownTimeout`.
 */
export function setWaitSignal(signal: AbortSignal, waits: AbortSignal): void {
  beforeSending.set(signal, waits);
}

/** The signal to wait on before sending under `signal`: its wait signal if it has one, else itself. */
export function waitSignal(signal: AbortSignal): AbortSignal;
export function waitSignal(signal: AbortSignal | undefined): AbortSignal | undefined;
export function waitSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
  return signal === undefined ? undefined : (beforeSending.get(signal) ?? signal);
}
