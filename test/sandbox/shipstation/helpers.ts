/**
 * Helpers for the ShipStation sandbox contract tests: a started sandbox on a fake clock, small
 * HTTP callers for V1 (Basic auth) and V2 (API-Key), and a real webhook receiver on 127.0.0.1.
 */
import { createPublicKey, createVerify, type JsonWebKey } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ShipStationSandbox,
  type ShipStationSandboxOptions,
  startShipStationSandbox,
} from '../../../src/sandbox/shipstation/index.js';
import { FakeClock } from '../../helpers/clock.js';

export interface CallResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected field by field in tests.
  body: any;
  text: string;
}

export async function startTestSandbox(
  options: ShipStationSandboxOptions & { clock?: FakeClock } = {},
): Promise<{ sandbox: ShipStationSandbox; clock: FakeClock }> {
  const clock = options.clock ?? new FakeClock(Date.parse('2026-01-15T20:00:00Z'));
  const sandbox = await startShipStationSandbox({
    backgroundTimers: false,
    webhookDelayMs: 60_000,
    ...options,
    clock,
  });
  return { sandbox, clock };
}

async function send(url: string, init: RequestInit): Promise<CallResult> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON; keep the text
  }
  return { status: response.status, headers: response.headers, body, text };
}

export function basicAuth(key: string, secret: string): string {
  return `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
}

/** A V1 caller with the sandbox's credentials (or others). */
export function v1(
  sandbox: ShipStationSandbox,
  credentials = { key: sandbox.apiKey, secret: sandbox.apiSecret },
) {
  return (method: string, path: string, body?: unknown): Promise<CallResult> =>
    send(path.startsWith('http') ? path : `${sandbox.url}${path}`, {
      method,
      headers: {
        authorization: basicAuth(credentials.key, credentials.secret),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
}

export function v2(sandbox: ShipStationSandbox, key = sandbox.v2ApiKey) {
  return (method: string, path: string, body?: unknown): Promise<CallResult> =>
    send(`${sandbox.url}${path}`, {
      method,
      headers: { 'api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

/**
 * One request with exactly the given headers and raw body, through node:http (fetch would add a
 * Content-Type, normalise the URL or fail when the server answers before the body is sent).
 */
export function rawRequest(
  sandbox: ShipStationSandbox,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<CallResult> {
  const url = new URL(sandbox.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            // not JSON; keep the text
          }
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) out.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          resolve({ status: res.statusCode ?? 0, headers: out, body: parsed, text });
        });
      },
    );
    // The server may answer (413) and close before the whole body is written.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    req.end(body);
  });
}

/** `/_sandbox/` calls (no auth). */
export function control(sandbox: ShipStationSandbox) {
  return (method: string, path: string, body?: unknown): Promise<CallResult> =>
    send(`${sandbox.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are inspected field by field in tests.
  body: any;
}

/** A real HTTP receiver; answers each POST with the next status of `statuses` (then 200). */
export async function startReceiver(statuses: number[] = []) {
  const received: ReceivedWebhook[] = [];
  const queue = [...statuses];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        raw,
        body: raw ? JSON.parse(raw) : undefined,
      });
      res.statusCode = queue.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` until it returns true, at most `timeoutMs` of real time. */
export async function waitUntil(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A valid order body for createorder(s). */
export function orderBody(
  orderNumber: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const address = {
    name: 'Jane Doe',
    street1: '1 Main St',
    city: 'Austin',
    state: 'TX',
    postalCode: '78701',
    country: 'US',
  };
  return {
    orderNumber,
    orderKey: `acme:${orderNumber}`,
    orderDate: '2026-01-10 09:30:00',
    orderStatus: 'awaiting_shipment',
    billTo: address,
    shipTo: address,
    items: [
      { lineItemKey: '1', sku: 'WID-100', name: 'Widget', quantity: 2, unitPrice: 4.5 },
      { lineItemKey: '2', sku: 'GAD-310', name: 'Gadget', quantity: 1, unitPrice: 24 },
    ],
    ...overrides,
  };
}

/** A valid V2 create item for `POST /v2/shipments` (warehouse `se-1` unless overridden). */
export function v2Shipment(number: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    external_shipment_id: `acme:${number}`,
    shipment_number: number,
    warehouse_id: 'se-1',
    ship_to: {
      name: 'Ada Lovelace',
      phone: '555-0100',
      address_line1: '12 Analytical Way',
      city_locality: 'Austin',
      state_province: 'TX',
      postal_code: '78701',
      country_code: 'US',
      address_residential_indicator: 'yes',
    },
    items: [
      { name: 'Widget', sku: 'WID-100', quantity: 2, external_order_item_id: '1' },
      { name: 'Gadget', sku: 'GAD-310', quantity: 1, external_order_item_id: '2' },
    ],
    amount_paid: { currency: 'usd', amount: 33 },
    notes_from_buyer: 'leave at the door',
    packages: [{ weight: { value: 2, unit: 'pound' } }],
    ...overrides,
  };
}

/** Checks a V2 webhook's RSA-SHA256 signature against the sandbox's JWKS. */
export async function verifySignature(jwksUrl: string, hook: ReceivedWebhook): Promise<boolean> {
  const jwks = (await (await fetch(jwksUrl)).json()) as { keys: Array<JsonWebKey & { kid: string }> };
  const jwk = jwks.keys.find((k) => k.kid === hook.headers['x-shipengine-rsa-sha256-key-id']);
  if (!jwk) return false;
  const verifier = createVerify('RSA-SHA256');
  verifier.update(`${hook.headers['x-shipengine-timestamp']}.${hook.raw}`);
  return verifier.verify(
    createPublicKey({ key: jwk, format: 'jwk' }),
    String(hook.headers['x-shipengine-rsa-sha256-signature']),
    'base64',
  );
}
