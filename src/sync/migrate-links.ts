/**
 * Moves a connection's links from ShipStation V1 to V2 (or back) without re-creating any order
 * (`ml-connector shipstation migrate-links --connection c --to v2 [--dry-run]`).
 *
 * Nothing needs rewriting: a V1 `orderId` N is the V2 `shipment_id` `se-N`, a V1 `shipmentId` the
 * V2 `label_id` `se-N` and a fulfillment keeps its number (reference §10), and links keep the bare
 * number (the V2 implementation adds the prefix). The order bodies are mapped the same way on both
 * APIs, so the hashes in the links still say "unchanged". What the migration does:
 * 1. checks every open order link against the target API: the record must exist under the same
 *    number and carry our key (`orderKey` / `external_shipment_id`); missing or foreign ones are
 *    listed (they would be created again, or refused, by the next push);
 * 2. unless `dryRun`, records the API the links now belong to (checkpoint `shipstation.links-api`)
 *    and one audit row with the counts. `ping` compares that checkpoint with the configured
 *    `shipstation.api`.
 * It reads only (one GET per open order link, on the target API's budget).
 */
import type { Clock } from '../clock.js';
import type { ShipStation } from '../shipstation/api.js';
import { ShipStationError } from '../shipstation/errors.js';
import { appendAudit } from '../store/audit.js';
import { writeCheckpoint } from '../store/checkpoints.js';
import { listLinks } from '../store/links.js';
import type { Store } from '../store/open.js';
import { LINKS_API_CHECKPOINT, linksApi } from './links-api.js';
import { ORDER_ENTITY } from './orders.js';

export { LINKS_API_CHECKPOINT, linksApi } from './links-api.js';

export interface MigrateLinksReport {
  connection: string;
  from: 'v1' | 'v2';
  to: 'v1' | 'v2';
  dryRun: boolean;
  /** Open order links checked. */
  checked: number;
  /** Found on the target under the same number with our key. */
  ok: number;
  /** Not found on the target (the next push creates them again under their key). */
  missing: string[];
  /** Found, but with another key (not ours: never updated). */
  mismatched: Array<{ orderKey: string; id: string; foundKey: string }>;
  /** Links without a ShipStation id (never pushed successfully): nothing to carry over. */
  unlinked: number;
}

export async function migrateLinks(options: {
  store: Store;
  clock: Clock;
  connection: string;
  /** The target API's ShipStation (its `api` is the target). */
  target: Pick<ShipStation, 'api' | 'getOrder'>;
  dryRun?: boolean;
  onProgress?: (checked: number, total: number) => void;
  signal?: AbortSignal;
}): Promise<MigrateLinksReport> {
  const { store, clock, connection, target } = options;
  const from = await linksApi(store, connection);
  const links = await listLinks(store.db, connection, ORDER_ENTITY, 'open');
  const report: MigrateLinksReport = {
    connection,
    from,
    to: target.api,
    dryRun: options.dryRun === true,
    checked: 0,
    ok: 0,
    missing: [],
    mismatched: [],
    unlinked: 0,
  };
  for (const link of links) {
    options.signal?.throwIfAborted();
    const id = Number(link.shipstationId);
    if (!link.shipstationId || !Number.isInteger(id) || id <= 0) {
      report.unlinked++;
      continue;
    }
    report.checked++;
    const found = await target.getOrder(id, options.signal).catch((error: unknown) => {
      if (error instanceof ShipStationError && error.kind === 'not_found') return undefined;
      throw error;
    });
    if (!found) report.missing.push(link.sysproKey);
    else if (found.orderKey !== link.sysproKey) {
      report.mismatched.push({ orderKey: link.sysproKey, id: String(id), foundKey: found.orderKey });
    } else report.ok++;
    options.onProgress?.(report.checked, links.length);
  }
  if (!report.dryRun) {
    const now = clock.now();
    await writeCheckpoint(store.db, connection, LINKS_API_CHECKPOINT, target.api, now);
    await appendAudit(store.db, {
      connection,
      flow: 'orders',
      entityType: 'connection',
      entityKey: connection,
      action: 'migrate-links',
      outcome: report.missing.length + report.mismatched.length === 0 ? 'ok' : 'skipped',
      detail: {
        from,
        to: target.api,
        checked: report.checked,
        ok: report.ok,
        missing: report.missing.slice(0, 100),
        mismatched: report.mismatched.slice(0, 100),
        unlinked: report.unlinked,
      },
      at: now,
    });
  }
  return report;
}
