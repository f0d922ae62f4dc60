/**
 * Reads a JSON request body the way ASP.NET Web API with Json.NET binds it: property names match
 * case-insensitively, unknown properties are dropped, primitives convert where Json.NET converts
 * them ("12.5" -> 12.5, "true" -> true, 12 -> "12"), and a value that cannot convert becomes a
 * `ModelState` entry keyed by its path (`order.items[0].quantity`). Datetimes are read as Pacific
 * wall-clock (offsets dropped, reference §3) and kept as instants.
 */
import type { ModelState } from './errors.js';
import { pacificToInstant } from './pacific-time.js';

export type FieldKind = 'string' | 'number' | 'int' | 'bool' | 'datetime';
export type FieldSpec = FieldKind | { object: ObjectSpec } | { array: FieldSpec; typeName: string };

export interface ObjectSpec {
  /** .NET type name used in Json.NET messages. */
  typeName: string;
  fields: Record<string, FieldSpec>;
}

export type JsonDoc = { [key: string]: unknown };

const indexCache = new WeakMap<ObjectSpec, Map<string, string>>();

function fieldIndex(spec: ObjectSpec): Map<string, string> {
  let index = indexCache.get(spec);
  if (!index) {
    index = new Map(Object.keys(spec.fields).map((k) => [k.toLowerCase(), k]));
    indexCache.set(spec, index);
  }
  return index;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}

function typeNameOf(spec: FieldSpec): string {
  if (typeof spec === 'string') {
    return {
      string: 'System.String',
      number: 'System.Decimal',
      int: 'System.Int32',
      bool: 'System.Boolean',
      datetime: 'System.DateTime',
    }[spec];
  }
  return 'object' in spec ? spec.object.typeName : spec.typeName;
}

function addError(errors: ModelState, path: string, message: string): undefined {
  const list = errors[path] ?? [];
  list.push(message);
  errors[path] = list;
  return undefined;
}

export function bindValue(value: unknown, spec: FieldSpec, path: string, errors: ModelState): unknown {
  if (value === null || value === undefined) return null;
  const fail = (message: string) => addError(errors, path, message);
  if (typeof spec === 'object' && 'object' in spec) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      return fail(
        `Error converting value ${describe(value)} to type '${spec.object.typeName}'. Path '${path}'.`,
      );
    }
    return bindObject(value as JsonDoc, spec.object, path, errors);
  }
  if (typeof spec === 'object') {
    if (!Array.isArray(value)) {
      return fail(
        `Cannot deserialize the current JSON ${typeof value === 'object' ? 'object' : 'value'} into type '${spec.typeName}' because the type requires a JSON array (e.g. [1,2,3]) to deserialize correctly. Path '${path}'.`,
      );
    }
    return value.map((item, i) => bindValue(item, spec.array, `${path}[${i}]`, errors));
  }
  if (typeof value === 'object') {
    return fail(
      `Unexpected character encountered while parsing value: ${Array.isArray(value) ? '[' : '{'}. Path '${path}'.`,
    );
  }
  switch (spec) {
    case 'string':
      return String(value);
    case 'number': {
      const n = jsonNumber(value);
      return Number.isFinite(n)
        ? n
        : fail(`Could not convert string to decimal: ${describe(value)}. Path '${path}'.`);
    }
    case 'int': {
      const n = jsonNumber(value);
      return Number.isInteger(n)
        ? n
        : fail(`Could not convert to integer: ${describe(value)}. Path '${path}'.`);
    }
    case 'bool': {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      return fail(`Could not convert string to boolean: ${describe(value)}. Path '${path}'.`);
    }
    case 'datetime': {
      const ms = typeof value === 'string' ? pacificToInstant(value, 'earlier') : undefined;
      return ms ?? fail(`Could not convert string to DateTime: ${describe(value)}. Path '${path}'.`);
    }
  }
  return fail(`Unsupported value for ${typeNameOf(spec)}. Path '${path}'.`);
}

export function bindObject(value: JsonDoc, spec: ObjectSpec, path: string, errors: ModelState): JsonDoc {
  const index = fieldIndex(spec);
  const out: JsonDoc = {};
  for (const [key, raw] of Object.entries(value)) {
    const name = index.get(key.toLowerCase());
    if (!name) continue;
    const fieldSpec = spec.fields[name];
    if (!fieldSpec) continue;
    const bound = bindValue(raw, fieldSpec, path ? `${path}.${name}` : name, errors);
    if (bound !== undefined) out[name] = bound;
  }
  return out;
}

/** A number as Json.NET reads one: a JSON number or a numeric string; anything else is NaN. */
function jsonNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
}
