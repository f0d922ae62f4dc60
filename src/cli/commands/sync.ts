/**
 * `ml-connector sync orders [--once] [--dry-run] [--order SO]… [--connection c] [--json]`
 *
 * `--once`: one orders poll of each connection (the same `pollOrders` the service's `orders.poll`
 * job runs), then the push jobs it queued, in this process, through the flow's push handler
 * (batches of 100, up to `shipstation.pushConcurrency` at once, as `run`); a summary per connection and a line per order that failed. Without `--once` it
 * does that every `polls.orders` until SIGINT/SIGTERM.
 *
 * `--dry-run` (implies `--once`): maps, validates against ShipStation's rules (the mapper's
 * problems) and compares with the links, and prints per order what would be sent: new, changed
 * (which fields), unchanged, invalid (why), skipped (why). Nothing goes to ShipStation (the client
 * is never called) and nothing is written to the store (no jobs, links, audit rows, watermarks).
 *
 * `--order SO` (repeatable): only those sales orders, in whatever status SYSPRO has them.
 *
 * Exit 1 when an order is invalid or failed (each is listed), else 0.
 */
import { type Command, Option } from 'commander';
import { UserError } from '../../config/errors.js';
import type { Config, ConnectionConfig } from '../../config/schema.js';
import type { V1OrderInput } from '../../shipstation/types.js';
import { type OrderDecision, type PollSummary, pollOrders } from '../../sync/orders.js';
import { countFlag } from '../options.js';
import {
  emptyTally,
  type OrdersSession,
  openOrdersSession,
  ordersProgressCounts,
  type PushTally,
  pushWorker,
  selectConnections,
} from '../orders-session.js';
import type { Program } from '../program.js';
import { formatCounts, formatElapsed, type Progress, progressOn } from '../progress.js';

interface SyncFlags {
  once?: boolean;
  dryRun?: boolean;
  order: string[];
  connection?: string;
  json?: boolean;
  every: number;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerSync(program: Command, app: Program): void {
  const sync = program
    .command('sync')
    .description('run a flow now, from the command line (subcommand: orders)');
  sync
    .command('orders')
    .description(
      'poll SYSPRO orders and push the new and changed ones to ShipStation (--once: one pass; --dry-run: show what would be sent, send nothing)',
    )
    .option('--once', 'one poll and its pushes, then exit (default: every polls.orders until Ctrl-C)')
    .option(
      '--dry-run',
      'map, validate and compare only: no ShipStation request, no store write (implies --once)',
    )
    .option('--order <salesOrder>', 'only this sales order, in any status (repeat for more)', collect, [])
    .option('--connection <name>', 'only this connection (default: all)')
    .option('--json', 'one JSON object per line (per order in a dry run, then a summary per connection)')
    .addOption(
      new Option('--every <n>', 'without a terminal: a progress line every n orders done (and every 10 s)')
        .argParser(countFlag)
        .default(500),
    )
    .action(async (flags: SyncFlags) => {
      const ctx = app.context();
      const connections = selectConnections(ctx.config, flags.connection);
      const once = flags.once === true || flags.dryRun === true;
      if (!once) {
        const off = connections.filter((c) => !(c.polls.orders > 0));
        if (off.length > 0)
          throw new UserError(
            `polls.orders is 0 (off) for ${off.map((c) => c.name).join(', ')}: pass --once to poll once, or set an interval.`,
          );
      }
      const session = await openOrdersSession(app);
      try {
        if (once) {
          let problems = 0;
          for (const connection of connections)
            problems += await syncOnce(app, ctx.config, session, connection, flags);
          if (problems > 0)
            throw new UserError(
              `${problems} order(s) ${flags.dryRun ? 'cannot be sent' : 'were not sent'}; see the lines above (\`ml-connector orders show <salesOrder>\` for one order's history).`,
            );
        } else {
          await syncUntilSignal(app, ctx.config, session, connections, flags);
        }
      } finally {
        await session.close();
      }
    });
}

const LABEL: Record<OrderDecision['decision'], string> = {
  new: 'new',
  changed: 'changed',
  unchanged: 'unchanged',
  invalid: 'invalid',
  skipped: 'skipped',
  closed: 'closed',
  'follow-up': 'follow-up',
  'not-found': 'not found',
};

/** A short description of a body: status, items, where it goes. */
export function describeOrder(order: V1OrderInput): string {
  const to = order.shipTo;
  const place = [to?.city, to?.state, to?.postalCode, to?.country].filter(Boolean).join(' ');
  const items = order.items?.length ?? 0;
  return `${order.orderStatus}, ${items} item${items === 1 ? '' : 's'}, ship to ${to?.name ?? '?'}, ${place}`;
}

export function formatDecision(d: OrderDecision): string {
  const head = `${LABEL[d.decision].padEnd(10)} ${d.salesOrder}`;
  switch (d.decision) {
    case 'new':
      return `${head}  ${d.order ? describeOrder(d.order) : ''}`;
    case 'changed':
      return `${head}  changed: ${(d.changed ?? []).join(', ') || '(no earlier body in the audit trail)'}; ${d.order ? describeOrder(d.order) : ''}`;
    case 'invalid':
      return `${head}  ${(d.problems ?? []).map((p) => `${p.field}: ${p.message}`).join('; ')}`;
    case 'unchanged':
      return head;
    default:
      return `${head}  ${d.reason ?? ''}`;
  }
}

function pollLine(name: string, s: PollSummary, dryRun: boolean): string {
  const queued = dryRun ? `would send ${s.queued}` : `queued ${s.queued} to send`;
  const followUps = s.followUps > 0 ? `, ${s.followUps} follow-up(s) to read again` : '';
  return `${name}: read ${s.read} order(s); ${queued}, ${s.unchanged} unchanged, ${s.skipped} skipped, ${s.invalid} invalid${followUps} (${s.odataRequests} OData requests)`;
}

function pushLine(name: string, t: PushTally): string {
  const retrying = t.retrying > 0 ? `, ${t.retrying} to retry later` : '';
  return `${name}: pushed ${t.pushed}, unchanged ${t.unchanged}, skipped ${t.skipped}, failed ${t.failed}${retrying}`;
}

/**
 * One pass for one connection; returns how many orders were invalid, not found or failed. A real
 * `--once` pass (not `--dry-run`, not `--json`) shows its progress as `backfill orders` does: a
 * bar of read, pushed, skipped and failed on a terminal, a plain line every `--every` orders
 * otherwise, and the lines that need attention above it. The passes of the loop (no `--once`)
 * print their two summary lines only.
 */
async function syncOnce(
  app: Program,
  config: Config,
  session: OrdersSession,
  connection: ConnectionConfig,
  flags: SyncFlags,
  loop?: { signal: AbortSignal },
): Promise<number> {
  const signal = loop?.signal;
  const dryRun = flags.dryRun === true;
  const named = flags.order.length > 0 ? flags.order : undefined;
  let problems = 0;
  const progress: Progress | undefined =
    dryRun || flags.json || loop
      ? undefined
      : progressOn(process.stdout, (text) => app.out(text), {
          everyOrders: flags.every,
          label: connection.name,
        });
  const say = (text: string) => (progress ? progress.note(text) : app.out(text));
  const tally = emptyTally();
  const { fromPage, counts } = ordersProgressCounts(tally);
  if (dryRun && !flags.json)
    app.out(
      `DRY RUN ${connection.name}: nothing is sent to ShipStation and nothing is written to the store.`,
    );
  const onDecision = (d: OrderDecision) => {
    if (d.decision === 'invalid' || d.decision === 'not-found') problems++;
    if (flags.json) {
      if (dryRun || d.decision === 'invalid' || d.decision === 'not-found')
        app.out(JSON.stringify({ connection: connection.name, ...d }));
      return;
    }
    // A full pass prints only what needs attention; a dry run or named orders print every order.
    if (!dryRun && !named && d.decision !== 'invalid') return;
    say(formatDecision(d));
    if (named && dryRun && d.order && (d.decision === 'new' || d.decision === 'changed'))
      say(indent(JSON.stringify(d.order, null, 2)));
  };
  const summary = await pollOrders(session.deps, connection.name, signal, {
    dryRun,
    salesOrders: named,
    onDecision,
    onPage: (s) => {
      fromPage(s);
      progress?.update(counts());
    },
  });
  fromPage(summary);
  if (dryRun) {
    if (flags.json) app.out(JSON.stringify({ connection: connection.name, dryRun: true, poll: summary }));
    else app.out(`${pollLine(connection.name, summary, true)}; 0 ShipStation requests`);
    return problems;
  }
  if (!flags.json) say(pollLine(connection.name, summary, false));
  const worker = pushWorker(session, config, tally, (r) => {
    progress?.update(counts());
    if (r.result !== 'failed' && r.result !== 'retrying') {
      if (named && !flags.json)
        say(`${r.result.padEnd(10)} ${r.salesOrder}${r.orderId ? `  ShipStation orderId ${r.orderId}` : ''}`);
      return;
    }
    if (r.result === 'failed') problems++;
    const text = r.result === 'failed' ? 'FAILED' : 'retry';
    if (flags.json)
      app.out(
        JSON.stringify({
          connection: r.job.connection,
          salesOrder: r.salesOrder,
          result: r.result,
          error: r.error,
        }),
      );
    else say(`${text.padEnd(10)} ${r.salesOrder}  ${r.error ?? ''}`);
  });
  await worker.runUntilIdle();
  if (flags.json) {
    app.out(JSON.stringify({ connection: connection.name, poll: summary, push: tally }));
    return problems;
  }
  const final = counts();
  progress?.finish(final);
  app.out(pushLine(connection.name, tally));
  // After a bar or progress lines, the pass's totals and rate (a short pass prints only the above).
  if (progress?.shown)
    app.out(
      `${connection.name}: sync done in ${formatElapsed(progress.elapsedMs())}: ${formatCounts(final, progress.elapsedMs())}`,
    );
  return problems;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** `--once` on every connection's `polls.orders` interval until SIGINT/SIGTERM (then exit 0). */
async function syncUntilSignal(
  app: Program,
  config: Config,
  session: OrdersSession,
  connections: ConnectionConfig[],
  flags: SyncFlags,
): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort(new Error('stopped by signal'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (!flags.json)
    app.out(
      `Syncing orders for ${connections.map((c) => `${c.name} every ${c.polls.orders / 1000}s`).join(', ')}; Ctrl-C stops.`,
    );
  try {
    await Promise.all(
      connections.map(async (connection) => {
        while (!stop.signal.aborted) {
          try {
            await syncOnce(app, config, session, connection, flags, { signal: stop.signal });
          } catch (err) {
            if (stop.signal.aborted) break;
            // Like the service: a failing pass waits for the next interval.
            app.err(`${connection.name}: this pass failed: ${(err as Error).message ?? String(err)}`);
          }
          await session.clock.sleep(connection.polls.orders, stop.signal).catch(() => {});
        }
      }),
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (!flags.json) app.out('Stopped.');
}
