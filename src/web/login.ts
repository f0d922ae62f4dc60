/** The login page (no session yet, so no navigation). */
import { html } from './html.js';
import { page } from './layout.js';

export function loginPage(options: { next: string; error?: string; configured: boolean }): string {
  const body = options.configured
    ? html`${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
<form method="post" action="/login" class="stack">
<input type="hidden" name="next" value="${options.next}">
<label for="who">Your name <span class="muted">(kept in the history of what you retry or dismiss)</span></label>
<input id="who" name="who" autocomplete="username" required maxlength="80">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>
<p class="muted">The demo (<code>npm start</code> without a configuration) prints its password when it starts. Otherwise the password is the one whose hash is <code>dashboard.passwordHash</code> in the configuration (<code>ml-connector dashboard hash-password</code>).</p>`
    : html`<p class="error" role="alert">No password is set, so the dashboard is closed. Set <code>dashboard.passwordHash</code> (or <code>ML_CONNECTOR_DASHBOARD__PASSWORD_HASH</code>) to the output of <code>ml-connector dashboard hash-password</code>, then restart.</p>`;
  return page({ title: 'Log in', path: '/login', body });
}
