// The duration wording of inspect, doctor and probe: two units, rounded down, never overstated.
import { describe, expect, it } from 'vitest';
import { expiryPhrase, formatDuration } from '../src/format/duration.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('formatDuration', () => {
  it.each([
    [250, '250ms'],
    [45 * S, '45s'],
    [4 * M + 5 * S, '4m5s'],
    [3 * H + 12 * M + 59 * S, '3h12m'],
    [3 * H, '3h'],
    [3 * H + 30 * S, '3h'],
    [D + H + M, '1d1h'],
    [29 * D + 23 * H + 59 * M, '29d23h'],
    [365 * D, '365d'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('expiryPhrase', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const at = (ms: number) => new Date(now.getTime() + ms);
  it('says how long is left, how long ago it expired, or how long until it is valid', () => {
    expect(expiryPhrase(at(-H), at(3 * H + 12 * M), now)).toBe('expires in 3h12m');
    expect(expiryPhrase(at(-3 * D), at(-2 * D - 4 * H), now)).toBe('expired 2d4h ago');
    expect(expiryPhrase(at(5 * M), at(D), now)).toBe('not valid for another 5m');
  });
});
