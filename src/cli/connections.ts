/** Which configured connections a command acts on, and its small shared flags. */
import { UserError } from '../config/errors.js';
import type { Config, ConnectionConfig } from '../config/schema.js';

/** The configured connections a command acts on: the one named, or all. */
export function selectConnections(config: Config, name: string | undefined): ConnectionConfig[] {
  const connections = config.connections.filter((c) => name === undefined || c.name === name);
  if (connections.length === 0) {
    throw new UserError(
      name
        ? `No connection named "${name}" in the configuration (known: ${config.connections.map((c) => c.name).join(', ') || 'none'}).`
        : 'No connections are configured. Add one under "connections:" (see README.md), or try `ml-connector sandbox --write-config ml-connector.yaml`.',
    );
  }
  return connections;
}

/** The one connection a command about a single record acts on (`--connection` when several). */
export function oneConnection(config: Config, name: string | undefined): ConnectionConfig {
  const candidates = selectConnections(config, name);
  if (candidates.length > 1) {
    throw new UserError(
      `Several connections are configured (${candidates.map((c) => c.name).join(', ')}): say which with --connection.`,
    );
  }
  return candidates[0] as ConnectionConfig;
}

/** `--limit <n>`: a whole number above 0. */
export function parseLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UserError(`--limit must be a whole number above 0, got "${value}".`);
  }
  return limit;
}
