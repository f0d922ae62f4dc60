/**
 * Operator actions under `/_sandbox/` (JSON in and out). These are not SYSPRO: they let a person
 * or a test do what a SYSPRO user or administrator would (enter or change an order or a customer,
 * take the system down, end a session) and read back every business-object call. Never subject
 * to injected faults. See docs/sandbox-syspro.md for the list.
 */
import type { CallFilter, CallLog } from './calls.js';
import { FaultFlagError, type MaintenanceMode, parseFaultFlags, type SysproFaults } from './faults.js';
import { changeOrder, enterOrder, OperatorActionError, saveCustomer } from './order-entry.js';
import type { SessionTable } from './sessions.js';
import type { CompanyDatabase, Value } from './tables.js';

export interface OperatorState {
  db: CompanyDatabase;
  calls: CallLog;
  sessions: SessionTable;
  now: () => number;
  getFaults(): SysproFaults;
  setFaults(faults: SysproFaults): void;
  setMaintenance(mode: MaintenanceMode, forMs?: number): Promise<void>;
  /** Requests each injected fault hit (`SORTDN:lost`, `ODATA:http500`, `maintenance:down`…). */
  faultsFired(): Record<string, number>;
}

export interface OperatorReply {
  status: number;
  body: unknown;
}

type Json = Record<string, unknown>;

function asObject(body: unknown): Json {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new OperatorActionError('the request body must be a JSON object');
  }
  return body as Json;
}

function fieldsOf(value: unknown): Record<string, Value> {
  if (value === undefined) return {};
  const object = asObject(value);
  for (const [key, v] of Object.entries(object)) {
    if (v !== null && typeof v !== 'string' && typeof v !== 'number') {
      throw new OperatorActionError(`field '${key}' must be a string, a number or null`);
    }
  }
  return object as Record<string, Value>;
}

export async function handleOperatorRequest(
  state: OperatorState,
  method: string,
  path: string,
  query: URLSearchParams,
  body: unknown,
): Promise<OperatorReply> {
  const parts = path.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
  const [resource, id] = parts;
  try {
    switch (`${method} ${resource ?? ''}${id !== undefined ? ' :id' : ''}`) {
      case 'GET ':
        return {
          status: 200,
          body: {
            tables: Object.fromEntries([...state.db.tables.values()].map((t) => [t.name, t.rows.length])),
            sessions: state.sessions.list().length,
            faults: state.getFaults(),
            faultsFired: state.faultsFired(),
            calls: state.calls.count(),
          },
        };
      case 'GET calls': {
        const filter: CallFilter = {};
        const bo = query.get('businessObject');
        if (bo) filter.businessObject = bo;
        const m = query.get('method');
        if (m) filter.method = m;
        const contains = query.get('contains');
        if (contains) filter.contains = contains;
        const since = query.get('sinceSeq');
        if (since) filter.sinceSeq = Number(since);
        const outcome = query.get('outcome');
        if (outcome) filter.outcome = outcome as CallFilter['outcome'];
        return { status: 200, body: { calls: state.calls.list(filter) } };
      }
      case 'DELETE calls':
        state.calls.clear();
        return { status: 204, body: null };
      case 'GET sessions':
        return { status: 200, body: { sessions: state.sessions.list() } };
      case 'DELETE sessions :id':
        return state.sessions.kill(id ?? '')
          ? { status: 204, body: null }
          : { status: 404, body: { error: `no live session ${id}` } };
      case 'POST logon': {
        // A person logging on with the same operator (evicts the service's session).
        const operator = String(asObject(body).operator ?? '').toUpperCase();
        if (!operator) throw new OperatorActionError('operator is required');
        const result = state.sessions.logon(operator);
        return 'error' in result
          ? { status: 409, body: { error: result.error } }
          : { status: 200, body: { userId: result.userId } };
      }
      case 'GET faults':
        return { status: 200, body: state.getFaults() };
      case 'PUT faults': {
        const input = asObject(body);
        const faults = Array.isArray(input.flags)
          ? parseFaultFlags(input.flags.map(String))
          : (input as SysproFaults);
        state.setFaults(faults);
        return { status: 200, body: state.getFaults() };
      }
      case 'DELETE faults':
        state.setFaults({});
        return { status: 204, body: null };
      case 'PUT maintenance': {
        const input = asObject(body);
        const mode = String(input.mode ?? 'off') as MaintenanceMode;
        if (!['off', 'down', 'refuse', 'reset', 'hang'].includes(mode)) {
          throw new OperatorActionError('mode is one of off, down, refuse, reset, hang');
        }
        const forMs = input.forMs === undefined ? undefined : Number(input.forMs);
        if (mode === 'refuse' && forMs === undefined) {
          throw new OperatorActionError('refuse closes this port too: give forMs so it opens again');
        }
        // Answer first: a refusing server cannot reply afterwards.
        setImmediate(() => void state.setMaintenance(mode, forMs));
        return { status: 202, body: { maintenance: mode, forMs: forMs ?? null } };
      }
      case 'DELETE maintenance':
        await state.setMaintenance('off');
        return { status: 204, body: null };
      case 'GET orders :id': {
        const order = state.db.sorMaster.get(id ?? '');
        if (!order) return { status: 404, body: { error: `sales order '${id}' not found` } };
        return { status: 200, body: { order, lines: state.db.linesOf(id ?? '') } };
      }
      case 'POST orders': {
        const input = asObject(body);
        const order = enterOrder(
          state.db,
          {
            customer: String(input.customer ?? ''),
            customerPoNumber:
              input.customerPoNumber === undefined ? undefined : String(input.customerPoNumber),
            status: input.status === undefined ? undefined : String(input.status),
            operator: input.operator === undefined ? undefined : String(input.operator),
            lines: Array.isArray(input.lines)
              ? input.lines.map((l) => {
                  const line = asObject(l);
                  return {
                    stockCode: String(line.stockCode ?? ''),
                    qty: Number(line.qty),
                    price: line.price === undefined ? undefined : Number(line.price),
                    warehouse: line.warehouse === undefined ? undefined : String(line.warehouse),
                  };
                })
              : [],
            freight: input.freight === undefined ? undefined : Number(input.freight),
            comment: input.comment === undefined ? undefined : String(input.comment),
            fields: fieldsOf(input.fields),
          },
          state.now(),
        );
        return { status: 201, body: { salesOrder: order.SalesOrder, order } };
      }
      case 'PATCH orders :id': {
        const input = asObject(body);
        const order = changeOrder(state.db, id ?? '', {
          operator: input.operator === undefined ? undefined : String(input.operator),
          fields: fieldsOf(input.fields),
          lines: Array.isArray(input.lines)
            ? input.lines.map((l) => {
                const line = asObject(l);
                return {
                  line: Number(line.line),
                  qty: line.qty === undefined ? undefined : Number(line.qty),
                  price: line.price === undefined ? undefined : Number(line.price),
                  delete: line.delete === true,
                };
              })
            : [],
        });
        return { status: 200, body: { order } };
      }
      case 'POST customers': {
        const customer = saveCustomer(state.db, undefined, fieldsOf(body), state.now());
        return { status: 201, body: { customer } };
      }
      case 'PATCH customers :id': {
        const customer = saveCustomer(state.db, id, fieldsOf(body), state.now());
        return { status: 200, body: { customer } };
      }
      default:
        return { status: 404, body: { error: `no operator action ${method} ${path}` } };
    }
  } catch (error) {
    if (error instanceof OperatorActionError || error instanceof FaultFlagError) {
      return { status: 400, body: { error: error.message } };
    }
    throw error;
  }
}
