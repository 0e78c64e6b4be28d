import { parseDuration } from '@meshless/pki';
import { describe, expect, test } from 'vitest';

const INVALID_OPTION = { code: 'ERR_MESHLESS_INVALID_OPTION' };

describe('parseDuration', () => {
  test.each([
    ['8760h', 8760 * 3_600_000],
    ['24h', 86_400_000],
    ['30m', 1_800_000],
    ['90d', 90 * 86_400_000],
    ['45s', 45_000],
    ['500ms', 500],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['2d12h', 60 * 3_600_000],
    [60_000, 60_000],
  ] as const)('%s is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  test.each([
    '',
    '3600',
    '24',
    'h',
    '-1h',
    '0h',
    '0s0m',
    '24 h',
    ' 24h',
    '1y',
    '1hour',
    'forever',
    '1e3s',
    0,
    -5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ])('%j is refused with ERR_MESHLESS_INVALID_OPTION', (input) => {
    expect(() => parseDuration(input as string)).toThrow(expect.objectContaining(INVALID_OPTION));
  });

  test('non-string, non-number input is ERR_MESHLESS_INVALID_OPTION', () => {
    expect(() => parseDuration(null as unknown as string)).toThrow(expect.objectContaining(INVALID_OPTION));
    expect(() => parseDuration({} as unknown as string)).toThrow(/invalid duration/);
  });
});
