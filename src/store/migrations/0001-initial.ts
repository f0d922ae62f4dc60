/**
 * 0001: the tables the design names. Migrations are numbered and append-only: never edit one that
 * has shipped; add the next number instead.
 */
import { type Kysely, sql } from 'kysely';
import type { MigrationContext } from './index.js';

export async function up(db: Kysely<unknown>, { dialect }: MigrationContext): Promise<void> {
  const time = dialect === 'postgres' ? 'bigint' : 'integer';
  const id = dialect === 'postgres' ? 'bigserial' : 'integer';

  await db.schema
    .createTable('connections')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addColumn('config_hash', 'text')
    .execute();

  await db.schema
    .createTable('secrets')
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('secrets_pk', ['connection', 'name'])
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('run_at', time, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('idempotency_key', 'text')
    .addColumn('group_key', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', time)
    .addColumn('last_heartbeat_at', time)
    .addColumn('last_error', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addColumn('finished_at', time)
    .execute();
  // Claim order: the due queued jobs of one kind and connection.
  await db.schema
    .createIndex('jobs_claim')
    .on('jobs')
    .columns(['state', 'kind', 'connection', 'run_at'])
    .execute();
  // One active job per idempotency key (singletons, dedupe); finished jobs keep their key for history.
  await sql`CREATE UNIQUE INDEX jobs_active_key ON jobs (idempotency_key) WHERE state IN ('queued', 'running')`.execute(
    db,
  );

  await db.schema
    .createTable('audit')
    .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('at', time, (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('flow', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('entity_key', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('job_id', dialect === 'postgres' ? 'bigint' : 'integer')
    .addColumn('detail', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema
    .createIndex('audit_entity')
    .on('audit')
    .columns(['connection', 'entity_type', 'entity_key'])
    .execute();
  await db.schema.createIndex('audit_at').on('audit').columns(['at']).execute();

  await db.schema
    .createTable('links')
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('syspro_key', 'text', (c) => c.notNull())
    .addColumn('shipstation_id', 'text')
    .addColumn('last_hash', 'text')
    .addColumn('last_pushed_at', time)
    .addColumn('updated_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('links_pk', ['connection', 'entity_type', 'syspro_key'])
    .execute();
  await db.schema
    .createIndex('links_shipstation')
    .on('links')
    .columns(['connection', 'entity_type', 'shipstation_id'])
    .execute();

  await db.schema
    .createTable('checkpoints')
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('checkpoints_pk', ['connection', 'name'])
    .execute();
}
