/**
 * HTML building for the dashboard's pages: a tagged template that escapes every interpolated value
 * unless it is already `Html` (built by this template or `raw`), so a page cannot carry markup from
 * the data it shows (SYSPRO's messages, addresses, search terms). Pure.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

type Value = Html | string | number | boolean | null | undefined | Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (value instanceof Html) return value.text;
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i] as Value) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Markup the caller vouches for (built here, never from data). */
export function raw(text: string): Html {
  return new Html(text);
}

/** `2026-12-01 23:43:16 UTC` in a `<time>` element, or a dash. */
export function time(ms: number | null | undefined, now?: number): Html {
  if (ms == null || !Number.isFinite(ms) || ms <= 0) return html`<span class="muted">never</span>`;
  const iso = new Date(ms).toISOString();
  const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
  const rel = now === undefined ? '' : ` (${relative(ms, now)})`;
  return html`<time datetime="${iso}">${text}</time>${rel}`;
}

/** "3 min ago", "in 12 s". */
export function relative(ms: number, now: number): string {
  const d = ms - now;
  const a = Math.abs(d);
  const unit =
    a < 60_000
      ? `${Math.round(a / 1000)} s`
      : a < 3_600_000
        ? `${Math.round(a / 60_000)} min`
        : a < 86_400_000
          ? `${Math.round(a / 3_600_000)} h`
          : `${Math.round(a / 86_400_000)} d`;
  return d >= 0 ? `in ${unit}` : `${unit} ago`;
}

export function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** Query string of the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
