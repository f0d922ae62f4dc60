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
 * `ML_CONNECTOR_MASTER_KEY` and `ML_CONNECTOR_SECRET_*`. (`ML_CONNECTOR_MASTER_KEY_FILE` is the
 * config path `masterKeyFile`.)
 */
import { parse as parseYamlScalar } from 'yaml';

const PREFIX = 'ML_CONNECTOR_';
const RESERVED = /^ML_CONNECTOR_(CONFIG|MASTER_KEY|SECRET_.*)$/;

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
            (item) => isObject(item) && String(item.name).toLowerCase() === segment.toLowerCase(),
          );
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
