/**
 * `ml-connector start` (`npm start`), as a new user runs it: the real binary in an empty directory,
 * with no configuration, so the demo runs (both sandboxes in process, SQLite in ./data/), on port 0
 * and with short polls and auto-ship so that the whole path (SYSPRO → ShipStation → label →
 * dispatch note back in SYSPRO) happens in seconds. Nothing sleeps to let time pass: bounded loops.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { openStore } from '../../src/store/open.js';
import { BIN } from '../helpers/cli.js';

interface StartProcess {
  child: ChildProcess;
  stdout: () => string;
  output: () => string;
  exited: Promise<number>;
}

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

function spawnStart(cwd: string, args: string[]): StartProcess {
  const child = spawn(process.execPath, [BIN, 'start', ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  void exited.then(() => clearTimeout(timer));
  return { child, stdout: () => stdout, output: () => `${stdout}\n--- stderr\n${stderr}`, exited };
}

async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  output: () => string,
  capMs: number,
) {
  const until = Date.now() + capMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const DEMO = ['--port', '0', '--demo-interval', '2s', '--auto-ship', '2s'];

/** The service address from the first line, once printed. */
async function address(run: StartProcess): Promise<string> {
  let url = '';
  await waitFor(
    () => {
      const first = run.stdout().split('\n')[0] ?? '';
      url = /^ml-connector is running at (http:\/\/127\.0\.0\.1:\d+)/.exec(first)?.[1] ?? '';
      return url !== '';
    },
    'the first line naming the address',
    run.output,
    30_000,
  );
  return url;
}

async function counts(
  dir: string,
): Promise<{ links: number; notes: number; firstAudit: number | undefined }> {
  const store = openStore(`sqlite:${join(dir, 'data', 'ml-connector.db')}`);
  try {
    const links = await store.db
      .selectFrom('links')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('entity_type', '=', 'order')
      .executeTakeFirstOrThrow();
    const notes = await store.db
      .selectFrom('audit')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('action', '=', 'dispatch-note')
      .where('outcome', '=', 'ok')
      .executeTakeFirstOrThrow();
    const first = await store.db.selectFrom('audit').select('at').orderBy('id').limit(1).executeTakeFirst();
    return {
      links: Number(links.n),
      notes: Number(notes.n),
      firstAudit: first ? Number(first.at) : undefined,
    };
  } finally {
    await store.close();
  }
}

describe('ml-connector start (npm start)', () => {
  it('demo: address first, /readyz, orders out and dispatch notes back; SIGTERM exit 0; restart keeps ./data/; --fresh starts over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlc-start-'));
    const first = spawnStart(dir, DEMO);
    const url = await address(first);
    assert.match(first.stdout(), /\/healthz/);
    // The second line says how to log in to the dashboard; the password it prints works.
    const login = /^Log in with any name and the password (\S+) .*Bearer (\S+),/.exec(
      first.stdout().split('\n')[1] ?? '',
    );
    assert.ok(login, 'the second line gives the password and the API token');
    const session = await fetch(`${url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ who: 'test', password: login[1] as string, next: '/' }),
    });
    assert.equal(session.status, 303);
    assert.match(session.headers.get('set-cookie') ?? '', /mlc_session=.*HttpOnly/i);
    const api = await fetch(`${url}/api/connections`, { headers: { authorization: `Bearer ${login[2]}` } });
    assert.equal(api.status, 200);
    assert.match(first.stdout(), /--config data\/demo\.yaml orders show \d+/);
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200);
    assert.ok(existsSync(join(dir, 'data', 'demo.yaml')));

    let seen = { links: 0, notes: 0, firstAudit: undefined as number | undefined };
    await waitFor(
      async () => {
        seen = await counts(dir);
        return seen.links > 0 && seen.notes > 0;
      },
      'orders pushed and a dispatch note written back',
      first.output,
      90_000,
    );
    // The progress line on the terminal says so too (printed every 2 s when the counts change).
    await waitFor(
      () => /dispatch notes written back to SYSPRO [1-9]/.test(first.stdout()),
      'the progress line',
      first.output,
      10_000,
    );
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, first.output().slice(-2000));
    const afterFirst = await counts(dir);

    // Restart: the data is kept (the same links, the same history) and the demo says so.
    const second = spawnStart(dir, DEMO);
    const url2 = await address(second);
    assert.equal((await fetch(`${url2}/readyz`)).status, 200);
    assert.match(second.stdout(), /kept \.\/data\//);
    const kept = await counts(dir);
    assert.ok(kept.links >= afterFirst.links, `links kept: ${kept.links} >= ${afterFirst.links}`);
    assert.ok(kept.notes >= afterFirst.notes);
    assert.equal(kept.firstAudit, afterFirst.firstAudit);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output().slice(-2000));

    // --fresh: a new store (its history starts after this start).
    const freshAt = Date.now();
    const third = spawnStart(dir, ['--fresh', ...DEMO]);
    await address(third);
    assert.doesNotMatch(third.stdout(), /kept \.\/data\//);
    const fresh = await counts(dir);
    assert.ok(
      fresh.firstAudit === undefined || fresh.firstAudit >= freshAt - 1000,
      `fresh store: first audit row at ${fresh.firstAudit}, start at ${freshAt}`,
    );
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0, third.output().slice(-2000));
  });

  it('with ./ml-connector.yaml it is run with that configuration; demo flags are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlc-start-config-'));
    writeFileSync(
      join(dir, 'ml-connector.yaml'),
      stringify({
        store: { url: 'sqlite:./data/ml-connector.db' },
        http: { host: '127.0.0.1', port: 0 },
        shutdownTimeout: '5s',
        connections: [
          {
            name: 'main',
            syspro: {
              enetUrl: 'http://127.0.0.1:1/SYSPROWCFService/Rest',
              odataUrl: 'http://127.0.0.1:1/SYSPRO8/OData',
              operator: 'ADMIN',
              company: 'EDU1',
            },
            shipstation: { apiKey: 'secret:shipstation.apiKey', apiSecret: 'secret:shipstation.apiSecret' },
            polls: { orders: 0, shipments: 0, customers: 0 },
          },
        ],
      }),
    );
    const refused = spawnStart(dir, ['--fresh']);
    assert.notEqual(await refused.exited, 0);
    assert.match(refused.output(), /only apply to the demo/);

    const run = spawnStart(dir, []);
    await waitFor(
      () => /"ml-connector run started"/.test(run.stdout()),
      'the run start line',
      run.output,
      30_000,
    );
    assert.ok(!existsSync(join(dir, 'data', 'demo.yaml')), 'no demo');
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.output().slice(-2000));
  });
});
