import assert from 'node:assert/strict';
import { it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { cachingDatabase, statementCost } from './sqlite-statements.js';

function counting(max?: number, maxBytes?: number) {
  const raw = new SqliteDatabase(':memory:');
  let prepared = 0;
  const prepare = raw.prepare.bind(raw);
  raw.prepare = ((sql: string) => {
    prepared++;
    return prepare(sql);
  }) as typeof raw.prepare;
  return { raw, db: cachingDatabase(raw, max, maxBytes), prepared: () => prepared };
}

it('prepares a statement once and runs it again from the cache', () => {
  const { db, prepared } = counting();
  db.prepare('CREATE TABLE t (x integer)').run([]);
  for (let i = 0; i < 10; i++) db.prepare('INSERT INTO t (x) VALUES (?)').run([i]);
  assert.deepEqual(db.prepare('SELECT count(*) AS n FROM t').all([]), [{ n: 10 }]);
  assert.equal(prepared(), 3);
  db.close();
});

it('keeps at most `max` statements, evicting the least recently used', () => {
  const { db, prepared } = counting(2);
  db.prepare('SELECT 1').all([]);
  db.prepare('SELECT 2').all([]);
  db.prepare('SELECT 1').all([]); // 1 is now the most recent
  db.prepare('SELECT 3').all([]); // evicts 2
  assert.equal(prepared(), 3);
  db.prepare('SELECT 1').all([]);
  assert.equal(prepared(), 3);
  db.prepare('SELECT 2').all([]);
  assert.equal(prepared(), 4);
  db.close();
});

it('a cached statement still runs while the same SQL is being streamed', () => {
  const { db } = counting();
  db.prepare('CREATE TABLE t (x integer)').run([]);
  for (let i = 0; i < 3; i++) db.prepare('INSERT INTO t (x) VALUES (?)').run([i]);
  const seen: unknown[] = [];
  for (const row of db.prepare('SELECT x FROM t ORDER BY x').iterate([])) {
    seen.push(row);
    assert.equal(db.prepare('SELECT x FROM t ORDER BY x').all([]).length, 3);
  }
  assert.equal(seen.length, 3);
  db.close();
});

it('a statement cached before a schema change sees the new schema', () => {
  const { db } = counting();
  db.prepare('CREATE TABLE t (x integer)').run([]);
  db.prepare('INSERT INTO t (x) VALUES (1)').run([]);
  assert.deepEqual(db.prepare('SELECT * FROM t').all([]), [{ x: 1 }]);
  db.prepare('ALTER TABLE t ADD COLUMN y integer DEFAULT 2').run([]);
  assert.deepEqual(db.prepare('SELECT * FROM t').all([]), [{ x: 1, y: 2 }]);
  db.close();
});

it('keeps the statements within their estimated memory, evicting the least recently used', () => {
  const inList = (n: number) => `SELECT ${n} WHERE 1 IN (${Array(n).fill('?').join(', ')})`;
  // Room for two statements of 100 parameters (8,192 + 25,600 bytes each), not three.
  const budget = 2 * statementCost(inList(100)) + 1000;
  const { db, prepared } = counting(500, budget);
  const args = (n: number) => Array(n).fill(1);
  db.prepare(inList(100)).all(args(100));
  db.prepare(inList(100)).all(args(100));
  assert.equal(prepared(), 1);
  db.prepare(`${inList(100)} AND 2 = 2`).all(args(100));
  assert.equal(db.cachedStatements, 2);
  assert.equal(db.cachedBytes, 2 * statementCost(inList(100)));
  db.prepare(`${inList(100)} AND 3 = 3`).all(args(100)); // evicts the first
  assert.equal(db.cachedStatements, 2);
  assert.ok(db.cachedBytes <= budget);
  db.prepare(inList(100)).all(args(100));
  assert.equal(prepared(), 4, 'the least recently used statement was evicted and prepared again');
  db.close();
});

it('runs a statement larger than the whole budget without keeping it', () => {
  const { db, prepared } = counting(500, 10_000);
  const sql = `SELECT 1 WHERE 1 IN (${Array(20).fill('?').join(', ')})`;
  assert.ok(statementCost(sql) > 10_000);
  assert.deepEqual(db.prepare(sql).all(Array(20).fill(1)), [{ 1: 1 }]);
  assert.equal(db.cachedStatements, 0);
  assert.equal(db.cachedBytes, 0);
  db.prepare(sql).all(Array(20).fill(1));
  assert.equal(prepared(), 2);
  db.close();
});

it('charges 8 KiB plus 256 bytes a parameter', () => {
  assert.equal(statementCost('SELECT 1'), 8192);
  assert.equal(statementCost('SELECT ? + ?'), 8192 + 512);
});
