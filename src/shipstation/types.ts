/**
 * Raw ShipStation shapes, as they go over the wire (reference: shipstation-api.md §1, §2, §5).
 * V1 datetimes are Pacific wall-clock strings without an offset (see `pacific-time.ts`); V2 dates
 * are ISO-8601 UTC. Nothing here is our own model: the flows map these to theirs.
 */

// ---------- V1: shared ----------

/** `{ X: n, total, page, pages }` as every V1 list endpoint returns it. */
export interface V1ListPage {
  total: number;
  page: number;
  /** Can be 0 while `total` is not (a quirk in the docs' examples). */
  pages: number;
}

export interface V1Address {
  name?: string | null;
  company?: string | null;
  street1?: string | null;
  street2?: string | null;
  street3?: string | null;
  city?: string | null;
  state?: string | null;
  postalCode?: string | null;
  /** ISO 3166-1 alpha-2. */
  country?: string | null;
  phone?: string | null;
  residential?: boolean | null;
  /** Read-only. */
  addressVerified?: string | null;
}

export interface V1Weight {
  value: number;
  units: 'pounds' | 'ounces' | 'grams';
  WeightUnits?: number;
}

export interface V1Dimensions {
  length: number;
  width: number;
  height: number;
  units: 'inches' | 'centimeters';
}

export interface V1ItemOption {
  name: string;
  value: string;
}

export interface V1OrderItem {
  orderItemId?: number;
  lineItemKey?: string | null;
  sku?: string | null;
  name: string;
  imageUrl?: string | null;
  weight?: V1Weight | null;
  quantity: number;
  unitPrice?: number | null;
  taxAmount?: number | null;
  shippingAmount?: number | null;
  warehouseLocation?: string | null;
  options?: V1ItemOption[] | null;
  productId?: number | null;
  fulfillmentSku?: string | null;
  adjustment?: boolean;
  upc?: string | null;
  createDate?: string;
  modifyDate?: string;
}

export interface V1InsuranceOptions {
  provider?: string | null;
  insureShipment?: boolean;
  insuredValue?: number;
}

export interface V1CustomsItem {
  customsItemId?: number;
  description?: string;
  quantity?: number;
  value?: number;
  harmonizedTariffCode?: string | null;
  countryOfOrigin?: string | null;
}

export interface V1InternationalOptions {
  contents?: string | null;
  customsItems?: V1CustomsItem[] | null;
  nonDelivery?: string | null;
}

export interface V1AdvancedOptions {
  warehouseId?: number | null;
  nonMachinable?: boolean;
  saturdayDelivery?: boolean;
  containsAlcohol?: boolean;
  mergedOrSplit?: boolean;
  mergedIds?: number[];
  parentId?: number | null;
  /** Only honoured when the order is created. */
  storeId?: number | null;
  customField1?: string | null;
  customField2?: string | null;
  customField3?: string | null;
  source?: string | null;
  billToParty?: 'my_account' | 'my_other_account' | 'recipient' | 'third_party' | null;
  billToAccount?: string | null;
  billToPostalCode?: string | null;
  billToCountryCode?: string | null;
  billToMyOtherAccount?: string | null;
}

export type V1OrderStatus =
  | 'awaiting_payment'
  | 'awaiting_shipment'
  | 'pending_fulfillment'
  | 'shipped'
  | 'on_hold'
  | 'cancelled';

/** The body of `POST /orders/createorder` (and each element of `createorders`). Whole resource: no partial updates. */
export interface V1OrderInput {
  /** Include when updating a known order (required for split orders); never when creating. */
  orderId?: number;
  orderNumber: string;
  /** Upsert key; only set at creation. Our orders always carry one (`<company>:<SalesOrder>`). */
  orderKey?: string;
  /** Pacific wall clock, `yyyy-MM-dd HH:mm:ss` (see `formatPacificDateTime`). */
  orderDate: string;
  paymentDate?: string | null;
  shipByDate?: string | null;
  orderStatus: V1OrderStatus;
  customerUsername?: string | null;
  customerEmail?: string | null;
  billTo: V1Address;
  shipTo: V1Address;
  items?: V1OrderItem[];
  amountPaid?: number | null;
  taxAmount?: number | null;
  shippingAmount?: number | null;
  customerNotes?: string | null;
  internalNotes?: string | null;
  gift?: boolean;
  giftMessage?: string | null;
  paymentMethod?: string | null;
  requestedShippingService?: string | null;
  carrierCode?: string | null;
  serviceCode?: string | null;
  packageCode?: string | null;
  confirmation?: string | null;
  /** Date only, `yyyy-MM-dd`. */
  shipDate?: string | null;
  holdUntilDate?: string | null;
  weight?: V1Weight | null;
  dimensions?: V1Dimensions | null;
  insuranceOptions?: V1InsuranceOptions | null;
  internationalOptions?: V1InternationalOptions | null;
  advancedOptions?: V1AdvancedOptions | null;
  tagIds?: number[] | null;
}

/** An order as ShipStation returns it. */
export interface V1Order extends V1OrderInput {
  orderId: number;
  orderKey: string;
  createDate: string;
  modifyDate: string;
  customerId?: number | null;
  orderTotal?: number;
  userId?: string | null;
  externallyFulfilled?: boolean;
  externallyFulfilledBy?: string | null;
  externallyFulfilledById?: number | null;
  externallyFulfilledByName?: string | null;
  labelMessages?: string | null;
}

export interface V1OrdersPage extends V1ListPage {
  orders: V1Order[];
}

export interface V1CreateOrdersResult {
  orderId: number | null;
  orderNumber: string | null;
  orderKey: string | null;
  success: boolean;
  errorMessage: string | null;
}

export interface V1CreateOrdersResponse {
  hasErrors: boolean;
  results: V1CreateOrdersResult[];
}

export interface V1ListOrdersQuery {
  customerName?: string;
  itemKeyword?: string;
  /** Pacific wall clock, `yyyy-MM-dd HH:mm:ss` (use `formatPacificFilter`). */
  createDateStart?: string;
  createDateEnd?: string;
  modifyDateStart?: string;
  modifyDateEnd?: string;
  orderDateStart?: string;
  orderDateEnd?: string;
  paymentDateStart?: string;
  paymentDateEnd?: string;
  /** A "starts with" search: match exactly on our side. */
  orderNumber?: string;
  orderStatus?: V1OrderStatus;
  storeId?: number;
  sortBy?: 'OrderDate' | 'ModifyDate' | 'CreateDate';
  sortDir?: 'ASC' | 'DESC';
  /** Max 500. */
  pageSize?: number;
  /** First page to read (default 1). */
  page?: number;
}

// ---------- V1: shipments and fulfillments ----------

/** A shipment's item: an order item whose id and name may be null. */
export interface V1ShipmentItem extends Omit<V1OrderItem, 'orderItemId' | 'name'> {
  orderItemId?: number | null;
  name?: string | null;
}

export interface V1Shipment {
  shipmentId: number;
  orderId: number;
  orderKey?: string | null;
  userId?: string | null;
  customerEmail?: string | null;
  orderNumber: string;
  createDate: string;
  /** Date only, `yyyy-MM-dd`. */
  shipDate: string;
  shipmentCost?: number | null;
  insuranceCost?: number | null;
  trackingNumber?: string | null;
  isReturnLabel?: boolean;
  batchNumber?: string | null;
  carrierCode?: string | null;
  serviceCode?: string | null;
  packageCode?: string | null;
  confirmation?: string | null;
  warehouseId?: number | null;
  voided: boolean;
  voidDate?: string | null;
  marketplaceNotified?: boolean;
  notifyErrorMessage?: string | null;
  shipTo?: V1Address | null;
  weight?: V1Weight | null;
  dimensions?: V1Dimensions | null;
  insuranceOptions?: V1InsuranceOptions | null;
  advancedOptions?: V1AdvancedOptions | null;
  /** `null` unless listed with `includeShipmentItems=true`. */
  shipmentItems?: V1ShipmentItem[] | null;
  /**
   * Not a V1 field: V1 shipments carry no order status. The V2 implementation sets it to the status
   * of the label's shipment (its order) when it read that shipment with the label.
   */
  orderStatus?: V1OrderStatus | null;
  labelData?: string | null;
  formData?: string | null;
}

export interface V1ShipmentsPage extends V1ListPage {
  shipments: V1Shipment[];
}

export interface V1ListShipmentsQuery {
  recipientName?: string;
  recipientCountryCode?: string;
  orderNumber?: string;
  orderId?: number;
  carrierCode?: string;
  serviceCode?: string;
  trackingNumber?: string;
  /** Pacific wall clock (use `formatPacificFilter`). */
  createDateStart?: string;
  createDateEnd?: string;
  /** Pacific date (use `formatPacificDate`) or wall clock. */
  shipDateStart?: string;
  shipDateEnd?: string;
  voidDateStart?: string;
  voidDateEnd?: string;
  storeId?: number;
  includeShipmentItems?: boolean;
  /** Undocumented filter seen in webhook `resource_url`s (label batch). */
  batchId?: number;
  sortBy?: 'ShipDate' | 'CreateDate';
  sortDir?: 'ASC' | 'DESC';
  pageSize?: number;
  page?: number;
}

export interface V1Fulfillment {
  fulfillmentId: number;
  orderId: number;
  orderNumber: string;
  userId?: string | null;
  customerEmail?: string | null;
  trackingNumber?: string | null;
  createDate: string;
  /** A midnight datetime (`2016-06-07T00:00:00.0000000`): a Pacific calendar date. */
  shipDate: string;
  voidDate?: string | null;
  deliveryDate?: string | null;
  carrierCode?: string | null;
  sellerFillProviderId?: number | null;
  sellerFillProviderName?: string | null;
  fulfillmentServiceCode?: string | null;
  fulfillmentProviderCode?: string | null;
  fulfillmentFee?: number | null;
  voidRequested?: boolean;
  voided?: boolean;
  marketplaceNotified?: boolean;
  notifyErrorMessage?: string | null;
  shipTo?: V1Address | null;
}

export interface V1FulfillmentsPage extends V1ListPage {
  fulfillments: V1Fulfillment[];
}

export interface V1ListFulfillmentsQuery {
  fulfillmentId?: number;
  orderId?: number;
  orderNumber?: string;
  trackingNumber?: string;
  recipientName?: string;
  createDateStart?: string;
  createDateEnd?: string;
  shipDateStart?: string;
  shipDateEnd?: string;
  sortBy?: 'ShipDate' | 'CreateDate';
  sortDir?: 'ASC' | 'DESC';
  pageSize?: number;
  page?: number;
}

// ---------- V1: account ----------

export interface V1Store {
  storeId: number;
  storeName: string;
  marketplaceId?: number;
  marketplaceName?: string;
  accountName?: string | null;
  email?: string | null;
  integrationUrl?: string | null;
  active?: boolean;
  companyName?: string | null;
  phone?: string | null;
  publicEmail?: string | null;
  website?: string | null;
  refreshDate?: string | null;
  lastRefreshAttempt?: string | null;
  createDate?: string;
  modifyDate?: string;
  autoRefresh?: boolean;
}

export interface V1Warehouse {
  warehouseId: number;
  warehouseName: string;
  originAddress?: V1Address | null;
  returnAddress?: V1Address | null;
  createDate?: string;
  isDefault?: boolean;
}

// ---------- V1: webhooks ----------

export type V1WebhookEvent =
  | 'ORDER_NOTIFY'
  | 'ITEM_ORDER_NOTIFY'
  | 'SHIP_NOTIFY'
  | 'ITEM_SHIP_NOTIFY'
  | 'FULFILLMENT_SHIPPED'
  | 'FULFILLMENT_REJECTED';

export interface V1SubscribeWebhookInput {
  target_url: string;
  event: V1WebhookEvent;
  store_id?: number;
  friendly_name?: string;
}

/**
 * The subscribe response. The older docs show `{ id }`, the newer OpenAPI `{ WebHookID, ... }`
 * (UNCONFIRMED which production returns), so both are typed.
 */
export interface V1SubscribeWebhookResponse {
  id?: number;
  WebHookID?: number;
  HookType?: string;
  Url?: string;
  Name?: string;
}

/** One element of `GET /webhooks` → `{ webhooks: [...] }` (PascalCase keys). */
export interface V1Webhook {
  IsLabelAPIHook?: boolean;
  WebHookID: number;
  SellerID?: number;
  StoreID?: number | null;
  HookType: string;
  MessageFormat?: string;
  Url: string;
  Name?: string | null;
  BulkCopyBatchID?: number | null;
  BulkCopyRecordID?: number | null;
  Active?: boolean;
}

export interface V1WebhooksList {
  webhooks: V1Webhook[];
}

/** What ShipStation POSTs to a V1 webhook target: a pointer, unsigned. */
export interface V1WebhookPayload {
  resource_url: string;
  resource_type: string;
}

// ---------- V1: errors ----------

/** ASP.NET Web API error body (400, 500), and the 429 body `{ message }`. */
export interface V1ErrorBody {
  Message?: string;
  message?: string;
  ExceptionMessage?: string;
  ExceptionType?: string;
  ModelState?: Record<string, string[]>;
}

// ---------- V2 ----------

export interface V2Error {
  error_source?: string;
  error_type?: string;
  error_code?: string;
  message?: string;
  label_id?: string;
}

export interface V2ErrorBody {
  request_id?: string;
  errors?: V2Error[];
}

export interface V2Link {
  href: string;
}

export interface V2Links {
  first?: V2Link;
  last?: V2Link;
  prev?: V2Link;
  next?: V2Link;
}

export interface V2Money {
  amount: number;
  currency: string;
}

export interface V2InventoryLevel {
  sku: string;
  on_hand: number;
  allocated: number;
  available: number;
  average_cost?: V2Money | null;
  inventory_warehouse_id: string;
  /** `null` when grouped by warehouse. */
  inventory_location_id: string | null;
}

export interface V2InventoryPage {
  inventory: V2InventoryLevel[];
  total: number;
  page: number;
  pages: number;
  links?: V2Links;
}

export interface V2ListInventoryQuery {
  sku?: string;
  inventory_warehouse_id?: string;
  inventory_location_id?: string;
  group_by?: 'warehouse' | 'location';
  limit?: number;
  page_size?: number;
  page?: number;
}

export type V2InventoryTransactionType = 'increment' | 'decrement' | 'adjust' | 'modify';

export interface V2InventoryTransaction {
  transaction_type: V2InventoryTransactionType;
  sku: string;
  quantity: number;
  inventory_location_id: string;
  cost?: V2Money;
  condition?: 'sellable' | 'damaged' | 'expired' | 'qa_hold';
  lot?: string;
  usable_start_date?: string;
  usable_end_date?: string;
  effective_at?: string;
  reason?: string;
  notes?: string;
  new_inventory_location_id?: string;
  new_cost?: V2Money;
  new_condition?: 'sellable' | 'damaged' | 'expired' | 'qa_hold';
}

export interface V2InventoryWarehouse {
  inventory_warehouse_id: string;
  name: string;
  created_at?: string;
  updated_at?: string;
}

export interface V2InventoryWarehousesPage {
  inventory_warehouses: V2InventoryWarehouse[];
  total?: number;
  page?: number;
  pages?: number;
  links?: V2Links;
}

export interface V2InventoryLocation {
  inventory_location_id: string;
  inventory_warehouse_id: string;
  name: string;
  created_at?: string;
  updated_at?: string;
}

export interface V2InventoryLocationsPage {
  inventory_locations: V2InventoryLocation[];
  total?: number;
  page?: number;
  pages?: number;
  links?: V2Links;
}

/** A JSON Web Key Set as served at `/jwks` (RSA keys for webhook signatures). */
export interface V2Jwks {
  keys: Array<{ kid?: string; kty?: string; n?: string; e?: string; alg?: string; use?: string }>;
}
