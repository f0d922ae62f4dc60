/**
 * The V2 inventory subset (reference §5): stock levels per SKU and location, inventory warehouses
 * and locations. IDs look like `se-123`, dates are ISO-8601 UTC, lists carry `total, page, pages,
 * links`, errors are the V2 body.
 *
 * Transaction types (their meaning is not spelled out in the reference; our reading of the V2
 * docs): `increment` adds `quantity`, `decrement` removes it (refused below zero), `adjust` sets
 * on-hand to `quantity`, `modify` changes attributes (location, cost, condition) of `quantity`
 * units without changing the total, so it needs `new_inventory_location_id`, `new_cost` or
 * `new_condition`.
 */
import type { FastifyInstance } from 'fastify';
import { readV2JsonBody } from './context.js';
import { v2Error } from './errors.js';
import { v2Paged } from './v2-common.js';

export interface InventoryWarehouse {
  inventory_warehouse_id: string;
  name: string;
  created_at: string;
  updated_at: string;
}

export interface InventoryLocation {
  inventory_location_id: string;
  name: string;
  inventory_warehouse_id: string;
  created_at: string;
  updated_at: string;
}

interface StockLine {
  sku: string;
  locationId: string;
  condition: string;
  onHand: number;
  allocated: number;
  costAmount: number;
  currency: string;
}

const TRANSACTION_TYPES = ['increment', 'decrement', 'adjust', 'modify'] as const;
const CONDITIONS = ['sellable', 'damaged', 'expired', 'qa_hold'] as const;

export class InventoryState {
  readonly warehouses = new Map<string, InventoryWarehouse>();
  readonly locations = new Map<string, InventoryLocation>();
  readonly stock = new Map<string, StockLine>();
  /**
   * The account's product SKUs, when restricted: a transaction for a SKU outside it is refused
   * (400 `invalid_identifier`). Null (default) = any SKU is taken. What ShipStation answers for an
   * unknown SKU is UNCONFIRMED; this is the sandbox's choice (docs/decisions.md).
   */
  knownSkus: Set<string> | null = null;
  private nextId = 1001;

  constructor(private readonly now: () => number) {}

  private id(): string {
    return `se-${this.nextId++}`;
  }

  iso(): string {
    return new Date(this.now()).toISOString();
  }

  addWarehouse(name: string): InventoryWarehouse {
    const at = this.iso();
    const w = { inventory_warehouse_id: this.id(), name, created_at: at, updated_at: at };
    this.warehouses.set(w.inventory_warehouse_id, w);
    return w;
  }

  addLocation(name: string, warehouseId: string): InventoryLocation {
    const at = this.iso();
    const l = {
      inventory_location_id: this.id(),
      name,
      inventory_warehouse_id: warehouseId,
      created_at: at,
      updated_at: at,
    };
    this.locations.set(l.inventory_location_id, l);
    return l;
  }

  private line(sku: string, locationId: string, condition: string): StockLine {
    const key = `${sku}\u0000${locationId}\u0000${condition}`;
    let line = this.stock.get(key);
    if (!line) {
      line = { sku, locationId, condition, onHand: 0, allocated: 0, costAmount: 0, currency: 'USD' };
      this.stock.set(key, line);
    }
    return line;
  }

  /** Applies one `POST /v2/inventory` transaction; throws a V2 error when it is refused. */
  apply(body: Record<string, unknown>): void {
    const type = body.transaction_type;
    const sku = body.sku;
    const quantity = body.quantity;
    const locationId = body.inventory_location_id;
    for (const [field, value] of [
      ['transaction_type', type],
      ['sku', sku],
      ['quantity', quantity],
      ['inventory_location_id', locationId],
    ] as const) {
      if (value === undefined || value === null || value === '') {
        throw v2Error(400, 'validation', 'field_value_required', `${field} is required.`, field);
      }
    }
    if (typeof type !== 'string' || !(TRANSACTION_TYPES as readonly string[]).includes(type)) {
      throw v2Error(
        400,
        'validation',
        'invalid_field_value',
        `transaction_type must be one of ${TRANSACTION_TYPES.join(', ')}.`,
        'transaction_type',
      );
    }
    if (typeof sku !== 'string')
      throw v2Error(400, 'validation', 'invalid_field_value', 'sku must be a string.', 'sku');
    if (this.knownSkus && !this.knownSkus.has(sku))
      throw v2Error(400, 'validation', 'invalid_identifier', `sku '${sku}' was not found.`, 'sku');
    if (
      typeof quantity !== 'number' ||
      !Number.isInteger(quantity) ||
      quantity < 0 ||
      (type !== 'adjust' && quantity < 1)
    ) {
      throw v2Error(
        400,
        'validation',
        'invalid_field_value',
        `quantity must be a whole number ${type === 'adjust' ? '>= 0' : '>= 1'}.`,
        'quantity',
      );
    }
    if (typeof locationId !== 'string' || !this.locations.has(locationId)) {
      throw v2Error(
        400,
        'validation',
        'invalid_identifier',
        `inventory_location_id '${String(locationId)}' was not found.`,
        'inventory_location_id',
      );
    }
    const condition = body.condition ?? 'sellable';
    if (typeof condition !== 'string' || !(CONDITIONS as readonly string[]).includes(condition)) {
      throw v2Error(
        400,
        'validation',
        'invalid_field_value',
        `condition must be one of ${CONDITIONS.join(', ')}.`,
        'condition',
      );
    }
    const cost = body.cost as { amount?: unknown; currency?: unknown } | undefined;
    const line = this.line(sku, locationId, condition);
    const setCost = (c: { amount?: unknown; currency?: unknown } | undefined, target: StockLine) => {
      if (c && typeof c.amount === 'number') target.costAmount = c.amount;
      if (c && typeof c.currency === 'string') target.currency = c.currency;
    };
    switch (type) {
      case 'increment':
        line.onHand += quantity;
        setCost(cost, line);
        return;
      case 'decrement':
        if (line.onHand - quantity < 0) {
          throw v2Error(
            400,
            'business_rules',
            'invalid_field_value',
            `Cannot decrement ${sku} at ${locationId} by ${quantity}: only ${line.onHand} on hand.`,
            'quantity',
          );
        }
        line.onHand -= quantity;
        return;
      case 'adjust':
        line.onHand = quantity;
        setCost(cost, line);
        return;
      case 'modify': {
        const newLocation = body.new_inventory_location_id;
        const newCondition = body.new_condition;
        const newCost = body.new_cost as { amount?: unknown; currency?: unknown } | undefined;
        if (newLocation === undefined && newCondition === undefined && newCost === undefined) {
          throw v2Error(
            400,
            'validation',
            'field_value_required',
            'modify needs new_inventory_location_id, new_cost or new_condition (to set a quantity use adjust).',
          );
        }
        if (
          newLocation !== undefined &&
          (typeof newLocation !== 'string' || !this.locations.has(newLocation))
        ) {
          throw v2Error(
            400,
            'validation',
            'invalid_identifier',
            `new_inventory_location_id '${String(newLocation)}' was not found.`,
            'new_inventory_location_id',
          );
        }
        if (
          newCondition !== undefined &&
          (typeof newCondition !== 'string' || !(CONDITIONS as readonly string[]).includes(newCondition))
        ) {
          throw v2Error(
            400,
            'validation',
            'invalid_field_value',
            `new_condition must be one of ${CONDITIONS.join(', ')}.`,
            'new_condition',
          );
        }
        if (quantity > line.onHand) {
          throw v2Error(
            400,
            'business_rules',
            'invalid_field_value',
            `Cannot modify ${quantity} of ${sku}: only ${line.onHand} on hand.`,
            'quantity',
          );
        }
        line.onHand -= quantity;
        const target = this.line(
          sku,
          (newLocation as string | undefined) ?? locationId,
          (newCondition as string | undefined) ?? condition,
        );
        target.onHand += quantity;
        target.costAmount = line.costAmount;
        setCost(newCost, target);
        return;
      }
    }
  }

  /** Stock rows for `GET /v2/inventory`, grouped per location (default) or per warehouse. */
  levels(filter: {
    sku?: string;
    warehouseId?: string;
    locationId?: string;
    groupBy?: 'warehouse' | 'location';
  }) {
    const rows = new Map<
      string,
      {
        sku: string;
        on_hand: number;
        allocated: number;
        available: number;
        average_cost: { amount: number; currency: string };
        inventory_warehouse_id: string;
        inventory_location_id: string | null;
      }
    >();
    for (const line of this.stock.values()) {
      if (line.condition !== 'sellable' && line.onHand === 0) continue;
      const location = this.locations.get(line.locationId);
      if (!location) continue;
      if (filter.sku !== undefined && line.sku !== filter.sku) continue;
      if (filter.warehouseId !== undefined && location.inventory_warehouse_id !== filter.warehouseId)
        continue;
      if (filter.locationId !== undefined && line.locationId !== filter.locationId) continue;
      const byWarehouse = filter.groupBy === 'warehouse';
      const key = `${line.sku}\u0000${byWarehouse ? location.inventory_warehouse_id : line.locationId}`;
      const row = rows.get(key) ?? {
        sku: line.sku,
        on_hand: 0,
        allocated: 0,
        available: 0,
        average_cost: { amount: 0, currency: line.currency },
        inventory_warehouse_id: location.inventory_warehouse_id,
        inventory_location_id: byWarehouse ? null : line.locationId,
      };
      const total = row.on_hand + line.onHand;
      row.average_cost.amount =
        total > 0
          ? Math.round(
              ((row.average_cost.amount * row.on_hand + line.costAmount * line.onHand) / total) * 100,
            ) / 100
          : line.costAmount;
      row.on_hand = total;
      row.allocated += line.allocated;
      row.available = row.on_hand - row.allocated;
      rows.set(key, row);
    }
    return [...rows.values()].sort(
      (a, b) =>
        a.sku.localeCompare(b.sku) || a.inventory_warehouse_id.localeCompare(b.inventory_warehouse_id),
    );
  }
}

export function registerV2InventoryRoutes(
  app: FastifyInstance,
  inventory: InventoryState,
  baseUrl: () => string,
): void {
  app.get('/v2/inventory', async (request) => {
    const q = request.query as Record<string, string>;
    const groupBy = q.group_by;
    if (groupBy !== undefined && groupBy !== 'warehouse' && groupBy !== 'location') {
      throw v2Error(
        400,
        'validation',
        'invalid_field_value',
        'group_by must be warehouse or location.',
        'group_by',
      );
    }
    const rows = inventory.levels({
      sku: q.sku,
      warehouseId: q.inventory_warehouse_id,
      locationId: q.inventory_location_id,
      groupBy,
    });
    const paged = v2Paged(request, rows, baseUrl());
    return {
      inventory: paged.items,
      total: paged.total,
      page: paged.page,
      pages: paged.pages,
      links: paged.links,
    };
  });

  app.post('/v2/inventory', async (request, reply) => {
    inventory.apply(readV2JsonBody(request));
    return reply.code(204).send();
  });

  app.get('/v2/inventory_warehouses', async (request) => {
    const paged = v2Paged(request, [...inventory.warehouses.values()], baseUrl());
    return {
      inventory_warehouses: paged.items,
      total: paged.total,
      page: paged.page,
      pages: paged.pages,
      links: paged.links,
    };
  });

  app.post('/v2/inventory_warehouses', async (request) => {
    const body = readV2JsonBody(request);
    if (typeof body.name !== 'string' || body.name === '') {
      throw v2Error(400, 'validation', 'field_value_required', 'name is required.', 'name');
    }
    return inventory.addWarehouse(body.name);
  });

  const warehouse = (id: string) => {
    const w = inventory.warehouses.get(id);
    if (!w)
      throw v2Error(404, 'validation', 'invalid_identifier', `Inventory warehouse '${id}' was not found.`);
    return w;
  };
  app.get<{ Params: { id: string } }>('/v2/inventory_warehouses/:id', async (request) =>
    warehouse(request.params.id),
  );
  app.put<{ Params: { id: string } }>('/v2/inventory_warehouses/:id', async (request, reply) => {
    const w = warehouse(request.params.id);
    const body = readV2JsonBody(request);
    if (typeof body.name !== 'string' || body.name === '') {
      throw v2Error(400, 'validation', 'field_value_required', 'name is required.', 'name');
    }
    w.name = body.name;
    w.updated_at = inventory.iso();
    return reply.code(204).send();
  });
  app.delete<{ Params: { id: string } }>('/v2/inventory_warehouses/:id', async (request, reply) => {
    const w = warehouse(request.params.id);
    if (
      [...inventory.locations.values()].some((l) => l.inventory_warehouse_id === w.inventory_warehouse_id)
    ) {
      throw v2Error(
        400,
        'business_rules',
        'invalid_field_value',
        `Inventory warehouse '${w.inventory_warehouse_id}' still has locations.`,
      );
    }
    inventory.warehouses.delete(w.inventory_warehouse_id);
    return reply.code(204).send();
  });

  app.get('/v2/inventory_locations', async (request) => {
    const paged = v2Paged(request, [...inventory.locations.values()], baseUrl());
    return {
      inventory_locations: paged.items,
      total: paged.total,
      page: paged.page,
      pages: paged.pages,
      links: paged.links,
    };
  });

  app.post('/v2/inventory_locations', async (request) => {
    const body = readV2JsonBody(request);
    if (typeof body.name !== 'string' || body.name === '') {
      throw v2Error(400, 'validation', 'field_value_required', 'name is required.', 'name');
    }
    const warehouseId = body.inventory_warehouse_id;
    if (typeof warehouseId !== 'string' || !inventory.warehouses.has(warehouseId)) {
      throw v2Error(
        400,
        'validation',
        'invalid_identifier',
        `inventory_warehouse_id '${String(warehouseId)}' was not found.`,
        'inventory_warehouse_id',
      );
    }
    return inventory.addLocation(body.name, warehouseId);
  });

  const location = (id: string) => {
    const l = inventory.locations.get(id);
    if (!l)
      throw v2Error(404, 'validation', 'invalid_identifier', `Inventory location '${id}' was not found.`);
    return l;
  };
  app.get<{ Params: { id: string } }>('/v2/inventory_locations/:id', async (request) =>
    location(request.params.id),
  );
  app.put<{ Params: { id: string } }>('/v2/inventory_locations/:id', async (request, reply) => {
    const l = location(request.params.id);
    const body = readV2JsonBody(request);
    if (typeof body.name !== 'string' || body.name === '') {
      throw v2Error(400, 'validation', 'field_value_required', 'name is required.', 'name');
    }
    l.name = body.name;
    l.updated_at = inventory.iso();
    return reply.code(204).send();
  });
  app.delete<{ Params: { id: string } }>('/v2/inventory_locations/:id', async (request, reply) => {
    const l = location(request.params.id);
    if ([...inventory.stock.values()].some((s) => s.locationId === l.inventory_location_id && s.onHand > 0)) {
      throw v2Error(
        400,
        'business_rules',
        'invalid_field_value',
        `Inventory location '${l.inventory_location_id}' still holds stock.`,
      );
    }
    inventory.locations.delete(l.inventory_location_id);
    return reply.code(204).send();
  });
}
