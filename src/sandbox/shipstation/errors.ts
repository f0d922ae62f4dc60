/**
 * Error bodies as ShipStation sends them. V1 runs on ASP.NET Web API (reference §2), V2 uses the
 * ShipEngine-style `{request_id, errors[]}` body (reference §5).
 */
import { randomUUID } from 'node:crypto';

export type ModelState = Record<string, string[]>;

/** A V1 error that a route throws; the error handler turns it into the ASP.NET body. */
export class V1HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body.Message === 'string' ? body.Message : `HTTP ${statusCode}`);
  }
}

/** 400 `{"Message":"The request is invalid.","ModelState":{…}}` (observed, reference §2). */
export function modelStateError(modelState: ModelState): V1HttpError {
  return new V1HttpError(400, { Message: 'The request is invalid.', ModelState: modelState });
}

/** 400 with a plain `Message` (business-rule refusals; exact production text UNCONFIRMED). */
export function badRequest(message: string): V1HttpError {
  return new V1HttpError(400, { Message: message });
}

/** 404 for an unknown resource id (production body UNCONFIRMED; we send an ASP.NET `Message`). */
export function notFound(message: string): V1HttpError {
  return new V1HttpError(404, { Message: message });
}

/**
 * 415 when the body's media type has no formatter: ASP.NET Web API's text (the reference is silent
 * on bodies that are not JSON; docs/decisions.md).
 */
export function unsupportedMediaTypeMessage(mediaType: string): string {
  return `The request entity's media type '${mediaType}' is not supported for this resource.`;
}

/** 405 for a known path with another method: ASP.NET Web API's text (reference §1.1 lists 405). */
export function methodNotAllowedMessage(method: string): string {
  return `The requested resource does not support http method '${method}'.`;
}

/**
 * Thrown by a route whose parameter does not fit (e.g. `GET /orders/createorder` reaching
 * `/orders/:orderId`): answered as if no route matched, i.e. 405 or 404.
 */
export class NoRouteError extends Error {
  constructor() {
    super('no route');
  }
}

/**
 * 500 `{"Message":"An error has occurred.","ExceptionMessage":…}` (observed). `ExceptionType` and
 * `StackTrace` follow the Web API convention (UNCONFIRMED in the reference).
 */
export function internalErrorBody(
  exceptionMessage = 'Object reference not set to an instance of an object.',
): Record<string, unknown> {
  return {
    Message: 'An error has occurred.',
    ExceptionMessage: exceptionMessage,
    ExceptionType: 'System.NullReferenceException',
    StackTrace: null,
  };
}

/** 401 body: ASP.NET's default text (UNCONFIRMED, reference §8.1). */
export const UNAUTHORIZED_BODY = { Message: 'Authorization has been denied for this request.' };

/** 429 body of V1 (documented, reference §2). */
export const TOO_MANY_REQUESTS_BODY = { message: 'Too Many Requests' };

export type V2ErrorType =
  | 'account_status'
  | 'business_rules'
  | 'validation'
  | 'security'
  | 'system'
  | 'integrations';

export interface V2ErrorItem {
  error_source: string;
  error_type: V2ErrorType;
  error_code: string;
  message: string;
  field_name?: string;
}

/** A V2 error that a route throws; the error handler sends `{request_id, errors:[…]}`. */
export class V2HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errors: V2ErrorItem[],
  ) {
    super(errors.map((e) => e.message).join('; '));
  }
}

export function v2Error(
  statusCode: number,
  errorType: V2ErrorType,
  errorCode: string,
  message: string,
  fieldName?: string,
): V2HttpError {
  const item: V2ErrorItem = {
    error_source: 'shipstation',
    error_type: errorType,
    error_code: errorCode,
    message,
  };
  if (fieldName) item.field_name = fieldName;
  return new V2HttpError(statusCode, [item]);
}

export function v2ErrorBody(errors: V2ErrorItem[]): { request_id: string; errors: V2ErrorItem[] } {
  return { request_id: randomUUID(), errors };
}

/** Error body of the `/_sandbox/` control endpoints (not ShipStation API). */
export function sandboxErrorBody(message: string): { error: string } {
  return { error: message };
}
