/**
 * INVQRY, inventory query (reference §2.6): `<InvQuery>` with `<QueryOptions>`, `<StockItem>` and
 * one `<WarehouseItem>` per warehouse (QtyOnHand, AvailableQty, QtyOnOrder, QtyOnBackOrder,
 * QtyAllocated…). Warehouse filter: FilterType A all, S single, R range "from,to", L list.
 */
import { buildXmlOut, child, type Element, editedNumber, el, group, padNumber, textOf } from '../xml.js';
import { availableQty, type BusinessObject, EnetError } from './common.js';

function warehouseFilter(type: string, value: string): (warehouse: string) => boolean {
  const parts = value.split(',').map((v) => v.trim());
  switch (type.toUpperCase()) {
    case 'S':
      return (w) => w === value.trim();
    case 'R':
      return (w) => w >= (parts[0] ?? '') && w <= (parts[1] ?? parts[0] ?? '');
    case 'L':
      return (w) => parts.includes(w);
    default:
      return () => true;
  }
}

export const invqry: BusinessObject = {
  name: 'INVQRY',
  methods: ['Query/Query'],
  handle(ctx, { xmlIn }) {
    const stockCode = textOf(child(xmlIn, 'Key'), 'StockCode');
    if (!stockCode) throw new EnetError("XML element '{Key}{StockCode}' cannot be spaces");
    const item = ctx.db.invMaster.get(stockCode);
    if (!item) throw new EnetError(`Stock code '${stockCode}' not found`);
    const filterNode = child(child(xmlIn, 'Filter'), 'Warehouse');
    const matches = warehouseFilter(filterNode?.attrs.filtertype ?? 'A', filterNode?.attrs.filtervalue ?? '');
    const body: Element[] = [
      group('QueryOptions', [
        el('StockCode', stockCode),
        el('Warehouse', filterNode?.attrs.filtervalue ?? ''),
      ]),
      group('StockItem', [
        el('StockCode', item.StockCode),
        el('Description', item.Description),
        el('LongDesc', item.LongDesc),
        el('StockUom', item.StockUom),
        el('ProductClass', item.ProductClass),
        el('Mass', padNumber(item.Mass as number, 6)),
        el('Volume', padNumber(item.Volume as number, 6)),
      ]),
    ];
    const qty = (name: string, value: number) => [
      el(name, padNumber(value, 6)),
      el(`Edited_${name}`, editedNumber(value, 3)),
    ];
    for (const row of ctx.db.invWarehouse.rows) {
      if (row.StockCode !== stockCode || !matches(row.Warehouse as string)) continue;
      const warehouse = ctx.db.invWhControl.get(row.Warehouse as string);
      body.push(
        group('WarehouseItem', [
          el('Warehouse', row.Warehouse),
          el('Description', warehouse?.Description ?? ''),
          ...qty('QtyOnHand', row.QtyOnHand as number),
          ...qty('AvailableQty', availableQty(row)),
          ...qty('QtyOnOrder', row.QtyOnOrder as number),
          ...qty('QtyOnBackOrder', row.QtyOnBackOrder as number),
          ...qty('QtyAllocated', row.QtyAllocated as number),
          ...qty('QtyAllocatedWip', 0),
          el('DefaultBin', row.DefaultBin),
        ]),
      );
    }
    return {
      body: buildXmlOut({ name: 'InvQuery', version: '8.0.011' }, body),
      outcome: 'ok',
      validateOnly: false,
    };
  },
};
