/**
 * Stock levels SYSPRO → ShipStation V2 under `ml-connector run`: the available quantity of each
 * stock code in the mapped warehouse is pushed with `adjust`, once; an unchanged level sends
 * nothing (counted in the ShipStation sandbox's own request log), a changed one is sent once, and a
 * SKU ShipStation does not know is reported once, not every poll.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WEB_SHOP_STOCK } from '../../src/sandbox/syspro/seed.js';
import { listAudit } from '../../src/store/audit.js';
import { openStore } from '../../src/store/open.js';
import { type RunChild, type RunSetup, setupRun, waitFor as waitUntil } from '../helpers/run-process.js';

describe('ml-connector run: inventory → ShipStation V2', () => {
  let run: RunSetup;
  let child: RunChild | undefined;
  let location = '';

  before(async () => {
    run = await setupRun({
      prefix: 'inventory-run',
      seed: 15,
      configure: (document, connection, { shipstation }) => {
        location = [...shipstation.inventory.locations.values()].find(
          (l) => l.name === 'Aisle A',
        )!.inventory_location_id;
        document.jobLease = '5s';
        connection.polls = { orders: 0, shipments: 0, customers: 0, channelOrders: 0, inventory: '1s' };
        connection.inventory = { enabled: true, locations: { FG: location }, subtract: ['QtyAllocated'] };
        connection.channelOrders = { enabled: false };
        connection.freight = { enabled: false };
      },
    });
    // ShipStation knows the web shop's products only: every other SYSPRO stock code is unknown there.
    run.shipstation.inventory.knownSkus = new Set(WEB_SHOP_STOCK.map(([code]) => code));
  });
  after(async () => {
    await run?.close();
  });

  const waitFor = (check: () => boolean | Promise<boolean>, what: string) =>
    waitUntil(check, what, () => child?.output() ?? '');
  const output = () => child?.output() ?? '';
  const posts = () =>
    run.shipstation.requests().filter((r) => r.method === 'POST' && r.url.startsWith('/v2/inventory'));
  const level = (sku: string) =>
    [...run.shipstation.inventory.stock.values()].find(
      (l) => l.sku === sku && l.locationId === location && l.condition === 'sellable',
    )?.onHand;
  const passes = () => (output().match(/"inventory push done"/g) ?? []).length;
  const fg = () => run.syspro.db.invWarehouse.rows.filter((r) => r.Warehouse === 'FG');
  const available = (code: string) => {
    const row = fg().find((r) => r.StockCode === code)!;
    return Math.max(0, Math.floor(Number(row.QtyOnHand) - Number(row.QtyAllocated)));
  };

  it('pushes each level once, nothing when unchanged, a change once; an unknown SKU is reported once', async () => {
    child = run.start();
    await waitFor(() => passes() >= 1, 'the first inventory pass');
    const rows = fg().length;
    assert.equal(posts().length, rows, 'one adjust per stock code of FG on the first pass');
    for (const [code] of WEB_SHOP_STOCK)
      assert.equal(level(code), available(code), `${code} level in ShipStation`);

    const first = passes();
    await waitFor(() => passes() >= first + 2, 'two more passes');
    assert.equal(posts().length, rows, 'an unchanged level sends nothing');

    // A stock change in SYSPRO: that one level is sent, once.
    const row = fg().find((r) => r.StockCode === 'WID-200')!;
    row.QtyOnHand = Number(row.QtyOnHand) - 25;
    const before = passes();
    await waitFor(() => passes() >= before + 2, 'two passes after the change');
    assert.equal(posts().length, rows + 1);
    assert.equal(level('WID-200'), available('WID-200'));

    const store = openStore(run.storeUrl);
    try {
      const unknown = (
        await listAudit(store.db, { flow: 'inventory', outcome: 'error', limit: 1000 })
      ).filter((r) => /does not know SKU/.test(r.error ?? ''));
      assert.equal(
        unknown.length,
        rows - WEB_SHOP_STOCK.length,
        'each unknown SKU reported once over four passes',
      );
    } finally {
      await store.close();
    }
    assert.equal(await child.stop(), 0, output().slice(-2000));
  });
});
