/** The Records pages: the search (with its CSV export) and one record's whole path. */
import type { RecordPath, RecordSummary } from '../store/records.js';
import { type Html, html, query, time } from './html.js';
import { type PageContext, page, table } from './layout.js';
import { recordHref } from './problems.js';

export interface RecordsForm {
  q?: string;
  connection?: string;
  type?: string;
  /** `YYYY-MM-DD` (UTC). */
  from?: string;
  to?: string;
}

export function recordsPage(
  ctx: PageContext,
  form: RecordsForm,
  results: RecordSummary[] | undefined,
  connections: string[],
): string {
  const option = (value: string, label: string, current: string | undefined) =>
    html`<option value="${value}"${current === value ? html` selected` : ''}>${label}</option>`;
  const body = html`
<form method="get" action="/records" class="filters" role="search" aria-label="Search records">
<label>Sales order, ShipStation order, shipment or tracking number <input name="q" value="${form.q ?? ''}" type="search"></label>
<label>Connection <select name="connection">${option('', 'all', form.connection)}${connections.map((c) => option(c, c, form.connection))}</select></label>
<label>Type <select name="type">${option('', 'orders and shipments', form.type)}${option('order', 'orders', form.type)}${option('shipment', 'shipments', form.type)}${option('customer', 'customers', form.type)}</select></label>
<label>From (UTC date) <input name="from" type="date" value="${form.from ?? ''}"></label>
<label>To (UTC date, inclusive) <input name="to" type="date" value="${form.to ?? ''}"></label>
<button type="submit">Search</button>
</form>
${
  results === undefined
    ? html`<p class="muted">Search by any key, or leave the box empty to list the most recent records.</p>`
    : html`<p>${results.length} record${results.length === 1 ? '' : 's'}. <a href="/records.csv${query({ ...form })}" download>Download these as CSV</a></p>
${table(
  'Records found',
  ['Record', 'Sales order', 'ShipStation order', 'Tracking', 'Last step', 'When'],
  results.map(
    (r) =>
      html`<tr><td><a href="${recordHref(r.connection, r)}">${r.entityType} ${r.entityKey}</a>${connections.length > 1 ? html`<br><span class="muted">${r.connection}</span>` : ''}</td><td>${r.salesOrder ?? ''}</td><td>${r.shipstationOrder ?? ''}</td><td>${r.trackingNumbers.join(', ')}</td><td><span class="outcome-${r.lastOutcome}">${r.lastAction} (${r.lastOutcome})</span>${r.lastError ? html`<br>${r.lastError}` : ''}</td><td>${time(r.lastAt, ctx.now)}</td></tr>`,
  ),
  'No record matches.',
)}`
}`;
  return page({ title: 'Records', path: '/records', ctx, body });
}

function detailBlock(detail: unknown): Html {
  if (detail === null || detail === undefined) return html``;
  if (typeof detail !== 'object') return html`<pre>${String(detail)}</pre>`;
  const d = detail as Record<string, unknown>;
  const parts: Html[] = [];
  const named: Array<[string, string]> = [
    ['read', 'Read'],
    ['received', 'Received from ShipStation'],
    ['sent', 'Sent to ShipStation'],
    ['posted', 'Posted to SYSPRO'],
    ['answer', 'Answer'],
    ['response', 'Response'],
    ['request', 'Request'],
  ];
  const rest: Record<string, unknown> = { ...d };
  for (const [key, label] of named) {
    if (d[key] === undefined) continue;
    delete rest[key];
    parts.push(
      html`<details><summary>${label}</summary><pre>${JSON.stringify(d[key], null, 2)}</pre></details>`,
    );
  }
  if (Object.keys(rest).length > 0)
    parts.push(
      html`<details${parts.length === 0 ? ' open' : ''}><summary>Details</summary><pre>${JSON.stringify(rest, null, 2)}</pre></details>`,
    );
  return html`${parts}`;
}

export function recordPage(ctx: PageContext, path: RecordPath): string {
  const s = path.summary;
  const title = `${s.entityType === 'order' ? 'Sales order' : s.entityType === 'shipment' ? 'Shipment' : s.entityType} ${s.entityType === 'order' && s.salesOrder ? s.salesOrder : s.entityKey}`;
  const body = html`
<p><a href="/records">← Records</a></p>
<dl class="settings">
<dt>Connection</dt><dd>${s.connection}</dd>
<dt>Key</dt><dd>${s.entityKey}</dd>
${s.salesOrder ? html`<dt>Sales order</dt><dd>${s.salesOrder}</dd>` : ''}
${s.shipstationOrder ? html`<dt>ShipStation order</dt><dd>${s.shipstationOrder}</dd>` : ''}
${s.trackingNumbers.length > 0 ? html`<dt>Tracking</dt><dd>${s.trackingNumbers.join(', ')}</dd>` : ''}
${path.link ? html`<dt>State</dt><dd>${path.link.state ?? 'unknown'}${path.link.shipstationId ? ` · ShipStation id ${path.link.shipstationId}` : ''}</dd>` : ''}
</dl>
<h2>Path</h2>
<ol class="path">${path.steps.map(
    (st) =>
      html`<li><h3><span class="outcome-${st.outcome}">${st.stage}</span></h3><p>${time(st.at, ctx.now)} · ${st.flow} ${st.action} (${st.outcome})${st.jobId !== null ? ` · job ${st.jobId}` : ''}</p>${st.error ? html`<p class="error">${st.error}</p>` : ''}${detailBlock(st.detail)}</li>`,
  )}</ol>
<h2>Jobs</h2>
${table(
  'Jobs that carried this record',
  ['Job', 'Kind', 'State', 'Attempts', 'Created', 'Finished', 'Last error'],
  path.jobs.map(
    (j) =>
      html`<tr><td>${j.id}</td><td>${j.kind}</td><td>${j.state}${j.inDoubt ? ' (in doubt)' : ''}</td><td class="num">${j.attempts}</td><td>${time(j.createdAt, ctx.now)}</td><td>${time(j.finishedAt, ctx.now)}</td><td>${j.lastError ?? ''}</td></tr>`,
  ),
  'No job is kept for this record (finished jobs are purged after the retention period).',
)}
${
  path.jobs.some((j) => j.history.length > 0)
    ? table(
        'Attempts',
        ['Job', 'Attempt', 'Outcome', 'Finished', 'Error'],
        path.jobs.flatMap((j) =>
          j.history.map(
            (a) =>
              html`<tr><td>${j.id}</td><td class="num">${a.attempt}</td><td>${a.outcome}</td><td>${time(a.finishedAt, ctx.now)}</td><td>${a.error ?? ''}</td></tr>`,
          ),
        ),
      )
    : ''
}`;
  return page({ title, path: '/records', ctx, body });
}
