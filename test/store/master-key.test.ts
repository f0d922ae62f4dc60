/** The master key: only 32 random bytes in canonical base64 or hex; key file modes. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UserError } from '../../src/config/errors.js';
import { loadMasterKey, parseMasterKey } from '../../src/store/master-key.js';

const refused = (text: string) =>
  assert.throws(
    () => parseMasterKey(text, 'ML_CONNECTOR_MASTER_KEY'),
    (err: unknown) =>
      err instanceof UserError &&
      /ML_CONNECTOR_MASTER_KEY is not a 256-bit key/.test(err.message) &&
      (text.trim() === '' || !err.message.includes(text.trim())),
    JSON.stringify(text),
  );

describe('master key format', () => {
  it('accepts 32 bytes as canonical base64 or 64 hex digits, with surrounding white space', () => {
    const key = randomBytes(32);
    assert.deepEqual(parseMasterKey(key.toString('base64'), 'x'), key);
    assert.deepEqual(parseMasterKey(`${key.toString('base64')}\n`, 'x'), key);
    assert.deepEqual(parseMasterKey(key.toString('hex'), 'x'), key);
    assert.deepEqual(parseMasterKey(key.toString('hex').toUpperCase(), 'x'), key);
  });

  it('refuses a 43-character password that lenient base64 decodes to 32 bytes', () => {
    const password = 'CorrectHorseBatteryStapleCorrectHorseBatter';
    assert.equal(password.length, 43);
    assert.equal(Buffer.from(password, 'base64').length, 32, 'what the old check relied on');
    refused(password);
  });

  it('refuses base64 that is not canonical or not 32 bytes, and anything else', () => {
    const canonical = Buffer.alloc(32, 7).toString('base64'); // ends in "c="
    const nonCanonical = `${canonical.slice(0, 42)}d=`; // same bytes, unused bits set
    assert.deepEqual(Buffer.from(nonCanonical, 'base64'), Buffer.alloc(32, 7));
    refused(nonCanonical);
    refused(canonical.slice(0, 43)); // padding dropped
    refused(canonical.replace(/\+/g, '-').replace(/\//g, '_').slice(0, 43)); // base64url
    refused(`${canonical.slice(0, 20)} ${canonical.slice(20)}`); // white space inside
    refused(randomBytes(31).toString('base64'));
    refused(randomBytes(33).toString('base64'));
    refused(randomBytes(32).toString('hex').slice(1));
    refused('short');
    refused('');
  });
});

describe('master key file', () => {
  it('is created 0600 in a directory created 0700', () => {
    const root = mkdtempSync(join(tmpdir(), 'mlc-key-'));
    const file = join(root, 'data', 'master.key');
    const created = loadMasterKey({ env: {}, file, create: true });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(root, 'data')).mode & 0o777, 0o700);
    assert.deepEqual(loadMasterKey({ env: {}, file, create: false }).key, created.key);
  });

  it('readable by others: used with a warning, and its mode is not changed', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mlc-key-')), 'master.key');
    const key = randomBytes(32);
    writeFileSync(file, `${key.toString('base64')}\n`);
    chmodSync(file, 0o644);
    const warnings: string[] = [];
    const loaded = loadMasterKey({ env: {}, file, create: false, warn: (m) => warnings.push(m) });
    assert.deepEqual(loaded.key, key);
    assert.equal(statSync(file).mode & 0o777, 0o644, 'left as the operator set it');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /mode 0644.*chmod 600/);
    assert.ok(!warnings[0]!.includes(key.toString('base64')));

    chmodSync(file, 0o600);
    loadMasterKey({ env: {}, file, create: false, warn: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1, 'no warning for 0600');
  });

  it('names the file when its content is not a key', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mlc-key-')), 'master.key');
    writeFileSync(file, 'CorrectHorseBatteryStapleCorrectHorseBatter\n', { mode: 0o600 });
    assert.throws(
      () => loadMasterKey({ env: {}, file, create: false }),
      (err: unknown) => err instanceof UserError && err.message.includes(`${file} is not a 256-bit key`),
    );
  });
});
