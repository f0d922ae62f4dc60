/**
 * Bench-only probe for `npm run bench:soak`, loaded into the connector child with
 * `node --expose-gc --require bench/soak-probe.cjs` and spoken to over the IPC channel that the soak
 * opens when it spawns the child. Nothing in src/ knows about it and no HTTP endpoint triggers a GC:
 * a connector started any other way has no IPC channel, and this file does nothing.
 *
 *   { type: 'gc' }                     full GC (twice, so weak callbacks and finalizers settle), then
 *                                      answers { type: 'memory', memory: process.memoryUsage(),
 *                                      status: { RssAnon, RssFile, RssShmem, VmHWM },
 *                                      spaces: { new_space, old_space, … } (each space's size) }
 *   { type: 'snapshot', file: path }   v8.writeHeapSnapshot(path) (which itself collects garbage
 *                                      first), then answers { type: 'snapshot', file }
 */
'use strict';
const v8 = require('node:v8');
const { readFileSync } = require('node:fs');

/**
 * The kernel's split of this process's resident memory (Linux /proc/self/status, in bytes):
 * RssAnon (malloc and V8 pages), RssFile (mapped files: the node binary, shared libraries, SQLite's
 * -shm), RssShmem. Empty where /proc is not there.
 */
function procStatus() {
  const out = {};
  try {
    for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
      const m = /^(RssAnon|RssFile|RssShmem|VmHWM):\s+(\d+) kB/.exec(line);
      if (m) out[m[1]] = Number(m[2]) * 1024;
    }
  } catch {
    // not Linux
  }
  return out;
}

if (typeof process.send === 'function' && typeof globalThis.gc === 'function') {
  // A 'message' listener keeps the channel referenced; `run` still ends on SIGTERM as in
  // production (serveUntilSignal exits once the service has stopped, whatever handles are left).
  process.on('message', (message) => {
    if (message?.type === 'gc') {
      globalThis.gc();
      globalThis.gc();
      const spaces = {};
      for (const space of v8.getHeapSpaceStatistics()) spaces[space.space_name] = space.space_size;
      process.send({ type: 'memory', memory: process.memoryUsage(), status: procStatus(), spaces });
    } else if (message?.type === 'snapshot' && typeof message.file === 'string') {
      const file = v8.writeHeapSnapshot(message.file);
      process.send({ type: 'snapshot', file });
    }
  });
}
