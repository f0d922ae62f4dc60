/**
 * 0007: `dismissals`, the operator's "I have seen this problem, stop showing it" kept as history:
 * who dismissed what, when and why. A dismissed job is set `cancelled` (so it stops retrying and
 * leaves the Problems page); an invalid record (an order that cannot be mapped) is hidden while
 * its problems stay what they were when dismissed (`link_hash`), and shows again when they change.
 * Rows are never updated or deleted. Both dialects.
 */
import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const time = dialect === 'postgres' ? 'bigint' : 'integer';
  const id = dialect === 'postgres' ? 'bigserial' : 'integer';
  await db.schema
    .createTable('dismissals')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('at', time, (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('job_id', dialect === 'postgres' ? 'bigint' : 'integer')
    .addColumn('entity_type', 'text')
    .addColumn('entity_key', 'text')
    .addColumn('link_hash', 'text')
    .addColumn('who', 'text', (c) => c.notNull())
    .addColumn('why', 'text', (c) => c.notNull())
    /** The problem as it read when dismissed (the job's last error, the record's problems). */
    .addColumn('problem', 'text')
    .execute();
  await db.schema.createIndex('dismissals_job').on('dismissals').columns(['job_id']).execute();
  await db.schema
    .createIndex('dismissals_entity')
    .on('dismissals')
    .columns(['connection', 'entity_type', 'entity_key'])
    .execute();
}
