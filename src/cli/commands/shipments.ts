/**
 * `ml-connector shipments show <shipmentId|trackingNumber> [--connection c] [--json] [--limit n]`:
 * the whole path of a shipment written back to SYSPRO. The write job(s) (state, attempts, last
 * error, in-doubt mark), the link (version written, state), the audit rows (what came from
 * ShipStation, what was posted, SYSPRO's answer), and what SYSPRO has now: the dispatch note
 * (SORQDN) or, for the order-update strategy, the order's tracking field and lines (SORQRY). A
 * number is looked up both as a shipment/fulfillment id and as a tracking number (USPS numbers are
 * all digits); a tracking number is found in the audit rows and job payloads. Reads only.
 */
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import type { ConnectionConfig } from '../../config/schema.js';
import { describeError } from '../../engine/errors.js';
import type { Database } from '../../store/database.js';
import { findLink, type Link } from '../../store/links.js';
import { SHIPMENT_ENTITY, SHIPMENT_WRITEBACK_KIND, shipmentKey } from '../../sync/shipment-model.js';
import { SHIPMENTS_FLOW } from '../../sync/writeback.js';
import { queryDispatchNote } from '../../syspro/business-objects/sorqdn.js';
import { querySalesOrder } from '../../syspro/business-objects/sorqry.js';
import type { EnetClient } from '../../syspro/enet-client.js';
import { oneConnection, parseLimit } from '../connections.js';
import { openOrdersSession } from '../orders-session.js';
import type { Program } from '../program.js';

interface ShowFlags {
  connection?: string;
  json?: boolean;
  limit: string;
}

export interface ShipmentPath {
  key: string;
  link: Link | null;
  jobs: Array<{
    id: number;
    state: string;
    attempts: number;
    createdAt: number;
    finishedAt: number | null;
    lastError: string | null;
    inDoubt: unknown;
    voided: boolean;
    version: number | null;
  }>;
  audit: Array<{
    id: number;
    at: number;
    action: string;
    outcome: string;
    jobId: number | null;
    detail: unknown;
    error: string | null;
  }>;
  dispatchNote?: string;
  salesOrder?: string;
  syspro?: unknown;
  sysproError?: string;
}

function parseJson(text: string | null): unknown {
  if (text == null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** The link keys (`<source>:<id>`) a query names: ids as themselves, tracking numbers through the audit and jobs. */
export async function findShipmentKeys(
  db: Kysely<Database>,
  connection: string,
  query: string,
): Promise<string[]> {
  const q = query.trim();
  const keys = new Set<string>();
  if (/^\d+$/.test(q)) {
    for (const source of ['shipment', 'fulfillment']) {
      const key = `${source}:${Number(q)}`;
      const seen = await db
        .selectFrom('audit')
        .select('id')
        .where('connection', '=', connection)
        .where('entity_type', '=', SHIPMENT_ENTITY)
        .where('entity_key', '=', key)
        .limit(1)
        .executeTakeFirst();
      const job = await db
        .selectFrom('jobs')
        .select('id')
        .where('idempotency_key', '=', shipmentKey(connection, source as 'shipment', Number(q)))
        .limit(1)
        .executeTakeFirst();
      if (seen || job) keys.add(key);
    }
  }
  const pattern = `%"${escapeLike(q)}"%`;
  const audit = await db
    .selectFrom('audit')
    .select('entity_key')
    .where('connection', '=', connection)
    .where('flow', '=', SHIPMENTS_FLOW)
    .where('detail', 'like', pattern)
    .limit(20)
    .execute();
  for (const row of audit) keys.add(row.entity_key);
  const jobs = await db
    .selectFrom('jobs')
    .select(['payload'])
    .where('kind', '=', SHIPMENT_WRITEBACK_KIND)
    .where('connection', '=', connection)
    .where('payload', 'like', pattern)
    .limit(20)
    .execute();
  for (const row of jobs) {
    const p = parseJson(row.payload) as { source?: string; id?: number } | null;
    if (p?.source && typeof p.id === 'number') keys.add(`${p.source}:${p.id}`);
  }
  return [...keys];
}

/** Everything we know of one shipment, and (with `enet`) what SYSPRO has now. */
export async function describeShipmentPath(
  db: Kysely<Database>,
  connection: ConnectionConfig,
  key: string,
  options: { limit?: number; enet?: Pick<EnetClient, 'withSession'> } = {},
): Promise<ShipmentPath> {
  const [source, id] = key.split(':') as [string, string];
  const link = (await findLink(db, connection.name, SHIPMENT_ENTITY, key)) ?? null;
  const jobRows = await db
    .selectFrom('jobs')
    .selectAll()
    .where('idempotency_key', '=', shipmentKey(connection.name, source as 'shipment', Number(id)))
    .orderBy('id', 'asc')
    .execute();
  const jobs = jobRows.map((r) => {
    const payload = parseJson(r.payload) as { voided?: boolean; version?: number } | null;
    return {
      id: Number(r.id),
      state: r.state,
      attempts: Number(r.attempts),
      createdAt: Number(r.created_at),
      finishedAt: r.finished_at == null ? null : Number(r.finished_at),
      lastError: r.last_error,
      inDoubt: parseJson(r.in_doubt),
      voided: payload?.voided === true,
      version: typeof payload?.version === 'number' ? payload.version : null,
    };
  });
  const auditRows = await db
    .selectFrom('audit')
    .selectAll()
    .where('connection', '=', connection.name)
    .where('entity_type', '=', SHIPMENT_ENTITY)
    .where('entity_key', '=', key)
    .orderBy('id', 'desc')
    .limit(options.limit ?? 50)
    .execute();
  const audit = auditRows.map((r) => ({
    id: Number(r.id),
    at: Number(r.at),
    action: r.action,
    outcome: r.outcome,
    jobId: r.job_id == null ? null : Number(r.job_id),
    detail: parseJson(r.detail),
    error: r.error,
  }));
  const path: ShipmentPath = { key, link, jobs, audit };
  for (const row of audit) {
    const d = row.detail as {
      answer?: { dispatchNote?: string };
      received?: { salesOrder?: string };
      posted?: { salesOrder?: string };
    } | null;
    path.salesOrder ??= d?.posted?.salesOrder ?? d?.received?.salesOrder ?? undefined;
    if (row.outcome === 'ok' && d?.answer?.dispatchNote) {
      path.dispatchNote ??= d.answer.dispatchNote;
    }
  }
  if (options.enet && (path.dispatchNote || path.salesOrder)) {
    try {
      path.syspro = await options.enet.withSession(async (session) => {
        if (path.dispatchNote)
          return {
            dispatchNote: await queryDispatchNote(session, { dispatchNote: path.dispatchNote as string }),
          };
        const order = await querySalesOrder(session, {
          salesOrder: path.salesOrder as string,
          options: { includeCustomForms: true },
        });
        return {
          salesOrder: {
            found: order.found,
            orderStatus: order.orderStatus,
            shippingInstrs: order.shippingInstrs,
            customForms: order.customForms,
            lines: order.lines
              .filter((l) => l.type === 'merchandise')
              .map((l) => ({
                line: l.line,
                stockCode: l.stockCode,
                orderQty: l.orderQty,
                shipQty: l.shipQty,
                dispatchedQty: l.dispatchedQty,
              })),
          },
        };
      });
    } catch (error) {
      path.sysproError = describeError(error);
    }
  }
  return path;
}

function iso(ms: number | null | undefined): string {
  return ms == null ? '-' : new Date(ms).toISOString();
}

export function printShipmentPath(path: ShipmentPath, out: (line?: string) => void): void {
  out(`Shipment ${path.key}${path.salesOrder ? ` (sales order ${path.salesOrder})` : ''}`);
  out('');
  out('Jobs');
  if (path.jobs.length === 0) out('  none (purged, or never queued)');
  for (const j of path.jobs) {
    out(
      `  #${j.id}  ${j.state}${j.voided ? ' (void)' : ''}  attempts ${j.attempts}  queued ${iso(j.createdAt)}  finished ${iso(j.finishedAt)}${j.version === null ? '' : `  version ${j.version}`}`,
    );
    if (j.inDoubt) out(`      in doubt: ${JSON.stringify(j.inDoubt)}`);
    if (j.lastError) out(`      last error: ${j.lastError}`);
  }
  out('');
  out('Link');
  if (!path.link) out('  none: not written to SYSPRO');
  else
    out(
      `  state ${path.link.state ?? '-'}, ${path.link.lastHash ?? '-'} written ${iso(path.link.lastPushedAt)}`,
    );
  out('');
  out('Audit (newest first)');
  if (path.audit.length === 0) out('  no rows');
  for (const r of path.audit) {
    out(
      `  ${iso(r.at)}  #${r.id}  ${r.action} ${r.outcome}${r.jobId == null ? '' : `  job ${r.jobId}`}${r.error ? `  ${r.error}` : ''}`,
    );
    const d = r.detail as Record<string, unknown> | null;
    if (d && typeof d === 'object') {
      const rec = d.received as Record<string, unknown> | undefined;
      if (rec)
        out(
          `      from ShipStation: ${rec.source} ${rec.id}, order ${rec.orderNumber}, ${rec.carrierCode ?? '-'} ${rec.serviceCode ?? ''}, tracking ${(rec.trackingNumbers as string[] | undefined)?.join(' ') || '-'}, created ${rec.createdAtUtc}${rec.voided ? `, voided ${rec.voidedAtUtc}` : ''} (via ${rec.via})`,
        );
      if (d.posted) out(`      posted: ${JSON.stringify(d.posted)}`);
      if (d.answer) out(`      SYSPRO answered: ${JSON.stringify(d.answer)}`);
      if (d.reason) out(`      ${d.reason}`);
    }
  }
  out('');
  out('SYSPRO now');
  if (path.sysproError) out(`  could not read it: ${path.sysproError}`);
  else if (!path.syspro) out('  nothing to look up (no dispatch note or sales order recorded)');
  else out(`  ${JSON.stringify(path.syspro)}`);
}

export function registerShipments(program: Command, app: Program): void {
  const shipments = program
    .command('shipments')
    .description('look at a shipment written back to SYSPRO (subcommand: show)');
  shipments
    .command('show')
    .description('one shipment: its write jobs, link, audit rows and what SYSPRO has now')
    .argument('<shipmentIdOrTracking>', 'ShipStation shipmentId / fulfillmentId, or a tracking number')
    .option('--connection <name>', 'the connection (needed when several are configured)')
    .option('--json', 'one JSON object, for machines')
    .option('--limit <n>', 'audit rows per shipment, newest first', '50')
    .action(async (query: string, flags: ShowFlags) => {
      const limit = parseLimit(flags.limit);
      const ctx = app.context();
      const connection = oneConnection(ctx.config, flags.connection);
      const session = await openOrdersSession(app);
      try {
        const { db } = session.store;
        const keys = await findShipmentKeys(db, connection.name, query);
        let enet: Pick<EnetClient, 'withSession'> | undefined;
        try {
          enet = (await session.clients(connection.name)).enet;
        } catch {
          enet = undefined;
        }
        const paths: ShipmentPath[] = [];
        for (const key of keys) paths.push(await describeShipmentPath(db, connection, key, { limit, enet }));
        if (flags.json) {
          app.out(JSON.stringify({ connection: connection.name, query, shipments: paths }));
          return;
        }
        if (paths.length === 0) {
          app.out(
            `No shipment ${query} in connection ${connection.name}: no write job or audit row names it.`,
          );
          return;
        }
        for (const [i, path] of paths.entries()) {
          if (i > 0) app.out('');
          printShipmentPath(path, (line = '') => app.out(line));
        }
      } finally {
        await session.close();
      }
    });
}
