/**
 * Which ShipStation API a connection's links were made with (checkpoint `shipstation.links-api`):
 * `ml-connector shipstation migrate-links` moves it, `ping` compares it with `shipstation.api`.
 *
 * A connection whose first links are made on V2 (a new V2-only account) records `v2` when it makes
 * them (`recordFirstLinksApi`, called by the orders push), so `ping` does not take the missing
 * checkpoint for "made on V1". A connection with links and no checkpoint made them before the
 * checkpoint existed: on V1.
 */
import { readCheckpoint, writeCheckpoint } from '../store/checkpoints.js';
import type { Store } from '../store/open.js';

export const LINKS_API_CHECKPOINT = 'shipstation.links-api';

/** The API a connection's links were made with (`v1` until a migration or a first V2 link says otherwise). */
export async function linksApi(store: Store, connection: string): Promise<'v1' | 'v2'> {
  return (await readCheckpoint(store.db, connection, LINKS_API_CHECKPOINT)) === 'v2' ? 'v2' : 'v1';
}

/** Does the connection have any link of `entityType` (e.g. orders)? */
export async function hasLinks(store: Store, connection: string, entityType: string): Promise<boolean> {
  const row = await store.db
    .selectFrom('links')
    .select('syspro_key')
    .where('connection', '=', connection)
    .where('entity_type', '=', entityType)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Before a connection's first links of `entityType` are saved: records the API they are made on,
 * unless a checkpoint is there already or links exist (made before the checkpoint: V1).
 */
export async function recordFirstLinksApi(
  store: Store,
  connection: string,
  api: 'v1' | 'v2',
  entityType: string,
  now: number,
): Promise<void> {
  if ((await readCheckpoint(store.db, connection, LINKS_API_CHECKPOINT)) !== undefined) return;
  if (await hasLinks(store, connection, entityType)) return;
  await writeCheckpoint(store.db, connection, LINKS_API_CHECKPOINT, api, now);
}
