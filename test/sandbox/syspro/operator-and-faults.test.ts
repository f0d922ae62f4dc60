import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type SysproSandbox, startSysproSandbox } from '../../../src/sandbox/syspro/index.js';
import { FakeClock } from '../../helpers/clock.js';
import { enet, logon, odata, post, query } from './enet-client.js';

async function operatorCall(sandbox: SysproSandbox, method: string, path: string, body?: unknown) {
  const response = await fetch(`${sandbox.url}/_sandbox/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    body: response.status === 204 ? null : ((await response.json()) as Record<string, unknown>),
  };
}

/** A raw GET that reports how the connection ended, with a bounded wait. */
function rawGet(url: string, waitMs = 300): Promise<'refused' | 'reset' | 'hang' | number> {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve('hang');
    }, waitMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'reset');
    });
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
}

describe('SYSPRO sandbox operator actions and faults', () => {
  const clock = new FakeClock();
  let sandbox: SysproSandbox;

  before(async () => {
    sandbox = await startSysproSandbox({ clock, seed: 9, orders: 100 });
  });
  after(() => sandbox.close());

  it('an order and a customer entered or changed by a SYSPRO user are seen through OData', async () => {
    const stock = sandbox.db.invWarehouse.rows.find((r) => r.Warehouse === 'FG')?.StockCode as string;
    const created = await operatorCall(sandbox, 'POST', 'customers', {
      Name: 'Zoë’s Café & Bar <Nord>',
      Email: '',
      ShipToAddr1: 'Hauptstraße 5',
      CustomerOnHold: 'N',
    });
    assert.equal(created.status, 201);
    const code = (created.body?.customer as { Customer: string } | undefined)?.Customer as string;
    const entered = await operatorCall(sandbox, 'POST', 'orders', {
      customer: code,
      customerPoNumber: 'PHONE-1',
      lines: [{ stockCode: stock, qty: 2, price: 19.99 }],
      freight: 5,
    });
    assert.equal(entered.status, 201);
    const salesOrder = entered.body?.salesOrder as string;
    const before = await odata(
      sandbox,
      `SorMaster?$filter=SalesOrder%20eq%20'${salesOrder}'&$select=CustomerName,ShipAddress1,OrderStatus`,
    );
    assert.deepEqual((before.body.value as unknown[])[0], {
      CustomerName: 'Zoë’s Café & Bar <Nord>',
      ShipAddress1: 'Hauptstraße 5',
      OrderStatus: '1',
    });
    const changed = await operatorCall(sandbox, 'PATCH', `orders/${salesOrder}`, {
      fields: { ShipAddress1: 'Bahnhofplatz 1' },
      lines: [{ line: 1, qty: 3 }],
    });
    assert.equal(changed.status, 200);
    await operatorCall(sandbox, 'PATCH', `customers/${code}`, { Email: 'bar@example.com' });
    const order = await odata(
      sandbox,
      `SorMaster?$filter=SalesOrder%20eq%20'${salesOrder}'&$select=ShipAddress1`,
    );
    assert.deepEqual((order.body.value as unknown[])[0], { ShipAddress1: 'Bahnhofplatz 1' });
    const line = await odata(
      sandbox,
      `SorDetail?$filter=SalesOrder%20eq%20'${salesOrder}'%20and%20LineType%20eq%20'1'&$select=MOrderQty`,
    );
    assert.deepEqual((line.body.value as unknown[])[0], { MOrderQty: 3 });
    const customer = await odata(sandbox, `ArCustomer?$filter=Customer%20eq%20'${code}'&$select=Email`);
    assert.deepEqual((customer.body.value as unknown[])[0], { Email: 'bar@example.com' });
    const bad = await operatorCall(sandbox, 'PATCH', `orders/${salesOrder}`, { fields: { NoSuchColumn: 1 } });
    assert.equal(bad.status, 400);
  });

  it('reads back every business-object call (was SORTDN posted twice for this shipment?)', async () => {
    const userId = await logon(sandbox);
    const order = sandbox.db.sorMaster.rows.find(
      (r) => r.OrderStatus === '1' && sandbox.db.linesOf(r.SalesOrder as string)[0]?.LineType === '1',
    );
    const note = `<PostDispatchNotes><DispatchNote><DispatchHeader><SalesOrder>${order?.SalesOrder}</SalesOrder><UserDefined1>SHIP-42</UserDefined1></DispatchHeader><DispatchDetails><MerchandiseLine><SalesOrderLine>1</SalesOrderLine><DispatchQty>1</DispatchQty></MerchandiseLine></DispatchDetails></DispatchNote></PostDispatchNotes>`;
    await post(sandbox, userId, 'SORTDN', '<PostDispatchNotes><Parameters/></PostDispatchNotes>', note);
    await post(sandbox, userId, 'SORTDN', '<PostDispatchNotes><Parameters/></PostDispatchNotes>', note);
    const calls = await operatorCall(sandbox, 'GET', 'calls?businessObject=SORTDN&contains=SHIP-42');
    const list = calls.body?.calls as Array<{ businessObject: string; operator: string; outcome: string }>;
    assert.equal(list.length, 2);
    assert.equal(list[0]?.operator, sandbox.operator);
    assert.equal(sandbox.calls.count({ businessObject: 'SORTDN', contains: 'SHIP-42' }), 2);
    const logons = sandbox.calls.list({ method: 'Logon' });
    assert.ok(
      logons.every((c) => !JSON.stringify(c).includes(sandbox.operatorPassword)),
      'passwords are never recorded',
    );
    await enet(sandbox, 'Logoff', { UserId: userId });
  });

  it('a person logging on with the same operator evicts the service session', async () => {
    const userId = await logon(sandbox);
    const human = await operatorCall(sandbox, 'POST', 'logon', { operator: sandbox.operator });
    assert.equal(human.status, 200);
    const after = await enet(sandbox, 'Logoff', { UserId: userId });
    assert.match(after, /^ERROR: UserId .* is not logged on \(the session was ended by a newer logon/);
    await operatorCall(sandbox, 'DELETE', `sessions/${human.body?.userId}`);
  });

  it('maintenance: down answers 503, hang never answers, reset drops, refuse closes the port', async () => {
    const enetUrl = `${sandbox.url}/SYSPROWCFService/Rest/GetVersion`;
    assert.equal(await rawGet(enetUrl), 200);
    await operatorCall(sandbox, 'PUT', 'maintenance', { mode: 'down' });
    await waitFor(async () => (await rawGet(enetUrl)) === 503);
    assert.equal((await fetch(`${sandbox.odataUrl}/SorMaster?$top=1`)).status, 503);
    await sandbox.setMaintenance('hang');
    assert.equal(await rawGet(enetUrl), 'hang');
    await sandbox.setMaintenance('reset');
    assert.equal(await rawGet(enetUrl), 'reset');
    await sandbox.setMaintenance('refuse');
    assert.equal(await rawGet(enetUrl), 'refused');
    await sandbox.setMaintenance('off');
    assert.equal(await rawGet(enetUrl), 200);
  });

  it('fault flags: an injected ERROR, and a lost answer whose post still took effect', async () => {
    const userId = await logon(sandbox);
    const put = await operatorCall(sandbox, 'PUT', 'faults', {
      flags: ['fail:SORQRY=1', 'fail:SORTOS=1:lost'],
    });
    assert.equal(put.status, 200);
    const failed = await enet(sandbox, 'Query/Query', {
      UserId: userId,
      BusinessObject: 'SORQRY',
      XmlIn: '<Query><Key><SalesOrder>1</SalesOrder></Key></Query>',
    });
    assert.match(failed, /^ERROR: /);
    const order = sandbox.db.sorMaster.rows.find((r) => r.OrderStatus === '1') as Record<string, unknown>;
    const lost = await fetch(
      `${sandbox.url}/SYSPROWCFService/Rest/Transaction/Post?${query({
        UserId: userId,
        BusinessObject: 'SORTOS',
        XmlParameters:
          '<PostSorOrderStatus><Parameters><ValidateOnly>N</ValidateOnly></Parameters></PostSorOrderStatus>',
        XmlIn: `<PostSorOrderStatus><Item><SalesOrder>${order.SalesOrder}</SalesOrder><NewOrderStatus>8</NewOrderStatus></Item></PostSorOrderStatus>`,
      })}`,
    ).then(
      () => 'answered',
      () => 'dropped',
    );
    assert.equal(lost, 'dropped');
    assert.equal(order.OrderStatus, '8', 'the post took effect although the answer was lost');
    assert.equal(sandbox.calls.list({ businessObject: 'SORTOS' }).at(-1)?.fault, 'lost');
    await operatorCall(sandbox, 'DELETE', 'faults');
    const bad = await operatorCall(sandbox, 'PUT', 'faults', { flags: ['fail:SORTDN=2'] });
    assert.equal(bad.status, 400);
    await enet(sandbox, 'Logoff', { UserId: userId });
  });
});

async function waitFor(check: () => Promise<boolean>, capMs = 5000): Promise<void> {
  const until = Date.now() + capMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('condition not met within 5 s');
}
