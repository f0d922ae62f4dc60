import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostScope, urlHostScope } from './host-scope.js';

describe('hostScope', () => {
  it('tells loopback, private, link-local and public hosts apart, as the URL parser writes them', () => {
    const scope = (url: string) => urlHostScope(url);
    for (const url of [
      'http://127.0.0.1:8080',
      'http://127.9.9.9',
      'http://localhost:8080',
      'http://app.localhost',
      'http://[::1]:8080',
      'http://[::ffff:127.0.0.1]',
      'http://0.0.0.0:8080',
      'http://[::]:8080',
      'http://2130706433', // 127.0.0.1 written as a number
    ])
      assert.equal(scope(url), 'loopback', url);
    for (const url of [
      'http://10.0.0.5',
      'http://172.16.0.1',
      'http://172.31.255.255',
      'http://192.168.1.20:8080',
      'http://100.64.0.1',
      'http://[fd00::2]',
      'http://[fc00::1]',
      'http://[::ffff:192.168.1.1]',
    ])
      assert.equal(scope(url), 'private', url);
    for (const url of ['http://169.254.10.1', 'http://[fe80::1]', 'http://[febf::1]'])
      assert.equal(scope(url), 'link-local', url);
    for (const url of [
      'https://connector.example.com',
      'http://172.15.0.1',
      'http://172.32.0.1',
      'http://192.169.0.1',
      'http://100.128.0.1',
      'http://8.8.8.8',
      'http://[2001:db8::1]',
      'http://[fec0::1]',
      'http://[::ffff:8.8.8.8]',
    ])
      assert.equal(scope(url), 'public', url);
    assert.equal(urlHostScope(undefined), undefined);
    assert.equal(urlHostScope('not a url'), undefined);
    assert.equal(hostScope('LOCALHOST.'), 'loopback');
  });
});
