/**
 * Checks, for `ml-connector ping`, that the operator may use a business object, without changing
 * anything: a query object gets a query for a key that cannot exist; a transaction or setup object
 * gets an empty document with `ValidateOnly=Y` (and `Process=Validate`, which SORTOI uses instead).
 * Any answer but `e.net exception raised: 100000` means the object is there and licensed; a
 * business error about the empty document is expected.
 */
import type { EnetSession } from './enet-client.js';
import { isSysproError, type SysproError } from './errors.js';
import { buildXml } from './xml.js';

export interface BusinessObjectProbe {
  businessObject: string;
  available: boolean;
  /** Why not, when `available` is false (unlicensed, or the call itself failed). */
  error?: SysproError;
}

const PROBE_KEY = '~ml-connector-probe~';

/** Probes each business object in turn through one session. Errors other than "unavailable" rethrow. */
export async function probeBusinessObjects(
  session: EnetSession,
  businessObjects: readonly string[],
): Promise<BusinessObjectProbe[]> {
  const results: BusinessObjectProbe[] = [];
  for (const name of businessObjects) {
    const bo = name.toUpperCase();
    try {
      const kind = bo.charAt(3);
      if (kind === 'Q') {
        await session.query(bo, buildXml('Query', { Key: { [keyElementOf(bo)]: PROBE_KEY } }));
      } else {
        const parameters = buildXml('Parameters', {
          Parameters: { ValidateOnly: 'Y', Process: 'Validate', ApplyIfEntireDocumentValid: 'Y' },
        });
        const xmlIn = buildXml('Probe', {});
        if (kind === 'S') await session.setupAdd(bo, parameters, xmlIn);
        else await session.post(bo, parameters, xmlIn);
      }
      results.push({ businessObject: bo, available: true });
    } catch (error) {
      if (isSysproError(error, 'business-object-unavailable')) {
        results.push({ businessObject: bo, available: false, error });
      } else if (isSysproError(error, 'enet-error') || isSysproError(error, 'bad-response')) {
        // SYSPRO ran the object and complained about the probe's document: it is there.
        results.push({ businessObject: bo, available: true });
      } else {
        throw error;
      }
    }
  }
  return results;
}

function keyElementOf(bo: string): string {
  switch (bo) {
    case 'SORQRY':
      return 'SalesOrder';
    case 'SORQDN':
      return 'DispatchNote';
    case 'INVQRY':
      return 'StockCode';
    default:
      return 'Key';
  }
}
