/**
 * Fault injection for the SYSPRO sandbox: maintenance, latency and per-object failure rates.
 *
 * CLI flag syntax (`--fault <spec>`, repeatable; `parseFaultFlags` turns a list into `SysproFaults`):
 *   maintenance=<off|down|refuse|reset|hang>  whole system: e.net and OData (see below)
 *   latency=<ms>                             extra delay on every e.net and OData request
 *   latency:<TARGET>=<ms>                    extra delay for one business object (or ODATA, LOGON)
 *   fail:<TARGET>=<rate>[:<kind>]            fail that share (0..1) of calls to TARGET
 * TARGET is a business object (SORTDN, SORTOI, …), `LOGON`, `LOGOFF`, `ODATA`, or `*` for every call.
 * kind: error (default; HTTP 200 `ERROR: …` text), http500, reset (connection dropped before
 *       anything is done), hang (never answered), lost (the call takes effect, then the connection
 *       is dropped: the caller cannot know it succeeded), lost-hang (the call takes effect, then
 *       no answer ever comes: the caller waits, and may die waiting, e.g. killed mid-post).
 * Maintenance modes: down = HTTP 503 "Service Unavailable" (as HTTP.sys/IIS answer when the
 * service is stopped); refuse = the port stops listening (connection refused); reset = every
 * connection is dropped; hang = requests are accepted and never answered.
 */

export type MaintenanceMode = 'off' | 'down' | 'refuse' | 'reset' | 'hang';
export type FailureKind = 'error' | 'http500' | 'reset' | 'hang' | 'lost' | 'lost-hang';

export interface FailureRule {
  target: string;
  rate: number;
  kind: FailureKind;
  /** Only requests whose XmlIn contains this text (a test's way to hit one kind of post). */
  xmlInContains?: string;
}

export interface SysproFaults {
  maintenance?: MaintenanceMode;
  latencyMs?: number;
  objectLatencyMs?: Record<string, number>;
  failures?: FailureRule[];
}

const MAINTENANCE_MODES: MaintenanceMode[] = ['off', 'down', 'refuse', 'reset', 'hang'];
const FAILURE_KINDS: FailureKind[] = ['error', 'http500', 'reset', 'hang', 'lost', 'lost-hang'];

export class FaultFlagError extends Error {}

function parseMs(text: string, flag: string): number {
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms < 0)
    throw new FaultFlagError(`--fault ${flag}: "${text}" is not a delay in ms`);
  return ms;
}

/** Parses one `--fault` flag into `faults` (mutated and returned). */
export function parseFaultFlag(flag: string, faults: SysproFaults = {}): SysproFaults {
  const eq = flag.indexOf('=');
  if (eq < 0) throw new FaultFlagError(`--fault ${flag}: expected <name>=<value>, e.g. fail:SORTDN=0.5`);
  const name = flag.slice(0, eq).trim();
  const value = flag.slice(eq + 1).trim();
  const [kind, rawTarget] = name.split(':', 2);
  const target = rawTarget?.trim().toUpperCase();
  switch (kind?.toLowerCase()) {
    case 'maintenance': {
      if (!MAINTENANCE_MODES.includes(value as MaintenanceMode)) {
        throw new FaultFlagError(`--fault ${flag}: maintenance is one of ${MAINTENANCE_MODES.join(', ')}`);
      }
      faults.maintenance = value as MaintenanceMode;
      return faults;
    }
    case 'latency': {
      const ms = parseMs(value, flag);
      if (target) faults.objectLatencyMs = { ...faults.objectLatencyMs, [target]: ms };
      else faults.latencyMs = ms;
      return faults;
    }
    case 'fail': {
      if (!target) throw new FaultFlagError(`--fault ${flag}: name the target, e.g. fail:SORTDN=0.5`);
      const [rateText, kindText = 'error'] = value.split(':', 2);
      const rate = Number(rateText);
      if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
        throw new FaultFlagError(`--fault ${flag}: the rate must be a number from 0 to 1`);
      }
      if (!FAILURE_KINDS.includes(kindText as FailureKind)) {
        throw new FaultFlagError(`--fault ${flag}: the kind is one of ${FAILURE_KINDS.join(', ')}`);
      }
      faults.failures = [
        ...(faults.failures ?? []).filter((f) => f.target !== target),
        { target, rate, kind: kindText as FailureKind },
      ];
      return faults;
    }
    default:
      throw new FaultFlagError(`--fault ${flag}: unknown fault "${kind}" (maintenance, latency, fail)`);
  }
}

/** Parses every `--fault` flag given on the command line. */
export function parseFaultFlags(flags: readonly string[]): SysproFaults {
  const faults: SysproFaults = {};
  for (const flag of flags) parseFaultFlag(flag, faults);
  return faults;
}

/** The failure rule that applies to a target (exact match first, then `*`). */
export function failureRuleFor(faults: SysproFaults, target: string, xmlIn = ''): FailureRule | undefined {
  const rules = (faults.failures ?? []).filter(
    (r) => r.xmlInContains === undefined || xmlIn.includes(r.xmlInContains),
  );
  return rules.find((r) => r.target === target) ?? rules.find((r) => r.target === '*');
}

export function latencyFor(faults: SysproFaults, target: string): number {
  return (faults.latencyMs ?? 0) + (faults.objectLatencyMs?.[target] ?? 0);
}
