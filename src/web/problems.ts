/**
 * The Problems page: one block per cause (`groupProblems`), in plain words: what failed, for which
 * order or shipment, SYSPRO's or ShipStation's own message, attempts and next retry; Retry and
 * Dismiss per problem, per cause, and for everything the filter shows; and the dismissal history.
 */
import type { Dismissal, Problem, ProblemFilter, ProblemGroup } from '../store/problems.js';
import { type Html, html, query, time } from './html.js';
import { csrfField, type PageContext, page, table } from './layout.js';

/** How many problems of one cause the page lists (the count and the group actions cover all). */
export const LISTED_PER_GROUP = 50;

const STATE_WORDS: Record<Problem['state'], string> = {
  retrying: 'failed, will retry',
  dead: 'gave up',
  'in-doubt': 'in doubt',
  invalid: 'cannot be sent',
};

const KIND_SOURCE: Record<string, string> = {
  'orders.push': 'ShipStation said',
  'shipments.poll': 'ShipStation said',
  'shipments.writeback': 'SYSPRO said',
  'orders.poll': 'SYSPRO said',
  'customers.poll': 'SYSPRO said',
  'inventory.poll': 'SYSPRO said',
};

export function recordHref(connection: string, record: { entityType: string; entityKey: string }): string {
  return `/records/${encodeURIComponent(connection)}/${encodeURIComponent(record.entityType)}/${encodeURIComponent(record.entityKey)}`;
}

function filterFields(filter: ProblemFilter): Html {
  return html`${Object.entries(filter)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => html`<input type="hidden" name="${k}" value="${String(v)}">`)}`;
}

function stateOf(p: Pick<Problem, 'state' | 'attempts' | 'nextRetryAt'>, now: number): Html {
  return html`<span class="state-${p.state}">${STATE_WORDS[p.state]}</span>${
    p.state === 'retrying' && p.nextRetryAt !== null ? html`, next try ${time(p.nextRetryAt, now)}` : ''
  }`;
}

function problemRow(ctx: PageContext, p: Problem, filter: ProblemFilter): Html {
  const subject = p.subject.record
    ? html`<a href="${recordHref(p.connection, p.subject.record)}">${p.subject.label}</a>`
    : html`${p.subject.label}`;
  const actions = html`${
    p.jobId !== null
      ? html`<form method="post" action="/problems/retry" class="inline">${csrfField(ctx)}${filterFields(filter)}<input type="hidden" name="id" value="${p.id}"><button type="submit" aria-label="Retry ${p.subject.label}">Retry</button></form>`
      : ''
  }
<form method="post" action="/problems/dismiss" class="inline">${csrfField(ctx)}${filterFields(filter)}<input type="hidden" name="id" value="${p.id}"><label>Why <input name="why" required maxlength="500" aria-label="Why dismiss ${p.subject.label}" size="12"></label> <button type="submit" class="secondary" aria-label="Dismiss ${p.subject.label}">Dismiss</button></form>`;
  return html`<tr><td>${subject}${p.jobId !== null ? html`<br><span class="muted">job ${p.jobId}</span>` : ''}</td><td>${stateOf(p, ctx.now)}${p.inDoubt ? html`<br><span class="muted">may have taken effect: checked before sending again</span>` : ''}</td><td class="num">${p.attempts}</td><td>${p.message}</td><td>${actions}</td></tr>`;
}

function groupBlock(ctx: PageContext, g: ProblemGroup, filter: ProblemFilter, index: number): Html {
  const id = `g${index}`;
  const source = g.jobKind ? (KIND_SOURCE[g.jobKind] ?? 'The error') : 'The problems';
  const first = g.problems[0];
  const listed = g.problems.slice(0, LISTED_PER_GROUP);
  const retries = g.problems.filter((p) => p.nextRetryAt !== null).map((p) => p.nextRetryAt as number);
  return html`<article class="group" aria-labelledby="${id}-h">
<h2 id="${id}-h">${g.what}</h2>
<p><span class="state-${g.state}">${STATE_WORDS[g.state]}</span> · ${g.count === 1 ? '1 record' : `${g.count} records`} · connection ${g.connection}${g.jobKind ? ` · ${g.jobKind}` : ''} · since ${time(g.firstAt, ctx.now)}${
    retries.length > 0 ? html` · next try ${time(Math.min(...retries), ctx.now)}` : ''
  }${first && g.count === 1 && first.jobId !== null ? ` · ${first.attempts} attempt${first.attempts === 1 ? '' : 's'}` : ''}</p>
<p>${source}${g.count > 1 ? ' (first of them)' : ''}:</p>
<blockquote>${g.message}</blockquote>
${g.state === 'in-doubt' ? html`<p>The write may have taken effect: a retry checks ${g.jobKind === 'orders.push' ? 'ShipStation' : 'SYSPRO'} before sending anything again.</p>` : ''}
<div class="actions">
${
  g.retryable
    ? html`<form method="post" action="/problems/retry" class="inline">${csrfField(ctx)}${filterFields(filter)}<input type="hidden" name="causeId" value="${g.causeId}"><button type="submit">Retry ${g.count === 1 ? '' : `all ${g.count}`}</button></form>`
    : html`<p class="muted">Fix it at the source; the next poll picks it up.</p>`
}
<form method="post" action="/problems/dismiss" class="inline">${csrfField(ctx)}${filterFields(filter)}<input type="hidden" name="causeId" value="${g.causeId}"><label for="${id}-why">Why dismiss${g.count === 1 ? '' : ` all ${g.count}`}</label> <input id="${id}-why" name="why" required maxlength="500"> <button type="submit" class="secondary">Dismiss${g.count === 1 ? '' : ` all ${g.count}`}</button></form>
</div>
<details${g.count <= 3 ? ' open' : ''}><summary>${g.count === 1 ? 'The record' : `The ${g.count} records${g.count > listed.length ? ` (first ${listed.length})` : ''}`}</summary>
${table(
  `Records failing with this cause`,
  ['Record', 'State', 'Attempts', 'Message', 'Actions'],
  listed.map((p) => problemRow(ctx, p, filter)),
)}
</details>
</article>`;
}

export interface ProblemsView {
  filter: ProblemFilter;
  groups: ProblemGroup[];
  total: number;
  connections: string[];
  kinds: string[];
  dismissals: Dismissal[];
}

export function problemsPage(ctx: PageContext, v: ProblemsView): string {
  const f = v.filter;
  const option = (value: string, label: string, current: string | undefined) =>
    html`<option value="${value}"${current === value ? html` selected` : ''}>${label}</option>`;
  const retryable = v.groups.some((g) => g.retryable);
  const body = html`
<form method="get" action="/problems" class="filters" role="search" aria-label="Filter problems">
<label>Connection <select name="connection">${option('', 'all', f.connection)}${v.connections.map((c) => option(c, c, f.connection))}</select></label>
<label>What <select name="kind">${option('', 'everything', f.kind)}${v.kinds.map((k) => option(k, k, f.kind))}${option('record', 'orders that cannot be sent', f.kind)}</select></label>
<label>State <select name="state">${option('', 'any', f.state)}${(['retrying', 'dead', 'in-doubt', 'invalid'] as const).map((s) => option(s, STATE_WORDS[s], f.state))}</select></label>
<label>Text <input name="text" value="${f.text ?? ''}" placeholder="order, message…"></label>
<button type="submit">Filter</button>
${Object.values(f).some((x) => x) ? html`<a href="/problems">Clear</a>` : ''}
</form>
<p>${v.total === 0 ? 'No problems' : `${v.total} problem${v.total === 1 ? '' : 's'} in ${v.groups.length} cause${v.groups.length === 1 ? '' : 's'}`}${Object.values(f).some((x) => x) ? ' match the filter' : ''}.</p>
${
  retryable && v.groups.length > 1
    ? html`<form method="post" action="/problems/retry" class="inline">${csrfField(ctx)}${filterFields(f)}<input type="hidden" name="all" value="1"><button type="submit">Retry all shown</button></form>`
    : ''
}
${v.groups.map((g, i) => groupBlock(ctx, g, f, i))}
<section aria-labelledby="dismissed-h"><h2 id="dismissed-h">Dismissed</h2>
${table(
  'Dismissed problems (newest first)',
  ['When', 'Who', 'Why', 'What', 'Problem'],
  v.dismissals.map(
    (d) =>
      html`<tr><td>${time(d.at, ctx.now)}</td><td>${d.who}</td><td>${d.why}</td><td>${
        d.entityType && d.entityKey
          ? html`<a href="${recordHref(d.connection, { entityType: d.entityType, entityKey: d.entityKey })}">${d.entityType} ${d.entityKey}</a>`
          : ''
      }${d.jobId !== null ? ` (job ${d.jobId})` : ''}</td><td>${d.problem ?? ''}</td></tr>`,
  ),
  'Nothing dismissed yet.',
)}
</section>`;
  return page({ title: 'Problems', path: '/problems', ctx, body });
}

export function problemsQuery(filter: ProblemFilter): string {
  return query({ ...filter });
}
