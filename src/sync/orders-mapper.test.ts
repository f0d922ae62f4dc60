import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ArCustomerRow,
  canonicalJson,
  countryCode,
  DEFAULT_ORDER_MAP_OPTIONS,
  decideStatus,
  firstEmail,
  hashOrder,
  type MapResult,
  mapSalesOrder,
  netUnitPrice,
  type OrderMapOptions,
  orderKeyFor,
  orderNumberFor,
  type SorDetailRow,
  type SorMasterRow,
  sysproDateToUtc,
  toShipStationAddress,
} from './orders-mapper.js';

const options: OrderMapOptions = {
  ...DEFAULT_ORDER_MAP_OPTIONS,
  company: 'EDU1',
  sysproTimezone: 'America/Chicago',
  warehouses: { FG: 501 },
  stores: {},
  storeId: 77,
  shippingInstructions: { UPS: { carrierCode: 'ups', serviceCode: 'ups_ground' } },
};

function header(overrides: Partial<SorMasterRow> = {}): SorMasterRow {
  return {
    SalesOrder: '000123',
    OrderStatus: '1',
    CancelledFlag: ' ',
    Customer: '000000000000042',
    CustomerName: 'Oak & Steel "Works"',
    CustomerPoNumber: 'PO-100123',
    OrderDate: '2026-03-04T00:00:00Z',
    EntrySystemDate: '2026-03-04T00:00:00Z',
    ReqShipDate: '2026-03-10T00:00:00Z',
    ShippingInstrs: 'UPS Ground',
    ShippingInstrsCod: 'UPS',
    SpecialInstrs: 'Call before delivery & leave at rear',
    Warehouse: 'FG',
    ShipAddress1: '12 Elm Street',
    ShipAddress2: 'Suite 400',
    ShipAddress3: 'Boston',
    ShipAddress4: 'MA',
    ShipAddress5: 'USA',
    ShipAddress3Loc: '',
    ShipPostalCode: '02134',
    State: 'MA',
    Email: '  JANE@EXAMPLE.COM ',
    ...overrides,
  };
}

function line(n: number, overrides: Partial<SorDetailRow> = {}): SorDetailRow {
  return {
    SalesOrder: '000123',
    SalesOrderLine: n,
    LineType: '1',
    MStockCode: `CAB-${n}`,
    MStockDes: 'Power lead <IEC> 1.8m',
    MWarehouse: 'FG',
    MBin: 'A1',
    MOrderQty: 5,
    MShipQty: 3,
    MBackOrderQty: 2,
    MPrice: 10,
    MDiscPct1: 0,
    MDiscPct2: 0,
    MDiscPct3: 0,
    MStockUnitMass: 0.5,
    NComment: '',
    NMscChargeValue: 0,
    ...overrides,
  };
}

const customer: ArCustomerRow = {
  Customer: '000000000000042',
  Name: 'Oak & Steel Works',
  Email: 'ap@example.com',
  Telephone: '+1 (555) 123-4567',
  SoldToAddr1: '1 Main St',
  SoldToAddr2: '',
  SoldToAddr3: 'Austin, TX 73301',
  SoldToAddr4: '',
  SoldToAddr5: '',
  SoldToAddr3Loc: '',
  SoldPostalCode: '',
  State: '',
};

function pushed(result: MapResult) {
  assert.equal(result.action, 'push', JSON.stringify(result));
  return result as Extract<MapResult, { action: 'push' }>;
}

describe('orders mapper', () => {
  it('keys orders by company and sales order, and pads order numbers as configured', () => {
    assert.equal(orderKeyFor('EDU1', ' 000123 '), 'EDU1:000123');
    assert.equal(orderNumberFor('000123', null), '000123');
    assert.equal(orderNumberFor('000123', 0), '123');
    assert.equal(orderNumberFor('000123', 8), '00000123');
    assert.equal(orderNumberFor('000000', 0), '0');
    assert.equal(orderNumberFor('WEB12', 8, 'SO-'), 'SO-000WEB12');
  });

  it('maps SYSPRO statuses to ShipStation statuses or leaves the order alone', () => {
    for (const code of ['1', '2', '3', '4']) {
      assert.deepEqual(decideStatus({ OrderStatus: code }), { status: 'awaiting_shipment' });
    }
    assert.deepEqual(decideStatus({ OrderStatus: 'S' }), { status: 'on_hold' });
    assert.deepEqual(decideStatus({ OrderStatus: 'F' }), { status: 'on_hold', holdUntilReqShipDate: true });
    assert.deepEqual(decideStatus({ OrderStatus: '\\' }), { status: 'cancelled' });
    assert.deepEqual(decideStatus({ OrderStatus: '*' }), { status: 'cancelled' });
    assert.deepEqual(decideStatus({ OrderStatus: '1', CancelledFlag: 'Y' }), { status: 'cancelled' });
    for (const code of ['8', '9', '0', 'Q']) assert.ok('skip' in decideStatus({ OrderStatus: code }), code);
  });

  it('reads SYSPRO dates in its zone and writes them as Pacific wall clock', () => {
    // Midnight in Chicago (CST, UTC-6) is 06:00Z = 22:00 the day before in Los Angeles (PST).
    assert.equal(
      sysproDateToUtc('2026-03-04T00:00:00Z', 'America/Chicago'),
      Date.parse('2026-03-04T06:00:00Z'),
    );
    assert.equal(sysproDateToUtc('2026-07-04', 'America/Chicago'), Date.parse('2026-07-04T05:00:00Z'));
    assert.equal(sysproDateToUtc('', 'UTC'), undefined);
    assert.equal(sysproDateToUtc('garbage', 'UTC'), undefined);
    const result = pushed(mapSalesOrder({ header: header(), lines: [line(1)], customer }, options));
    assert.equal(result.order.orderDate, '2026-03-03 22:00:00');
    assert.equal(result.order.shipByDate, '2026-03-09 22:00:00');
  });

  it('maps a whole order: items, addresses, customer, notes, charges, warehouse, carrier and PO', () => {
    const lines = [
      line(1, { MDiscPct1: 10, MDiscPct2: 5 }),
      line(2, { LineType: '7', MStockCode: 'NS-100', MStockDes: 'Special panel 1200×600 🙂', MShipQty: 1 }),
      line(3, { LineType: '4', MStockCode: '', MStockDes: 'Freight', NMscChargeValue: 12.5 }),
      line(4, { LineType: '5', MStockCode: '', MStockDes: 'Handling & packing', NMscChargeValue: 4.25 }),
      line(5, { LineType: '6', MStockCode: '', NComment: 'Deliver to loading bay <B>' }),
      line(6, { LineType: '6', MStockCode: '', NComment: 'Fragile!' }),
      line(7, { MShipQty: 0, MBackOrderQty: 4 }),
    ];
    const result = pushed(mapSalesOrder({ header: header(), lines, customer }, options));
    const o = result.order;
    assert.equal(result.orderKey, 'EDU1:000123');
    assert.equal(o.orderKey, 'EDU1:000123');
    assert.equal(o.orderNumber, '000123');
    assert.equal(o.orderStatus, 'awaiting_shipment');
    assert.equal(o.customerUsername, '000000000000042');
    assert.equal(o.customerEmail, 'jane@example.com');
    assert.equal(o.customerNotes, 'Call before delivery & leave at rear');
    assert.equal(o.internalNotes, 'Deliver to loading bay <B>\nFragile!');
    assert.equal(o.shippingAmount, 12.5);
    assert.equal(o.requestedShippingService, 'UPS Ground');
    assert.equal(o.carrierCode, 'ups');
    assert.equal(o.serviceCode, 'ups_ground');
    assert.equal(o.advancedOptions?.warehouseId, 501);
    assert.equal(o.advancedOptions?.storeId, 77);
    assert.equal(o.advancedOptions?.customField1, 'PO-100123');
    assert.deepEqual(o.shipTo, {
      name: 'Oak & Steel "Works"',
      company: 'Oak & Steel Works',
      street1: '12 Elm Street',
      street2: 'Suite 400',
      street3: null,
      city: 'Boston',
      state: 'MA',
      postalCode: '02134',
      country: 'US',
      phone: '+1 (555) 123-4567',
      residential: null,
    });
    // Bill-to: the customer's squeezed "City, ST ZIP" line is split.
    assert.equal(o.billTo.street1, '1 Main St');
    assert.equal(o.billTo.city, 'Austin');
    assert.equal(o.billTo.state, 'TX');
    assert.equal(o.billTo.postalCode, '73301');
    assert.deepEqual(
      o.items?.map((i) => [i.lineItemKey, i.sku, i.quantity, i.unitPrice, i.adjustment ?? false]),
      [
        ['1', 'CAB-1', 3, 8.55, false],
        ['2', 'NS-100', 1, 10, false],
        ['4', null, 1, 4.25, true],
      ],
    );
    assert.equal(o.items?.[1]?.name, 'Special panel 1200×600 🙂');
    assert.deepEqual(o.items?.[0]?.weight, { value: 0.5, units: 'pounds' });
    assert.equal(o.items?.[0]?.warehouseLocation, 'A1');
  });

  it('puts a forward order on hold until its requested ship date, and suspends on_hold', () => {
    const forward = pushed(
      mapSalesOrder({ header: header({ OrderStatus: 'F' }), lines: [line(1)] }, options),
    );
    assert.equal(forward.order.orderStatus, 'on_hold');
    assert.equal(forward.holdUntil, '2026-03-09');
    const suspended = pushed(
      mapSalesOrder({ header: header({ OrderStatus: 'S' }), lines: [line(1)] }, options),
    );
    assert.equal(suspended.order.orderStatus, 'on_hold');
    assert.equal(suspended.holdUntil, undefined);
  });

  it('sends a cancelled order even when nothing is left to ship', () => {
    const result = pushed(
      mapSalesOrder({ header: header({ OrderStatus: '\\' }), lines: [line(1, { MShipQty: 0 })] }, options),
    );
    assert.equal(result.order.orderStatus, 'cancelled');
  });

  it('skips an open order with nothing released to ship, and complete orders', () => {
    const waiting = mapSalesOrder(
      { header: header({ OrderStatus: '2' }), lines: [line(1, { MShipQty: 0 })] },
      options,
    );
    assert.equal(waiting.action, 'skip');
    const complete = mapSalesOrder({ header: header({ OrderStatus: '9' }), lines: [line(1)] }, options);
    assert.equal(complete.action, 'skip');
  });

  it('makes a missing address part that order’s own clear problem', () => {
    const result = mapSalesOrder(
      {
        header: header({
          ShipAddress1: '',
          ShipAddress2: '',
          ShipAddress3: '',
          ShipPostalCode: '',
          ShipAddress5: 'Atlantis',
        }),
        lines: [line(1)],
      },
      options,
    );
    assert.equal(result.action, 'invalid');
    const fields = result.action === 'invalid' ? result.problems.map((p) => p.field) : [];
    assert.deepEqual(fields.sort(), ['shipTo.city', 'shipTo.country', 'shipTo.postalCode', 'shipTo.street1']);
    const country =
      result.action === 'invalid' ? result.problems.find((p) => p.field === 'shipTo.country') : undefined;
    assert.match(country?.message ?? '', /Atlantis/);
  });

  it('refuses fractional quantities and order numbers over 50 characters', () => {
    const fractional = mapSalesOrder({ header: header(), lines: [line(1, { MShipQty: 2.5 })] }, options);
    assert.equal(fractional.action, 'invalid');
    const long = mapSalesOrder(
      { header: header(), lines: [line(1)] },
      { ...options, orderNumberPrefix: 'X'.repeat(50) },
    );
    assert.equal(long.action, 'invalid');
    assert.match(JSON.stringify(long), /orderNumber/);
  });

  it('reads addresses by the configured layout and the Loc column', () => {
    const { address, problems } = toShipStationAddress(
      {
        name: 'Dock',
        lines: ['Unit 5', 'Harbour Road', 'ignored', 'United Kingdom', 'London'],
        location: '',
        postalCode: 'SW1A 1AA',
        state: '',
      },
      { city: 5, state: 3, country: 4 },
      'US',
      'shipTo',
    );
    assert.deepEqual(problems, []);
    assert.equal(address.city, 'London');
    assert.equal(address.country, 'GB');
    assert.equal(address.street1, 'Unit 5');
    assert.equal(address.street2, 'Harbour Road');
    assert.equal(address.state, 'ignored');
    const withLoc = toShipStationAddress(
      {
        name: 'A',
        lines: ['1 Rue', '', 'Montreal QC', '', 'Canada'],
        location: 'Montréal',
        postalCode: 'H2X 1Y4',
        state: 'QC',
      },
      { city: 3, state: 4, country: 5 },
      'US',
      'shipTo',
    );
    assert.equal(withLoc.address.city, 'Montréal');
    assert.equal(withLoc.address.country, 'CA');
  });

  it('takes the default country only for an address that looks like one of its own', () => {
    const squeezed = (line3: string, postalCode = '') =>
      toShipStationAddress(
        { name: 'A', lines: ['1 Main St', '', line3, '', ''], location: '', postalCode, state: '' },
        { city: 3, state: 4, country: 5 },
        'US',
        'shipTo',
      );
    const boston = squeezed('Boston, MA 02134');
    assert.deepEqual(boston.problems, []);
    assert.deepEqual(
      [boston.address.city, boston.address.state, boston.address.postalCode, boston.address.country],
      ['Boston', 'MA', '02134', 'US'],
    );
    const sydney = squeezed('Sydney, NSW 2000');
    assert.equal(sydney.address.city, 'Sydney');
    assert.deepEqual(
      sydney.problems.map((p) => p.field),
      ['shipTo.country'],
      'a squeezed Australian address is not labelled for the US',
    );
    assert.match(sydney.problems[0]?.message ?? '', /state 'NSW', postal code '2000'/);
    const london = squeezed('London SW1A 1AA', 'SW1A 1AA');
    assert.deepEqual(
      london.problems.map((p) => p.field),
      ['shipTo.country'],
    );
    const canada = toShipStationAddress(
      {
        name: 'A',
        lines: ['1 Rue', '', 'Montreal', 'QC', ''],
        location: '',
        postalCode: 'H2X 1Y4',
        state: 'QC',
      },
      { city: 3, state: 4, country: 5 },
      'CA',
      'shipTo',
    );
    assert.deepEqual(canada.problems, [], 'another default country is taken as given');
  });

  it('takes the first valid e-mail of a SYSPRO e-mail field', () => {
    assert.equal(firstEmail('a@example.com; ap@example.com'), 'a@example.com');
    assert.equal(firstEmail('', '  B@EXAMPLE.COM '), 'b@example.com');
    assert.equal(firstEmail('not an email', null), null);
    assert.equal(countryCode('u.s.a.'), 'US');
    assert.equal(countryCode('Narnia'), undefined);
    assert.equal(countryCode(' south  africa '), 'ZA');
  });

  it('applies the three line discounts one after another', () => {
    assert.equal(netUnitPrice({ MPrice: 100, MDiscPct1: 10, MDiscPct2: 10, MDiscPct3: 0 }), 81);
    assert.equal(netUnitPrice({ MPrice: 19.99 }), 19.99);
  });

  it('hashes equal orders equally whatever their key order, and changes with the content', () => {
    assert.equal(
      canonicalJson({ b: 1, a: [2, { d: 1, c: null }], e: undefined }),
      '{"a":[2,{"c":null,"d":1}],"b":1}',
    );
    const a = pushed(mapSalesOrder({ header: header(), lines: [line(1)], customer }, options));
    const b = pushed(mapSalesOrder({ header: header(), lines: [line(1)], customer }, options));
    assert.equal(a.hash, b.hash);
    assert.equal(a.hash, hashOrder(a.order));
    const changed = pushed(
      mapSalesOrder({ header: header(), lines: [line(1, { MShipQty: 4 })], customer }, options),
    );
    assert.notEqual(changed.hash, a.hash);
  });
});
