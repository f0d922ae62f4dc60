/**
 * SORQRY, sales order query (reference §2.2): flat header fields under `<SorDetail>`, then one
 * `<SalesOrderLine>` container with `<Merchandise>`, `<Freight>`, `<MiscCharge>`, `<CommentLine>`
 * children (left out when no line is written). The line element names are UNCONFIRMED: they mirror the SorDetail columns, and this
 * file is the one place to change them.
 */
import type { Row } from '../tables.js';
import {
  buildXmlOut,
  child,
  type Element,
  editedNumber,
  el,
  flagOf,
  group,
  padNumber,
  textOf,
} from '../xml.js';
import {
  type BusinessObject,
  type BusinessObjectContext,
  EnetError,
  findSalesOrder,
  ORDER_STATUS_DESCRIPTIONS,
} from './common.js';

function headerElements(order: Row, customer: Row | undefined): Element[] {
  const s = (name: string) => el(name, order[name]);
  return [
    s('SalesOrder'),
    s('DocumentType'),
    s('Customer'),
    s('CustomerName'),
    s('CustomerPoNumber'),
    s('OrderDate'),
    el('ReqShipDate', order.ReqShipDate),
    s('OrderStatus'),
    el('OrderStatusDesc', ORDER_STATUS_DESCRIPTIONS[order.OrderStatus as string] ?? ''),
    s('Salesperson'),
    el('SALSLS:Name', order.Salesperson ? `Salesperson ${order.Salesperson}` : ''),
    s('Branch'),
    s('Area'),
    el('SALARE:Description', order.Area ? `Area ${order.Area}` : ''),
    el('SoldToName', customer?.Name ?? order.CustomerName),
    el('SoldAddr1', customer?.SoldToAddr1 ?? ''),
    el('SoldAddr2', customer?.SoldToAddr2 ?? ''),
    el('SoldAddr3', customer?.SoldToAddr3 ?? ''),
    el('SoldAddr3Locality', customer?.SoldToAddr3Loc ?? ''),
    el('SoldAddr4', customer?.SoldToAddr4 ?? ''),
    el('SoldAddr5', customer?.SoldToAddr5 ?? ''),
    el('SoldPostalCode', customer?.SoldPostalCode ?? ''),
    s('ShipAddress1'),
    s('ShipAddress2'),
    s('ShipAddress3'),
    el('ShipAddress3Locality', order.ShipAddress3Loc),
    s('ShipAddress4'),
    s('ShipAddress5'),
    s('ShipPostalCode'),
    s('State'),
    s('CountyZip'),
    s('Email'),
    s('ShippingInstrs'),
    s('ShippingInstrsCod'),
    s('SpecialInstrs'),
    s('DeliveryNote'),
    s('LastDelNote'),
    // Written `00` as in public SORQRY samples; the sandbox keeps no delivery-note print time.
    el('TimeDelPrtedHh', '00'),
    el('TimeDelPrtedMm', '00'),
    s('LastInvoice'),
    s('DateLastInvPrt'),
    s('DispatchesMade'),
    s('LiveDispExist'),
    el('NumDispatches', padNumber(order.NumDispatches as number, 0, 6)),
    s('Currency'),
    s('LastOperator'),
    s('Operator'),
    s('WebCreated'),
    el('HeaderText', ''),
    el('HeaderNotes', ''),
    group('Commissions', [el('Salesperson1', order.Salesperson), el('CommissionPct1', padNumber(0, 2, 8))]),
  ];
}

interface LineOptions {
  stocked: boolean;
  nonStocked: boolean;
  freight: boolean;
  misc: boolean;
  comment: boolean;
  completed: boolean;
  values: boolean;
  shipDate: boolean;
}

function lineElements(ctx: BusinessObjectContext, line: Row, options: LineOptions): Element | undefined {
  const type = line.LineType as string;
  const lineNumber = el('SalesOrderLine', padNumber(line.SalesOrderLine as number, 0, 4));
  if (type === '1' || type === '7') {
    if (type === '1' && !options.stocked) return undefined;
    if (type === '7' && !options.nonStocked) return undefined;
    const outstanding = (line.MOrderQty as number) - (line.MQtyDispatched as number);
    if (!options.completed && outstanding <= 0) return undefined;
    const qty = (name: string) => el(name, padNumber(line[name] as number, 6));
    const orderQty = ctx.quirks.sorqryQtyWithUom
      ? `${editedNumber(line.MOrderQty as number, 3)} ${line.MOrderUom}`
      : padNumber(line.MOrderQty as number, 6);
    const items: Element[] = [
      lineNumber,
      el('LineType', type),
      el('NonStocked', type === '7' ? 'Y' : 'N'),
      el('MStockCode', line.MStockCode),
      el('MStockDes', line.MStockDes),
      el('MWarehouse', line.MWarehouse),
      el('MBin', line.MBin),
      el('MOrderQty', orderQty),
      qty('MShipQty'),
      qty('MBackOrderQty'),
      qty('MQtyDispatched'),
      el('Edited_MShipQty', editedNumber(line.MShipQty as number, 3)),
      el('MOrderUom', line.MOrderUom),
      el('MPrice', padNumber(line.MPrice as number, 5)),
      el('MPriceUom', line.MPriceUom),
      el('MDiscPct1', padNumber(line.MDiscPct1 as number, 2, 8)),
      el('MProductClass', line.MProductClass),
      el('MTaxCode', line.MTaxCode),
      el('MLastDelNote', line.MLastDelNote),
      el('MStockUnitMass', padNumber(line.MStockUnitMass as number, 6)),
    ];
    if (options.shipDate) items.push(el('MLineShipDate', line.MLineShipDate));
    if (options.values) {
      const value =
        (line.MOrderQty as number) * (line.MPrice as number) * (1 - (line.MDiscPct1 as number) / 100);
      items.push(el('MLineValue', padNumber(value, 2)), el('Edited_MLineValue', editedNumber(value, 2)));
    }
    return group('Merchandise', items);
  }
  if (type === '4' || type === '5') {
    if ((type === '4' && !options.freight) || (type === '5' && !options.misc)) return undefined;
    return group(type === '4' ? 'Freight' : 'MiscCharge', [
      lineNumber,
      el('LineType', type),
      el('NMscDescription', line.MStockDes),
      el('NMscChargeValue', padNumber(line.NMscChargeValue as number, 2)),
      el('NMscChargeCost', padNumber(line.NMscChargeCost as number, 2)),
      el('NMscProductCls', line.NMscProductCls),
      el('NMscChargeQty', padNumber(line.NMscChargeQty as number, 6)),
    ]);
  }
  if (type === '6') {
    if (!options.comment) return undefined;
    return group('CommentLine', [
      lineNumber,
      el('LineType', type),
      el('NComment', line.NComment),
      el('NCommentFromLin', padNumber(line.NCommentFromLin as number, 0, 4)),
    ]);
  }
  return undefined;
}

export const sorqry: BusinessObject = {
  name: 'SORQRY',
  methods: ['Query/Query'],
  handle(ctx, { xmlIn }) {
    const key = child(xmlIn, 'Key');
    const requested = textOf(key, 'SalesOrder');
    if (!requested) throw new EnetError("XML element '{Key}{SalesOrder}' cannot be spaces");
    const order = findSalesOrder(ctx.db, requested);
    if (!order) throw new EnetError(`Sales order '${requested}' not found`);
    const option = child(xmlIn, 'Option');
    const options: LineOptions = {
      stocked: flagOf(option, 'IncludeStockedLines', true),
      nonStocked: flagOf(option, 'IncludeNonStockedLines', true),
      freight: flagOf(option, 'IncludeFreightLines', true),
      misc: flagOf(option, 'IncludeMiscLines', true),
      comment: flagOf(option, 'IncludeCommentLines', true),
      completed: flagOf(option, 'IncludeCompletedLines', true),
      values: flagOf(option, 'IncludeValues', false),
      shipDate: flagOf(option, 'ReturnLineShipDate', false),
    };
    const customer = ctx.db.arCustomer.get(order.Customer as string);
    const body = headerElements(order, customer);
    const lines = ctx.db
      .linesOf(order.SalesOrder as string)
      .map((line) => lineElements(ctx, line, options))
      .filter((e): e is Element => e !== undefined);
    // No `<SalesOrderLine>` element at all when no line is written (none asked for, or none left
    // after the options), as in public samples; never an empty `<SalesOrderLine/>`.
    if (lines.length) body.push(group('SalesOrderLine', lines));
    if (flagOf(option, 'IncludeCustomForms', false)) {
      const fields = ctx.db.admFormData.rows.filter(
        (r) => r.FormType === 'ORD' && r.KeyField === order.SalesOrder,
      );
      body.push(
        group(
          'CustomForm',
          fields.map((f) =>
            group('Field', [el('FieldName', f.FieldName), el('Value', formFieldValue(ctx, f))]),
          ),
        ),
      );
    }
    return {
      body: buildXmlOut(
        {
          name: 'SorDetail',
          version: '8.0.013',
          extraAttributes: 'xmlns:SALARE="SALARE" xmlns:SALSLS="SALSLS" xmlns:TBLART="TBLART"',
        },
        body,
      ),
      outcome: 'ok',
      validateOnly: false,
    };
  },
};

/**
 * A custom form field's value by the field's type in AdmFormControl: an alpha field that is blank
 * reads as blank, not as the row's NumericValue 0 (a cleared tracking field is empty).
 */
function formFieldValue(ctx: BusinessObjectContext, field: Row): string | number | null {
  const control = ctx.db.admFormControl.rows.find(
    (c) => c.FormType === field.FormType && c.FieldName === field.FieldName,
  );
  const type = String(control?.FieldType ?? 'A').toUpperCase();
  if (type === 'D') return (field.DateValue as string | null) ?? '';
  if (type === 'N') return field.NumericValue as number;
  return (field.AlphaValue as string) ?? '';
}
