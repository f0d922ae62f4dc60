/**
 * COMSFM — custom form fields (`Setup/Add` and `Setup/Update`, reference §2.4 option 3; the XmlIn
 * is on the wire: `<SetupCustomForm><Item><Key><FormType/><KeyField/><FieldName/></Key><AlphaValue/>`).
 * The FormType code for sales orders and dispatch notes is UNCONFIRMED: the caller passes it (the
 * connection's configuration holds it). Setup outputs are often lower-case; parsing ignores case.
 */
import type { EnetSession } from '../enet-client.js';
import { buildXml, schemaAttributes } from '../xml.js';
import { type BusinessObjectResult, type PostOptions, readXmlOut, yn } from './common.js';

export const COMSFM = 'COMSFM';

export interface CustomFormFieldInput {
  formType: string;
  /** The key of the record the form belongs to (sales order number, dispatch note, …). */
  keyField: string;
  fieldName: string;
  alphaValue?: string;
  numericValue?: number;
  /** CCYY-MM-DD. */
  dateValue?: string;
}

export interface CustomFormOptions extends PostOptions {
  /** `add` (Setup/Add), `update` (Setup/Update); default `add`. */
  mode?: 'add' | 'update';
}

export type CustomFormResult = BusinessObjectResult & { validateOnly: boolean };

export function buildCustomFormParameters(options: CustomFormOptions = {}): string {
  return buildXml(
    'SetupCustomForm',
    {
      Parameters: {
        ValidateOnly: yn(options.validateOnly ?? false),
        IgnoreWarnings: options.ignoreWarnings ?? 'W',
        ApplyIfEntireDocumentValid: 'Y',
      },
    },
    { attributes: schemaAttributes('COMSFM.XSD') },
  );
}

export function buildCustomFormFields(fields: readonly CustomFormFieldInput[]): string {
  return buildXml(
    'SetupCustomForm',
    {
      Item: fields.map((f) => ({
        Key: { FormType: f.formType, KeyField: f.keyField, FieldName: f.fieldName },
        AlphaValue: f.alphaValue,
        NumericValue: f.numericValue,
        DateValue: f.dateValue,
      })),
    },
    { attributes: schemaAttributes('COMSFMDOC.XSD') },
  );
}

export function parseCustomFormOutput(xmlOut: string, validateOnly = false): CustomFormResult {
  const { outcome } = readXmlOut(COMSFM, xmlOut);
  return { outcome, validateOnly };
}

/** Sets custom form fields (e.g. the tracking number on a sales order). */
export async function setCustomFormFields(
  session: Pick<EnetSession, 'setupAdd' | 'setupUpdate'>,
  fields: readonly CustomFormFieldInput[],
  options: CustomFormOptions = {},
): Promise<CustomFormResult> {
  const parameters = buildCustomFormParameters(options);
  const xmlIn = buildCustomFormFields(fields);
  const xmlOut =
    options.mode === 'update'
      ? await session.setupUpdate(COMSFM, parameters, xmlIn)
      : await session.setupAdd(COMSFM, parameters, xmlIn);
  return parseCustomFormOutput(xmlOut, options.validateOnly ?? false);
}
