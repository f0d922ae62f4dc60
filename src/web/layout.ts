/**
 * The frame of every dashboard page: a skip link, the header with the navigation (a landmark, the
 * current page marked `aria-current`), one `<main>` with the page's `<h1>`, a notice (the outcome of
 * the last action) as a status region, and the logout form. No script: the pages are plain HTML and
 * forms, so they read and work with JavaScript off; the one stylesheet is served by us
 * (`/assets/dashboard.css`), nothing is fetched from elsewhere.
 */
import { type Html, html } from './html.js';

export interface PageContext {
  /** Who is logged in (shown, and kept in the history of what they do). */
  who: string;
  /** The session's CSRF token, put in every form that changes something. */
  csrf: string;
  /** The outcome of the last action, shown once. */
  notice?: string;
  now: number;
}

const NAV: Array<[string, string]> = [
  ['/', 'Overview'],
  ['/problems', 'Problems'],
  ['/records', 'Records'],
  ['/connections', 'Connections'],
  ['/api/docs', 'API'],
];

export function csrfField(ctx: Pick<PageContext, 'csrf'>): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}

export function page(options: { title: string; path: string; ctx?: PageContext; body: Html }): string {
  const { ctx } = options;
  const nav = ctx
    ? html`<nav aria-label="Main"><ul>${NAV.map(
        ([href, label]) =>
          html`<li><a href="${href}"${options.path === href ? html` aria-current="page"` : ''}>${label}</a></li>`,
      )}</ul></nav>
      <form method="post" action="/logout" class="logout">${csrfField(ctx)}<span>Signed in as <strong>${ctx.who}</strong></span> <button type="submit">Log out</button></form>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ml-connector</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<link rel="icon" href="data:,">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><p class="brand"><a href="/">ml-connector</a></p>${nav}</header>
<main id="main" tabindex="-1">
<h1>${options.title}</h1>
${ctx?.notice ? html`<p class="notice" role="status">${ctx.notice}</p>` : ''}
${options.body}
</main>
<footer><p>ml-connector · SYSPRO ⇄ ShipStation · <a href="/api/docs">Operator API</a> · <a href="/metrics">Metrics</a></p></footer>
</body>
</html>
`.text;
}

/** A table that scrolls on its own at phone width (focusable, so a keyboard can scroll it). */
export function table(caption: string, head: string[], rows: Html[], empty = 'Nothing to show.'): Html {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<div class="scroll" role="region" aria-label="${caption}" tabindex="0"><table>
<caption>${caption}</caption>
<thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

export const STYLESHEET = `
:root { --fg:#1b1f24; --muted:#57606a; --bg:#fff; --line:#d0d7de; --accent:#0b5cad; --bad:#a40e26; --warn:#7a4d00; --ok:#116329; --soft:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); }
:focus-visible { outline:3px solid #f5a623; outline-offset:2px; }
.skip { position:absolute; left:-9999px; top:0; background:#fff; padding:.5rem; z-index:10; }
.skip:focus { left:.5rem; }
header.top { display:flex; flex-wrap:wrap; align-items:center; gap:.5rem 1.5rem; padding:.5rem 1rem; border-bottom:1px solid var(--line); background:var(--soft); }
.brand { margin:0; font-weight:700; }
.brand a { color:var(--fg); text-decoration:none; }
nav ul { list-style:none; display:flex; flex-wrap:wrap; gap:.25rem 1rem; margin:0; padding:0; }
nav a { display:inline-block; padding:.25rem 0; }
nav a[aria-current="page"] { font-weight:700; color:var(--fg); text-decoration-thickness:3px; }
.logout { margin-left:auto; display:flex; gap:.5rem; align-items:center; flex-wrap:wrap; font-size:.9rem; }
main { padding:1rem; max-width:80rem; margin:0 auto; }
main:focus { outline:none; }
h1 { font-size:1.6rem; margin:.5rem 0 1rem; }
h2 { font-size:1.3rem; margin:1.5rem 0 .5rem; border-bottom:1px solid var(--line); padding-bottom:.25rem; }
h3 { font-size:1.1rem; margin:1rem 0 .25rem; }
footer { padding:1rem; color:var(--muted); font-size:.85rem; border-top:1px solid var(--line); }
.muted { color:var(--muted); }
.notice { background:#ddf4ff; border:1px solid #54aeff; padding:.5rem .75rem; border-radius:4px; }
.error { background:#ffebe9; border:1px solid #ff8182; padding:.5rem .75rem; border-radius:4px; }
.scroll { overflow-x:auto; max-width:100%; }
table { border-collapse:collapse; width:100%; margin:.5rem 0 1rem; font-size:.95rem; }
caption { text-align:left; font-weight:600; padding:.25rem 0; }
th, td { text-align:left; vertical-align:top; padding:.35rem .5rem; border-bottom:1px solid var(--line); }
th { background:var(--soft); }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
.state-dead, .verdict-fail, .outcome-error { color:var(--bad); font-weight:600; }
.state-retrying, .state-in-doubt, .verdict-warn { color:var(--warn); font-weight:600; }
.state-invalid { color:var(--warn); font-weight:600; }
.verdict-pass, .outcome-ok { color:var(--ok); font-weight:600; }
.cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(11rem, 1fr)); gap:.75rem; margin:.5rem 0 1rem; padding:0; }
.cards div { border:1px solid var(--line); border-radius:6px; padding:.5rem .75rem; background:var(--soft); }
.cards dt { color:var(--muted); font-size:.9rem; }
.cards dd { margin:0; font-size:1.4rem; font-weight:700; }
dl.settings { display:grid; grid-template-columns:minmax(8rem, max-content) 1fr; gap:.25rem 1rem; }
dl.settings dt { font-weight:600; }
dl.settings dd { margin:0; overflow-wrap:anywhere; }
form.inline { display:inline; }
form.filters { display:flex; flex-wrap:wrap; gap:.5rem 1rem; align-items:flex-end; margin:.5rem 0 1rem; }
form.filters label, form.stack label { display:flex; flex-direction:column; font-size:.9rem; gap:.15rem; }
form.stack { display:flex; flex-direction:column; gap:.75rem; max-width:24rem; }
input, select, button { font:inherit; padding:.35rem .5rem; border:1px solid #8c959f; border-radius:4px; background:#fff; color:var(--fg); }
button { background:var(--accent); color:#fff; border-color:var(--accent); cursor:pointer; }
button.secondary { background:#fff; color:var(--accent); }
.group { border:1px solid var(--line); border-radius:6px; padding:.5rem 1rem 1rem; margin:0 0 1rem; }
.group h3 { margin-top:.5rem; }
.group .actions { display:flex; flex-wrap:wrap; gap:.5rem 1rem; align-items:flex-end; margin-top:.5rem; }
.group .actions label { display:flex; flex-direction:column; font-size:.9rem; }
blockquote { margin:.5rem 0; padding:.5rem .75rem; border-left:4px solid var(--line); background:var(--soft); overflow-wrap:anywhere; }
pre { background:var(--soft); padding:.5rem; overflow-x:auto; font-size:.85rem; max-width:100%; }
ol.path { padding-left:1.25rem; }
ol.path > li { margin-bottom:1rem; }
svg.chart { width:100%; height:auto; max-width:48rem; display:block; }
svg.chart .orders { fill:#0b5cad; }
svg.chart .shipments { fill:#2da44e; }
svg.chart text { font-size:10px; fill:#57606a; }
.legend { display:flex; gap:1rem; font-size:.9rem; margin:0; padding:0; list-style:none; }
.legend .sw { display:inline-block; width:.8rem; height:.8rem; margin-right:.3rem; vertical-align:middle; }
.sw.orders { background:#0b5cad; } .sw.shipments { background:#2da44e; }
@media (max-width: 40rem) {
  main { padding:.75rem; }
  .logout { margin-left:0; }
  th, td { padding:.3rem; }
}
`;
