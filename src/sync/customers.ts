/**
 * Customer changes SYSPRO → ShipStation (`customers.poll`, a singleton per connection, every
 * `polls.customers`): when a customer's e-mail, telephone, name or sold-to (bill-to) address
 * changes in `ArCustomer`, that customer's open orders are synced again.
 *
 * SYSPRO has no "last modified" column on ArCustomer either, so each poll reads every customer,
 * page by page, with only the columns the order mapping uses (`AR_CUSTOMER_COLUMNS`), hashes each
 * row and compares the hash with the customer's link (entity type `customer`, keyed by the
 * customer code). A customer seen for the first time only has its hash recorded: its orders went
 * (or go) out with the orders poll, which reads the customer too. For each changed customer the
 * poll reads its orders in the configured statuses (`SorMaster` by `Customer`, as few requests as
 * the URL limit allows), leaves out those whose link is closed (shipped or cancelled in
 * ShipStation, never overwritten), and queues the rest with `queueOrderSyncs`: one-order syncs that
 * read each order again, coalesced with the orders poll's jobs for the same order, and sent only if
 * the mapped order changed. One audit row per changed customer names the orders queued.
 *
 * A page's hashes are saved after its orders are queued, so a poll that stops half way (a crash,
 * SYSPRO down) finds the same customers changed on its next run: nothing is lost, and a second
 * queueing is coalesced or found unchanged. Memory stays bounded by a page.
 *
 * The orders poll notices customer changes too (the customer is part of each order's hash); this
 * poll makes it faster where orders polls are rare and is what a site turns on for customer edits.
 */
import { createHash } from 'node:crypto';
import type { JobHandler } from '../engine/handler.js';
import { POLL_KINDS } from '../engine/scheduler.js';
import { appendAudit } from '../store/audit.js';
import type { Job } from '../store/jobs/job.js';
import { findLinks, saveLink } from '../store/links.js';
import { oneOf } from '../syspro/odata-filter.js';
import { ORDER_ENTITY, type OrdersFlowDeps, queueOrderSyncs } from './orders.js';
import {
  AR_CUSTOMER_COLUMNS,
  type ArCustomerRow,
  canonicalJson,
  orderKeyFor,
  type SorMasterRow,
} from './orders-mapper.js';

export const CUSTOMERS_POLL_KIND = POLL_KINDS.customers;
export const CUSTOMER_ENTITY = 'customer';
const FLOW = 'customers';

export interface CustomersPollSummary {
  /** Customers read from ArCustomer. */
  read: number;
  /** Seen for the first time: hash recorded, nothing queued. */
  recorded: number;
  unchanged: number;
  changed: number;
  /** Order syncs queued for changed customers (new jobs). */
  queued: number;
  /** Order syncs that joined a job already queued for the same order. */
  coalesced: number;
  odataRequests: number;
}

/** The customer code as links and audit rows key it (SYSPRO pads its keys). */
export function customerKey(row: Pick<ArCustomerRow, 'Customer'>): string {
  return String(row.Customer).trim();
}

/**
 * sha256 over the columns the order mapping reads, trimmed (SYSPRO pads fixed-width text), so a
 * change anywhere else in ArCustomer (credit limit, terms) re-pushes nothing.
 */
export function customerHash(row: ArCustomerRow): string {
  const relevant: Record<string, unknown> = {};
  for (const column of AR_CUSTOMER_COLUMNS) {
    const value = (row as unknown as Record<string, unknown>)[column];
    relevant[column] = typeof value === 'string' ? value.trim() : (value ?? null);
  }
  return createHash('sha256').update(canonicalJson(relevant)).digest('hex');
}

/** One customers poll of one connection. */
export async function pollCustomers(
  deps: OrdersFlowDeps,
  connectionName: string,
  signal?: AbortSignal,
): Promise<CustomersPollSummary> {
  const { store, clock } = deps;
  const { connection, odata } = await deps.connectionFor(connectionName);
  const requestsBefore = odata.stats.requests;
  const summary: CustomersPollSummary = {
    read: 0,
    recorded: 0,
    unchanged: 0,
    changed: 0,
    queued: 0,
    coalesced: 0,
    odataRequests: 0,
  };

  for await (const page of odata.pages<ArCustomerRow>('ArCustomer', {
    select: AR_CUSTOMER_COLUMNS,
    orderBy: ['Customer'],
    pageSize: deps.pageSize,
    signal,
  })) {
    signal?.throwIfAborted();
    summary.read += page.length;
    const links = await findLinks(store.db, connectionName, CUSTOMER_ENTITY, page.map(customerKey));
    const toSave: Array<{ key: string; hash: string }> = [];
    const changed: ArCustomerRow[] = [];
    for (const row of page) {
      const key = customerKey(row);
      const hash = customerHash(row);
      const link = links.get(key);
      if (link?.lastHash === hash) {
        summary.unchanged++;
        continue;
      }
      toSave.push({ key, hash });
      if (link) changed.push(row);
      else summary.recorded++;
    }

    if (changed.length > 0) {
      const orders = await openOrdersOf(deps, connectionName, changed, signal);
      const now = clock.now();
      for (const customer of changed) {
        const key = customerKey(customer);
        const salesOrders = orders.get(key) ?? [];
        const queued = await queueOrderSyncs(store, connection, salesOrders, now);
        const created = queued.filter((q) => q.created).length;
        summary.changed++;
        summary.queued += created;
        summary.coalesced += queued.length - created;
        await appendAudit(store.db, {
          connection: connectionName,
          flow: FLOW,
          entityType: CUSTOMER_ENTITY,
          entityKey: key,
          action: 'change',
          outcome: 'ok',
          detail: {
            salesOrders,
            queued: created,
            coalesced: queued.length - created,
          },
          at: now,
        });
      }
    }
    for (const { key, hash } of toSave) {
      await saveLink(
        store.db,
        {
          connection: connectionName,
          entityType: CUSTOMER_ENTITY,
          sysproKey: key,
          lastHash: hash,
          state: 'open',
        },
        clock.now(),
      );
    }
  }
  summary.odataRequests = odata.stats.requests - requestsBefore;
  deps.logger?.info({ connection: connectionName, flow: FLOW, ...summary }, 'customers poll done');
  return summary;
}

/**
 * The orders of these customers in the configured statuses, by customer key, less those whose
 * order link is closed (ShipStation has them as shipped or cancelled).
 */
async function openOrdersOf(
  deps: OrdersFlowDeps,
  connectionName: string,
  customers: readonly ArCustomerRow[],
  signal?: AbortSignal,
): Promise<Map<string, string[]>> {
  const { connection, odata } = await deps.connectionFor(connectionName);
  const found: Array<{ customer: string; salesOrder: string }> = [];
  for await (const page of odata.pagesByKeys<Pick<SorMasterRow, 'SalesOrder' | 'Customer'>>(
    'SorMaster',
    'Customer',
    customers.map((c) => c.Customer),
    {
      select: ['SalesOrder', 'Customer'],
      filter: oneOf('OrderStatus', connection.syspro.orderStatuses),
      orderBy: ['SalesOrder'],
      signal,
    },
  )) {
    for (const row of page)
      found.push({ customer: customerKey(row), salesOrder: String(row.SalesOrder).trim() });
  }
  const links = await findLinks(
    deps.store.db,
    connectionName,
    ORDER_ENTITY,
    found.map((f) => orderKeyFor(connection.syspro.company, f.salesOrder)),
  );
  const byCustomer = new Map<string, string[]>();
  for (const f of found) {
    if (links.get(orderKeyFor(connection.syspro.company, f.salesOrder))?.state === 'closed') continue;
    const list = byCustomer.get(f.customer) ?? [];
    list.push(f.salesOrder);
    byCustomer.set(f.customer, list);
  }
  return byCustomer;
}

export function customersHandlers(deps: OrdersFlowDeps): JobHandler[] {
  return [
    {
      kind: CUSTOMERS_POLL_KIND,
      batchSize: 1,
      // Reads only (and queues one-order syncs): nothing outside can have happened twice.
      checksInDoubt: true,
      async run(jobs, context) {
        const job = jobs[0] as Job;
        const summary = await pollCustomers(deps, job.connection, context.signal);
        return [{ ok: true, result: summary }];
      },
    },
  ];
}
