/** The pure parts of the webhook receiver and subscriptions: URLs, ownership, keys, V2 resource check. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { v2ResourceUrlProblem } from '../../src/http/webhooks.js';
import {
  redactWebhookUrl,
  subscriptionStatus,
  WEBHOOK_KEY_URL_MAX,
  webhookBaseUrl,
  webhookJobKey,
  webhookOwnership,
  webhookSecretProblem,
  webhookTargetUrl,
} from '../../src/sync/webhook-events.js';

describe('webhook URLs and subscriptions', () => {
  const base = webhookBaseUrl('https://connector.example.com/base', 'main');
  const target = webhookTargetUrl(base, 'a'.repeat(32));

  it('builds the route under publicUrl (with or without a trailing slash) and carries the secret as token', () => {
    assert.equal(base, 'https://connector.example.com/base/webhooks/shipstation/main');
    assert.equal(webhookBaseUrl('https://connector.example.com/base/', 'main'), base);
    assert.equal(target, `${base}?token=${'a'.repeat(32)}`);
    assert.equal(redactWebhookUrl(target), `${base}?token=[redacted]`);
  });

  it('tells ours, ours with an old secret and others apart', () => {
    const hook = (Url: string, HookType = 'ITEM_SHIP_NOTIFY') => ({ WebHookID: 1, HookType, Url });
    assert.equal(webhookOwnership(hook(target), base, target), 'ours');
    assert.equal(webhookOwnership(hook(`${base}?token=old`), base, target), 'ours-old-secret');
    assert.equal(
      webhookOwnership(hook(`${base}?token=old`), base),
      'ours',
      'secret unknown: the route decides',
    );
    assert.equal(webhookOwnership(hook(`${base}-2?token=x`), base, target), 'other');
    assert.equal(webhookOwnership(hook('https://other.example.com/hook'), base, target), 'other');
  });

  it('counts an existing SHIP_NOTIFY for the label need, but only on the current URL', () => {
    const status = subscriptionStatus(
      [
        { WebHookID: 1, HookType: 'SHIP_NOTIFY', Url: target },
        { WebHookID: 2, HookType: 'FULFILLMENT_SHIPPED', Url: `${base}?token=old` },
      ],
      target,
    );
    assert.deepEqual(
      status.map((s) => [s.need.subscribe, s.hooks.map((h) => h.WebHookID)]),
      [
        ['ITEM_SHIP_NOTIFY', [1]],
        ['FULFILLMENT_SHIPPED', []],
      ],
    );
  });

  it('refuses short or URL-unsafe secrets', () => {
    assert.match(String(webhookSecretProblem('short')), /shorter than 24/);
    assert.match(String(webhookSecretProblem(`${'a'.repeat(30)} &x`)), /characters other than/);
    assert.equal(webhookSecretProblem('0123456789abcdef0123456789abcdef'), undefined);
  });

  it('keys a job by connection, event and resource_url (as sent; hashed when long)', () => {
    const url = 'https://ssapi6.shipstation.com/shipments?batchId=1&includeShipmentItems=True';
    const key = webhookJobKey('main', 'ITEM_SHIP_NOTIFY', url);
    assert.equal(key, `webhook:main:ITEM_SHIP_NOTIFY:url:${url}`);
    // Consecutive batches sort next to each other (the key index grows at its end).
    const later = [1000, 1001, 1002].map((b) =>
      webhookJobKey('main', 'ITEM_SHIP_NOTIFY', url.replace('=1&', `=${b}&`)),
    );
    assert.deepEqual([...later].sort(), later);
    const long = `${url}&x=${'a'.repeat(WEBHOOK_KEY_URL_MAX)}`;
    assert.match(
      webhookJobKey('main', 'ITEM_SHIP_NOTIFY', long),
      /^webhook:main:ITEM_SHIP_NOTIFY:[0-9a-f]{32}$/,
    );
    assert.notEqual(
      webhookJobKey('main', 'ITEM_SHIP_NOTIFY', `${long}b`),
      webhookJobKey('main', 'ITEM_SHIP_NOTIFY', long),
    );
    assert.notEqual(webhookJobKey('main', 'ITEM_SHIP_NOTIFY', url.toUpperCase()), key);
    assert.equal(webhookJobKey('main', 'ITEM_SHIP_NOTIFY', url), key);
    assert.notEqual(webhookJobKey('other', 'ITEM_SHIP_NOTIFY', url), key);
    assert.notEqual(webhookJobKey('main', 'SHIP_NOTIFY', url), key);
    assert.notEqual(webhookJobKey('main', 'ITEM_SHIP_NOTIFY', `${url}&storeID=1`), key);
  });
});

describe('V2 resource_url check', () => {
  it('takes https://api.shipstation.com/v2/… and configured hosts only', () => {
    assert.equal(v2ResourceUrlProblem('https://api.shipstation.com/v2/labels/se-1/track', []), undefined);
    assert.equal(
      v2ResourceUrlProblem('http://127.0.0.1:7401/v2/batches/se-1', ['127.0.0.1:7401']),
      undefined,
    );
    for (const [url, reason] of [
      ['http://api.shipstation.com/v2/labels/se-1', /https/],
      ['https://api.shipstation.com:8443/v2/labels/se-1', /https/],
      ['https://api.shipstation.com.evil.example/v2/x', /not the ShipStation API host/],
      ['https://user:pw@api.shipstation.com/v2/x', /user information/],
      ['https://api.shipstation.com/v1/x', /not a V2 resource/],
      ['https://api.shipstation.com/v2/../admin', /not written plainly/],
      ['https://api.shipstation.com/v2/%2e%2e/x', /not written plainly/],
      ['https://api.shipstation.com/v2/x#frag', /fragment/],
      ['not a url', /not a valid/],
    ] as const) {
      assert.match(String(v2ResourceUrlProblem(url, [])), reason, url);
    }
  });
});
