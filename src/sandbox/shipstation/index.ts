/** The ShipStation sandbox: start it, and turn CLI `--fault` flags into fault rules. */
export { type FaultSpec, parseFaultFlag } from './faults.js';
export type { FilterTimeRule } from './pacific-time.js';
export type { RateLimitSettings } from './rate-limit.js';
export {
  type SandboxRequest,
  type ShipStationSandbox,
  type ShipStationSandboxOptions,
  startShipStationSandbox,
} from './server.js';
export type { ShipStationState } from './state.js';
export type { WebhookDelivery } from './webhook-delivery.js';
