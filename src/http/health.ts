/**
 * `/healthz`: the process is up and answering (no dependency is checked, so a restart is never
 * triggered by a database outage). `/readyz`: the store answers a trivial query within a few
 * seconds and no migration is pending; otherwise 503 with the reason, so a load balancer or an
 * orchestrator stops sending traffic (webhooks) to a process that could not persist it.
 */
import type { FastifyInstance } from 'fastify';

export interface Readiness {
  /** Throws (or rejects) with the reason when the store cannot be used: unreachable, migrations pending. */
  check(): Promise<void>;
  /** True once shutdown has begun: the process is finishing its work and takes no new traffic. */
  stopping(): boolean;
}

/** How long `/readyz` waits for the store before it answers 503. */
export const READY_TIMEOUT_MS = 3000;

export function registerHealthRoutes(app: FastifyInstance, readiness: Readiness): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    if (readiness.stopping()) return reply.code(503).send({ status: 'unavailable', reason: 'shutting down' });
    try {
      await withTimeout(readiness.check(), READY_TIMEOUT_MS);
      return { status: 'ready' };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', reason: (err as Error).message ?? String(err) });
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
