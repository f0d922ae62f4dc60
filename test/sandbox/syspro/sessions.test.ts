import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SysproSandbox, startSysproSandbox } from '../../../src/sandbox/syspro/index.js';
import { FakeClock } from '../../helpers/clock.js';
import { enet, logon, queryObject, SORQRY_ALL, xmlValue } from './enet-client.js';

describe('SYSPRO sandbox e.net sessions', () => {
  const clock = new FakeClock();
  let sandbox: SysproSandbox;

  before(async () => {
    sandbox = await startSysproSandbox({
      clock,
      seed: 3,
      orders: 50,
      licenceSeats: 2,
      sessionIdleMs: 60_000,
    });
  });
  after(() => sandbox.close());

  it('logs on, queries, posts and logs off (UserId as 34 hex + 2 spaces, accepted untrimmed and trimmed)', async () => {
    const userId = await logon(sandbox);
    assert.match(userId, /^[0-9A-F]{34} {2}$/);
    const xml = await queryObject(sandbox, userId, 'SORQRY', SORQRY_ALL('000007'));
    assert.match(xml, /^<\?xml version="1.0" encoding="Windows-1252"\?>\n<SorDetail Language='05' /);
    assert.equal(xmlValue(xml, 'SalesOrder'), '000007');
    // Trimmed UserId, lower-case path, and zero padding dropped from the key all work.
    const again = await enet(sandbox, 'query/query', {
      UserId: userId.trim(),
      BusinessObject: 'SORQRY',
      XmlIn: SORQRY_ALL('7'),
    });
    assert.equal(xmlValue(again, 'SalesOrder'), '000007');
    const posted = await enet(sandbox, 'Transaction/Post', {
      UserId: userId,
      BusinessObject: 'SORTOS',
      XmlParameters:
        '<PostSorOrderStatus><Parameters><ValidateOnly>Y</ValidateOnly></Parameters></PostSorOrderStatus>',
      XmlIn:
        '<PostSorOrderStatus><Item><SalesOrder>000002</SalesOrder><NewOrderStatus>4</NewOrderStatus></Item></PostSorOrderStatus>',
    });
    assert.match(posted, /<ItemsProcessed>000001<\/ItemsProcessed>/);
    assert.equal(await enet(sandbox, 'Logoff', { UserId: userId }), '0');
    const afterLogoff = await queryObject(sandbox, userId, 'SORQRY', SORQRY_ALL('7'));
    assert.match(afterLogoff, /^ERROR: UserId [0-9A-F]{34} is not logged on \(the session was logged off\)$/);
    assert.match(await enet(sandbox, 'Logoff', { UserId: userId }), /^ERROR: UserId .* is not logged on/);
    const logoffs = sandbox.calls.list({ method: 'Logoff' }).filter((c) => c.userId === userId.trim());
    assert.deepEqual(
      logoffs.map((c) => [c.outcome, c.response]),
      [
        ['ok', '0'],
        ['error', logoffs[1]?.response],
      ],
      'the call log shows the logoff and the refused second one',
    );
    assert.equal(logoffs[0]?.operator, sandbox.operator.toUpperCase());
  });

  it('refuses a bad password with ERROR text and HTTP 200', async () => {
    assert.equal(await logon(sandbox, sandbox.operator, 'wrong'), 'ERROR: Invalid operator password');
  });

  it('a second logon of the same operator evicts the first session', async () => {
    const first = await logon(sandbox);
    const second = await logon(sandbox);
    assert.notEqual(first, second);
    const onFirst = await queryObject(sandbox, first, 'SORQRY', SORQRY_ALL('1'));
    assert.match(
      onFirst,
      /^ERROR: UserId .* is not logged on \(the session was ended by a newer logon of operator MLCONNECT\)/,
    );
    const onSecond = await queryObject(sandbox, second, 'SORQRY', SORQRY_ALL('1'));
    assert.equal(xmlValue(onSecond, 'SalesOrder'), '000001');
    await enet(sandbox, 'Logoff', { UserId: second });
  });

  it('refuses a logon when every licence seat is held, and frees a seat on logoff', async () => {
    const a = await logon(sandbox);
    const b = await logon(sandbox, 'ADMIN', 'admin');
    const refused = await logon(sandbox, 'JANE', 'jane');
    assert.match(refused, /^ERROR: All e.net licences are in use/);
    assert.equal(await enet(sandbox, 'Logoff', { UserId: b }), '0');
    const c = await logon(sandbox, 'JANE', 'jane');
    assert.match(c, /^[0-9A-F]{34} {2}$/);
    await enet(sandbox, 'Logoff', { UserId: a });
    await enet(sandbox, 'Logoff', { UserId: c });
  });

  it('expires an idle session; a call on it gets the expired error and its seat is free again', async () => {
    const a = await logon(sandbox);
    const b = await logon(sandbox, 'ADMIN', 'admin');
    clock.advance(30_000);
    assert.equal(xmlValue(await queryObject(sandbox, b, 'SORQRY', SORQRY_ALL('2')), 'SalesOrder'), '000002');
    clock.advance(45_000); // a idle 75 s > 60 s; b idle 45 s
    const expired = await queryObject(sandbox, a, 'SORQRY', SORQRY_ALL('2'));
    assert.match(expired, /^ERROR: UserId .* is not logged on \(the session expired after inactivity\)$/);
    const c = await logon(sandbox, 'JANE', 'jane');
    assert.match(c, /^[0-9A-F]{34} {2}$/, 'the expired session no longer holds a seat');
    await enet(sandbox, 'Logoff', { UserId: b });
    await enet(sandbox, 'Logoff', { UserId: c });
  });

  it('answers e.net exception 100000 for an unknown business object and for a wrong method', async () => {
    const userId = await logon(sandbox);
    assert.equal(
      await queryObject(sandbox, userId, 'ARSPAY', '<Query/>'),
      'ERROR: e.net exception raised: 100000',
    );
    assert.equal(
      await queryObject(sandbox, userId, 'SORTOI', '<SalesOrders/>'),
      'ERROR: e.net exception raised: 100000',
    );
    await enet(sandbox, 'Logoff', { UserId: userId });
  });

  it('answers a missing sales order and bad XML with ERROR text', async () => {
    const userId = await logon(sandbox);
    assert.equal(
      await queryObject(sandbox, userId, 'SORQRY', SORQRY_ALL('999999')),
      "ERROR: Sales order '999999' not found",
    );
    assert.match(
      await queryObject(sandbox, userId, 'SORQRY', '<Query><Key>'),
      /^ERROR: XML document is not well formed/,
    );
    await enet(sandbox, 'Logoff', { UserId: userId });
  });
});
