/**
 * `sync orders`, `backfill orders` and `orders show`, run as a user would: the real binary against
 * both sandboxes on 127.0.0.1, counted in the sandboxes' own records (ShipStation's orders) and in
 * the store file the commands use.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { openStore } from '../../src/store/open.js';
import { BIN, runCli } from '../helpers/cli.js';

describe('orders commands against the sandboxes', () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  const invalid = new Set<string>();

  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 21 });
    syspro = await startSysproSandbox({ port: 0, seed: 21, orders: 150 });
    cwd = mkdtempSync(join(tmpdir(), 'mlc-orders-cmds-'));
    const document = sandboxConfigDocument('main', {
      shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<Record<string, unknown>> } & Record<string, unknown>;
    document.connections[0]!.polls = { orders: '1s', shipments: 0, customers: 0 };
    writeFileSync(join(cwd, 'ml-connector.yaml'), stringify(document));
    env = {
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_OPERATORPASSWORD: syspro.operatorPassword,
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_COMPANYPASSWORD: syspro.companyPassword,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: shipstation.apiKey,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: shipstation.apiSecret,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_V2APIKEY: shipstation.v2ApiKey,
    };
  });
  after(async () => {
    await shipstation?.close();
    await syspro?.close();
  });

  const ours = () =>
    [...shipstation.state.orders.values()].filter((r) => r.orderKey.startsWith(`${syspro.company}:`));
  const oursByNumber = () => new Map(ours().map((r) => [r.orderNumber, r]));
  /** SYSPRO's orders that the flow sends: open statuses with something to ship. */
  const sendable = () =>
    syspro.db.sorMaster.rows
      .filter(
        (r) =>
          ['1', '2', '3', '4'].includes(String(r.OrderStatus)) &&
          syspro.db
            .linesOf(String(r.SalesOrder))
            .some((l) => (l.LineType === '1' || l.LineType === '7') && Number(l.MShipQty) > 0),
      )
      .map((r) => ({
        salesOrder: String(r.SalesOrder).trim(),
        entered: String(r.EntrySystemDate).slice(0, 10),
      }));

  async function storeCounts() {
    const store = openStore(`sqlite:${join(cwd, 'data', 'ml-connector.db')}`);
    try {
      const count = async (table: 'links' | 'jobs' | 'audit' | 'checkpoints') =>
        Number(
          (
            await store.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      return {
        links: await count('links'),
        jobs: await count('jobs'),
        audit: await count('audit'),
        checkpoints: await count('checkpoints'),
      };
    } finally {
      await store.close();
    }
  }

  it('sync orders --dry-run shows what would be sent, sends nothing and writes nothing', async () => {
    const ordersBefore = shipstation.state.orders.size;
    const modifiedBefore = [...shipstation.state.orders.values()].map((r) => r.modifyDate);
    const text = await runCli(['sync', 'orders', '--dry-run'], { cwd, env });
    const json = await runCli(['sync', 'orders', '--dry-run', '--json'], { cwd, env });
    assert.equal(shipstation.state.orders.size, ordersBefore, 'no order created in ShipStation');
    assert.equal(ours().length, 0);
    assert.deepEqual(
      [...shipstation.state.orders.values()].map((r) => r.modifyDate),
      modifiedBefore,
      'no order changed in ShipStation',
    );
    assert.deepEqual(await storeCounts(), { links: 0, jobs: 0, audit: 0, checkpoints: 0 }, 'no store writes');

    const decisions = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { decision?: string; salesOrder?: string; problems?: unknown[] });
    for (const d of decisions) if (d.decision === 'invalid') invalid.add(d.salesOrder!);
    const news = decisions.filter((d) => d.decision === 'new').map((d) => d.salesOrder);
    const expected = sendable()
      .map((o) => o.salesOrder)
      .filter((s) => !invalid.has(s));
    assert.ok(expected.length > 10, `seed gives open orders (${expected.length})`);
    assert.deepEqual(news.sort(), expected.sort());
    assert.equal(json.code, invalid.size > 0 ? 1 : 0, json.stderr);

    assert.match(
      text.stdout,
      /^DRY RUN main: nothing is sent to ShipStation and nothing is written to the store\.$/m,
    );
    assert.equal(
      text.stdout.match(/^new {8}\S+ {2}awaiting_shipment, \d+ items?, ship to /gm)?.length,
      expected.length,
    );
    assert.match(text.stdout, /^skipped {4}\S+ {2}\S/m);
    assert.match(
      text.stdout,
      new RegExp(`main: read \\d+ order\\(s\\); would send ${expected.length}, .*; 0 ShipStation requests`),
    );
    if (invalid.size > 0) {
      assert.match(text.stdout, /^invalid {4}\S+ {2}\S+: /m);
      assert.match(text.stderr, new RegExp(`Error: ${invalid.size} order\\(s\\) cannot be sent`));
    }
  });

  it('sync orders --dry-run --order shows the body; an unknown order is named', async () => {
    const [first] = sendable().filter((o) => !invalid.has(o.salesOrder));
    const result = await runCli(
      ['sync', 'orders', '--dry-run', '--order', first!.salesOrder, '--order', '999999'],
      {
        cwd,
        env,
      },
    );
    assert.equal(result.code, 1);
    assert.match(result.stdout, new RegExp(`^new {8}${first!.salesOrder} `, 'm'));
    assert.match(
      result.stdout,
      new RegExp(`^ {6}"orderKey": "${syspro.company}:${first!.salesOrder}",$`, 'm'),
    );
    assert.match(result.stdout, /^not found {2}999999 {2}SYSPRO has no such sales order$/m);
    assert.equal(ours().length, 0);
  });

  it('sync orders --once --order pushes that order only', async () => {
    const [first] = sendable().filter((o) => !invalid.has(o.salesOrder));
    const result = await runCli(['sync', 'orders', '--once', '--order', first!.salesOrder], { cwd, env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(
      ours().map((o) => o.orderNumber),
      [first!.salesOrder],
    );
    assert.match(result.stdout, /^main: read 1 order\(s\); queued 1 to send/m);
    assert.match(
      result.stdout,
      new RegExp(`^pushed {5}${first!.salesOrder} {2}ShipStation orderId \\d+$`, 'm'),
    );
    assert.match(result.stdout, /^main: pushed 1, unchanged 0, skipped 0, failed 0$/m);
  });

  it('backfill orders sends the orders entered in the range, with plain progress lines and a summary', async () => {
    const open = sendable().sort((a, b) => a.entered.localeCompare(b.entered));
    const from = open[3]!.entered;
    const to = open[open.length - 4]!.entered;
    const inRange = open.filter((o) => o.entered >= from && o.entered <= to);
    const already = new Set(ours().map((o) => o.orderNumber));
    const result = await runCli(['backfill', 'orders', '--from', from, '--to', to, '--every', '5'], {
      cwd,
      env,
    });
    const badInRange = inRange.filter((o) => invalid.has(o.salesOrder));
    assert.equal(result.code, badInRange.length > 0 ? 1 : 0, result.stdout + result.stderr);

    const numbers = oursByNumber();
    for (const o of inRange)
      assert.equal(numbers.has(o.salesOrder), !invalid.has(o.salesOrder), o.salesOrder);
    for (const o of open.filter((x) => x.entered < from || x.entered > to))
      assert.equal(
        numbers.has(o.salesOrder),
        already.has(o.salesOrder),
        `${o.salesOrder} is outside the range`,
      );

    assert.match(result.stdout, new RegExp(`^main: backfill of the orders entered ${from} to ${to}$`, 'm'));
    const progress =
      result.stdout.match(/^main: read \d+, pushed \d+, skipped \d+, failed \d+, \d+\/min$/gm) ?? [];
    assert.ok(progress.length >= 2, `progress lines every 5 orders:\n${result.stdout}`);
    assert.doesNotMatch(result.stdout, /\r/, 'no terminal redraws when stdout is not a terminal');
    const pushed = inRange.filter((o) => !invalid.has(o.salesOrder) && !already.has(o.salesOrder)).length;
    assert.match(
      result.stdout,
      new RegExp(
        `^main: backfill ${from} to ${to} done in \\d+s: read \\d+, pushed ${pushed}, skipped \\d+ .*failed ${badInRange.length} \\(invalid ${badInRange.length}, refused 0, to retry 0\\); \\d+/min, \\d+ OData requests$`,
        'm',
      ),
    );
    for (const o of badInRange)
      assert.match(result.stdout, new RegExp(`^invalid ${o.salesOrder} {2}\\S+: `, 'm'));
  });

  it('a dry run after a change names the changed fields; sync orders --once sends the rest, then nothing', async () => {
    const sent = ours()[0]!;
    const line = syspro.db
      .linesOf(sent.orderNumber)
      .find((l) => (l.LineType === '1' || l.LineType === '7') && Number(l.MShipQty) > 0)!;
    line.MShipQty = Number(line.MShipQty) + 3;
    const countsBeforeDry = await storeCounts();
    const modifyBeforeDry = sent.modifyDate;
    const dry = await runCli(['sync', 'orders', '--dry-run', '--order', sent.orderNumber], { cwd, env });
    assert.match(dry.stdout, new RegExp(`^changed {4}${sent.orderNumber} {2}changed: items; `, 'm'));
    assert.deepEqual(await storeCounts(), countsBeforeDry, 'a dry run writes nothing');
    assert.equal(
      oursByNumber().get(sent.orderNumber)!.modifyDate,
      modifyBeforeDry,
      'nor changes ShipStation',
    );

    const before = await storeCounts();
    const once = await runCli(['sync', 'orders', '--once', '--every', '5'], { cwd, env });
    assert.equal(once.code, invalid.size > 0 ? 1 : 0, once.stdout + once.stderr);
    // Not a terminal: plain progress lines every 5 orders done, then the summary with the rate.
    const progress =
      once.stdout.match(/^main: read \d+, pushed \d+, skipped \d+, failed \d+, \d+\/min$/gm) ?? [];
    assert.ok(progress.length >= 2, `progress lines every 5 orders:\n${once.stdout}`);
    assert.doesNotMatch(once.stdout, /\r/, 'no terminal redraws when stdout is not a terminal');
    assert.match(
      once.stdout,
      /^main: sync done in \d+s: read \d+, pushed [1-9]\d*, skipped \d+, failed \d+, \d+\/min$/m,
    );
    const expected = sendable().filter((o) => !invalid.has(o.salesOrder));
    assert.equal(ours().length, expected.length);
    assert.equal(new Set(ours().map((o) => o.orderNumber)).size, ours().length, 'no sales order twice');
    const item = (
      oursByNumber().get(sent.orderNumber)!.body() as { items: Array<{ sku: string; quantity: number }> }
    ).items.find((i) => i.sku === String(line.MStockCode).trim());
    assert.equal(item?.quantity, Number(line.MShipQty));
    assert.ok((await storeCounts()).links > before.links);

    const modified = ours().map((o) => o.modifyDate);
    const again = await runCli(['sync', 'orders', '--once'], { cwd, env });
    assert.match(again.stdout, /^main: read \d+ order\(s\); queued 0 to send/m);
    assert.match(again.stdout, /^main: pushed 0, unchanged 0, skipped 0, failed 0$/m);
    assert.deepEqual(
      ours().map((o) => o.modifyDate),
      modified,
    );
  });

  it('orders show prints SYSPRO, the link, the last body sent, ShipStation and the audit trail', async () => {
    const sent = ours()[0]!;
    const text = await runCli(['orders', 'show', sent.orderNumber], { cwd, env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      new RegExp(
        `^Sales order ${sent.orderNumber} \\(connection main, orderKey ${syspro.company}:${sent.orderNumber}\\)$`,
        'm',
      ),
    );
    assert.match(text.stdout, /^SYSPRO\n {2}status /m);
    assert.match(text.stdout, /^ {2}maps to: awaiting_shipment, .*same as last sent/m);
    assert.match(
      text.stdout,
      new RegExp(`^Link\\n {2}state open, ShipStation orderId ${sent.orderId}, `, 'm'),
    );
    assert.match(
      text.stdout,
      new RegExp(
        `^ShipStation \\(GET /orders/${sent.orderId}\\)\\n {2}orderId ${sent.orderId}, .*status awaiting_shipment`,
        'm',
      ),
    );
    assert.match(
      text.stdout,
      /^Audit \(newest first, up to 50\)\n {2}\S+ {2}#\d+ {2}update ok {2}job \d+; attempt 1; orderId \d+; changed: items/m,
    );
    assert.match(
      text.stdout,
      /^ {2}\S+ {2}#\d+ {2}create ok {2}job \d+; attempt 1; orderId \d+; changed: \(new\)$/m,
    );

    const json = await runCli(['orders', 'show', sent.orderNumber, '--json'], { cwd, env });
    const shown = JSON.parse(json.stdout) as {
      orderKey: string;
      syspro: { header: { SalesOrder: string }; lines: unknown[]; mapped: { action: string } };
      link: { shipstationId: string; state: string };
      shipstation: { order: { orderId: number; orderKey: string } };
      audit: Array<{ action: string; outcome: string }>;
      lastSent: { sent: { orderKey: string } };
    };
    assert.equal(shown.orderKey, `${syspro.company}:${sent.orderNumber}`);
    assert.equal(shown.syspro.header.SalesOrder.trim(), sent.orderNumber);
    assert.ok(shown.syspro.lines.length > 0);
    assert.equal(shown.link.shipstationId, String(sent.orderId));
    assert.equal(shown.shipstation.order.orderKey, shown.orderKey);
    assert.deepEqual(
      shown.audit.map((a) => `${a.action} ${a.outcome}`),
      ['update ok', 'create ok'],
    );
    assert.equal(shown.lastSent.sent.orderKey, shown.orderKey);

    const unknown = await runCli(['orders', 'show', '999999'], { cwd, env });
    assert.equal(unknown.code, 0);
    assert.match(unknown.stdout, /no such sales order in SorMaster/);
    assert.match(unknown.stdout, /^Link\n {2}none: never sent$/m);
    assert.match(
      unknown.stdout,
      /^ShipStation \(GET \/orders\?orderNumber=999999\)\n {2}no order with this orderKey$/m,
    );
  });

  it('an order that cannot be mapped is listed with its reason: the dry run writes nothing, the sync reports it once', async () => {
    const target =
      syspro.db.sorMaster.rows.find(
        (r) => String(r.OrderStatus) === '1' && !oursByNumber().has(String(r.SalesOrder).trim()),
      ) ?? syspro.db.sorMaster.get(ours()[1]!.orderNumber)!;
    const salesOrder = String(target.SalesOrder).trim();
    target.ShipAddress1 = '';
    target.ShipAddress2 = '';
    target.ShipPostalCode = '';
    target.ShipAddress5 = 'Atlantis';
    for (const l of syspro.db.linesOf(salesOrder))
      if (l.LineType === '1') l.MShipQty = Math.max(1, Number(l.MShipQty));
    const before = await storeCounts();
    const dry = await runCli(['sync', 'orders', '--dry-run', '--order', salesOrder], { cwd, env });
    assert.equal(dry.code, 1);
    assert.match(
      dry.stdout,
      new RegExp(`^invalid {4}${salesOrder} {2}.*Atlantis.*; shipTo\\.street1: no street line`, 'm'),
    );
    assert.match(dry.stderr, /Error: 1 order\(s\) cannot be sent/);
    assert.deepEqual(await storeCounts(), before);

    for (let i = 0; i < 2; i++) {
      const once = await runCli(['sync', 'orders', '--once', '--order', salesOrder], { cwd, env });
      assert.equal(once.code, 1);
      assert.match(once.stdout, new RegExp(`^invalid {4}${salesOrder} {2}`, 'm'));
      assert.match(once.stderr, /Error: 1 order\(s\) were not sent/);
    }
    const shown = JSON.parse(
      (await runCli(['orders', 'show', salesOrder, '--json'], { cwd, env })).stdout,
    ) as {
      audit: Array<{ action: string; outcome: string; error: string | null }>;
      syspro: { mapped: { action: string } };
    };
    assert.equal(shown.syspro.mapped.action, 'invalid');
    // Once per distinct set of problems (an earlier poll may have reported this order for another reason).
    assert.equal(
      shown.audit.filter((a) => a.action === 'map' && a.outcome === 'error' && /Atlantis/.test(a.error ?? ''))
        .length,
      1,
      'reported once',
    );
  });

  it('sync orders --once --order on an order SYSPRO no longer has cancels it in ShipStation', async () => {
    const gone = ours().find((o) => o.status === 'awaiting_shipment')!;
    const header = syspro.db.sorMaster.get(gone.orderNumber)!;
    const dry = await runCli(['sync', 'orders', '--dry-run', '--order', gone.orderNumber], { cwd, env });
    assert.match(dry.stdout, new RegExp(`^unchanged  ${gone.orderNumber}$`, 'm'));
    syspro.db.sorMaster.delete(header);
    try {
      const dryGone = await runCli(['sync', 'orders', '--dry-run', '--order', gone.orderNumber], {
        cwd,
        env,
      });
      assert.equal(dryGone.code, 0, dryGone.stdout + dryGone.stderr);
      assert.match(
        dryGone.stdout,
        new RegExp(`^follow-up  ${gone.orderNumber}  .*SYSPRO no longer has it`, 'm'),
      );
      assert.equal(
        oursByNumber().get(gone.orderNumber)!.status,
        'awaiting_shipment',
        'a dry run cancels nothing',
      );
      const once = await runCli(['sync', 'orders', '--once', '--order', gone.orderNumber], { cwd, env });
      assert.equal(once.code, 0, once.stdout + once.stderr);
      assert.equal(oursByNumber().get(gone.orderNumber)!.status, 'cancelled');
      assert.match(once.stdout, /^main: pushed 1, unchanged 0, skipped 0, failed 0$/m);
    } finally {
      syspro.db.sorMaster.insert(header);
    }
  });

  it('sync orders without --once polls every polls.orders until SIGINT, then exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'sync', 'orders'], {
      cwd,
      env: { PATH: process.env.PATH, ...env },
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const until = Date.now() + 20_000;
    while ((stdout.match(/^main: pushed /gm) ?? []).length < 2) {
      if (Date.now() > until) {
        child.kill('SIGKILL');
        throw new Error(`no two passes:\n${stdout}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    assert.equal(await exited, 0, stdout);
    assert.match(stdout, /^Syncing orders for main every 1s; Ctrl-C stops\.$/m);
    assert.match(stdout, /^Stopped\.$/m);
  });
});
