/**
 * Access to the dashboard and the operator API.
 *
 * - Secrets are stored hashed with scrypt (node:crypto; `scrypt$N$r$p$salt$hash`, base64url),
 *   compared in constant time. The password comes from `dashboard.passwordHash`, API tokens from
 *   `dashboard.apiTokens` (config or environment); the demo generates both and prints them.
 * - A browser logs in with the password and a name (who it is, kept in the history of what it
 *   does) and gets a session: a random id in a cookie that is HttpOnly, SameSite=Strict and Secure
 *   (browsers accept Secure cookies from http://127.0.0.1 and localhost). Sessions live in this
 *   process's memory (a restart logs everyone out) and end after `dashboard.sessionIdle` without a
 *   request.
 * - Scripts send `Authorization: Bearer <token>` instead; such requests need no CSRF token (a
 *   browser never adds that header on its own to a cross-site request).
 * - Every state-changing request with a session carries the session's CSRF token (synchronizer
 *   token: a hidden `_csrf` field in forms, or the `X-CSRF-Token` header), and a request whose
 *   `Origin` names another site is refused outright.
 * - Failed logins are limited per client address (`dashboard.loginAttempts`): past the limit the
 *   login answers 429 with Retry-After, whatever the password.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

const SCRYPT = { N: 16_384, r: 8, p: 1, keylen: 32 };

function scryptAsync(
  secret: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  keylen: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, keylen, { N, r, p, maxmem: 128 * N * r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash` of a secret (a fresh random salt each time). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keylen);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

/** Whether `secret` matches a stored hash (false for a malformed hash). */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1_048_576) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (expected.length < 16) return false;
  const key = await scryptAsync(secret, salt, N, r, p, expected.length);
  return timingSafeEqual(key, expected);
}

/** A random secret for the demo's password and token: 24 characters of base64url. */
export function generateSecret(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

export interface AuthSettings {
  passwordHash?: string;
  apiTokens: Array<{ name: string; hash: string }>;
  sessionIdle: number;
  secureCookies: boolean;
  loginAttempts: { limit: number; window: number };
}

export interface Session {
  id: string;
  who: string;
  csrf: string;
  createdAt: number;
  lastSeen: number;
  /** The outcome of the last action, shown once on the next page. */
  notice?: string | undefined;
}

export interface Principal {
  who: string;
  via: 'session' | 'token';
  session?: Session;
}

export const SESSION_COOKIE = 'mlc_session';

/** Sessions, token checks and the login limiter of one server. */
export class Access {
  readonly #sessions = new Map<string, Session>();
  /** sha256 of a token verified once → its name (scrypt per API request would cost ~50 ms each). */
  readonly #tokens = new Map<string, string>();
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly settings: AuthSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether any way in is configured. */
  get configured(): boolean {
    return !!this.settings.passwordHash || this.settings.apiTokens.length > 0;
  }

  /** Seconds until this address may try again, or 0. */
  loginBlockedFor(address: string): number {
    const now = this.now();
    const { limit, window } = this.settings.loginAttempts;
    const recent = (this.#failures.get(address) ?? []).filter((t) => t > now - window);
    this.#failures.set(address, recent);
    if (recent.length < limit) return 0;
    return Math.max(1, Math.ceil(((recent[0] ?? now) + window - now) / 1000));
  }

  async login(address: string, who: string, password: string): Promise<Session | undefined> {
    const ok = !!this.settings.passwordHash && (await verifySecret(password, this.settings.passwordHash));
    if (!ok) {
      this.#failures.set(address, [...(this.#failures.get(address) ?? []), this.now()]);
      return undefined;
    }
    this.#failures.delete(address);
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      who: who.trim().slice(0, 80) || 'operator',
      csrf: randomBytes(24).toString('base64url'),
      createdAt: this.now(),
      lastSeen: this.now(),
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  logout(id: string): void {
    this.#sessions.delete(id);
  }

  session(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    const now = this.now();
    if (now - s.lastSeen > this.settings.sessionIdle) {
      this.#sessions.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    return s;
  }

  /** The name of the API token, or undefined. */
  async token(token: string): Promise<string | undefined> {
    if (token.length < 16 || token.length > 512) return undefined;
    const digest = createHash('sha256').update(token).digest('hex');
    const known = this.#tokens.get(digest);
    if (known) return known;
    for (const t of this.settings.apiTokens) {
      if (await verifySecret(token, t.hash)) {
        this.#tokens.set(digest, t.name);
        return t.name;
      }
    }
    return undefined;
  }

  /** Who makes the request: a Bearer token or a session cookie, else undefined. */
  async principal(request: FastifyRequest): Promise<Principal | undefined> {
    const header = request.headers.authorization;
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      const name = m ? await this.token(m[1] as string) : undefined;
      return name ? { who: `token ${name}`, via: 'token' } : undefined;
    }
    const session = this.session(request.cookies?.[SESSION_COOKIE]);
    return session ? { who: session.who, via: 'session', session } : undefined;
  }

  setSessionCookie(reply: FastifyReply, session: Session): void {
    reply.setCookie(SESSION_COOKIE, session.id, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: this.settings.secureCookies,
      maxAge: Math.floor(this.settings.sessionIdle / 1000),
    });
  }

  clearSessionCookie(reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: this.settings.secureCookies,
    });
  }
}

/** The CSRF token a state-changing request carries (form field or header). */
export function csrfTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-csrf-token'];
  if (typeof header === 'string') return header;
  const body = request.body as Record<string, unknown> | undefined;
  return typeof body?._csrf === 'string' ? body._csrf : undefined;
}

export function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether an `Origin` (or, lacking it, `Referer`) names another site than the request's host. */
export function crossSite(request: FastifyRequest): boolean {
  const origin = request.headers.origin ?? request.headers.referer;
  if (!origin || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

/** A `next` path that stays on this site (no `//host`, no scheme). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/';
}
