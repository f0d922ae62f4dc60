/**
 * Option parsers shared by the commands. A duration flag needs a unit (`30s`, `5m`, `7d`): a bare
 * number is refused instead of being read as milliseconds, so `--older-than 1` cannot mean "1 ms".
 */
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../config/duration.js';

/** Exit code of a usage error (bad flag or argument), as most Unix tools do; failures exit 1. */
export const USAGE_EXIT_CODE = 2;

const WITH_UNIT = /^\s*\d+(?:\.\d+)?\s*(ms|s|m|h|d)\s*$/;

/** Milliseconds of a duration that carries a unit, or undefined. */
export function parseDurationWithUnit(text: string): number | undefined {
  return WITH_UNIT.test(text) ? parseDuration(text) : undefined;
}

/** A commander parser for a duration flag; `example` is shown in the error, e.g. "7d". */
export function durationFlag(example: string, options: { off?: boolean; positive?: boolean } = {}) {
  return (value: string): number | false => {
    if (options.off && value === 'off') return false;
    const ms = parseDurationWithUnit(value);
    const expected = `expected a duration with a unit (ms, s, m, h, d), e.g. ${example}${options.off ? ', or "off"' : ''}`;
    if (ms === undefined) {
      const hint = /^\s*\d+(?:\.\d+)?\s*$/.test(value)
        ? ` (did you mean ${value.trim()}${unitOf(example)}?)`
        : '';
      throw new InvalidArgumentError(`${expected}${hint}`);
    }
    if (options.positive && ms <= 0) throw new InvalidArgumentError(`${expected}, greater than 0`);
    return ms;
  };
}

function unitOf(example: string): string {
  return /[a-z]+$/.exec(example)?.[0] ?? 's';
}

/** A commander parser for a whole number above 0 (`--every 500`); anything else is a usage error. */
export function countFlag(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a whole number above 0, e.g. 500');
  return n;
}
