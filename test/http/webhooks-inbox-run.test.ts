/**
 * Crash safety of the webhook inbox with the real binary: `ml-connector run` (a child process,
 * SQLite, and PostgreSQL when `TEST_DATABASE_URL` is set) acknowledges webhooks, which are then in
 * the inbox (the drain is set 10 s later, so none has been moved yet, but for one the start's own
 * drain may take), and is killed with SIGKILL.
 * The acknowledged events are still in the inbox; the next `run` moves them into jobs at start, one
 * job per distinct event (the redelivery coalesced), and leaves the inbox empty.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/open.js';
import { createPgDatabase, PG_URL } from '../helpers/dialects.js';
import { type RunSetup, setupRun, waitFor } from '../helpers/run-process.js';

async function counts(store: Store) {
  const inbox = await store.db.selectFrom('webhook_inbox').select('id').execute();
  const jobs = await store.db
    .selectFrom('jobs')
    .select(['id', 'payload'])
    .where('kind', '=', 'shipments.fetch')
    .where('idempotency_key', 'like', 'webhook:%')
    .execute();
  return {
    inbox: inbox.length,
    jobs: jobs.map((j) => JSON.parse(j.payload).resourceUrl as string).sort(),
  };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`webhook inbox across a kill (${dialect})`, { skip: dialect === 'postgres' && !PG_URL }, () => {
    let setup: RunSetup | undefined;
    let store: Store | undefined;
    let drop: (() => Promise<void>) | undefined;
    after(async () => {
      await store?.close();
      await setup?.close();
      await drop?.();
    });

    it('events acknowledged before a kill are moved into jobs by the next start', async () => {
      let storeUrl: string | undefined;
      if (dialect === 'postgres') {
        const db = await createPgDatabase(PG_URL as string);
        storeUrl = db.url;
        drop = db.drop;
      }
      setup = await setupRun({
        prefix: 'inbox-kill',
        ...(storeUrl ? { storeUrl } : {}),
        configure: (document) => {
          (document.http as Record<string, unknown>).webhookDrainDelay = 10_000;
          (document.http as Record<string, unknown>).webhookDrainSweep = 0;
        },
      });
      const s = setup;
      const first = s.start();
      await waitFor(
        () => /"ml-connector run started"/.test(first.output()),
        'the start line',
        first.output,
        20_000,
      );
      store = openStore(s.storeUrl);
      const target = `${s.address}/webhooks/shipstation/main?token=${s.webhookSecret}`;
      const url = (batch: number) =>
        `${s.shipstation.url}/shipments?batchId=${batch}&includeShipmentItems=True`;
      const batches = [810_001, 810_002, 810_003, 810_001];
      for (const batch of batches) {
        const res = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ resource_url: url(batch), resource_type: 'ITEM_SHIP_NOTIFY' }),
        });
        assert.equal(res.status, 200, await res.text());
      }
      // Acknowledged: each event is in the inbox, or already a job. The start's own drain (it moves
      // what an earlier process left) may still be reading when the first event commits and take
      // it along (seen on PostgreSQL, where its first connection is slower); the events after it
      // wait for the 10 s drain.
      const acknowledged = await counts(store);
      assert.ok(acknowledged.inbox >= 3, `most are still in the inbox: ${JSON.stringify(acknowledged)}`);
      assert.equal(acknowledged.inbox + acknowledged.jobs.length, 4, JSON.stringify(acknowledged));
      assert.ok(
        acknowledged.jobs.every((u) => u === url(810_001)),
        JSON.stringify(acknowledged),
      );

      await first.kill();
      assert.deepEqual(await counts(store), acknowledged, 'the kill lost none of them');

      const second = s.start();
      await waitFor(
        async () => (await counts(store as Store)).inbox === 0,
        'the inbox moved at start',
        second.output,
        20_000,
      );
      const moved = await counts(store);
      assert.equal(moved.inbox, 0);
      assert.deepEqual([...new Set(moved.jobs)], [url(810_001), url(810_002), url(810_003)]);
      // One job per distinct event (the redelivery coalesced). If the first was already a job before
      // the kill and the killed process had claimed or finished it, the redelivery is a job of its
      // own (a follow-up behind the held job, or a new one after a finished one), never dropped;
      // still queued, it coalesced into it.
      const expected = acknowledged.jobs.length === 0 ? [3] : [3, 4];
      assert.ok(expected.includes(moved.jobs.length), JSON.stringify(moved));
      assert.equal(await second.stop(), 0, second.output());
    });
  });
}
