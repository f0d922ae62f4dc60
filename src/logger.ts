/**
 * The one logger factory (pino, JSON lines). Every field that can carry a secret is redacted,
 * wherever it sits in a logged object: request headers, passwords, API keys and secrets.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'authorization',
  'Authorization',
  'password',
  'apiKey',
  'apiSecret',
  'v2ApiKey',
  'secret',
  'token',
  'operatorPassword',
  'companyPassword',
  'odataPassword',
  'masterKey',
  'cookie',
  'api-key',
  '*.authorization',
  '*.Authorization',
  '*["api-key"]',
  '*["API-Key"]',
  '*.cookie',
  '*.password',
  '*.apiKey',
  '*.apiSecret',
  '*.v2ApiKey',
  '*.secret',
  '*.token',
  '*.operatorPassword',
  '*.companyPassword',
  '*.odataPassword',
  '*.masterKey',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers["api-key"]',
  '*.headers["API-Key"]',
  '*.headers.cookie',
  '*.*.authorization',
  '*.*.Authorization',
  '*.*.password',
  '*.*.apiKey',
  '*.*.apiSecret',
  '*.*.v2ApiKey',
  '*.*.operatorPassword',
  '*.*.companyPassword',
  '*.*.odataPassword',
  '*.*.secret',
];

export type { Logger };

export function createLogger(
  options: { level?: string; name?: string } = {},
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      name: options.name ?? 'ml-connector',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination ?? pino.destination(2),
  );
}

/** Removes credentials from a URL (`user:pass@`, and query parameters named like secrets) for logs and errors. */
export function redactUrl(url: string): string {
  return url
    .replace(/(\/\/)[^/@\s]+@/, '$1[redacted]@')
    .replace(
      /([?&](?:password|pwd|apikey|api_key|secret|token|CompanyPassword|OperatorPassword)=)[^&#]*/gi,
      '$1[redacted]',
    );
}
