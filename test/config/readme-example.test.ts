/** The configuration example in README.md is valid: a new user can copy it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/index.js';

describe('README configuration example', () => {
  it('passes the configuration schema', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'README.md has a yaml block');
    const config = parseConfig(parse(block), 'README.md');
    assert.equal(config.connections[0]?.name, 'main');
    assert.equal(config.connections[0]?.polls.orders, 600_000);
    assert.equal(config.retry.cadence.length, 5);
  });
});
