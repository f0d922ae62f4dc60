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

/**
 * The business objects that change SYSPRO. An answer to one of them that cannot be read came back
 * after SYSPRO had the post (HTTP 200): it may have been carried out, so the failure is in doubt
 * (checked against SYSPRO before anything is posted again), never `rejected`.
 */
const POSTING_OBJECTS = new Set(['SORTDN', 'SORTOI', 'SORTOS', 'COMSFM', 'GENTJL']);

function unreadable(businessObject: string, reason: string, cause?: unknown): SysproError {
  const posting = POSTING_OBJECTS.has(businessObject);
  return new SysproError(
    'bad-response',
    `SYSPRO ${businessObject} returned something that is not XmlOut (${reason}) — ${OPERATOR_ADVICE['bad-response']}${
      posting ? ' — the post may have been carried out: check SYSPRO before posting it again' : ''
    }`,
    { businessObject, cause, ...(posting ? { delivery: 'in-doubt' as const, retryable: false } : {}) },
  );
}

/**
 * Parses an XmlOut and reads its outcome; a body that is not XML, or is an HTML page (an IIS or
 * ASP.NET error page, a proxy's login form: well-formed XHTML parses), is a `bad-response` error.
 */
export function readXmlOut(
  businessObject: string,
  xmlOut: string,
): { root: XmlNode; name: string; outcome: Outcome } {
  let doc: XmlNode;
  try {
    doc = parseXml(xmlOut);
  } catch (error) {
    throw unreadable(businessObject, (error as Error).message, error);
  }
  const { name, node } = rootOf(doc);
  if (name.toLowerCase() === 'html') {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(xmlOut)?.[1]?.replace(/\s+/g, ' ').trim();
    throw unreadable(businessObject, `an HTML page${title ? `: "${title.slice(0, 120)}"` : ''}`);
  }
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
