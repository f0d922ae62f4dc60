import assert from 'node:assert/strict';
import { it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { cachingDatabase } from './sqlite-statements.js';

function counting(max?: number) {
  const raw = new SqliteDatabase(':memory:');
  let prepared = 0;
  const prepare = raw.prepare.bind(raw);
  raw.prepare = ((sql: string) => {
    prepared++;
    return prepare(sql);
  }) as typeof raw.prepare;
  return { raw, db: cachingDatabase(raw, max), prepared: () => prepared };
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
