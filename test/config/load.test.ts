import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, UserError } from '../../src/config/index.js';

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlc-config-'));
  const file = join(dir, 'ml-connector.yaml');
  writeFileSync(file, text);
  return file;
}

const VALID = `
store:
  url: sqlite:./data/test.db
connections:
  - name: main
    syspro:
      enetUrl: http://erp.example:20161/SYSPROWCFService/Rest
      odataUrl: http://erp.example:40000/SYSPRO8/OData
      operator: ADMIN
      operatorPassword: secret:syspro.operatorPassword
      company: EDU1
    shipstation:
      apiKey: secret:shipstation.apiKey
      apiSecret: secret:shipstation.apiSecret
    polls:
      orders: 5m
`;

function errorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('loadConfig', () => {
  it('reads a valid file and fills defaults', () => {
    const { config } = loadConfig({ file: writeConfig(VALID), env: {} });
    const main = config.connections[0]!;
    assert.equal(main.polls.orders, 300_000);
    assert.equal(main.polls.shipments, 600_000);
    assert.deepEqual(main.shipstation.apiSecret, { secret: 'shipstation.apiSecret' });
    assert.equal(main.shipstation.v1Url, 'https://ssapi.shipstation.com');
    assert.equal(main.shipstation.rateLimit.limit, 40);
    assert.equal(main.syspro.writeback, 'dispatch-note');
    assert.deepEqual(config.retry.cadence, [60_000, 300_000, 900_000, 3_600_000, 21_600_000]);
    assert.equal(config.http.port, 8080);
  });

  it("resolves relative paths against the file's directory, wherever the command runs", () => {
    const file = writeConfig(VALID);
    const dir = join(file, '..');
    const { config } = loadConfig({ file, env: {} });
    assert.equal(config.store.url, `sqlite:${join(dir, 'data', 'test.db')}`);
    assert.equal(config.masterKeyFile, join(dir, 'data', 'master.key'));
    const absolute = loadConfig({
      file: writeConfig('store:\n  url: "sqlite:/var/lib/mlc/x.db"\nmasterKeyFile: /etc/mlc/key\n'),
      env: {},
    }).config;
    assert.equal(absolute.store.url, 'sqlite:/var/lib/mlc/x.db');
    assert.equal(absolute.masterKeyFile, '/etc/mlc/key');
    const memory = loadConfig({ file: writeConfig('store:\n  url: "sqlite::memory:"\n'), env: {} }).config;
    assert.equal(memory.store.url, 'sqlite::memory:');
    const pg = loadConfig({
      file: writeConfig('store:\n  url: "postgres://u@db:5432/mlc"\n'),
      env: {},
    }).config;
    assert.equal(pg.store.url, 'postgres://u@db:5432/mlc');
    // A path set through the environment is relative to where the command runs, as a shell user expects.
    const fromEnv = loadConfig({
      file,
      env: { ML_CONNECTOR_STORE__URL: 'sqlite:./other.db', ML_CONNECTOR_MASTER_KEY_FILE: 'keys/k' },
    }).config;
    assert.equal(fromEnv.store.url, 'sqlite:./other.db');
    assert.equal(fromEnv.masterKeyFile, 'keys/k');
  });

  it('uses defaults when the implicit file does not exist, but not for an explicit one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlc-config-'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      assert.equal(loadConfig({ env: {} }).config.store.url, 'sqlite:./data/ml-connector.db');
    } finally {
      process.chdir(cwd);
    }
    const err = errorOf(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }));
    assert.match(err.message, /does not exist/);
  });

  it('applies ML_CONNECTOR_* environment overrides before validating', () => {
    const { config } = loadConfig({
      file: writeConfig(VALID),
      env: {
        ML_CONNECTOR_STORE__URL: 'postgres://u@db:5432/mlc',
        ML_CONNECTOR_CONNECTIONS__MAIN__POLLS__ORDERS: '15m',
      },
    });
    assert.equal(config.store.url, 'postgres://u@db:5432/mlc');
    assert.equal(config.connections[0]!.polls.orders, 900_000);
  });

  it('names each invalid field and what was expected', () => {
    const bad = VALID.replace('orders: 5m', 'orders: often')
      .replace('http://erp.example:40000/SYSPRO8/OData', 'not a url')
      .replace('operator: ADMIN', 'operator: ADMIN\n      colour: blue');
    const err = errorOf(() => loadConfig({ file: writeConfig(bad), env: {} }));
    assert.match(
      err.message,
      /connections\[0 "main"\]\.polls\.orders: expected a duration like 30s, 5m or 1h, got "often"/,
    );
    assert.match(
      err.message,
      /connections\[0 "main"\]\.syspro\.odataUrl: expected an http:\/\/ or https:\/\/ URL/,
    );
    assert.match(err.message, /connections\[0 "main"\]\.syspro has unknown field\(s\) "colour"/);
    assert.doesNotMatch(err.message, /\n/, 'one paragraph');
  });

  it('refuses freight as an order line with dispatch notes, and takes it with order updates', () => {
    const freight = `${VALID}    freight:\n      enabled: true\n      method: order-line\n`;
    const err = errorOf(() => loadConfig({ file: writeConfig(freight), env: {} }));
    assert.match(
      err.message,
      /connections\[0 "main"\]\.freight\.method: order-line needs syspro\.writeback: order-update/,
    );
    const updates = freight.replace('company: EDU1', 'company: EDU1\n      writeback: order-update');
    const { config } = loadConfig({ file: writeConfig(updates), env: {} });
    assert.equal(config.connections[0]?.freight.method, 'order-line');
  });

  it('refuses a secret written in clear where a reference is expected', () => {
    const err = errorOf(() =>
      loadConfig({ file: writeConfig(VALID.replace('secret:shipstation.apiKey', 'abc123')), env: {} }),
    );
    assert.match(
      err.message,
      /shipstation\.apiKey: expected a secret reference like "secret:shipstation\.apiSecret"/,
    );
    assert.doesNotMatch(err.message, /abc123/, 'the value itself is not repeated');
  });

  it('catches a typo in a nested section instead of ignoring it', () => {
    const err = errorOf(() =>
      loadConfig({ file: writeConfig(VALID.replace('orders: 5m', 'oders: 5m')), env: {} }),
    );
    assert.match(err.message, /connections\[0 "main"\]\.polls has unknown field\(s\) "oders"/);
  });

  it('has defaults for the site-specific client settings', () => {
    const main = loadConfig({ file: writeConfig(VALID), env: {} }).config.connections[0]!;
    assert.equal(main.syspro.maxUrlLength, 16_000);
    assert.equal(main.syspro.responseCharset, 'auto');
    assert.deepEqual(main.syspro.licenceWait, { attempts: 0, delay: 30_000 });
    assert.deepEqual(main.syspro.odata, {
      pageSize: 500,
      maxUrlLength: 2000,
      dateType: 'DateTimeOffset',
      keyList: 'or',
      rangeReads: true,
      rangePageSize: 5000,
    });
    assert.deepEqual(main.shipstation.retry, { attempts: 4, base: 500, max: 30_000 });
    assert.equal(main.shipstation.requestTimeout, 30_000);
  });

  it('reports a missing required field', () => {
    const err = errorOf(() =>
      loadConfig({ file: writeConfig(VALID.replace('      company: EDU1\n', '')), env: {} }),
    );
    assert.match(err.message, /connections\[0 "main"\]\.syspro\.company/);
  });

  it('asks for the credentials of the API a connection uses: V1 the key/secret pair, V2 only its key', () => {
    const v1Pair = '      apiKey: secret:shipstation.apiKey\n      apiSecret: secret:shipstation.apiSecret\n';
    assert.ok(VALID.includes(v1Pair));
    // V1 without its pair, or with half of it: refused, naming the field.
    const noPair = errorOf(() =>
      loadConfig({ file: writeConfig(VALID.replace(v1Pair, '      api: v1\n')), env: {} }),
    );
    assert.match(noPair.message, /shipstation\.apiKey.*shipstation\.api is v1: set shipstation\.apiKey/s);
    assert.match(noPair.message, /shipstation\.apiSecret/);
    const half = errorOf(() =>
      loadConfig({
        file: writeConfig(
          VALID.replace(
            v1Pair,
            '      api: v2\n      v2ApiKey: secret:shipstation.v2ApiKey\n      apiKey: secret:shipstation.apiKey\n',
          ),
        ),
        env: {},
      }),
    );
    assert.match(half.message, /shipstation\.apiKey is set without shipstation\.apiSecret/);
    // V2 with only its key (an account without V1 access): valid.
    const v2Only = VALID.replace(v1Pair, '      api: v2\n      v2ApiKey: secret:shipstation.v2ApiKey\n');
    const { config } = loadConfig({ file: writeConfig(v2Only), env: {} });
    assert.equal(config.connections[0]?.shipstation.apiKey, undefined);
    assert.equal(config.connections[0]?.shipstation.api, 'v2');
    // ...unless marketplace orders are on: they are V1 only.
    const channel = errorOf(() =>
      loadConfig({
        file: writeConfig(`${v2Only}    channelOrders:\n      enabled: true\n      defaultCustomer: CASH\n`),
        env: {},
      }),
    );
    assert.match(channel.message, /channelOrders \(marketplace orders\) use V1: set shipstation\.apiKey/);
    // V2 without its key: refused.
    const noKey = errorOf(() =>
      loadConfig({ file: writeConfig(VALID.replace(v1Pair, '      api: v2\n')), env: {} }),
    );
    assert.match(noKey.message, /shipstation\.api is v2: set shipstation\.v2ApiKey/);
  });

  it('reports YAML syntax errors with the file name', () => {
    const file = writeConfig('connections:\n  - name: main\n   bad: [\n');
    const err = errorOf(() => loadConfig({ file, env: {} }));
    assert.match(err.message, /is not valid YAML/);
    assert.ok(err.message.includes(file));
  });

  it('refuses two connections with the same name', () => {
    const twice = `${VALID}\n${VALID.split('connections:\n')[1]}`;
    const err = errorOf(() => loadConfig({ file: writeConfig(twice), env: {} }));
    assert.match(err.message, /connection name "main" is used twice/);
  });
});
