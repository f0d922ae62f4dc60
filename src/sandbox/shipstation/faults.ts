/**
 * Fault injection: rules that make the sandbox misbehave the way users report ShipStation does
 * (random 500s and 401s, 429s while `X-Rate-Limit-Remaining` is still above zero, slow or hanging
 * responses, webhooks that never arrive). Rules come from code (`faults` option), CLI flags
 * (`parseFaultFlag`) and `/_sandbox/faults` at runtime. Decisions use the sandbox's seeded random,
 * so a run with the same seed and the same requests misbehaves the same way.
 */
import type { SeededRandom } from '../random.js';

export interface FaultSpec {
  /** Set by the sandbox when the rule is added; used to delete one rule. */
  id?: string;
  /**
   * Which API paths the rule applies to: `*` (default) = every ShipStation route (V1 and V2), else a
   * path prefix matched on whole segments, case-insensitive (`/orders` matches `/orders` and
   * `/orders/createorders`, not `/ordersx`). `/_sandbox/` and `/jwks` are never faulted.
   */
  route?: string;
  /** Only this HTTP method (e.g. `POST`); default any. */
  method?: string;
  /** Probability (0..1) of answering 500 with the ASP.NET body (V2: the V2 error body). */
  error?: number;
  /** Probability of a spurious 401 although the credentials are right. */
  unauthorized?: number;
  /** Probability of a 429 while the window still has requests left (`Remaining` > 0). */
  rateLimited?: number;
  /** Added latency in ms (real time) before the request is handled. */
  latencyMs?: number;
  /** Probability that the request is never answered (the connection stays open until closed). */
  hang?: number;
  /**
   * Probability that the request is carried out but its answer is lost: the route runs (a write is
   * committed), then the connection is closed without a response, so the client cannot tell
   * whether it happened (an in-doubt write).
   */
  lostAnswer?: number;
  /** Probability that a webhook delivery is dropped (recorded as `dropped`, never posted). */
  dropWebhook?: number;
  /** For `dropWebhook`: only this event (`SHIP_NOTIFY`, `ORDER_NOTIFY`, ... or a V2 event). */
  event?: string;
  /** The rule expires after it has fired this many times. */
  times?: number;
}

export type RequestFault =
  | { kind: 'hang' }
  | { kind: 'unauthorized' }
  | { kind: 'rateLimited' }
  | { kind: 'error' }
  | { kind: 'lostAnswer' };

function parseProbability(key: string, value: string): number {
  const text = value.trim();
  const n = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw new Error(`fault ${key}=${value}: expected a probability between 0 and 1 (or 0%..100%)`);
  }
  return n;
}

function parseDurationMs(key: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(value.trim());
  if (!m) throw new Error(`fault ${key}=${value}: expected a duration such as 500, 500ms, 2s or 1m`);
  const n = Number(m[1]);
  return Math.round(m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n);
}

/**
 * Turns a CLI flag such as `route=/orders,error=0.2` into a FaultSpec. Keys: `route`, `method`,
 * `error`, `unauthorized` (alias `401`), `ratelimit` (alias `429`), `latency` (ms, or with `ms`/`s`/`m`),
 * `hang`, `lost-answer`, `drop-webhook`, `event`, `times`. A probability may be written `0.2` or `20%`; a key
 * without a value means probability 1 (`hang` alone hangs every request of the route).
 */
export function parseFaultFlag(flag: string): FaultSpec {
  const spec: FaultSpec = {};
  for (const part of flag.split(',')) {
    const piece = part.trim();
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const key = (eq < 0 ? piece : piece.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '1' : piece.slice(eq + 1).trim();
    switch (key) {
      case 'route':
        spec.route = value;
        break;
      case 'method':
        spec.method = value.toUpperCase();
        break;
      case 'error':
      case '500':
        spec.error = parseProbability(key, value);
        break;
      case 'unauthorized':
      case '401':
        spec.unauthorized = parseProbability(key, value);
        break;
      case 'ratelimit':
      case 'rate-limit':
      case '429':
        spec.rateLimited = parseProbability(key, value);
        break;
      case 'latency':
        spec.latencyMs = parseDurationMs(key, value);
        break;
      case 'hang':
        spec.hang = parseProbability(key, value);
        break;
      case 'lost-answer':
      case 'lostanswer':
        spec.lostAnswer = parseProbability(key, value);
        break;
      case 'drop-webhook':
      case 'dropwebhook':
        spec.dropWebhook = parseProbability(key, value);
        break;
      case 'event':
        spec.event = value.toUpperCase();
        break;
      case 'times': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1)
          throw new Error(`fault times=${value}: expected a whole number >= 1`);
        spec.times = n;
        break;
      }
      default:
        throw new Error(
          `unknown fault key '${key}' in '${flag}' (known: route, method, error, unauthorized, ratelimit, latency, hang, lost-answer, drop-webhook, event, times)`,
        );
    }
  }
  validateFaultSpec(spec);
  return spec;
}

/** Throws with a readable message when a spec (from JSON or code) is malformed. */
export function validateFaultSpec(spec: FaultSpec): void {
  for (const key of ['error', 'unauthorized', 'rateLimited', 'hang', 'lostAnswer', 'dropWebhook'] as const) {
    const v = spec[key];
    if (v !== undefined && (typeof v !== 'number' || v < 0 || v > 1)) {
      throw new Error(`fault ${key} must be a probability between 0 and 1, got ${JSON.stringify(v)}`);
    }
  }
  if (spec.latencyMs !== undefined && (typeof spec.latencyMs !== 'number' || spec.latencyMs < 0)) {
    throw new Error(
      `fault latencyMs must be a number of milliseconds >= 0, got ${JSON.stringify(spec.latencyMs)}`,
    );
  }
  if (spec.route !== undefined && typeof spec.route !== 'string')
    throw new Error('fault route must be a string');
  if (spec.times !== undefined && (!Number.isInteger(spec.times) || spec.times < 1)) {
    throw new Error('fault times must be a whole number >= 1');
  }
}

function routeMatches(route: string | undefined, path: string): boolean {
  if (route === undefined || route === '*' || route === '') return true;
  const prefix = route.replace(/\/+$/, '').toLowerCase();
  const p = path.toLowerCase();
  return p === prefix || p.startsWith(`${prefix}/`);
}

export class FaultRules {
  private rules: FaultSpec[] = [];
  private nextId = 1;

  constructor(private readonly random: SeededRandom) {}

  list(): FaultSpec[] {
    return this.rules.map((r) => ({ ...r }));
  }

  add(spec: FaultSpec): FaultSpec {
    validateFaultSpec(spec);
    const rule = { ...spec, id: spec.id ?? `f${this.nextId++}` };
    this.rules.push(rule);
    return { ...rule };
  }

  replace(specs: FaultSpec[]): FaultSpec[] {
    for (const s of specs) validateFaultSpec(s);
    this.rules = [];
    return specs.map((s) => this.add(s));
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
  }

  private fired(rule: FaultSpec): void {
    if (rule.times === undefined) return;
    rule.times -= 1;
    if (rule.times <= 0) this.rules = this.rules.filter((r) => r !== rule);
  }

  private roll(p: number | undefined): boolean {
    if (!p) return false;
    return p >= 1 || this.random.next() < p;
  }

  /** Total latency the matching rules add to this request. */
  latencyFor(method: string, path: string): number {
    let total = 0;
    for (const rule of [...this.rules]) {
      if (!rule.latencyMs || !this.applies(rule, method, path)) continue;
      total += rule.latencyMs;
      this.fired(rule);
    }
    return total;
  }

  /** The first failure a matching rule decides for this request, if any. */
  requestFault(method: string, path: string): RequestFault | undefined {
    for (const rule of [...this.rules]) {
      if (!this.applies(rule, method, path)) continue;
      const kinds: Array<[RequestFault['kind'], number | undefined]> = [
        ['hang', rule.hang],
        ['unauthorized', rule.unauthorized],
        ['rateLimited', rule.rateLimited],
        ['error', rule.error],
        ['lostAnswer', rule.lostAnswer],
      ];
      for (const [kind, p] of kinds) {
        if (this.roll(p)) {
          this.fired(rule);
          return { kind };
        }
      }
    }
    return undefined;
  }

  /** Whether a webhook delivery of `event` is to be dropped. */
  dropsWebhook(event: string): boolean {
    for (const rule of [...this.rules]) {
      if (!rule.dropWebhook) continue;
      if (rule.event && rule.event.toUpperCase() !== event.toUpperCase()) continue;
      if (this.roll(rule.dropWebhook)) {
        this.fired(rule);
        return true;
      }
    }
    return false;
  }

  private applies(rule: FaultSpec, method: string, path: string): boolean {
    if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) return false;
    return routeMatches(rule.route, path);
  }
}
