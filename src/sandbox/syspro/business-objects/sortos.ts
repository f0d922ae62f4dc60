/**
 * SORTOS, change sales order status (reference §2.4, DOC S3 SORTOS.vb). `ValidateOnly` defaults
 * to **Y**: without an explicit `N` nothing changes. Current status must be one of 1 2 3 4 8 F S;
 * `NewOrderStatus` one of 1 2 3 4 8 9 S; `OrderStatus`, when given, must equal the current one.
 * The XmlOut root and item layout are UNCONFIRMED (not in the reference).
 */
import { child, children, type Element, el, flagOf, isSysproDate, padCount, textOf } from '../xml.js';
import {
  answerPost,
  type BusinessObject,
  type ElementError,
  ERRORS,
  findSalesOrder,
  todayOf,
} from './common.js';

const FROM = new Set(['1', '2', '3', '4', '8', 'F', 'S']);
const TO = new Set(['1', '2', '3', '4', '8', '9', 'S']);

export const sortos: BusinessObject = {
  name: 'SORTOS',
  methods: ['Transaction/Post'],
  handle(ctx, { xmlParameters, xmlIn }) {
    const p = child(xmlParameters, 'Parameters') ?? xmlParameters;
    const validateOnly = flagOf(p, 'ValidateOnly', true);
    const entireDocument = flagOf(p, 'ApplyIfEntireDocumentValid', false);
    const items = children(xmlIn, 'Item');
    const plans: Array<{ item: Element[]; errors: ElementError[]; apply: () => void }> = [];
    for (const [index, item] of items.entries()) {
      const errors: ElementError[] = [];
      const requested = textOf(item, 'SalesOrder');
      const order = requested ? findSalesOrder(ctx.db, requested) : undefined;
      const newStatus = textOf(item, 'NewOrderStatus').toUpperCase();
      const expected = textOf(item, 'OrderStatus').toUpperCase();
      if (!requested) {
        errors.push({
          element: 'SalesOrder',
          value: '',
          number: ERRORS.blank,
          description: "XML element '{Item}{SalesOrder}' cannot be spaces",
        });
      } else if (!order) {
        errors.push({
          element: 'SalesOrder',
          value: requested,
          number: ERRORS.notFound,
          description: `Sales order '${requested}' not found`,
        });
      }
      const current = (order?.OrderStatus as string | undefined) ?? '';
      if (order && !FROM.has(current)) {
        errors.push({
          element: 'SalesOrder',
          value: requested,
          number: ERRORS.notAllowed,
          description: `Sales order '${order.SalesOrder}' has status '${current}'; its status cannot be changed`,
        });
      }
      if (order && expected && expected !== current) {
        errors.push({
          element: 'OrderStatus',
          value: expected,
          number: ERRORS.invalidValue,
          description: `Current status of sales order '${order.SalesOrder}' is '${current}', not '${expected}'`,
        });
      }
      if (!TO.has(newStatus)) {
        errors.push({
          element: 'NewOrderStatus',
          value: newStatus,
          number: ERRORS.invalidValue,
          description: `New order status '${newStatus}' is invalid`,
        });
      }
      const noteDate = textOf(item, 'DateDeliveryNotePrinted');
      if (noteDate && !isSysproDate(noteDate)) {
        errors.push({
          element: 'DateDeliveryNotePrinted',
          value: noteDate,
          number: ERRORS.badDate,
          description: `Date '${noteDate}' is invalid for XML element 'DateDeliveryNotePrinted' it must be CCYY-MM-DD format`,
        });
      }
      if (current === 'S' && newStatus !== 'S' && !textOf(item, 'CreditAuthority')) {
        errors.push({
          element: 'CreditAuthority',
          value: '',
          number: ERRORS.blank,
          description: "XML element '{Item}{CreditAuthority}' cannot be spaces when releasing from suspense",
        });
      }
      const deliveryNote = textOf(item, 'DeliveryNoteNumber');
      plans.push({
        item: [
          el('ItemNumber', padCount(index + 1)),
          el('SalesOrder', order?.SalesOrder ?? requested),
          el('OrderStatus', current),
          el('NewOrderStatus', newStatus),
        ],
        errors,
        apply: () => {
          if (!order) return;
          order.OrderStatus = newStatus;
          if (newStatus === '4') {
            order.DeliveryNote = deliveryNote || (order.SalesOrder as string);
            order.LastDelNote = noteDate || todayOf(ctx.now());
            order.DateLastDocPrt = order.LastDelNote;
          }
          order.LastOperator = ctx.operator;
          ctx.db.touch(order);
        },
      });
    }
    return answerPost(
      plans,
      {
        root: 'PostSorOrderStatus',
        version: '8.0.003',
        validateOnly,
        entireDocument,
        lowerCase: ctx.quirks.postOutputCase === 'lower',
      },
      (plan) => plan.apply(),
      (plan) => plan.item,
    );
  },
};
