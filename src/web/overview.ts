/** The Overview page: per connection, its polls, counts, queue, 24-hour throughput and health. */
import type { ConnectionOverview, ThroughputBucket } from '../store/overview.js';
import type { ProblemCounts } from '../store/problems.js';
import { duration, type Html, html, time } from './html.js';
import { type PageContext, page, table } from './layout.js';

export interface BudgetView {
  key: string;
  limit: number;
  remaining: number;
}

export interface OverviewConnection {
  overview: ConnectionOverview;
  problems: ProblemCounts;
}

const SYSTEM_NAMES = { syspro: 'SYSPRO', shipstation: 'ShipStation' } as const;

/** Bars of orders pushed and shipments written per hour, drawn on the server (no script). */
export function throughputChart(buckets: ThroughputBucket[], id: string): Html {
  const W = 480;
  const H = 160;
  const pad = { l: 28, b: 18, t: 8 };
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.ordersPushed, b.shipmentsWritten)));
  const slot = (W - pad.l) / buckets.length;
  const bar = Math.max(1, slot / 2 - 1);
  const y = (n: number) => H - pad.b - ((H - pad.b - pad.t) * n) / max;
  const total = buckets.reduce((s, b) => s + b.ordersPushed + b.shipmentsWritten, 0);
  const bars = buckets.map((b, i) => {
    const x = pad.l + i * slot;
    const label = new Date(b.hour).toISOString().slice(11, 13);
    return html`<rect class="orders" x="${x.toFixed(1)}" y="${y(b.ordersPushed).toFixed(1)}" width="${bar.toFixed(1)}" height="${(H - pad.b - y(b.ordersPushed)).toFixed(1)}"></rect><rect class="shipments" x="${(x + bar + 1).toFixed(1)}" y="${y(b.shipmentsWritten).toFixed(1)}" width="${bar.toFixed(1)}" height="${(H - pad.b - y(b.shipmentsWritten)).toFixed(1)}"></rect>${i % 3 === 0 ? html`<text x="${x.toFixed(1)}" y="${H - 4}">${label}</text>` : ''}`;
  });
  return html`<figure>
<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}-t ${id}-d">
<title id="${id}-t">Throughput, last 24 hours</title>
<desc id="${id}-d">Orders pushed and shipments written per hour (UTC); ${total} in all, at most ${max} in one hour. The same numbers are in the table below the chart.</desc>
<line x1="${pad.l}" y1="${H - pad.b}" x2="${W}" y2="${H - pad.b}" stroke="#8c959f"></line>
<text x="0" y="${pad.t + 8}">${max}</text><text x="0" y="${H - pad.b}">0</text>
${bars}
</svg>
<figcaption><ul class="legend"><li><span class="sw orders"></span>Orders pushed</li><li><span class="sw shipments"></span>Shipments written</li></ul></figcaption>
</figure>
<details><summary>Throughput as a table</summary>
${table(
  'Records per hour (UTC)',
  ['Hour', 'Orders pushed', 'Shipments written'],
  buckets.map(
    (b) =>
      html`<tr><td>${new Date(b.hour).toISOString().slice(0, 13).replace('T', ' ')}:00</td><td class="num">${b.ordersPushed}</td><td class="num">${b.shipmentsWritten}</td></tr>`,
  ),
)}
</details>`;
}

const POLL_NAMES: Record<string, string> = {
  'orders.poll': 'Orders (SYSPRO → ShipStation)',
  'shipments.poll': 'Shipments (ShipStation → SYSPRO)',
  'customers.poll': 'Customers (SYSPRO)',
  'inventory.poll': 'Inventory (SYSPRO → ShipStation)',
};

export function overviewPage(
  ctx: PageContext,
  connections: OverviewConnection[],
  budgets: BudgetView[],
): string {
  const now = ctx.now;
  const sections = connections.map(({ overview: o, problems: p }, index) => {
    const id = `c${index}`;
    const problemTotal = p.dead + p.retrying + p.inDoubt + p.invalid;
    return html`<section aria-labelledby="${id}-h">
<h2 id="${id}-h">Connection ${o.connection}</h2>
<dl class="cards">
<div><dt>Orders pushed</dt><dd>${o.ordersPushed}</dd></div>
<div><dt>Shipments written</dt><dd>${o.shipmentsWritten}</dd></div>
<div><dt>Jobs queued</dt><dd>${o.queue.queued}</dd></div>
<div><dt>Problems</dt><dd>${problemTotal > 0 ? html`<a href="/problems?connection=${o.connection}">${problemTotal}</a>` : '0'}</dd></div>
</dl>
${table(
  `Polls of ${o.connection}`,
  ['Flow', 'Every', 'Last run', 'Last success', 'Next run', 'State'],
  o.polls.map(
    (poll) =>
      html`<tr><th scope="row">${POLL_NAMES[poll.kind] ?? poll.kind}</th><td>${duration(poll.intervalMs)}</td><td>${time(poll.lastRunAt, now)}</td><td>${time(poll.lastSuccessAt, now)}</td><td>${time(poll.nextRunAt, now)}</td><td>${
        poll.failures > 0
          ? html`<span class="state-retrying">failing (${poll.failures}×)</span><br>${poll.lastError ?? ''}`
          : (poll.lastState ?? 'not run yet')
      }</td></tr>`,
  ),
  'No polls are scheduled for this connection.',
)}
${table(
  `Jobs of ${o.connection} by state`,
  ['Queued', 'Running', 'Succeeded', 'Dead', 'Cancelled'],
  [
    html`<tr><td class="num">${o.queue.queued}</td><td class="num">${o.queue.running}</td><td class="num">${o.queue.succeeded}</td><td class="num">${o.queue.dead}</td><td class="num">${o.queue.cancelled}</td></tr>`,
  ],
)}
<h3>Throughput</h3>
${throughputChart(o.throughput, id)}
<h3>Health</h3>
${table(
  `Health of the systems ${o.connection} talks to`,
  ['System', 'Last success', 'Last error', 'Message'],
  o.health.map(
    (h) =>
      html`<tr><th scope="row">${SYSTEM_NAMES[h.system]}</th><td>${time(h.lastSuccessAt, now)}</td><td>${time(h.lastErrorAt, now)}</td><td>${
        h.lastErrorAt !== null && (h.lastSuccessAt ?? 0) < h.lastErrorAt
          ? html`<span class="state-dead">failing:</span> ${h.lastError ?? ''}`
          : (h.lastError ?? '')
      }</td></tr>`,
  ),
)}
</section>`;
  });
  const budgetTable = table(
    'ShipStation request budget (per API key, shared by every process and connection on it)',
    ['Key', 'Left in this window', 'Limit'],
    budgets.map(
      (b) =>
        html`<tr><th scope="row">${b.key}</th><td class="num">${b.remaining}</td><td class="num">${b.limit}</td></tr>`,
    ),
    'No ShipStation request made yet.',
  );
  return page({
    title: 'Overview',
    path: '/',
    ctx,
    body: html`${sections.length > 0 ? sections : html`<p>No connection is configured.</p>`}
<section aria-labelledby="budget-h"><h2 id="budget-h">ShipStation budget</h2>${budgetTable}</section>
<p class="muted">As of ${time(now)}. Reload the page for fresh figures.</p>`,
  });
}
