/**
 * The nudge route on the run server (`createHttpServer` with the nudge's route module), over
 * Fastify's inject against a real store: who is refused and how, what is queued, what is audited,
 * and that the token appears in no log line and no audit row. The end-to-end nudge through
 * `ml-connector run` is in nudge-run.test.ts.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, it } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { MIN_TOKEN_LENGTH, REFUSED_AUDIT_PER_MINUTE, registerNudgeRoutes } from '../../src/http/nudge.js';
import { createHttpServer, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { listAudit } from '../../src/store/audit.js';
import { resolveSecret } from '../../src/store/secrets.js';
import { FakeClock } from '../helpers/clock.js';
import { forEachDialect } from '../helpers/dialects.js';

const TOKEN = 'nudge-token-0123456789abcdef-XYZ';

function connection(name: string, token?: string) {
  return {
    name,
    syspro: {
      enetUrl: 'http://127.0.0.1:1/SYSPROWCFService/Rest',
      odataUrl: 'http://127.0.0.1:1/SYSPRO8/OData',
      operator: 'ADMIN',
      company: 'EDU1',
    },
    shipstation: { apiKey: 'secret:shipstation.apiKey', apiSecret: 'secret:shipstation.apiSecret' },
    ...(token ? { api: { token } } : {}),
  };
}

forEachDialect('nudge route', (ctx) => {
  const clock = new FakeClock(Date.parse('2026-12-01T12:00:00Z'));
  const config = configSchema.parse({
    connections: [
      connection('main', 'secret:api.token'),
      connection('plain'),
      connection('unset', 'secret:api.token'),
      connection('short', 'secret:api.token'),
    ],
  });
  const env = {
    ML_CONNECTOR_SECRET_MAIN_API_TOKEN: TOKEN,
    ML_CONNECTOR_SECRET_SHORT_API_TOKEN: 'x'.repeat(MIN_TOKEN_LENGTH - 1),
  };
  let logged = '';
  const logger = createLogger(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        logged += chunk;
        done();
      },
    }),
  );
  const notified: string[] = [];
  let server: HttpServer;

  before(() => {
    server = createHttpServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      readiness: { check: async () => {}, stopping: () => false },
      routes: [
        (app) =>
          registerNudgeRoutes(app, {
            connections: config.connections,
            store: ctx.store,
            clock,
            logger,
            resolveSecret: (c, name) =>
              resolveSecret(
                ctx.store.db,
                () => {
                  throw new Error('no master key in this test');
                },
                c,
                name,
                env,
              ),
            notify: (kind) => notified.push(kind),
          }),
      ],
    });
  });
  after(() => server.close());

  const nudge = (path: string, headers: Record<string, string> = {}, payload?: string) =>
    server.app.inject({ method: 'POST', url: `/api/connections/${path}/sync`, headers, payload });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const jobs = () => ctx.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'orders.push').execute();

  it('answers 404 for an unknown connection and for one without api.token', async () => {
    for (const path of ['nowhere/orders/000123', 'plain/orders/000123']) {
      const res = await nudge(path, bearer(TOKEN));
      assert.equal(res.statusCode, 404, path);
    }
    assert.equal((await jobs()).length, 0);
  });

  it('refuses a missing or wrong token with 401 and WWW-Authenticate, audits it, queues nothing', async () => {
    const before = (await listAudit(ctx.store.db, { flow: 'nudge', outcome: 'error' })).length;
    const missing = await nudge('main/orders/000123');
    assert.equal(missing.statusCode, 401);
    assert.match(String(missing.headers['www-authenticate']), /^Bearer realm="ml-connector"$/);
    for (const headers of [
      bearer(`${TOKEN}x`),
      bearer(TOKEN.slice(0, -1)),
      bearer(''),
      { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
    ]) {
      const res = await nudge('main/orders/000123', headers);
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.match(String(res.headers['www-authenticate']), /^Bearer /);
    }
    const wrong = await nudge('main/orders/000123', bearer('not-the-token-at-all-0000'));
    assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
    const audit = await listAudit(ctx.store.db, { flow: 'nudge', outcome: 'error' });
    assert.equal(audit.length - before, 7);
    assert.equal(audit[0]?.entity_key, '000123');
    assert.match(audit[0]?.error ?? '', /nudge refused: wrong token/);
    assert.equal((await jobs()).length, 0);
  });

  it('answers 400 for a sales order that is not a plausible SYSPRO key, after the token', async () => {
    for (const bad of ['ab%24c', `${'1'.repeat(21)}`, '-12', '12%2F3', '%20%20']) {
      const res = await nudge(`main/orders/${bad}`, bearer(TOKEN));
      assert.equal(res.statusCode, 400, bad);
    }
    assert.equal((await nudge('main/orders/ab%24c')).statusCode, 401, 'the token is checked first');
    assert.equal((await jobs()).length, 0);
  });

  it('queues a one-order sync (202), wakes the worker, and coalesces a second nudge', async () => {
    const first = await nudge('main/orders/000123', bearer(TOKEN));
    assert.equal(first.statusCode, 202, first.body);
    const body = first.json() as { queued: boolean; jobId: number; coalesced: boolean };
    assert.equal(body.queued, true);
    assert.equal(body.coalesced, false);
    assert.ok(body.jobId > 0);
    assert.deepEqual(notified, ['orders.push']);
    const [job] = await jobs();
    assert.equal(job?.connection, 'main');
    assert.deepEqual(JSON.parse(job!.payload), { orderKey: 'EDU1:000123', salesOrder: '000123' });

    // Bodies a trigger might send are ignored: none, empty JSON, a form.
    for (const [headers, payload] of [
      [{ 'content-type': 'application/json' }, ''],
      [{ 'content-type': 'application/x-www-form-urlencoded' }, 'a=b'],
      [{ 'content-type': 'text/plain' }, 'hello'],
    ] as const) {
      const again = await nudge('main/orders/000123', { ...bearer(TOKEN), ...headers }, payload);
      assert.equal(again.statusCode, 202, again.body);
      assert.deepEqual(again.json(), { queued: true, jobId: body.jobId, coalesced: true });
    }
    // A padded key (a trigger passing SYSPRO's text as is) is trimmed.
    const padded = await nudge('main/orders/%20000123%20', bearer(TOKEN));
    assert.equal((padded.json() as { jobId: number }).jobId, body.jobId);
    assert.equal((await jobs()).length, 1);
    const ok = await listAudit(ctx.store.db, { flow: 'nudge', outcome: 'ok' });
    assert.equal(ok.length, 5);
    assert.equal(ok[0]?.entity_key, 'EDU1:000123');
  });

  it('answers 503 when the configured token cannot be read or is too short', async () => {
    for (const name of ['unset', 'short']) {
      const res = await nudge(`${name}/orders/000123`, bearer(TOKEN));
      assert.equal(res.statusCode, 503, name);
    }
    assert.match(logged, /the API token cannot be read/);
    assert.match(logged, /too short/);
    assert.match(logged, /"secretName":"api.token"/, 'the log names the secret, never its value');
  });

  it('audits at most REFUSED_AUDIT_PER_MINUTE refusals a minute per connection', async () => {
    clock.advance(120_000);
    const before = (await listAudit(ctx.store.db, { flow: 'nudge', outcome: 'error', limit: 1000 })).length;
    for (let i = 0; i < REFUSED_AUDIT_PER_MINUTE + 5; i++) {
      assert.equal((await nudge('main/orders/000124', bearer('wrong-token-wrong-token'))).statusCode, 401);
    }
    const after = (await listAudit(ctx.store.db, { flow: 'nudge', outcome: 'error', limit: 1000 })).length;
    assert.equal(after - before, REFUSED_AUDIT_PER_MINUTE);
    clock.advance(60_000);
    await nudge('main/orders/000124', bearer('wrong-token-wrong-token'));
    assert.equal(
      (await listAudit(ctx.store.db, { flow: 'nudge', outcome: 'error', limit: 1000 })).length - after,
      1,
    );
  });

  it('never writes the token to the log or the audit trail', async () => {
    assert.ok(logged.length > 0);
    assert.ok(!logged.includes(TOKEN), 'the token is not in the log');
    assert.ok(!logged.includes(TOKEN.slice(0, -1)), 'nor a wrong token close to it');
    const rows = await listAudit(ctx.store.db, { flow: 'nudge', limit: 1000 });
    for (const r of rows) assert.ok(!`${r.detail}${r.error}`.includes(TOKEN.slice(0, 10)));
  });
});
