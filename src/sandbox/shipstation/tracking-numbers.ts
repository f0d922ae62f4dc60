/**
 * Carrier-realistic tracking numbers with valid check digits, so a receiver that validates their
 * shape (or a human pasting one into a carrier site's format check) sees plausible values.
 */
import type { SeededRandom } from '../random.js';

/** UPS `1Z` + 6-character shipper + 2-digit service + 7-digit reference + check digit. */
export function upsTrackingNumber(random: SeededRandom): string {
  const alphabet = '0123456789ABCDEFGHJKLMNPRSTUVWXYZ';
  let shipper = '';
  for (let i = 0; i < 6; i += 1) shipper += random.pick(alphabet.split(''));
  const body = `${shipper}03${random.digits(7)}`;
  let sum = 0;
  for (let i = 0; i < body.length; i += 1) {
    const ch = body[i] ?? '0';
    const value = /\d/.test(ch) ? Number(ch) : (ch.charCodeAt(0) - 63) % 10;
    sum += i % 2 === 1 ? value * 2 : value;
  }
  const check = (10 - (sum % 10)) % 10;
  return `1Z${body}${check}`;
}

/** USPS IMpb: `9400 1` + 16 digits + a mod-10 check digit (22 digits). */
export function uspsTrackingNumber(random: SeededRandom): string {
  const body = `94001${random.digits(16)}`;
  let sum = 0;
  const reversed = body.split('').reverse();
  reversed.forEach((d, i) => {
    sum += Number(d) * (i % 2 === 0 ? 3 : 1);
  });
  return `${body}${(10 - (sum % 10)) % 10}`;
}

/** FedEx Express: 11 digits + a mod-11 check digit with weights 1,3,7 from the right (12 digits). */
export function fedexTrackingNumber(random: SeededRandom): string {
  const body = `${random.int(1, 9)}${random.digits(10)}`;
  const weights = [1, 3, 7];
  let sum = 0;
  body
    .split('')
    .reverse()
    .forEach((d, i) => {
      sum += Number(d) * (weights[i % 3] ?? 1);
    });
  return `${body}${(sum % 11) % 10}`;
}

export function trackingNumberFor(carrierCode: string, random: SeededRandom): string {
  if (carrierCode.startsWith('ups')) return upsTrackingNumber(random);
  if (carrierCode.startsWith('fedex')) return fedexTrackingNumber(random);
  return uspsTrackingNumber(random);
}

/** Default service for a carrier when the order names none. */
export function defaultServiceFor(carrierCode: string): string {
  if (carrierCode.startsWith('ups')) return 'ups_ground';
  if (carrierCode.startsWith('fedex')) return 'fedex_ground';
  return 'usps_priority_mail';
}
