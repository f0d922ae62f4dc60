/**
 * The operator API's OpenAPI 3.1 document, served at `/api/openapi.json` and rendered at
 * `/api/docs`. Written by hand beside the routes of `http/dashboard.ts`; `test/http/dashboard-api`
 * checks that every route it serves under /api/ is described here.
 */
const str = { type: 'string' };
const q = (name: string, description: string, type = 'string') => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type },
});
const p = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: str,
});

const selection = {
  type: 'object',
  description:
    'Which problems: `ids` (`job:<id>` or `record:<type>:<key>`), or `causeId` (one line of the Problems page), or `all: true` with the filter fields. At least one of ids, causeId, all.',
  properties: {
    ids: { type: 'array', items: str },
    causeId: str,
    all: { type: 'boolean' },
    connection: str,
    kind: str,
    state: { type: 'string', enum: ['retrying', 'dead', 'in-doubt', 'invalid'] },
    text: str,
  },
};

const problemFilters = [
  q('connection', 'connection name'),
  q(
    'kind',
    'job kind (orders.push, shipments.writeback, orders.poll…) or `record` for orders that cannot be mapped',
  ),
  q('state', 'retrying, dead, in-doubt or invalid'),
  q('causeId', 'one cause (a line of the Problems page)'),
  q('text', 'substring of the message or the subject'),
  q('limit', 'problems listed per cause (default 50); counts cover all', 'integer'),
];

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'ml-connector operator API',
    version: '1',
    description:
      'Everything the dashboard does, as JSON. Authenticate with `Authorization: Bearer <token>` (a token of `dashboard.apiTokens`; the demo prints one), or with the dashboard session cookie plus the `X-CSRF-Token` header on POST. Times are epoch milliseconds (UTC).',
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer' },
      session: { type: 'apiKey', in: 'cookie', name: 'mlc_session' },
    },
  },
  security: [{ bearer: [] }, { session: [] }],
  paths: {
    '/api/connections': {
      get: {
        summary:
          'The connections: settings (secrets as references only) and an overview of each (polls, counts, queue, throughput, health, problems).',
      },
    },
    '/api/connections/{name}': {
      get: { summary: 'One connection: settings and overview.', parameters: [p('name', 'connection name')] },
    },
    '/api/connections/{name}/ping': {
      post: {
        summary:
          'Test connection: runs the ping checks (SYSPRO logon and business objects, OData tables, ShipStation auth, webhooks) and returns each result. Writes nothing.',
        parameters: [p('name', 'connection name')],
      },
    },
    '/api/problems': {
      get: { summary: 'Problems grouped by cause, in plain words, with counts.', parameters: problemFilters },
    },
    '/api/problems/retry': {
      post: {
        summary:
          'Retry problems: dead jobs are replayed, waiting jobs run now. Records that cannot be mapped are skipped (fix them in SYSPRO).',
        requestBody: { content: { 'application/json': { schema: selection } } },
      },
    },
    '/api/problems/dismiss': {
      post: {
        summary:
          'Dismiss problems: jobs are cancelled, records hidden until their problems change; who and why are kept (see /api/dismissals).',
        requestBody: {
          content: {
            'application/json': {
              schema: { ...selection, required: ['why'], properties: { ...selection.properties, why: str } },
            },
          },
        },
      },
    },
    '/api/dismissals': {
      get: {
        summary: 'The dismissal history, newest first.',
        parameters: [q('connection', 'connection name'), q('limit', 'rows (default 100)', 'integer')],
      },
    },
    '/api/records': {
      get: {
        summary:
          'Search records by sales order, ShipStation order, shipment, tracking number or date. `format=csv` answers CSV.',
        parameters: [
          q('q', 'any key: sales order, ShipStation order id, shipment id, tracking number'),
          q('connection', 'connection name'),
          q('type', 'order, shipment or customer'),
          q('from', 'UTC date YYYY-MM-DD (inclusive)'),
          q('to', 'UTC date YYYY-MM-DD (inclusive)'),
          q('limit', 'rows (default 100, at most 5000)', 'integer'),
          q('format', '`json` (default) or `csv`'),
        ],
      },
    },
    '/api/records/{connection}/{type}/{key}': {
      get: {
        summary:
          "One record's whole path: every audit step (read, mapped, sent, answered, written) with its detail, the jobs and their attempts.",
        parameters: [
          p('connection', 'connection name'),
          p('type', 'order, shipment…'),
          p('key', 'the record key, e.g. SANDBOX:000123 or shipment:300000001'),
        ],
      },
    },
    '/api/jobs': {
      get: {
        summary: 'Jobs, newest first, and counts by kind and state.',
        parameters: [
          q('state', 'queued, running, succeeded, dead, cancelled'),
          q('kind', 'job kind'),
          q('connection', 'connection name'),
          q('limit', 'rows (default 100)', 'integer'),
        ],
      },
    },
    '/api/jobs/{id}': {
      get: { summary: 'One job with its attempts.', parameters: [p('id', 'job id')] },
    },
    '/api/openapi.json': { get: { summary: 'This document.' } },
  },
} as const;
