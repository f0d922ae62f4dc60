/**
 * The V1 implementation of the flows' `ShipStation` (api.ts): the V1 client as it is, with the
 * poll windows written as V1's Pacific filters. Orders are V1 orders, labels V1 shipments.
 */
import type { ShipStation } from '../api.js';
import { formatPacificFilter } from '../pacific-time.js';
import type { V1Order } from '../types.js';
import type { ShipStationV1Client } from './client.js';

export function shipStationV1(client: ShipStationV1Client): ShipStation {
  return {
    api: 'v1',
    rateLimitKey: client.rateLimitKey,
    recordTimes: 'pacific',
    keyLookup: 'search',
    filterTime: formatPacificFilter,
    createOrUpdateOrders: (orders, signal) => client.createOrUpdateOrders(orders, signal),
    getOrder: (orderId, signal) => client.getOrder(orderId, signal),
    holdOrderUntil: (orderId, date, signal) => client.holdOrderUntil(orderId, date, signal),
    listLabels: (query, signal) => {
      const window = query.created ?? query.voided;
      if (!window) throw new RangeError('listLabels needs a created or a voided window');
      const start = formatPacificFilter(window.start);
      const end = formatPacificFilter(window.end);
      return client.listShipments(
        {
          ...(query.created ? { createDateStart: start, createDateEnd: end } : {}),
          ...(query.created ? {} : { voidDateStart: start, voidDateEnd: end }),
          includeShipmentItems: true,
          // voidDate is not a sort key: ascending createDate keeps new voids from shifting earlier pages much.
          sortBy: 'CreateDate',
          sortDir: 'ASC',
          pageSize: query.pageSize,
        },
        signal,
      );
    },
    listFulfillments: (query, signal) =>
      client.listFulfillments(
        {
          createDateStart: formatPacificFilter(query.created.start),
          createDateEnd: formatPacificFilter(query.created.end),
          sortBy: 'CreateDate',
          sortDir: 'ASC',
          pageSize: query.pageSize,
        },
        signal,
      ),
    fetchResource: (resourceUrl, options) => client.fetchResource(resourceUrl, options),
    async findOrderByKey(orderKey, orderNumber, signal) {
      const how = `GET /orders?orderNumber=${orderNumber}`;
      let sameNumber: V1Order | undefined;
      let pages = 0;
      for await (const page of client.listOrders({ orderNumber, pageSize: 100 }, signal)) {
        for (const o of page.items) {
          if (o.orderKey === orderKey) return { order: o, how };
          if (o.orderNumber === orderNumber) sameNumber ??= o;
        }
        if (++pages >= 5) break;
      }
      return sameNumber ? { sameNumber, how } : { how };
    },
  };
}
