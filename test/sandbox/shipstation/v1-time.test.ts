import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ShipStationSandbox } from '../../../src/sandbox/shipstation/index.js';
import type { FakeClock } from '../../helpers/clock.js';
import { type CallResult, control, orderBody, startTestSandbox, v1 } from './helpers.js';

describe('ShipStation sandbox V1: Pacific time and the November DST change', () => {
  let sandbox: ShipStationSandbox;
  let clock: FakeClock;
  let call: (method: string, path: string, body?: unknown) => Promise<CallResult>;
  const created = new Map<string, number>();

  before(async () => {
    ({ sandbox, clock } = await startTestSandbox({ clock: undefined }));
    call = v1(sandbox);
    // Orders created (clock time) around the fall-back on 2024-11-03: 01:00-02:00 happens twice.
    const moments: Array<[string, string]> = [
      ['DST-A', '2024-11-03T07:30:00Z'], // 00:30 PDT
      ['DST-B', '2024-11-03T08:30:00Z'], // 01:30 PDT (first 01:30)
      ['DST-C', '2024-11-03T09:30:00Z'], // 01:30 PST (second 01:30)
      ['DST-D', '2024-11-03T10:30:00Z'], // 02:30 PST
      ['DST-E', '2024-11-03T12:00:00Z'], // 04:00 PST
    ];
    for (const [number, at] of moments) {
      clock.set(at);
      const res = await call(
        'POST',
        '/orders/createorder',
        orderBody(number, { orderDate: '2024-11-02 10:00:00' }),
      );
      created.set(number, res.body.orderId);
    }
  });
  after(() => sandbox.close());

  const numbers = (res: CallResult) => res.body.orders.map((o: { orderNumber: string }) => o.orderNumber);

  it('returns createDate as Pacific wall-clock without offset (both 01:30s look the same)', async () => {
    const res = await call('GET', '/orders?orderNumber=DST-&sortBy=CreateDate');
    assert.deepEqual(
      res.body.orders.map((o: { createDate: string }) => o.createDate),
      [
        '2024-11-03T00:30:00.0000000',
        '2024-11-03T01:30:00.0000000',
        '2024-11-03T01:30:00.0000000',
        '2024-11-03T02:30:00.0000000',
        '2024-11-03T04:00:00.0000000',
      ],
    );
  });

  it('a createDate filter across the change returns the right orders', async () => {
    const across = await call(
      'GET',
      '/orders?orderNumber=DST-&createDateStart=2024-11-03 00:45:00&createDateEnd=2024-11-03 02:45:00',
    );
    assert.deepEqual(numbers(across), ['DST-B', 'DST-C', 'DST-D']);
    // The repeated hour: a window written as 01:00-01:59 holds both 01:30s (start = first 01:00, end = second 01:59).
    const repeated = await call(
      'GET',
      '/orders?orderNumber=DST-&createDateStart=2024-11-03 01:00:00&createDateEnd=2024-11-03 01:59:59',
    );
    assert.deepEqual(numbers(repeated), ['DST-B', 'DST-C']);
    const afterChange = await call('GET', '/orders?orderNumber=DST-&createDateStart=2024-11-03 02:00:00');
    assert.deepEqual(numbers(afterChange), ['DST-D', 'DST-E']);
    // A date-only end bound means midnight, as ASP.NET binds it: nothing of that day.
    const dateOnly = await call('GET', '/orders?orderNumber=DST-&createDateEnd=2024-11-03');
    assert.deepEqual(numbers(dateOnly), []);
  });

  it('reads order dates as Pacific wall-clock in and out (a Z suffix is ignored)', async () => {
    clock.set('2026-01-15T20:00:00Z');
    const res = await call(
      'POST',
      '/orders/createorder',
      orderBody('TZ-1', { orderDate: '2026-01-10T08:46:27.000Z', paymentDate: '2026-01-10 23:59:59' }),
    );
    assert.equal(res.body.orderDate, '2026-01-10T08:46:27.0000000');
    assert.equal(res.body.paymentDate, '2026-01-10T23:59:59.0000000');
    assert.equal(res.body.items[0].createDate, '2026-01-15T12:00:00');
    const filter = await call(
      'GET',
      '/orders?orderNumber=TZ-&orderDateStart=2026-01-10 08:46:27&orderDateEnd=2026-01-10 08:46:27',
    );
    assert.deepEqual(numbers(filter), ['TZ-1']);
    const shipped = await control(sandbox)('POST', `/_sandbox/orders/${res.body.orderId}/labels`, {});
    assert.match(shipped.body.shipments[0].shipDate, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(shipped.body.shipments[0].shipDate, '2026-01-15');
  });
});
