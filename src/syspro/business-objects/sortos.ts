/**
 * SORTOS — change sales order status (`Transaction/Post`, reference §2.4). Root `PostSorOrderStatus`.
 * SORTOS defaults `ValidateOnly` to **Y**, so it is always sent explicitly (pitfall 5).
 * Delivery-note fields are only valid when moving to status 4.
 */
import type { EnetSession } from '../enet-client.js';
import { buildXml, children, schemaAttributes, text, textAny } from '../xml.js';
import { type BusinessObjectResult, type PostOptions, readXmlOut, yn } from './common.js';

export const SORTOS = 'SORTOS';

/** 1 open, 2 open back order, 3 released back order, 4 in warehouse, 8 to invoice, 9 complete, S suspense. */
export type NewOrderStatus = '1' | '2' | '3' | '4' | '8' | '9' | 'S';

export interface OrderStatusChange {
  salesOrder: string;
  /** The status the order must have now (SYSPRO refuses the change otherwise). */
  currentStatus?: string;
  newStatus: NewOrderStatus;
  creditAuthority?: string;
  /** Moving to 4 only. */
  deliveryNoteNumber?: string;
  /** CCYY-MM-DD; moving to 4 only. */
  dateDeliveryNotePrinted?: string;
  /** HH:MM; moving to 4 only. */
  timeDeliveryNotePrinted?: string;
  /** Moving to 8 only, when allowed. */
  invoiceNumber?: string;
  invoiceDate?: string;
}

export interface OrderStatusOptions extends PostOptions {
  applyIfEntireDocumentValid?: boolean;
  allowInvoiceInformationEntry?: boolean;
  warnIfCustomerOnHold?: boolean;
  inBoxMessageRequired?: boolean;
}

export interface OrderStatusResult extends BusinessObjectResult {
  items: { salesOrder?: string; newStatus?: string }[];
  validateOnly: boolean;
}

export function buildOrderStatusParameters(options: OrderStatusOptions = {}): string {
  return buildXml(
    'PostSorOrderStatus',
    {
      Parameters: {
        InBoxMsgReqd: yn(options.inBoxMessageRequired ?? false),
        ValidateOnly: yn(options.validateOnly ?? false),
        IgnoreWarnings: options.ignoreWarnings ?? 'W',
        AllowInvoiceInformationEntry: yn(options.allowInvoiceInformationEntry),
        ApplyIfEntireDocumentValid: yn(options.applyIfEntireDocumentValid ?? true),
        WarnIfCustomerOnHold: yn(options.warnIfCustomerOnHold),
      },
    },
    { attributes: schemaAttributes('SORTOS.XSD') },
  );
}

export function buildOrderStatusChange(changes: readonly OrderStatusChange[]): string {
  for (const change of changes) {
    const toWarehouse = change.newStatus === '4';
    if (!toWarehouse && (change.deliveryNoteNumber || change.dateDeliveryNotePrinted)) {
      throw new RangeError(
        `sales order ${change.salesOrder}: delivery note fields are only allowed when moving to status 4`,
      );
    }
  }
  return buildXml(
    'PostSorOrderStatus',
    {
      Item: changes.map((c) => ({
        SalesOrder: c.salesOrder,
        OrderStatus: c.currentStatus,
        NewOrderStatus: c.newStatus,
        CreditAuthority: c.creditAuthority,
        DeliveryNoteNumber: c.deliveryNoteNumber,
        DateDeliveryNotePrinted: c.dateDeliveryNotePrinted,
        TimeDeliveryNotePrinted: c.timeDeliveryNotePrinted,
        InvoiceNumberEntered: c.invoiceNumber,
        InvoiceDateEntered: c.invoiceDate,
      })),
    },
    { attributes: schemaAttributes('SORTOSDOC.XSD') },
  );
}

/** Parses the SORTOS XmlOut. Its exact shape is UNCONFIRMED; items are read where present. */
export function parseOrderStatusChange(xmlOut: string, validateOnly = false): OrderStatusResult {
  const { root, outcome } = readXmlOut(SORTOS, xmlOut);
  const items = children(root, 'Item').map((item) => ({
    salesOrder: text(item, 'SalesOrder') || undefined,
    newStatus: textAny(item, 'NewOrderStatus', 'OrderStatus') || undefined,
  }));
  return { outcome, items, validateOnly };
}

export async function changeOrderStatus(
  session: Pick<EnetSession, 'post'>,
  changes: readonly OrderStatusChange[],
  options: OrderStatusOptions = {},
): Promise<OrderStatusResult> {
  const xmlOut = await session.post(
    SORTOS,
    buildOrderStatusParameters(options),
    buildOrderStatusChange(changes),
  );
  return parseOrderStatusChange(xmlOut, options.validateOnly ?? false);
}
