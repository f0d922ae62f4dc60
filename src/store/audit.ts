/**
 * The append-only audit trail: one row per record moved, skipped or failed. Never updated or deleted.
 *
 * `detail` and `error` go through the logger's redaction (src/logger.ts), the one list of what
 * counts as a secret: `detail` through `redactDeep` (secret-named keys at any depth, credentials in
 * URL-named fields), a plain-string `detail` and `error` through `redactCredentials` (`user:pass@`,
 * secret query parameters, Basic/Bearer tokens). A caller that puts a secret under an innocent key
 * name, or in free text that is not URL- or header-shaped, is not caught: summaries only.
 */
import type { Kysely } from 'kysely';
import { redactCredentials, redactDeep } from '../logger.js';
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
      detail: entry.detail === undefined ? null : JSON.stringify(redactDetail(entry.detail)),
      error: entry.error == null ? null : redactCredentials(entry.error),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

function redactDetail(detail: unknown): unknown {
  return typeof detail === 'string' ? redactCredentials(detail) : redactDeep(detail);
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

/**
 * The `detail` of the newest audit row of each of `entityKeys` (of one connection and entity type,
 * with `outcome`), in one query: what `listAudit({ entityKey, outcome, limit: 1 })` gives for one
 * key, for a batch of them. Keys with no such row are absent from the map.
 */
export async function latestAuditDetails(
  db: Kysely<Database>,
  filter: { connection: string; entityType: string; outcome: AuditTable['outcome'] },
  entityKeys: readonly string[],
): Promise<Map<string, string | null>> {
  const found = new Map<string, string | null>();
  const keys = [...new Set(entityKeys)];
  // Chunks keep the statement's parameters well under SQLite's and PostgreSQL's limits.
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const rows = await db
      .selectFrom('audit')
      .select(['entity_key', 'detail'])
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('audit')
          .select((s) => s.fn.max('id').as('id'))
          .where('connection', '=', filter.connection)
          .where('entity_type', '=', filter.entityType)
          .where('entity_key', 'in', chunk)
          .where('outcome', '=', filter.outcome)
          .groupBy('entity_key'),
      )
      .execute();
    for (const row of rows) found.set(row.entity_key, row.detail);
  }
  return found;
}
