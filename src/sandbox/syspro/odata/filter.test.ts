import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompanyDatabase, SOR_MASTER_DEFAULTS } from '../tables.js';
import { compileFilter, compileFilterPlan, ODataQueryError } from './filter.js';

const db = new CompanyDatabase();
const table = db.sorMaster;
const row = (values: Record<string, string | number | null>) => ({ ...SOR_MASTER_DEFAULTS, ...values });

describe('OData $filter', () => {
  it('a range on a string key is read from the ordered index, and gives the rows a scan gives', () => {
    const plan = compileFilterPlan(table, "(SalesOrder ge '000010') and (SalesOrder le '000020 ')");
    assert.deepEqual(plan.range, { column: 'SalesOrder', from: '000010', to: '000020' });
    const t = new CompanyDatabase().sorMaster;
    for (let n = 1; n <= 40; n++) t.insert(row({ SalesOrder: String(n).padStart(6, '0') }));
    const fromIndex = (t.lookupRange('SalesOrder', '000010', '000020') ?? []).filter(plan.predicate);
    assert.deepEqual(
      fromIndex.map((r) => r.SalesOrder),
      t.rows.filter(plan.predicate).map((r) => r.SalesOrder),
    );
    assert.equal(fromIndex.length, 11);
    assert.equal(compileFilterPlan(table, "OrderStatus eq '1'").range, undefined);
    assert.deepEqual(compileFilterPlan(table, "'000005' lt SalesOrder").range, {
      column: 'SalesOrder',
      from: '000005',
    });
  });

  it('treats a backslash as a plain character and doubles single quotes', () => {
    assert.equal(compileFilter(table, "OrderStatus eq '\\'")(row({ OrderStatus: '\\' })), true);
    assert.equal(compileFilter(table, "OrderStatus eq '\\'")(row({ OrderStatus: '1' })), false);
    assert.equal(compileFilter(table, "CustomerName eq 'O''Brien'")(row({ CustomerName: "O'Brien" })), true);
  });

  it('compares strings ignoring case and trailing spaces (SQL Server collation)', () => {
    assert.equal(compileFilter(table, "Customer eq 'abc'")(row({ Customer: 'ABC  ' })), true);
  });

  it('honours precedence: and before or, parentheses, not', () => {
    const f = compileFilter(table, "OrderStatus eq '1' or OrderStatus eq '2' and Branch eq 'X'");
    assert.equal(f(row({ OrderStatus: '1', Branch: 'Y' })), true);
    assert.equal(f(row({ OrderStatus: '2', Branch: 'Y' })), false);
    const g = compileFilter(
      table,
      "not (OrderStatus eq '1' or OrderStatus eq '2') and startswith(Customer,'00')",
    );
    assert.equal(g(row({ OrderStatus: '9', Customer: '0042' })), true);
    assert.equal(g(row({ OrderStatus: '1', Customer: '0042' })), false);
  });

  it('compares date columns with date and datetime literals, and null', () => {
    const r = row({ OrderDate: '2026-01-15', DateLastInvPrt: null });
    assert.equal(compileFilter(table, 'OrderDate ge 2026-01-15')(r), true);
    assert.equal(compileFilter(table, 'OrderDate gt 2026-01-14T23:00:00-02:00')(r), false);
    assert.equal(compileFilter(table, 'OrderDate lt 2026-01-15T00:00:01Z')(r), true);
    assert.equal(compileFilter(table, 'DateLastInvPrt eq null')(r), true);
  });

  it('rejects unknown properties, unknown functions and mismatched types', () => {
    assert.throws(() => compileFilter(table, "Nope eq 'x'"), ODataQueryError);
    assert.throws(() => compileFilter(table, "substringof('x',Customer)"), /unknown function/);
    assert.throws(() => compileFilter(table, 'Customer eq 5'), /incompatible types/);
    assert.throws(() => compileFilter(table, "OrderStatus eq 'unterminated"), /Unterminated/);
    assert.throws(() => compileFilter(table, 'TimeStamp gt 5', new Set(['TimeStamp'])), /TimeStamp/);
  });

  it('answers a key list (one column, or-ed eq) as comparing each key would', () => {
    const f = compileFilter(table, "Customer eq 'abc' or Customer eq 'O''Brien ' or Customer eq 'x'");
    assert.equal(f(row({ Customer: 'ABC  ' })), true);
    assert.equal(f(row({ Customer: "o'brien" })), true);
    assert.equal(f(row({ Customer: 'abcd' })), false);
    assert.equal(f(row({ Customer: null })), false);
    // Mixed columns or other operators keep the general evaluation.
    const g = compileFilter(table, "Customer eq 'abc' or OrderStatus eq '1'");
    assert.equal(g(row({ Customer: 'x', OrderStatus: '1' })), true);
    assert.equal(g(row({ Customer: 'x', OrderStatus: '2' })), false);
  });
});
