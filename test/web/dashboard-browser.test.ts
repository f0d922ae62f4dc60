/**
 * The dashboard in a real browser (Playwright driving Debian's Chromium, `CHROMIUM_PATH` or
 * /usr/bin/chromium) against `ml-connector start` (the demo, a child process, in an empty
 * directory): a wrong password is refused and the printed one logs in; the Overview shows the
 * connection; SYSPRO is made to fail through its sandbox, the write-back appears in Problems with
 * SYSPRO's message, the fault is cleared, Retry is pressed, and the shipment is written (counted in
 * the SYSPRO sandbox's call log); the record is found by its tracking number and its CSV
 * downloaded; Test connection shows every check. Every page is checked at desktop and phone width
 * (no sideways scrolling, screenshots saved), by axe-core (no serious or critical violation), by
 * keyboard (skip link first, then the navigation), and with JavaScript off (it still reads). No
 * request leaves 127.0.0.1 and the console stays free of errors. One browser for the file.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { BIN } from '../helpers/cli.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOT_DIR ?? join(tmpdir(), 'mlc-dashboard-screenshots');
const PAGES = ['/', '/problems', '/records', '/connections', '/api/docs'];
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  capMs = 45_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > capMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('dashboard in Chromium against npm start', {
  skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`,
}, () => {
  let child: ChildProcess;
  let output = '';
  let base = '';
  let password = '';
  let token = '';
  let sysproUrl = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const external: string[] = [];
  const consoleErrors: string[] = [];

  const api = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, path);
    // biome-ignore lint/suspicious/noExplicitAny: the tests read JSON answers loosely
    return (await res.json()) as Record<string, any>;
  };
  const watch = (p: Page) => {
    p.on('request', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('data:')) external.push(r.url());
    });
    p.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${p.url()}: ${m.text()}`);
    });
    p.on('pageerror', (e) => consoleErrors.push(`${p.url()}: ${e.message}`));
  };

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const dir = mkdtempSync(join(tmpdir(), 'mlc-browser-'));
    child = spawn(
      process.execPath,
      [BIN, 'start', '--port', '0', '--demo-interval', '2s', '--auto-ship', '1s'],
      {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    await waitFor(
      'the banner',
      () => /password \S+ .*\n[\s\S]*SYSPRO\s+http/.test(output) || undefined,
      30_000,
    );
    base = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
    password = /the password (\S+)/.exec(output)?.[1] ?? '';
    token = /Bearer (\S+?),/.exec(output)?.[1] ?? '';
    sysproUrl = /SYSPRO\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
    assert.ok(base && password && token && sysproUrl, output);
    browser = await chromium.launch({ executablePath: CHROMIUM });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    watch(page);
  });
  after(async () => {
    await browser?.close();
    child?.kill('SIGTERM');
  });

  it('refuses a wrong password and logs in with the printed one', async () => {
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/login\?next=%2F$/);
    await page.getByLabel('Your name').fill('Ann');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong password' }).waitFor();
    await page.getByLabel('Your name').fill('Ann');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByRole('heading', { name: 'Connection main' }).waitFor();
    assert.ok(await page.getByText('Signed in as').isVisible());
  });

  it('shows a SYSPRO failure in Problems with its message; Retry after the fix writes the shipment', async () => {
    await waitFor('the demo to write shipments back', async () =>
      (await api('/api/connections')).connections[0].overview.shipmentsWritten > 0 ? true : undefined,
    );
    const put = await fetch(`${sysproUrl}/_sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flags: ['fail:SORTDN=1:error'] }),
    });
    assert.equal(put.status, 200);
    const entered = await fetch(`${sysproUrl}/_sandbox/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: '000000000000027', lines: [{ stockCode: 'CAB0100', qty: 2 }] }),
    });
    assert.equal(entered.status, 201);
    const { salesOrder } = (await entered.json()) as { salesOrder: string };
    const problem = await waitFor('the write-back to fail', async () => {
      const body = await api('/api/problems?kind=shipments.writeback');
      return body.groups
        .flatMap((g: { problems: unknown[] }) => g.problems)
        .find((p: { subject: { salesOrder?: string } }) => p.subject.salesOrder === salesOrder) as
        | { subject: { trackingNumbers: string[] } }
        | undefined;
    });
    const tracking = problem.subject.trackingNumbers[0] as string;

    await page.getByRole('link', { name: 'Problems' }).click();
    await page.getByRole('heading', { level: 1, name: 'Problems' }).waitFor();
    const group = page.locator('article').filter({ hasText: `sales order ${salesOrder}` });
    await group.getByText('sandbox injected failure for SORTDN').first().waitFor();
    assert.ok(await group.getByText('gave up').first().isVisible());

    assert.equal((await fetch(`${sysproUrl}/_sandbox/faults`, { method: 'DELETE' })).status, 204);
    await group
      .getByRole('button', { name: /^Retry/ })
      .first()
      .click();
    await page
      .getByRole('status')
      .filter({ hasText: /Retried [1-9]/ })
      .waitFor();
    const calls = async () => {
      const res = await fetch(
        `${sysproUrl}/_sandbox/calls?businessObject=SORTDN&outcome=ok&contains=${encodeURIComponent(tracking)}`,
      );
      const body = (await res.json()) as
        | { calls?: Array<{ validateOnly: boolean }> }
        | Array<{ validateOnly: boolean }>;
      const list = Array.isArray(body) ? body : (body.calls ?? []);
      return list.filter((c) => !c.validateOnly).length;
    };
    await waitFor('SYSPRO to get the dispatch note', async () => ((await calls()) >= 1 ? true : undefined));
    await waitFor('the problem to resolve', async () => {
      const body = await api('/api/problems?kind=shipments.writeback');
      return body.total === 0 ? true : undefined;
    });
    assert.equal(await calls(), 1, 'written once');
    await page.reload();
    assert.equal(
      await page
        .locator('article')
        .filter({ hasText: `sales order ${salesOrder}` })
        .count(),
      0,
    );

    // Records: by tracking number, the whole path, and the CSV of the search.
    await page.getByRole('link', { name: 'Records', exact: true }).click();
    await page.getByLabel(/tracking number/).fill(tracking);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('1 record.').waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download these as CSV' }).click();
    const csv = readFileSync((await (await download).path()) as string, 'utf8');
    assert.match(csv, /^connection,type,key,sales_order/);
    assert.ok(csv.includes(tracking));
    await page.getByRole('table').getByRole('link').first().click();
    await page.getByRole('heading', { name: 'written to SYSPRO: failed' }).first().waitFor();
    await page.getByRole('heading', { name: 'written to SYSPRO', exact: true }).waitFor();
    await page.getByRole('heading', { name: 'operator: retry' }).waitFor();
  });

  it('runs Test connection and shows each check', async () => {
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByRole('button', { name: 'Test connection' }).click();
    // The demo polls every 2 s and so spends V1's 40 requests a minute: a V1 check may find no slot
    // and then says "not checked" (a warning), never a failure. Without http.publicUrl (port 0) the
    // webhook URL is a warning too.
    const status = page.getByRole('status').filter({ hasText: /^Connection main: / });
    await status.waitFor({ timeout: 30_000 });
    assert.match(
      (await status.textContent()) ?? '',
      /^Connection main: no check failed; \d+ of \d+ with a warning\.$/,
    );
    const verdict = (check: string) =>
      page
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: check, exact: true }) })
        .locator('td')
        .first();
    assert.equal(await verdict('syspro e.net logon').textContent(), 'pass');
    assert.equal(await verdict('syspro business objects').textContent(), 'pass');
    const v1 = page
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'shipstation v1 auth', exact: true }) });
    const v1Verdict = await v1.locator('td').first().textContent();
    if (v1Verdict === 'warn') assert.match((await v1.textContent()) ?? '', /not checked: .*request budget/);
    else assert.equal(v1Verdict, 'pass');
  });

  it('every page: keyboard, phone width, axe, screenshots, JavaScript off', async () => {
    // Keyboard: the skip link comes first and moves to the content; then the navigation.
    await page.goto(`${base}/problems`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Overview');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

    const state = await context.storageState();
    const phone = await browser.newContext({
      viewport: { width: 375, height: 740 },
      storageState: state,
      isMobile: true,
    });
    const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: state });
    const axe = await browser.newContext({ bypassCSP: true, storageState: state });
    try {
      const phonePage = await phone.newPage();
      const noJsPage = await noJs.newPage();
      const axePage = await axe.newPage();
      for (const p of [phonePage, noJsPage]) watch(p);
      for (const path of PAGES) {
        const name = path === '/' ? 'overview' : path.replace(/\W+/g, '-').replace(/^-/, '');
        await page.goto(`${base}${path}`);
        await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
        await phonePage.goto(`${base}${path}`);
        await phonePage.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
        const overflow = await phonePage.evaluate(
          () => document.documentElement.scrollWidth - window.innerWidth,
        );
        assert.ok(overflow <= 1, `${path} scrolls sideways at phone width by ${overflow}px`);
        await noJsPage.goto(`${base}${path}`);
        assert.ok(
          await noJsPage.getByRole('heading', { level: 1 }).isVisible(),
          `${path} reads without JavaScript`,
        );
        await axePage.goto(`${base}${path}`);
        await axePage.addScriptTag({ content: axeSource });
        const violations = await axePage.evaluate(async () => {
          const result = await (
            window as unknown as {
              axe: {
                run: (
                  o: unknown,
                ) => Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }>;
              };
            }
          ).axe.run({
            runOnly: ['wcag2a', 'wcag2aa', 'best-practice'],
          });
          return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
        });
        const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(serious, [], `${path}: ${JSON.stringify(serious)}`);
      }
    } finally {
      await phone.close();
      await noJs.close();
      await axe.close();
    }
    assert.deepEqual(external, [], 'no request leaves the connector');
    // The one expected: the 401 of the deliberately wrong password.
    const unexpected = consoleErrors.filter((e) => !/\/login: Failed to load resource: .* 401 /.test(e));
    assert.deepEqual(unexpected, [], 'no console errors');
  });
});
