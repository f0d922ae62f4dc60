/**
 * The SYSPRO sandbox: a faithful local SYSPRO (e.net REST business objects + OData) with seeded
 * data and fault injection. Written from docs/reference, shares no code with src/syspro/.
 * See docs/sandbox-syspro.md.
 */
export type { SandboxQuirks } from './business-objects/common.js';
export { type CallFilter, CallLog, type SysproCall } from './calls.js';
export {
  type FailureKind,
  FaultFlagError,
  type MaintenanceMode,
  parseFaultFlag,
  parseFaultFlags,
  type SysproFaults,
} from './faults.js';
export { openEveryOrder } from './open-orders.js';
export { ORDER_STATUSES, type SeedOptions, seedCompany } from './seed.js';
export {
  DEFAULT_EXTRA_OPERATORS,
  type SandboxLogger,
  type SysproSandbox,
  type SysproSandboxOptions,
  startSysproSandbox,
} from './server.js';
export type { SandboxOperator, Session } from './sessions.js';
export { CompanyDatabase, type Row, Table } from './tables.js';
