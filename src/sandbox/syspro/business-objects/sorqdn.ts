/**
 * SORQDN, dispatch note query (reference §2.4, S10 SORQDNOUT): the note's header fields
 * (DispatchComments1-4, UserField1-2, statuses) flat under the root, then one `<Merchandise>` per
 * line. Root `DispatchNoteDetail`, as in public samples (S3's SORQDN output classes read the
 * header from the `DispatchNoteDetail` row and the lines from `Merchandise` rows with
 * DispatchNoteLine, SalesOrderLine, MStockCode, MStockDes, MWarehouse, MQtyToDispatch, MOrderUom).
 * Whether the `<Merchandise>` elements sit directly under the root or in a container is
 * UNCONFIRMED (S3 reads a DataSet, which does not tell); the sandbox puts them under the root.
 * Numeric keys match with or without the 15-character zero padding.
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
        group('Merchandise', [
          el('DispatchNoteLine', padNumber(line.DispatchNoteLine as number, 0, 4)),
          el('SalesOrderLine', padNumber(line.SalesOrderLine as number, 0, 4)),
          el('MStockCode', line.MStockCode),
          el('MStockDes', line.MStockDes),
          el('MWarehouse', line.MWarehouse),
          el('MQtyToDispatch', padNumber(line.MDispatchQty as number, 6)),
          el('MOrderUom', line.MOrderUom),
        ]),
      );
    }
    return {
      body: buildXmlOut({ name: 'DispatchNoteDetail', version: '8.0.002' }, body),
      outcome: 'ok',
      validateOnly: false,
    };
  },
};
