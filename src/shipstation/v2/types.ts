/**
 * V2 shipments, labels and fulfillments as the connector uses them (reference shipstation-api.md
 * §5 and §10; `shipstation/mcp-shipstation-api` `openapi.yaml`: `create_shipment_request`,
 * `partial_shipment`, `label`, `list_*_response_body`; fulfillments and hold/restore from the newer
 * docs pages, not in that spec). Only the fields we send or read are typed; records carry the rest.
 *
 * The list queries name ONLY the documented filters: V2 ignores an unknown or misspelled query
 * parameter without an error (`modified_date_start` would silently return everything), so a filter
 * outside these types cannot be sent (the list functions also refuse unknown keys at run time).
 */
import type { V2Links, V2Money } from '../types.js';

/** `se-1234`: V2 ids are strings; the number is V1's id of the same record. */
export type V2Id = string;

export type V2ShipmentStatus = 'pending' | 'processing' | 'label_purchased' | 'cancelled' | 'on_hold';

export interface V2Address {
  name?: string | null;
  phone?: string | null;
  email?: string | null;
  company_name?: string | null;
  address_line1?: string | null;
  address_line2?: string | null;
  address_line3?: string | null;
  city_locality?: string | null;
  state_province?: string | null;
  postal_code?: string | null;
  country_code?: string | null;
  address_residential_indicator?: 'unknown' | 'yes' | 'no';
}

export interface V2Weight {
  value: number;
  unit: 'pound' | 'ounce' | 'gram' | 'kilogram';
}

export interface V2Dimensions {
  length: number;
  width: number;
  height: number;
  unit: 'inch' | 'centimeter';
}

export interface V2Package {
  weight?: V2Weight;
  dimensions?: V2Dimensions;
  package_code?: string;
}

export interface V2ShipmentItem {
  name?: string | null;
  sku?: string | null;
  quantity: number;
  unit_price?: number | null;
  tax_amount?: number | null;
  shipping_amount?: number | null;
  image_url?: string | null;
  weight?: V2Weight | null;
  inventory_location?: string | null;
  options?: Array<{ name: string; value: string }> | null;
  product_id?: string | null;
  upc?: string | null;
  fullfilment_sku?: string | null;
  /** Our line key (V1 `lineItemKey`: the SYSPRO SalesOrderLine). */
  external_order_item_id?: string | null;
  external_order_id?: string | null;
}

export interface V2AdvancedOptions {
  bill_to_account?: string | null;
  bill_to_country_code?: string | null;
  bill_to_party?: string | null;
  bill_to_postal_code?: string | null;
  contains_alcohol?: boolean;
  non_machinable?: boolean;
  saturday_delivery?: boolean;
  custom_field1?: string | null;
  custom_field2?: string | null;
  custom_field3?: string | null;
}

export interface V2Customs {
  contents?: string;
  non_delivery?: string;
  customs_items?: Array<{
    description?: string;
    quantity?: number;
    value?: V2Money;
    harmonized_tariff_code?: string | null;
    country_of_origin?: string | null;
  }>;
}

/** What we send to create a shipment, or (whole) to replace one with PUT. */
export interface V2ShipmentInput {
  /** Our key (V1 `orderKey`): unique per account, immutable, at most 50 characters. */
  external_shipment_id: string;
  /** V1 `orderNumber`: unique across ALL shipments whatever their status (see `v2/order-mapping.ts`). */
  shipment_number: string;
  shipment_status?: 'pending';
  create_sales_order?: boolean;
  store_id?: string;
  warehouse_id?: V2Id | null;
  ship_to: V2Address;
  ship_from?: V2Address;
  ship_date?: string | null;
  ship_by_date?: string | null;
  service_code?: string | null;
  requested_shipment_service?: string | null;
  confirmation?: string;
  insurance_provider?: string;
  notes_from_buyer?: string | null;
  notes_for_gift?: string | null;
  is_gift?: boolean;
  amount_paid?: V2Money;
  shipping_paid?: V2Money;
  tax_paid?: V2Money;
  items: V2ShipmentItem[];
  packages?: V2Package[];
  advanced_options?: V2AdvancedOptions;
  customs?: V2Customs | null;
}

/** A shipment as V2 returns it. */
export interface V2Shipment extends Partial<Omit<V2ShipmentInput, 'shipment_status'>> {
  shipment_id: V2Id;
  shipment_status: V2ShipmentStatus;
  created_at: string;
  modified_at: string;
  hold_until_date?: string | null;
  tags?: Array<{ name: string }>;
  [field: string]: unknown;
}

/** One shipment's outcome in `POST /v2/shipments`: the shipment, or its errors. */
export interface V2CreateShipmentResult extends Partial<V2Shipment> {
  errors?: Array<string | { message?: string; error_code?: string; field_name?: string }> | null;
}

export interface V2CreateShipmentsResponse {
  has_errors: boolean;
  shipments: V2CreateShipmentResult[];
}

export interface V2ListBody {
  total?: number;
  page?: number;
  pages?: number;
  links?: V2Links;
}

export interface V2ShipmentsPage extends V2ListBody {
  shipments: V2Shipment[];
}

/** `GET /v2/shipments` filters (openapi `list_shipments`), exactly as documented. */
export interface V2ListShipmentsQuery {
  shipment_status?: V2ShipmentStatus;
  batch_id?: V2Id;
  created_at_start?: string;
  created_at_end?: string;
  modified_at_start?: string;
  modified_at_end?: string;
  sales_order_id?: string;
  shipment_number?: string;
  ship_to_name?: string;
  item_keyword?: string;
  payment_date_start?: string;
  payment_date_end?: string;
  store_id?: V2Id;
  external_shipment_id?: string;
  sort_dir?: 'asc' | 'desc';
  sort_by?: 'modified_at' | 'created_at';
  page?: number;
  page_size?: number;
}

export type V2LabelStatus = 'processing' | 'completed' | 'error' | 'voided';

export interface V2Label {
  label_id: V2Id;
  status: V2LabelStatus;
  shipment_id: V2Id;
  external_shipment_id?: string | null;
  /** The shipment the label was made for, when V2 embeds it. */
  shipment?: Partial<V2Shipment> | null;
  ship_date: string;
  created_at: string;
  shipment_cost?: V2Money | null;
  insurance_cost?: V2Money | null;
  tracking_number?: string | null;
  is_return_label?: boolean;
  batch_id?: V2Id | null;
  carrier_id?: V2Id | null;
  carrier_code?: string | null;
  service_code?: string | null;
  package_code?: string | null;
  confirmation?: string | null;
  voided: boolean;
  voided_at?: string | null;
  tracking_status?: string | null;
  packages?: Array<{ tracking_number?: string | null }>;
  [field: string]: unknown;
}

export interface V2LabelsPage extends V2ListBody {
  labels: V2Label[];
}

/** `GET /v2/labels` filters (openapi `list_labels`), exactly as documented. */
export interface V2ListLabelsQuery {
  label_status?: V2LabelStatus;
  service_code?: string;
  carrier_id?: V2Id;
  tracking_number?: string;
  batch_id?: V2Id;
  rate_id?: V2Id;
  shipment_id?: V2Id;
  warehouse_id?: V2Id;
  created_at_start?: string;
  created_at_end?: string;
  sort_dir?: 'asc' | 'desc';
  sort_by?: 'modified_at' | 'created_at';
  page?: number;
  page_size?: number;
}

/** One mark-as-shipped of `POST /v2/fulfillments`. */
export interface V2FulfillmentInput {
  shipment_id: V2Id;
  tracking_number: string;
  carrier_code: string;
  ship_date?: string;
  notify_customer?: boolean;
  notify_order_source?: boolean;
}

export interface V2CreateFulfillmentResult {
  shipment_id?: V2Id;
  fulfillment_id?: V2Id | null;
  tracking_number?: string | null;
  error_message?: string | null;
  errors?: Array<{ message?: string }> | null;
  success?: boolean;
  [field: string]: unknown;
}

export interface V2CreateFulfillmentsResponse {
  has_errors: boolean;
  fulfillments: V2CreateFulfillmentResult[];
}

export interface V2Fulfillment {
  fulfillment_id: V2Id;
  shipment_id: V2Id;
  shipment_number?: string | null;
  user_id?: string | null;
  customer_email?: string | null;
  tracking_number?: string | null;
  created_at: string;
  ship_date: string;
  voided?: boolean;
  voided_at?: string | null;
  delivered_at?: string | null;
  carrier_code?: string | null;
  fulfillment_provider_code?: string | null;
  fulfillment_service_code?: string | null;
  ship_to?: V2Address | null;
  [field: string]: unknown;
}

export interface V2FulfillmentsPage extends V2ListBody {
  fulfillments: V2Fulfillment[];
}

/** `GET /v2/fulfillments` filters (docs "List fulfillments"), exactly as documented: note `create_date_*`. */
export interface V2ListFulfillmentsQuery {
  ship_to_name?: string;
  ship_to_country_code?: string;
  shipment_number?: string;
  shipment_id?: V2Id;
  fulfillment_id?: V2Id;
  batch_id?: V2Id;
  order_source_id?: V2Id;
  fulfillment_provider_code?: string;
  tracking_number?: string;
  ship_date_start?: string;
  ship_date_end?: string;
  create_date_start?: string;
  create_date_end?: string;
  sort_dir?: 'asc' | 'desc';
  sort_by?: 'created_at' | 'modified_at' | 'shipped_at';
  page?: number;
  page_size?: number;
}
