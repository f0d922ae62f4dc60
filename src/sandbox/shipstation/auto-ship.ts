/**
 * Auto-ship: the sandbox's stand-in for a warehouse that labels every order entering
 * `awaiting_shipment` once `delayMs` of clock time has passed (off by default). Labels go through
 * `state.createLabelBatch`, so they are V1 shipments and V2 labels at once and fire the same
 * webhooks as the `/_sandbox/` warehouse action.
 */
import type { ShipStationState, StateEvents } from './state.js';

const AUTO_SHIP_BATCH = 100;

export type AutoShipSetting = { delayMs: number } | false;

export class AutoShip {
  private queue: Array<{ orderId: number; dueAt: number }> = [];

  constructor(
    private readonly state: ShipStationState,
    private readonly now: () => number,
    private setting: AutoShipSetting = false,
  ) {}

  get(): AutoShipSetting {
    return this.setting;
  }

  set(value: AutoShipSetting): void {
    this.setting = value;
  }

  /** The state event that queues an order for auto-ship. */
  events(): StateEvents {
    return {
      awaitingShipment: (orderId) => {
        if (this.setting) this.queue.push({ orderId, dueAt: this.now() + this.setting.delayMs });
      },
    };
  }

  /** Labels the queued orders that are due now (in batches of 100); returns their orderIds. */
  async run(): Promise<number[]> {
    const t = this.now();
    const due = this.queue.filter((e) => e.dueAt <= t);
    this.queue = this.queue.filter((e) => e.dueAt > t);
    const ids = [...new Set(due.map((e) => e.orderId))].filter((id) => {
      const o = this.state.orders.get(id);
      return o?.active === true && o.status === 'awaiting_shipment';
    });
    const labelled: number[] = [];
    for (let i = 0; i < ids.length; i += AUTO_SHIP_BATCH) {
      const chunk = ids.slice(i, i + AUTO_SHIP_BATCH);
      try {
        this.state.createLabelBatch(chunk.map((orderId) => ({ orderId })));
        labelled.push(...chunk);
      } catch {
        for (const orderId of chunk) {
          try {
            this.state.createLabelBatch([{ orderId }]);
            labelled.push(orderId);
          } catch {
            // An order that cannot be labelled (e.g. no items) stays where it is.
          }
        }
      }
    }
    return labelled;
  }
}
