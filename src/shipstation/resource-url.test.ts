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
    assert.ok(
      allowed('https://SSAPI13.shipstation.com/orders?importBatch=6c4f2d15-0b7e-4d4a-9c1e-2f3a4b5c6d7e'),
    );
  });

  it('accepts exactly the resource shapes webhooks send (reference §4.2)', () => {
    for (const url of [
      'https://ssapi.shipstation.com/shipments?storeID=123456&batchId=12345678&includeShipmentItems=False',
      'https://ssapi6.shipstation.com/shipments?batchId=190671332&includeShipmentItems=True',
      'https://ssapi6.shipstation.com/shipments?batchId=190671332',
      'https://ssapi.shipstation.com/orders?storeID=123456&importBatch=6C4F2D15-0B7E-4D4A-9C1E-2F3A4B5C6D7E',
      'https://ssapi.shipstation.com/fulfillments?batchId=42',
      'https://ssapi.shipstation.com/fulfillments?storeID=1&batchId=42',
      'https://ssapi.shipstation.com/Shipments?BatchId=1&includeShipmentItems=false',
    ]) {
      const result = checkResourceUrl(url);
      assert.ok(result.ok, `${url}: ${result.ok ? '' : result.reason}`);
    }
  });

  it('refuses other paths, other parameters and path tricks on a ShipStation host', () => {
    for (const url of [
      // Paging the whole account with our credentials.
      'https://ssapi.shipstation.com/shipments?pageSize=1',
      'https://ssapi.shipstation.com/shipments?batchId=1&pageSize=500',
      'https://ssapi.shipstation.com/shipments?batchId=1&page=2',
      'https://ssapi.shipstation.com/shipments?batchId=1&createDateStart=2020-01-01',
      'https://ssapi.shipstation.com/shipments',
      'https://ssapi.shipstation.com/shipments?includeShipmentItems=True',
      'https://ssapi.shipstation.com/orders?storeID=1',
      'https://ssapi.shipstation.com/fulfillments',
      'https://ssapi.shipstation.com/fulfillments?orderId=1',
      // Values a server might not bind (and so drop the filter).
      'https://ssapi.shipstation.com/shipments?batchId=',
      'https://ssapi.shipstation.com/shipments?batchId',
      'https://ssapi.shipstation.com/shipments?batchId=abc',
      'https://ssapi.shipstation.com/shipments?batchId=-1',
      'https://ssapi.shipstation.com/shipments?batchId=%31',
      'https://ssapi.shipstation.com/shipments?batchId=1+2',
      'https://ssapi.shipstation.com/shipments?batchId=1&includeShipmentItems=yes',
      'https://ssapi.shipstation.com/orders?importBatch=6c4f2d15',
      'https://ssapi.shipstation.com/orders?importBatch=*',
      // Repeats, empty pairs, fragments.
      'https://ssapi.shipstation.com/shipments?batchId=1&batchId=2',
      'https://ssapi.shipstation.com/shipments?batchId=1&BatchID=2',
      'https://ssapi.shipstation.com/shipments?batchId=1&',
      'https://ssapi.shipstation.com/shipments?&batchId=1',
      'https://ssapi.shipstation.com/shipments?batchId=1#x',
      // Other resources.
      'https://ssapi.shipstation.com/orders/123',
      'https://ssapi.shipstation.com/accounts/listtags',
      'https://ssapi.shipstation.com/webhooks?batchId=1',
      'https://ssapi.shipstation.com/?batchId=1',
      'https://ssapi.shipstation.com?batchId=1',
      // Path tricks the URL parser would normalise into an allowed path.
      'https://ssapi.shipstation.com/shipments/../shipments?batchId=1',
      'https://ssapi.shipstation.com/x/../shipments?batchId=1',
      'https://ssapi.shipstation.com/./shipments?batchId=1',
      'https://ssapi.shipstation.com/%2e%2e/shipments?batchId=1',
      'https://ssapi.shipstation.com/shipments%2F..%2Forders?importBatch=6c4f2d15-0b7e-4d4a-9c1e-2f3a4b5c6d7e',
      'https://ssapi.shipstation.com/%73hipments?batchId=1',
      'https://ssapi.shipstation.com//shipments?batchId=1',
      'https://ssapi.shipstation.com/shipments/?batchId=1',
      'https://ssapi.shipstation.com\\shipments?batchId=1',
      'https://ssapi.shipstation.com/ship\nments?batchId=1',
      'https://ssapi.shipstation.com/shipments;x?batchId=1',
    ]) {
      const result = checkResourceUrl(url);
      assert.equal(result.ok, false, url);
      if (!result.ok) assert.ok(result.reason.length > 0);
    }
    const pageAll = checkResourceUrl('https://ssapi.shipstation.com/shipments?pageSize=1');
    assert.ok(!pageAll.ok && /pageSize/.test(pageAll.reason), 'the reason names the parameter');
  });

  it('applies the same shape rules to hosts configured explicitly', () => {
    const hosts = ['127.0.0.1:43121'];
    assert.ok(
      allowed('http://127.0.0.1:43121/orders?importBatch=6c4f2d15-0b7e-4d4a-9c1e-2f3a4b5c6d7e', hosts),
    );
    assert.ok(!allowed('http://127.0.0.1:43121/shipments?pageSize=1', hosts));
    assert.ok(!allowed('http://127.0.0.1:43121/shipments/../orders?storeID=1', hosts));
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
    assert.ok(!allowed('http://localhost:43121/shipments?batchId=1', ['127.0.0.1:43121']));
    assert.ok(!allowed('file:///etc/passwd', ['127.0.0.1']));
  });
});
