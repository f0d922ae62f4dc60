/**
 * 0008: `webhook_inbox`, where the webhook receiver writes an accepted event before it answers 200
 * (`store/webhook-inbox.ts`). A lean table, so the receiver's commit is cheap: a row id (SQLite's
 * rowid, no AUTOINCREMENT; PostgreSQL's bigserial) and no secondary index. The `run` process moves
 * its rows into `jobs` in batches (the usual idempotency-key rules) and deletes them in the same
 * transaction, so an event is in exactly one of the two tables at any commit. Both dialects.
 */
import { type Kysely, sql } from 'kysely';
import type { MigrationContext } from './index.js';

export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  if (dialect === 'postgres') {
    await sql`CREATE TABLE webhook_inbox (
      id bigserial PRIMARY KEY,
      kind text NOT NULL,
      connection text NOT NULL,
      idempotency_key text NOT NULL,
      payload text NOT NULL,
      received_at bigint NOT NULL)`.execute(db);
    return;
  }
  // INTEGER PRIMARY KEY is the rowid: the rows are the table's one b-tree. Ids may be reused once
  // the table is empty; nothing keeps them (the jobs get their own).
  await sql`CREATE TABLE webhook_inbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    connection TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at INTEGER NOT NULL)`.execute(db);
}
