import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEnvOverrides } from './env.js';

describe('applyEnvOverrides', () => {
  it('refuses a variable naming a connection the file does not have; matches dashed names', () => {
    const raw = { connections: [{ name: 'east-1' }] };
    assert.throws(
      () => applyEnvOverrides(raw, { ML_CONNECTOR_CONNECTIONS__MIAN__SYSPRO__OPERATOR: 'X' }),
      /ML_CONNECTOR_CONNECTIONS__MIAN__SYSPRO__OPERATOR names connection "mian", which is not in the configuration \(known: east-1\)/,
    );
    const out = applyEnvOverrides(raw, { ML_CONNECTOR_CONNECTIONS__EAST_1__SYSPRO__OPERATOR: 'X' });
    assert.deepEqual(out.connections, [{ name: 'east-1', syspro: { operator: 'X' } }]);
    const fromEnv = applyEnvOverrides({}, { ML_CONNECTOR_CONNECTIONS__A__SYSPRO__OPERATOR: 'X' });
    assert.deepEqual(fromEnv.connections, [{ name: 'a', syspro: { operator: 'X' } }]);
  });

  it('sets nested fields, matching keys case-insensitively and parsing scalars', () => {
    const out = applyEnvOverrides(
      { http: { port: 8080 }, connections: [{ name: 'main', syspro: { enetUrl: 'http://a' } }] },
      {
        ML_CONNECTOR_HTTP__PORT: '9001',
        ML_CONNECTOR_STORE__URL: 'postgres://u@h/db',
        ML_CONNECTOR_CONNECTIONS__MAIN__SYSPRO__ENET_URL: 'http://b',
        ML_CONNECTOR_CONNECTIONS__MAIN__SYSPRO__VALIDATE_ONLY: 'true',
      },
    );
    assert.deepEqual(out, {
      http: { port: 9001 },
      store: { url: 'postgres://u@h/db' },
      connections: [{ name: 'main', syspro: { enetUrl: 'http://b', validateOnly: true } }],
    });
  });

  it("leaves reserved variables (master key, secrets, config path, the bin's NO_BUNDLE) alone", () => {
    const out = applyEnvOverrides(
      {},
      {
        ML_CONNECTOR_MASTER_KEY: 'x',
        ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: 'z',
        ML_CONNECTOR_CONFIG: 'f.yaml',
        ML_CONNECTOR_NO_BUNDLE: '1',
        OTHER: '1',
      },
    );
    assert.deepEqual(out, {});
    // The key *file* is a config path like any other.
    assert.deepEqual(applyEnvOverrides({}, { ML_CONNECTOR_MASTER_KEY_FILE: 'y' }), { masterKeyFile: 'y' });
  });

  it('does not change the object it was given', () => {
    const raw = { http: { port: 1 } };
    applyEnvOverrides(raw, { ML_CONNECTOR_HTTP__PORT: '2' });
    assert.equal(raw.http.port, 1);
  });
});
