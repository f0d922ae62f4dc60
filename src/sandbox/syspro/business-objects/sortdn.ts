/**
 * SORTDN, dispatch note posting (reference §2.4): one `<DispatchNote>` per note, several per post,
 * each for shipped lines and quantities of one sales order, with `DispatchComments` (up to four,
 * stored as DispatchComments1-4) and `UserDefined1-2` (stored as UserField1-2). Each note gets
 * its own item status in the XmlOut; `ValidateOnly=Y` changes nothing; with
 * `ApplyIfEntireDocumentValid=Y` one bad note stops them all.
 * Effects: MdnMaster/MdnDetail rows (table names UNCONFIRMED), SorDetail MQtyDispatched up and
 * MShipQty down, stock relieved, SorMaster NumDispatches/LiveDispExist, and (UNCONFIRMED,
 * switchable) status 9 once every merchandise line is fully dispatched.
 * XmlOut layout is UNCONFIRMED (not in the reference).
 */

import { formatPaddedKey, MDN_DETAIL_DEFAULTS, MDN_MASTER_DEFAULTS, type Row } from '../tables.js';
import { fitColumn } from '../text.js';
import { child, children, el, flagOf, isSysproDate, padCount, parseSysproNumber, textOf } from '../xml.js';
import {
  answerPost,
  type BusinessObject,
  type ElementError,
  ERRORS,
  findSalesOrder,
  todayOf,
} from './common.js';

const DISPATCHABLE = new Set(['1', '2', '3', '4', '8']);

/**
 * A line number as SYSPRO writes it in texts: four digits (`0001`); anything that is not a number
 * is quoted as sent. The error texts are invented (UNCONFIRMED), worded like SYSPRO's own
 * ("Line 0001 for stock code 'A100' …", codes in single quotes).
 */
function lineLabel(text: string): string {
  return /^\d{1,4}$/.test(text) ? text.padStart(4, '0') : `'${text}'`;
}

export const sortdn: BusinessObject = {
  name: 'SORTDN',
  methods: ['Transaction/Post'],
  handle(ctx, { xmlParameters, xmlIn }) {
    const p = child(xmlParameters, 'Parameters') ?? xmlParameters;
    const validateOnly = flagOf(p, 'ValidateOnly', false);
    const entireDocument = flagOf(p, 'ApplyIfEntireDocumentValid', false);
    const today = todayOf(ctx.now());
    const planned = new Map<Row, number>();
    const plans: Array<{ salesOrder: string; errors: ElementError[]; apply: () => string }> = [];

    for (const note of children(xmlIn, 'DispatchNote')) {
      const header = child(note, 'DispatchHeader');
      const errors: ElementError[] = [];
      const requested = textOf(header, 'SalesOrder');
      const order = requested ? findSalesOrder(ctx.db, requested) : undefined;
      if (!requested) {
        errors.push({
          element: 'SalesOrder',
          value: '',
          number: ERRORS.blank,
          description: "XML element '{DispatchHeader}{SalesOrder}' cannot be spaces",
        });
      } else if (!order) {
        errors.push({
          element: 'SalesOrder',
          value: requested,
          number: ERRORS.notFound,
          description: `Sales order '${requested}' not found`,
        });
      } else if (!DISPATCHABLE.has(order.OrderStatus as string)) {
        errors.push({
          element: 'SalesOrder',
          value: requested,
          number: ERRORS.notAllowed,
          description: `Sales order '${order.SalesOrder}' is in status '${order.OrderStatus}' and cannot be dispatched`,
        });
      }
      const manualNumber = textOf(header, 'DispatchNoteNumber');
      if (manualNumber && ctx.db.mdnMaster.get(formatPaddedKey(Number(manualNumber) || 0))) {
        errors.push({
          element: 'DispatchNoteNumber',
          value: manualNumber,
          number: ERRORS.notAllowed,
          description: `Dispatch note '${manualNumber}' already exists`,
        });
      }
      const plannedDate = textOf(header, 'PlannedDispatchDate');
      if (plannedDate && !isSysproDate(plannedDate)) {
        errors.push({
          element: 'PlannedDispatchDate',
          value: plannedDate,
          number: ERRORS.badDate,
          description: `Date '${plannedDate}' is invalid for XML element 'PlannedDispatchDate' it must be CCYY-MM-DD format`,
        });
      }
      const lines: Array<{ line: Row; qty: number }> = [];
      const details = child(note, 'DispatchDetails');
      const merchandise = children(details, 'MerchandiseLine');
      if (order && merchandise.length === 0) {
        errors.push({
          element: 'DispatchDetails',
          value: '',
          number: ERRORS.invalidValue,
          description: `No merchandise lines were supplied for sales order '${order.SalesOrder}'`,
        });
      }
      for (const node of merchandise) {
        if (!order) break;
        const lineText = textOf(node, 'SalesOrderLine');
        const line = ctx.db
          .linesOf(order.SalesOrder as string)
          .find((l) => l.SalesOrderLine === Number(lineText));
        if (!line || (line.LineType !== '1' && line.LineType !== '7')) {
          errors.push({
            element: 'SalesOrderLine',
            value: lineText,
            number: ERRORS.notFound,
            description: `Line ${lineLabel(lineText)} for sales order '${order.SalesOrder}' is not a merchandise line on file`,
          });
          continue;
        }
        const qtyText = textOf(node, 'DispatchQty');
        const qty = parseSysproNumber(qtyText);
        if (qty === undefined || qty <= 0) {
          errors.push({
            element: 'DispatchQty',
            value: qtyText,
            number: qty === undefined ? ERRORS.notNumeric : ERRORS.invalidValue,
            description: `Line ${lineLabel(lineText)} for stock code '${line.MStockCode}' has an invalid dispatch quantity '${qtyText}'`,
          });
          continue;
        }
        const outstanding =
          (line.MOrderQty as number) - (line.MQtyDispatched as number) - (planned.get(line) ?? 0);
        if (qty > outstanding) {
          errors.push({
            element: 'DispatchQty',
            value: qtyText,
            number: ERRORS.invalidValue,
            description: `Line ${lineLabel(lineText)} for stock code '${line.MStockCode}' cannot be dispatched: quantity ${qty.toFixed(3)} exceeds the outstanding quantity ${outstanding.toFixed(3)}`,
          });
          continue;
        }
        lines.push({ line, qty });
      }
      if (!errors.length)
        for (const { line, qty } of lines) planned.set(line, (planned.get(line) ?? 0) + qty);
      const comments = children(header, 'DispatchComments').map((c) => fitColumn(c.text.trim(), 50));
      plans.push({
        salesOrder: (order?.SalesOrder as string) ?? requested,
        errors,
        apply: () => {
          const so = order as Row;
          const number = manualNumber
            ? formatPaddedKey(Number(manualNumber))
            : formatPaddedKey(ctx.db.counters.nextDispatchNote++);
          const master: Row = {
            ...MDN_MASTER_DEFAULTS,
            DispatchNote: number,
            SalesOrder: so.SalesOrder,
            Customer: so.Customer,
            CustomerPoNumber: so.CustomerPoNumber,
            ShippingInstrs: fitColumn(textOf(header, 'ShippingInstrs') || (so.ShippingInstrs as string), 30),
            ShippingInstrsCod: so.ShippingInstrsCod,
            DispatchComments1: comments[0] ?? '',
            DispatchComments2: comments[1] ?? '',
            DispatchComments3: comments[2] ?? '',
            DispatchComments4: comments[3] ?? '',
            UserField1: fitColumn(textOf(header, 'UserDefined1'), 30),
            UserField2: fitColumn(textOf(header, 'UserDefined2'), 30),
            PlannedDeliverDate: plannedDate || today,
            EntryDate: today,
            Operator: ctx.operator,
          };
          ctx.db.touch(master);
          ctx.db.mdnMaster.insert(master);
          let noteLine = 1;
          for (const { line, qty } of lines) {
            const detail: Row = {
              ...MDN_DETAIL_DEFAULTS,
              DispatchNote: number,
              DispatchNoteLine: noteLine++,
              SalesOrder: so.SalesOrder,
              SalesOrderLine: line.SalesOrderLine,
              LineType: line.LineType,
              MStockCode: line.MStockCode,
              MStockDes: line.MStockDes,
              MWarehouse: line.MWarehouse,
              MDispatchQty: qty,
              MOrderUom: line.MOrderUom,
            };
            ctx.db.touch(detail);
            ctx.db.mdnDetail.insert(detail);
            line.MQtyDispatched = (line.MQtyDispatched as number) + qty;
            line.MShipQty = Math.max(0, (line.MShipQty as number) - qty);
            line.MStockQtyToShp = line.MShipQty;
            line.MBackOrderQty = Math.max(
              0,
              (line.MOrderQty as number) - (line.MQtyDispatched as number) - (line.MShipQty as number),
            );
            line.MLastDelNote = number;
            ctx.db.touch(line);
            const stock = ctx.db.invWarehouse.get(line.MStockCode as string, line.MWarehouse as string);
            if (stock) {
              stock.QtyOnHand = (stock.QtyOnHand as number) - qty;
              stock.QtyAllocated = Math.max(0, (stock.QtyAllocated as number) - qty);
              ctx.db.touch(stock);
            }
          }
          so.NumDispatches = (so.NumDispatches as number) + 1;
          so.DispatchesMade = 'Y';
          so.LiveDispExist = 'Y';
          so.LastDelNote = today;
          so.LastOperator = ctx.operator;
          const allDispatched = ctx.db
            .linesOf(so.SalesOrder as string)
            .filter((l) => l.LineType === '1' || l.LineType === '7')
            .every((l) => (l.MQtyDispatched as number) >= (l.MOrderQty as number));
          if (allDispatched && ctx.quirks.completeOrderWhenFullyDispatched) so.OrderStatus = '9';
          ctx.db.touch(so);
          return number;
        },
      });
    }

    return answerPost(
      plans,
      {
        root: 'PostDispatchNotes',
        version: '8.0.009',
        validateOnly,
        entireDocument,
        lowerCase: ctx.quirks.postOutputCase === 'lower',
      },
      (plan) => plan.apply(),
      (plan, index, number, applied) => [
        el('ItemNumber', padCount(index + 1)),
        el('SalesOrder', plan.salesOrder),
        el('DispatchNoteNumber', number ?? ''),
        el('Status', plan.errors.length ? 'Failed' : applied ? 'Posted' : 'Valid'),
      ],
    );
  },
};
