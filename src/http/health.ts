/**
 * `/healthz`: the process is up and answering (no dependency is checked, so a restart is never
 * triggered by a database outage). `/readyz`: the store answers a trivial query within a few
 * seconds and no migration is pending; otherwise 503 with the reason, so a load balancer or an
 * orchestrator stops sending traffic (webhooks) to a process that could not persist it. Both
 * answers carry `details()` (in `run`: `webhookInbox`, the inbox's backlog and its drain's state).
 * A full inbox does not make the process unready: the receiver answers its own 503, and the
 * dashboard, the operator API and the nudge on the same server must stay reachable
 * (docs/decisions.md "Webhook inbox: a row that cannot move, and a bound").
 */
import type { FastifyInstance } from 'fastify';

export interface Readiness {
  /** Throws (or rejects) with the reason when the store cannot be used: unreachable, migrations pending. */
  check(): Promise<void>;
  /** True once shutdown has begun: the process is finishing its work and takes no new traffic. */
  stopping(): boolean;
  /** Added to both answers' bodies (read from memory, never the store). */
  details?(): Record<string, unknown>;
}

/** How long `/readyz` waits for the store before it answers 503. */
export const READY_TIMEOUT_MS = 3000;

export function registerHealthRoutes(app: FastifyInstance, readiness: Readiness): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const details = () => readiness.details?.() ?? {};
    if (readiness.stopping())
      return reply.code(503).send({ status: 'unavailable', reason: 'shutting down', ...details() });
    try {
      await withTimeout(readiness.check(), READY_TIMEOUT_MS);
      return { status: 'ready', ...details() };
    } catch (err) {
      return reply
        .code(503)
        .send({ status: 'unavailable', reason: (err as Error).message ?? String(err), ...details() });
    }
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the store did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
