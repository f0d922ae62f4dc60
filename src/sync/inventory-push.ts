/**
 * Inventory SYSPRO → ShipStation V2, optional (`inventory.enabled`, poll `polls.inventory`). Each
 * poll pages through `InvWarehouse` of the configured warehouses and, per stock code and warehouse,
 * computes the available quantity (`inventory.subtract`: `QtyOnHand` − `QtyAllocated` − … , never
 * below 0, whole units). It is pushed with V2 `POST /v2/inventory` `adjust` (an absolute level,
 * safe to repeat, so an in-doubt push is simply sent again) to the warehouse's inventory location
 * (`inventory.locations`) only when it differs from the level last pushed (link `inventory`,
 * `<warehouse>|<stock code>`, `last_hash` = the level), so an unchanged stock sends nothing.
 *
 * V2 takes one transaction per request (no batch in the reference), so a pass costs one request per
 * changed level, on V2's own budget (the V2 client's limiter). A SKU ShipStation does not know
 * (a 400/404 naming the SKU: the exact answer is UNCONFIRMED) is reported once (audit row, link
 * `inventory.unknown`) and not pushed again until its SYSPRO level changes; it is reported again
 * only if it is new.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ConnectionConfig } from '../config/schema.js';
import { PermanentError } from '../engine/errors.js';
import type { JobHandler } from '../engine/handler.js';
import { POLL_KINDS } from '../engine/scheduler.js';
import { ShipStationError } from '../shipstation/errors.js';
import type { ShipStationV2Client } from '../shipstation/v2/client.js';
import { appendAudit } from '../store/audit.js';
import { findLinks, saveLink } from '../store/links.js';
import type { Store } from '../store/open.js';
import { oneOf } from '../syspro/odata-filter.js';
import type { ODataReader } from '../syspro/odata-reader.js';

export const INVENTORY_POLL_KIND = POLL_KINDS.inventory;
export const INVENTORY_ENTITY = 'inventory';
export const INVENTORY_UNKNOWN_ENTITY = 'inventory.unknown';
const FLOW = 'inventory';

export interface InventoryConnection {
  connection: ConnectionConfig;
  odata: Pick<ODataReader, 'pages'>;
  shipstationV2?: Pick<ShipStationV2Client, 'modifyInventory'>;
}

export interface InventoryDeps {
  store: Store;
  clock: Clock;
  connectionFor(name: string): Promise<InventoryConnection>;
  logger?: Logger;
  /** Rows per OData page (default: the connection's). */
  pageSize?: number;
}

export interface InventoryRow {
  StockCode: string;
  Warehouse: string;
  QtyOnHand?: number | null;
  [column: string]: unknown;
}

export interface InventorySummary {
  read: number;
  pushed: number;
  unchanged: number;
  unknown: number;
  v2Requests: number;
}

/** Available = on hand − each `subtract` column, floored to whole units, never below 0 (pure). */
export function availableOf(row: InventoryRow, subtract: readonly string[]): number {
  let qty = Number(row.QtyOnHand ?? 0);
  for (const column of subtract) qty -= Number(row[column] ?? 0);
  return Number.isFinite(qty) ? Math.max(0, Math.floor(qty)) : 0;
}

export function inventoryKey(warehouse: string, stockCode: string): string {
  return `${warehouse.trim()}|${stockCode.trim()}`;
}

/** A V2 refusal that says ShipStation does not know the SKU (UNCONFIRMED wording: 400/404 naming it). */
export function isUnknownSku(error: unknown, sku: string): boolean {
  if (!(error instanceof ShipStationError)) return false;
  if (error.status !== 400 && error.status !== 404) return false;
  const texts = [error.providerMessage ?? '', ...(error.providerErrors ?? []).map((e) => e.message ?? '')];
  return texts.some((t) => t.includes(sku) || /\bsku\b/i.test(t));
}

function warehousesOf(connection: ConnectionConfig): string[] {
  const { warehouses, locations } = connection.inventory;
  return warehouses.length > 0 ? warehouses : Object.keys(locations);
}

export async function pushInventory(
  deps: InventoryDeps,
  connectionName: string,
  signal?: AbortSignal,
): Promise<InventorySummary> {
  const { store, clock } = deps;
  const { connection, odata, shipstationV2 } = await deps.connectionFor(connectionName);
  const summary: InventorySummary = { read: 0, pushed: 0, unchanged: 0, unknown: 0, v2Requests: 0 };
  const inv = connection.inventory;
  if (!inv.enabled) return summary;
  if (!shipstationV2) {
    throw new PermanentError(
      `connection ${connectionName}: inventory is on but shipstation.v2ApiKey is not configured (V2 inventory needs it)`,
    );
  }
  const warehouses = warehousesOf(connection);
  if (warehouses.length === 0) return summary;
  const select = ['StockCode', 'Warehouse', 'QtyOnHand', ...inv.subtract.filter((c) => c !== 'QtyOnHand')];
  for await (const page of odata.pages<InventoryRow>('InvWarehouse', {
    select: [...new Set(select)],
    filter: oneOf('Warehouse', warehouses),
    orderBy: ['Warehouse', 'StockCode'],
    pageSize: deps.pageSize,
    signal,
  })) {
    signal?.throwIfAborted();
    summary.read += page.length;
    const rows = page
      .map((row) => ({ row, key: inventoryKey(String(row.Warehouse), String(row.StockCode)) }))
      .filter(({ row }) => inv.locations[String(row.Warehouse).trim()] !== undefined);
    const keys = rows.map((r) => r.key);
    const pushed = await findLinks(store.db, connectionName, INVENTORY_ENTITY, keys);
    const unknown = await findLinks(store.db, connectionName, INVENTORY_UNKNOWN_ENTITY, keys);
    for (const { row, key } of rows) {
      const level = String(availableOf(row, inv.subtract));
      if (pushed.get(key)?.lastHash === level || unknown.get(key)?.lastHash === level) {
        summary.unchanged++;
        continue;
      }
      const sku = String(row.StockCode).trim();
      const location = inv.locations[String(row.Warehouse).trim()] as string;
      summary.v2Requests++;
      try {
        await shipstationV2.modifyInventory(
          {
            transaction_type: 'adjust',
            sku,
            quantity: Number(level),
            inventory_location_id: location,
            reason: 'SYSPRO available quantity',
          } as Parameters<ShipStationV2Client['modifyInventory']>[0],
          signal,
        );
      } catch (error) {
        if (!isUnknownSku(error, sku)) throw error;
        summary.unknown++;
        const known = unknown.has(key);
        await saveLink(
          store.db,
          {
            connection: connectionName,
            entityType: INVENTORY_UNKNOWN_ENTITY,
            sysproKey: key,
            lastHash: level,
            state: 'unknown',
          },
          clock.now(),
        );
        if (!known) {
          await appendAudit(store.db, {
            connection: connectionName,
            flow: FLOW,
            entityType: INVENTORY_ENTITY,
            entityKey: key,
            action: 'push',
            outcome: 'error',
            detail: { sku, warehouse: row.Warehouse, location, available: Number(level) },
            error: `ShipStation does not know SKU ${sku} (stock code in SYSPRO warehouse ${String(row.Warehouse).trim()}): ${(error as Error).message}. Add the product in ShipStation; its level is pushed when it next changes`,
            at: clock.now(),
          });
        }
        continue;
      }
      summary.pushed++;
      await saveLink(
        store.db,
        {
          connection: connectionName,
          entityType: INVENTORY_ENTITY,
          sysproKey: key,
          shipstationId: location,
          lastHash: level,
          state: 'pushed',
        },
        clock.now(),
      );
    }
  }
  deps.logger?.info({ connection: connectionName, flow: FLOW, ...summary }, 'inventory push done');
  if (summary.pushed > 0 || summary.unknown > 0) {
    await appendAudit(store.db, {
      connection: connectionName,
      flow: FLOW,
      entityType: INVENTORY_ENTITY,
      entityKey: '*',
      action: 'pass',
      outcome: 'info',
      detail: summary,
      at: clock.now(),
    });
  }
  return summary;
}

export function inventoryHandlers(deps: InventoryDeps): JobHandler[] {
  return [
    {
      kind: INVENTORY_POLL_KIND,
      batchSize: 1,
      // `adjust` is an absolute level: a push in doubt is sent again by the next pass.
      checksInDoubt: true,
      async run(jobs, context) {
        const job = jobs[0] as { connection: string };
        return [{ ok: true, result: await pushInventory(deps, job.connection, context.signal) }];
      },
    },
  ];
}
