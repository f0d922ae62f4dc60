/**
 * Prepares a seeded company for a run that sends every order (benches, the chaos suite, the soak):
 * the seed spreads orders over a year and most are complete, so every order is made open (status 1,
 * active, not cancelled) with every merchandise line shipping its order quantity, and every address
 * gets the country line a squeezed `City, ST ZIP` address leaves out.
 */
import type { CompanyDatabase } from './tables.js';

/** The seed's cities and their countries: a squeezed address (`Sydney, NSW 2000`) has no country line. */
const CITY_COUNTRIES: Array<[string, string]> = [
  ['Boston', 'USA'],
  ['Beverly Hills', 'USA'],
  ['Austin', 'USA'],
  ['Portland', 'USA'],
  ['New York', 'USA'],
  ['London', 'United Kingdom'],
  ['Düsseldorf', 'Germany'],
  ['Montréal', 'Canada'],
  ['Johannesburg', 'South Africa'],
  ['Sydney', 'Australia'],
];

/** Writes the country line a squeezed address leaves out, so that every order can be sent. */
function addCountryLine(row: Record<string, unknown>, prefix: string): void {
  if (String(row[`${prefix}5`] ?? '').trim() !== '') return;
  const cityLine = String(row[`${prefix}3`] ?? '');
  const country = CITY_COUNTRIES.find(([city]) => cityLine.startsWith(city))?.[1];
  if (country) row[`${prefix}5`] = country;
}

/**
 * Every seeded order open with something to ship (see the header), and every address with its
 * country line (the mapper refuses a foreign address without one rather than label it for the US).
 */
export function openEveryOrder(db: CompanyDatabase): void {
  for (const header of db.sorMaster.rows) {
    header.OrderStatus = '1';
    header.ActiveFlag = 'Y';
    header.CancelledFlag = ' ';
    addCountryLine(header, 'ShipAddress');
  }
  for (const customer of db.arCustomer.rows) {
    addCountryLine(customer, 'SoldToAddr');
    // Orders entered later (the soak's) take the customer's ship-to address.
    addCountryLine(customer, 'ShipToAddr');
  }
  for (const line of db.sorDetail.rows) {
    if (line.LineType !== '1' && line.LineType !== '7') continue;
    line.MShipQty = line.MOrderQty;
    line.MStockQtyToShp = line.MOrderQty;
    line.MBackOrderQty = 0;
    line.MQtyDispatched = 0;
  }
}
