/**
 * The orders commands with the store on PostgreSQL (a fresh database per run): a dry run writes
 * nothing, `sync orders --once --order` pushes one order, `orders show --json` reads it back.
 * Skipped without `TEST_DATABASE_URL`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { sandboxConfigDocument } from '../../src/cli/commands/sandbox.js';
import { type ShipStationSandbox, startShipStationSandbox } from '../../src/sandbox/shipstation/index.js';
import { type SysproSandbox, startSysproSandbox } from '../../src/sandbox/syspro/index.js';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../helpers/cli.js';
import { createPgDatabase, PG_URL } from '../helpers/dialects.js';

describe('orders commands with the store on PostgreSQL', {
  skip: PG_URL ? false : 'TEST_DATABASE_URL is not set',
}, () => {
  let shipstation: ShipStationSandbox;
  let syspro: SysproSandbox;
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  let database: { url: string; drop: () => Promise<void> };

  before(async () => {
    database = await createPgDatabase(PG_URL as string);
    shipstation = await startShipStationSandbox({ port: 0, seed: 31 });
    syspro = await startSysproSandbox({ port: 0, seed: 31, orders: 40 });
    cwd = mkdtempSync(join(tmpdir(), 'mlc-orders-cmds-pg-'));
    const document = sandboxConfigDocument('main', {
      shipstation: { url: shipstation.url, apiKey: '', apiSecret: '', v2ApiKey: '' },
      syspro: { ...syspro, enetUrl: syspro.enetUrl },
    }) as Record<string, unknown>;
    document.store = { url: database.url };
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
    await database?.drop();
  });

  const ours = () =>
    [...shipstation.state.orders.values()].filter((r) => r.orderKey.startsWith(`${syspro.company}:`));

  async function rows(): Promise<number> {
    const store = openStore(database.url);
    try {
      let n = 0;
      for (const table of ['links', 'jobs', 'audit', 'checkpoints'] as const)
        n += Number(
          (
            await store.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      return n;
    } finally {
      await store.close();
    }
  }

  it('dry run, one order synced by name, and orders show', async () => {
    const before = shipstation.state.orders.size;
    const dry = await runCli(['sync', 'orders', '--dry-run', '--json'], { cwd, env });
    assert.equal(shipstation.state.orders.size, before);
    assert.equal(await rows(), 0, 'the dry run wrote nothing');
    const first = dry.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { decision?: string; salesOrder?: string })
      .find((d) => d.decision === 'new');
    assert.ok(first?.salesOrder, dry.stdout + dry.stderr);

    const once = await runCli(['sync', 'orders', '--once', '--order', first.salesOrder], { cwd, env });
    assert.equal(once.code, 0, once.stdout + once.stderr);
    assert.deepEqual(
      ours().map((o) => o.orderNumber),
      [first.salesOrder],
    );

    const shown = JSON.parse(
      (await runCli(['orders', 'show', first.salesOrder, '--json'], { cwd, env })).stdout,
    ) as {
      link: { shipstationId: string; state: string };
      audit: Array<{ id: number; action: string; outcome: string; jobId: number }>;
    };
    assert.equal(shown.link.shipstationId, String(ours()[0]!.orderId));
    assert.equal(shown.link.state, 'open');
    assert.deepEqual(
      shown.audit.map((a) => `${a.action} ${a.outcome}`),
      ['create ok'],
    );
    assert.equal(typeof shown.audit[0]!.id, 'number');
  });
});
