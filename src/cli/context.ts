/**
 * What every command needs, built lazily from the global options: the configuration, the store
 * (opened and migrated on first use) and the master key.
 */
import { type Config, loadConfig } from '../config/index.js';
import { loadMasterKey, type MasterKey } from '../store/master-key.js';
import { migrateToLatest } from '../store/migrate.js';
import { openConfiguredStore, type Store } from '../store/open.js';

export interface GlobalOptions {
  config?: string;
}

export interface CommandContext {
  config: Config;
  configFile: string | undefined;
  /** Opens the store and applies pending migrations (idempotent). */
  store(): Promise<Store>;
  /** Loads the master key; `create` makes the key file when neither it nor the env variable exists. */
  masterKey(create?: boolean): MasterKey;
  close(): Promise<void>;
}

/**
 * `warn` receives warnings that do not stop the command (a key file others may read); the program
 * prints them on stderr.
 */
export function createContext(
  options: GlobalOptions,
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = (message) => process.stderr.write(`Warning: ${message}\n`),
): CommandContext {
  const { config, file } = loadConfig({ file: options.config, env });
  let store: Store | undefined;
  let migrated = false;
  return {
    config,
    configFile: file,
    async store() {
      store ??= openConfiguredStore(config.store, env);
      if (!migrated) {
        await migrateToLatest(store);
        migrated = true;
      }
      return store;
    },
    masterKey(create = false) {
      return loadMasterKey({ env, file: config.masterKeyFile, create, warn });
    },
    async close() {
      await store?.close();
    },
  };
}
