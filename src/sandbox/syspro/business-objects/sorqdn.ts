/**
 * SORQDN, dispatch note query (reference §2.4, S10 SORQDNOUT): the note's header fields
 * (DispatchComments1-4, UserField1-2, statuses) and its lines. Root element name and line layout
 * are UNCONFIRMED. Numeric keys match with or without the 15-character zero padding.
 */
import { formatPaddedKey } from '../tables.js';
import { buildXmlOut, child, type Element, el, group, padNumber, textOf } from '../xml.js';
import { type BusinessObject, EnetError } from './common.js';

export const sorqdn: BusinessObject = {
  name: 'SORQDN',
  methods: ['Query/Query'],
  handle(ctx, { xmlIn }) {
    const requested = textOf(child(xmlIn, 'Key'), 'DispatchNote');
    if (!requested) throw new EnetError("XML element '{Key}{DispatchNote}' cannot be spaces");
    const key = /^\d+$/.test(requested) ? formatPaddedKey(Number(requested)) : requested;
    const note = ctx.db.mdnMaster.get(key);
    if (!note) throw new EnetError(`Dispatch note '${requested}' not found`);
    const fields = [
      'DispatchNote',
      'SalesOrder',
      'Customer',
      'CustomerPoNumber',
      'ShippingInstrs',
      'ShippingInstrsCod',
      'DispatchComments1',
      'DispatchComments2',
      'DispatchComments3',
      'DispatchComments4',
      'UserField1',
      'UserField2',
      'PlannedDeliverDate',
      'ActualDeliveryDate',
      'Invoice',
      'InvoiceCreatedDate',
      'DispatchNoteStatus',
      'PrevStatus',
    ];
    const body: Element[] = fields.map((f) => el(f, note[f]));
    for (const line of ctx.db.mdnDetail.group(key)) {
      body.push(
        group('DispatchLine', [
          el('DispatchNoteLine', padNumber(line.DispatchNoteLine as number, 0, 4)),
          el('SalesOrderLine', padNumber(line.SalesOrderLine as number, 0, 4)),
          el('StockCode', line.MStockCode),
          el('StockDescription', line.MStockDes),
          el('Warehouse', line.MWarehouse),
          el('DispatchQty', padNumber(line.MDispatchQty as number, 6)),
          el('Uom', line.MOrderUom),
        ]),
      );
    }
    return {
      body: buildXmlOut({ name: 'DispatchNoteQuery', version: '8.0.002' }, body),
      outcome: 'ok',
      validateOnly: false,
    };
  },
};
