/**
 * Seeding is deterministic and has every status code of the reference and a real company's mess.
 * Seeding 100,000 orders (time and memory) is measured by `npm run bench:sandboxes`, not here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ORDER_STATUSES, seedCompany } from '../../../src/sandbox/syspro/index.js';

const NOW = Date.parse('2026-01-15T12:00:00Z');

describe('SYSPRO sandbox seeding', () => {
  it('is deterministic and has the mess a real company has', () => {
    const a = seedCompany({ seed: 7, orders: 500, now: NOW });
    const b = seedCompany({ seed: 7, orders: 500, now: NOW });
    assert.deepEqual(a.sorMaster.rows, b.sorMaster.rows);
    assert.deepEqual(a.sorDetail.rows, b.sorDetail.rows);
    const c = seedCompany({ seed: 8, orders: 500, now: NOW });
    assert.notDeepEqual(a.sorMaster.rows, c.sorMaster.rows);
    const statuses = new Set(a.sorMaster.rows.map((r) => r.OrderStatus));
    for (const status of ORDER_STATUSES) assert.ok(statuses.has(status), `status ${status} seeded`);
    const lineTypes = new Set(a.sorDetail.rows.map((r) => r.LineType));
    for (const type of ['1', '4', '5', '6', '7']) assert.ok(lineTypes.has(type), `line type ${type} seeded`);
    assert.ok(a.sorMaster.rows.every((r) => /^\d{6}$/.test(r.SalesOrder as string)));
    assert.ok(a.arCustomer.rows.some((r) => r.Email === ''));
    assert.ok(a.arCustomer.rows.some((r) => /[&<]/.test(r.Name as string)));
    assert.ok(a.arCustomer.rows.some((r) => /[^\x00-\x7f]/.test(r.Name as string)));
    assert.ok(a.arCustomer.rows.some((r) => r.CustomerOnHold === 'Y'));
  });
});
