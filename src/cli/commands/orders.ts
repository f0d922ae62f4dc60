/**
 * `ml-connector orders show <salesOrder> [--connection c] [--json] [--limit n]`: one order across
 * both systems and our records. What SYSPRO has (header and lines through OData, and what that maps
 * to now), the link (state, ShipStation orderId, hash last sent), the body last sent (from the audit
 * trail), ShipStation's current order through the connection's API (V1 `GET /orders/{id}`, V2 the
 * shipment `GET /v2/shipments/se-{id}`; without a link, looked up by our orderKey), and the order's audit rows, newest first. Reads only: it writes nothing
 * and posts nothing. `--json` prints one object for machines.
 */
import type { Command } from 'commander';
import { describeError } from '../../engine/errors.js';
import type { ShipStation } from '../../shipstation/api.js';
import { ShipStationError } from '../../shipstation/errors.js';
import type { V1Order, V1OrderInput } from '../../shipstation/types.js';
import { listAudit } from '../../store/audit.js';
import { findLink, type Link } from '../../store/links.js';
import {
  changedFields,
  ORDER_ENTITY,
  ORDER_PROBLEM_ENTITY,
  orderMapOptions,
  readSalesOrder,
} from '../../sync/orders.js';
import {
  hashOrder,
  type MapResult,
  mapSalesOrder,
  orderKeyFor,
  orderNumberFor,
} from '../../sync/orders-mapper.js';
import { oneConnection, parseLimit } from '../connections.js';
import { openOrdersSession } from '../orders-session.js';
import type { Program } from '../program.js';
import { describeOrder } from './sync.js';

interface ShowFlags {
  connection?: string;
  json?: boolean;
  limit: string;
}

function iso(ms: number | null | undefined): string {
  return ms == null ? '-' : new Date(ms).toISOString();
}

function parseJson(text: string | null): unknown {
  if (text == null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * ShipStation's order for our key, through the connection's ShipStation (V1: the order; V2: the
 * shipment `se-N`, read back as an order): by the linked id, else looked up by our key.
 */
async function currentShipStationOrder(
  shipstation: Pick<ShipStation, 'api' | 'getOrder' | 'findOrderByKey'>,
  link: Link | undefined,
  orderKey: string,
  orderNumber: string,
): Promise<{ order?: V1Order; how: string; error?: string }> {
  const id = Number(link?.shipstationId);
  try {
    if (link?.shipstationId && Number.isFinite(id)) {
      try {
        const how = shipstation.api === 'v2' ? `GET /v2/shipments/se-${id}` : `GET /orders/${id}`;
        return { order: await shipstation.getOrder(id), how };
      } catch (err) {
        if (!(err instanceof ShipStationError && err.kind === 'not_found')) throw err;
      }
    }
    const found = await shipstation.findOrderByKey(orderKey, orderNumber);
    if (found.order) return { order: found.order, how: found.how };
    return found.sameNumber
      ? { order: found.sameNumber, how: `${found.how} (same number, another orderKey: not ours)` }
      : { how: found.how };
  } catch (err) {
    return { how: 'ShipStation', error: describeError(err) };
  }
}

export function registerOrders(program: Command, app: Program): void {
  const orders = program
    .command('orders')
    .description('look at one order across SYSPRO, ShipStation and the audit trail (subcommand: show)');
  orders
    .command('show')
    .description(
      "one sales order: what SYSPRO has, what was last sent, ShipStation's current order, and its audit history",
    )
    .argument('<salesOrder>', 'SYSPRO sales order number, e.g. 000123')
    .option('--connection <name>', 'the connection (needed when several are configured)')
    .option('--json', 'one JSON object, for machines')
    .option('--limit <n>', 'audit rows to show, newest first', '50')
    .action(async (salesOrderArg: string, flags: ShowFlags) => {
      const limit = parseLimit(flags.limit);
      const ctx = app.context();
      const connection = oneConnection(ctx.config, flags.connection);
      const salesOrder = salesOrderArg.trim();
      const orderKey = orderKeyFor(connection.syspro.company, salesOrder);
      const session = await openOrdersSession(app);
      try {
        const { db } = session.store;
        const clients = await session.clients(connection.name);
        const options = orderMapOptions(connection);
        let sysproError: string | undefined;
        const syspro = await readSalesOrder(clients.odata, salesOrder).catch((err) => {
          sysproError = describeError(err);
          return undefined;
        });
        const mapped: MapResult | undefined = syspro ? mapSalesOrder(syspro, options) : undefined;
        const link = await findLink(db, connection.name, ORDER_ENTITY, orderKey);
        const problemLink = await findLink(db, connection.name, ORDER_PROBLEM_ENTITY, orderKey);
        const audit = await listAudit(db, {
          connection: connection.name,
          entityType: ORDER_ENTITY,
          entityKey: orderKey,
          limit,
        });
        const lastOk = (
          await listAudit(db, {
            connection: connection.name,
            entityType: ORDER_ENTITY,
            entityKey: orderKey,
            outcome: 'ok',
            limit: 1,
          })
        )[0];
        const lastDetail = parseJson(lastOk?.detail ?? null) as {
          sent?: V1OrderInput;
          attempt?: number;
          changed?: string[];
        } | null;
        const lastSent = lastDetail?.sent;
        const orderNumber =
          mapped?.action === 'push'
            ? mapped.order.orderNumber
            : orderNumberFor(
                salesOrder,
                connection.orders.orderNumberPadding,
                connection.orders.orderNumberPrefix,
              );
        const shipstation = await currentShipStationOrder(
          clients.shipstationApi,
          link,
          orderKey,
          orderNumber,
        );
        const differsFromLastSent =
          mapped?.action === 'push' && lastSent ? changedFields(lastSent, mapped.order) : undefined;

        if (flags.json) {
          app.out(
            JSON.stringify({
              connection: connection.name,
              salesOrder,
              orderKey,
              syspro: syspro ? { ...syspro, mapped } : null,
              sysproError,
              link: link ?? null,
              problemLink: problemLink ?? null,
              lastSent: lastOk ? { auditId: Number(lastOk.id), at: Number(lastOk.at), ...lastDetail } : null,
              differsFromLastSent,
              shipstation: { ...shipstation, order: shipstation.order ?? null },
              audit: audit.map((r) => ({
                id: Number(r.id),
                at: Number(r.at),
                action: r.action,
                outcome: r.outcome,
                jobId: r.job_id,
                detail: parseJson(r.detail),
                error: r.error,
              })),
            }),
          );
          return;
        }

        const out = (line = '') => app.out(line);
        out(`Sales order ${salesOrder} (connection ${connection.name}, orderKey ${orderKey})`);
        out('');
        out('SYSPRO');
        if (sysproError) out(`  could not read it: ${sysproError}`);
        else if (!syspro) out('  no such sales order in SorMaster');
        else {
          const h = syspro.header;
          out(
            `  status ${h.OrderStatus}${h.CancelledFlag === 'Y' ? ' (cancelled)' : ''}, customer ${h.Customer} ${h.CustomerName ?? ''}`.trimEnd(),
          );
          out(
            `  entered ${h.EntrySystemDate ?? '-'}, order date ${h.OrderDate ?? '-'}, requested ship ${h.ReqShipDate ?? '-'}, PO ${h.CustomerPoNumber || '-'}`,
          );
          out(
            `  ship to ${[h.ShipAddress1, h.ShipAddress2, h.ShipAddress3, h.ShipAddress4, h.ShipAddress5, h.ShipPostalCode].filter((x) => x && String(x).trim()).join(', ')}`,
          );
          out(`  lines (${syspro.lines.length}):`);
          for (const l of syspro.lines)
            out(
              `    ${String(l.SalesOrderLine).padStart(3)}  type ${l.LineType}  ${(l.MStockCode || l.NComment || '').trim()}  ${(l.MStockDes ?? '').trim()}  order ${l.MOrderQty ?? '-'}  ship ${l.MShipQty ?? '-'}  price ${l.MPrice ?? '-'}`.trimEnd(),
            );
          if (mapped?.action === 'push') {
            const same = link?.lastHash === mapped.hash;
            out(
              `  maps to: ${describeOrder(mapped.order)}; ${same ? 'same as last sent' : lastSent ? `differs from last sent in: ${(differsFromLastSent ?? []).join(', ') || '(nothing the audit shows)'}` : 'not sent yet'} (hash ${mapped.hash.slice(0, 12)})`,
            );
          } else if (mapped?.action === 'skip') out(`  maps to: nothing to send (${mapped.reason})`);
          else if (mapped?.action === 'invalid')
            out(`  cannot be sent: ${mapped.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
        }
        out('');
        out('Link');
        if (!link) out('  none: never sent');
        else
          out(
            `  state ${link.state ?? '-'}, ShipStation orderId ${link.shipstationId ?? '-'}, last hash ${link.lastHash?.slice(0, 12) ?? '-'}, last pushed ${iso(link.lastPushedAt)}`,
          );
        if (problemLink)
          out(`  problems last reported ${iso(problemLink.lastPushedAt)} (${problemLink.state})`);
        out('');
        out('Last sent');
        if (!lastOk || !lastSent) out('  nothing sent yet');
        else {
          out(
            `  ${iso(Number(lastOk.at))}, ${lastOk.action}, job ${lastOk.job_id ?? '-'}, attempt ${lastDetail?.attempt ?? '-'}, changed: ${(lastDetail?.changed ?? []).join(', ') || '-'}`,
          );
          out(`  ${describeOrder(lastSent)} (hash ${hashOrder(lastSent).slice(0, 12)})`);
        }
        out('');
        out(`ShipStation (${shipstation.how})`);
        if (shipstation.error) out(`  could not read it: ${shipstation.error}`);
        else if (!shipstation.order) out('  no order with this orderKey');
        else {
          const o = shipstation.order;
          out(
            `  orderId ${o.orderId}, orderNumber ${o.orderNumber}, orderKey ${o.orderKey}, status ${o.orderStatus}, created ${o.createDate}, modified ${o.modifyDate}${clients.shipstationApi.recordTimes === 'pacific' ? ' (Pacific)' : ''}`,
          );
          out(`  ${describeOrder(o)}`);
        }
        out('');
        out(`Audit (newest first, up to ${limit})`);
        if (audit.length === 0) out('  no rows');
        for (const r of audit) {
          const detail = parseJson(r.detail) as Record<string, unknown> | null;
          const bits: string[] = [];
          if (r.job_id != null) bits.push(`job ${r.job_id}`);
          if (detail && typeof detail === 'object') {
            if (detail.attempt !== undefined) bits.push(`attempt ${detail.attempt}`);
            if (detail.orderId !== undefined) bits.push(`orderId ${detail.orderId}`);
            if (Array.isArray(detail.changed)) bits.push(`changed: ${detail.changed.join(', ')}`);
            if (detail.reason) bits.push(String(detail.reason));
          }
          if (r.error) bits.push(r.error);
          out(
            `  ${iso(Number(r.at))}  #${r.id}  ${r.action} ${r.outcome}${bits.length ? `  ${bits.join('; ')}` : ''}`,
          );
        }
      } finally {
        await session.close();
      }
    });
}
