/**
 * COMSFM, custom form fields (Setup/Add and Setup/Update; reference §2.4 option 3). Values live
 * in AdmFormData by FormType, KeyField and FieldName; fields must be defined in AdmFormControl.
 * FormType codes (ORD sales order, DNO dispatch note, CUS customer) are UNCONFIRMED. Both Add and
 * Update set the value whether or not one exists (UNCONFIRMED). Setup output is lower-case.
 */
import { ADM_FORM_DATA_DEFAULTS, formatPaddedKey } from '../tables.js';
import { fitColumn } from '../text.js';
import {
  buildXmlOut,
  child,
  children,
  type Element,
  el,
  flagOf,
  group,
  isSysproDate,
  parseSysproNumber,
  textOf,
} from '../xml.js';
import {
  type BusinessObject,
  type BusinessObjectContext,
  type ElementError,
  ERRORS,
  findSalesOrder,
  setupStatus,
  toErrorElements,
} from './common.js';

function resolveKey(ctx: BusinessObjectContext, formType: string, keyField: string): string | undefined {
  switch (formType) {
    case 'ORD':
      return findSalesOrder(ctx.db, keyField)?.SalesOrder as string | undefined;
    case 'DNO': {
      const key = /^\d+$/.test(keyField) ? formatPaddedKey(Number(keyField)) : keyField;
      return ctx.db.mdnMaster.get(key) ? key : undefined;
    }
    case 'CUS':
      return ctx.db.arCustomer.get(keyField) ? keyField : undefined;
    default:
      return keyField;
  }
}

export const comsfm: BusinessObject = {
  name: 'COMSFM',
  methods: ['Setup/Add', 'Setup/Update'],
  handle(ctx, { xmlParameters, xmlIn }) {
    const p = child(xmlParameters, 'Parameters') ?? xmlParameters;
    const validateOnly = flagOf(p, 'ValidateOnly', false);
    const out: Element[] = [];
    let invalid = 0;
    const items = children(xmlIn, 'Item');
    for (const item of items) {
      const key = child(item, 'Key');
      const formType = textOf(key, 'FormType').toUpperCase();
      const keyField = textOf(key, 'KeyField');
      const fieldName = textOf(key, 'FieldName').toUpperCase();
      const errors: ElementError[] = [];
      const definition = ctx.db.admFormControl.get(formType, fieldName);
      if (!definition) {
        errors.push({
          element: 'fieldname',
          value: fieldName,
          number: ERRORS.notFound,
          description: `Custom form field '${fieldName}' is not defined for form type '${formType}'`,
        });
      }
      const resolved = keyField ? resolveKey(ctx, formType, keyField) : undefined;
      if (!resolved) {
        errors.push({
          element: 'keyfield',
          value: keyField,
          number: keyField ? ERRORS.notFound : ERRORS.blank,
          description: keyField
            ? `Key '${keyField}' not found for form type '${formType}'`
            : "XML element '{Key}{KeyField}' cannot be spaces",
        });
      }
      const alpha = textOf(item, 'AlphaValue');
      const numericText = textOf(item, 'NumericValue');
      const date = textOf(item, 'DateValue');
      const numeric = numericText ? parseSysproNumber(numericText) : 0;
      if (definition?.FieldType === 'N' && numeric === undefined) {
        errors.push({
          element: 'numericvalue',
          value: numericText,
          number: ERRORS.notNumeric,
          description: `Value '${numericText}' for XML element 'NumericValue' is not numeric`,
        });
      }
      if (definition?.FieldType === 'D' && date && !isSysproDate(date)) {
        errors.push({
          element: 'datevalue',
          value: date,
          number: ERRORS.badDate,
          description: `Date '${date}' is invalid for XML element 'DateValue' it must be CCYY-MM-DD format`,
        });
      }
      if (errors.length) invalid++;
      else if (!validateOnly && resolved) {
        const existing = ctx.db.admFormData.get(formType, resolved, fieldName);
        const row = existing ?? {
          ...ADM_FORM_DATA_DEFAULTS,
          FormType: formType,
          KeyField: resolved,
          FieldName: fieldName,
        };
        row.AlphaValue = fitColumn(alpha, 60);
        row.NumericValue = numeric ?? 0;
        row.DateValue = date || null;
        ctx.db.touch(row);
        if (!existing) ctx.db.admFormData.insert(row);
      }
      out.push(
        group('item', [
          group('key', [el('formtype', formType), el('keyfield', keyField), el('fieldname', fieldName)]),
          ...toErrorElements(errors),
        ]),
      );
    }
    out.push(setupStatus(items.length, invalid));
    return {
      body: buildXmlOut({ name: 'setupcustomform', version: '8.0.001' }, out),
      outcome: invalid ? 'invalid' : 'ok',
      validateOnly,
    };
  },
};
