import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultFlagError, failureRuleFor, latencyFor, parseFaultFlags } from './faults.js';

describe('parseFaultFlags', () => {
  it('parses maintenance, latency and failure rules', () => {
    const faults = parseFaultFlags([
      'maintenance=hang',
      'latency=200',
      'latency:sortdn=1000',
      'fail:SORTDN=0.5',
      'fail:*=0.01:reset',
      'fail:sortdn=1:lost',
    ]);
    assert.equal(faults.maintenance, 'hang');
    assert.equal(latencyFor(faults, 'SORTDN'), 1200);
    assert.equal(latencyFor(faults, 'SORQRY'), 200);
    assert.deepEqual(failureRuleFor(faults, 'SORTDN'), { target: 'SORTDN', rate: 1, kind: 'lost' });
    assert.deepEqual(failureRuleFor(faults, 'ODATA'), { target: '*', rate: 0.01, kind: 'reset' });
  });

  it('applies a rule with xmlInContains only to posts whose XmlIn holds the text', () => {
    const faults = {
      failures: [{ target: 'SORTOI', rate: 1, kind: 'lost' as const, xmlInContains: '<FreightLine>' }],
    };
    assert.equal(failureRuleFor(faults, 'SORTOI', '<OrderDetails><StockLine/></OrderDetails>'), undefined);
    assert.equal(failureRuleFor(faults, 'SORTOI', '<OrderDetails><FreightLine>')?.kind, 'lost');
  });

  it('rejects malformed flags with a message naming the flag', () => {
    for (const flag of [
      'fail:SORTDN=2',
      'fail=0.5',
      'maintenance=later',
      'latency=-1',
      'nonsense',
      'fail:X=0.5:boom',
    ]) {
      assert.throws(
        () => parseFaultFlags([flag]),
        (error: Error) => error instanceof FaultFlagError && error.message.includes(flag),
      );
    }
  });
});
