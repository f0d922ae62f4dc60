/**
 * Webhook delivery: real HTTP POSTs to subscribed target URLs, after a delay on the injected clock.
 *
 * Retry behaviour (ShipStation's is undocumented, reference §4.2; this is our choice): a delivery
 * succeeds on any 2xx. A non-2xx answer, a network error or no answer within `timeoutMs` (real time)
 * is retried after each delay of `retryDelaysMs` in turn (default 1, 5 and 15 minutes of clock
 * time), then marked `failed`. A `dropWebhook` fault marks it `dropped` without posting. Every
 * delivery and each attempt's outcome stays inspectable (`list()`, `GET /_sandbox/webhooks/deliveries`).
 */
import type { FaultRules } from './faults.js';
import type { V2WebhookSigner } from './v2-signing.js';

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed' | 'dropped';

export interface DeliveryAttempt {
  /** Clock time of the attempt (epoch ms). */
  at: number;
  statusCode?: number;
  error?: string;
  durationMs: number;
}

export interface WebhookDelivery {
  id: number;
  api: 'v1' | 'v2';
  event: string;
  webhookId: number | string;
  targetUrl: string;
  body: string;
  /** Extra headers the subscription asked for (V2 `headers`). */
  headers: Record<string, string>;
  status: DeliveryStatus;
  createdAt: number;
  nextAttemptAt: number;
  attempts: DeliveryAttempt[];
}

export interface DeliverySettings {
  delayMs: number;
  retryDelaysMs: number[];
  timeoutMs: number;
}

export const DEFAULT_RETRY_DELAYS_MS = [60_000, 300_000, 900_000];

export class WebhookDeliveries {
  private readonly deliveries: WebhookDelivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private nextId = 1;

  constructor(
    private readonly settings: DeliverySettings,
    private readonly now: () => number,
    private readonly faults: FaultRules,
    private readonly signer: V2WebhookSigner,
    private readonly onChange: () => void = () => {},
  ) {}

  /** Queues one delivery; it becomes due `delayMs` from now. */
  enqueue(input: {
    api: 'v1' | 'v2';
    event: string;
    webhookId: number | string;
    targetUrl: string;
    payload: unknown;
    headers?: Record<string, string>;
    /** Due now instead of after the configured delay. */
    immediate?: boolean;
  }): WebhookDelivery {
    const now = this.now();
    const delivery: WebhookDelivery = {
      id: this.nextId++,
      api: input.api,
      event: input.event,
      webhookId: input.webhookId,
      targetUrl: input.targetUrl,
      body: JSON.stringify(input.payload),
      headers: input.headers ?? {},
      status: 'pending',
      createdAt: now,
      nextAttemptAt: input.immediate ? now : now + this.settings.delayMs,
      attempts: [],
    };
    if (this.faults.dropsWebhook(input.event)) delivery.status = 'dropped';
    this.deliveries.push(delivery);
    this.onChange();
    return delivery;
  }

  list(): WebhookDelivery[] {
    return this.deliveries.map((d) => ({ ...d, attempts: [...d.attempts] }));
  }

  /** Clock time of the next pending attempt, if any. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const d of this.deliveries) {
      if (d.status === 'pending' && (next === undefined || d.nextAttemptAt < next)) next = d.nextAttemptAt;
    }
    return next;
  }

  /** Starts every attempt that is due now (on the clock) and returns when they have finished. */
  async deliverDue(): Promise<void> {
    const now = this.now();
    const due = this.deliveries.filter((d) => d.status === 'pending' && d.nextAttemptAt <= now);
    await Promise.all(due.map((d) => this.track(this.attempt(d))));
  }

  /** Makes every pending delivery due now (for `/_sandbox/webhooks/flush?all=true`). */
  makeAllDue(): void {
    const now = this.now();
    for (const d of this.deliveries)
      if (d.status === 'pending' && d.nextAttemptAt > now) d.nextAttemptAt = now;
  }

  /** Delivers one delivery now if it is pending (used by `/_sandbox/v2/webhooks/send`). */
  async deliverNow(id: number): Promise<WebhookDelivery | undefined> {
    const d = this.deliveries.find((x) => x.id === id);
    if (d?.status === 'pending') await this.track(this.attempt(d));
    return d ? { ...d, attempts: [...d.attempts] } : undefined;
  }

  /** Delivers everything due now and waits for every attempt in flight (deterministic for tests). */
  async flush(): Promise<void> {
    await this.deliverDue();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    return p.finally(() => this.inFlight.delete(p));
  }

  private async attempt(delivery: WebhookDelivery): Promise<void> {
    delivery.status = 'sending';
    const at = this.now();
    const started = Date.now();
    const headers: Record<string, string> = {
      ...delivery.headers,
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'ShipStation-Sandbox-Webhooks/1.0',
    };
    if (delivery.api === 'v2') Object.assign(headers, this.signer.headers(delivery.body, at));
    const outcome: DeliveryAttempt = { at, durationMs: 0 };
    try {
      const response = await fetch(delivery.targetUrl, {
        method: 'POST',
        headers,
        body: delivery.body,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      outcome.statusCode = response.status;
      if (response.status < 200 || response.status > 299) outcome.error = `HTTP ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      outcome.error =
        error instanceof Error
          ? `${error.name}: ${error.message}${cause ? ` (${cause})` : ''}`
          : String(error);
    }
    outcome.durationMs = Date.now() - started;
    delivery.attempts.push(outcome);
    if (outcome.error === undefined) {
      delivery.status = 'delivered';
    } else {
      const delay = this.settings.retryDelaysMs[delivery.attempts.length - 1];
      if (delay === undefined) {
        delivery.status = 'failed';
      } else {
        delivery.status = 'pending';
        delivery.nextAttemptAt = this.now() + delay;
      }
    }
    this.onChange();
  }
}
