/**
 * The e.net client against the SYSPRO sandbox over real HTTP: sessions (serialised, logged off on
 * success, error and close), recovery from an evicted or expired session, licence exhaustion, logon
 * errors, injected faults, and every business object the flows use — including a customer name
 * `Smith & <Sons> "Ltd"` that must come back from SORQRY exactly as SORTOI sent it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isStoppedBeforeSending, StoppedBeforeSending } from '../../src/abort.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { assertSucceeded } from '../../src/syspro/business-objects/common.js';
import { setCustomFormFields } from '../../src/syspro/business-objects/comsfm.js';
import { postJournal } from '../../src/syspro/business-objects/gentjl.js';
import { queryStock } from '../../src/syspro/business-objects/invqry.js';
import { queryDispatchNote } from '../../src/syspro/business-objects/sorqdn.js';
import { querySalesOrder } from '../../src/syspro/business-objects/sorqry.js';
import { postDispatchNotes } from '../../src/syspro/business-objects/sortdn.js';
import { importSalesOrders } from '../../src/syspro/business-objects/sortoi.js';
import { changeOrderStatus } from '../../src/syspro/business-objects/sortos.js';
import type { EnetClient, EnetClientOptions } from '../../src/syspro/enet-client.js';
import { SysproError } from '../../src/syspro/errors.js';
import { eq } from '../../src/syspro/odata-filter.js';
import { createODataReader } from '../../src/syspro/odata-reader.js';
import { probeBusinessObjects } from '../../src/syspro/probe.js';
import { FakeClock } from '../helpers/clock.js';
import { sandboxEnetClient } from '../helpers/enet.js';

const TRICKY = `Smith & <Sons> "Ltd"`;

const clientFor = sandboxEnetClient;

/** Another batch holding the client's session: one query, then it waits until `open()`. */
function holdSession(client: EnetClient, salesOrder: string) {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const holder = client.withSession(async (session) => {
    await querySalesOrder(session, { salesOrder });
    await gate;
  });
  return { holder, open };
}

function liveSessions(sandbox: SysproSandbox, operator = sandbox.operator) {
  return sandbox.sessions.list().filter((s) => s.operator === operator);
}

/** A person logging on with the service's operator (evicts the service's session), via the sandbox. */
async function humanLogon(sandbox: SysproSandbox, operator: string): Promise<string> {
  const res = await fetch(`${sandbox.url}/_sandbox/logon`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ operator }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { userId: string }).userId;
}

/** An order that exists, with a customer not on hold and a stocked line (for dispatch tests). */
function openOrderWithStockLine(sandbox: SysproSandbox) {
  for (const order of sandbox.db.sorMaster.rows) {
    if (order.OrderStatus !== '1') continue;
    const line = sandbox.db
      .linesOf(order.SalesOrder as string)
      .find((l) => l.LineType === '1' && (l.MOrderQty as number) - (l.MQtyDispatched as number) >= 1);
    if (line) return { salesOrder: order.SalesOrder as string, line: line.SalesOrderLine as number };
  }
  throw new Error('no open order with an outstanding stocked line in the seed');
}

function customerNotOnHold(sandbox: SysproSandbox): string {
  const row = sandbox.db.arCustomer.rows.find((c) => c.CustomerOnHold === 'N');
  assert.ok(row);
  return row.Customer as string;
}

function stockedItem(sandbox: SysproSandbox): { stockCode: string; warehouse: string } {
  const row = sandbox.db.invWarehouse.rows.find(
    (w) => (w.QtyOnHand as number) - (w.QtyAllocated as number) > 50,
  );
  assert.ok(row);
  return { stockCode: row.StockCode as string, warehouse: row.Warehouse as string };
}

describe('e.net client against the SYSPRO sandbox', () => {
  const clock = new FakeClock();
  let sandbox: SysproSandbox;

  before(async () => {
    sandbox = await startSysproSandbox({ port: 0, clock, seed: 7, orders: 120, logger: false });
  });
  after(() => sandbox.close());

  it('round-trips Smith & <Sons> "Ltd" through SORTOI and SORQRY unchanged', async () => {
    const client = clientFor(sandbox, clock);
    const customer = customerNotOnHold(sandbox);
    const item = stockedItem(sandbox);
    const po = `RT-${Date.now()}`;
    const result = await importSalesOrders(client, [
      {
        action: 'add',
        customerPoNumber: po,
        customer,
        customerName: TRICKY,
        shipAddress: [TRICKY, '1 Quay & Dock <B>', "O'Brien's Yard"],
        shipPostalCode: '8001',
        specialInstrs: `Ring "twice" & wait <5 min>`,
        orderDate: '2026-01-15',
        lines: [
          {
            kind: 'stock',
            customerPoLine: '1',
            stockCode: item.stockCode,
            warehouse: item.warehouse,
            orderQty: 1,
            price: 12.5,
          },
          { kind: 'comment', comment: `Note: ${TRICKY}` },
        ],
      },
    ]);
    assertSucceeded('SORTOI', `order ${po}`, result);

    // A clean import may not echo the order number: find it by CustomerPoNumber through OData.
    let salesOrder = result.orders[0]?.salesOrder;
    if (!salesOrder) {
      const reader = createODataReader({
        serviceUrl: sandbox.odataUrl,
        username: sandbox.operator,
        password: sandbox.operatorPassword,
      });
      for await (const row of reader.rows<{ SalesOrder: string }>('SorMaster', {
        select: ['SalesOrder'],
        filter: eq('CustomerPoNumber', po),
      })) {
        salesOrder = row.SalesOrder;
      }
    }
    assert.ok(salesOrder, 'the imported order is found');

    const order = await querySalesOrder(client, { salesOrder });
    assert.equal(order.found, true);
    assert.equal(order.customerName, TRICKY);
    assert.deepEqual(order.shipTo.lines.slice(0, 3), [TRICKY, '1 Quay & Dock <B>', "O'Brien's Yard"]);
    assert.equal(order.specialInstrs, `Ring "twice" & wait <5 min>`);
    assert.equal(order.customerPoNumber, po);
    const comment = order.lines.find((l) => l.type === 'comment');
    assert.equal(comment?.comment, `Note: ${TRICKY}`);
    const stock = order.lines.find((l) => l.type === 'merchandise');
    assert.equal(stock?.stockCode, item.stockCode);
    assert.equal(stock?.orderQty, 1);
    await client.close();
    assert.equal(liveSessions(sandbox).length, 0);
  });

  it('SORTOI validateOnly changes nothing', async () => {
    const client = clientFor(sandbox, clock);
    const before = sandbox.db.sorMaster.rows.length;
    const result = await importSalesOrders(
      client,
      [
        {
          action: 'add',
          customerPoNumber: 'DRY-RUN-1',
          customer: customerNotOnHold(sandbox),
          lines: [{ kind: 'stock', customerPoLine: '1', ...stockedItem(sandbox), orderQty: 1, price: 1 }],
        },
      ],
      { validateOnly: true },
    );
    assert.equal(result.validateOnly, true);
    assert.equal(result.outcome.failed, false);
    assert.equal(sandbox.db.sorMaster.rows.length, before);
    await client.close();
  });

  it('reports SORTOI per-item errors with the failing field', async () => {
    const client = clientFor(sandbox, clock);
    const result = await importSalesOrders(client, [
      { action: 'add', customerPoNumber: 'BAD-CUST', customer: 'NOSUCHCUST', lines: [] },
    ]);
    assert.equal(result.outcome.failed, true);
    assert.ok(
      result.outcome.errors.some((e) => /NOSUCHCUST/.test(e.description)),
      JSON.stringify(result.outcome),
    );
    assert.throws(() => assertSucceeded('SORTOI', 'order BAD-CUST', result), { kind: 'business-object' });
    await client.close();
  });

  it('serialises concurrent calls through one session and logs off when the queue empties', async () => {
    const client = clientFor(sandbox, clock);
    const since = sandbox.calls.list().at(-1)?.seq ?? 0;
    const orders = sandbox.db.sorMaster.rows.slice(0, 5).map((r) => r.SalesOrder as string);
    const results = await Promise.all(orders.map((salesOrder) => querySalesOrder(client, { salesOrder })));
    assert.deepEqual(
      results.map((r) => r.salesOrder),
      orders,
    );
    const methods = sandbox.calls.list({ sinceSeq: since }).map((c) => c.method.toLowerCase());
    assert.deepEqual(methods, [
      'logon',
      'query/query',
      'query/query',
      'query/query',
      'query/query',
      'query/query',
      'logoff',
    ]);
    assert.equal(client.stats.logons, 1);
    assert.equal(client.stats.logoffs, 1);
    assert.equal(liveSessions(sandbox).length, 0);
    await client.close();
  });

  it('a withSession stopped while it waits its turn leaves the queue at once; nothing of it is sent', {
    timeout: 10_000,
  }, async () => {
    const client = clientFor(sandbox, clock);
    const since = sandbox.calls.list().at(-1)?.seq ?? 0;
    const [a, b] = sandbox.db.sorMaster.rows.slice(0, 2).map((r) => r.SalesOrder as string);
    const { holder, open } = holdSession(client, a as string);
    const stop = new AbortController();
    let ran = false;
    const waiting = client.withSession(
      async () => {
        ran = true;
      },
      { waitSignal: stop.signal },
    );
    const after = client.withSession((session) => querySalesOrder(session, { salesOrder: b as string }));
    stop.abort(new StoppedBeforeSending());
    await assert.rejects(waiting, (e) => isStoppedBeforeSending(e));
    assert.equal(ran, false);
    // Already stopped: refused without queueing.
    await assert.rejects(
      client.withSession(async () => {}, { waitSignal: stop.signal }),
      (e) => isStoppedBeforeSending(e),
    );
    open();
    await holder;
    assert.equal((await after).salesOrder, b, 'the call behind it still runs');
    assert.equal(ran, false);
    const methods = sandbox.calls.list({ sinceSeq: since }).map((c) => c.method.toLowerCase());
    assert.deepEqual(methods, ['logon', 'query/query', 'query/query', 'logoff'], 'one session, shared');
    assert.equal(liveSessions(sandbox).length, 0);
    await client.close();
  });

  it('a lone withSession that left the queue still lets the holder log off', {
    timeout: 10_000,
  }, async () => {
    const client = clientFor(sandbox, clock);
    const [a] = sandbox.db.sorMaster.rows.slice(0, 1).map((r) => r.SalesOrder as string);
    const { holder, open } = holdSession(client, a as string);
    const stop = new AbortController();
    const waiting = client.withSession(async () => {}, { waitSignal: stop.signal });
    stop.abort(new Error('timed out'));
    await assert.rejects(
      waiting,
      (e) => isStoppedBeforeSending(e) && /SYSPRO session/.test((e as Error).message),
    );
    open();
    await holder;
    assert.equal(liveSessions(sandbox).length, 0, 'logged off when the holder ended');
    assert.equal(client.stats.logoffs, 1);
    await client.close();
  });

  it('recovers when a person logs on with the same operator mid-batch (evicted session)', async () => {
    const client = clientFor(sandbox, clock);
    const [first, second] = sandbox.db.sorMaster.rows.slice(0, 2).map((r) => r.SalesOrder as string);
    let humanUserId = '';
    const result = await client.withSession(async (session) => {
      const a = await querySalesOrder(session, { salesOrder: first as string });
      humanUserId = await humanLogon(sandbox, sandbox.operator); // evicts the client's session
      const b = await querySalesOrder(session, { salesOrder: second as string });
      return [a.salesOrder, b.salesOrder];
    });
    assert.deepEqual(result, [first, second]);
    assert.equal(client.stats.relogons, 1);
    assert.equal(client.stats.logons, 2);
    // Our re-logon evicted the person in turn; nothing of ours is left logged on.
    assert.equal(
      liveSessions(sandbox).some((s) => s.userId.trim() !== humanUserId.trim()),
      false,
    );
    await client.close();
    assert.equal(liveSessions(sandbox).length, 0);
  });

  it('recovers when the session expired while idle', async () => {
    const client = clientFor(sandbox, clock);
    const salesOrder = sandbox.db.sorMaster.rows[0]?.SalesOrder as string;
    await client.withSession(async (session) => {
      await querySalesOrder(session, { salesOrder });
      clock.advance(21 * 60_000); // past the sandbox's 20-minute idle timeout
      const again = await querySalesOrder(session, { salesOrder });
      assert.equal(again.found, true);
    });
    assert.equal(client.stats.relogons, 1);
    await client.close();
  });

  it('repeats a post once when its session was evicted (the post had not run)', async () => {
    const client = clientFor(sandbox, clock);
    const { salesOrder } = openOrderWithStockLine(sandbox);
    const since = sandbox.calls.list().at(-1)?.seq ?? 0;
    const evicting = client.withSession(async (session) => {
      await querySalesOrder(session, { salesOrder });
      await humanLogon(sandbox, sandbox.operator);
      return changeOrderStatus(session, [{ salesOrder, newStatus: '1' }], { validateOnly: true });
    });
    const result = await evicting;
    assert.equal(result.validateOnly, true);
    assert.equal(result.outcome.failed, false, JSON.stringify(result.outcome));
    assert.equal(client.stats.relogons, 1);
    const posts = sandbox.calls.list({ sinceSeq: since, businessObject: 'SORTOS' });
    assert.deepEqual(
      posts.map((c) => c.outcome),
      ['error', 'ok'],
    );
    await client.close();
  });

  it('logs off when a call fails, and when close() ends a busy client', async () => {
    const client = clientFor(sandbox, clock);
    await assert.rejects(
      client.withSession(async (session) => {
        await session.query('SORQRY', '<Query><Key><SalesOrder>000001</SalesOrder></Key></Query>');
        throw new Error('flow failed');
      }),
      /flow failed/,
    );
    assert.equal(liveSessions(sandbox).length, 0, 'logged off after the failure');

    const salesOrder = sandbox.db.sorMaster.rows[0]?.SalesOrder as string;
    const pending = querySalesOrder(client, { salesOrder });
    await client.close();
    assert.equal((await pending).found, true, 'queued work finishes before close');
    assert.equal(liveSessions(sandbox).length, 0, 'logged off on close');
    assert.equal(client.stats.logoffs, client.stats.logons);
    await assert.rejects(querySalesOrder(client, { salesOrder }), { kind: 'closed' });
  });

  it('reads a not-found order as found: false', async () => {
    const client = clientFor(sandbox, clock);
    const order = await querySalesOrder(client, { salesOrder: 'ZZ9999' });
    assert.equal(order.found, false);
    assert.match(order.outcome.errors[0]?.description ?? '', /not found/);
    await client.close();
  });

  it('posts a dispatch note, reads it back with SORQDN, and leaves no dry-run trace', async () => {
    const client = clientFor(sandbox, clock);
    const { salesOrder, line } = openOrderWithStockLine(sandbox);
    const note = {
      salesOrder,
      dispatchComments: ['UPS Ground', 'Tracking 1Z999AA10123456784'],
      userDefined1: '1Z999AA10123456784',
      lines: [{ salesOrderLine: line, dispatchQty: 1 }],
    };
    const notesBefore = sandbox.db.mdnMaster.rows.length;
    const dry = await postDispatchNotes(client, [note], { validateOnly: true });
    assert.equal(dry.outcome.failed, false, JSON.stringify(dry.outcome));
    assert.equal(sandbox.db.mdnMaster.rows.length, notesBefore);

    const posted = await postDispatchNotes(client, [note]);
    assertSucceeded('SORTDN', `order ${salesOrder}`, posted);
    const number = posted.notes[0]?.dispatchNote;
    assert.ok(number, JSON.stringify(posted));
    const read = await queryDispatchNote(client, { dispatchNote: number });
    assert.equal(read.found, true);
    assert.equal(read.salesOrder, salesOrder);
    assert.deepEqual(read.comments, ['UPS Ground', 'Tracking 1Z999AA10123456784']);
    assert.equal(read.userField1, '1Z999AA10123456784');
    assert.equal(read.lines[0]?.dispatchQty, 1);
    await client.close();
  });

  it('sets a custom form field with COMSFM and reads it through SORQRY', async () => {
    const client = clientFor(sandbox, clock);
    const salesOrder = sandbox.db.sorMaster.rows[3]?.SalesOrder as string;
    const result = await setCustomFormFields(client, [
      { formType: 'ORD', keyField: salesOrder, fieldName: 'TRACKNO', alphaValue: '9400 & <111>' },
    ]);
    assertSucceeded('COMSFM', `order ${salesOrder}`, result);
    const order = await querySalesOrder(client, { salesOrder, options: { includeCustomForms: true } });
    assert.equal(order.customForms.TRACKNO, '9400 & <111>');
    await client.close();
  });

  it('changes an order status with SORTOS, and a dry run changes nothing', async () => {
    const client = clientFor(sandbox, clock);
    const row = sandbox.db.sorMaster.rows.find((r) => r.OrderStatus === '1');
    assert.ok(row);
    const salesOrder = row.SalesOrder as string;
    const dry = await changeOrderStatus(client, [{ salesOrder, currentStatus: '1', newStatus: 'S' }], {
      validateOnly: true,
    });
    assert.equal(dry.outcome.failed, false, JSON.stringify(dry.outcome));
    assert.equal(sandbox.db.sorMaster.get(salesOrder)?.OrderStatus, '1');
    const real = await changeOrderStatus(client, [{ salesOrder, currentStatus: '1', newStatus: 'S' }]);
    assertSucceeded('SORTOS', `order ${salesOrder}`, real);
    assert.equal(sandbox.db.sorMaster.get(salesOrder)?.OrderStatus, 'S');
    await client.close();
  });

  it("GENTJL line texts land in the journal's Reference and AdditionalReference", async () => {
    const client = clientFor(sandbox, clock);
    const tracking = '1Z999AA10123456784';
    const long = `UPS Ground ${tracking} for order 000123 & more`;
    const journal = await postJournal(client, {
      journalDate: '2026-02-10',
      postingYear: 2026,
      postingPeriod: 2,
      reference: 'SHIP-77 freight',
      lines: [
        { ledgerCode: '5100-000', amount: 9.5, reference: 'SHIP-77', additionalReference: `UPS ${tracking}` },
        { ledgerCode: '2150-000', amount: -9.5, reference: 'SHIP-77 accrual', additionalReference: long },
      ],
    });
    assertSucceeded('GENTJL', 'journal SHIP-77', journal);
    const number = Number(journal.journalNumbers[0]);
    const rows = sandbox.db.genJnlDetail.rows
      .filter((r) => r.JnlYear === 2026 && r.JnlPeriod === 2 && r.Journal === number)
      .sort((a, b) => (a.EntryNumber as number) - (b.EntryNumber as number));
    assert.deepEqual(
      rows.map((r) => [r.GlCode, r.Reference, r.AdditionalReference]),
      [
        ['5100-000', 'SHIP-77', `UPS ${tracking}`],
        // Cut to the 30 characters a line text may have (UNCONFIRMED), never dropped.
        ['2150-000', 'SHIP-77 accrual', long.slice(0, 30).trimEnd()],
      ],
    );
    await client.close();
  });

  it('posts a balanced GL journal with GENTJL and reads INVQRY quantities', async () => {
    const client = clientFor(sandbox, clock);
    const journal = await postJournal(client, {
      journalDate: '2026-01-15',
      postingYear: 2026,
      postingPeriod: 1,
      reference: 'SHIP-42 freight',
      lines: [
        { ledgerCode: '5100-000', amount: 18.75, reference: 'SHIP-42' },
        { ledgerCode: '2150-000', amount: -18.75, reference: 'SHIP-42' },
      ],
    });
    assertSucceeded('GENTJL', 'journal SHIP-42', journal);
    assert.equal(journal.journalNumbers.length, 1, JSON.stringify(journal));

    const item = stockedItem(sandbox);
    const stock = await queryStock(client, { stockCode: item.stockCode, warehouses: [item.warehouse] });
    assert.equal(stock.found, true);
    const wh = stock.warehouses.find((w) => w.warehouse === item.warehouse);
    const row = sandbox.db.invWarehouse.get(item.stockCode, item.warehouse);
    assert.equal(wh?.qtyOnHand, row?.QtyOnHand);
    await client.close();
  });
});

// Which casing SORTDN, SORTOS and GENTJL answer in is UNCONFIRMED (recorded SYSPRO 7 `Post…`
// outputs are lower-case); the client must read both, so each write runs against a sandbox of each.
for (const postOutputCase of ['proper', 'lower'] as const) {
  describe(`e.net client against Post… outputs in ${postOutputCase} case`, () => {
    const clock = new FakeClock();
    let sandbox: SysproSandbox;

    before(async () => {
      sandbox = await startSysproSandbox({
        port: 0,
        clock,
        seed: 9,
        orders: 80,
        logger: false,
        quirks: { postOutputCase },
      });
    });
    after(() => sandbox.close());

    it("posts a dispatch note, changes the status, posts a journal, reads SORQDN and an apostrophe's text", async () => {
      const client = clientFor(sandbox, clock);
      const { salesOrder, line } = openOrderWithStockLine(sandbox);
      const before = sandbox.db.sorMaster.get(salesOrder)?.OrderStatus as string;
      const posted = await postDispatchNotes(client, [
        {
          salesOrder,
          dispatchComments: ["O'Neill's courier", 'Tracking 1Z<9>'],
          userDefined1: '1Z9',
          lines: [{ salesOrderLine: line, dispatchQty: 1 }],
        },
      ]);
      assertSucceeded('SORTDN', `order ${salesOrder}`, posted);
      assert.equal(posted.notes.length, 1);
      assert.equal(posted.notes[0]?.status, 'Posted');
      assert.equal(
        posted.outcome.status[postOutputCase === 'lower' ? 'itemsprocessed' : 'ItemsProcessed'],
        1,
      );
      const number = posted.notes[0]?.dispatchNote;
      assert.ok(number, JSON.stringify(posted));

      const read = await queryDispatchNote(client, { dispatchNote: number });
      assert.equal(read.found, true);
      assert.deepEqual(read.comments, ["O'Neill's courier", 'Tracking 1Z<9>']);
      assert.deepEqual(read.lines, [
        {
          salesOrderLine: line,
          stockCode: read.lines[0]?.stockCode,
          warehouse: read.lines[0]?.warehouse,
          dispatchQty: 1,
        },
      ]);
      assert.ok(read.lines[0]?.stockCode);

      const status = await changeOrderStatus(client, [{ salesOrder, currentStatus: before, newStatus: '8' }]);
      assertSucceeded('SORTOS', `order ${salesOrder}`, status);
      assert.deepEqual(status.items, [{ salesOrder, newStatus: '8' }]);

      const journal = await postJournal(client, {
        journalDate: '2026-01-15',
        postingYear: 2026,
        postingPeriod: 1,
        reference: "O'Neill freight",
        lines: [
          { ledgerCode: '5100-000', amount: 4.25, reference: 'SHIP-9' },
          { ledgerCode: '2150-000', amount: -4.25, reference: 'SHIP-9' },
        ],
      });
      assertSucceeded('GENTJL', 'journal SHIP-9', journal);
      assert.equal(journal.journalNumbers.length, 1, JSON.stringify(journal));
      await client.close();
    });
  });
}

describe('e.net client errors against the SYSPRO sandbox', () => {
  const clock = new FakeClock();
  let sandbox: SysproSandbox;

  before(async () => {
    sandbox = await startSysproSandbox({
      port: 0,
      clock,
      seed: 3,
      orders: 20,
      licenceSeats: 1,
      logger: false,
    });
  });
  after(() => sandbox.close());

  const expectKind = async (options: Partial<EnetClientOptions>, kind: string) => {
    const client = clientFor(sandbox, clock, options);
    await assert.rejects(client.checkLogon(), (e: unknown) => {
      assert.ok(e instanceof SysproError, String(e));
      assert.equal(e.kind, kind, e.message);
      for (const secret of [options.operatorPassword, options.companyPassword]) {
        if (secret) assert.ok(!e.message.includes(secret), e.message);
      }
      return true;
    });
    await client.close();
  };

  it('tells wrong password, unknown operator, unknown company and wrong company password apart', async () => {
    await expectKind({ operatorPassword: 'not-the-password' }, 'wrong-operator-password');
    await expectKind({ operator: 'NOBODY' }, 'unknown-operator');
    await expectKind({ company: 'NOPE' }, 'unknown-company');
    await expectKind({ companyPassword: 'not-the-company-pw' }, 'wrong-company-password');
  });

  it('checks a logon and logs off again', async () => {
    const client = clientFor(sandbox, clock);
    const result = await client.checkLogon();
    assert.equal(typeof result.version, 'string');
    assert.equal(liveSessions(sandbox).length, 0);
    await client.close();
  });

  it('makes licence exhaustion a typed, retryable error, and can wait for a seat on the clock', async () => {
    await humanLogon(sandbox, 'ADMIN'); // takes the only seat
    const client = clientFor(sandbox, clock);
    await assert.rejects(client.checkLogon(), (e: unknown) => {
      assert.ok(e instanceof SysproError);
      assert.equal(e.kind, 'licence-exhausted');
      assert.equal(e.retryable, true);
      assert.match(e.message, /licence/i);
      return true;
    });
    await client.close();

    // Waiting past the idle timeout frees ADMIN's idle seat (FakeClock: no real time passes).
    const patient = clientFor(sandbox, clock, { licenceWait: { attempts: 2, delayMs: 21 * 60_000 } });
    const started = clock.now();
    await patient.checkLogon();
    assert.ok(clock.now() - started >= 21 * 60_000);
    assert.equal(liveSessions(sandbox).length, 0);
    await patient.close();
  });

  it('a business object the licence lacks is business-object-unavailable', async () => {
    const restricted = await startSysproSandbox({
      port: 0,
      clock,
      seed: 3,
      orders: 5,
      unlicensedObjects: ['GENTJL'],
      logger: false,
    });
    try {
      const client = clientFor(restricted, clock);
      await assert.rejects(
        postJournal(client, {
          journalDate: '2026-01-15',
          postingYear: 2026,
          postingPeriod: 1,
          lines: [
            { ledgerCode: '5100-000', amount: 1 },
            { ledgerCode: '2150-000', amount: -1 },
          ],
        }),
        { kind: 'business-object-unavailable', retryable: false },
      );
      assert.equal(liveSessions(restricted).length, 0, 'logged off after the error');

      // ping's check: which objects the operator may use, changing nothing.
      const counts = () => [...restricted.db.tables.values()].map((t) => t.rows.length);
      const before = counts();
      const probes = await client.withSession((session) =>
        probeBusinessObjects(session, [
          'SORQRY',
          'SORTOI',
          'SORTOS',
          'SORTDN',
          'SORQDN',
          'COMSFM',
          'GENTJL',
          'INVQRY',
        ]),
      );
      assert.deepEqual(
        probes.filter((p) => !p.available).map((p) => p.businessObject),
        ['GENTJL'],
      );
      assert.equal(
        probes.find((p) => p.businessObject === 'GENTJL')?.error?.kind,
        'business-object-unavailable',
      );
      assert.deepEqual(counts(), before);
      await client.close();
    } finally {
      await restricted.close();
    }
  });
});

describe('e.net client under injected faults', () => {
  const clock = new FakeClock();
  let sandbox: SysproSandbox;

  before(async () => {
    sandbox = await startSysproSandbox({ port: 0, clock, seed: 5, orders: 10, logger: false });
  });
  after(() => sandbox.close());

  const salesOrder = () => sandbox.db.sorMaster.rows[0]?.SalesOrder as string;

  it('gives a query one more try after an unexplained ERROR, then reports it', async () => {
    sandbox.setFaults({ failures: [{ target: 'SORQRY', rate: 1, kind: 'error' }] });
    const client = clientFor(sandbox, clock);
    const since = sandbox.calls.list().at(-1)?.seq ?? 0;
    await assert.rejects(querySalesOrder(client, { salesOrder: salesOrder() }), { kind: 'enet-error' });
    assert.equal(sandbox.calls.count({ sinceSeq: since, businessObject: 'SORQRY' }), 2);
    assert.equal(liveSessions(sandbox).length, 0);
    sandbox.setFaults({});
    await client.close();
  });

  it('logs the old session off before logging on again after an unexplained ERROR', async () => {
    sandbox.setFaults({ failures: [{ target: 'SORQRY', rate: 1, kind: 'error' }] });
    const client = clientFor(sandbox, clock);
    const since = sandbox.calls.list().at(-1)?.seq ?? 0;
    await assert.rejects(querySalesOrder(client, { salesOrder: salesOrder() }), { kind: 'enet-error' });
    const calls = sandbox.calls.list({ sinceSeq: since });
    assert.deepEqual(
      calls.map((c) => c.method.toLowerCase()),
      ['logon', 'query/query', 'logoff', 'logon', 'query/query', 'logoff'],
    );
    // The first logoff ends the first session (it was still alive), not the second.
    assert.equal(calls[2]?.userId, calls[1]?.userId);
    assert.equal(calls[2]?.outcome, 'ok');
    assert.equal(client.stats.logons, 2);
    assert.equal(client.stats.logoffs, 2);
    assert.equal(liveSessions(sandbox).length, 0);
    sandbox.setFaults({});
    await client.close();
  });

  it('never repeats a post after an unexplained ERROR', async () => {
    sandbox.setFaults({ failures: [{ target: 'SORTOS', rate: 1, kind: 'error' }] });
    const client = clientFor(sandbox, clock);
    const since = sandbox.calls.list().at(-1)?.seq ?? 0;
    await assert.rejects(
      changeOrderStatus(client, [{ salesOrder: salesOrder(), newStatus: '1' }], { validateOnly: true }),
      { kind: 'enet-error' },
    );
    assert.equal(sandbox.calls.count({ sinceSeq: since, businessObject: 'SORTOS' }), 1);
    sandbox.setFaults({});
    await client.close();
  });

  it('maps HTTP 500, dropped connections and maintenance to typed errors, and logs off', async () => {
    const client = clientFor(sandbox, clock, { timeoutMs: 300 });
    sandbox.setFaults({ failures: [{ target: 'SORQRY', rate: 1, kind: 'http500' }] });
    await assert.rejects(querySalesOrder(client, { salesOrder: salesOrder() }), {
      kind: 'http-status',
      status: 500,
      retryable: true,
    });
    sandbox.setFaults({ failures: [{ target: 'SORQRY', rate: 1, kind: 'reset' }] });
    await assert.rejects(querySalesOrder(client, { salesOrder: salesOrder() }), {
      kind: 'unreachable',
      retryable: true,
    });
    sandbox.setFaults({ failures: [{ target: 'SORQRY', rate: 1, kind: 'hang' }] });
    await assert.rejects(querySalesOrder(client, { salesOrder: salesOrder() }), {
      kind: 'timeout',
      retryable: true,
    });
    sandbox.setFaults({});
    assert.equal(liveSessions(sandbox).length, 0, 'each failure logged its session off');

    await sandbox.setMaintenance('down');
    await assert.rejects(client.checkLogon(), { kind: 'http-status', status: 503, retryable: true });
    await sandbox.setMaintenance('refuse');
    await assert.rejects(client.checkLogon(), { kind: 'unreachable' });
    await sandbox.setMaintenance('off');
    assert.equal((await querySalesOrder(client, { salesOrder: salesOrder() })).found, true);
    await client.close();
  });
});
