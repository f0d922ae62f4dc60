/**
 * 0006: `links.state` says where a pushed record stands as far as the connector knows: `open` (in
 * ShipStation's queue and followed by the polls), `closed` (cancelled, shipped, complete, or refused
 * as locked by ShipStation: no longer pushed), or `invalid` (the last version could not be mapped; its
 * problems are in the audit trail and `last_hash` is the hash of those problems, so an unchanged bad
 * order is reported once, not on every poll).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('links').addColumn('state', 'text').execute();
}
