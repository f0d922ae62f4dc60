export { formatDuration, parseDuration } from './duration.js';
export { UserError } from './errors.js';
export {
  INSECURE_HTTP_ADVICE,
  insecureHttpProblems,
  isLoopbackHost,
  refuseInsecureHttp,
} from './insecure-http.js';
export { DEFAULT_CONFIG_FILE, type LoadedConfig, loadConfig, parseConfig } from './load.js';
export type { Config, ConfigInput, ConnectionConfig, SecretRef } from './schema.js';
export { configSchema, connectionSchema } from './schema.js';
