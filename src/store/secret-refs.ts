/** The secret references a connection's configuration makes, e.g. `shipstation.apiSecret`. */
import type { ConnectionConfig, SecretRef } from '../config/schema.js';

export interface SecretUse {
  /** Where in the connection the reference sits, e.g. `shipstation.apiSecret`. */
  field: string;
  /** The referenced secret name. */
  name: string;
}

export function secretReferences(connection: ConnectionConfig): SecretUse[] {
  const out: SecretUse[] = [];
  const visit = (value: unknown, path: string) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const ref = value as Partial<SecretRef>;
      if (typeof ref.secret === 'string' && Object.keys(value).length === 1) {
        out.push({ field: path, name: ref.secret });
        return;
      }
      for (const [key, child] of Object.entries(value)) visit(child, path ? `${path}.${key}` : key);
    }
  };
  visit({ syspro: connection.syspro, shipstation: connection.shipstation, api: connection.api }, '');
  return out;
}
