/**
 * Call latency histograms of this process: every SYSPRO e.net request and every ShipStation HTTP
 * request (each retry counted) made through `openConnectionClients`, by connection, API and
 * outcome. Unlike the rest of `/metrics` these live in memory: each process reports its own calls.
 *
 * One instance per store, as the ShipStation budgets are (`limiters.ts`): the clients of every
 * connection opened on the store report into `callMetricsFor(store)`, and `run` hands the same
 * instance to the metrics route, so no handler needs to carry it.
 */
import { Histogram, Registry } from 'prom-client';
import type { Store } from '../store/open.js';

/** One finished call to SYSPRO or ShipStation, as a client reports it. */
export interface CallObservation {
  connection: string;
  /** `enet` (SYSPRO e.net), `v1`, `v2` (ShipStation). */
  api: string;
  /** `ok`, or the failure's kind. */
  outcome: string;
  ms: number;
}

/** In-process call latency histograms; pass the same instance to the clients and to `/metrics`. */
export class CallMetrics {
  readonly registry = new Registry();
  readonly #syspro = new Histogram({
    name: 'mlc_syspro_call_duration_seconds',
    help: 'SYSPRO e.net requests made by this process, by connection, API (enet) and outcome',
    labelNames: ['connection', 'api', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly #shipstation = new Histogram({
    name: 'mlc_shipstation_call_duration_seconds',
    help: 'ShipStation HTTP requests made by this process, by connection, API (v1, v2) and outcome',
    labelNames: ['connection', 'api', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  syspro(o: CallObservation): void {
    this.#syspro.observe({ connection: o.connection, api: o.api, outcome: o.outcome }, o.ms / 1000);
  }

  shipstation(o: CallObservation): void {
    this.#shipstation.observe({ connection: o.connection, api: o.api, outcome: o.outcome }, o.ms / 1000);
  }
}

const registry = new WeakMap<Store, CallMetrics>();

/** The call histograms of the clients opened on `store` in this process (created on first use). */
export function callMetricsFor(store: Store): CallMetrics {
  let metrics = registry.get(store);
  if (!metrics) {
    metrics = new CallMetrics();
    registry.set(store, metrics);
  }
  return metrics;
}
