import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

const SECRET = 'pl41n-t3xt-shipstation-secret';

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'mlc-cli-'));
}

const CONFIG = `
connections:
  - name: main
    syspro:
      enetUrl: http://127.0.0.1:1/SYSPROWCFService/Rest
      odataUrl: http://127.0.0.1:1/SYSPRO8/OData
      operator: ADMIN
      company: EDU1
    shipstation:
      apiKey: secret:shipstation.apiKey
      apiSecret: secret:shipstation.apiSecret
`;

/** A user-facing failure: non-zero exit, one paragraph, no stack trace. */
function assertOneParagraphError(result: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.notEqual(result.code, 0);
  const text = result.stderr.trim();
  assert.match(text, pattern);
  assert.doesNotMatch(text, /\n\s*\n/, 'one paragraph');
  assert.doesNotMatch(text, /\bat .+:\d+:\d+/, 'no stack trace');
}

describe('ml-connector CLI (foundation)', () => {
  it('--help lists the commands', async () => {
    const result = await runCli(['--help'], { cwd: freshDir() });
    assert.equal(result.code, 0);
    for (const command of ['migrate', 'creds', 'config'])
      assert.match(result.stdout, new RegExp(`\\n\\s+${command}\\b`));
  });

  it('migrate creates the SQLite database in an empty directory, and a second run is a no-op', async () => {
    const cwd = freshDir();
    const first = await runCli(['migrate'], { cwd });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied 0001-initial/);
    assert.ok(existsSync(join(cwd, 'data', 'ml-connector.db')));
    const second = await runCli(['migrate'], { cwd });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /up to date/);
  });

  it('creds set reads stdin, creates a 0600 key file, and nothing stores or prints the plaintext', async () => {
    const cwd = freshDir();
    const set = await runCli(['--init', 'creds', 'set', 'main', 'shipstation.apiSecret'], {
      cwd,
      stdin: `${SECRET}\n`,
    });
    assert.equal(set.code, 0, set.stderr);
    assert.ok(!set.stdout.includes(SECRET) && !set.stderr.includes(SECRET));
    const keyFile = join(cwd, 'data', 'master.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);

    const list = await runCli(['creds', 'list'], { cwd });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /main\tshipstation\.apiSecret\t\d{4}-\d\d-\d\dT/);
    assert.ok(!list.stdout.includes(SECRET));

    for (const name of readdirSync(join(cwd, 'data'))) {
      if (name === 'master.key') continue;
      assert.equal(readFileSync(join(cwd, 'data', name)).indexOf(SECRET), -1, `${name} holds the plaintext`);
    }
  });

  it('creds set refuses an empty value', async () => {
    const result = await runCli(['creds', 'set', 'main', 'x'], { cwd: freshDir(), stdin: '' });
    assertOneParagraphError(result, /No value on standard input/);
  });

  it('a malformed config gives a one-paragraph error naming the field', async () => {
    const cwd = freshDir();
    writeFileSync(join(cwd, 'ml-connector.yaml'), CONFIG.replace('operator: ADMIN', 'operator: ""'));
    const result = await runCli(['config', 'check'], { cwd });
    assertOneParagraphError(result, /connections\[0 "main"\]\.syspro\.operator/);
  });

  it('a missing secret says how to store it', async () => {
    const cwd = freshDir();
    writeFileSync(join(cwd, 'ml-connector.yaml'), CONFIG);
    await runCli(['creds', 'set', 'main', 'shipstation.apiKey'], { cwd, stdin: 'key' });
    const result = await runCli(['config', 'check'], { cwd });
    assertOneParagraphError(
      result,
      /secret "shipstation\.apiSecret" of connection "main" is not set.*creds set main shipstation\.apiSecret/,
    );
  });

  it('a wrong master key is a clear error, not garbage', async () => {
    const cwd = freshDir();
    writeFileSync(join(cwd, 'ml-connector.yaml'), CONFIG);
    const keyA = Buffer.alloc(32, 1).toString('base64');
    const keyB = Buffer.alloc(32, 2).toString('base64');
    for (const name of ['shipstation.apiKey', 'shipstation.apiSecret']) {
      const r = await runCli(['creds', 'set', 'main', name], {
        cwd,
        stdin: SECRET,
        env: { ML_CONNECTOR_MASTER_KEY: keyA },
      });
      assert.equal(r.code, 0, r.stderr);
    }
    const ok = await runCli(['config', 'check'], { cwd, env: { ML_CONNECTOR_MASTER_KEY: keyA } });
    assert.equal(ok.code, 0, ok.stderr);
    const wrong = await runCli(['config', 'check'], { cwd, env: { ML_CONNECTOR_MASTER_KEY: keyB } });
    assertOneParagraphError(wrong, /different master key.*Set ML_CONNECTOR_MASTER_KEY/);
    assert.ok(!wrong.stderr.includes(SECRET) && !wrong.stdout.includes(SECRET));
  });

  it('a master key that is not 256 bits is refused with what to use instead', async () => {
    const cwd = freshDir();
    const result = await runCli(['creds', 'set', 'main', 'x'], {
      cwd,
      stdin: 'v',
      env: { ML_CONNECTOR_MASTER_KEY: 'short' },
    });
    assertOneParagraphError(result, /not a 256-bit key.*openssl rand -base64 32/);
  });

  it('creds set creates data/ 0700 and the SQLite files 0600', async () => {
    const cwd = freshDir();
    const set = await runCli(['--init', 'creds', 'set', 'main', 'x'], { cwd, stdin: SECRET });
    assert.equal(set.code, 0, set.stderr);
    assert.equal(statSync(join(cwd, 'data')).mode & 0o777, 0o700);
    for (const name of readdirSync(join(cwd, 'data'))) {
      assert.equal(statSync(join(cwd, 'data', name)).mode & 0o777, 0o600, name);
    }
  });

  it('a 43-character password as ML_CONNECTOR_MASTER_KEY is refused, naming the variable', async () => {
    const password = 'CorrectHorseBatteryStapleCorrectHorseBatter';
    const result = await runCli(['creds', 'set', 'main', 'x'], {
      cwd: freshDir(),
      stdin: 'v',
      env: { ML_CONNECTOR_MASTER_KEY: password },
    });
    assertOneParagraphError(result, /ML_CONNECTOR_MASTER_KEY is not a 256-bit key.*openssl rand -base64 32/);
    assert.ok(!result.stderr.includes(password));
  });

  it('a key file others may read is a warning on stderr, and its mode is left alone', async () => {
    const cwd = freshDir();
    mkdirSync(join(cwd, 'data'), { mode: 0o700 });
    const keyFile = join(cwd, 'data', 'master.key');
    writeFileSync(keyFile, `${Buffer.alloc(32, 3).toString('base64')}\n`);
    chmodSync(keyFile, 0o640);
    const set = await runCli(['--init', 'creds', 'set', 'main', 'x'], { cwd, stdin: SECRET });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stderr, /^Warning: The master key file .*master\.key has mode 0640.*chmod 600/);
    assert.equal(statSync(keyFile).mode & 0o777, 0o640);
  });

  it('config check names where the store password comes from, never the password', async () => {
    const cwd = freshDir();
    const password = 'pg-pa55word-never-printed';
    writeFileSync(
      join(cwd, 'ml-connector.yaml'),
      'store:\n  url: postgres://app@127.0.0.1:1/connector\n  password: secret:store.password\n',
    );
    const ok = await runCli(['config', 'check'], {
      cwd,
      env: { ML_CONNECTOR_SECRET_STORE_PASSWORD: password },
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Store: postgres:\/\/app@127\.0\.0\.1:1\/connector\n/);
    assert.match(
      ok.stdout,
      /Store password: secret "store\.password" from the environment \(ML_CONNECTOR_SECRET_STORE_PASSWORD\)/,
    );
    assert.ok(!ok.stdout.includes(password) && !ok.stderr.includes(password));

    const inline = await runCli(['config', 'check'], {
      cwd: freshDir(),
      env: { ML_CONNECTOR_STORE__URL: `postgres://app:${password}@127.0.0.1:1/connector` },
    });
    assert.equal(inline.code, 0, inline.stderr);
    assert.match(inline.stdout, /Store: postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/connector\n/);
    assert.match(inline.stdout, /Store password: in store\.url/);
    assert.ok(!inline.stdout.includes(password) && !inline.stderr.includes(password));

    const missing = await runCli(['config', 'check'], { cwd });
    assertOneParagraphError(
      missing,
      /ML_CONNECTOR_SECRET_STORE_PASSWORD.*not set.*cannot come from `ml-connector creds set`/,
    );
  });
});
