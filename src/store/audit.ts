/** The append-only audit trail: one row per record moved, skipped or failed. Never updated or deleted. */
import type { Kysely } from 'kysely';
import type { AuditTable, Database } from './database.js';

export interface AuditEntry {
  connection: string;
  flow: string;
  entityType: string;
  entityKey: string;
  action: string;
  outcome: AuditTable['outcome'];
  jobId?: number | null;
  /** Summaries of what was sent and received. Must not contain secrets. */
  detail?: unknown;
  error?: string | null;
  at?: number;
}

export async function appendAudit(db: Kysely<Database>, entry: AuditEntry): Promise<number> {
  const row = await db
    .insertInto('audit')
    .values({
      at: entry.at ?? Date.now(),
      connection: entry.connection,
      flow: entry.flow,
      entity_type: entry.entityType,
      entity_key: entry.entityKey,
      action: entry.action,
      outcome: entry.outcome,
      job_id: entry.jobId ?? null,
      detail: entry.detail === undefined ? null : JSON.stringify(entry.detail),
      error: entry.error ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export interface AuditFilter {
  connection?: string;
  entityType?: string;
  entityKey?: string;
  flow?: string;
  outcome?: AuditTable['outcome'];
  since?: number;
  limit?: number;
}

export async function listAudit(db: Kysely<Database>, filter: AuditFilter = {}) {
  let query = db.selectFrom('audit').selectAll();
  if (filter.connection) query = query.where('connection', '=', filter.connection);
  if (filter.entityType) query = query.where('entity_type', '=', filter.entityType);
  if (filter.entityKey) query = query.where('entity_key', '=', filter.entityKey);
  if (filter.flow) query = query.where('flow', '=', filter.flow);
  if (filter.outcome) query = query.where('outcome', '=', filter.outcome);
  if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
  return query
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 100)
    .execute();
}
