/**
 * The inbox drainer's sweep: on PostgreSQL several `run` processes share the webhook inbox, and a
 * process killed right after it acknowledged events leaves rows that no poke of a survivor
 * announces. A started drainer finds them on its own within `sweepMs`.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { systemClock } from '../../src/clock.js';
import { createInboxDrainer } from '../../src/store/inbox-drainer.js';
import { appendToInbox, inboxSize } from '../../src/store/webhook-inbox.js';
import { forEachDialect } from '../helpers/dialects.js';

forEachDialect('inbox drainer', (ctx) => {
  it('moves rows another process left (no poke) within the sweep interval', async () => {
    const store = ctx.store;
    const drainer = createInboxDrainer({ store, clock: systemClock, sweepMs: 50, delayMs: 10 });
    try {
      drainer.start();
      await drainer.settle();
      // Appended as a receiver of another process would, without telling this drainer.
      await appendToInbox(store, [
        {
          kind: 'shipments.fetch',
          connection: 'main',
          idempotencyKey: 'sweep:1',
          payload: { n: 1 },
          receivedAt: Date.now(),
        },
      ]);
      const deadline = Date.now() + 5000;
      while ((await inboxSize(store)) > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(await inboxSize(store), 0, 'the sweep moved the row');
      const jobs = await store.db
        .selectFrom('jobs')
        .select('kind')
        .where('idempotency_key', '=', 'sweep:1')
        .execute();
      assert.equal(jobs.length, 1);
    } finally {
      await drainer.close();
    }
  });
});
