/**
 * `webhooks subscribe` with an `http.publicUrl` ShipStation cannot reach (loopback, private,
 * link-local): run as a user would, the real binary against ShipStation sandboxes, counted in the
 * sandboxes' own subscriptions. A ShipStation that is not on this machine (a sandbox bound to this
 * machine's network address, not to loopback) gets nothing subscribed without `--force`, and a
 * warning either way; the sandbox on loopback, which reaches such a URL, is subscribed as before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { runCli } from '../helpers/cli.js';

/** This machine's first IPv4 address that is not loopback, if it has one. */
function networkAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

const SECRET = 'public-url-test-webhook-secret-0123456789';

describe('webhooks subscribe and an http.publicUrl ShipStation cannot reach', () => {
  const address = networkAddress();
  let remote: ShipStationSandbox | undefined;
  let local: ShipStationSandbox;

  before(async () => {
    if (address) remote = await startShipStationSandbox({ port: 0, seed: 31, host: address });
    local = await startShipStationSandbox({ port: 0, seed: 32 });
  });
  after(async () => {
    await remote?.close();
    await local?.close();
  });

  /** A directory with a configuration for `shipstation` whose http.publicUrl is `publicUrl`. */
  function site(shipstation: ShipStationSandbox, url: string, publicUrl: string) {
    const cwd = mkdtempSync(join(tmpdir(), 'mlc-webhooks-url-'));
    const document = sandboxConfigDocument('main', {
      shipstation: { url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: {
        enetUrl: 'http://127.0.0.1:9',
        odataUrl: 'http://127.0.0.1:9',
        operator: 'o',
        operatorPassword: 'p',
        company: 'c',
        companyPassword: 'p',
      },
    }) as { http: Record<string, unknown>; connections: Array<{ shipstation: Record<string, unknown> }> };
    document.http.publicUrl = publicUrl;
    document.connections[0]!.shipstation.webhookSecret = 'secret:shipstation.webhookSecret';
    writeFileSync(join(cwd, 'ml-connector.yaml'), stringify(document));
    const env = {
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: shipstation.apiKey,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: shipstation.apiSecret,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_V2APIKEY: shipstation.v2ApiKey,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_WEBHOOKSECRET: SECRET,
    };
    return { cwd, env };
  }

  it('subscribes nothing for a ShipStation off this machine, with a warning and what to do; --force subscribes', async (t) => {
    if (!remote) return t.skip('this machine has no network address but loopback');
    const url = `http://${address}:${new URL(remote.url).port}`;
    for (const [publicUrl, words] of [
      ['http://127.0.0.1:8080', 'a loopback address'],
      ['http://192.168.1.20:8080', 'a private \\(LAN\\) address'],
      ['http://[fe80::1]:8080', 'a link-local address'],
    ] as const) {
      const refused = await runCli(['webhooks', 'subscribe'], site(remote, url, publicUrl));
      assert.equal(refused.code, 1, refused.stdout + refused.stderr);
      assert.match(
        refused.stderr,
        new RegExp(
          `^Warning: main: http\\.publicUrl is ${publicUrl.replace(/[.[\]]/g, '\\$&')}, ${words}: ShipStation cannot reach this machine there`,
          'm',
        ),
      );
      assert.match(refused.stderr, /To fix: set http\.publicUrl to an https:\/\/ address .*a tunnel/);
      assert.match(refused.stderr, /Error: Nothing subscribed: .*pass --force to subscribe anyway/);
      assert.equal(remote.state.webhooks.size, 0, `nothing subscribed for ${publicUrl}`);
    }

    const forced = await runCli(
      ['webhooks', 'subscribe', '--force'],
      site(remote, url, 'http://10.0.0.5:8080'),
    );
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    assert.match(forced.stderr, /^Warning: main: http\.publicUrl is http:\/\/10\.0\.0\.5:8080, a private/m);
    assert.match(forced.stdout, /^main: subscribed ITEM_SHIP_NOTIFY/m);
    const hooks = [...remote.state.webhooks.values()];
    assert.ok(hooks.length >= 2, `subscribed (${hooks.length})`);
    for (const hook of hooks)
      assert.match(hook.targetUrl, /^http:\/\/10\.0\.0\.5:8080\/webhooks\/shipstation\/main\?/);
  });

  it('subscribes the sandbox on loopback to a loopback http.publicUrl, without a warning', async () => {
    const result = await runCli(['webhooks', 'subscribe'], site(local, local.url, 'http://127.0.0.1:8080'));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.doesNotMatch(result.stderr, /Warning/);
    assert.match(result.stdout, /^main: subscribed FULFILLMENT_SHIPPED/m);
    assert.ok(local.state.webhooks.size >= 2);
  });
});
