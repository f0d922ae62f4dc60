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
  /**
   * Wanted orders after `to` read in the same request by key (`… or SalesOrder eq …`), in the URL
   * the range leaves free (`keysPerRange`); absent when none.
   */
  extra?: string[];
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
  /**
   * Sales orders a range request carries by key besides its range (0, the default: none). A range
   * read uses its rows, a key list its URL, so one request can do both: in a sparse stretch a range
   * of ~60 orders plus ~45 keys read in one request what took two.
   */
  keysPerRange?: number;
}

/**
 * Groups the orders: walking them in number order, a group grows while the rows its span would read
 * (with its extra keys' rows) fit one range request; a group becomes a range read when it holds
 * more orders than one key-list request carries (one request instead of more than one), and then
 * the next `keysPerRange` orders ride along as its extra keys; a smaller group goes by key list.
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
  const lines = Math.max(options.linesPerOrder, 0.01);
  const extraPerRange = Math.max(0, Math.floor(options.keysPerRange ?? 0));
  // The extra keys' rows come out of the range's share of the request.
  const rangeRows = Math.max(lines, options.rowsPerRequest - extraPerRange * lines);
  const spanLimit = Math.max(1, Math.floor(rangeRows / lines));
  for (const list of byWidth.values()) {
    list.sort();
    let group: string[] = [];
    // The range whose extra keys are being filled, if any.
    let open: string[] | undefined;
    const close = () => {
      // A range request (with its extra keys) must carry a quarter more orders than a key list.
      const carries = group.length + extraPerRange;
      if (
        group.length > 1 &&
        (carries > 1.25 * options.keysPerRequest || group.length > options.keysPerRequest)
      ) {
        const range: RangeGroup = {
          from: group[0] as string,
          to: group[group.length - 1] as string,
          orders: group,
        };
        ranges.push(range);
        if (extraPerRange > 0) {
          range.extra = [];
          open = range.extra;
        }
      } else {
        keys.push(...group);
      }
      group = [];
    };
    /** Adds `order` to the open range's extra keys; false when none is open. */
    const ride = (order: string): boolean => {
      if (!open) return false;
      open.push(order);
      if (open.length >= extraPerRange) open = undefined;
      return true;
    };
    for (const order of list) {
      if (ride(order)) continue;
      const first = group[0];
      if (first !== undefined && Number(order) - Number(first) + 1 > spanLimit) {
        close();
        if (ride(order)) continue;
      }
      group.push(order);
    }
    close();
    open = undefined;
  }
  // A range that ended up carrying no more than one key list would (few extra keys came after it)
  // reads rows for nothing: its orders go by key.
  const kept: RangeGroup[] = [];
  for (const range of ranges) {
    if (range.extra?.length === 0) delete range.extra;
    const carried = range.orders.length + (range.extra?.length ?? 0);
    if (carried > options.keysPerRequest) kept.push(range);
    else keys.push(...range.orders, ...(range.extra ?? []));
  }
  return { ranges: kept, keys };
}
