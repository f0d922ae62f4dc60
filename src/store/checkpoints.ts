/** Named checkpoints per connection (watermarks of polls, last seen ids). */
import type { Kysely } from 'kysely';
import type { Database } from './database.js';

export async function readCheckpoint(
  db: Kysely<Database>,
  connection: string,
  name: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('checkpoints')
    .select('value')
    .where('connection', '=', connection)
    .where('name', '=', name)
    .executeTakeFirst();
  return row?.value;
}

export async function writeCheckpoint(
  db: Kysely<Database>,
  connection: string,
  name: string,
  value: string,
  now = Date.now(),
): Promise<void> {
  await db
    .insertInto('checkpoints')
    .values({ connection, name, value, updated_at: now })
    .onConflict((oc) => oc.columns(['connection', 'name']).doUpdateSet({ value, updated_at: now }))
    .execute();
}
