/**
 * How a batch's open order lines are read from OData SorDetail: by key list (`SalesOrder eq …`,
 * ~50 orders a request within a 2,000-character URL) or, where the batch's sales orders are dense in
 * number order, by range (`SalesOrder ge 'A' and SalesOrder le 'B'`, up to 5,000 rows a request),
 * keeping only the wanted orders. Per group, whichever costs fewer requests.
 *
 * Assumption (syspro-api.md: keys zero-padded to 15 in SYSPRO's outputs; the sandbox pads to 6):
 * sales order numbers of one width made only of digits sort as text in number order, so a text range
 * on the server holds exactly the numbers between its ends. Only such orders take part; alphanumeric
 * ones (`16R069`) and other widths go by key. `syspro.odata.rangeReads: false` switches it off.
 */

export interface RangeGroup {
  from: string;
  to: string;
  /** The wanted sales orders inside [from, to]. */
  orders: string[];
}

export interface OpenLineReadPlan {
  ranges: RangeGroup[];
  keys: string[];
}

export interface PlanOptions {
  /** Lines per sales order expected in SorDetail (rows a range reads per order number it spans). */
  linesPerOrder: number;
  /** Rows one range request returns. */
  rowsPerRequest: number;
  /** Sales orders one key-list request carries (within the URL limit). */
  keysPerRequest: number;
}

/**
 * Groups the orders: walking them in number order, a group grows while the rows its span would read
 * fit one range request; a group becomes a range read when it holds more orders than one key-list
 * request carries (one request instead of more than one), otherwise its orders go by key list.
 */
export function planOpenLineReads(salesOrders: readonly string[], options: PlanOptions): OpenLineReadPlan {
  const keys: string[] = [];
  const byWidth = new Map<number, string[]>();
  for (const order of new Set(salesOrders)) {
    if (/^\d+$/.test(order) && order.length <= 15) {
      const list = byWidth.get(order.length) ?? [];
      list.push(order);
      byWidth.set(order.length, list);
    } else {
      keys.push(order);
    }
  }
  const ranges: RangeGroup[] = [];
  const spanLimit = Math.max(1, Math.floor(options.rowsPerRequest / Math.max(options.linesPerOrder, 0.01)));
  for (const list of byWidth.values()) {
    list.sort();
    let group: string[] = [];
    const close = () => {
      if (group.length > options.keysPerRequest && group.length > 1) {
        ranges.push({ from: group[0] as string, to: group[group.length - 1] as string, orders: group });
      } else {
        keys.push(...group);
      }
      group = [];
    };
    for (const order of list) {
      const first = group[0];
      if (first !== undefined && Number(order) - Number(first) + 1 > spanLimit) close();
      group.push(order);
    }
    close();
  }
  return { ranges, keys };
}
