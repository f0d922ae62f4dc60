/**
 * Environment overrides for the configuration file.
 *
 * `ML_CONNECTOR_<PATH>=<value>` sets one field. Path segments are separated by a double
 * underscore; inside a segment a single underscore starts a new camelCase word, and matching is
 * case-insensitive, so:
 *
 *   ML_CONNECTOR_STORE__URL=postgres://…                 → store.url
 *   ML_CONNECTOR_HTTP__PORT=9000                         → http.port (a number: values are YAML scalars)
 *   ML_CONNECTOR_CONNECTIONS__MAIN__SYSPRO__ENET_URL=…   → connections[name=main].syspro.enetUrl
 *   ML_CONNECTOR_LOG__LEVEL=debug                        → log.level
 *
 * A few names are not config paths and are left alone: `ML_CONNECTOR_CONFIG` (the file),
 * `ML_CONNECTOR_MASTER_KEY`, `ML_CONNECTOR_INIT` (the CLI's --init), `ML_CONNECTOR_NO_BUNDLE` (the
 * bin's way of loading the sources) and `ML_CONNECTOR_SECRET_*`.
 *
 * A variable that names a connection the file does not have is refused when the file has
 * connections (a typo would otherwise add a half-configured connection); with no connections in
 * the file, variables may define them. (`ML_CONNECTOR_MASTER_KEY_FILE` is the
 * config path `masterKeyFile`.)
 */
import { parse as parseYamlScalar } from 'yaml';
import { UserError } from './errors.js';

const PREFIX = 'ML_CONNECTOR_';
const RESERVED = /^ML_CONNECTOR_(CONFIG|MASTER_KEY|INIT|NO_BUNDLE|SECRET_.*)$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function camel(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function findKey(target: Json, segment: string): string {
  const wanted = segment.replace(/_/g, '').toLowerCase();
  return Object.keys(target).find((k) => k.toLowerCase() === wanted) ?? camel(segment);
}

/** Applies the `ML_CONNECTOR_*` variables of `env` to a copy of `raw` (the parsed YAML). */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): Json {
  const root: Json = isObject(raw) ? structuredClone(raw) : {};
  // Names in each list as the file has them, taken before any variable adds to it.
  const fileNames = new Map<unknown[], string[]>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) || RESERVED.test(name) || value === undefined) continue;
    const segments = name.slice(PREFIX.length).split('__').filter(Boolean);
    if (segments.length === 0) continue;
    let cursor: unknown = root;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const last = i === segments.length - 1;
      if (Array.isArray(cursor)) {
        const byIndex = /^\d+$/.test(segment) ? Number(segment) : -1;
        let index = byIndex;
        if (index < 0) {
          index = cursor.findIndex(
            (item) =>
              isObject(item) && String(item.name).toLowerCase().replace(/-/g, '_') === segment.toLowerCase(),
          );
          if (!fileNames.has(cursor))
            fileNames.set(
              cursor,
              cursor.filter(isObject).map((item) => String(item.name)),
            );
          const known = fileNames.get(cursor) ?? [];
          if (index < 0 && known.length > 0) {
            throw new UserError(
              `The environment variable ${name} names connection "${segment.toLowerCase().replace(/_/g, '-')}", which is not in the configuration (known: ${known.join(', ')}). Fix the name in the variable, or add the connection to the file.`,
            );
          }
          if (index < 0) {
            cursor.push({ name: segment.toLowerCase().replace(/_/g, '-') });
            index = cursor.length - 1;
          }
        }
        if (last) {
          cursor[index] = parseScalar(value);
        } else {
          if (!isObject(cursor[index]) && !Array.isArray(cursor[index])) cursor[index] = {};
          cursor = cursor[index];
        }
        continue;
      }
      if (!isObject(cursor)) break;
      const key = findKey(cursor, segment);
      if (last) {
        cursor[key] = parseScalar(value);
      } else {
        if (!isObject(cursor[key]) && !Array.isArray(cursor[key])) {
          cursor[key] = key === 'connections' ? [] : {};
        }
        cursor = cursor[key];
      }
    }
  }
  return root;
}

function parseScalar(value: string): unknown {
  try {
    const parsed: unknown = parseYamlScalar(value);
    return parsed ?? value;
  } catch {
    return value;
  }
}
