/** `ml-connector jobs show` prints a job's in-doubt mark and evidence (real SQLite store). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { runProgram } from '../../src/cli/program.js';
import { claimJobs } from '../../src/store/jobs/claim.js';
import { enqueueJob } from '../../src/store/jobs/enqueue.js';
import { failJob } from '../../src/store/jobs/fail.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { openStore, type Store } from '../../src/store/open.js';

let dir: string;
let store: Store;
let env: NodeJS.ProcessEnv;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlc-cli-indoubt-'));
  const url = `sqlite:${join(dir, 'store.db')}`;
  writeFileSync(join(dir, 'ml-connector.yaml'), `store:\n  url: "${url}"\n`);
  env = { ML_CONNECTOR_CONFIG: join(dir, 'ml-connector.yaml') };
  store = openStore(url);
  await migrateToLatest(store);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('jobs show says a job is in doubt, since when, why, and with what evidence', async () => {
  const now = Date.parse('2026-01-15T20:00:00Z');
  const { id } = await enqueueJob(store, { kind: 'inventory.increment', connection: 'main' }, now);
  await claimJobs(store, { kind: 'inventory.increment', limit: 1, owner: 'w', leaseMs: 1000, now });
  await failJob(store, 'w', id, 'in doubt: HTTP 500', null, now, {
    inDoubt: {
      since: now,
      error: 'ShipStation V2 POST /v2/inventory: server error (HTTP 500)',
      evidence: { onHandBefore: 7 },
    },
  });
  const out: string[] = [];
  const code = await runProgram(['node', 'ml-connector', 'jobs', 'show', String(id)], {
    stdout: (l) => out.push(l),
    stderr: (l) => out.push(l),
    readStdin: async () => '',
    env,
  });
  assert.equal(code, 0);
  const text = out.join('\n');
  assert.match(
    text,
    /in doubt since 2026-01-15T20:00:00.000Z: ShipStation V2 POST \/v2\/inventory: server error \(HTTP 500\)/,
  );
  assert.match(text, /in-doubt evidence: \{"onHandBefore":7\}/);
});
