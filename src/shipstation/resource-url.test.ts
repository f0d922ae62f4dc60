import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkResourceUrl } from './resource-url.js';

const allowed = (url: string, hosts: string[] = []) => checkResourceUrl(url, hosts).ok;

describe('checkResourceUrl', () => {
  it('accepts ShipStation API hosts and their numbered shards over https', () => {
    assert.ok(allowed('https://ssapi.shipstation.com/shipments?batchId=1&includeShipmentItems=False'));
    assert.ok(
      allowed('https://ssapi6.shipstation.com/shipments?batchId=190671332&includeShipmentItems=False'),
    );
    assert.ok(allowed('https://SSAPI13.shipstation.com/orders?importBatch=6c4f2d15'));
  });

  it('refuses look-alikes, other schemes, ports and user information', () => {
    for (const url of [
      'https://evil.example/shipments?batchId=1',
      'https://ssapi.shipstation.com.evil.example/shipments',
      'https://evilssapi.shipstation.com/shipments',
      'https://ssapiX.shipstation.com/shipments',
      'https://api.shipstation.com/v2/batches/se-1',
      'https://ssapi.shipstation.com.:443@evil.example/',
      'https://user:pass@ssapi.shipstation.com/shipments',
      'http://ssapi.shipstation.com/shipments',
      'https://ssapi.shipstation.com:8443/shipments',
      'ftp://ssapi.shipstation.com/shipments',
      '/shipments?batchId=1',
      'not a url',
    ]) {
      const result = checkResourceUrl(url);
      assert.equal(result.ok, false, url);
      if (!result.ok) assert.ok(result.reason.length > 0);
    }
  });

  it('accepts hosts configured explicitly, by host or host:port', () => {
    assert.ok(allowed('http://127.0.0.1:43121/shipments?batchId=1', ['127.0.0.1:43121']));
    assert.ok(allowed('http://127.0.0.1:43121/shipments?batchId=1', ['127.0.0.1']));
    assert.ok(!allowed('http://127.0.0.1:43122/shipments?batchId=1', ['127.0.0.1:43121']));
    assert.ok(!allowed('http://localhost:43121/shipments', ['127.0.0.1:43121']));
    assert.ok(!allowed('file:///etc/passwd', ['127.0.0.1']));
  });
});
