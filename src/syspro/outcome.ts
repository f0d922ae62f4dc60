/**
 * What a business object said about its items, read from any XmlOut. SYSPRO reports problems in
 * three ways, all with HTTP 200 (reference §1.3, pitfall 1):
 *  - the failing element replaced by `<X><Value/><ErrorNumber/><ErrorDescription/></X>`;
 *  - `<ErrorMessages>` / `<WarningMessages><WarningDescription>` blocks;
 *  - counts in `<StatusOfItems>` (`RecordsInvalid`, `ItemsInvalid`, `ItemsRejectedWithWarnings`) and
 *    `<ValidationStatus><Status>Failed</Status>` after a Validate run.
 */
import { textOf, type XmlNode, type XmlValue } from './xml.js';

export interface ItemProblem {
  /** Where in the XmlOut, e.g. `Item[1].Key.StockCode`. */
  path: string;
  /** The element that failed, e.g. `StockCode`. */
  field: string;
  /** The value SYSPRO rejected, when it echoes one. */
  value?: string;
  /** SYSPRO's error number, e.g. `240004`. */
  number?: string;
  description: string;
}

export interface Outcome {
  errors: ItemProblem[];
  warnings: ItemProblem[];
  /** `StatusOfItems` counts by element name (`ItemsProcessed`, `RecordsInvalid`, …), trimmed to numbers. */
  status: Record<string, number>;
  /** `ValidationStatus/Status` after a Validate run (`Successful` or `Failed`). */
  validationStatus?: string;
  /** True when any of the three signals reports a failure. */
  failed: boolean;
}

const ERROR_TEXT_ELEMENTS = new Set(['errormessage', 'errordescription', 'error']);
const WARNING_TEXT_ELEMENTS = new Set(['warningdescription', 'warningmessage', 'warning']);
const FAILURE_COUNTS = ['recordsinvalid', 'itemsinvalid', 'itemsrejectedwithwarnings', 'linesinvalid'];

function isNode(value: XmlValue | undefined): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function entries(node: XmlNode): [string, XmlValue][] {
  return Object.entries(node).filter(([k]) => !k.startsWith('@') && k !== '#text');
}

function get(node: XmlNode, lowerName: string): XmlValue | undefined {
  const key = Object.keys(node).find((k) => k.toLowerCase() === lowerName);
  return key === undefined ? undefined : node[key];
}

function valueText(value: XmlValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value.trim();
  if (Array.isArray(value)) return valueText(value[0]);
  return textOf(value)?.trim();
}

/** Reads errors, warnings and status counts from the root node of an XmlOut. */
export function readOutcome(root: XmlNode): Outcome {
  const errors: ItemProblem[] = [];
  const warnings: ItemProblem[] = [];
  const status: Record<string, number> = {};
  let validationStatus: string | undefined;

  const visit = (node: XmlNode, path: string, name: string) => {
    const errorNumber = get(node, 'errornumber');
    const errorDescription = get(node, 'errordescription');
    if (errorNumber !== undefined || (errorDescription !== undefined && get(node, 'value') !== undefined)) {
      // The `<X><Value/><ErrorNumber/><ErrorDescription/></X>` group.
      errors.push({
        path,
        field: name,
        value: valueText(get(node, 'value')),
        number: valueText(errorNumber),
        description: valueText(errorDescription) ?? `error ${valueText(errorNumber) ?? ''}`.trim(),
      });
      return;
    }
    for (const [key, value] of entries(node)) {
      const lower = key.toLowerCase();
      const items = Array.isArray(value) ? value : [value];
      items.forEach((item, index) => {
        const childPath = `${path ? `${path}.` : ''}${key}${items.length > 1 ? `[${index}]` : ''}`;
        if (lower === 'statusofitems' && isNode(item)) {
          for (const [countName, countValue] of entries(item)) {
            const n = Number((valueText(countValue) ?? '').replace(/,/g, ''));
            if (Number.isFinite(n)) status[countName] = n;
          }
          return;
        }
        if (lower === 'validationstatus' && isNode(item)) {
          validationStatus = valueText(get(item, 'status'));
          return;
        }
        const itemText = valueText(item);
        if (ERROR_TEXT_ELEMENTS.has(lower) && itemText) {
          errors.push({ path: childPath, field: name, description: itemText });
          return;
        }
        if (WARNING_TEXT_ELEMENTS.has(lower) && itemText) {
          warnings.push({ path: childPath, field: name, description: itemText });
          return;
        }
        if (isNode(item)) visit(item, childPath, key);
      });
    }
  };
  visit(root, '', '');

  const counts = Object.entries(status).filter(([k]) => FAILURE_COUNTS.includes(k.toLowerCase()));
  const failed =
    errors.length > 0 || counts.some(([, n]) => n > 0) || validationStatus?.toLowerCase() === 'failed';
  return { errors, warnings, status, validationStatus, failed };
}

/** A one-line summary of the first errors, for messages. */
export function describeProblems(problems: readonly ItemProblem[], max = 3): string {
  const shown = problems.slice(0, max).map((p) => {
    const where = p.field ? `${p.field}${p.value ? ` '${p.value}'` : ''}: ` : '';
    return `${where}${p.description}${p.number ? ` (${p.number})` : ''}`;
  });
  const more = problems.length > max ? ` and ${problems.length - max} more` : '';
  return shown.join('; ') + more;
}
