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
