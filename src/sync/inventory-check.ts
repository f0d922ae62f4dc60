/**
 * Checks for a V2 inventory `increment` that is in doubt (answered 5xx, timed out): `increment` is
 * relative, so the only way to tell whether it was applied is the level it left. The writer reads
 * the on-hand level before it sends (`readOnHand`) and leaves it as the in-doubt evidence
 * (`InDoubtError`); the next attempt compares (`checkIncrement`).
 *
 * This holds only while nothing else moves that level between the two reads (another app, a label
 * that allocates stock does not change on_hand). A level that is neither "before" nor "before +
 * quantity" is `unknown`: the operator decides. Flows that push SYSPRO levels should use `adjust`,
 * which is safe to repeat and needs no check (docs/decisions.md).
 */
import type { InDoubtCheck } from '../engine/handler.js';
import type { ShipStationV2Client } from '../shipstation/v2/client.js';

export interface StockLineRef {
  sku: string;
  inventoryLocationId: string;
}

/** The on-hand quantity of a SKU at a location (0 when ShipStation has no level for it yet). */
export async function readOnHand(
  client: Pick<ShipStationV2Client, 'listInventory'>,
  ref: StockLineRef,
  signal?: AbortSignal,
): Promise<number> {
  let onHand = 0;
  for await (const page of client.listInventory(
    { sku: ref.sku, inventory_location_id: ref.inventoryLocationId },
    signal,
  )) {
    for (const level of page.items) {
      if (level.sku === ref.sku && level.inventory_location_id === ref.inventoryLocationId)
        onHand += level.on_hand;
    }
  }
  return onHand;
}

/** Evidence an increment leaves for its check: the level read just before sending. */
export interface IncrementEvidence {
  onHandBefore: number;
}

export function isIncrementEvidence(value: unknown): value is IncrementEvidence {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { onHandBefore?: unknown }).onHandBefore === 'number'
  );
}

/** Did `increment quantity` of `ref` take effect, given the level read before it was sent? */
export async function checkIncrement(
  client: Pick<ShipStationV2Client, 'listInventory'>,
  ref: StockLineRef & { quantity: number },
  evidence: IncrementEvidence,
  signal?: AbortSignal,
): Promise<InDoubtCheck<{ onHand: number }>> {
  const onHand = await readOnHand(client, ref, signal);
  if (onHand === evidence.onHandBefore + ref.quantity) return { state: 'done', value: { onHand } };
  if (onHand === evidence.onHandBefore) return { state: 'absent' };
  return {
    state: 'unknown',
    reason: `ShipStation on-hand of ${ref.sku} at location ${ref.inventoryLocationId} is ${onHand}, neither ${evidence.onHandBefore} (before the increment of ${ref.quantity}) nor ${evidence.onHandBefore + ref.quantity} (after it): something else changed it`,
  };
}
