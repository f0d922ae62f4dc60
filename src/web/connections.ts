/** The Connections page: each connection's settings (read only), Test connection and webhooks. */
import type { ConnectionConfig } from '../config/schema.js';
import type { CheckResult } from '../sync/ping.js';
import { duration, type Html, html, time } from './html.js';
import { csrfField, type PageContext, page, table } from './layout.js';

export interface ConnectionView {
  connection: ConnectionConfig;
  webhookUrl: string | undefined;
  /** The last "Test connection" of this process, if any. */
  lastPing?: { at: number; results: CheckResult[] };
}

function secret(ref: { secret: string } | undefined): string {
  return ref ? `stored secret “${ref.secret}”` : 'not set';
}

export function checksTable(results: CheckResult[]): Html {
  return table(
    'Checks',
    ['Check', 'Result', 'Detail', 'What to do', 'Time'],
    results.map(
      (r) =>
        html`<tr><th scope="row">${r.check}</th><td class="verdict-${r.verdict}">${r.verdict}</td><td>${r.detail}</td><td>${r.advice ?? ''}</td><td class="num">${r.ms} ms</td></tr>`,
    ),
  );
}

export function connectionsPage(ctx: PageContext, views: ConnectionView[]): string {
  const body = html`${views.map((v, i) => {
    const c = v.connection;
    const webhooks = v.lastPing?.results.filter((r) => r.check.startsWith('webhook')) ?? [];
    return html`<section aria-labelledby="k${i}-h">
<h2 id="k${i}-h">Connection ${c.name}</h2>
<form method="post" action="/connections/${encodeURIComponent(c.name)}/ping">${csrfField(ctx)}<button type="submit">Test connection</button> <span class="muted">logs on to SYSPRO and off again, reads one row of each table, asks ShipStation for its stores and webhooks; writes nothing</span></form>
${v.lastPing ? html`<h3>Last test, ${time(v.lastPing.at, ctx.now)}</h3>${checksTable(v.lastPing.results)}` : ''}
<h3>SYSPRO</h3>
<dl class="settings">
<dt>e.net</dt><dd>${c.syspro.enetUrl}</dd>
<dt>OData</dt><dd>${c.syspro.odataUrl}</dd>
<dt>Operator</dt><dd>${c.syspro.operator} (password: ${secret(c.syspro.operatorPassword)})</dd>
<dt>Company</dt><dd>${c.syspro.company} (password: ${secret(c.syspro.companyPassword)})</dd>
<dt>Order statuses sent</dt><dd>${c.syspro.orderStatuses.join(', ')}</dd>
<dt>Write-back</dt><dd>${c.syspro.writeback}${c.syspro.validateOnly ? ' (validate only: nothing is posted)' : ''}</dd>
<dt>Time zone</dt><dd>${c.syspro.timezone}</dd>
</dl>
<h3>ShipStation</h3>
<dl class="settings">
<dt>API</dt><dd>${c.shipstation.api.toUpperCase()} (orders and shipments use it)</dd>
<dt>V1</dt><dd>${c.shipstation.v1Url} (key: ${secret(c.shipstation.apiKey)}, secret: ${secret(c.shipstation.apiSecret)})</dd>
<dt>V2</dt><dd>${c.shipstation.v2Url} (key: ${secret(c.shipstation.v2ApiKey)})</dd>
<dt>Store</dt><dd>${c.shipstation.storeId ?? 'default'}</dd>
<dt>Budget</dt><dd>${c.shipstation.rateLimit.limit} requests per ${duration(c.shipstation.rateLimit.window)} (V1)</dd>
</dl>
<h3>Polls</h3>
<dl class="settings">${(['orders', 'shipments', 'customers', 'inventory'] as const).map(
      (k) => html`<dt>${k}</dt><dd>${c.polls[k] > 0 ? `every ${duration(c.polls[k])}` : 'off'}</dd>`,
    )}</dl>
<h3>Webhooks</h3>
<dl class="settings">
<dt>Receiver URL</dt><dd>${v.webhookUrl ?? 'not set (http.publicUrl): shipments are found by polling only'}</dd>
<dt>Secret</dt><dd>${secret(c.shipstation.webhookSecret)}</dd>
</dl>
${
  webhooks.length > 0
    ? table(
        'Webhook subscriptions (from the last test)',
        ['Check', 'State', 'Detail'],
        webhooks.map(
          (r) =>
            html`<tr><th scope="row">${r.check}</th><td class="verdict-${r.verdict}">${r.verdict}</td><td>${r.detail}</td></tr>`,
        ),
      )
    : html`<p class="muted">Test the connection to see ShipStation's subscriptions and their state.</p>`
}
</section>`;
  })}`;
  return page({ title: 'Connections', path: '/connections', ctx, body });
}
