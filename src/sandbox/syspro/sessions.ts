/**
 * The e.net "state file" (reference §1.4): one entry per logged-on UserId, stamped on every call.
 * - A second logon by the same operator removes the operator's earlier entries (LIVE S2).
 * - An entry idle for longer than the idle timeout expires (the timeout value is UNCONFIRMED;
 *   configurable, default 20 minutes).
 * - A fixed number of licence seats: when all are held by live sessions, a logon is refused.
 *   Expired sessions free their seat (S6: the longest-idle member past the timeout is evicted).
 * Calls on an evicted or expired UserId get an `ERROR:` text naming why (wording invented).
 */
import { randomBytes } from 'node:crypto';

export interface SandboxOperator {
  code: string;
  password: string;
  /** May read through OData (Basic auth). */
  odata: boolean;
  /** "No access to Business Objects" operators cannot log on to e.net (S6 p.143). */
  businessObjects: boolean;
}

export interface Session {
  userId: string;
  operator: string;
  loggedOnAt: number;
  lastUsedAt: number;
}

export type SessionLookup = { ok: true; session: Session } | { ok: false; error: string };

type EndedReason = 'evicted' | 'expired' | 'logged-off' | 'killed';

/** A UserId: 34 upper-case hex characters plus two trailing spaces (reference §1.3, WIRE). */
export function newUserId(): string {
  return `${randomBytes(17).toString('hex').toUpperCase()}  `;
}

export class SessionTable {
  private readonly live = new Map<string, Session>();
  /** Ended sessions by UserId, so a later call gets the matching error. */
  private readonly ended = new Map<string, { reason: EndedReason; operator: string }>();

  constructor(
    private readonly now: () => number,
    public seats: number,
    public idleMs: number,
  ) {}

  list(): Session[] {
    this.expireIdle();
    return [...this.live.values()];
  }

  /** Logs an operator on; returns the UserId or an error text. */
  logon(operator: string): { userId: string } | { error: string } {
    this.expireIdle();
    for (const [id, session] of [...this.live.entries()]) {
      if (session.operator === operator) this.end(id, 'evicted');
    }
    if (this.live.size >= this.seats) {
      // Wording invented (UNCONFIRMED): no source shows SYSPRO's text for a full licence.
      return {
        error: `ERROR: All e.net licences are in use (${this.seats} of ${this.seats}); operator ${operator} cannot log on`,
      };
    }
    const at = this.now();
    const userId = newUserId();
    this.live.set(userId.trim(), { userId, operator, loggedOnAt: at, lastUsedAt: at });
    return { userId };
  }

  /** Finds a live session for a UserId (trimmed or not) and stamps it. */
  use(userIdParam: string): SessionLookup {
    this.expireIdle();
    const id = userIdParam.trim().toUpperCase();
    const session = this.live.get(id);
    if (session) {
      session.lastUsedAt = this.now();
      return { ok: true, session };
    }
    // Wording invented (UNCONFIRMED), as the reference recommends: "ERROR: UserId … is not logged on".
    const ended = this.ended.get(id);
    const base = `ERROR: UserId ${id} is not logged on`;
    if (!ended) return { ok: false, error: base };
    const why = {
      evicted: `the session was ended by a newer logon of operator ${ended.operator}`,
      expired: 'the session expired after inactivity',
      'logged-off': 'the session was logged off',
      killed: 'the session was ended by the system administrator',
    }[ended.reason];
    return { ok: false, error: `${base} (${why})` };
  }

  logoff(userIdParam: string): boolean {
    const id = userIdParam.trim().toUpperCase();
    if (!this.live.has(id)) return false;
    this.end(id, 'logged-off');
    return true;
  }

  /** Operator action: end a session as an administrator would. */
  kill(userIdParam: string): boolean {
    const id = userIdParam.trim().toUpperCase();
    if (!this.live.has(id)) return false;
    this.end(id, 'killed');
    return true;
  }

  private end(id: string, reason: EndedReason): void {
    const session = this.live.get(id);
    if (!session) return;
    this.live.delete(id);
    this.ended.set(id, { reason, operator: session.operator });
    if (this.ended.size > 10_000) {
      const oldest = this.ended.keys().next().value;
      if (oldest !== undefined) this.ended.delete(oldest);
    }
  }

  private expireIdle(): void {
    const at = this.now();
    for (const [id, session] of this.live) {
      if (at - session.lastUsedAt > this.idleMs) this.end(id, 'expired');
    }
  }
}
