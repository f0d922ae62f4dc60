import assert from 'node:assert/strict';
import { it } from 'node:test';
import { causeIdOf, causeOf, groupProblems, type Problem, subjectOfJob } from './problems.js';

function problem(id: number, message: string, salesOrder: string): Problem {
  const subject = subjectOfJob(
    'shipments.writeback',
    JSON.stringify({ source: 'shipment', id, salesOrder, trackingNumbers: [`1Z${id}`] }),
  );
  const cause = causeOf('shipments.writeback', 'dead', message);
  return {
    id: `job:${id}`,
    connection: 'main',
    jobId: id,
    jobKind: 'shipments.writeback',
    state: 'dead',
    what: 'x',
    subject,
    message,
    attempts: 5,
    nextRetryAt: null,
    at: id,
    inDoubt: false,
    cause,
    causeId: causeIdOf('main', cause),
  };
}

it('one closed posting period is one cause, whatever the order, date or amount', () => {
  const problems = Array.from({ length: 300 }, (_, i) =>
    problem(
      i + 1,
      `SORTDN rejected sales order ${String(100 + i).padStart(6, '0')}: Posting period '${i % 2 ? 11 : 12}' of 2026 is closed (value 12.50)`,
      String(100 + i),
    ),
  );
  problems.push(problem(999, 'SORTDN rejected sales order 000999: Stock code "X1" is on hold', '000999'));
  const groups = groupProblems(problems);
  assert.equal(groups.length, 2);
  assert.equal(groups[0]?.count, 300);
  assert.equal(groups[0]?.what, 'Writing shipments back to SYSPRO');
  assert.equal(groups[1]?.count, 1);
  assert.match(
    groups[1]?.problems[0]?.subject.label ?? '',
    /ShipStation shipment 999 for sales order 000999 \(tracking 1Z999\)/,
  );
});

it('a retry and a death of one message are different causes', () => {
  assert.notEqual(causeOf('orders.push', 'dead', 'HTTP 500'), causeOf('orders.push', 'retrying', 'HTTP 500'));
});
