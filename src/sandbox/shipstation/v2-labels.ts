/**
 * V2 labels and tracking over the account's V1 shipments (reference §5, §10; OpenAPI `labels`).
 * A V1 shipment IS a V2 label: `label_id` is `se-<shipmentId>`, its `shipment_id` is
 * `se-<orderId>`. Labels are made only where a warehouse makes them — the `/_sandbox/` label
 * actions and auto-ship — so every label is at once a V1 shipment (`GET /shipments`) and a V2
 * label (`GET /v2/labels`), and fires SHIP_NOTIFY, LABEL_CREATED_V2 and TRACK_EVENT_V2.
 *
 * Endpoints
 * - `GET /v2/labels`: filters `label_status` (`completed`, `voided`; `processing` and `error`
 *   match nothing), `service_code`, `carrier_id`, `tracking_number`, `batch_id`, `rate_id` (no
 *   rates: nothing), `shipment_id`, `warehouse_id`, `created_at_start/end`, `sort_by`
 *   (`created_at` default, `modified_at` = void time for voided labels), `sort_dir` (`desc`),
 *   `page`, `page_size`; anything else is ignored. Answers `{labels, total, page, pages, links}`.
 * - `GET /v2/labels/{label_id}`; `PUT /v2/labels/{label_id}/void`: 200 `{approved: true, message}`,
 *   or for a label already voided 200 `{approved: false, message, reason_code:
 *   'label_already_voided'}`; voiding puts a fully shipped order back to `pending`.
 * - `GET /v2/labels/{label_id}/track` and `GET /v2/tracking?carrier_code=&tracking_number=`
 *   (the second is ShipEngine's tracking endpoint, which the ShipStation docs announce but do not
 *   describe: UNCONFIRMED). A tracking number the account does not know answers 200 with
 *   `status_code: 'UN'` (unknown), as ShipEngine does, not 404.
 * - `POST /_sandbox/labels/{shipmentId}/track` `{status_code, description?}` (sandbox control,
 *   no auth): the carrier reports a scan — `IT` in transit, `AT` attempted, `DE` delivered, `EX`
 *   exception — which is added to the label's events and fires TRACK_EVENT_V2.
 *
 * Carrier ids are the fixed `se-` ids of the sandbox's three carrier accounts (`CARRIER_IDS`).
 */
import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from './context.js';
import { v2Error } from './errors.js';
import type { OrderBody } from './order-model.js';
import type { ShipmentRecord } from './state.js';
import { iso, money, parseSeId, seId, V2Query, v2Date, v2Paged } from './v2-common.js';

/** The `carrier_id` of each carrier code (the sandbox's carrier accounts). */
export const CARRIER_IDS: Record<string, string> = {
  stamps_com: 'se-100001',
  ups: 'se-100002',
  fedex: 'se-100003',
};

export function carrierIdFor(carrierCode: string): string {
  return CARRIER_IDS[carrierCode] ?? 'se-100009';
}

const STATUS_TEXT: Record<string, string> = {
  UN: 'Unknown',
  AC: 'Accepted',
  IT: 'In Transit',
  AT: 'Delivery Attempt',
  DE: 'Delivered',
  EX: 'Exception',
};

export interface TrackingEvent {
  at: number;
  statusCode: string;
  description: string;
}

/**
 * The carrier side of labels: the scans of each label (first one `AC` at label creation). Tests
 * and demos add scans through `/_sandbox/labels/:id/track`; `onEvent` fires TRACK_EVENT_V2.
 */
export class TrackingBook {
  private readonly events = new Map<number, TrackingEvent[]>();
  onEvent: (shipment: ShipmentRecord) => void = () => {};

  list(s: ShipmentRecord): TrackingEvent[] {
    return this.events.get(s.shipmentId) ?? [{ at: s.createDate, statusCode: 'AC', description: 'Accepted' }];
  }

  add(s: ShipmentRecord, event: TrackingEvent): void {
    this.events.set(s.shipmentId, [...this.list(s), event]);
    this.onEvent(s);
  }

  latest(s: ShipmentRecord): TrackingEvent {
    const list = this.list(s);
    return list[list.length - 1] as TrackingEvent;
  }
}

function trackingStatus(code: string): string {
  if (code === 'DE') return 'delivered';
  if (code === 'EX') return 'error';
  if (code === 'UN' || code === 'NY') return 'unknown';
  return 'in_transit';
}

function trackingUrl(carrierCode: string, trackingNumber: string): string {
  if (carrierCode === 'ups') return `https://www.ups.com/track?tracknum=${trackingNumber}`;
  if (carrierCode === 'fedex') return `https://www.fedex.com/fedextrack/?trknbr=${trackingNumber}`;
  return `https://tools.usps.com/go/TrackConfirmAction.action?tLabels=${trackingNumber}`;
}

/** The tracking_information object of a label (also the `data` of TRACK_EVENT_V2). */
export function renderTracking(s: ShipmentRecord, book: TrackingBook): Record<string, unknown> {
  const events = s.voided ? [] : book.list(s);
  const last = events[events.length - 1];
  const code = last?.statusCode ?? 'UN';
  const delivered = events.find((e) => e.statusCode === 'DE');
  return {
    tracking_number: s.trackingNumber,
    tracking_url: trackingUrl(s.carrierCode, s.trackingNumber),
    status_code: code,
    status_detail_code: null,
    status_detail_description: null,
    carrier_code: s.carrierCode,
    carrier_id: carrierIdFor(s.carrierCode),
    status_description: STATUS_TEXT[code] ?? code,
    carrier_status_code: code,
    carrier_detail_code: null,
    carrier_status_description: last?.description ?? STATUS_TEXT[code] ?? code,
    ship_date: iso(s.shipDate),
    estimated_delivery_date: null,
    actual_delivery_date: delivered ? iso(delivered.at) : null,
    exception_description: code === 'EX' ? (last?.description ?? null) : null,
    events: events.map((e) => ({
      occurred_at: iso(e.at),
      carrier_occurred_at: iso(e.at),
      description: e.description,
      city_locality: null,
      state_province: null,
      postal_code: null,
      country_code: null,
      company_name: null,
      signer: null,
      event_code: e.statusCode,
      carrier_detail_code: null,
      status_code: e.statusCode,
      status_detail_code: null,
      status_description: STATUS_TEXT[e.statusCode] ?? e.statusCode,
      status_detail_description: null,
      carrier_status_code: e.statusCode,
      carrier_status_description: e.description,
      latitude: null,
      longitude: null,
    })),
  };
}

/** A tracking number nobody in the account knows (ShipEngine answers `UN`, not 404). */
function unknownTracking(carrierCode: string, trackingNumber: string): Record<string, unknown> {
  return {
    tracking_number: trackingNumber,
    tracking_url: null,
    status_code: 'UN',
    status_detail_code: null,
    status_detail_description: null,
    carrier_code: carrierCode,
    carrier_id: CARRIER_IDS[carrierCode] ?? null,
    status_description: 'Unknown',
    carrier_status_code: null,
    carrier_detail_code: null,
    carrier_status_description: null,
    ship_date: null,
    estimated_delivery_date: null,
    actual_delivery_date: null,
    exception_description: null,
    events: [],
  };
}

export interface LabelRenderContext {
  ctx: SandboxContext;
  tracking: TrackingBook;
  baseUrl(): string;
}

/** The V2 label of one V1 shipment. */
export function renderV2Label(
  s: ShipmentRecord,
  r: LabelRenderContext,
  body?: OrderBody,
): Record<string, unknown> {
  const order = r.ctx.state.orders.get(s.orderId);
  const b = body ?? order?.body() ?? {};
  const v2 = (b.v2 ?? {}) as Record<string, unknown>;
  const shipTo = (b.shipTo ?? {}) as Record<string, unknown>;
  const dims = (b.dimensions ?? null) as Record<string, unknown> | null;
  const labelId = seId(s.shipmentId);
  const download = `${r.baseUrl()}/v2/downloads/10/${labelId}/label`;
  const weight = { value: s.weightOunces, unit: 'ounce' };
  return {
    label_id: labelId,
    status: s.voided ? 'voided' : 'completed',
    shipment_id: seId(s.orderId),
    external_shipment_id: order?.orderKey ?? null,
    external_order_id: typeof v2.external_order_id === 'string' ? v2.external_order_id : null,
    ship_date: v2Date(s.shipDate),
    created_at: iso(s.createDate),
    shipment_cost: money(s.shipmentCost),
    insurance_cost: money(s.insuranceCost),
    requested_comparison_amount: null,
    tracking_number: s.trackingNumber,
    is_return_label: false,
    rma_number: null,
    is_international: typeof shipTo.country === 'string' && shipTo.country.toUpperCase() !== 'US',
    batch_id: seId(s.batchId),
    carrier_id: carrierIdFor(s.carrierCode),
    charge_event: 'carrier_default',
    outbound_label_id: null,
    service_code: s.serviceCode,
    test_label: false,
    package_code: s.packageCode,
    validate_address: 'no_validation',
    voided: s.voided,
    voided_at: s.voided ? iso(s.voidDate) : null,
    label_download_type: 'url',
    label_format: 'pdf',
    display_scheme: 'label',
    label_layout: '4x6',
    trackable: true,
    label_image_id: null,
    carrier_code: s.carrierCode,
    tracking_status: s.voided ? 'unknown' : trackingStatus(r.tracking.latest(s).statusCode),
    label_download: {
      href: `${download}.pdf`,
      pdf: `${download}.pdf`,
      png: `${download}.png`,
      zpl: `${download}.zpl`,
    },
    form_download: null,
    paperless_download: null,
    insurance_claim: null,
    packages: [
      {
        package_id: s.shipmentId,
        package_code: s.packageCode,
        weight,
        dimensions: dims
          ? {
              unit: dims.units === 'centimeters' ? 'centimeter' : 'inch',
              length: dims.length ?? 0,
              width: dims.width ?? 0,
              height: dims.height ?? 0,
            }
          : { unit: 'inch', length: 0, width: 0, height: 0 },
        insured_value: money(0),
        tracking_number: s.trackingNumber,
        label_messages: { reference1: null, reference2: null, reference3: null },
        external_package_id: null,
        content_description: null,
        sequence: 1,
      },
    ],
    alternative_identifiers: [],
  };
}

export function registerV2LabelRoutes(app: FastifyInstance, r: LabelRenderContext): void {
  const { state } = r.ctx;
  const render = (s: ShipmentRecord) => renderV2Label(s, r);
  const find = (idText: string): ShipmentRecord => {
    const id = /^se-\d{1,15}$/i.test(idText) ? parseSeId(idText) : undefined;
    const s = id === undefined ? undefined : state.shipments.get(id);
    if (!s) throw v2Error(404, 'validation', 'invalid_identifier', `Label '${idText}' was not found.`);
    return s;
  };

  app.get('/v2/labels', async (request) => {
    const q = new V2Query(request);
    const status = q.oneOf('label_status', ['processing', 'completed', 'error', 'voided'] as const);
    const serviceCode = q.string('service_code');
    const carrierId = q.string('carrier_id');
    const trackingNumber = q.string('tracking_number');
    const batchId = q.id('batch_id');
    const rateId = q.string('rate_id');
    const shipmentId = q.id('shipment_id');
    const warehouseId = q.id('warehouse_id');
    const createdStart = q.instant('created_at_start');
    const createdEnd = q.instant('created_at_end');
    const sortField = q.oneOf('sort_by', ['created_at', 'modified_at'] as const) ?? 'created_at';
    const dir = q.sortDir() === 'asc' ? 1 : -1;
    const modifiedAt = (s: ShipmentRecord) => (s.voided ? s.voidDate : s.createDate);
    const rows: ShipmentRecord[] = [];
    const candidates =
      shipmentId !== undefined
        ? (state.shipmentIdsByOrder.get(shipmentId) ?? []).map((id) => state.shipments.get(id))
        : batchId !== undefined
          ? (state.labelBatches.get(batchId) ?? []).map((id) => state.shipments.get(id))
          : [...state.shipments.values()];
    for (const s of candidates) {
      if (!s) continue;
      if (rateId !== undefined) continue;
      if (status !== undefined && (s.voided ? 'voided' : 'completed') !== status) continue;
      if (serviceCode !== undefined && s.serviceCode !== serviceCode) continue;
      if (carrierId !== undefined && carrierIdFor(s.carrierCode) !== carrierId) continue;
      if (trackingNumber !== undefined && s.trackingNumber !== trackingNumber) continue;
      if (batchId !== undefined && s.batchId !== batchId) continue;
      if (warehouseId !== undefined && s.warehouseId !== warehouseId) continue;
      if (createdStart !== undefined && s.createDate < createdStart) continue;
      if (createdEnd !== undefined && s.createDate > createdEnd) continue;
      rows.push(s);
    }
    const key = sortField === 'modified_at' ? modifiedAt : (s: ShipmentRecord) => s.createDate;
    rows.sort((a, b) => dir * (key(a) - key(b) || a.shipmentId - b.shipmentId));
    const page = v2Paged(request, rows, r.baseUrl());
    return {
      labels: page.items.map(render),
      total: page.total,
      page: page.page,
      pages: page.pages,
      links: page.links,
    };
  });

  app.get<{ Params: { id: string } }>('/v2/labels/:id', async (request) => render(find(request.params.id)));

  app.put<{ Params: { id: string } }>('/v2/labels/:id/void', async (request) => {
    const s = find(request.params.id);
    if (s.voided) {
      return {
        approved: false,
        message: `Label ${request.params.id} is already voided.`,
        reason_code: 'label_already_voided',
      };
    }
    state.voidLabel(s.shipmentId);
    return { approved: true, message: 'This label has been voided.' };
  });

  app.get<{ Params: { id: string } }>('/v2/labels/:id/track', async (request) =>
    renderTracking(find(request.params.id), r.tracking),
  );

  app.get('/v2/tracking', async (request) => {
    const q = new V2Query(request);
    const carrierCode = q.string('carrier_code');
    const trackingNumber = q.string('tracking_number');
    if (!carrierCode || !trackingNumber) {
      throw v2Error(
        400,
        'validation',
        'field_value_required',
        'carrier_code and tracking_number are required.',
        carrierCode ? 'tracking_number' : 'carrier_code',
      );
    }
    let found: ShipmentRecord | undefined;
    for (const s of state.shipments.values()) {
      if (s.trackingNumber === trackingNumber && s.carrierCode === carrierCode) found = s;
    }
    return found ? renderTracking(found, r.tracking) : unknownTracking(carrierCode, trackingNumber);
  });

  app.post<{ Params: { shipmentId: string } }>(
    '/_sandbox/labels/:shipmentId/track',
    async (request, reply) => {
      const id = parseSeId(request.params.shipmentId);
      const s = id === undefined ? undefined : state.shipments.get(id);
      if (!s) return reply.code(404).send({ error: `No label ${request.params.shipmentId}.` });
      const raw =
        typeof request.body === 'string' && request.body.trim() !== '' ? JSON.parse(request.body) : {};
      const code = typeof raw.status_code === 'string' ? raw.status_code.toUpperCase() : '';
      if (!['IT', 'AT', 'DE', 'EX'].includes(code)) {
        return reply.code(400).send({ error: 'status_code must be IT, AT, DE or EX.' });
      }
      if (s.voided) return reply.code(400).send({ error: `Label ${s.shipmentId} is voided.` });
      const description = typeof raw.description === 'string' ? raw.description : (STATUS_TEXT[code] ?? code);
      r.tracking.add(s, { at: r.ctx.now(), statusCode: code, description });
      return renderTracking(s, r.tracking);
    },
  );
}
