/**
 * The job handlers `ml-connector run` gives its worker: one entry per job kind a flow handles.
 * Empty for now; each flow adds its handlers here (e.g. `orders.poll`, `orders.push`). `run` only
 * schedules the polls whose kind has a handler (see `scheduledPolls` in `cli/commands/run.ts`), so a
 * poll without one never piles up as queued jobs.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { JobHandler } from '../engine/handler.js';
import type { Logger } from '../logger.js';
import type { MasterKey } from '../store/master-key.js';
import type { Store } from '../store/open.js';

/** What a flow's handlers may use; built once by `run`. */
export interface HandlerContext {
  config: Config;
  store: Store;
  /** Loads the master key on first use (secrets are resolved when a handler needs them). */
  masterKey: () => MasterKey;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  logger: Logger;
}

export function jobHandlers(_context: HandlerContext): JobHandler[] {
  return [];
}
