/**
 * Job store throughput: enqueue (one per call, and in batches) and claim-complete (batches of 100,
 * two claimers at once) on SQLite (a temp file) and on PostgreSQL (a fresh database on the server
 * of BENCH_DATABASE_URL or TEST_DATABASE_URL, dropped afterwards; skipped when neither is set).
 *
 *   npm run bench:jobs
 *
 * Goal (2-core machine): at least 2,000 jobs/s on SQLite and 1,000 jobs/s on PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { claimJobs } from '../src/store/jobs/claim.js';
import { completeJobs } from '../src/store/jobs/complete.js';
import { enqueueJob, enqueueJobs, type NewJob } from '../src/store/jobs/enqueue.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open.js';

const SINGLE = Number(process.env.BENCH_SINGLE ?? 3000);
const BATCHED = Number(process.env.BENCH_JOBS ?? 20_000);
const BATCH = 100;
const CLAIMERS = 2;

function line(dialect: string, what: string, jobs: number, ms: number, goal: number): void {
  const rate = jobs / (ms / 1000);
  const verdict = rate >= goal ? 'ok' : `BELOW GOAL of ${goal}/s`;
  console.log(
    `${dialect.padEnd(8)} ${what.padEnd(44)} ${String(jobs).padStart(6)} jobs ${(ms / 1000).toFixed(2).padStart(6)} s ${Math.round(rate).toString().padStart(7)} jobs/s  ${verdict}`,
  );
}

async function bench(dialect: 'sqlite' | 'postgres', store: Store, goal: number): Promise<void> {
  await migrateToLatest(store);
  const now = Date.now();

  let t = performance.now();
  for (let i = 0; i < SINGLE; i++) {
    await enqueueJob(
      store,
      { kind: 'bench.single', connection: 'main', idempotencyKey: `single:${i}`, payload: { i } },
      now,
    );
  }
  line(dialect, 'enqueue, one job per call (with key)', SINGLE, performance.now() - t, goal);

  const jobs: NewJob[] = [];
  for (let i = 0; i < BATCHED; i++) {
    jobs.push({
      kind: 'bench.push',
      connection: `c${i % 4}`,
      idempotencyKey: `push:${i}`,
      payload: { orderKey: `EDU1:${i}` },
    });
  }
  t = performance.now();
  await enqueueJobs(store, jobs, now);
  line(dialect, 'enqueue, 500 per call (with key)', BATCHED, performance.now() - t, goal);

  t = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: CLAIMERS }, async (_, n) => {
      for (;;) {
        const claimed = await claimJobs(store, {
          kind: 'bench.push',
          limit: BATCH,
          owner: `bench-${n}`,
          leaseMs: 60_000,
          now: Date.now(),
        });
        if (claimed.length === 0) return;
        const completed = await completeJobs(
          store,
          `bench-${n}`,
          claimed.map((j) => ({ id: j.id })),
          Date.now(),
        );
        done += completed.length;
      }
    }),
  );
  if (done !== BATCHED) throw new Error(`claim-complete finished ${done} of ${BATCHED} jobs`);
  line(
    dialect,
    `claim-complete, batches of ${BATCH}, ${CLAIMERS} claimers`,
    BATCHED,
    performance.now() - t,
    goal,
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlc-bench-'));
  const sqlite = openStore(`sqlite:${join(dir, 'bench.db')}`);
  try {
    await bench('sqlite', sqlite, 2000);
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const base = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!base) {
    console.log('postgres skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL');
    return;
  }
  const name = `mlc_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const store = openStore(url.toString());
  try {
    await bench('postgres', store, 1000);
  } finally {
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
