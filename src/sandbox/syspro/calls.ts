/**
 * Every logon, logoff and business-object call the sandbox receives, in order, for tests and operators
 * ("was SORTDN posted twice for this shipment?"). Passwords are never recorded.
 */

export interface SysproCall {
  seq: number;
  /** Sandbox clock time, epoch ms. */
  at: number;
  /** e.g. `Transaction/Post`, `Query/Query`, `Setup/Add`, `Logon`. */
  method: string;
  businessObject: string;
  operator: string;
  userId: string;
  xmlParameters: string;
  xmlIn: string;
  /** The body returned (empty when the connection was dropped or hung). */
  response: string;
  /** ok; invalid (XmlOut with errors); error (`ERROR:` text); fault (injected). */
  outcome: 'ok' | 'invalid' | 'error' | 'fault';
  /** True when the call was a dry run (ValidateOnly=Y / Process=Validate) and changed nothing. */
  validateOnly: boolean;
  /** An injected fault that hit this call (e.g. `lost`: it took effect, the answer was dropped). */
  fault?: string;
}

export interface CallFilter {
  businessObject?: string;
  method?: string;
  /** Substring that must occur in XmlIn (e.g. a tracking number or sales order). */
  contains?: string;
  sinceSeq?: number;
  outcome?: SysproCall['outcome'];
}

export class CallLog {
  private readonly calls: SysproCall[] = [];
  private seq = 0;

  record(call: Omit<SysproCall, 'seq'>): SysproCall {
    const entry = { seq: ++this.seq, ...call };
    this.calls.push(entry);
    if (this.calls.length > 50_000) this.calls.shift();
    return entry;
  }

  list(filter: CallFilter = {}): SysproCall[] {
    return this.calls.filter(
      (c) =>
        (!filter.businessObject || c.businessObject === filter.businessObject.toUpperCase()) &&
        (!filter.method || c.method.toLowerCase() === filter.method.toLowerCase()) &&
        (!filter.contains ||
          c.xmlIn.includes(filter.contains) ||
          c.xmlParameters.includes(filter.contains)) &&
        (filter.sinceSeq === undefined || c.seq > filter.sinceSeq) &&
        (!filter.outcome || c.outcome === filter.outcome),
    );
  }

  count(filter: CallFilter = {}): number {
    return this.list(filter).length;
  }

  clear(): void {
    this.calls.length = 0;
  }
}

/** One OData GET the sandbox answered (the query as received, decoded). */
export interface ODataRequest {
  seq: number;
  at: number;
  /** The entity set (`SorDetail`), or the path as asked for. */
  table: string;
  filter?: string;
  top?: number;
  skip?: number;
  status: number;
  /** Rows in the answer's `value`. */
  rows: number;
}

/** Every OData request, for tests and benches ("how many reads did the open lines take?"). */
export class ODataLog {
  private readonly requests: ODataRequest[] = [];
  private seq = 0;

  record(request: Omit<ODataRequest, 'seq'>): void {
    this.requests.push({ seq: ++this.seq, ...request });
    if (this.requests.length > 50_000) this.requests.shift();
  }

  list(filter: { table?: string } = {}): ODataRequest[] {
    return this.requests.filter((r) => !filter.table || r.table === filter.table);
  }

  count(filter: { table?: string } = {}): number {
    return this.list(filter).length;
  }

  clear(): void {
    this.requests.length = 0;
  }
}
