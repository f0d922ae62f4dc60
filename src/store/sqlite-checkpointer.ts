/**
 * WAL checkpoints of a SQLite store off the event loop. better-sqlite3 is synchronous, and with
 * `synchronous = NORMAL` a commit only appends to the write-ahead log; the fsyncs happen when the
 * log is checkpointed into the database file, which SQLite does inside the COMMIT that crosses
 * `wal_autocheckpoint` pages. On a busy disk that one COMMIT held the event loop for 0.2–0.5 s,
 * and every request waiting behind it (webhooks above all) with it.
 *
 * Here a worker thread with its own connection runs `PRAGMA wal_checkpoint(PASSIVE)` every
 * `intervalMs` (PASSIVE never waits for readers or writers and never blocks them), and the
 * service's connection keeps an automatic checkpoint only as a safety net at a much larger size,
 * so the log stays bounded if the thread cannot keep up or dies. Only `run` uses it (one long
 * process); short CLI commands keep SQLite's default.
 *
 * The worker is plain CommonJS evaluated from a string, so it needs no TypeScript loader.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Pages the service's own connection lets the log reach before it checkpoints itself (about 40 MB). */
export const SAFETY_AUTOCHECKPOINT_PAGES = 10_000;

const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
let timer;
let stopped = false;
function checkpoint() {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (error) { parentPort.postMessage({ error: String(error && error.message || error) }); }
}
function tick() {
  if (stopped) return;
  checkpoint();
  timer = setTimeout(tick, workerData.intervalMs);
}
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  stopped = true;
  clearTimeout(timer);
  try { db.close(); } catch {}
  parentPort.postMessage({ stopped: true });
});
timer = setTimeout(tick, workerData.intervalMs);
`;

export interface Checkpointer {
  /** Stops the thread and closes its connection (before the store's own connection closes). */
  stop(): Promise<void>;
}

export function startCheckpointer(
  path: string,
  options: { intervalMs?: number; onError?: (message: string) => void } = {},
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_CODE, {
    eval: true,
    workerData: { path, driver, intervalMs: options.intervalMs ?? 1000 },
  });
  // Never what keeps a process alive; an error only loses the off-thread checkpoints (the safety net stays).
  worker.unref();
  let stopped: Promise<void> | undefined;
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', () => resolve());
    worker.once('error', (error) => {
      options.onError?.(error.message);
      resolve();
    });
  });
  worker.on('message', (message: { error?: string }) => {
    if (message.error) options.onError?.(message.error);
  });
  return {
    stop() {
      stopped ??= (async () => {
        const done = new Promise<void>((resolve) => {
          worker.on('message', (m: { stopped?: boolean }) => {
            if (m.stopped) resolve();
          });
          exited.then(resolve);
        });
        worker.postMessage('stop');
        await done;
        await worker.terminate();
      })();
      return stopped;
    },
  };
}
