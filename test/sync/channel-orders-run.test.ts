/**
 * Marketplace orders into SYSPRO under `ml-connector run`: the real binary against both sandboxes,
 * ORDER_NOTIFY subscribed through our own command and delivered by the ShipStation sandbox, the
 * reconciling poll beside it. Effects are counted in the sandboxes' own records: SYSPRO's sales
 * orders (SorMaster by customer PO) and its call log, ShipStation's orders.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listAudit } from '../../src/store/audit.js';
import { openStore } from '../../src/store/open.js';
import { type RunChild, type RunSetup, setupRun, waitFor as waitUntil } from '../helpers/run-process.js';

describe('ml-connector run: marketplace orders ShipStation → SYSPRO', () => {
  let run: RunSetup;
  let child: RunChild | undefined;
  let shipstation: RunSetup['shipstation'];
  let syspro: RunSetup['syspro'];

  before(async () => {
    run = await setupRun({
      prefix: 'channel-run',
      seed: 12,
      // A raised V1 budget (the client follows X-Rate-Limit-Limit): every flow polls every few seconds here.
      shipstation: { webhookDelayMs: 200, rateLimit: { limit: 300, windowMs: 60_000 } },
      configure: (document, connection, sandboxes) => {
        // The Amazon store's orders go to one account by the store → customer map.
        const cash = sandboxes.syspro.db.arCustomer.get('CASH')!;
        sandboxes.syspro.db.arCustomer.insert({
          ...cash,
          Customer: 'AMZ-MKT',
          Name: 'Amazon marketplace',
          Email: '',
        });
        document.jobLease = '5s';
        document.retry = { cadence: ['1s', '1s', '2s'], jitter: 0 };
        connection.polls = { orders: '2s', shipments: '2s', customers: 0, channelOrders: '3s', inventory: 0 };
        connection.channelOrders = {
          enabled: true,
          stores: [310002, 310003],
          customers: { '310003': 'AMZ-MKT' },
          defaultCustomer: 'CASH',
        };
        connection.freight = { enabled: false };
        connection.inventory = { enabled: false };
      },
    });
    ({ shipstation, syspro } = run);
  });
  after(async () => {
    await run?.close();
  });

  const waitFor = (check: () => boolean | Promise<boolean>, what: string) =>
    waitUntil(check, what, () => child?.output() ?? '');
  const output = () => child?.output() ?? '';
  const sandboxPost = (path: string, body: unknown = {}) => run.sandboxPost(path, body);
  const byPo = (po: string) => syspro.db.sorMaster.rows.filter((r) => r.CustomerPoNumber === po);
  const marketplaceOrder = async (storeId: number, orderNumber: string, extra: Record<string, unknown>) => {
    const created = (await sandboxPost('/_sandbox/channel-orders', {
      storeId,
      order: { orderNumber, ...extra },
    })) as { orders: Array<{ orderId: number }> };
    return created.orders[0]!.orderId;
  };
  const notesOf = (orderId: number) =>
    String(
      ((shipstation.state.orders.get(orderId)?.body() ?? {}) as { internalNotes?: string }).internalNotes ??
        '',
    );

  it('enters a Shopify order once (even with the SORTOI answer lost), links it both ways, ships it back; an unknown SKU is a clear problem', async () => {
    child = run.start();
    await waitFor(() => /"orders poll done"/.test(output()), 'the first orders poll');
    const subscribed = await run.cli(['webhooks', 'subscribe']);
    assert.equal(subscribed.code, 0, subscribed.stdout + subscribed.stderr);
    assert.ok(
      [...shipstation.state.webhooks.values()].some((w) => w.event === 'ORDER_NOTIFY'),
      'ORDER_NOTIFY subscribed',
    );

    // 1. A Shopify order from a buyer with an account (matched by e-mail); SORTOI's answer is lost.
    const sortoiBefore = syspro.calls.list({ businessObject: 'SORTOI' }).length;
    syspro.setFaults({ failures: [{ target: 'SORTOI', rate: 1, kind: 'lost' }] });
    const shopify = await marketplaceOrder(310002, 'SHOP-1001', {
      customerEmail: 'grace.hopper@example.com',
      items: [
        { lineItemKey: 'a1', sku: 'WID-100', name: 'Widget, small', quantity: 2, unitPrice: 4.5 },
        { lineItemKey: 'a2', sku: 'GAD-310', name: 'Gadget with cable', quantity: 1, unitPrice: 24 },
        { lineItemKey: 'a3', sku: null, name: 'SPRING10', quantity: 1, unitPrice: -3.3, adjustment: true },
      ],
      taxAmount: 2.34,
      shippingAmount: 5.95,
    });
    await waitFor(
      () => syspro.calls.list({ businessObject: 'SORTOI' }).length > sortoiBefore,
      'the first SORTOI post',
    );
    syspro.setFaults({});
    await waitFor(() => notesOf(shopify).includes('SYSPRO sales order'), 'the SYSPRO number in ShipStation');

    const entered = byPo('SHOP-1001');
    assert.equal(entered.length, 1, 'entered once although the first answer was lost');
    const so = entered[0]!;
    assert.equal(so.Customer, 'WEB-GRACE', 'customer by e-mail');
    assert.equal(
      syspro.calls.list({ businessObject: 'SORTOI' }).length - sortoiBefore,
      1,
      'the retry asked by customer PO and posted nothing again',
    );
    const lines = syspro.db.linesOf(String(so.SalesOrder));
    assert.deepEqual(
      lines.filter((l) => l.LineType === '1').map((l) => [l.MStockCode, l.MOrderQty, l.MPrice]),
      [
        ['WID-100', 2, 4.5],
        ['GAD-310', 1, 24],
      ],
    );
    assert.deepEqual(
      lines.filter((l) => l.LineType === '5').map((l) => l.NMscChargeValue),
      [-3.3, 2.34],
    );
    assert.deepEqual(
      lines.filter((l) => l.LineType === '4').map((l) => l.NMscChargeValue),
      [5.95],
    );
    assert.match(notesOf(shopify), new RegExp(`SYSPRO sales order ${String(so.SalesOrder).trim()}`));

    // 2. An Amazon order with an unknown SKU: a clear problem, nothing entered.
    const amazon = await marketplaceOrder(310003, 'AMZ-2001', {
      items: [{ lineItemKey: 'b1', sku: 'NOPE-1', name: 'Not in SYSPRO', quantity: 1, unitPrice: 10 }],
    });
    const store = openStore(run.storeUrl);
    try {
      await waitFor(async () => {
        const rows = await listAudit(store.db, { outcome: 'error', limit: 100 });
        return rows.some((r) => r.entity_key === String(amazon) && /NOPE-1/.test(r.error ?? ''));
      }, 'the unknown SKU reported');
      assert.equal(byPo('AMZ-2001').length, 0, 'no half-entered order');

      // An Amazon order a buyer with a web account placed: the store → customer map wins over the e-mail.
      const mapped = await marketplaceOrder(310003, 'AMZ-2002', {
        customerEmail: 'grace.hopper@example.com',
        items: [{ lineItemKey: 'b2', sku: 'BOLT-M8', name: 'Bolt M8 x 40', quantity: 4, unitPrice: 12.3 }],
      });
      await waitFor(() => notesOf(mapped).includes('SYSPRO sales order'), 'the mapped Amazon order entered');
      assert.deepEqual(
        byPo('AMZ-2002').map((r) => r.Customer),
        ['AMZ-MKT'],
        'the store → customer map',
      );

      // 3. It ships in ShipStation: a dispatch note on the SYSPRO order, with the tracking number.
      const label = (await sandboxPost(`/_sandbox/orders/${shopify}/labels`)) as {
        shipments: Array<{ shipmentId: number; trackingNumber: string }>;
      };
      const tracking = label.shipments[0]!.trackingNumber;
      await waitFor(
        () => syspro.db.mdnMaster.rows.some((n) => n.SalesOrder === so.SalesOrder),
        'a dispatch note for the marketplace order',
      );
      const note = syspro.db.mdnMaster.rows.find((n) => n.SalesOrder === so.SalesOrder)!;
      assert.equal(note.UserField2, tracking);

      // Polls keep running: still one SYSPRO order, and the orders flow never pushed it as a new one.
      const polls = (output().match(/"channel orders poll done"/g) ?? []).length;
      await waitFor(
        () => (output().match(/"channel orders poll done"/g) ?? []).length >= polls + 2,
        'two more channel polls',
      );
      assert.equal(byPo('SHOP-1001').length, 1);
      const key = `${syspro.company}:${String(so.SalesOrder).trim()}`;
      assert.equal(
        shipstation.state.orderIdByKey.get(key),
        undefined,
        'not re-pushed as a new ShipStation order',
      );
      const problems = await listAudit(store.db, { outcome: 'error', limit: 100 });
      assert.equal(
        problems.filter((r) => r.entity_key === String(amazon)).length,
        1,
        'the unknown SKU is reported once, not every poll',
      );
    } finally {
      await store.close();
    }

    // 4. A buyer without an account (the cash customer), then edited and cancelled in the marketplace.
    const cash = await marketplaceOrder(310002, 'SHOP-1002', {
      customerEmail: 'new.buyer@example.com',
      items: [{ lineItemKey: 'c1', sku: 'TAPE-48', name: 'Packing tape 48 mm', quantity: 3, unitPrice: 3.2 }],
      taxAmount: 0,
      shippingAmount: 0,
    });
    await waitFor(() => notesOf(cash).includes('SYSPRO sales order'), 'the cash order entered');
    const cashSo = byPo('SHOP-1002')[0]!;
    assert.equal(cashSo.Customer, 'CASH', 'no account: the default cash customer');
    assert.equal(cashSo.CustomerName, syspro.db.sorMaster.rows.find((r) => r === cashSo)!.CustomerName);
    const v1 = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${shipstation.url}${path}`, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`${shipstation.apiKey}:${shipstation.apiSecret}`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      assert.ok(res.ok, await res.clone().text());
      return (await res.json()) as Record<string, unknown> & { items: Array<Record<string, unknown>> };
    };
    const current = await v1('GET', `/orders/${cash}`);
    current.items = current.items.map((i) => ({ ...i, quantity: 5 }));
    await v1('POST', '/orders/createorder', current);
    const tapeQty = () =>
      syspro.db
        .linesOf(String(cashSo.SalesOrder))
        .find((l) => l.LineType === '1' && l.MStockCode === 'TAPE-48')?.MOrderQty;
    await waitFor(() => tapeQty() === 5, 'the edit carried to SYSPRO');
    assert.equal(byPo('SHOP-1002').length, 1);
    await v1('POST', '/orders/createorder', {
      ...(await v1('GET', `/orders/${cash}`)),
      orderStatus: 'cancelled',
    });
    await waitFor(
      () => syspro.db.linesOf(String(cashSo.SalesOrder)).length === 0,
      'the cancellation carried to SYSPRO (every line deleted)',
    );

    // 5. An order SYSPRO already has in the warehouse (status 4): an edit in the marketplace is
    // flagged for the operator with the reason, and SYSPRO's lines stay as they are.
    const picked = await marketplaceOrder(310002, 'SHOP-1003', {
      customerEmail: 'grace.hopper@example.com',
      items: [{ lineItemKey: 'd1', sku: 'TAPE-48', name: 'Packing tape 48 mm', quantity: 2, unitPrice: 3.2 }],
      taxAmount: 0,
      shippingAmount: 0,
    });
    await waitFor(() => notesOf(picked).includes('SYSPRO sales order'), 'the order to be picked entered');
    const pickedSo = byPo('SHOP-1003')[0]!;
    pickedSo.OrderStatus = '4';
    const pickedNow = await v1('GET', `/orders/${picked}`);
    pickedNow.items = pickedNow.items.map((i) => ({ ...i, quantity: 7 }));
    await v1('POST', '/orders/createorder', pickedNow);
    const flagStore = openStore(run.storeUrl);
    try {
      await waitFor(async () => {
        const rows = await listAudit(flagStore.db, { outcome: 'error', limit: 200 });
        return rows.some((r) => r.entity_key === String(picked) && /status 4/.test(r.error ?? ''));
      }, 'the edit of an order in the warehouse flagged');
    } finally {
      await flagStore.close();
    }
    assert.deepEqual(
      syspro.db
        .linesOf(String(pickedSo.SalesOrder))
        .filter((l) => l.LineType === '1')
        .map((l) => [l.MStockCode, l.MOrderQty]),
      [['TAPE-48', 2]],
      'SYSPRO keeps the lines it has in the warehouse',
    );
    assert.equal(byPo('SHOP-1003').length, 1);
    assert.equal(await child.stop(), 0, output().slice(-2000));
  });
});
