/**
 * A push whose answer or record was lost (the process killed after ShipStation created the orders
 * and before the job's completion was committed) is sent again; when ShipStation has shipped the
 * order in between, the resend is refused as locked. The order is then in ShipStation under our key
 * with no successful push on record: its create is recorded from what ShipStation answered, so the
 * order keeps an audit trail (a defect the chaos suite found: such orders had only a "skipped" row).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import type { SysproSandbox } from '../../src/sandbox/syspro/index.js';
import { listAudit } from '../../src/store/audit.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';
import { type OrdersFlow, startOrdersFlow } from '../helpers/orders-flow.js';

forEachDialect('orders: a push whose record was lost, shipped in between', (ctx) => {
  let flow: OrdersFlow;
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  const clock = new FakeClock(Date.parse('2026-11-20T15:00:00Z'));

  before(async () => {
    flow = await startOrdersFlow(ctx.store, clock, {
      shipstation: { seed: 21, backgroundTimers: false },
      syspro: { seed: 21, orders: 12 },
      openEveryOrder: true,
    });
    ({ shipstation, syspro } = flow);
  });
  after(async () => {
    await flow?.close();
  });

  const poll = () => flow.poll();

  it('records the create of an order ShipStation has under its key and shipped, and sends nothing twice', async () => {
    await poll();
    const ours = [...shipstation.state.orders.values()].filter((o) =>
      o.orderKey.startsWith(`${syspro.company}:`),
    );
    assert.ok(ours.length >= 10, `orders pushed (${ours.length})`);
    const victim = ours[0]!;
    const key = victim.orderKey;
    // The crash: ShipStation created the order, our link and audit rows were never committed.
    await ctx.store.db.deleteFrom('audit').where('entity_key', '=', key).execute();
    await ctx.store.db.deleteFrom('links').where('syspro_key', '=', key).execute();
    // Meanwhile the warehouse ships it.
    const labelled = await fetch(`${shipstation.url}/_sandbox/orders/${victim.orderId}/labels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(labelled.status, 200, await labelled.text());
    const shippedDoc = shipstation.state.orders.get(victim.orderId)!.doc;

    await poll();
    const same = [...shipstation.state.orders.values()].filter((o) => o.orderKey === key);
    assert.equal(same.length, 1, 'still one order under the key');
    assert.equal(same[0]!.doc, shippedDoc, 'the shipped order was not overwritten');
    const rows = await listAudit(ctx.store.db, { connection: 'main', entityKey: key, limit: 10 });
    const ok = rows.filter((r) => r.outcome === 'ok');
    assert.equal(ok.length, 1, JSON.stringify(rows));
    assert.equal(ok[0]!.action, 'create');
    assert.match(ok[0]!.detail ?? '', /an earlier attempt created it/);
    assert.match(ok[0]!.detail ?? '', new RegExp(`"orderId":${victim.orderId}`));
  });
});
