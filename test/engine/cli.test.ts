/** `ml-connector jobs` and `ml-connector replay` against a real SQLite store. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runProgram } from '../../src/cli/program.js';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { completeJobs } from '../../src/store/jobs/complete.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { failJob } from '../../src/store/jobs/fail.js';
import { getJob } from '../../src/store/jobs/queries.js';
import { enqueueDueSchedules, syncScheduleRows } from '../../src/store/jobs/schedules.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore, type Store } from '../../src/store/open.js';

describe('jobs and replay commands', () => {
  let dir: string;
  let store: Store;
  let env: NodeJS.ProcessEnv;
  const ids: Record<string, number> = {};

  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runProgram(['node', 'ml-connector', ...args], {
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
      readStdin: async () => '',
      env,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlc-cli-jobs-'));
    const url = `sqlite:${join(dir, 'store.db')}`;
    writeFileSync(join(dir, 'ml-connector.yaml'), `store:\n  url: "${url}"\n`);
    env = { ML_CONNECTOR_CONFIG: join(dir, 'ml-connector.yaml') };
    store = openStore(url);
    await migrateToLatest(store);
    const now = Date.now();
    const kill = async (kind: string, connection: string, error: string) => {
      const { id } = await enqueueJob(store, { kind, connection }, now);
      await claimJobs(store, { kind, connection, limit: 1, owner: 'w', leaseMs: 1000, now });
      await failJob(store, 'w', id, error, null, now);
      return id;
    };
    ids.deadPush = await kill('orders.push', 'main', 'HTTP 400: shipTo.country "XX" is not valid');
    ids.deadWrite = await kill('shipments.writeback', 'main', 'SYSPRO e.net: sales order 000123 is locked');
    ids.deadOther = await kill('shipments.writeback', 'other', 'SYSPRO e.net: sales order 000999 is locked');
    ids.queued = (await enqueueJob(store, { kind: 'orders.push', connection: 'main' }, now)).id;
    const { id } = await enqueueJob(store, { kind: 'orders.poll', connection: 'main' }, now);
    await claimJobs(store, { kind: 'orders.poll', limit: 1, owner: 'w', leaseMs: 1000, now });
    await completeJobs(store, 'w', [{ id }], now);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('jobs: counts by kind and state', async () => {
    const { code, out } = await cli('jobs');
    assert.equal(code, 0);
    assert.deepEqual(out.split('\n'), [
      'KIND\tQUEUED\tRUNNING\tSUCCEEDED\tDEAD\tCANCELLED',
      'orders.poll\t0\t0\t1\t0\t0',
      'orders.push\t1\t0\t0\t1\t0',
      'shipments.writeback\t0\t0\t0\t2\t0',
    ]);
    const only = await cli('jobs', '--connection', 'other');
    assert.deepEqual(only.out.split('\n').slice(1), ['shipments.writeback\t0\t0\t0\t1\t0']);
  });

  it('jobs list --state dead shows the last errors; jobs show gives the history', async () => {
    const { out } = await cli('jobs', 'list', '--state', 'dead');
    assert.match(out, /shipTo\.country "XX"/);
    assert.match(out, /000123 is locked/);
    const shown = await cli('jobs', 'show', String(ids.deadPush));
    assert.match(shown.out, /orders\.push for main, dead/);
    assert.match(shown.out, /1\tdead\tw\t/);
    assert.equal((await cli('jobs', 'list', '--state', 'nope')).code, 1);
  });

  it('replay refuses without a filter, dry-runs, and replays by error text and connection', async () => {
    const none = await cli('replay');
    assert.equal(none.code, 1);
    assert.match(none.err, /--all/);
    const dry = await cli('replay', '--error', 'is locked', '--dry-run');
    assert.match(dry.out, new RegExp(`Would replay 2 dead job\\(s\\): ${ids.deadWrite}, ${ids.deadOther}`));
    assert.equal((await getJob(store, ids.deadWrite!))!.state, 'dead');
    const run = await cli('replay', '--error', 'is locked', '--connection', 'main');
    assert.equal(run.code, 0);
    assert.equal(run.out, `Replayed 1 job(s): ${ids.deadWrite}`);
    assert.equal((await getJob(store, ids.deadWrite!))!.state, 'queued');
    assert.equal((await getJob(store, ids.deadOther!))!.state, 'dead');
  });

  it('replay by id reports ids that are not dead', async () => {
    const run = await cli('replay', String(ids.deadPush), String(ids.queued));
    assert.equal(run.out, `Replayed 1 job(s): ${ids.deadPush}`);
    assert.match(run.err, new RegExp(`left as they are: ${ids.queued}`));
  });

  it('jobs purge keeps what is within retention, deletes older finished jobs, and keeps dead ones', async () => {
    const kept = await cli('jobs', 'purge');
    assert.equal(kept.code, 0);
    assert.match(
      kept.out,
      /^Purged 0 finished jobs older than 30d \(finished before .*\)\. Dead jobs are kept\.$/,
    );
    const bad = await cli('jobs', 'purge', '--older-than', 'soon');
    assert.equal(bad.code, 2);
    assert.match(
      bad.err,
      /--older-than <duration>' argument 'soon' is invalid\. expected a duration with a unit/,
    );
    await new Promise((r) => setTimeout(r, 5)); // the poll job finished in before(); be sure it is older than 1 ms
    const purged = await cli('jobs', 'purge', '--older-than', '1ms');
    assert.match(purged.out, /^Purged 1 finished job older than 1ms/);
    const counts = await cli('jobs');
    assert.doesNotMatch(counts.out, /orders\.poll/);
    assert.match(
      counts.out,
      /shipments\.writeback\t1\t0\t0\t1\t0/,
      'the dead (and the replayed) job are still there',
    );
  });

  it('a dead job whose key succeeded since is shown superseded, skipped by replay, replayed with --force', async () => {
    const now = Date.now();
    const key = 'writeback:main:ship-77';
    const run = async (fail: boolean) => {
      const { id } = await enqueueJob(
        store,
        { kind: 'shipments.void', connection: 'main', idempotencyKey: key },
        now,
      );
      await claimJobs(store, { kind: 'shipments.void', limit: 1, owner: 'w', leaseMs: 1000, now });
      if (fail) await failJob(store, 'w', id, 'SYSPRO e.net: timeout', null, now);
      else await completeJobs(store, 'w', [{ id }], now);
      return id;
    };
    const dead = await run(true);
    const done = await run(false);
    const listed = await cli('jobs', 'list', '--state', 'dead', '--kind', 'shipments.void');
    assert.match(
      listed.out,
      new RegExp(`^${dead}\tshipments\\.void\t.*\tsuperseded by job ${done}: SYSPRO e\\.net: timeout$`, 'm'),
    );
    const dry = await cli('replay', '--kind', 'shipments.void', '--dry-run');
    assert.equal(
      dry.out,
      `No dead jobs match.\nWould skip job ${dead}: superseded by job ${done} (--force replays it)`,
    );
    const skipped = await cli('replay', '--kind', 'shipments.void');
    assert.match(skipped.err, new RegExp(`Skipped job ${dead}: superseded by job ${done}`));
    assert.equal((await getJob(store, dead))!.state, 'dead');
    const forced = await cli('replay', '--kind', 'shipments.void', '--force');
    assert.equal(forced.out, `Replayed 1 job(s): ${dead}`);
    assert.equal((await getJob(store, dead))!.state, 'queued');
  });

  it('jobs schedules shows each poll with its last job, its failures and last error', async () => {
    assert.equal((await cli('jobs', 'schedules')).out, 'No schedules.');
    const now = Date.now();
    await syncScheduleRows(
      store,
      [{ connection: 'main', kind: 'customers.poll', intervalMs: 600_000 }],
      now,
      () => now,
    );
    const [poll] = await enqueueDueSchedules(store, now, () => now + 600_000);
    for (const error of ['SYSPRO OData: ECONNREFUSED', 'SYSPRO OData: timeout']) {
      await claimJobs(store, { kind: 'customers.poll', limit: 1, owner: 'w', leaseMs: 1000, now });
      await failJob(store, 'w', poll!.jobId, error, now, now);
    }
    const { code, out } = await cli('jobs', 'schedules');
    assert.equal(code, 0);
    const lines = out.split('\n');
    assert.equal(lines[0], 'CONNECTION\tKIND\tEVERY\tNEXT_DUE\tLAST_JOB\tSTATE\tFAILURES\tLAST_ERROR');
    assert.match(
      lines[1]!,
      new RegExp(`^main\tcustomers\\.poll\t10m\t\\S+\t${poll!.jobId}\tqueued\t2\tSYSPRO OData: timeout$`),
    );
  });
});
