import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  and,
  dateLiteral,
  dateTimeLiteral,
  eq,
  ge,
  literal,
  not,
  oneOf,
  or,
  orderByList,
  selectList,
} from './odata-filter.js';
import { createODataReader, splitToFit } from './odata-reader.js';

describe('OData $filter builder', () => {
  it('quotes string literals and doubles single quotes', () => {
    assert.equal(literal("O'Brien & Sons"), "'O''Brien & Sons'");
    assert.equal(eq('Name', "it's")?.odata, "Name eq 'it''s'");
    assert.equal(eq('OrderStatus', '\\').odata, "OrderStatus eq '\\'");
  });

  it('writes numbers, booleans, null and dates as unquoted literals', () => {
    assert.equal(literal(12.5), '12.5');
    assert.equal(literal(true), 'true');
    assert.equal(literal(null), 'null');
    assert.equal(ge('OrderDate', dateLiteral('2024-01-15')).odata, 'OrderDate ge 2024-01-15');
    assert.equal(dateTimeLiteral('2024-01-15T08:30:00.000Z').odata, '2024-01-15T08:30:00Z');
    assert.throws(() => literal(Number.NaN), /finite/);
    assert.throws(() => dateLiteral('15/01/2024'), /not a date/);
  });

  it('refuses column names that could inject', () => {
    assert.throws(() => eq("Name eq 'x' or 1", 'y'), /column/);
    assert.throws(() => selectList(['SalesOrder', 'x;drop']), /column/);
    assert.throws(() => orderByList(['SalesOrder sideways']), /order/);
    assert.equal(orderByList(['SalesOrder', 'SalesOrderLine DESC']), 'SalesOrder,SalesOrderLine desc');
  });

  it('combines with and/or/not, skipping undefined parts', () => {
    const f = and(eq('A', '1'), undefined, or(eq('B', 2), eq('C', 3)));
    assert.equal(f?.odata, "(A eq '1') and ((B eq 2) or (C eq 3))");
    assert.equal(and(undefined, eq('A', 1))?.odata, 'A eq 1');
    assert.equal(and(), undefined);
    assert.equal(not(eq('A', 1)).odata, 'not (A eq 1)');
  });

  it('writes a key list as eq … or eq …', () => {
    assert.equal(oneOf('SalesOrder', ['1', "2'"]).odata, "SalesOrder eq '1' or SalesOrder eq '2'''");
    assert.equal(oneOf('SalesOrder', []).odata, 'false');
  });
});

describe('OData URLs', () => {
  const reader = createODataReader({
    serviceUrl: 'http://erp/SYSPRO8Odata/SYSPROOData/EDU1/',
    maxUrlLength: 300,
  });

  it('URL-encodes the query options and selects only the given columns', () => {
    const url = reader.url('SorMaster', {
      select: ['SalesOrder', 'Customer'],
      filter: eq('CustomerName', 'Smith & <Sons> #1 50%'),
      orderBy: ['SalesOrder'],
      top: 500,
      skip: 1000,
    });
    assert.equal(
      url,
      "http://erp/SYSPRO8Odata/SYSPROOData/EDU1/SorMaster?$select=SalesOrder%2CCustomer&$filter=CustomerName%20eq%20'Smith%20%26%20%3CSons%3E%20%231%2050%25'&$orderby=SalesOrder&$top=500&$skip=1000",
    );
    assert.equal(new URL(url).searchParams.get('$filter'), "CustomerName eq 'Smith & <Sons> #1 50%'");
  });

  it('splits a long key list so that every URL fits', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `SO${String(i).padStart(6, '0')}`);
    const fits = (chunk: readonly string[]) =>
      reader.url('SorMaster', { filter: oneOf('SalesOrder', chunk), top: 1000, skip: 999_999_999 }).length <=
      300;
    const chunks = splitToFit(keys, fits);
    assert.ok(chunks.length > 1);
    assert.deepEqual(chunks.flat(), keys);
    for (const chunk of chunks) assert.ok(fits(chunk));
    // Greedy: adding the next key to any chunk but the last would not fit.
    for (let i = 0; i < chunks.length - 1; i++) {
      assert.ok(!fits([...(chunks[i] ?? []), chunks[i + 1]?.[0] ?? '']));
    }
  });

  it('refuses a key that cannot fit on its own', () => {
    assert.throws(() => splitToFit(['x'.repeat(400)], (c) => c.join('').length < 300), /too long/);
  });
});
