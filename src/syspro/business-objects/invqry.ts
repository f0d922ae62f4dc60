/**
 * INVQRY — inventory query (`Query/Query`, reference §2.6): one stock code with its quantities per
 * warehouse. `AvailableQty` (not QtyAvailable) on SYSPRO 8. Warehouse filter: FilterType A = all,
 * S = single, R = range, L = list (L is UNCONFIRMED).
 */
import type { EnetSession } from '../enet-client.js';
import { buildXml, child, children, number, schemaAttributes, text, textAny } from '../xml.js';
import { type BusinessObjectResult, isNotFoundError, notFoundOutcome, readXmlOut, yn } from './common.js';

export const INVQRY = 'INVQRY';

export interface StockQueryInput {
  stockCode: string;
  /** One warehouse (`S`), a list (`L`), or all when left out. */
  warehouses?: string[];
  includeBins?: boolean;
  includeLots?: boolean;
  includeSerials?: boolean;
}

export interface WarehouseStock {
  warehouse: string;
  qtyOnHand?: number;
  availableQty?: number;
  qtyAllocated?: number;
  qtyOnOrder?: number;
  qtyOnBackOrder?: number;
}

export interface StockDetail extends BusinessObjectResult {
  found: boolean;
  stockCode?: string;
  description?: string;
  stockUom?: string;
  warehouses: WarehouseStock[];
}

export function buildStockQuery(input: StockQueryInput): string {
  const list = input.warehouses ?? [];
  const filter =
    list.length === 0
      ? { '@FilterType': 'A', '@FilterValue': '' }
      : list.length === 1
        ? { '@FilterType': 'S', '@FilterValue': list[0] }
        : { '@FilterType': 'L', '@FilterValue': list.join(',') };
  return buildXml(
    'Query',
    {
      Key: { StockCode: input.stockCode },
      Option: {
        IncludeHistory: 'N',
        IncludeBins: yn(input.includeBins ?? false),
        IncludeLots: yn(input.includeLots ?? false),
        IncludeSerials: yn(input.includeSerials ?? false),
        IncludeMovements: 'N',
        IncludeCustomForms: 'N',
        XslStylesheet: '',
      },
      Filter: { Warehouse: filter },
    },
    { attributes: schemaAttributes('INVQRY.XSD') },
  );
}

export function parseStockQuery(xmlOut: string): StockDetail {
  const { root, outcome } = readXmlOut(INVQRY, xmlOut);
  const item = child(root, 'StockItem') ?? root;
  const stockCode = text(item, 'StockCode');
  return {
    outcome,
    found: Boolean(stockCode) && outcome.errors.length === 0,
    stockCode: stockCode || undefined,
    description: text(item, 'Description') || undefined,
    stockUom: textAny(item, 'StockUom', 'StockingUom') || undefined,
    warehouses: children(root, 'WarehouseItem').map((w) => ({
      warehouse: text(w, 'Warehouse') ?? '',
      qtyOnHand: number(w, 'QtyOnHand'),
      availableQty: number(w, 'AvailableQty'),
      qtyAllocated: number(w, 'QtyAllocated'),
      qtyOnOrder: number(w, 'QtyOnOrder'),
      qtyOnBackOrder: number(w, 'QtyOnBackOrder'),
    })),
  };
}

export async function queryStock(
  session: Pick<EnetSession, 'query'>,
  input: StockQueryInput,
): Promise<StockDetail> {
  try {
    return parseStockQuery(await session.query(INVQRY, buildStockQuery(input)));
  } catch (error) {
    if (!isNotFoundError(error)) throw error;
    return { outcome: notFoundOutcome(error), found: false, warehouses: [] };
  }
}
