/**
 * Runs a suite once per store dialect, like Kysely's `DIALECTS` loop: SQLite always (a temp file),
 * PostgreSQL when `TEST_DATABASE_URL` is set (each suite gets its own fresh database, dropped after).
 * Without the URL the PostgreSQL suite is reported as skipped, never silently passed; under
 * `CI=true` a missing URL is a failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore, type Store } from '../../src/store/open.js';

export type DialectName = 'sqlite' | 'postgres';
export const PG_URL = process.env.TEST_DATABASE_URL;

/** A fresh PostgreSQL database on the test server; returns its URL and a function that drops it. */
export async function createPgDatabase(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `mlc_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A migrated store of the given dialect, and a cleanup function. */
export async function createTestStore(
  dialect: DialectName,
): Promise<{ store: Store; url: string; cleanup: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'mlc-test-'));
    const url = `sqlite:${join(dir, 'test.db')}`;
    const store = openStore(url);
    await migrateToLatest(store);
    return {
      store,
      url,
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!PG_URL) throw new Error('TEST_DATABASE_URL is not set');
  const { url, drop } = await createPgDatabase(PG_URL);
  const store = openStore(url);
  await migrateToLatest(store);
  return {
    store,
    url,
    cleanup: async () => {
      await store.close();
      await drop();
    },
  };
}

/**
 * `forEachDialect('links', (ctx) => { it('…', async () => { ctx.store.db … }) })`
 * registers `sqlite: links` and `postgres: links` suites, each with its own migrated store.
 */
export function forEachDialect(
  title: string,
  body: (ctx: { store: Store; dialect: DialectName; url: string }) => void,
): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const missingPg = dialect === 'postgres' && !PG_URL;
    if (missingPg && process.env.CI === 'true') {
      describe(`${dialect}: ${title}`, () => {
        it('needs PostgreSQL', () => {
          throw new Error('CI=true but TEST_DATABASE_URL is not set: .ci/run must start PostgreSQL');
        });
      });
      continue;
    }
    if (missingPg) {
      // Reported as a skipped test (visible in the summary), never as a pass.
      describe(`${dialect}: ${title}`, () => {
        it('runs on PostgreSQL', { skip: 'TEST_DATABASE_URL not set (no PostgreSQL)' }, () => {});
      });
      continue;
    }
    describe(`${dialect}: ${title}`, () => {
      const ctx = { dialect } as { store: Store; dialect: DialectName; url: string };
      let cleanup: (() => Promise<void>) | undefined;
      before(async () => {
        const created = await createTestStore(dialect);
        ctx.store = created.store;
        ctx.url = created.url;
        cleanup = created.cleanup;
      });
      body(ctx);
      // Registered after the body's own hooks so it runs after them: a suite that started a
      // service on `ctx.url` stops it before the database is dropped under its connections.
      after(async () => {
        await cleanup?.();
      });
    });
  }
}
