import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Access, hashSecret, safeNext, verifySecret } from './auth.js';

it('hashes with scrypt, a fresh salt each time, and verifies only the right secret', async () => {
  const a = await hashSecret('correct horse battery staple');
  const b = await hashSecret('correct horse battery staple');
  assert.match(a, /^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
  assert.notEqual(a, b);
  assert.equal(await verifySecret('correct horse battery staple', a), true);
  assert.equal(await verifySecret('correct horse battery stapl', a), false);
  assert.equal(await verifySecret('x', 'scrypt$1$1$1$$'), false);
  assert.equal(await verifySecret('x', 'plain-text'), false);
});

it('keeps a login redirect on this site', () => {
  assert.equal(safeNext('/problems?state=dead'), '/problems?state=dead');
  for (const bad of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', 3])
    assert.equal(safeNext(bad), '/');
});

it('limits failed logins per address within the window, and ends idle sessions', async () => {
  let now = 1_000_000;
  const access = new Access(
    {
      passwordHash: await hashSecret('the right password'),
      apiTokens: [],
      sessionIdle: 60_000,
      secureCookies: true,
      loginAttempts: { limit: 2, window: 10_000 },
    },
    () => now,
  );
  assert.equal(await access.login('a', 'ann', 'wrong'), undefined);
  assert.equal(await access.login('a', 'ann', 'wrong'), undefined);
  assert.ok(access.loginBlockedFor('a') > 0);
  assert.equal(access.loginBlockedFor('b'), 0, 'another address is not blocked');
  now += 10_001;
  assert.equal(access.loginBlockedFor('a'), 0, 'the window passed');
  const session = await access.login('a', ' ann ', 'the right password');
  assert.equal(session?.who, 'ann');
  assert.ok(access.session(session?.id));
  now += 60_001;
  assert.equal(access.session(session?.id), undefined, 'idle too long');
});
