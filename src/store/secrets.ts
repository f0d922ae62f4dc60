/** Encrypted credentials: store, read and list (names and dates only) per connection. */
import type { Kysely } from 'kysely';
import { UserError } from '../config/errors.js';
import { openSecret, sealSecret } from './crypto.js';
import type { Database } from './database.js';
import { withWriteTransaction } from './jobs/transaction.js';
import type { MasterKey } from './master-key.js';
import type { Store } from './open.js';

export async function putSecret(
  db: Kysely<Database>,
  master: MasterKey,
  connection: string,
  name: string,
  value: string,
  now = Date.now(),
): Promise<void> {
  const sealed = sealSecret(master, connection, name, value);
  await db
    .insertInto('secrets')
    .values({ connection, name, ...sealed, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['connection', 'name']).doUpdateSet({ ...sealed, updated_at: now }))
    .execute();
}

/** The decrypted value, or undefined when no such secret is stored. */
export async function getSecret(
  db: Kysely<Database>,
  master: MasterKey,
  connection: string,
  name: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('secrets')
    .select(['nonce', 'ciphertext', 'tag', 'key_id'])
    .where('connection', '=', connection)
    .where('name', '=', name)
    .executeTakeFirst();
  return row ? openSecret(master, connection, name, row) : undefined;
}

export interface SecretListing {
  connection: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export async function listSecrets(db: Kysely<Database>, connection?: string): Promise<SecretListing[]> {
  let query = db.selectFrom('secrets').select(['connection', 'name', 'created_at', 'updated_at']);
  if (connection) query = query.where('connection', '=', connection);
  const rows = await query.orderBy('connection').orderBy('name').execute();
  return rows.map((r) => ({
    connection: r.connection,
    name: r.name,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  }));
}

export async function deleteSecret(db: Kysely<Database>, connection: string, name: string): Promise<boolean> {
  const result = await db
    .deleteFrom('secrets')
    .where('connection', '=', connection)
    .where('name', '=', name)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Environment variable that overrides a stored secret: `ML_CONNECTOR_SECRET_<CONNECTION>_<NAME>`. */
export function secretEnvName(connection: string, name: string): string {
  return `ML_CONNECTOR_SECRET_${connection}_${name}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/**
 * Resolves a `secret:<name>` reference for a connection: the environment first, then the
 * encrypted store. A missing secret is a UserError that says how to provide it.
 */
export async function resolveSecret(
  db: Kysely<Database>,
  loadKey: () => MasterKey,
  connection: string,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const fromEnv = env[secretEnvName(connection, name)];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const exists = await db
    .selectFrom('secrets')
    .select('name')
    .where('connection', '=', connection)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!exists) {
    throw new UserError(
      `The secret "${name}" of connection "${connection}" is not set. Store it with ` +
        `\`ml-connector creds set ${connection} ${name}\` (the value is read from standard input), ` +
        `or set the environment variable ${secretEnvName(connection, name)}.`,
    );
  }
  const value = await getSecret(db, loadKey(), connection, name);
  return value as string;
}

/**
 * Whether `master` is the key the stored credentials were sealed with. Each row carries its key's
 * fingerprint (`key_id`), so rows under another key are found without decrypting; one row under
 * `master` is also opened, as a check value. Undefined when all is well (or nothing is stored).
 */
export async function findForeignKeyRows(
  db: Kysely<Database>,
  master: MasterKey,
): Promise<{ count: number; keyIds: string[] } | undefined> {
  const rows = await db
    .selectFrom('secrets')
    .select(['connection', 'name', 'nonce', 'ciphertext', 'tag', 'key_id'])
    .execute();
  const foreign = rows.filter((r) => r.key_id !== master.id);
  if (foreign.length > 0)
    return { count: foreign.length, keyIds: [...new Set(foreign.map((r) => r.key_id))] };
  const sample = rows[0];
  if (sample) openSecret(master, sample.connection, sample.name, sample); // throws when it does not open
  return undefined;
}

/**
 * Re-encrypts every stored credential from `from` to `to`, in one write transaction: every row is
 * opened first, so a row that does not open under `from` changes nothing. Returns the count.
 */
export async function rekeySecrets(
  store: Store,
  from: MasterKey,
  to: MasterKey,
  now = Date.now(),
): Promise<number> {
  return withWriteTransaction(store, async (db) => {
    const rows = await db
      .selectFrom('secrets')
      .select(['connection', 'name', 'nonce', 'ciphertext', 'tag', 'key_id'])
      .execute();
    const opened = rows.map((r) => ({ ...r, value: openSecret(from, r.connection, r.name, r) }));
    for (const r of opened) {
      const sealed = sealSecret(to, r.connection, r.name, r.value);
      await db
        .updateTable('secrets')
        .set({ ...sealed, updated_at: now })
        .where('connection', '=', r.connection)
        .where('name', '=', r.name)
        .execute();
    }
    return opened.length;
  });
}
