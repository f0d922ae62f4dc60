/**
 * Issue #14, "a CLI a careful operator can trust": the real bin, in a scratch directory. Usage
 * errors (a bad flag value) exit 2 and name the flag; failures exit 1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { completeJobs } from '../../src/store/jobs/complete.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/open.js';
import { BIN, runCli } from '../helpers/cli.js';

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'mlc-operator-'));
}

/** A directory with a configuration whose store is a SQLite file in it. */
function configured(extra = ''): { cwd: string; url: string } {
  const cwd = freshDir();
  const url = `sqlite:${join(cwd, 'store.db')}`;
  writeFileSync(join(cwd, 'ml-connector.yaml'), `store:\n  url: "${url}"\n${extra}`);
  return { cwd, url };
}

describe('durations need a unit', () => {
  for (const [args, flag, example] of [
    [['jobs', 'purge', '--older-than', '1'], '--older-than', '7d'],
    [['sandbox', '--auto-ship', '5'], '--auto-ship', '30s'],
    [['start', '--auto-ship', '5'], '--auto-ship', '20s'],
    [['start', '--demo-interval', '2'], '--demo-interval', '15s'],
    [['replay', '--since', '2'], '--since', '2h'],
    [['ping', '--timeout', '5'], '--timeout', '5s'],
    [['ping', '--timeout', 'abc'], '--timeout', '5s'],
  ] as const) {
    it(`${args.join(' ')} is a usage error naming ${flag}`, async () => {
      const { cwd } = configured();
      const result = await runCli([...args], { cwd });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`option '${flag} <\\w+>' argument '${args.at(-1)}' is invalid`));
      assert.match(result.stderr, new RegExp(`e\\.g\\. ${example}`));
      assert.equal(result.stdout, '', 'nothing ran');
      assert.doesNotMatch(result.stderr, /FAIL|Purged|Unexpected/);
    });
  }

  it('help shows the defaults in the units the flags take', async () => {
    const cwd = freshDir();
    const ping = await runCli(['ping', '--help'], { cwd });
    assert.match(ping.stdout, /--timeout <duration>[\s\S]*\(default: 15s\)/);
    const sandbox = await runCli(['sandbox', '--help'], { cwd });
    assert.match(sandbox.stdout, /--auto-ship <delay>[\s\S]*\(default: 1m\)/);
    assert.doesNotMatch(sandbox.stdout, /default: 60000/);
  });

  it('jobs purge --dry-run lists what would go and deletes nothing', async () => {
    const { cwd, url } = configured();
    const store = openStore(url);
    try {
      await migrateToLatest(store);
      const long = Date.now() - 10 * 86_400_000;
      for (let i = 0; i < 3; i++) {
        const { id } = await enqueueJob(
          store,
          { kind: 'orders.poll', connection: 'main', idempotencyKey: `p${i}` },
          long,
        );
        await claimJobs(store, { kind: 'orders.poll', limit: 1, owner: 'w', leaseMs: 1000, now: long });
        await completeJobs(store, 'w', [{ id }], long);
      }
      const dry = await runCli(['jobs', 'purge', '--older-than', '7d', '--dry-run'], { cwd });
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /^orders\.poll\tsucceeded\t3$/m);
      assert.match(dry.stdout, /Dry run: would purge 3 finished jobs older than 7d .*nothing deleted/);
      const left = await store.db.selectFrom('jobs').select('id').execute();
      assert.equal(left.length, 3, 'the dry run deleted nothing');
      const real = await runCli(['jobs', 'purge', '--older-than', '7d'], { cwd });
      assert.match(real.stdout, /^Purged 3 finished jobs older than 7d/);
      assert.equal((await store.db.selectFrom('jobs').select('id').execute()).length, 0);
    } finally {
      await store.close();
    }
  });
});

describe('--version', () => {
  it('prints the package version', async () => {
    const result = await runCli(['--version'], { cwd: freshDir() });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout.trim(), /^\d+\.\d+\.\d+/);
  });
});

describe('no configuration file: no new store or master key by surprise', () => {
  it('creds set from the wrong directory refuses and creates nothing; --init proceeds', async () => {
    const cwd = freshDir();
    const refused = await runCli(['creds', 'set', 'main', 'x'], { cwd, stdin: 'v' });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /No configuration file found \(looked for .*ml-connector\.yaml\).*new master key.*--init/,
    );
    assert.ok(!existsSync(join(cwd, 'data')), 'neither a store nor a key was created');
    const list = await runCli(['creds', 'list'], { cwd });
    assert.equal(list.code, 1);
    assert.match(list.stderr, /No configuration file found.*new, empty store/);
    assert.ok(!existsSync(join(cwd, 'data')));

    const init = await runCli(['creds', 'set', 'main', 'x', '--init'], { cwd, stdin: 'v' });
    assert.equal(init.code, 0, init.stderr);
    assert.ok(existsSync(join(cwd, 'data', 'master.key')));
    const after = await runCli(['creds', 'list'], { cwd });
    assert.match(after.stdout, /main\tx\t/, 'an existing store is used without --init');
  });

  it('ML_CONNECTOR_INIT=1 proceeds too, and a configuration file needs neither', async () => {
    const env = await runCli(['creds', 'set', 'main', 'x'], {
      cwd: freshDir(),
      stdin: 'v',
      env: { ML_CONNECTOR_INIT: '1' },
    });
    assert.equal(env.code, 0, env.stderr);
    const { cwd } = configured();
    const withConfig = await runCli(['creds', 'set', 'main', 'x'], { cwd, stdin: 'v' });
    assert.equal(withConfig.code, 0, withConfig.stderr);
  });
});

describe('environment overrides', () => {
  it('one naming an unknown connection says so', async () => {
    const { cwd } = configured('connections:\n  - name: main\n    syspro: { operator: ADMIN }\n');
    const result = await runCli(['config', 'check'], {
      cwd,
      env: { ML_CONNECTOR_CONNECTIONS__MIAN__SYSPRO__OPERATOR: 'OTHER' },
    });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /ML_CONNECTOR_CONNECTIONS__MIAN__SYSPRO__OPERATOR names connection "mian", which is not in the configuration \(known: main\)/,
    );
  });
});

describe('one master key for all credentials', () => {
  const keyA = Buffer.alloc(32, 1).toString('base64');
  const keyB = Buffer.alloc(32, 2).toString('base64');

  it('creds set refuses a key other than the one the stored rows use; creds rekey moves them all', async () => {
    const { cwd, url } = configured();
    const a = { ML_CONNECTOR_MASTER_KEY: keyA };
    assert.equal((await runCli(['creds', 'set', 'main', 'one'], { cwd, stdin: 'v1', env: a })).code, 0);
    const wrong = await runCli(['creds', 'set', 'main', 'two'], {
      cwd,
      stdin: 'v2',
      env: { ML_CONNECTOR_MASTER_KEY: keyB },
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Not stored: 1 credential\(s\) .* another master key .*creds rekey/);
    const store = openStore(url);
    try {
      const names = async () =>
        (await store.db.selectFrom('secrets').select(['name', 'key_id']).orderBy('name').execute()).map(
          (r) => `${r.name}:${r.key_id}`,
        );
      assert.equal((await names()).length, 1, 'nothing stored under the other key');

      const newKey = join(cwd, 'new.key');
      writeFileSync(newKey, `${keyB}\n`, { mode: 0o600 });
      const rekey = await runCli(['creds', 'rekey', '--new-key-file', newKey], { cwd, env: a });
      assert.equal(rekey.code, 0, rekey.stderr);
      assert.match(rekey.stdout, /Re-encrypted 1 credential\(s\) from key \w+ to key \w+/);
      const b = { ML_CONNECTOR_MASTER_KEY: keyB };
      assert.equal((await runCli(['creds', 'set', 'main', 'two'], { cwd, stdin: 'v2', env: b })).code, 0);
      const rows = await names();
      assert.equal(rows.length, 2);
      assert.equal(new Set(rows.map((r) => r.split(':')[1])).size, 1, 'all rows under one key');
      const { getSecret } = await import('../../src/store/secrets.js');
      const { loadMasterKey } = await import('../../src/store/master-key.js');
      const master = loadMasterKey({ env: b, file: '-', create: false });
      assert.equal(
        await getSecret(store.db, master, 'main', 'one'),
        'v1',
        'the old row opens under the new key',
      );
      const old = await runCli(['creds', 'set', 'main', 'three'], { cwd, stdin: 'v3', env: a });
      assert.equal(old.code, 1, 'the old key is refused now');
    } finally {
      await store.close();
    }
  });

  it('a secret typed at a terminal is not echoed', async () => {
    const { cwd, url } = configured();
    const secret = 'typed-s3cret-value';
    const child = spawn('script', ['-qec', `${process.execPath} ${BIN} creds set main typed`, '/dev/null'], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ML_CONNECTOR_MASTER_KEY: keyA },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('press Enter')) resolve();
      });
    });
    child.stdin.write(`${secret}\r`);
    const code = await closed;
    assert.equal(code, 0, out);
    assert.match(out, /Stored typed for connection main/);
    assert.ok(!out.includes(secret), `the terminal showed the secret: ${out}`);
    const store = openStore(url);
    try {
      const { getSecret } = await import('../../src/store/secrets.js');
      const { loadMasterKey } = await import('../../src/store/master-key.js');
      const master = loadMasterKey({ env: { ML_CONNECTOR_MASTER_KEY: keyA }, file: '-', create: false });
      assert.equal(await getSecret(store.db, master, 'main', 'typed'), secret);
    } finally {
      await store.close();
    }
  });
});

describe('sandbox --write-config', () => {
  it('does not overwrite an existing file without --force (and starts nothing)', async () => {
    const cwd = freshDir();
    const file = join(cwd, 'ml-connector.yaml');
    writeFileSync(file, '# my real configuration\n');
    const result = await runCli(
      ['sandbox', '--write-config', file, '--shipstation-port', '0', '--syspro-port', '0'],
      { cwd },
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /already exists; --write-config does not overwrite it\. Pass --force/);
    assert.equal(result.stdout, '', 'no sandbox started');
    assert.equal(readFileSync(file, 'utf8'), '# my real configuration\n');
  });
});

describe('a broken store is a clear message, not "Unexpected error"', () => {
  it('a file that is not a database names the store and what to do', async () => {
    const { cwd } = configured();
    writeFileSync(
      join(cwd, 'store.db'),
      'this is not a database, it was overwritten by mistake\n'.repeat(200),
    );
    for (const args of [['jobs'], ['migrate'], ['creds', 'list']]) {
      const result = await runCli(args, { cwd });
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(
        result.stderr,
        /The SQLite store sqlite:.*store\.db is damaged .*restore the file from a backup/,
      );
      assert.doesNotMatch(result.stderr, /Unexpected error|report it/);
    }
  });

  it('migrate does not call a malformed database up to date', async () => {
    const { cwd } = configured();
    assert.equal((await runCli(['migrate'], { cwd })).code, 0);
    const file = join(cwd, 'store.db');
    const bytes = readFileSync(file);
    // Keep the header page, scribble over every page after it.
    for (let i = 4096; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    writeFileSync(file, bytes);
    const result = await runCli(['migrate'], { cwd });
    assert.notEqual(result.code, 0, result.stdout);
    assert.doesNotMatch(result.stdout, /up to date/);
    assert.match(result.stderr, /The SQLite store sqlite:.*store\.db is damaged/);
    assert.doesNotMatch(result.stderr, /Unexpected error/);
  });

  it('an unreachable PostgreSQL names the store with its password masked', async () => {
    const cwd = freshDir();
    const password = 'pg-pa55-not-shown';
    writeFileSync(
      join(cwd, 'ml-connector.yaml'),
      `store:\n  url: "postgres://app:${password}@127.0.0.1:1/connector"\n`,
    );
    for (const args of [['jobs'], ['migrate']]) {
      const result = await runCli(args, { cwd });
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        /Cannot reach the PostgreSQL store postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/connector \(ECONNREFUSED\)\. Check that the server is running/,
      );
      assert.ok(!result.stderr.includes(password));
      assert.doesNotMatch(result.stderr, /Unexpected error/);
    }
  });
});
