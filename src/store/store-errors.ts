/**
 * Store failures an operator can act on (a damaged SQLite file, a PostgreSQL server that cannot be
 * reached or refuses us), as a UserError naming the store (password masked) and what to do.
 * Anything else is left as it is.
 */
import { UserError } from '../config/errors.js';

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
]);

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof e?.code === 'string') return e.code;
  // pg reports a dual-stack failure as an AggregateError of one error per address.
  if (Array.isArray(e?.errors)) return codeOf(e.errors[0]);
  return e?.cause ? codeOf(e.cause) : undefined;
}

export function describeStoreError(err: unknown, displayUrl: string): UserError | undefined {
  if (err instanceof UserError) return err;
  const code = codeOf(err);
  if (code === undefined) return undefined;
  const message = (err as Error).message || code;
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new UserError(
      `The SQLite store ${displayUrl} is damaged or is not an ml-connector database (${message}). ` +
        'Stop the service, restore the file from a backup, or move it aside and run `ml-connector migrate` to start an empty store (credentials must then be stored again).',
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM') {
    return new UserError(
      `Cannot open or write the SQLite store ${displayUrl} (${message}). Check the path in store.url and that this user may write the file and its directory.`,
    );
  }
  if (UNREACHABLE.has(code)) {
    return new UserError(
      `Cannot reach the PostgreSQL store ${displayUrl} (${code}). Check that the server is running and that the host and port in store.url are right.`,
    );
  }
  if (code === '28P01' || code === '28000') {
    return new UserError(
      `The PostgreSQL store ${displayUrl} refused the login (${message}). Check the user in store.url and the password (store.password or ML_CONNECTOR_SECRET_STORE_PASSWORD).`,
    );
  }
  if (code === '3D000') {
    return new UserError(
      `The PostgreSQL store ${displayUrl} does not exist (${message}). Create the database (\`createdb\`) and run \`ml-connector migrate\`.`,
    );
  }
  return undefined;
}
