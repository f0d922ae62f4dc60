/** The connections known to the store (one row per configured SYSPRO + ShipStation pair). */
import type { Kysely } from 'kysely';
import type { Database } from './database.js';

export async function ensureConnection(
  db: Kysely<Database>,
  name: string,
  configHash: string | null = null,
  now = Date.now(),
): Promise<void> {
  await db
    .insertInto('connections')
    .values({ name, created_at: now, updated_at: now, config_hash: configHash })
    .onConflict((oc) => oc.column('name').doUpdateSet({ config_hash: configHash, updated_at: now }))
    .execute();
}

export async function listConnections(db: Kysely<Database>) {
  return db.selectFrom('connections').selectAll().orderBy('name').execute();
}
