/**
 * Heartbeat: push the lease of the jobs `owner` still holds to `now + leaseMs`. Returns the ids
 * still held; a job missing from the result was lost (its lease expired and another process may run
 * it), so its handler should stop.
 */
import type { Store } from '../open.js';

export async function extendLeases(
  store: Store,
  owner: string,
  ids: number[],
  leaseMs: number,
  now: number,
): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await store.db
    .updateTable('jobs')
    .set({ lease_expires_at: now + leaseMs, last_heartbeat_at: now, updated_at: now })
    .where('id', 'in', ids)
    .where('state', '=', 'running')
    .where('lease_owner', '=', owner)
    .returning('id')
    .execute();
  return rows.map((r) => Number(r.id));
}
