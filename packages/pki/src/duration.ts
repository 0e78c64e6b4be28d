import { optionError } from '@meshless/core';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

// One or more `<number><unit>` terms, as Go's time.ParseDuration writes them, plus days.
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const TERM = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Turns a lifetime into milliseconds: a positive number of milliseconds, or a duration string made
 * of one or more `<number><unit>` terms with units `ms`, `s`, `m`, `h` and `d` (24 hours), such as
 * `'8760h'`, `'24h'`, `'30m'`, `'90d'` or `'1h30m'`. Zero, negative and non-finite values, and
 * strings without a unit, are refused.
 *
 * @throws ERR_MESHLESS_INVALID_OPTION when the input is not a positive duration.
 * @example
 * ```ts
 * parseDuration('24h');    // 86_400_000
 * parseDuration('1h30m');  // 5_400_000
 * parseDuration(60_000);   // 60_000
 * parseDuration('3600');   // throws ERR_MESHLESS_INVALID_OPTION: a unit is required
 * ```
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input <= 0 || input > Number.MAX_SAFE_INTEGER) {
      throw optionError(`invalid duration ${input}: a positive number of milliseconds is required`);
    }
    return input;
  }
  if (typeof input !== 'string') {
    throw optionError(
      `invalid duration: expected a string such as '24h' or a number of milliseconds, got ${typeof input}`,
    );
  }
  if (!WHOLE.test(input)) {
    throw optionError(
      `invalid duration ${JSON.stringify(input.slice(0, 50))}: expected terms like '90d', '24h', '30m', '45s', '500ms' or '1h30m'`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of input.matchAll(TERM))
    total += Number(amount) * (UNIT_MS[unit as string] as number);
  const ms = Math.round(total);
  if (ms <= 0 || !Number.isSafeInteger(ms)) {
    throw optionError(
      `invalid duration ${JSON.stringify(input.slice(0, 50))}: it must be positive and finite`,
    );
  }
  return ms;
}
