/**
 * `ml-connector backfill orders --from DATE --to DATE [--connection c] [--every N]`
 *
 * Sends the orders entered in SYSPRO (`EntrySystemDate`, SYSPRO's own date) from `--from` to `--to`
 * inclusive and in the configured `syspro.orderStatuses` (the statuses the poll sends; an order in
 * another status is named with `sync orders --order`). Read page by page with the poll's own
 * mapping and comparison (`pollOrders` with an entry range: no watermark moves, no follow-ups), and
 * after each page the push jobs it queued run in this process through the flow's push handler
 * (batches of 100, one result per order; up to `shipstation.pushConcurrency` batches at once, as
 * `run` has them, each connection's limiter holding the budget), so an order already sent with the
 * same content costs no request.
 *
 * Progress: on a terminal one line redrawn in place (read, pushed, skipped, failed, orders done per
 * minute); otherwise a plain line every `--every` orders (default 500) or 10 s. A line per order that
 * failed (invalid, refused), then an end summary. Exit 1 when an order failed, else 0; Ctrl-C stops
 * after the push batches in flight, prints the summary and exits 130.
 */
import type { Command } from 'commander';
import { UserError } from '../../config/errors.js';
import type { ConnectionConfig } from '../../config/schema.js';
import { type OrderDecision, type PollSummary, pollOrders } from '../../sync/orders.js';
import {
  emptyTally,
  openOrdersSession,
  ordersProgressCounts,
  pushWorker,
  selectConnections,
} from '../orders-session.js';
import type { Program } from '../program.js';
import { formatElapsed, progressOn, ratePerMinute } from '../progress.js';

interface BackfillFlags {
  from: string;
  to: string;
  connection?: string;
  every: string;
}

/** A calendar date `YYYY-MM-DD` that exists (2026-02-30 does not). */
export function parseDate(text: string, flag: string): string {
  const ok =
    /^\d{4}-\d{2}-\d{2}$/.test(text) && new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10) === text;
  if (!ok) throw new UserError(`${flag} must be a date written YYYY-MM-DD (e.g. 2026-01-31), got "${text}".`);
  return text;
}

export function registerBackfill(program: Command, app: Program): void {
  const backfill = program
    .command('backfill')
    .description('send past records of a flow again, by date (subcommand: orders)');
  backfill
    .command('orders')
    .description(
      'send the SYSPRO orders entered between two dates (in the configured statuses) to ShipStation, with progress and a summary',
    )
    .requiredOption('--from <date>', 'first entry date, YYYY-MM-DD (SYSPRO date, inclusive)')
    .requiredOption('--to <date>', 'last entry date, YYYY-MM-DD (inclusive)')
    .option('--connection <name>', 'only this connection (default: all)')
    .option('--every <n>', 'without a terminal: a progress line every n orders (and every 10 s)', '500')
    .action(async (flags: BackfillFlags) => {
      const from = parseDate(flags.from, '--from');
      const to = parseDate(flags.to, '--to');
      if (from > to) throw new UserError(`--from (${from}) is after --to (${to}).`);
      const every = Number(flags.every);
      if (!Number.isInteger(every) || every < 1)
        throw new UserError(`--every must be a whole number above 0, got "${flags.every}".`);
      const ctx = app.context();
      const connections = selectConnections(ctx.config, flags.connection);
      const session = await openOrdersSession(app);
      // Ctrl-C: the push batches in flight finish, no further page is read, the summary is printed.
      // A second Ctrl-C exits at once (claimed jobs go back to the queue when their leases expire).
      const stop = new AbortController();
      const onSignal = () => {
        if (stop.signal.aborted) process.exit(130);
        stop.abort(new Error('stopped by signal'));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      let failedTotal = 0;
      try {
        for (const connection of connections) {
          if (stop.signal.aborted) break;
          failedTotal += await backfillConnection(app, session, connection, { from, to, every }, stop.signal);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await session.close();
      }
      if (stop.signal.aborted)
        throw new UserError(
          'Stopped before the end of the range. Run the same command again to finish: orders already sent with the same content are skipped without a request.',
          130,
        );
      if (failedTotal > 0)
        throw new UserError(
          `${failedTotal} order(s) were not sent; see the lines above (\`ml-connector orders show <salesOrder>\` for one order's history, \`ml-connector replay --kind orders.push\` after a fix).`,
        );
    });
}

async function backfillConnection(
  app: Program,
  session: Awaited<ReturnType<typeof openOrdersSession>>,
  connection: ConnectionConfig,
  range: { from: string; to: string; every: number },
  signal: AbortSignal,
): Promise<number> {
  const progress = progressOn(process.stdout, (text) => app.out(text), {
    everyOrders: range.every,
    label: connection.name,
  });
  if (!process.stdout.isTTY)
    app.out(`${connection.name}: backfill of the orders entered ${range.from} to ${range.to}`);
  const tally = emptyTally();
  const { poll, fromPage, counts } = ordersProgressCounts(tally);
  const worker = pushWorker(session, app.context().config, tally, (r) => {
    if (r.result === 'failed' || r.result === 'retrying')
      progress.note(
        `${r.result === 'failed' ? 'FAILED' : 'retry'}  ${r.salesOrder}  ${r.error ?? ''}${r.result === 'retrying' ? ' (queued again; `run` retries it)' : ''}`,
      );
    progress.update(counts());
  });
  const onDecision = (d: OrderDecision) => {
    if (d.decision === 'invalid')
      progress.note(
        `invalid ${d.salesOrder}  ${(d.problems ?? []).map((p) => `${p.field}: ${p.message}`).join('; ')}`,
      );
  };
  let last: PollSummary = {
    read: 0,
    queued: 0,
    unchanged: 0,
    skipped: 0,
    invalid: 0,
    followUps: 0,
    odataRequests: 0,
  };
  const summary = await pollOrders(session.deps, connection.name, signal, {
    entryFrom: range.from,
    entryTo: range.to,
    onDecision,
    onPage: async (s) => {
      last = s;
      fromPage(s);
      progress.update(counts());
      await worker.runUntilIdle();
      progress.update(counts());
    },
  }).catch((err) => {
    if (!signal.aborted) throw err;
    progress.note(`${connection.name}: stopping (Ctrl-C) after ${last.read} order(s) read`);
    return last;
  });
  poll.read = summary.read;
  // Push jobs queued before the backfill (or coalesced with it) that are due run too.
  if (!signal.aborted) await worker.runUntilIdle();
  const final = counts();
  progress.finish(final);
  const elapsed = progress.elapsedMs();
  app.out(
    `${connection.name}: backfill ${range.from} to ${range.to} ${signal.aborted ? 'stopped after' : 'done in'} ${formatElapsed(elapsed)}: read ${final.read}, pushed ${final.pushed}, skipped ${final.skipped} (unchanged ${summary.unchanged + tally.unchanged}, nothing to send ${summary.skipped + tally.skipped}), failed ${final.failed} (invalid ${poll.invalid}, refused ${tally.failed}, to retry ${tally.retrying}); ${ratePerMinute(final, elapsed)}/min, ${summary.odataRequests} OData requests`,
  );
  return final.failed;
}
