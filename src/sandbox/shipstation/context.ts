/**
 * What the route modules share: the state, the clock, the time rule for filters, the URL the
 * sandbox is reachable at (for webhook `resource_url`s) and the request-body readers (V1 and V2).
 */
import type { FastifyRequest } from 'fastify';
import { modelStateError, unsupportedMediaTypeMessage, V1HttpError, v2Error } from './errors.js';
import type { RenderContext } from './order-model.js';
import type { FilterTimeRule } from './pacific-time.js';
import { bodyMediaType, isJsonMediaType } from './routing.js';
import type { ShipStationState } from './state.js';

export interface SandboxContext {
  state: ShipStationState;
  now(): number;
  filterTimeRule: FilterTimeRule;
  render: RenderContext;
  /** Base URL for webhook `resource_url`s (the sandbox's own URL unless overridden). */
  resourceBaseUrl(): string;
  /** HTTP status for an update of a shipped/cancelled order through `createorder` (default 400). */
  lockedOrderStatusCode: number;
}

/**
 * Reads a JSON body kept raw by the sandbox's content-type parser. A body whose media type is not
 * JSON (`text/plain`, none = `application/octet-stream`, …) is ASP.NET's 415; an empty body is
 * no body (the action's parameter is null). Invalid JSON is the ASP.NET 400 with a Json.NET-like
 * message under the action parameter's name.
 */
export function readJsonBody(request: FastifyRequest, parameter: string): unknown {
  const raw = request.body;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const mediaType = bodyMediaType(request);
  if (!isJsonMediaType(mediaType)) {
    throw new V1HttpError(415, { Message: unsupportedMediaTypeMessage(mediaType) });
  }
  if (typeof raw === 'string' && raw.trim() === '') return undefined;
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw modelStateError({
      [parameter]: [`Unexpected character encountered while parsing value. ${detail}`],
    });
  }
}

/**
 * Reads a V2 JSON object body (kept raw by the content-type parser): a non-JSON media type is 415,
 * invalid JSON or anything but an object is 400, all in the V2 error shape.
 */
export function readV2JsonBody(request: FastifyRequest): Record<string, unknown> {
  const raw = request.body;
  if (raw !== undefined && raw !== null && raw !== '') {
    const mediaType = bodyMediaType(request);
    if (!isJsonMediaType(mediaType)) {
      throw v2Error(
        415,
        'validation',
        'unspecified',
        `${unsupportedMediaTypeMessage(mediaType)} Send application/json.`,
      );
    }
  }
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = raw.trim() === '' ? undefined : JSON.parse(raw);
    } catch {
      throw v2Error(400, 'validation', 'invalid_field_value', 'The request body is not valid JSON.');
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw v2Error(400, 'validation', 'field_value_required', 'A JSON object body is required.');
  }
  return value as Record<string, unknown>;
}
