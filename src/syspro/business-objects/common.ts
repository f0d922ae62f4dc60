/**
 * What every business-object module shares: reading the root of an XmlOut with its outcome, turning
 * an outcome with errors into a `SysproError`, and Y/N flags.
 */
import { OPERATOR_ADVICE, SysproError } from '../errors.js';
import { describeProblems, type Outcome, readOutcome } from '../outcome.js';
import { parseXml, rootOf, type XmlNode } from '../xml.js';

/** Every typed result carries the business object's own report on its items. */
export interface BusinessObjectResult {
  outcome: Outcome;
}

/** `Y`/`N`, or `undefined` (element left out) when the flag is not given. */
export function yn(flag: boolean | undefined): 'Y' | 'N' | undefined {
  return flag === undefined ? undefined : flag ? 'Y' : 'N';
}

/** Parses an XmlOut and reads its outcome; a body that is not XML is a `bad-response` error. */
export function readXmlOut(
  businessObject: string,
  xmlOut: string,
): { root: XmlNode; name: string; outcome: Outcome } {
  let doc: XmlNode;
  try {
    doc = parseXml(xmlOut);
  } catch (error) {
    throw new SysproError(
      'bad-response',
      `SYSPRO ${businessObject} returned something that is not XmlOut (${(error as Error).message}) — ${OPERATOR_ADVICE['bad-response']}`,
      { businessObject, cause: error },
    );
  }
  const { name, node } = rootOf(doc);
  return { root: node, name, outcome: readOutcome(node) };
}

/**
 * Throws a `business-object` error when the outcome reports a failure (for flows that treat any item
 * error as fatal). `subject` names what was being written, e.g. `sales order 015562`.
 */
export function assertSucceeded(businessObject: string, subject: string, result: BusinessObjectResult): void {
  const { outcome } = result;
  if (!outcome.failed) return;
  const counts = Object.entries(outcome.status)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const detail =
    outcome.errors.length > 0
      ? describeProblems(outcome.errors)
      : outcome.validationStatus
        ? `validation ${outcome.validationStatus}${counts ? ` (${counts})` : ''}`
        : counts || 'reported a failure';
  throw new SysproError('business-object', `SYSPRO ${businessObject} failed for ${subject}: ${detail}`, {
    businessObject,
    sysproMessage: detail,
    itemErrors: outcome.errors.map((e) => ({
      field: e.field,
      number: e.number,
      description: e.description,
      value: e.value,
    })),
  });
}

/** Options every posting business object takes. */
export interface PostOptions {
  /** Dry run: SYSPRO validates and reports errors without writing (`ValidateOnly=Y` or `Process=Validate`). */
  validateOnly?: boolean;
  /** `IgnoreWarnings`: N = warnings are errors, Y = ignored, W = returned as warnings. Default W. */
  ignoreWarnings?: 'N' | 'Y' | 'W';
}

/** An `ERROR…` answer of a query object that only says the key does not exist. */
export function isNotFoundError(error: unknown): error is SysproError {
  return (
    error instanceof SysproError &&
    error.kind === 'enet-error' &&
    /not found|does not exist|not on file/i.test(error.sysproMessage ?? '')
  );
}

/** The outcome of a query that found nothing. */
export function notFoundOutcome(error: SysproError): Outcome {
  const description = error.sysproMessage?.replace(/^ERROR:?\s*/i, '') ?? 'not found';
  return { errors: [{ path: '', field: '', description }], warnings: [], status: {}, failed: true };
}
