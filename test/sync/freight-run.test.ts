/**
 * Freight to the general ledger under `ml-connector run`: a label written back as a dispatch note
 * gets one GENTJL journal (counted in the SYSPRO sandbox's own GenJnlCtl/GenJnlDetail), posted once
 * however often the shipment is seen again, reversed once when the label is voided; a closed period
 * is the shipment's problem with SYSPRO's text.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { listAudit } from '../../src/store/audit.js';
import { openStore } from '../../src/store/open.js';
import { BIN } from '../helpers/cli.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('ml-connector run: freight → GENTJL', () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let child: ChildProcess | undefined;
  let output = '';

  before(async () => {
    shipstation = await startShipStationSandbox({ port: 0, seed: 14 });
    syspro = await startSysproSandbox({ port: 0, seed: 14, orders: 60 });
    dir = mkdtempSync(join(tmpdir(), 'mlc-freight-run-'));
    const port = await freePort();
    const document = sandboxConfigDocument('main', {
      shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as { connections: Array<Record<string, Record<string, unknown>>> } & Record<string, unknown>;
    document.http = { host: '127.0.0.1', port };
    document.shutdownTimeout = '10s';
    document.jobLease = '5s';
    document.retry = { cadence: ['1s', '1s', '2s'], jitter: 0 };
    const connection = document.connections[0]!;
    connection.polls = { orders: '1s', shipments: '1s', customers: 0, channelOrders: 0, inventory: 0 };
    connection.shipments = { overlap: '1h' };
    connection.freight = {
      enabled: true,
      method: 'journal',
      glAccount: '5100-000',
      insuranceGlAccount: '5110-000',
      offsetGlAccount: '2150-000',
      voids: 'reverse',
    };
    connection.channelOrders = { enabled: false };
    connection.inventory = { enabled: false };
    writeFileSync(join(dir, 'ml-connector.yaml'), stringify(document));
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_OPERATORPASSWORD: syspro.operatorPassword,
      ML_CONNECTOR_SECRET_MAIN_SYSPRO_COMPANYPASSWORD: syspro.companyPassword,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APIKEY: shipstation.apiKey,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_APISECRET: shipstation.apiSecret,
      ML_CONNECTOR_SECRET_MAIN_SHIPSTATION_V2APIKEY: shipstation.v2ApiKey,
    };
  });
  after(async () => {
    child?.kill('SIGKILL');
    await shipstation?.close();
    await syspro?.close();
  });

  async function waitFor(check: () => boolean | Promise<boolean>, what: string, capMs = 45_000) {
    const until = Date.now() + capMs;
    while (!(await check())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const sandboxPost = async (path: string, body: unknown = {}) => {
    const res = await fetch(`${shipstation.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Record<string, unknown>;
  };
  const ours = () =>
    [...shipstation.state.orders.values()].filter(
      (r) => r.orderKey.startsWith(`${syspro.company}:`) && r.status === 'awaiting_shipment',
    );
  const journals = (reference: string) => syspro.db.genJnlCtl.rows.filter((j) => j.Reference === reference);
  const detailsOf = (journal: Record<string, unknown>) =>
    syspro.db.genJnlDetail.rows
      .filter(
        (d) =>
          d.JnlYear === journal.JnlYear && d.JnlPeriod === journal.JnlPeriod && d.Journal === journal.Journal,
      )
      .map((d) => [d.GlCode, d.EntryValue]);
  const label = async (orderId: number) => {
    const made = (await sandboxPost(`/_sandbox/orders/${orderId}/labels`)) as {
      shipments: Array<{ shipmentId: number; shipmentCost: number; trackingNumber: string }>;
    };
    return made.shipments[0]!;
  };

  it('posts a shipment freight once, reverses it once on void, and reports a closed period', async () => {
    child = spawn(process.execPath, [BIN, 'run', '--config', join(dir, 'ml-connector.yaml')], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<number>((resolve) => child?.on('exit', (code) => resolve(code ?? -1)));
    await waitFor(() => ours().length >= 3, 'orders in ShipStation');
    const [first, second] = ours();
    // The first GENTJL answer is lost (posted, then the connection dropped): the retry asks first.
    const gentjlBefore = syspro.calls.list({ businessObject: 'GENTJL' }).length;
    syspro.setFaults({ failures: [{ target: 'GENTJL', rate: 1, kind: 'lost' }] });
    const shipment = await label(first!.orderId);
    const reference = `SS FRT ${shipment.shipmentId}`;
    await waitFor(
      () => syspro.calls.list({ businessObject: 'GENTJL' }).length > gentjlBefore,
      'the first GENTJL post',
    );
    syspro.setFaults({});
    await waitFor(() => journals(reference).length > 0, 'the freight journal');
    await waitFor(async () => {
      const s = openStore(`sqlite:${join(dir, 'data', 'ml-connector.db')}`);
      try {
        return (await listAudit(s.db, { flow: 'freight', limit: 50 })).some(
          (r) => r.entity_key === `shipment:${shipment.shipmentId}` && r.action === 'post',
        );
      } finally {
        await s.close();
      }
    }, 'the freight job resolved');
    assert.equal(
      syspro.calls.list({ businessObject: 'GENTJL' }).length - gentjlBefore,
      1,
      'the in-doubt retry found the journal by its reference and posted nothing again',
    );
    const journal = journals(reference)[0]!;
    assert.deepEqual(detailsOf(journal), [
      ['5100-000', shipment.shipmentCost],
      ['2150-000', -shipment.shipmentCost],
    ]);
    assert.match(
      String(journal.Notation),
      new RegExp(`shipment ${shipment.shipmentId}.*tracking ${shipment.trackingNumber}`),
    );

    // The shipments poll re-reads the label every second: still one journal.
    const polls = (output.match(/"shipments poll done"|"msg":"shipments poll/g) ?? []).length;
    await waitFor(
      () => (output.match(/"shipments poll done"|"msg":"shipments poll/g) ?? []).length >= polls + 3,
      'three more shipments polls',
    );
    assert.equal(journals(reference).length, 1, 'posted once');

    // Voided: one reversing journal.
    await sandboxPost(`/_sandbox/shipments/${shipment.shipmentId}/void`);
    await waitFor(() => journals(`${reference} VOID`).length > 0, 'the reversal');
    assert.deepEqual(detailsOf(journals(`${reference} VOID`)[0]!), [
      ['5100-000', -shipment.shipmentCost],
      ['2150-000', shipment.shipmentCost],
    ]);
    const after = (output.match(/"shipments poll done"|"msg":"shipments poll/g) ?? []).length;
    await waitFor(
      () => (output.match(/"shipments poll done"|"msg":"shipments poll/g) ?? []).length >= after + 2,
      'two more shipments polls',
    );
    assert.equal(journals(reference).length, 1);
    assert.equal(journals(`${reference} VOID`).length, 1, 'reversed once');

    // A closed period: the shipment's clear problem, with SYSPRO's text; no journal.
    // The ship date is Pacific's calendar date: close this UTC month and the one a day ago.
    for (const at of [Date.now(), Date.now() - 86_400_000])
      syspro.db.closedGlPeriods.add(new Date(at).toISOString().slice(0, 7));
    const closed = await label(second!.orderId);
    const store = openStore(`sqlite:${join(dir, 'data', 'ml-connector.db')}`);
    try {
      await waitFor(async () => {
        const rows = await listAudit(store.db, { flow: 'freight', outcome: 'error', limit: 20 });
        return rows.some(
          (r) => r.entity_key === `shipment:${closed.shipmentId}` && /is closed/.test(r.error ?? ''),
        );
      }, 'the closed period reported');
    } finally {
      await store.close();
    }
    assert.equal(journals(`SS FRT ${closed.shipmentId}`).length, 0);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output.slice(-2000));
  });
});
