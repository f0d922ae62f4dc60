/** SORTDN answers read per item, in both casings SYSPRO may use for `Post…` outputs (UNCONFIRMED). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readDispatchItems } from '../../src/sync/writeback.js';

const proper =
  '<?xml version="1.0" encoding="Windows-1252"?>\n<PostDispatchNotes Language=\'05\' Version=\'8.0.009\'>' +
  '<Item><ItemNumber>000001</ItemNumber><SalesOrder>000201</SalesOrder><DispatchNoteNumber>000000000000074</DispatchNoteNumber><Status>Posted</Status></Item>' +
  "<Item><ItemNumber>000002</ItemNumber><SalesOrder>000202</SalesOrder><DispatchNoteNumber/><Status>Failed</Status><SalesOrder><Value>000202</Value><ErrorNumber>100033</ErrorNumber><ErrorDescription>Sales order '000202' is in status 'S' and cannot be dispatched</ErrorDescription></SalesOrder></Item>" +
  '<StatusOfItems><ItemsProcessed>000001</ItemsProcessed><ItemsInvalid>000001</ItemsInvalid></StatusOfItems></PostDispatchNotes>\n ';

describe('readDispatchItems', () => {
  for (const [name, xml] of [
    ['proper case', proper],
    [
      'lower case',
      proper.replace(
        /<(\/?)([A-Za-z]+)/g,
        (_m, slash: string, tag: string) => `<${slash}${tag.toLowerCase()}`,
      ),
    ],
  ] as const) {
    it(`reads each item's note, status and errors (${name})`, () => {
      const items = readDispatchItems(xml, 3);
      assert.equal(items[0]?.dispatchNote, '000000000000074');
      assert.equal(items[0]?.status?.toLowerCase(), 'posted');
      assert.deepEqual(items[0]?.errors, []);
      assert.equal(items[1]?.dispatchNote, undefined);
      assert.match(items[1]?.errors[0]?.description ?? '', /status 'S'/);
      assert.equal(items[2], undefined, 'an item the answer does not mention');
    });
  }
});
