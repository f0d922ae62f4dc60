/**
 * `ml-connector webhooks subscribe|list|unsubscribe [--connection c]`: the V1 webhook
 * subscriptions ShipStation posts to our receiver (`http/webhooks.ts`).
 *
 * The subscribed URL is `<http.publicUrl>/webhooks/shipstation/<connection>?token=<secret>`, the
 * secret being the connection's `shipstation.webhookSecret`. `subscribe` is idempotent: it lists
 * first, subscribes only the needed events that have no subscription to that exact URL
 * (`neededSubscriptions` in `sync/webhook-events.ts`), removes duplicates, then removes our
 * subscriptions that carry an old secret (after the new ones exist, so no event falls in a gap).
 * `list` shows every subscription of the account, ours marked, tokens redacted. `unsubscribe`
 * removes ours only; `--all` removes every subscription of the ShipStation account.
 *
 * A connection with `shipstation.api: v2` is subscribed to the V2 events instead
 * (`neededV2Subscriptions`: label_created_v2, fulfillment_shipped_v2) at
 * `<http.publicUrl>/webhooks/shipstation-v2/<connection>` through `/v2/environment/webhooks`: the
 * V2 route is authenticated by ShipStation's signature, so the URL carries no secret. Idempotent the
 * same way (list first, subscribe what is missing on that exact URL). `list` shows the V2
 * subscriptions of such a connection; `unsubscribe` removes those to its V2 URL (`--all`: every V2
 * subscription of the account). A V2 connection's commands need only `v2ApiKey` (no V1 pair).
 */
import type { Command } from 'commander';
import { systemClock } from '../../clock.js';
import { UserError } from '../../config/errors.js';
import type { Config, ConnectionConfig } from '../../config/schema.js';
import { redactCredentials } from '../../logger.js';
import { MemoryRateLimiter } from '../../shipstation/memory-rate-limiter.js';
import type { V1WebhookEvent } from '../../shipstation/types.js';
import { createShipStationV1Client, type ShipStationV1Client } from '../../shipstation/v1/client.js';
import { createShipStationV2Client, type ShipStationV2Client } from '../../shipstation/v2/client.js';
import { resolveSecret } from '../../store/secrets.js';
import { describeFailure, unreachablePublicUrl, unreachablePublicUrlWarning } from '../../sync/ping.js';
import {
  type ListedV2Webhook,
  type ListedWebhook,
  redactWebhookUrl,
  subscriptionStatus,
  v2SubscriptionStatus,
  WEBHOOK_SECRET_ADVICE,
  webhookBaseUrl,
  webhookOwnership,
  webhookSecretProblem,
  webhookTargetUrl,
  webhookV2Url,
} from '../../sync/webhook-events.js';
import { selectConnections } from '../connections.js';
import type { Program } from '../program.js';

interface Target {
  connection: ConnectionConfig;
  client: ShipStationV1Client;
  /** The route without the secret. */
  base: string;
  /** The route with the secret; undefined when the secret is not configured or not readable. */
  target?: string;
}

function requirePublicUrl(config: Config): string {
  if (!config.http.publicUrl) {
    throw new UserError(
      'http.publicUrl is not set: ShipStation needs the address it reaches this service at. Set http.publicUrl (e.g. https://connector.example.com) and run this again.',
    );
  }
  return config.http.publicUrl;
}

/**
 * `http.publicUrl` loopback, private or link-local while ShipStation is not on this machine
 * (`unreachablePublicUrl`, the check `ping` warns with): ShipStation could never deliver to the
 * subscriptions. A warning per such connection, then nothing is subscribed unless `--force` (the
 * operator knows better, e.g. a ShipStation test double on the LAN). A ShipStation on loopback
 * (the sandbox) reaches such a URL: no warning (docs/decisions.md "webhooks subscribe and an
 * unreachable publicUrl").
 */
function refuseUnreachablePublicUrl(
  app: Program,
  config: Config,
  connections: readonly ConnectionConfig[],
  force: boolean,
): void {
  const unreachable: string[] = [];
  for (const connection of connections) {
    const scope = unreachablePublicUrl(config, connection);
    if (!scope) continue;
    const warning = unreachablePublicUrlWarning(config, connection, scope);
    app.err(`Warning: ${connection.name}: ${warning.detail}. To fix: ${warning.advice}.`);
    unreachable.push(connection.name);
  }
  if (unreachable.length > 0 && !force)
    throw new UserError(
      `Nothing subscribed: ShipStation cannot reach http.publicUrl (${config.http.publicUrl}) for ${unreachable.join(', ')}. Set a public address, or pass --force to subscribe anyway.`,
    );
}

/** ShipStation errors as one line with what to do. */
function shipStationFailure(connection: string, what: string, err: unknown): UserError {
  if (err instanceof UserError) return err;
  const failure = describeFailure(err);
  return new UserError(
    `${connection}: ${what} failed: ${failure.detail}${failure.advice ? ` (${failure.advice})` : ''}`,
  );
}

async function openTarget(
  app: Program,
  connection: ConnectionConfig,
  secretRequired: boolean,
): Promise<Target> {
  const ctx = app.context();
  const store = await ctx.store();
  const secret = (name: string) =>
    resolveSecret(store.db, () => ctx.masterKey(false), connection.name, name, app.env);
  const { shipstation } = connection;
  if (!shipstation.apiKey || !shipstation.apiSecret) {
    throw new UserError(
      `Connection "${connection.name}" has no shipstation.apiKey/apiSecret, which V1 webhooks need; add them (and store them with \`ml-connector creds set\`), or use shipstation.api: v2 (V2 webhooks need only v2ApiKey).`,
    );
  }
  const client = createShipStationV1Client({
    baseUrl: shipstation.v1Url,
    apiKey: await secret(shipstation.apiKey.secret),
    apiSecret: await secret(shipstation.apiSecret.secret),
    limiter: new MemoryRateLimiter({
      clock: systemClock,
      limit: shipstation.rateLimit.limit,
      windowMs: shipstation.rateLimit.window,
    }),
    clock: systemClock,
    timeoutMs: shipstation.requestTimeout,
    retry: {
      attempts: shipstation.retry.attempts,
      baseMs: shipstation.retry.base,
      maxMs: shipstation.retry.max,
    },
  });
  const base = webhookBaseUrl(requirePublicUrl(ctx.config), connection.name);
  const ref = shipstation.webhookSecret;
  if (!ref) {
    if (secretRequired) {
      throw new UserError(
        `Connection "${connection.name}" has no shipstation.webhookSecret. Add \`webhookSecret: secret:shipstation.webhookSecret\` under its shipstation settings, then ${WEBHOOK_SECRET_ADVICE.replace('<connection>', connection.name)}.`,
      );
    }
    return { connection, client, base };
  }
  let value: string;
  try {
    value = await secret(ref.secret);
  } catch (err) {
    if (secretRequired) throw err;
    return { connection, client, base };
  }
  const problem = webhookSecretProblem(value);
  if (problem && secretRequired) {
    throw new UserError(
      `The webhook secret of connection "${connection.name}" cannot be used: ${problem}. ${WEBHOOK_SECRET_ADVICE.replace('<connection>', connection.name)}.`,
    );
  }
  return { connection, client, base, target: webhookTargetUrl(base, value) };
}

async function listHooks(t: Target): Promise<ListedWebhook[]> {
  try {
    return await t.client.listWebhooks();
  } catch (err) {
    throw shipStationFailure(t.connection.name, 'GET /webhooks', err);
  }
}

async function remove(app: Program, t: Target, hook: ListedWebhook, why: string): Promise<void> {
  try {
    const deleted = await t.client.deleteWebhook(hook.WebHookID);
    app.out(
      `${t.connection.name}: ${deleted ? 'removed' : 'already gone'} ${hook.HookType} ${hook.WebHookID} → ${redactWebhookUrl(hook.Url)} (${why})`,
    );
  } catch (err) {
    throw shipStationFailure(t.connection.name, `DELETE /webhooks/${hook.WebHookID}`, err);
  }
}

/** Makes the subscriptions of one connection what it needs; returns what it changed. */
export async function subscribeConnection(
  app: Program,
  t: Target,
): Promise<{ added: number; removed: number }> {
  const target = t.target as string;
  const name = t.connection.name;
  const hooks = await listHooks(t);
  let added = 0;
  let removed = 0;
  for (const { need, hooks: matching } of subscriptionStatus(hooks, target, {
    orderNotify: t.connection.channelOrders.enabled,
  })) {
    if (matching.length > 0) {
      app.out(
        `${name}: ${matching[0]?.HookType} already subscribed (${matching[0]?.WebHookID}) → ${redactWebhookUrl(target)}`,
      );
      continue;
    }
    try {
      const { webhookId } = await t.client.subscribeWebhook({
        target_url: target,
        event: need.subscribe as V1WebhookEvent,
        friendly_name: `ml-connector ${name}`,
      });
      added++;
      app.out(`${name}: subscribed ${need.subscribe} (${webhookId}) → ${redactWebhookUrl(target)}`);
    } catch (err) {
      throw shipStationFailure(name, `POST /webhooks/subscribe ${need.subscribe}`, err);
    }
  }
  // Duplicates (same event, same URL: a subscribe that ran twice at once, or by hand) and
  // subscriptions with an old secret, removed only now that the current ones exist.
  const seen = new Set<string>();
  for (const hook of hooks) {
    const ownership = webhookOwnership(hook, t.base, target);
    if (ownership === 'other') continue;
    if (ownership === 'ours-old-secret') {
      await remove(app, t, hook, 'old secret');
      removed++;
      continue;
    }
    const key = hook.HookType.toUpperCase();
    if (seen.has(key)) {
      await remove(app, t, hook, 'duplicate');
      removed++;
    }
    seen.add(key);
  }
  return { added, removed };
}

interface V2Target {
  connection: ConnectionConfig;
  client: ShipStationV2Client;
  /** `<publicUrl>/webhooks/shipstation-v2/<connection>`. */
  url: string;
}

async function openV2Target(app: Program, connection: ConnectionConfig): Promise<V2Target> {
  const ctx = app.context();
  const store = await ctx.store();
  const { shipstation } = connection;
  if (!shipstation.v2ApiKey) {
    throw new UserError(
      `Connection "${connection.name}" uses shipstation.api v2 but has no shipstation.v2ApiKey; add v2ApiKey: secret:shipstation.v2ApiKey and store it with \`ml-connector creds set\`.`,
    );
  }
  const apiKey = await resolveSecret(
    store.db,
    () => ctx.masterKey(false),
    connection.name,
    shipstation.v2ApiKey.secret,
    app.env,
  );
  const client = createShipStationV2Client({
    baseUrl: shipstation.v2Url,
    apiKey,
    limiter: new MemoryRateLimiter({
      clock: systemClock,
      limit: shipstation.v2RateLimit.limit,
      windowMs: shipstation.v2RateLimit.window,
    }),
    clock: systemClock,
    timeoutMs: shipstation.requestTimeout,
    retry: {
      attempts: shipstation.retry.attempts,
      baseMs: shipstation.retry.base,
      maxMs: shipstation.retry.max,
    },
  });
  return { connection, client, url: webhookV2Url(requirePublicUrl(ctx.config), connection.name) };
}

async function listV2Hooks(t: V2Target): Promise<ListedV2Webhook[]> {
  try {
    return await t.client.listWebhooks();
  } catch (err) {
    throw shipStationFailure(t.connection.name, 'GET /v2/environment/webhooks', err);
  }
}

/** Subscribes the V2 events a V2 connection needs that have no subscription to its URL. */
export async function subscribeV2Connection(app: Program, t: V2Target): Promise<{ added: number }> {
  const name = t.connection.name;
  let added = 0;
  for (const { need, hooks: matching } of v2SubscriptionStatus(await listV2Hooks(t), t.url)) {
    if (matching.length > 0) {
      app.out(`${name}: ${matching[0]?.event} already subscribed (${matching[0]?.webhook_id}) → ${t.url}`);
      continue;
    }
    try {
      const hook = await t.client.subscribeWebhook({
        url: t.url,
        event: need.subscribe,
        name: `ml-connector ${name}`,
      });
      added++;
      app.out(`${name}: subscribed ${need.subscribe} (${hook.webhook_id}) → ${t.url}`);
    } catch (err) {
      throw shipStationFailure(name, `POST /v2/environment/webhooks ${need.subscribe}`, err);
    }
  }
  return { added };
}

export function registerWebhooks(program: Command, app: Program): void {
  const webhooks = program
    .command('webhooks')
    .description(
      'ShipStation V1 webhook subscriptions to this service (subcommands: subscribe, list, unsubscribe)',
    );

  webhooks
    .command('subscribe')
    .description(
      'subscribe the events each connection needs (ITEM_SHIP_NOTIFY, FULFILLMENT_SHIPPED) to <publicUrl>/webhooks/shipstation/<connection>; safe to run again',
    )
    .option('--connection <name>', 'only this connection (default: all)')
    .option(
      '--force',
      'subscribe even though http.publicUrl is a loopback, private or link-local address ShipStation cannot reach',
    )
    .action(async (flags: { connection?: string; force?: boolean }) => {
      const ctx = app.context();
      const connections = selectConnections(ctx.config, flags.connection);
      refuseUnreachablePublicUrl(app, ctx.config, connections, flags.force === true);
      for (const connection of connections) {
        if (connection.shipstation.api === 'v2') {
          const { added } = await subscribeV2Connection(app, await openV2Target(app, connection));
          app.out(`${connection.name}: ${added === 0 ? 'nothing to change' : `${added} subscribed`}.`);
          continue;
        }
        const t = await openTarget(app, connection, true);
        const { added, removed } = await subscribeConnection(app, t);
        app.out(
          `${connection.name}: ${added === 0 && removed === 0 ? 'nothing to change' : `${added} subscribed, ${removed} removed`}.`,
        );
      }
    });

  webhooks
    .command('list')
    .description('every V1 webhook subscription of the ShipStation account, ours marked (tokens redacted)')
    .option('--connection <name>', 'only this connection (default: all)')
    .action(async (flags: { connection?: string }) => {
      const ctx = app.context();
      for (const connection of selectConnections(ctx.config, flags.connection)) {
        if (connection.shipstation.api === 'v2') {
          const t = await openV2Target(app, connection);
          const hooks = await listV2Hooks(t);
          app.out(`${connection.name}: ${hooks.length} V2 subscription(s) in the ShipStation account`);
          for (const hook of hooks)
            app.out(
              `  ${hook.webhook_id.padEnd(12)} ${hook.event.padEnd(24)} ${redactCredentials(hook.url)}  [${hook.url === t.url ? 'ours' : 'other'}]`,
            );
          for (const { need, hooks: matching } of v2SubscriptionStatus(hooks, t.url))
            if (matching.length === 0)
              app.out(
                `  missing: ${need.subscribe} (${need.purpose}); run \`ml-connector webhooks subscribe --connection ${connection.name}\``,
              );
          continue;
        }
        const t = await openTarget(app, connection, false);
        const hooks = await listHooks(t);
        const others = ctx.config.connections
          .filter((c) => c.name !== connection.name)
          .map((c) => ({ name: c.name, base: webhookBaseUrl(requirePublicUrl(ctx.config), c.name) }));
        app.out(`${connection.name}: ${hooks.length} subscription(s) in the ShipStation account`);
        for (const hook of hooks) {
          const ownership = webhookOwnership(hook, t.base, t.target);
          const mark =
            ownership === 'ours'
              ? 'ours'
              : ownership === 'ours-old-secret'
                ? 'ours (old secret: deliveries get 401; run `webhooks subscribe`)'
                : (() => {
                    const other = others.find((o) => webhookOwnership(hook, o.base) !== 'other');
                    return other ? `connection ${other.name}` : 'other';
                  })();
          app.out(
            `  ${String(hook.WebHookID).padEnd(10)} ${hook.HookType.padEnd(20)} ${redactCredentials(redactWebhookUrl(hook.Url))}  [${mark}]`,
          );
        }
        if (t.target) {
          for (const { need, hooks: matching } of subscriptionStatus(hooks, t.target, {
            orderNotify: t.connection.channelOrders.enabled,
          })) {
            if (matching.length === 0)
              app.out(
                `  missing: ${need.subscribe} (${need.purpose}); run \`ml-connector webhooks subscribe --connection ${connection.name}\``,
              );
          }
        } else {
          app.out(
            `  (shipstation.webhookSecret is not set or not readable, so which subscriptions carry the current secret is not known)`,
          );
        }
      }
    });

  webhooks
    .command('unsubscribe')
    .description(
      'remove the subscriptions pointing at this service (--all: every subscription of the ShipStation account)',
    )
    .option('--connection <name>', 'only this connection (default: all)')
    .option('--all', "remove every subscription of the ShipStation account, other apps' included")
    .action(async (flags: { connection?: string; all?: boolean }) => {
      const ctx = app.context();
      for (const connection of selectConnections(ctx.config, flags.connection)) {
        if (connection.shipstation.api === 'v2') {
          const t = await openV2Target(app, connection);
          const hooks = await listV2Hooks(t);
          const doomed = flags.all ? hooks : hooks.filter((h) => h.url === t.url);
          for (const hook of doomed) {
            try {
              const deleted = await t.client.deleteWebhook(hook.webhook_id);
              app.out(
                `${connection.name}: ${deleted ? 'removed' : 'already gone'} ${hook.event} ${hook.webhook_id} → ${redactCredentials(hook.url)} (${hook.url === t.url ? 'ours' : '--all'})`,
              );
            } catch (err) {
              throw shipStationFailure(
                connection.name,
                `DELETE /v2/environment/webhooks/${hook.webhook_id}`,
                err,
              );
            }
          }
          app.out(`${connection.name}: ${doomed.length} removed.`);
          continue;
        }
        const t = await openTarget(app, connection, false);
        const hooks = await listHooks(t);
        const doomed = flags.all ? hooks : hooks.filter((h) => webhookOwnership(h, t.base) !== 'other');
        for (const hook of doomed)
          await remove(app, t, hook, webhookOwnership(hook, t.base) === 'other' ? '--all' : 'ours');
        app.out(`${connection.name}: ${doomed.length} removed.`);
      }
    });
}
