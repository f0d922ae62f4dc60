/**
 * What every command needs, built lazily from the global options: the configuration, the store
 * (opened and migrated on first use) and the master key.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../config/errors.js';
import { type Config, loadConfig } from '../config/index.js';
import { DEFAULT_CONFIG_FILE } from '../config/load.js';
import { loadMasterKey, type MasterKey } from '../store/master-key.js';
import { migrateToLatest } from '../store/migrate.js';
import { openConfiguredStore, type Store } from '../store/open.js';
import { describeStoreError } from '../store/store-errors.js';

export interface GlobalOptions {
  config?: string;
  /** Create a new store and master key even though no configuration file was found. */
  init?: boolean;
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
  const init = options.init === true || env.ML_CONNECTOR_INIT === '1';
  /**
   * Without a configuration file (the wrong directory, most often), refuse to create a store file
   * or a master key file that does not exist yet: `creds set` would otherwise start a second,
   * empty installation beside the real one. What the environment names is taken as meant.
   */
  function refuseNewInstallation(what: string): void {
    if (file !== undefined || init) return;
    const looked = resolve(env.ML_CONNECTOR_CONFIG ?? DEFAULT_CONFIG_FILE);
    throw new UserError(
      `No configuration file found (looked for ${looked}), and this would create ${what}. ` +
        'Run from the directory that holds your ml-connector.yaml or pass --config FILE; to start a new installation here, pass --init (or set ML_CONNECTOR_INIT=1).',
    );
  }
  function newSqliteFile(): string | undefined {
    if (env.ML_CONNECTOR_STORE__URL !== undefined) return undefined;
    const url = config.store.url;
    if (!url.startsWith('sqlite:')) return undefined;
    const path = url.slice('sqlite:'.length);
    if (path === ':memory:' || path === '') return undefined;
    return existsSync(resolve(path)) ? undefined : resolve(path);
  }
  function newKeyFile(): string | undefined {
    if (env.ML_CONNECTOR_MASTER_KEY) return undefined;
    const path = resolve(env.ML_CONNECTOR_MASTER_KEY_FILE ?? config.masterKeyFile);
    return existsSync(path) ? undefined : path;
  }
  let store: Store | undefined;
  let migrated = false;
  return {
    config,
    configFile: file,
    async store() {
      if (store === undefined) {
        const created = newSqliteFile();
        if (created !== undefined) refuseNewInstallation(`a new, empty store at ${created}`);
      }
      store ??= openConfiguredStore(config.store, env);
      if (!migrated) {
        try {
          await migrateToLatest(store);
        } catch (err) {
          throw describeStoreError(err, store.displayUrl) ?? err;
        }
        migrated = true;
      }
      return store;
    },
    masterKey(create = false) {
      if (create) {
        const key = newKeyFile();
        const db = store === undefined ? newSqliteFile() : undefined;
        if (key !== undefined)
          refuseNewInstallation(`a new master key at ${key}${db ? ` and a new store at ${db}` : ''}`);
      }
      return loadMasterKey({ env, file: config.masterKeyFile, create, warn });
    },
    async close() {
      await store?.close();
    },
  };
}
