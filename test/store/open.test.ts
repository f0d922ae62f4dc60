/** Opening the store: file modes, the PostgreSQL password (never printed), masked URLs. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { UserError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { maskUrl, openConfiguredStore, openStore, resolveStorePassword } from '../../src/store/open.js';

const PASSWORD = 'p@ss:w/rd#?%20 é';

describe('store files', () => {
  it('creates the data directory 0700 and the SQLite file, its WAL and shared memory 0600', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mlc-open-'));
    const dir = join(root, 'data', 'nested');
    const store = openStore(`sqlite:${join(dir, 'ml-connector.db')}`);
    try {
      await sql`CREATE TABLE t (x integer)`.execute(store.db);
      await sql`INSERT INTO t VALUES (1)`.execute(store.db);
      assert.equal(statSync(join(root, 'data')).mode & 0o777, 0o700);
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      const names = readdirSync(dir).sort();
      assert.deepEqual(names, ['ml-connector.db', 'ml-connector.db-shm', 'ml-connector.db-wal']);
      for (const name of names) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
    } finally {
      await store.close();
    }
  });
});

describe('masked store URLs', () => {
  it('masks the whole password, even one holding @, / or #', () => {
    assert.equal(maskUrl('postgres://u:secret@db:5432/x'), 'postgres://u:***@db:5432/x');
    assert.equal(maskUrl('postgres://u:p@ss@db/x'), 'postgres://u:***@db/x');
    assert.equal(maskUrl('postgres://u:a/b#c@db/x'), 'postgres://u:***@db/x');
    assert.equal(maskUrl('postgres://u@db/x'), 'postgres://u@db/x');
    assert.equal(maskUrl('sqlite:./data/x.db'), 'sqlite:./data/x.db');
  });
});

describe('store password', () => {
  const settings = (url: string, secret?: string) =>
    parseConfig({ store: { url, ...(secret ? { password: `secret:${secret}` } : {}) } }).store;

  it('comes from ML_CONNECTOR_SECRET_<NAME> for store.password, or PGPASSWORD without it', () => {
    const url = 'postgres://app@db:5432/connector';
    assert.equal(
      resolveStorePassword(settings(url, 'store.password'), {
        ML_CONNECTOR_SECRET_STORE_PASSWORD: PASSWORD,
        PGPASSWORD: 'other',
      }),
      PASSWORD,
    );
    assert.equal(resolveStorePassword(settings(url), { PGPASSWORD: PASSWORD }), PASSWORD);
    assert.equal(resolveStorePassword(settings(url), {}), undefined);
    // A password in the URL is used as it is, PGPASSWORD does not replace it.
    assert.equal(resolveStorePassword(settings('postgres://app:x@db/c'), { PGPASSWORD: 'y' }), undefined);
  });

  it('explains that it cannot come from the encrypted credentials when its variable is missing', () => {
    assert.throws(
      () => resolveStorePassword(settings('postgres://app@db/c', 'store.password'), {}),
      (err: unknown) =>
        err instanceof UserError &&
        /ML_CONNECTOR_SECRET_STORE_PASSWORD/.test(err.message) &&
        /cannot come from `ml-connector creds set`/.test(err.message),
    );
  });

  it('is a reference, never a value, and only for PostgreSQL', () => {
    assert.throws(
      () => parseConfig({ store: { url: 'postgres://app@db/c', password: 'hunter2' } }),
      (err: unknown) => err instanceof UserError && !err.message.includes('hunter2'),
    );
    assert.throws(
      () => parseConfig({ store: { url: 'sqlite:./x.db', password: 'secret:store.password' } }),
      /store\.password applies to a postgres:\/\/ store\.url only/,
    );
    assert.throws(
      () => openStore('postgres://app:inline@db/c', { password: 'second' }),
      (err: unknown) =>
        err instanceof UserError &&
        /already carries a password/.test(err.message) &&
        !/inline/.test(err.message),
    );
  });

  describe('reaches the PostgreSQL server', () => {
    const seen: string[] = [];
    let server: Server;
    let port = 0;
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('is sent to the server and is in no message or display URL', async () => {
      server = fakePostgres(seen);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      port = (server.address() as { port: number }).port;
      const url = `postgres://app@127.0.0.1:${port}/connector`;
      for (const env of [{ ML_CONNECTOR_SECRET_STORE_PASSWORD: PASSWORD }, { PGPASSWORD: PASSWORD }]) {
        const secret = 'ML_CONNECTOR_SECRET_STORE_PASSWORD' in env ? 'store.password' : undefined;
        const store = openConfiguredStore(settings(url, secret), env, { poolSize: 1 });
        try {
          assert.ok(!store.displayUrl.includes(PASSWORD));
          const err = await sql`SELECT 1`.execute(store.db).then(
            () => assert.fail('the fake server refuses every login'),
            (e: Error) => e,
          );
          assert.match(err.message, /password authentication failed/);
          assert.ok(!JSON.stringify({ message: err.message, stack: err.stack }).includes(PASSWORD));
        } finally {
          await store.close();
        }
      }
      assert.deepEqual(seen, [PASSWORD, PASSWORD]);
    });
  });
});

/**
 * Enough of the PostgreSQL wire protocol to ask for a cleartext password, remember it, and refuse
 * the login (SQLSTATE 28P01), so the test sees exactly what the client sent.
 */
function fakePostgres(seen: string[]): Server {
  return createServer((socket) => {
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!started) {
        if (buffer.length < 4 || buffer.length < buffer.readInt32BE(0)) return;
        buffer = buffer.subarray(buffer.readInt32BE(0));
        started = true;
        const auth = Buffer.alloc(9);
        auth.write('R', 0);
        auth.writeInt32BE(8, 1);
        auth.writeInt32BE(3, 5); // AuthenticationCleartextPassword
        socket.write(auth);
      }
      if (buffer.length < 5 || buffer.length < 1 + buffer.readInt32BE(1)) return;
      const length = buffer.readInt32BE(1);
      seen.push(buffer.subarray(5, 1 + length - 1).toString('utf8'));
      const fields = Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed for user "app"\0\0');
      const error = Buffer.alloc(5);
      error.write('E', 0);
      error.writeInt32BE(4 + fields.length, 1);
      socket.end(Buffer.concat([error, fields]));
    });
    socket.on('error', () => {});
  });
}
