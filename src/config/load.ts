/**
 * Loads the configuration: YAML file → environment overrides → zod validation.
 * Any problem becomes one `UserError` whose message names each bad field and what was expected.
 *
 * Relative paths in the configuration (`store.url` of `sqlite:` and `masterKeyFile`) are relative
 * to the directory of the file they come from (or whose defaults they are), so the connector finds
 * its database and key wherever it is started from. Set by an environment variable, or with no
 * file, they are relative to the working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { applyEnvOverrides } from './env.js';
import { UserError } from './errors.js';
import { type Config, configSchema } from './schema.js';

export const DEFAULT_CONFIG_FILE = './ml-connector.yaml';

export interface LoadConfigOptions {
  /** Path of the YAML file; defaults to `ML_CONNECTOR_CONFIG` or `./ml-connector.yaml`. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** When false, a missing file is an error; when true (default for the implicit file) it means "all defaults". */
  allowMissing?: boolean;
}

export interface LoadedConfig {
  config: Config;
  /** The file that was read, or undefined when none existed. */
  file: string | undefined;
}

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const explicit = options.file ?? env.ML_CONNECTOR_CONFIG;
  const file = resolve(explicit ?? DEFAULT_CONFIG_FILE);
  const allowMissing = options.allowMissing ?? explicit === undefined;

  let raw: unknown = {};
  let readFile: string | undefined;
  if (existsSync(file)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UserError(
        `Cannot read the configuration file ${file}: ${(err as Error).message}. Check that it exists and is readable.`,
      );
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0];
      throw new UserError(
        `The configuration file ${file} is not valid YAML: ${reason}. Fix the syntax and try again.`,
      );
    }
    readFile = file;
  } else if (!allowMissing) {
    throw new UserError(
      `The configuration file ${file} does not exist. Create it (see README.md, "Configuration") or pass --config with the right path.`,
    );
  }

  const config = parseConfig(applyEnvOverrides(raw, env), readFile ?? file);
  return { config: readFile ? resolvePaths(config, dirname(readFile), env) : config, file: readFile };
}

function resolvePaths(config: Config, base: string, env: NodeJS.ProcessEnv): Config {
  // What the environment set stays relative to the working directory.
  const fromEnv = applyEnvOverrides({}, env) as { store?: { url?: unknown }; masterKeyFile?: unknown };
  const anchor = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
  const url = config.store.url;
  const sqlitePath = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : undefined;
  const anchorUrl = sqlitePath !== undefined && sqlitePath !== ':memory:' && fromEnv.store?.url === undefined;
  return {
    ...config,
    store: { ...config.store, url: anchorUrl ? `sqlite:${anchor(sqlitePath)}` : url },
    masterKeyFile: fromEnv.masterKeyFile === undefined ? anchor(config.masterKeyFile) : config.masterKeyFile,
  };
}

/** Validates an already parsed configuration object; `source` names it in error messages. */
export function parseConfig(raw: unknown, source = 'the configuration'): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new UserError(
    `The configuration in ${source} is invalid: ${describeIssues(result.error.issues, raw)}. ` +
      'Fix these fields (or the ML_CONNECTOR_* environment variables that set them) and start again.',
  );
}

function describeIssues(issues: z.core.$ZodIssue[], raw: unknown): string {
  return issues
    .map((issue) => {
      const path = formatPath(issue.path, raw);
      let message = issue.message;
      if (issue.code === 'invalid_type' && /received undefined/.test(message)) {
        message = `is required (${issue.expected} expected)`;
        return `${path} ${message}`;
      }
      if (issue.code === 'unrecognized_keys') {
        return `${path || 'top level'} has unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      return `${path || 'top level'}: ${message}`;
    })
    .join('; ');
}

function formatPath(path: PropertyKey[], raw: unknown): string {
  let out = '';
  let cursor: unknown = raw;
  for (const segment of path) {
    if (typeof segment === 'number') {
      const item = Array.isArray(cursor) ? cursor[segment] : undefined;
      const name = typeof item === 'object' && item && 'name' in item ? String(item.name) : undefined;
      out += name ? `[${segment} "${name}"]` : `[${segment}]`;
      cursor = item;
    } else {
      out += out ? `.${String(segment)}` : String(segment);
      cursor =
        typeof cursor === 'object' && cursor ? (cursor as Record<PropertyKey, unknown>)[segment] : undefined;
    }
  }
  return out;
}
