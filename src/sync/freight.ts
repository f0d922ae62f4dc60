/**
 * Freight → SYSPRO, optional (`freight.enabled`). After a shipment is written back (the write-back
 * job's record queues it, `withFreightFollowUps`), its `shipmentCost` + `insuranceCost` are posted
 * once per shipment (job `freight.post`, key `shipmentId+freight`):
 *
 * - `method: journal`: a GENTJL journal, debit `glAccount` (shipment cost) and `insuranceGlAccount`
 *   (insurance; default `glAccount`), credit `offsetGlAccount`; the journal reference is
 *   `SS FRT <shipmentId>`, the lines carry the order number and the tracking number, the notation
 *   all of shipment, order, sales order and tracking. Dated the ship date; posting year and period
 *   are the ship date's calendar year and month (calendar periods: UNCONFIRMED per site).
 * - `method: order-line`: a SORTOI change adding a `FreightLine` (value and cost = the cost) and a
 *   comment line with the same reference to the sales order.
 * - A voided label whose freight was posted: `voids: reverse` posts the reversing journal
 *   (`SS FRT <id> VOID`), `flag` ends the job dead with what to undo; an order line is always
 *   flagged. Voided before it was posted: nothing is posted.
 * - Exactly once: before posting, SYSPRO is asked whether the journal (OData `GenJnlCtl` by its
 *   reference; the table name is the sandbox's, UNCONFIRMED: `JOURNAL_TABLE`) or the
 *   order's comment line (SorDetail) is there already, in doubt or not; found = done.
 * - A closed period, an unknown ledger code: SYSPRO's own text, audited, the job dead (the
 *   shipment's problem); the write-back itself is not affected.
 * - Up to `FREIGHT_BATCH` jobs of a connection are posted one after another in one e.net session.
 */
import type { Kysely } from 'kysely';
import { waitSignal } from '../abort.js';
import type { Clock } from '../clock.js';
import type { ConnectionConfig } from '../config/schema.js';
import { PermanentError } from '../engine/errors.js';
import type { JobHandler, JobOutcome } from '../engine/handler.js';
import { type AuditEntry, appendAudit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { enqueueJobs, type NewJob } from '../store/jobs/enqueue.js';
import type { Job } from '../store/jobs/job.js';
import { findLink, saveLink } from '../store/links.js';
import type { Store } from '../store/open.js';
import { assertSucceeded } from '../syspro/business-objects/common.js';
import { type JournalInput, postJournal } from '../syspro/business-objects/gentjl.js';
import { importSalesOrders } from '../syspro/business-objects/sortoi.js';
import type { EnetClient } from '../syspro/enet-client.js';
import { and, eq } from '../syspro/odata-filter.js';
import type { ODataReader } from '../syspro/odata-reader.js';
import { type ShipmentWrite, shipmentLinkKey } from './shipment-model.js';
import { sysproDate } from './writeback-mapper.js';

export const FREIGHT_POST_KIND = 'freight.post';
/** `<source>:<id>` → what was posted (`shipstation_id`: the journal or sales order), state posted|reversed. */
export const FREIGHT_ENTITY = 'freight';
const FLOW = 'freight';
/** OData entity set of GL journal headers (the sandbox's name; UNCONFIRMED for a real site). */
export const JOURNAL_TABLE = 'GenJnlCtl';

export interface FreightConnection {
  connection: ConnectionConfig;
  enet: Pick<EnetClient, 'withSession'>;
  odata: Pick<ODataReader, 'pages'>;
}

export interface FreightDeps {
  store: Store;
  clock: Clock;
  connectionFor(name: string): Promise<FreightConnection>;
}

export function freightJobKey(connection: string, shipment: Pick<ShipmentWrite, 'source' | 'id'>): string {
  return `${FREIGHT_POST_KIND}:${connection}:${shipmentLinkKey(shipment.source, shipment.id)}+freight`;
}

export function freightJob(shipment: ShipmentWrite): NewJob {
  return {
    kind: FREIGHT_POST_KIND,
    connection: shipment.connection,
    idempotencyKey: freightJobKey(shipment.connection, shipment),
    payload: shipment,
  };
}

/** The shipment's freight: cost, insurance, total (rounded to cents). */
export function freightOf(shipment: Pick<ShipmentWrite, 'shipmentCost' | 'insuranceCost'>): {
  cost: number;
  insurance: number;
  total: number;
} {
  const cents = (n: number | null) => Math.round(Number(n ?? 0) * 100);
  const cost = cents(shipment.shipmentCost);
  const insurance = cents(shipment.insuranceCost);
  return { cost: cost / 100, insurance: insurance / 100, total: (cost + insurance) / 100 };
}

export function journalReference(shipment: Pick<ShipmentWrite, 'id'>, voided = false): string {
  return `SS FRT ${shipment.id}${voided ? ' VOID' : ''}`;
}

/** The GENTJL journal of a shipment's freight, or its reversal (pure). */
export function freightJournal(
  shipment: ShipmentWrite,
  freight: ConnectionConfig['freight'],
  date: string,
  reverse = false,
): JournalInput {
  const { cost, insurance, total } = freightOf(shipment);
  const sign = reverse ? -1 : 1;
  const debit = freight.glAccount as string;
  const tracking = shipment.trackingNumbers.join(' ');
  const lines = [];
  if (cost !== 0)
    lines.push({
      ledgerCode: debit,
      amount: sign * cost,
      reference: shipment.orderNumber,
      additionalReference: tracking,
    });
  if (insurance !== 0)
    lines.push({
      ledgerCode: freight.insuranceGlAccount ?? debit,
      amount: sign * insurance,
      reference: shipment.orderNumber,
      additionalReference: tracking,
    });
  lines.push({
    ledgerCode: freight.offsetGlAccount as string,
    amount: -sign * total,
    reference: shipment.orderNumber,
    additionalReference: tracking,
  });
  return {
    journalDate: date,
    postingYear: Number(date.slice(0, 4)),
    postingPeriod: Number(date.slice(5, 7)),
    reference: journalReference(shipment, reverse),
    notation:
      `${reverse ? 'Reversal (label voided): ' : ''}freight of shipment ${shipment.id}, order ${shipment.orderNumber}${shipment.salesOrder ? `, sales order ${shipment.salesOrder}` : ''}, tracking ${tracking || '(none)'}`.slice(
        0,
        100,
      ),
    sourceCode: freight.sourceCode,
    lines,
  };
}

async function journalExists(
  odata: Pick<ODataReader, 'pages'>,
  reference: string,
): Promise<string | undefined> {
  for await (const page of odata.pages<{ JnlYear: number; JnlPeriod: number; Journal: number }>(
    JOURNAL_TABLE,
    {
      select: ['JnlYear', 'JnlPeriod', 'Journal', 'Reference'],
      filter: eq('Reference', reference),
    },
  )) {
    const row = page[0];
    if (row) return `${row.JnlYear}/${row.JnlPeriod}/${row.Journal}`;
  }
  return undefined;
}

async function orderLineExists(
  odata: Pick<ODataReader, 'pages'>,
  salesOrder: string,
  reference: string,
): Promise<boolean> {
  for await (const page of odata.pages<{ SalesOrderLine: number }>('SorDetail', {
    select: ['SalesOrder', 'SalesOrderLine', 'NComment'],
    filter: and(eq('SalesOrder', salesOrder), eq('NComment', reference)),
  })) {
    if (page.length > 0) return true;
  }
  return false;
}

function audit(
  shipment: ShipmentWrite,
  action: string,
  outcome: AuditEntry['outcome'],
  detail: unknown,
  at: number,
  error?: string,
): AuditEntry {
  return {
    connection: shipment.connection,
    flow: FLOW,
    entityType: FREIGHT_ENTITY,
    entityKey: shipmentLinkKey(shipment.source, shipment.id),
    action,
    outcome,
    detail,
    error: error ?? null,
    at,
  };
}

export async function postFreight(deps: FreightDeps, job: Job): Promise<JobOutcome> {
  const shipment = job.payload as ShipmentWrite;
  const { connection, enet, odata } = await deps.connectionFor(job.connection);
  const freight = connection.freight;
  const now = () => deps.clock.now();
  const key = shipmentLinkKey(shipment.source, shipment.id);
  const { total } = freightOf(shipment);
  const validateOnly = connection.syspro.validateOnly;
  const skip = (reason: string): JobOutcome => ({ ok: true, result: { skipped: reason } });
  if (!freight.enabled) return skip('freight is off for this connection');
  if (total === 0) return skip('no shipment or insurance cost');
  const link = await findLink(deps.store.db, job.connection, FREIGHT_ENTITY, key);
  const detail = {
    shipmentId: shipment.id,
    orderNumber: shipment.orderNumber,
    salesOrder: shipment.salesOrder,
    ...freightOf(shipment),
  };

  const problem = async (action: string, message: string): Promise<JobOutcome> => {
    const full = `Freight of shipment ${key} (order ${shipment.orderNumber}): ${message}`;
    await appendAudit(deps.store.db, audit(shipment, action, 'error', detail, now(), full));
    return { ok: false, error: new PermanentError(full) };
  };
  const done = (action: string, state: string, posted: string, outcome: AuditEntry['outcome'] = 'ok') => ({
    ok: true as const,
    result: { [action]: posted, validateOnly },
    record: async (db: Kysely<Database>) => {
      if (!validateOnly)
        await saveLink(
          db,
          {
            connection: job.connection,
            entityType: FREIGHT_ENTITY,
            sysproKey: key,
            shipstationId: posted,
            lastHash: String(total),
            state,
          },
          now(),
        );
      await appendAudit(
        db,
        audit(
          shipment,
          validateOnly ? `${action} (validate only)` : action,
          validateOnly ? 'info' : outcome,
          { ...detail, posted },
          now(),
        ),
      );
    },
  });
  const postJournalOf = async (journal: JournalInput): Promise<string | JobOutcome> => {
    const result = await enet.withSession((session) => postJournal(session, journal, { validateOnly }));
    try {
      assertSucceeded('GENTJL', `journal ${journal.reference}`, result);
    } catch (error) {
      return problem('post', `SYSPRO refused the journal: ${(error as Error).message}`);
    }
    return result.journalNumbers[0] ?? journal.reference ?? '';
  };

  if (!shipment.voided) {
    if (link?.state === 'posted' || link?.state === 'reversed') return skip('posted already');
    if (freight.method === 'order-line') {
      if (!shipment.salesOrder) return skip('no sales order');
      const reference = `ml-connector ${journalReference(shipment)}`;
      if (await orderLineExists(odata, shipment.salesOrder, reference))
        return done('post', 'posted', `order ${shipment.salesOrder}`, 'info');
      const { total: value } = freightOf(shipment);
      const result = await enet.withSession((session) =>
        importSalesOrders(
          session,
          [
            {
              action: 'change',
              salesOrder: shipment.salesOrder as string,
              customerPoNumber: '',
              customer: '',
              lines: [
                { kind: 'freight', customerPoLine: 'FRT', freightValue: value, freightCost: value },
                { kind: 'comment', customerPoLine: 'FRTC', comment: reference },
              ],
            },
          ],
          { validateOnly, ignoreWarnings: 'W' },
        ),
      );
      try {
        assertSucceeded('SORTOI', `sales order ${shipment.salesOrder}`, result);
      } catch (error) {
        return problem('post', `SYSPRO refused the freight line: ${(error as Error).message}`);
      }
      return done('post', 'posted', `order ${shipment.salesOrder}`);
    }
    if (!freight.glAccount || !freight.offsetGlAccount)
      return problem('post', 'freight.glAccount and freight.offsetGlAccount must name the ledger codes');
    const found = await journalExists(odata, journalReference(shipment));
    if (found) return done('post', 'posted', found, 'info');
    const posted = await postJournalOf(freightJournal(shipment, freight, shipment.shipDate));
    if (typeof posted !== 'string') return posted;
    return done('post', 'posted', posted);
  }

  // Voided.
  if (link?.state === 'reversed') return skip('reversed already');
  const wasPosted =
    link?.state === 'posted' ||
    (freight.method === 'journal' && (await journalExists(odata, journalReference(shipment))) !== undefined);
  if (!wasPosted) {
    return {
      ok: true,
      result: { skipped: 'voided before its freight was posted' },
      record: async (db) => {
        await appendAudit(db, audit(shipment, 'void', 'skipped', detail, now()));
      },
    };
  }
  if (freight.method === 'order-line' || freight.voids === 'flag') {
    return problem(
      'void',
      `the label was voided after its freight was posted (${link?.shipstationId ?? journalReference(shipment)}): reverse it in SYSPRO by hand`,
    );
  }
  const found = await journalExists(odata, journalReference(shipment, true));
  if (found) return done('reverse', 'reversed', found, 'info');
  const date = sysproDate(shipment.voidedAtUtc ?? now(), connection.syspro.timezone);
  const posted = await postJournalOf(freightJournal(shipment, freight, date, true));
  if (typeof posted !== 'string') return posted;
  return done('reverse', 'reversed', posted);
}

/**
 * The write-back handler with freight follow-ups: a shipment written to SYSPRO (not a dry run)
 * queues its freight posting in the same transaction as its write is recorded; a voided one queues
 * it whatever the write-back did (the freight side decides whether there is anything to reverse).
 */
export function withFreightFollowUps(
  handler: JobHandler,
  store: Store,
  connectionFor: (name: string) => Promise<{ connection: ConnectionConfig }>,
): JobHandler {
  return {
    ...handler,
    async run(jobs, context) {
      const outcomes = (await handler.run(jobs, context)) ?? jobs.map((): JobOutcome => ({ ok: true }));
      const name = jobs[0]?.connection;
      if (!name) return outcomes;
      const { connection } = await connectionFor(name);
      if (!connection.freight.enabled) return outcomes;
      const flagged: ShipmentWrite[] = [];
      const wrapped = outcomes.map((outcome, i): JobOutcome => {
        const shipment = (jobs[i] as Job).payload as ShipmentWrite;
        if (freightOf(shipment).total === 0) return outcome;
        const result = outcome.ok ? (outcome.result as Record<string, unknown> | undefined) : undefined;
        const written =
          outcome.ok && !shipment.voided && result?.action !== undefined && !result.validateOnly;
        if (!shipment.voided && !written) return outcome;
        if (!outcome.ok) {
          // A voided shipment whose write-back was flagged (dead): its freight still goes back.
          flagged.push(shipment);
          return outcome;
        }
        const record = outcome.record;
        return {
          ...outcome,
          record: async (db: Kysely<Database>) => {
            await record?.(db);
            await enqueueJobs({ ...store, db }, [freightJob(shipment)], context.clock.now());
          },
        };
      });
      if (flagged.length > 0) await enqueueJobs(store, flagged.map(freightJob), context.clock.now());
      return wrapped;
    },
  };
}

/**
 * Freight jobs per call: the batch shares one e.net session (`postFreightBatch`), so a day of 4,000
 * labels is 200 logons and logoffs, not 4,000 (a SYSPRO logon takes a licence seat and, on a real
 * server, the better part of a second). Small enough that holding the session does not keep the
 * write-back waiting long: each post is one GENTJL or SORTOI call, and asks SYSPRO first.
 */
export const FREIGHT_BATCH = 20;

/**
 * Posts a batch of freight jobs (one connection) one after another in one e.net session, each
 * exactly as `postFreight` does alone. A failed job does not stop the rest. When the service starts
 * to stop, the jobs not begun are given back unsent (the stop's reason, `waitSignal`).
 */
export async function postFreightBatch(deps: FreightDeps, jobs: readonly Job[], stop?: AbortSignal) {
  const outcomes: JobOutcome[] = [];
  const first = jobs[0];
  if (!first) return outcomes;
  const clients = await deps.connectionFor(first.connection);
  // The session logs on at the first call that needs it (none when every job is posted already),
  // and off when the batch ends.
  await clients.enet.withSession(
    async (session) => {
      const enet: FreightConnection['enet'] = { withSession: (fn) => fn(session) };
      const held: FreightDeps = { ...deps, connectionFor: async () => ({ ...clients, enet }) };
      for (const job of jobs) {
        if (stop?.aborted) {
          outcomes.push({ ok: false, error: stop.reason });
          continue;
        }
        try {
          outcomes.push(await postFreight(held, job));
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
    },
    // Stopped while another batch holds the session: the whole batch is given back unsent.
    { waitSignal: stop },
  );
  return outcomes;
}

export function freightHandlers(deps: FreightDeps): JobHandler[] {
  return [
    {
      kind: FREIGHT_POST_KIND,
      batchSize: FREIGHT_BATCH,
      // Every attempt asks SYSPRO for the journal (or the order's freight comment) before posting.
      checksInDoubt: true,
      run: (jobs, context) => postFreightBatch(deps, jobs, waitSignal(context?.signal)),
    },
  ];
}
