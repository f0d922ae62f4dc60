/**
 * The one configuration schema: the YAML file (default `./ml-connector.yaml`) after environment
 * overrides (`ML_CONNECTOR_*`, see `env.ts`) is validated here. Every field has a default where a
 * sensible one exists, so a minimal file only names the connection endpoints and secret references.
 *
 * Secrets are never values in the file: fields that hold a credential take a reference
 * `secret:<name>` that is resolved at run time from the encrypted store (`ml-connector creds set`)
 * or from the environment (`ML_CONNECTOR_SECRET_<CONNECTION>_<NAME>`), see `secrets.ts`.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';

/** A duration such as `30s`, `5m`, `1h`; becomes milliseconds. */
export const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration like 30s, 5m or 1h, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

/** A reference to a stored secret, written `secret:<name>` (for example `secret:shipstation.apiSecret`). */
export const secretRef = z
  .string()
  .regex(/^secret:[A-Za-z0-9_.-]+$/, {
    message:
      'expected a secret reference like "secret:shipstation.apiSecret" (store the value with `ml-connector creds set`), never the secret itself',
  })
  .transform((ref) => ({ secret: ref.slice('secret:'.length) }));
export type SecretRef = z.output<typeof secretRef>;

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

export const sysproSchema = z.strictObject({
  /** e.net REST service root, e.g. `http://erp:20161/SYSPROWCFService/Rest`. */
  enetUrl: httpUrl,
  /** OData service root, e.g. `http://erp:40000/SYSPRO8/OData` (the path is configurable per site). */
  odataUrl: httpUrl,
  operator: z.string().min(1),
  operatorPassword: secretRef.optional(),
  company: z.string().min(1),
  companyPassword: secretRef.optional(),
  /** OData uses Basic auth as an OData-enabled operator; defaults to the e.net operator. */
  odataUser: z.string().min(1).optional(),
  odataPassword: secretRef.optional(),
  /** IANA zone SYSPRO's date-only fields are read in (SYSPRO stores local dates without offsets). */
  timezone: z.string().default('UTC'),
  /** Sales order statuses (`SorMaster.OrderStatus`) that are pushed to ShipStation. */
  orderStatuses: z.array(z.string()).default(['1', '2', '3', '4', '8']),
  /** A change column some sites expose on SorMaster (SYSPRO has none by default). */
  changeColumn: z.string().optional(),
  /** How long an e.net or OData request may take before it is abandoned. */
  requestTimeout: duration.default(60_000),
  /**
   * Longest e.net request URL (e.net takes every argument in the query string; HTTP.sys refuses
   * request lines over 16 KB by default). Longer calls fail before sending; send fewer items.
   */
  maxUrlLength: z.number().int().min(1000).default(16_000),
  /**
   * How e.net query values are percent-encoded: `compact` leaves `/ : @ ,` plain (RFC 3986 allows
   * them in a query; notes are ~5% shorter), `strict` encodes them as well, for a site that refuses
   * them (UNCONFIRMED how e.net decodes its query string).
   */
  queryEncoding: z.enum(['compact', 'strict']).default('compact'),
  /** Charset of e.net answers when the server names none: `auto` = UTF-8 if valid, else Windows-1252. */
  responseCharset: z.enum(['auto', 'utf-8', 'windows-1252']).default('auto'),
  /**
   * Extra regular expressions for e.net `ERROR` texts that mean "session no longer valid" at this
   * site (SYSPRO does not publish the wording), so the client logs on again instead of failing.
   */
  sessionErrorPatterns: z.array(z.string()).default([]),
  /** When every e.net licence seat is taken at logon: wait and retry this many times (0 = fail at once, retried by the engine). */
  licenceWait: z
    .strictObject({ attempts: z.number().int().min(0).default(0), delay: duration.default(30_000) })
    .prefault({}),
  /** OData paging: rows per request (at most the server's 5,000 cap) and the longest URL built. */
  odata: z
    .strictObject({
      pageSize: z.number().int().min(1).max(5000).default(500),
      maxUrlLength: z.number().int().min(500).default(2000),
      /** How the site's OData types date columns (`DateTimeOffset` or `Date`); decides filter literals. */
      dateType: z.enum(['DateTimeOffset', 'Date']).default('DateTimeOffset'),
      /**
       * How key-list reads are written: `or` (`K eq 'a' or K eq 'b'`, OData 4.0) or `in`
       * (`K in ('a','b')`, OData 4.01: about three times the keys per request). Whether SYSPRO
       * takes `in` is UNCONFIRMED, so `or` is the default.
       */
      keyList: z.enum(['or', 'in']).default('or'),
      /**
       * Read a batch's open order lines by number range (`SalesOrder ge 'A' and SalesOrder le 'B'`)
       * where its sales orders are dense, keeping only the wanted orders; key lists elsewhere. Only
       * all-digit sales order numbers of one width take part (SYSPRO zero-pads them, so text order is
       * number order; UNCONFIRMED per site, hence the switch). An order a range misses is re-read by key.
       */
      rangeReads: z.boolean().default(true),
      /** Rows per request of a range read (at most the server's 5,000 cap). */
      rangePageSize: z.number().int().min(1).max(5000).default(5000),
    })
    .prefault({}),
  /** COMSFM form type of sales-order custom form fields (UNCONFIRMED per site; `ORD` in the sandbox). */
  customFormType: z.string().default('ORD'),
  /** How a shipment is written back: one dispatch note per shipment, or an order update + status. */
  writeback: z.enum(['dispatch-note', 'order-update']).default('dispatch-note'),
  /** Run every SYSPRO write with ValidateOnly=Y (a dry run). */
  validateOnly: z.boolean().default(false),
  /**
   * Let `run` use an `http://` enetUrl or odataUrl on a host other than loopback, which sends the
   * operator, company and OData passwords in clear text (see `insecureHttpProblems`). Off by default;
   * `config check` and `ping` warn either way.
   */
  allowInsecureHttp: z.boolean().default(false),
});

export const shipstationSchema = z.strictObject({
  /**
   * Which ShipStation API the orders and shipments flows use: `v1` (legacy; orders, shipments,
   * fulfillments) or `v2` (shipments, labels, fulfillments; needs `v2ApiKey`). `ml-connector
   * shipstation migrate-links --to v2` moves a connection's links (the ids are the same numbers).
   */
  api: z.enum(['v1', 'v2']).default('v1'),
  /** Currency of order money on V2 (V1 orders carry none). */
  currency: z
    .string()
    .regex(/^[a-z]{3}$/)
    .default('usd'),
  /**
   * V2 ship-from warehouse (its number: V1 `warehouseId` N is V2 `se-N`) for orders whose mapping
   * names none; V2 needs one. Default: the account's default warehouse (`GET /v2/warehouses`).
   */
  v2WarehouseId: z.number().int().positive().optional(),
  /** V2 holds are dated: an order held without a date (V1 `on_hold`) is held until this date. */
  v2HoldUntil: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .default('2099-12-31'),
  v1Url: httpUrl.default('https://ssapi.shipstation.com'),
  /**
   * The V1 key/secret pair (Basic auth). Needed with `api: v1`, and for marketplace orders
   * (`channelOrders`, V1 only); a `v2` connection without them never calls V1 (many accounts have
   * no V1 access: V1 is limited to the larger plans).
   */
  apiKey: secretRef.optional(),
  apiSecret: secretRef.optional(),
  v2Url: httpUrl.default('https://api.shipstation.com'),
  v2ApiKey: secretRef.optional(),
  /**
   * Our secret for the V1 webhook receiver (V1 webhooks are unsigned): it is carried as `?token=`
   * in the URL `ml-connector webhooks subscribe` subscribes. Without it, the receiver refuses this
   * connection's webhooks and shipments are found by polling only.
   */
  webhookSecret: secretRef.optional(),
  /** The ShipStation store orders are created in (`advancedOptions.storeId`). */
  storeId: z.number().int().positive().optional(),
  /**
   * Hosts a webhook's `resource_url` may point at besides ShipStation's own API hosts
   * (`ssapi.shipstation.com` and its numbered shards). Only for the sandbox or a proxy.
   */
  allowedResourceHosts: z.array(z.string()).default([]),
  /**
   * V1's budget per key/secret pair, as assumed until ShipStation's `X-Rate-Limit-Limit` header
   * says otherwise (the header wins, up or down: a partner key gets 100/min). Shared with every
   * process on the same store and every connection on the same key.
   */
  rateLimit: z
    .strictObject({ limit: z.number().int().positive().default(40), window: duration.default(60_000) })
    .prefault({}),
  /** V2's own budget per API key (200/min by default), corrected by its headers when it sends them. */
  v2RateLimit: z
    .strictObject({ limit: z.number().int().positive().default(200), window: duration.default(60_000) })
    .prefault({}),
  /**
   * A ShipStation partner key, sent as the `x-partner` header on V1 requests. Observed to raise
   * V1's limit to 100/min (reference §10; its server meaning is otherwise UNCONFIRMED).
   */
  partnerKey: secretRef.optional(),
  /**
   * Order push batches (one create call of up to 100 orders each) in flight at once. Default 1 on
   * V1 (40 requests/min leave 1.5 s per call) and 4 on V2 (200/min leave 0.3 s per call, less than
   * one bulk create takes: one at a time cannot spend the budget). The limiter still holds every
   * call to the budget. The orders push handler of a process runs the largest value of its
   * connections (see docs/decisions.md "V2 order push at the budget").
   */
  pushConcurrency: z.number().int().min(1).max(16).optional(),
  /**
   * Orders per push call (`createorders` / V2 bulk create), at most 100 (ShipStation's most per
   * call). Default 100. Smaller calls carry fewer orders per request of the budget; they are for
   * very large orders (long bodies, slow answers) and for benches that put the budget within
   * reach. The orders push handler of a process uses the smallest value of its connections.
   */
  pushBatchSize: z.number().int().min(1).max(100).default(100),
  /** How long one ShipStation request may take. */
  requestTimeout: duration.default(30_000),
  /** Attempts for calls that are safe to repeat (network errors, timeouts, 5xx), with capped exponential backoff. */
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(10).default(4),
      base: duration.default(500),
      max: duration.default(30_000),
    })
    .prefault({}),
});

export const pollSchema = z
  .strictObject({
    orders: duration.default(600_000),
    shipments: duration.default(600_000),
    customers: duration.default(1_800_000),
    /** `0` turns a poll off. */
    inventory: duration.default(0),
    /** The reconciling poll of marketplace orders (`channelOrders`), beside ORDER_NOTIFY; `0` = webhooks only. */
    channelOrders: duration.default(0),
  })
  .prefault({});

export const connectionSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, {
      message: 'expected lower-case letters, digits and dashes, e.g. "main"',
    }),
    syspro: sysproSchema,
    shipstation: shipstationSchema,
    polls: pollSchema,
    /**
     * The connection's operator API (`POST /api/connections/<name>/orders/<salesOrder>/sync`, the
     * nudge a SYSPRO trigger calls). `token`: the bearer token callers send, a reference such as
     * `secret:api.token`; without it the nudge answers 404 for this connection.
     */
    api: z.strictObject({ token: secretRef.optional() }).prefault({}),
    mappings: z
      .strictObject({
        /** SYSPRO warehouse → ShipStation warehouse id. */
        warehouses: z.record(z.string(), z.number().int()).default({}),
        /** ShipStation carrier code → SYSPRO shipping instruction / carrier text. */
        carriers: z.record(z.string(), z.string()).default({}),
        /** Order lines whose SYSPRO line type is one of these are not sent as items. */
        skipLineTypes: z.array(z.string()).default(['4', '5', '6']),
      })
      .prefault({}),
    /**
     * Freight → SYSPRO (src/sync/freight.ts): after a shipment is written back, its `shipmentCost` +
     * `insuranceCost` once per shipment, as a GENTJL journal (debit `glAccount`, and
     * `insuranceGlAccount` for insurance when set; credit `offsetGlAccount`) or a SORTOI freight line.
     */
    freight: z
      .strictObject({
        enabled: z.boolean().default(false),
        method: z.enum(['journal', 'order-line']).default('journal'),
        glAccount: z.string().optional(),
        offsetGlAccount: z.string().optional(),
        /** Ledger code debited with the insurance cost (default: `glAccount`). */
        insuranceGlAccount: z.string().optional(),
        /** A voided label whose freight was posted: `reverse` (a reversing journal) or `flag` (dead job, audited). */
        voids: z.enum(['reverse', 'flag']).default('reverse'),
        /** GENTJL `SourceCode` (2 characters). */
        sourceCode: z.string().max(2).default('GJ'),
      })
      .prefault({}),
    /**
     * Inventory SYSPRO → ShipStation V2 (src/sync/inventory-push.ts, poll `polls.inventory`): the
     * available quantity per stock code and warehouse, pushed with `adjust` only where it changed.
     */
    inventory: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** SYSPRO warehouses read (default: every key of `locations`). */
        warehouses: z.array(z.string()).default([]),
        /** SYSPRO warehouse → ShipStation V2 `inventory_location_id`; a warehouse without one is not pushed. */
        locations: z.record(z.string(), z.string()).default({}),
        /** Available = `QtyOnHand` − each of these InvWarehouse columns (never below 0). */
        subtract: z.array(z.string()).default(['QtyAllocated']),
      })
      .prefault({}),
    /**
     * Marketplace (channel) orders → SYSPRO sales orders (src/sync/channel-orders.ts): orders that
     * arrive in ShipStation from these stores (never the connector's own store) become SORTOI orders.
     */
    channelOrders: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** ShipStation store ids whose orders are imported. */
        stores: z.array(z.number().int().positive()).default([]),
        /** ShipStation store id → SYSPRO customer (wins over the e-mail match). */
        customers: z.record(z.string(), z.string()).default({}),
        /** Find the customer by `ArCustomer.Email` = the order's customerEmail. */
        matchEmail: z.boolean().default(true),
        /** The cash customer used when neither matches (the ship-to goes on the order). */
        defaultCustomer: z.string().optional(),
        /** SYSPRO warehouse of the lines (default: the customer's). */
        warehouse: z.string().optional(),
        /** Prefixed to the marketplace order number in `CustomerPoNumber` (30 characters in all). */
        poPrefix: z.string().max(10).default(''),
        /** Where the SYSPRO sales order number is written on the ShipStation order. */
        linkField: z
          .enum(['internalNotes', 'customField1', 'customField2', 'customField3'])
          .default('internalNotes'),
        /** Misc-charge product classes of the tax and discount lines (SYSPRO `MiscProductClass`). */
        taxProductClass: z.string().default('TAX'),
        discountProductClass: z.string().default('DISC'),
        /** A marketplace cancellation: `delete-lines` (SORTOI change deleting every open line) or `flag`. */
        cancel: z.enum(['delete-lines', 'flag']).default('delete-lines'),
        /** How far back the first poll looks, and how far each poll re-reads before its checkpoint. */
        lookback: duration.default(2 * 86_400_000),
        overlap: duration.default(7_200_000),
      })
      .prefault({}),
    /** Shipment write-back to SYSPRO (src/sync/writeback.ts; strategy in `syspro.writeback`). */
    shipments: z
      .strictObject({
        /** How far back each window re-reads before its last checkpoint (late records, clock skew, DST). */
        overlap: duration.default(7_200_000),
        /** How far back the first poll of a connection looks. */
        lookback: duration.default(2 * 86_400_000),
        /**
         * A label voided in ShipStation after it was written: `flag` (the job ends dead with what to
         * undo by hand, audited) or `reverse` (order-update: the ship quantities are taken back;
         * a dispatch note is always flagged, SORTDC is not supported).
         */
        voids: z.enum(['reverse', 'flag']).default('flag'),
        /** The order-update strategy's custom form fields (COMSFM, form type `syspro.customFormType`). */
        orderUpdate: z
          .strictObject({
            trackingField: z.string().min(1).default('TRACKNO'),
            /** Width of the tracking field (UNCONFIRMED per site); numbers beyond it end as `+N more`. */
            trackingWidth: z.number().int().min(10).default(100),
            carrierField: z.string().min(1).default('CARRIER'),
            shipDateField: z.string().min(1).default('SHIPDATE'),
            /** SORTOS status once every merchandise line is shipped (`none`: leave the status). */
            completeStatus: z.enum(['4', '8', 'none']).default('8'),
          })
          .prefault({}),
      })
      .prefault({}),
    /** How SYSPRO sales orders become ShipStation orders (see src/sync/orders-mapper.ts). */
    orders: z
      .strictObject({
        /** `null`: the order number is SYSPRO's text; a number: leading zeros stripped, padded to that many digits. */
        orderNumberPadding: z.number().int().min(0).max(20).nullable().default(null),
        orderNumberPrefix: z.string().max(20).default(''),
        /** Which of the five SYSPRO address lines is the city, the state and the country (1-5). */
        addressLayout: z
          .strictObject({
            city: z.number().int().min(1).max(5).default(3),
            state: z.number().int().min(1).max(5).default(4),
            country: z.number().int().min(1).max(5).default(5),
          })
          .prefault({}),
        /** ISO-2 country when the country line is blank. */
        defaultCountry: z
          .string()
          .regex(/^[A-Z]{2}$/)
          .default('US'),
        /** Unit of SYSPRO's unit mass (`MStockUnitMass`). */
        massUnit: z.enum(['kg', 'g', 'lb', 'oz']).default('lb'),
        /** SYSPRO line types sent as items (1 stocked, 7 non-stocked; UNCONFIRMED codes, see decisions). */
        itemLineTypes: z.array(z.string()).default(['1', '7']),
        /** `ShippingInstrsCod` → ShipStation carrier, service and package codes. */
        shippingInstructions: z
          .record(
            z.string(),
            z.strictObject({
              carrierCode: z.string().optional(),
              serviceCode: z.string().optional(),
              packageCode: z.string().optional(),
            }),
          )
          .default({}),
        /** SYSPRO warehouse → ShipStation store id (else `shipstation.storeId`). */
        stores: z.record(z.string(), z.number().int().positive()).default({}),
        /** The custom field that carries the customer PO number. */
        customerPoField: z.enum(['customField1', 'customField2', 'customField3']).default('customField1'),
        /** How far back each poll re-reads orders entered before the last watermark. */
        entryOverlap: duration.default(86_400_000),
      })
      .prefault({}),
    /** The shipments poll (src/sync/shipments.ts): its windows over ShipStation's shipments and fulfillments. */
  })
  .superRefine((connection, ctx) => {
    // A SORTOI freight line is a change to the sales order. With dispatch notes, SYSPRO completes an
    // order once every line is dispatched (status 9; what the sandbox does, UNCONFIRMED for every
    // site) and refuses changes to a complete order, so the line could not be added to the orders
    // that matter most. Refused here rather than failing shipment by shipment.
    if (
      connection.freight.enabled &&
      connection.freight.method === 'order-line' &&
      connection.syspro.writeback === 'dispatch-note'
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['freight', 'method'],
        message:
          'order-line needs syspro.writeback: order-update (with dispatch notes a fully dispatched order is complete and SYSPRO refuses to change it); use method: journal with dispatch notes',
      });
    }
  });
export type ConnectionConfig = z.output<typeof connectionSchema>;

export const configSchema = z
  .strictObject({
    store: z
      .strictObject({
        /** `sqlite:<path>` (default), `sqlite::memory:`, or `postgres://user@host:port/db`. */
        url: z
          .string()
          .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, {
            message: 'expected "sqlite:<path>" or "postgres://user:pass@host:port/db"',
          })
          .default('sqlite:./data/ml-connector.db'),
        /**
         * PostgreSQL only: the password, as a reference `secret:<name>` read from the environment
         * variable `ML_CONNECTOR_SECRET_<NAME>` (e.g. `secret:store.password` →
         * `ML_CONNECTOR_SECRET_STORE_PASSWORD`), for a `store.url` without a password. Never from
         * `creds set`: the encrypted credentials live in the database it opens. Without it, a
         * password-less URL uses `PGPASSWORD`.
         */
        password: secretRef.optional(),
      })
      .superRefine((store, ctx) => {
        if (store.password && !/^postgres(ql)?:\/\//.test(store.url)) {
          ctx.addIssue({
            code: 'custom',
            path: ['password'],
            message: 'store.password applies to a postgres:// store.url only',
          });
        }
      })
      .prefault({}),
    http: z
      .strictObject({
        /** Address the HTTP server (health, webhooks, dashboard) listens on; loopback by default. */
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** The URL ShipStation reaches this service at (for webhook subscriptions). */
        publicUrl: httpUrl.optional(),
        /** Most webhook events stored in one transaction (group commit; each answered after its commit). */
        webhookBatch: z.number().int().min(1).max(5000).default(200),
        /** Most webhook events waiting to be stored; beyond it the receiver answers 503 with Retry-After. */
        webhookQueue: z.number().int().min(1).max(1_000_000).default(2000),
        /**
         * Stored webhook events wait in the inbox at most about this long (ms) before they are moved
         * into jobs, together (store/inbox-drainer.ts).
         */
        webhookDrainDelay: z.number().int().min(0).max(10_000).default(100),
        /** Most inbox rows moved into jobs in one transaction. */
        webhookDrainBatch: z.number().int().min(1).max(10_000).default(1000),
        /**
         * How often (ms) `run` looks for inbox rows nobody announced: on PostgreSQL, those a killed
         * process acknowledged; 0 = only at start and after its own receiver's commits.
         */
        webhookDrainSweep: z.number().int().min(0).max(3_600_000).default(5000),
        /**
         * Most webhook events waiting in the inbox (acknowledged, not yet moved into jobs) before the
         * receiver stops acknowledging: beyond it, 503 with Retry-After (ShipStation may deliver
         * again; the reconciling polls find the records anyway). 0 = no limit.
         */
        webhookInboxLimit: z.number().int().min(0).max(10_000_000).default(10_000),
      })
      .prefault({}),
    /**
     * The dashboard and the operator API (`/`, `/api/`) on the HTTP server: both need a login.
     * Secrets are stored hashed (`ml-connector dashboard hash-password` prints a hash; the format
     * is `scrypt$<N>$<r>$<p>$<salt>$<hash>`), never in clear. Without a password hash and without
     * API tokens the dashboard and the API answer 503 with how to set one.
     */
    dashboard: z
      .strictObject({
        /** Hash of the dashboard password (`ML_CONNECTOR_DASHBOARD__PASSWORD_HASH`). */
        passwordHash: z
          .string()
          .regex(/^scrypt\$/, { message: 'expected a hash from `ml-connector dashboard hash-password`' })
          .optional(),
        /** API tokens for scripts (`Authorization: Bearer <token>`), each with a name kept in the history of what it did. */
        apiTokens: z
          .array(
            z.strictObject({
              name: z.string().min(1),
              hash: z.string().regex(/^scrypt\$/, {
                message: 'expected a hash from `ml-connector dashboard hash-password`',
              }),
            }),
          )
          .default([]),
        /** A session ends after this long without a request. */
        sessionIdle: duration.default(12 * 3_600_000),
        /** Cookies carry `Secure` (browsers accept it on http://127.0.0.1 and localhost); turn off only behind plain http on another host. */
        secureCookies: z.boolean().default(true),
        /** Failed logins allowed per client address within the window, before 429. */
        loginAttempts: z
          .strictObject({ limit: z.number().int().min(1).default(10), window: duration.default(900_000) })
          .prefault({}),
      })
      .prefault({}),
    /**
     * On SIGTERM/SIGINT, how long `run` lets running jobs finish before it gives them back
     * (queued again) and exits.
     */
    shutdownTimeout: duration.default(30_000),
    /**
     * How long a claimed job is its process's without a heartbeat (beats every third of it). A
     * process that dies holds its jobs this long before another takes them over.
     */
    jobLease: duration.default(60_000),
    /** Key file used when `ML_CONNECTOR_MASTER_KEY` is not set; created with mode 0600 on first use. */
    masterKeyFile: z.string().default('./data/master.key'),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .prefault({}),
    retry: z
      .strictObject({
        /** Delay before each retry; a job that fails after the last one becomes dead. */
        cadence: z.array(duration).min(1).default([60_000, 300_000, 900_000, 3_600_000, 21_600_000]),
        /** Per job kind, e.g. `{ "shipment.writeback": ["30s", "2m", "10m"] }`. */
        perKind: z.record(z.string(), z.array(duration).min(1)).default({}),
        /** ±fraction of each delay added at random so retries of many jobs spread out. */
        jitter: z.number().min(0).max(1).default(0.2),
      })
      .prefault({}),
    retention: z
      .strictObject({
        /**
         * Succeeded and cancelled jobs (and their attempt history) are deleted this long after they
         * finished; `0` keeps them for ever. Dead jobs are always kept until replayed. The audit
         * trail is separate and not affected.
         */
        finishedJobs: duration.default(30 * 86_400_000),
      })
      .prefault({}),
    connections: z.array(connectionSchema).default([]),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.connections.forEach((c, i) => {
      if (seen.has(c.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['connections', i, 'name'],
          message: `connection name "${c.name}" is used twice`,
        });
      }
      seen.add(c.name);
      for (const problem of shipstationCredentialProblems(c)) {
        ctx.addIssue({
          code: 'custom',
          path: ['connections', i, 'shipstation', problem.field],
          message: problem.message,
        });
      }
    });
  });

/**
 * Which ShipStation credentials a connection lacks for what it is configured to do: V2 (`api: v2`)
 * needs `v2ApiKey` only; V1 (`api: v1`, and marketplace orders, which are V1 only) needs the
 * `apiKey`/`apiSecret` pair. Half a V1 pair is always refused.
 */
export function shipstationCredentialProblems(
  c: Pick<z.output<typeof connectionSchema>, 'shipstation' | 'channelOrders'>,
): Array<{ field: 'apiKey' | 'apiSecret' | 'v2ApiKey'; message: string }> {
  const s = c.shipstation;
  const out: Array<{ field: 'apiKey' | 'apiSecret' | 'v2ApiKey'; message: string }> = [];
  if (s.api === 'v2' && !s.v2ApiKey) {
    out.push({
      field: 'v2ApiKey',
      message: 'shipstation.api is v2: set shipstation.v2ApiKey (V2 keys are not V1 key/secret pairs)',
    });
  }
  const needsV1 =
    s.api === 'v1'
      ? 'shipstation.api is v1'
      : c.channelOrders.enabled
        ? 'channelOrders (marketplace orders) use V1'
        : undefined;
  for (const field of ['apiKey', 'apiSecret'] as const) {
    const other = field === 'apiKey' ? 'apiSecret' : 'apiKey';
    if (s[field]) continue;
    if (needsV1)
      out.push({ field, message: `${needsV1}: set shipstation.${field} (the V1 key/secret pair)` });
    else if (s[other])
      out.push({
        field,
        message: `shipstation.${other} is set without shipstation.${field}: V1 needs both, or neither on a V2-only connection`,
      });
  }
  return out;
}

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
