import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { it } from 'node:test';
import { sql } from 'kysely';
import { UserError } from '../../src/config/errors.js';
import { appendAudit, listAudit } from '../../src/store/audit.js';
import { readCheckpoint, writeCheckpoint } from '../../src/store/checkpoints.js';
import { ensureConnection, listConnections } from '../../src/store/connections.js';
import { findLink, findLinkByShipStationId, findLinks, saveLink } from '../../src/store/links.js';
import { keyId, type MasterKey } from '../../src/store/master-key.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { getSecret, listSecrets, putSecret, resolveSecret } from '../../src/store/secrets.js';
import { forEachDialect } from '../helpers/dialects.js';

function newKey(): MasterKey {
  const key = randomBytes(32);
  return { key, id: keyId(key), source: 'environment' };
}

const PLAINTEXT = 'Sup3r-Secret-Api-Key-7f1c9a';

forEachDialect('store', (ctx) => {
  it('runs migrations once: a second run applies nothing', async () => {
    const again = await migrateToLatest(ctx.store);
    assert.deepEqual(again.applied, []);
    assert.ok(again.alreadyApplied >= 1);
  });

  it('stores secrets encrypted and reads them back with the same key', async () => {
    const master = newKey();
    await putSecret(ctx.store.db, master, 'main', 'shipstation.apiKey', PLAINTEXT, 1_000);
    assert.equal(await getSecret(ctx.store.db, master, 'main', 'shipstation.apiKey'), PLAINTEXT);
    assert.equal(await getSecret(ctx.store.db, master, 'main', 'nope'), undefined);

    const rows = await ctx.store.db.selectFrom('secrets').selectAll().execute();
    assert.ok(!JSON.stringify(rows).includes(PLAINTEXT), 'no column holds the plaintext');
    assert.ok(!JSON.stringify(rows).includes(Buffer.from(PLAINTEXT).toString('base64')), 'nor its base64');

    if (ctx.dialect === 'sqlite') {
      // The whole database directory (file, WAL and shared memory) is free of the plaintext.
      await sql`PRAGMA wal_checkpoint(FULL)`.execute(ctx.store.db);
      const dir = dirname(ctx.url.slice('sqlite:'.length));
      for (const name of readdirSync(dir)) {
        const bytes = readFileSync(`${dir}/${name}`);
        assert.equal(bytes.indexOf(PLAINTEXT), -1, `${name} contains the plaintext`);
        assert.equal(bytes.indexOf(Buffer.from(PLAINTEXT, 'utf16le')), -1);
      }
    }
  });

  it('uses a fresh nonce each time a secret is stored', async () => {
    const master = newKey();
    await putSecret(ctx.store.db, master, 'nonce', 'a', 'same value');
    const first = await ctx.store.db
      .selectFrom('secrets')
      .selectAll()
      .where('connection', '=', 'nonce')
      .executeTakeFirstOrThrow();
    await putSecret(ctx.store.db, master, 'nonce', 'a', 'same value');
    const second = await ctx.store.db
      .selectFrom('secrets')
      .selectAll()
      .where('connection', '=', 'nonce')
      .executeTakeFirstOrThrow();
    assert.notEqual(first.nonce, second.nonce);
    assert.notEqual(first.ciphertext, second.ciphertext);
  });

  it('refuses a wrong master key with a clear error', async () => {
    const right = newKey();
    await putSecret(ctx.store.db, right, 'wrongkey', 'syspro.operatorPassword', PLAINTEXT);
    await assert.rejects(
      getSecret(ctx.store.db, newKey(), 'wrongkey', 'syspro.operatorPassword'),
      (err: unknown) =>
        err instanceof UserError &&
        /different master key/.test(err.message) &&
        !err.message.includes(PLAINTEXT),
    );
  });

  it('refuses a tampered record instead of returning garbage', async () => {
    const master = newKey();
    await putSecret(ctx.store.db, master, 'tamper', 'x', PLAINTEXT);
    const row = await ctx.store.db
      .selectFrom('secrets')
      .selectAll()
      .where('connection', '=', 'tamper')
      .executeTakeFirstOrThrow();
    const bytes = Buffer.from(row.ciphertext, 'base64');
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    await ctx.store.db
      .updateTable('secrets')
      .set({ ciphertext: bytes.toString('base64') })
      .where('connection', '=', 'tamper')
      .execute();
    await assert.rejects(getSecret(ctx.store.db, master, 'tamper', 'x'), /failed its integrity check/);
  });

  it('binds a record to its name: a row copied to another name does not open', async () => {
    const master = newKey();
    await putSecret(ctx.store.db, master, 'copy', 'original', PLAINTEXT);
    const row = await ctx.store.db
      .selectFrom('secrets')
      .selectAll()
      .where('connection', '=', 'copy')
      .executeTakeFirstOrThrow();
    await ctx.store.db
      .insertInto('secrets')
      .values({ ...row, name: 'stolen' })
      .execute();
    await assert.rejects(getSecret(ctx.store.db, master, 'copy', 'stolen'), /failed its integrity check/);
  });

  it('lists names and dates, never values', async () => {
    const master = newKey();
    await putSecret(ctx.store.db, master, 'listing', 'b', PLAINTEXT, Date.parse('2026-01-02T00:00:00Z'));
    await putSecret(ctx.store.db, master, 'listing', 'a', PLAINTEXT, Date.parse('2026-01-01T00:00:00Z'));
    const listed = await listSecrets(ctx.store.db, 'listing');
    assert.deepEqual(
      listed.map((s) => [s.name, s.updatedAt.toISOString()]),
      [
        ['a', '2026-01-01T00:00:00.000Z'],
        ['b', '2026-01-02T00:00:00.000Z'],
      ],
    );
    assert.ok(!JSON.stringify(listed).includes(PLAINTEXT));
  });

  it('resolves a reference from the environment first, then the store, and explains a missing one', async () => {
    const master = newKey();
    await putSecret(ctx.store.db, master, 'resolve', 'shipstation.apiKey', 'from-store');
    const load = () => master;
    assert.equal(await resolveSecret(ctx.store.db, load, 'resolve', 'shipstation.apiKey', {}), 'from-store');
    assert.equal(
      await resolveSecret(ctx.store.db, load, 'resolve', 'shipstation.apiKey', {
        ML_CONNECTOR_SECRET_RESOLVE_SHIPSTATION_APIKEY: 'from-env',
      }),
      'from-env',
    );
    await assert.rejects(
      resolveSecret(ctx.store.db, load, 'resolve', 'shipstation.apiSecret', {}),
      /ml-connector creds set resolve shipstation\.apiSecret.*ML_CONNECTOR_SECRET_RESOLVE_SHIPSTATION_APISECRET/,
    );
  });

  it('saves links and finds them by either side', async () => {
    await saveLink(
      ctx.store.db,
      {
        connection: 'c1',
        entityType: 'order',
        sysproKey: 'EDU1:000100',
        shipstationId: '9001',
        lastHash: 'h1',
      },
      10,
    );
    await saveLink(
      ctx.store.db,
      {
        connection: 'c1',
        entityType: 'order',
        sysproKey: 'EDU1:000100',
        shipstationId: '9001',
        lastHash: 'h2',
      },
      20,
    );
    await saveLink(
      ctx.store.db,
      {
        connection: 'c1',
        entityType: 'order',
        sysproKey: 'EDU1:000101',
        shipstationId: '9002',
        lastHash: 'h3',
      },
      30,
    );
    const link = await findLink(ctx.store.db, 'c1', 'order', 'EDU1:000100');
    assert.equal(link?.lastHash, 'h2');
    assert.equal(link?.lastPushedAt, 20);
    assert.equal(
      (await findLinkByShipStationId(ctx.store.db, 'c1', 'order', '9002'))?.sysproKey,
      'EDU1:000101',
    );
    const many = await findLinks(ctx.store.db, 'c1', 'order', ['EDU1:000100', 'EDU1:000101', 'EDU1:999999']);
    assert.deepEqual([...many.keys()].sort(), ['EDU1:000100', 'EDU1:000101']);
    assert.equal(await findLink(ctx.store.db, 'c2', 'order', 'EDU1:000100'), undefined);
  });

  it('keeps checkpoints per connection', async () => {
    await writeCheckpoint(ctx.store.db, 'c1', 'orders.watermark', '2026-01-01T00:00:00Z');
    await writeCheckpoint(ctx.store.db, 'c1', 'orders.watermark', '2026-01-02T00:00:00Z');
    await writeCheckpoint(ctx.store.db, 'c2', 'orders.watermark', 'other');
    assert.equal(await readCheckpoint(ctx.store.db, 'c1', 'orders.watermark'), '2026-01-02T00:00:00Z');
    assert.equal(await readCheckpoint(ctx.store.db, 'c2', 'orders.watermark'), 'other');
    assert.equal(await readCheckpoint(ctx.store.db, 'c3', 'orders.watermark'), undefined);
  });

  it('appends audit rows and filters them, newest first', async () => {
    const base = { connection: 'audit', flow: 'orders.push', entityType: 'order' } as const;
    await appendAudit(ctx.store.db, {
      ...base,
      entityKey: 'EDU1:1',
      action: 'push',
      outcome: 'ok',
      detail: { items: 2 },
      at: 1,
    });
    await appendAudit(ctx.store.db, {
      ...base,
      entityKey: 'EDU1:2',
      action: 'fail',
      outcome: 'error',
      error: 'unknown SKU',
      at: 2,
    });
    await appendAudit(ctx.store.db, {
      ...base,
      entityKey: 'EDU1:1',
      action: 'skip',
      outcome: 'skipped',
      at: 3,
    });
    const forOrder = await listAudit(ctx.store.db, { connection: 'audit', entityKey: 'EDU1:1' });
    assert.deepEqual(
      forOrder.map((r) => r.action),
      ['skip', 'push'],
    );
    assert.equal(JSON.parse(forOrder[1]!.detail!).items, 2);
    const errors = await listAudit(ctx.store.db, { connection: 'audit', outcome: 'error' });
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.error, 'unknown SKU');
  });

  it('redacts audit detail and error as the logs do, keeping what is not secret', async () => {
    const id = await appendAudit(ctx.store.db, {
      connection: 'redact',
      flow: 'shipments.writeback',
      entityType: 'shipment',
      entityKey: '123',
      action: 'write',
      outcome: 'error',
      detail: {
        request: {
          url: `https://ADMIN:${PLAINTEXT}@erp/Rest/Transaction/Post?UserId=${PLAINTEXT}&BusinessObject=SORTDN`,
          headers: { Authorization: `Basic ${PLAINTEXT}`, 'API-Key': PLAINTEXT, accept: 'application/xml' },
        },
        syspro: { OperatorPassword: PLAINTEXT, salesOrder: '000123' },
        items: [{ apiSecret: PLAINTEXT, sku: 'W-1' }],
      },
      error: `POST https://u:${PLAINTEXT}@ssapi.shipstation.com/x?apiKey=${PLAINTEXT} failed: Bearer ${PLAINTEXT}`,
    });
    const row = await ctx.store.db
      .selectFrom('audit')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.ok(!row.detail!.includes(PLAINTEXT), row.detail!);
    assert.ok(!row.error!.includes(PLAINTEXT), row.error!);
    const detail = JSON.parse(row.detail!);
    assert.equal(detail.request.headers.Authorization, '[redacted]');
    assert.equal(detail.request.headers.accept, 'application/xml');
    assert.match(detail.request.url, /BusinessObject=SORTDN/);
    assert.equal(detail.syspro.salesOrder, '000123');
    assert.equal(detail.items[0].sku, 'W-1');
    assert.match(
      row.error!,
      /^POST https:\/\/\[redacted\]@ssapi\.shipstation\.com\/x\?apiKey=\[redacted\] failed: Bearer \[redacted\]$/,
    );

    const plain = await appendAudit(ctx.store.db, {
      connection: 'redact',
      flow: 'x',
      entityType: 'x',
      entityKey: 'x',
      action: 'x',
      outcome: 'info',
      detail: `GET https://u:${PLAINTEXT}@host/`,
    });
    const text = await ctx.store.db
      .selectFrom('audit')
      .select('detail')
      .where('id', '=', plain)
      .executeTakeFirstOrThrow();
    assert.ok(!text.detail!.includes(PLAINTEXT));
  });

  it('records connections', async () => {
    await ensureConnection(ctx.store.db, 'zeta', 'hash1', 5);
    await ensureConnection(ctx.store.db, 'zeta', 'hash2', 6);
    const rows = await listConnections(ctx.store.db);
    const zeta = rows.find((r) => r.name === 'zeta');
    assert.equal(zeta?.config_hash, 'hash2');
    assert.equal(zeta?.created_at, 5);
    assert.equal(typeof zeta?.updated_at, 'number', 'times come back as numbers on both dialects');
  });
});
